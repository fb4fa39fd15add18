"""The states of an application and the one table of transitions between them.

The applicant portal drafts and submits; the review workflow adds its rows (screening, review,
decision, supplement …) to TRANSITIONS and a method per row on Application. The state field is
protected: it changes only through a transition method, called by an action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DRAFT: Final = "draft"
SUBMITTED: Final = "submitted"
# the bureau's side (voucher/applications/workflow.py: who may, guards, what follows)
FORMAL_CHECK: Final = "formal_check"
IN_REVIEW: Final = "in_review"
SUPPLEMENT_REQUESTED: Final = "supplement_requested"
RESUBMITTED: Final = "resubmitted"
APPROVED: Final = "approved"
REJECTED: Final = "rejected"
PUBLICIZED: Final = "publicized"
PAID: Final = "paid"
CLAWBACK_REQUESTED: Final = "clawback_requested"
REFUNDED: Final = "refunded"
OVERDUE: Final = "overdue"
WITHDRAWN: Final = "withdrawn"

STATE_CHOICES: Final = [
    (DRAFT, "草稿"),
    (SUBMITTED, "已提交"),
    (FORMAL_CHECK, "形式审查中"),
    (IN_REVIEW, "审核中"),
    (SUPPLEMENT_REQUESTED, "待补正"),
    (RESUBMITTED, "已补正"),
    (APPROVED, "予以支持"),
    (REJECTED, "不予支持"),
    (PUBLICIZED, "公示中"),
    (PAID, "已拨付"),
    (CLAWBACK_REQUESTED, "待退还"),
    (REFUNDED, "已退还"),
    (OVERDUE, "逾期未退还"),
    (WITHDRAWN, "已撤回"),
]

# States in which the applicant may still change the application.
EDITABLE_STATES: Final = frozenset({DRAFT})
# States in which the applicant answers a supplement request (补正) item by item.
SUPPLEMENT_STATES: Final = frozenset({SUPPLEMENT_REQUESTED})
# States in which the applicant's wizard accepts changes: a draft, and an application the bureau
# returned for 补正 (only while its supplement request is open and before its due date; the
# portal's actions check that). Every other state is frozen.
WIZARD_STATES: Final = EDITABLE_STATES | SUPPLEMENT_STATES
# With the bureau and not yet decided: in its queue, assignable, withdrawable by the applicant.
WITH_BUREAU_STATES: Final = (SUBMITTED, FORMAL_CHECK, IN_REVIEW, SUPPLEMENT_REQUESTED, RESUBMITTED)
# Before a decision the applicant may withdraw.
WITHDRAWABLE_STATES: Final = WITH_BUREAU_STATES
# No decision taken, or none that stands: what the application rests on may still change.
UNDECIDED_STATES: Final = (DRAFT, WITHDRAWN, *WITH_BUREAU_STATES)


@dataclass(frozen=True, slots=True)
class Transition:
    name: str  # the Application method that performs it
    source: tuple[str, ...]
    target: str
    label: str  # what the timeline says


TRANSITIONS: Final = {
    t.name: t
    for t in (
        Transition("submit", (DRAFT,), SUBMITTED, "提交申报"),
        Transition("accept", (SUBMITTED,), FORMAL_CHECK, "受理并进行形式审查"),
        Transition("pass_formal_check", (FORMAL_CHECK,), IN_REVIEW, "形式审查通过，进入审核"),
        Transition(
            "request_supplement", (FORMAL_CHECK, IN_REVIEW), SUPPLEMENT_REQUESTED, "要求补正"
        ),
        Transition("resubmit", (SUPPLEMENT_REQUESTED,), RESUBMITTED, "提交补正材料"),
        Transition("resume_review", (RESUBMITTED,), IN_REVIEW, "补正后继续审核"),
        Transition("approve", (IN_REVIEW,), APPROVED, "复核确认：予以支持"),
        Transition("reject", (IN_REVIEW,), REJECTED, "复核确认：不予支持"),
        Transition("publicize", (APPROVED,), PUBLICIZED, "列入公示名单"),
        Transition("pay", (PUBLICIZED,), PAID, "拨付资金"),
        Transition("request_clawback", (PAID,), CLAWBACK_REQUESTED, "通知退还资金"),
        Transition("record_refund", (CLAWBACK_REQUESTED,), REFUNDED, "资金已退还"),
        Transition("mark_overdue", (CLAWBACK_REQUESTED,), OVERDUE, "逾期未退还"),
        Transition("withdraw", WITHDRAWABLE_STATES, WITHDRAWN, "申报单位撤回申报"),
    )
}
