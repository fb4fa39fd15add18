"""The three related-party questions, one function each, with the paths as evidence.

All of them go through `StoredRegistry.related_parties` and the engine's `RelatedPartyIndex`:
the same code path the SUPPLIER_EQUITY and SUPPLIER_PERSONNEL rules take during an evaluation.
A path is a list of node ids from one end to the other (holder first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from voucher.policy.format import Officer, Shareholding
from voucher.policy.relations import (
    ROLE_NAMES,
    Holding,
    Path,
    RelatedParties,
    describe_path,
    effective_ratio,
)
from voucher.registry.store import StoredRegistry, StoredRelatedParties

MAX_PATHS = 1000  # simple paths summed into the effective ratio (the count is reported)


def nodes(path: Sequence[Holding]) -> list[str]:
    return [path[0].holder, *(h.held for h in path)] if path else []


def path_json(path: Sequence[Holding]) -> list[dict[str, str]]:
    return [{"holder": h.holder, "held": h.held, "ratio": str(h.ratio)} for h in path]


@dataclass(frozen=True)
class Ownership:
    """`top` holds `bottom` through `paths` (shortest first); `ratio` sums their products."""

    top: str
    bottom: str
    paths: list[Path]
    ratio: Decimal
    complete: bool  # False when more than MAX_PATHS simple paths exist

    @property
    def shortest(self) -> Path:
        return self.paths[0]


def _simple_paths(index: StoredRelatedParties, top: str, bottom: str) -> tuple[list[Path], bool]:
    """Every cycle-free chain from top to bottom (depth-first, bounded by MAX_PATHS)."""
    # only nodes from which `bottom` can be reached are worth entering
    reaches = {bottom}
    stack = [bottom]
    while stack:
        node = stack.pop()
        for h in index.holders_of.get(node, ()):
            if h.holder not in reaches:
                reaches.add(h.holder)
                stack.append(h.holder)
    if top not in reaches:
        return [], True
    found: list[Path] = []
    trail: list[Holding] = []
    on_trail = {top}

    def walk(node: str) -> bool:
        for h in index.holdings_by_holder.get(node, ()):
            if h.held == bottom:
                found.append((*trail, h))
                if len(found) > MAX_PATHS:
                    return False
            elif h.held in reaches and h.held not in on_trail:
                trail.append(h)
                on_trail.add(h.held)
                more = walk(h.held)
                on_trail.discard(h.held)
                trail.pop()
                if not more:
                    return False
        return True

    complete = walk(top)
    found.sort(key=len)
    return found[:MAX_PATHS], complete


def _index(
    a: str, b: str, registry: StoredRegistry | None, extra: Sequence[Shareholding] = ()
) -> StoredRelatedParties:
    return (registry or StoredRegistry()).related_parties([a, b], extra, ())


def ownership(
    a: str,
    b: str,
    *,
    registry: StoredRegistry | None = None,
    index: StoredRelatedParties | None = None,
) -> Ownership | None:
    """Whether a holds b or b holds a, directly or through a chain of any length."""
    index = index or _index(a, b, registry)
    for top, bottom in ((a, b), (b, a)):
        if index.ownership_path(top, bottom):
            paths, complete = _simple_paths(index, top, bottom)
            total = sum((effective_ratio(p) for p in paths), Decimal(0))
            return Ownership(top, bottom, paths, total, complete)
    return None


def common_shareholders(
    a: str,
    b: str,
    *,
    excluded: frozenset[str] = frozenset(),
    registry: StoredRegistry | None = None,
    index: RelatedParties | None = None,
) -> list[tuple[str, Path, Path]]:
    """Holders (companies or persons) of both, nearest first, each with its path to a and to b."""
    index = index or _index(a, b, registry)
    return index.common_holders(a, b, excluded)


def shared_key_persons(
    a: str, b: str, *, registry: StoredRegistry | None = None, index: RelatedParties | None = None
) -> list[tuple[str, str, str]]:
    """(person, role in a, role in b) for each person in a key role in both."""
    index = index or _index(a, b, registry)
    return index.shared_officers(a, b)


@dataclass
class Relation:
    a: str
    b: str
    equity: str  # pass | fail | review
    personnel: str  # pass | fail | review (a search cut short)
    ownership: Ownership | None = None
    common: list[tuple[str, Path, Path]] = field(default_factory=list)
    persons: list[tuple[str, str, str]] = field(default_factory=list)
    truncated: bool = False

    @property
    def paths(self) -> list[list[str]]:
        """Each evidence path as node ids from one end to the other."""
        if self.ownership:
            return [nodes(p) for p in self.ownership.paths]
        out = []
        for _holder, to_a, to_b in self.common[:1]:
            # from a up to the common holder and down to b
            out.append([*reversed(nodes(to_a)), *nodes(to_b)[1:]])
        return out

    def lines(self) -> list[str]:
        """The evidence as text, in Chinese as the findings are."""
        text = []
        if self.ownership:
            o = self.ownership
            text.append(f"{o.top} 持有 {o.bottom}，穿透比例合计 {o.ratio:.4%}：")
            text += [f"  {describe_path(p)}（{effective_ratio(p):.4%}）" for p in o.paths]
            if not o.complete:
                text.append(f"  （仅列出前 {MAX_PATHS} 条路径）")
        for holder, to_a, to_b in self.common:
            text.append(f"共同股东 {holder}：{describe_path(to_a)}；{describe_path(to_b)}")
        for person, ra, rb in self.persons:
            text.append(f"{person} 在 {self.a} 任{ROLE_NAMES[ra]}、在 {self.b} 任{ROLE_NAMES[rb]}")
        if self.truncated:
            text.append("（登记信息子图超过上限被截断，结论可能不完整）")
        return text

    def to_json(self) -> dict[str, Any]:
        o = self.ownership
        return {
            "a": self.a,
            "b": self.b,
            "equity": self.equity,
            "personnel": self.personnel,
            "paths": self.paths,
            "ownership": None
            if o is None
            else {
                "top": o.top,
                "bottom": o.bottom,
                "effective_ratio": str(o.ratio),
                "complete": o.complete,
                "paths": [path_json(p) for p in o.paths],
            },
            "common_shareholders": [
                {"holder": h, "path_to_a": nodes(pa), "path_to_b": nodes(pb)}
                for h, pa, pb in self.common
            ],
            "persons": [{"person": p, "role_a": ra, "role_b": rb} for p, ra, rb in self.persons],
            "truncated": self.truncated,
        }


def relation(
    a: str,
    b: str,
    *,
    excluded: frozenset[str] = frozenset(),
    registry: StoredRegistry | None = None,
    extra_shareholdings: Sequence[Shareholding] = (),
    extra_officers: Sequence[Officer] = (),
    index: StoredRelatedParties | None = None,
) -> Relation:
    """The verdict of SUPPLIER_EQUITY / SUPPLIER_PERSONNEL for the pair, with the evidence.

    The order is the rules': a chain either way fails; otherwise a common holder outside
    `excluded` (the round's state-asset holders) is for review; a shared key person fails.
    """
    if index is None:
        index = (registry or StoredRegistry()).related_parties(
            [a, b], extra_shareholdings, extra_officers
        )
    persons = index.shared_officers(a, b)
    result = Relation(
        a, b, "pass", "fail" if persons else "pass", persons=persons, truncated=index.truncated
    )
    if a == b:
        result.equity = "fail"
        return result
    found = ownership(a, b, index=index)
    if found:
        result.equity, result.ownership = "fail", found
        return result
    result.common = index.common_holders(a, b, excluded)
    if result.common:
        result.equity = "review"
    if result.truncated:  # RULES.md v2: a search cut short is no evidence of no relation
        result.equity = "review" if result.equity == "pass" else result.equity
        result.personnel = "review" if result.personnel == "pass" else result.personnel
    return result
