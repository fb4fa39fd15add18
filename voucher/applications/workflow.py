"""What each row of the transition table (applications/states.py) allows, checks and sets off.

States and their transitions (name, source, target, label) are one table in states.py; this module
adds, per transition, the roles that may perform it, the guard that must hold, and what happens
after the transaction commits. `voucher workflow doc` draws docs/workflow.md from both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from operator import contains
from typing import Any

from django.utils.translation import gettext as _

from voucher.applications import roles as r
from voucher.applications.models import (
    PROPOSED,
    Application,
    Decision,
    Objection,
    PublicityList,
)
from voucher.applications.states import TRANSITIONS
from voucher.core import clock

Guard = Callable[[Application, Any], str | None]  # returns why not, or None


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    guard: Guard | None = None
    guard_doc: str = ""
    notify_applicant: bool = True
    notify_staff: str = ""  # which staff are told (assignment), for the doc
    screener_direction_3_only: bool = True  # a screener acts on direction 3 only

    def guard_reason(self, application: Application, user: Any) -> str | None:
        return self.guard(application, user) if self.guard else None


def _open_proposal(kind: str) -> Guard:
    def guard(application: Application, user: Any) -> str | None:

        proposal = Decision.objects.filter(application=application, status=PROPOSED).first()
        if proposal is None or proposal.kind != kind:
            label = _("予以支持") if kind == "approval" else _("不予支持")
            return _("尚无审核人员拟定的“%(kind)s”意见，需先由审核人员拟定") % {"kind": label}
        if user is not None and proposal.proposed_by_id == user.pk:
            return _("四眼原则：拟定人不能复核自己的意见，须由另一名复核人员确认")
        return None

    return guard


def _publicity_over(application: Application, user: Any) -> str | None:
    last = application.publicity_lists.order_by("-ends_on").first()
    return _publicity_why(
        last.ends_on if last else None,
        lambda: Objection.objects.filter(
            application=application, resolved_at__isnull=True
        ).exists(),
    )


def _publicity_why(ends_on: date | None, objected: Callable[[], bool]) -> str | None:
    """Why a payment must wait for the publicity: its last list's end, an open objection."""
    if ends_on is None:
        return _("尚未公示")
    if clock.today() <= ends_on:
        return _("公示期至 %(end)s，公示期满后方可拨付") % {"end": f"{ends_on:%Y-%m-%d}"}
    if objected():
        return _("有未处理的公示异议")
    return None


def pay_guards(applications: Iterable[Application]) -> dict[int, str | None]:
    """`pay_guard` of each of `applications`, in two queries whatever their number (the
    payment batch's list of the round's publicized applications)."""
    ids = [a.pk for a in applications]
    last_end: dict[int, date] = {}
    for application_id, ends_on in PublicityList.objects.filter(applications__in=ids).values_list(
        "applications", "ends_on"
    ):
        last_end[application_id] = max(ends_on, last_end.get(application_id, ends_on))
    objected = set(
        Objection.objects.filter(application__in=ids, resolved_at__isnull=True).values_list(
            "application_id", flat=True
        )
    )
    return {pk: _publicity_why(last_end.get(pk), partial(contains, objected, pk)) for pk in ids}


def _refund_overdue(application: Application, user: Any) -> str | None:
    claw = application.clawbacks.order_by("-notice_date", "-id").first()
    if claw is None:
        return _("没有退还通知")
    if clock.today() <= claw.due_date:
        return _("退还期限 %(due)s 尚未届满") % {"due": f"{claw.due_date:%Y-%m-%d}"}
    return None


def _has_open_supplement(application: Application, user: Any) -> str | None:
    if not application.supplement_requests.filter(answered_at__isnull=True).exists():
        return _("没有待答复的补正通知")
    return None


def _paid(application: Application, user: Any) -> str | None:
    why = _publicity_over(application, user)
    if why:
        return why
    if not application.payment_records.exists():
        return _("尚无拨付记录")
    return None


def _clawback_recorded(application: Application, user: Any) -> str | None:
    if not application.clawbacks.filter(refunded_on__isnull=True).exists():
        return _("没有待退还的退还通知")
    return None


def _refund_recorded(application: Application, user: Any) -> str | None:
    claw = application.clawbacks.order_by("-notice_date", "-id").first()
    if claw is None or claw.refunded_on is None:
        return _("尚未登记退还")
    return None


def _centre_on_direction_3(application: Application, user: Any) -> str | None:
    """免申即享: the centre (or the administrator standing in) submits the direction-3
    application it built from a platform's data, and withdraws it when it builds it again.
    Every other application is its enterprise's to submit or withdraw."""
    if user is r.SYSTEM_ACTOR or r.APPLICANT in r.roles_of(user, application):
        return None
    if application.direction != 3:
        return _("只有申报单位可以提交或撤回方向一、二、四的申报")
    return None


BUREAU = frozenset({r.REVIEWER, r.SCREENER})
CENTRE_BUILDS = frozenset({r.SCREENER, r.ADMINISTRATOR})

RULES: dict[str, Rule] = {
    # the portal's application_submit performs it and sends the receipt itself
    "submit": Rule(
        frozenset({r.APPLICANT, r.SYSTEM}) | CENTRE_BUILDS,
        _centre_on_direction_3,
        "方向三（免申即享）由市数字经济中心代为提交；其他方向由申报单位提交",
    ),
    "accept": Rule(BUREAU),
    "pass_formal_check": Rule(BUREAU),
    "request_supplement": Rule(BUREAU, _has_open_supplement, "已列明补正事项（逐项）与截止日期"),
    "resubmit": Rule(frozenset({r.APPLICANT}), notify_staff="承办人（补正材料已提交）"),
    "resume_review": Rule(BUREAU, notify_applicant=False),
    "approve": Rule(
        frozenset({r.APPROVER}),
        _open_proposal("approval"),
        "另一名审核人员已拟定“予以支持”及金额（四眼原则）",
    ),
    "reject": Rule(
        frozenset({r.APPROVER}),
        _open_proposal("rejection"),
        "另一名审核人员已拟定“不予支持”及理由（四眼原则）",
    ),
    "publicize": Rule(frozenset({r.APPROVER})),
    "pay": Rule(
        frozenset({r.APPROVER, r.ADMINISTRATOR}),
        _paid,
        "公示期满、无未处理异议，并已登记拨付（日期、金额、凭证号）",
    ),
    "request_clawback": Rule(
        frozenset({r.APPROVER}), _clawback_recorded, "已登记退还通知日期与金额"
    ),
    "record_refund": Rule(
        frozenset({r.APPROVER, r.ADMINISTRATOR}), _refund_recorded, "已登记退还日期与金额"
    ),
    "mark_overdue": Rule(
        frozenset({r.APPROVER, r.ADMINISTRATOR}),
        _refund_overdue,
        "通知之日起 6 个月（承诺书第7条）已届满仍未退还",
    ),
    "withdraw": Rule(
        frozenset({r.APPLICANT}) | CENTRE_BUILDS,
        _centre_on_direction_3,
        "方向三重新生成时由市数字经济中心撤回原申报；其他由申报单位撤回",
        notify_staff="承办人（申报已撤回）",
    ),
}


def pay_guard(application: Application, user: Any) -> str | None:
    """Before a payment is recorded: the publicity must be over without open objections."""
    return _publicity_over(application, user)


def transitions_from(state: str) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if state in t.source]
