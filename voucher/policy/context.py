"""What the engine may know beyond the application itself.

The Django side fills this from the database (the stored registry, the
dishonesty list, other applications of the round); `voucher evaluate` on files
leaves it empty. The engine never queries anything: it only reads this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from voucher.policy.format import Officer, Shareholding


@dataclass(frozen=True, slots=True)
class OtherSubmission:
    """An application of the same round outside the batch being evaluated (for ONE_DIRECTION)."""

    uscc: str
    submitted_on: date | None
    reference: str  # e.g. the application number, shown in the finding


@dataclass(frozen=True)
class EvaluationContext:
    shareholdings: Sequence[Shareholding] = ()
    officers: Sequence[Officer] = ()
    dishonest_usccs: frozenset[str] = frozenset()  # 失信联合惩戒 list (CREDIT_RECORD)
    municipal_support_usccs: frozenset[str] = frozenset()  # other municipal compute support
    other_submissions: Sequence[OtherSubmission] = field(default_factory=tuple)


EMPTY_CONTEXT = EvaluationContext()
