"""Related parties over a registry extract: shareholding chains and shared key personnel.

一（五）注1: a supplier must hold no share of the applicant and vice versa, directly or
indirectly (a chain of any length), and no person may be a key officer of both.
Searches are breadth-first (nearest path first) and safe against cycles.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Officer, Shareholding


ROLE_NAMES = {
    "director": "董事",
    "supervisor": "监事",
    "executive": "高级管理人员",
    "legal_representative": "法定代表人",
}


@dataclass(frozen=True, slots=True)
class Holding:
    holder: str
    held: str
    ratio: Decimal


Path = tuple[Holding, ...]  # from the first holder down to the last held


class RelatedParties(Protocol):
    """The three questions the supplier rules ask of a registry."""

    def ownership_path(self, top: str, bottom: str) -> Path | None: ...

    def common_holders(
        self, a: str, b: str, excluded: frozenset[str] = frozenset()
    ) -> list[tuple[str, Path, Path]]: ...

    def shared_officers(self, a: str, b: str) -> list[tuple[str, str, str]]: ...


# What the supplier rules also ask, where the registry can say (RULES.md v2 "Fail closed"): an
# index may carry `truncated` (its search was cut short by a size limit) and `covered` (the
# companies the registry in force names; None when it names none, and is then judged on the
# holdings and officers given). Read with getattr: an index without them claims neither.


def not_covered(index: object, companies: tuple[str, ...]) -> list[str]:
    """The companies of `companies` the registry names no record of, when it names any."""
    covered = getattr(index, "covered", None)
    if covered is None:
        return []
    return [c for c in companies if c not in covered]


def cut_short(index: object) -> bool:
    return bool(getattr(index, "truncated", False))


class RelatedPartyIndex:
    """An in-memory registry: the inline extract of an application, or a subgraph of a store."""

    def __init__(
        self,
        shareholdings: Iterable[Shareholding],
        officers: Iterable[Officer],
        *,
        covered: frozenset[str] | None = None,
    ):
        # the companies the registry names (a file's `registry.companies`); None: it names none
        self.covered = covered
        self.truncated = False
        self.holdings_by_holder: dict[str, list[Holding]] = {}
        self.holders_of: dict[str, list[Holding]] = {}
        for s in shareholdings:
            h = Holding(s.holder, s.held, s.ratio)
            self.holdings_by_holder.setdefault(s.holder, []).append(h)
            self.holders_of.setdefault(s.held, []).append(h)
        self.officers_of: dict[str, dict[str, str]] = {}
        for o in officers:
            self.officers_of.setdefault(o.company, {}).setdefault(o.person, o.role)

    def ownership_path(self, top: str, bottom: str) -> Path | None:
        """The shortest chain of holdings by which `top` holds `bottom`, if any."""
        if top == bottom or top not in self.holdings_by_holder:
            return None
        came_by: dict[str, Holding] = {}
        queue = deque([top])
        seen = {top}
        while queue:
            node = queue.popleft()
            for h in self.holdings_by_holder.get(node, ()):
                if h.held in seen:
                    continue
                seen.add(h.held)
                came_by[h.held] = h
                if h.held == bottom:
                    return _walk_back(came_by, top, bottom)
                queue.append(h.held)
        return None

    def _ancestors(self, company: str) -> dict[str, tuple[int, dict[str, Holding]]]:
        """Every direct or indirect holder of `company` with its distance (BFS upward)."""
        came_by: dict[str, Holding] = {}
        depth = {company: 0}
        queue = deque([company])
        while queue:
            node = queue.popleft()
            for h in self.holders_of.get(node, ()):
                if h.holder in depth:
                    continue
                depth[h.holder] = depth[node] + 1
                came_by[h.holder] = h  # holder reached through its holding in `node`
                queue.append(h.holder)
        del depth[company]
        return {holder: (d, came_by) for holder, d in depth.items()}

    def common_holders(
        self, a: str, b: str, excluded: frozenset[str] = frozenset()
    ) -> list[tuple[str, Path, Path]]:
        """Holders of both a and b, nearest first, each with its path down to a and to b."""
        if a not in self.holders_of or b not in self.holders_of:
            return []
        up_a = self._ancestors(a)
        up_b = self._ancestors(b)
        shared = [h for h in up_a if h in up_b and h not in excluded]
        shared.sort(key=lambda h: (up_a[h][0] + up_b[h][0], h))
        return [(h, _walk_down(up_a[h][1], h, a), _walk_down(up_b[h][1], h, b)) for h in shared]

    def shared_officers(self, a: str, b: str) -> list[tuple[str, str, str]]:
        """(person, role in a, role in b) for every person who is a key officer of both."""
        in_a = self.officers_of.get(a)
        in_b = self.officers_of.get(b)
        if not in_a or not in_b:
            return []
        return [(p, in_a[p], in_b[p]) for p in sorted(in_a.keys() & in_b.keys())]


def _walk_back(came_by: dict[str, Holding], top: str, bottom: str) -> Path:
    path = []
    node = bottom
    while node != top:
        h = came_by[node]
        path.append(h)
        node = h.holder
    return tuple(reversed(path))


def _walk_down(came_by: dict[str, Holding], holder: str, company: str) -> Path:
    """Follow the upward search's links from `holder` back down to `company`."""
    path = []
    node = holder
    while node != company:
        h = came_by[node]
        path.append(h)
        node = h.held
    return tuple(path)


def describe_path(path: Sequence[Holding]) -> str:
    """`P-7788 →100%→ 91110000… →51%→ 91110108…`"""
    if not path:
        return ""
    parts = [path[0].holder]
    for h in path:
        parts.append(f"→{_percent(h.ratio)}→ {h.held}")
    return " ".join(parts)


def effective_ratio(path: Sequence[Holding]) -> Decimal:
    ratio = Decimal(1)
    for h in path:
        ratio *= h.ratio
    return ratio


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"
