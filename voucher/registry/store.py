"""The stored registry as the engine's `RegistrySource`.

For one application the engine needs the related-party view around a handful of companies.
Every question it asks (does A hold B, which holders do A and B share) is about a chain of
holdings that *ends* at one of the companies, so what it needs is the upward closure: the
holdings into the seed set, into their holders, and so on. The seeds are the companies asked
about plus both ends of each inline (application-supplied) edge: a chain mixing inline and
stored holdings consists of stored segments that each end at a seed, so the upward closure of
the seeds holds every stored edge of every such chain. (Descendants are never needed: a chain
reaching down to a descendant of a seed ends below the companies asked about.)

One SQL statement fetches that closure with a recursive CTE (`UNION`, so a cycle adds no row
twice and the recursion ends) together with the key officers of the companies asked about; the
engine's own in-memory `RelatedPartyIndex` is built from those rows plus the inline ones and
its breadth-first searches answer. Bound: at most `MAX_EDGES` stored holdings per call (the
ancestry of a company in a real registry is tens of rows; a hit of the bound is logged and
marked `truncated`, because a search over a truncated view may miss a far chain).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections

from voucher.policy.format import Officer, Shareholding
from voucher.policy.relations import Holding, RelatedPartyIndex
from voucher.registry.models import KEY_ROLES, Company

log = logging.getLogger(__name__)

MAX_EDGES = 100_000

_HOLDING_TABLE = "registry_shareholding"
_OFFICER_TABLE = "registry_officer"


class StoredRelatedParties(RelatedPartyIndex):
    """The engine's index, filled from rows instead of interchange-format models."""

    truncated: bool

    def __init__(
        self,
        holdings: Iterable[Holding],
        officers: Iterable[tuple[str, str, str]],
        *,
        truncated: bool = False,
        covered: frozenset[str] | None = None,
    ):
        super().__init__((), ())
        self.truncated = truncated
        # the companies of the search the registry names (stored, or in the file's extract);
        # None: the store names no company at all (an empty registry judges on what is given)
        self.covered = covered
        seen: set[tuple[str, str]] = set()
        by_holder = self.holdings_by_holder
        holders_of = self.holders_of
        for h in holdings:
            key = (h.holder, h.held)
            if key in seen:  # the registry's row wins over the same edge given inline
                continue
            seen.add(key)
            by_holder.setdefault(h.holder, []).append(h)
            holders_of.setdefault(h.held, []).append(h)
        officers_of = self.officers_of
        for person, company, role in officers:
            officers_of.setdefault(company, {}).setdefault(person, role)

    def edges(self) -> list[Holding]:
        return [h for hs in self.holdings_by_holder.values() for h in hs]


class StoredRegistry:
    """`RegistrySource` over the tables of this app (SQLite or PostgreSQL)."""

    def __init__(self, using: str = "default", max_edges: int = MAX_EDGES):
        self.using = using
        self.max_edges = max_edges
        self._names_any: bool | None = None  # whether anything is stored: asked once per store

    def related_parties(
        self,
        companies: Sequence[str],
        extra_shareholdings: Sequence[Shareholding] = (),
        extra_officers: Sequence[Officer] = (),
        extra_companies: frozenset[str] | None = None,
    ) -> StoredRelatedParties:
        seeds = dict.fromkeys(companies)
        for s in extra_shareholdings:
            seeds[s.holder] = None
            seeds[s.held] = None
        asked = list(dict.fromkeys(companies))
        holdings, officers, truncated = self._fetch(list(seeds), asked)
        holdings.extend(Holding(s.holder, s.held, s.ratio) for s in extra_shareholdings)
        officers.extend((o.person, o.company, o.role) for o in extra_officers)
        return StoredRelatedParties(
            holdings,
            officers,
            truncated=truncated,
            covered=self._covered(asked, extra_shareholdings, extra_officers, extra_companies),
        )

    def _covered(
        self,
        asked: list[str],
        extra_shareholdings: Sequence[Shareholding],
        extra_officers: Sequence[Officer],
        extra_companies: frozenset[str] | None = None,
    ) -> frozenset[str] | None:
        """Which of `asked` the registry in force names: a stored company, one the file's
        extract says it covers (`registry.companies`) or, when it says none, one its holdings
        and officers name. None when neither names any company (RULES.md v2: judged on what
        is given)."""
        companies = Company.objects.using(self.using)
        if self._names_any is None:  # a batch evaluates every application with one store
            self._names_any = companies.exists()
        if not self._names_any and extra_companies is None:
            return None
        named = set(extra_companies or ())
        if self._names_any:
            named |= set(companies.filter(uscc__in=asked).values_list("uscc", flat=True))
            if extra_companies is None:
                for s in extra_shareholdings:
                    named |= {s.holder, s.held}
                named |= {o.company for o in extra_officers}
        return frozenset(c for c in asked if c in named)

    def _fetch(
        self, seeds: list[str], asked: list[str]
    ) -> tuple[list[Holding], list[tuple[str, str, str]], bool]:
        if not seeds:
            return [], [], False
        connection = connections[self.using]
        seed_marks = ", ".join(["(%s)"] * len(seeds))
        asked_marks = ", ".join(["%s"] * len(asked)) if asked else "NULL"
        role_marks = ", ".join(["%s"] * len(KEY_ROLES))
        limit = self.max_edges + 1
        if connection.vendor == "sqlite":
            # SQLite: a LIMIT inside the recursive part bounds the rows ever queued.
            closure = (
                f"SELECT holder, held, ratio FROM up LIMIT {limit}",
                f"LIMIT {limit}",
            )
        else:
            # PostgreSQL evaluates a recursive CTE lazily: the outer LIMIT stops it.
            closure = (f"SELECT holder, held, ratio FROM up LIMIT {limit}", "")
        sql = f"""
            WITH RECURSIVE
              seeds(node) AS (VALUES {seed_marks}),
              up(holder, held, ratio) AS (
                SELECT s.holder, s.held, s.ratio
                  FROM {_HOLDING_TABLE} s JOIN seeds ON s.held = seeds.node
                UNION
                SELECT s.holder, s.held, s.ratio
                  FROM {_HOLDING_TABLE} s JOIN up ON s.held = up.holder
                {closure[1]}
              )
            SELECT 0, holder, held, CAST(ratio AS TEXT) FROM ({closure[0]}) AS closure
            UNION ALL
            SELECT 1, person, company, role FROM {_OFFICER_TABLE}
             WHERE company IN ({asked_marks}) AND role IN ({role_marks})
        """
        params = [*seeds, *asked, *KEY_ROLES]
        if connection.vendor == "postgresql":
            rows = _fetch_prepared(connection, sql, params)
        else:
            with connection.cursor() as cursor:
                _tune_sqlite(connection, cursor)
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        holdings: list[Holding] = []
        officers: list[tuple[str, str, str]] = []
        for kind, a, b, c in rows:
            if kind == 0:
                # PostgreSQL writes numeric(11, 10) with trailing zeros; SQLite does not
                holdings.append(
                    Holding(a, b, Decimal(c.rstrip("0").rstrip(".") if "." in c else c))
                )
            else:
                officers.append((a, b, c))
        truncated = len(holdings) > self.max_edges
        if truncated:
            log.warning(
                "registry closure of %s truncated at %d holdings", seeds[:4], self.max_edges
            )
            del holdings[self.max_edges :]
        return holdings, officers, truncated


SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 1 << 30


def _tune_sqlite(connection: Any, cursor: Any) -> None:
    """Once per connection: a bigger page cache and memory-mapped reads.

    The closure query reads a few dozen pages scattered over the indexes of a table of millions
    of rows; SQLite's default 2 MiB cache keeps almost none of them between calls, and each miss
    is a read() system call. A 64 MiB cache and mmap make a repeated or nearby search memory-fast.
    """
    raw = connection.connection
    if getattr(connection, "_registry_tuned", None) is raw:
        return
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
    connection._registry_tuned = raw


def _fetch_prepared(connection: Any, sql: str, params: list[str]) -> list[tuple[Any, ...]]:
    """PostgreSQL: a server-side prepared statement, planned once per shape, not per call.

    Django binds parameters on the client, so every call would be parsed and planned anew
    (most of the time of such a small query).
    """
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off for the connection (its cursors bind on the client and
        # never prepare); a server-binding cursor like this one needs it back on.
        raw.prepare_threshold = 5
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()
