"""What the engine may know beyond the application itself.

The Django side fills this from the database (the stored registry, the
dishonesty list, the round's official lists, other applications of the round); `voucher evaluate` on files
leaves it empty. The engine never queries anything: it only reads this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from voucher.policy.format import Officer, Shareholding
from voucher.policy.lists import NO_LISTS, OfficialLists
from voucher.policy.relations import RelatedParties


@dataclass(frozen=True, slots=True)
class OtherSubmission:
    """An application of the same round outside the batch being evaluated (for ONE_DIRECTION)."""

    uscc: str
    submitted_on: date | None
    reference: str  # e.g. the application number, shown in the finding


class RegistrySource(Protocol):
    """A company registry too big to hand over whole (the stored one of issue 6).

    For one application it returns the related-party view the supplier rules search:
    its own records around these companies together with the application's inline extract
    (`extra_*`), so that a chain mixing both kinds of record is still found. `extra_companies`
    are the companies the file's extract says it covers (`registry.companies`), or None.
    """

    def related_parties(
        self,
        companies: Sequence[str],
        extra_shareholdings: Sequence[Shareholding],
        extra_officers: Sequence[Officer],
        extra_companies: frozenset[str] | None = None,
    ) -> RelatedParties: ...


@dataclass(frozen=True)
class EvaluationContext:
    registry: RegistrySource | None = None
    shareholdings: Sequence[Shareholding] = ()
    officers: Sequence[Officer] = ()
    dishonest_usccs: frozenset[str] = frozenset()  # 失信联合惩戒 list (CREDIT_RECORD)
    municipal_support_usccs: frozenset[str] = frozenset()  # other municipal compute support
    other_submissions: Sequence[OtherSubmission] = field(default_factory=tuple)
    official_lists: OfficialLists = NO_LISTS  # the round's stored lists (RULES.md v2)


EMPTY_CONTEXT = EvaluationContext()
