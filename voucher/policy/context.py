"""What the engine may know beyond the application itself.

The Django side fills this from the database (the stored registry, the
dishonesty list, the round's official lists, other applications of the round, the suppliers'
word on their contracts); `voucher evaluate` on files leaves it empty. The engine never queries
anything: it only reads this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from voucher.policy.lists import NO_LISTS, OfficialLists
from voucher.policy.relations import RelatedParties

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application, Contract, Officer, Shareholding


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


@dataclass(frozen=True, slots=True)
class SupplierWord:
    """What the supplier named in one contract said about it (issue 22,
    docs/policy/supplier-confirmation.md): its declaration of 附件14-1 三 with 一（五）注1, if made,
    and the lines of the contract it has not confirmed (unconfirmed, or disputed with a reason)."""

    declared: bool = False
    revenue_or_risk_sharing: bool = False  # the supplier declares such an agreement
    hierarchy: bool = False  # the supplier declares an administrative or business hierarchy
    declared_by: str = ""  # who declared, and when (shown in the finding)
    declared_on: str = ""
    lines: int = 0  # the contract's lines the supplier is asked to confirm
    open_lines: tuple[str, ...] = ()  # those not confirmed, named (a dispute with its reason)

    def merged(self, other: SupplierWord) -> SupplierWord:
        """Two stored contracts behind one key (one enterprise, direction, contract number and
        supplier): the supplier's declaration counts only where both have it, a relation
        declared on either counts, and every open line stays open."""
        both = self.declared and other.declared
        return SupplierWord(
            declared=both,
            revenue_or_risk_sharing=self.revenue_or_risk_sharing or other.revenue_or_risk_sharing,
            hierarchy=self.hierarchy or other.hierarchy,
            declared_by=self.declared_by if both else "",
            declared_on=self.declared_on if both else "",
            lines=self.lines + other.lines,
            open_lines=self.open_lines + other.open_lines,
        )


def supplier_word_key(app: Application, contract: Contract) -> tuple[str, int, str, str]:
    return (app.applicant.uscc, app.direction, contract.id, contract.supplier.uscc)


@dataclass(frozen=True)
class SupplierWords:
    """The suppliers' word in force for an evaluation (the bureau's store): the directions whose
    suppliers are asked, and per contract what its supplier said. A contract of such a direction
    with no entry is one its supplier has not spoken on."""

    directions: frozenset[int]
    words: Mapping[tuple[str, int, str, str], SupplierWord] = field(default_factory=dict)

    def asks(self, app: Application) -> bool:
        return app.direction in self.directions

    def of(self, app: Application, contract: Contract) -> SupplierWord | None:
        return self.words.get(supplier_word_key(app, contract))


@dataclass(frozen=True)
class EvaluationContext:
    registry: RegistrySource | None = None
    shareholdings: Sequence[Shareholding] = ()
    officers: Sequence[Officer] = ()
    dishonest_usccs: frozenset[str] = frozenset()  # 失信联合惩戒 list (CREDIT_RECORD)
    municipal_support_usccs: frozenset[str] = frozenset()  # other municipal compute support
    other_submissions: Sequence[OtherSubmission] = field(default_factory=tuple)
    official_lists: OfficialLists = NO_LISTS  # the round's stored lists (RULES.md v2)
    # the suppliers' declarations and confirmations (issue 22); None: no such source at all
    supplier_words: SupplierWords | None = None


EMPTY_CONTEXT = EvaluationContext()
