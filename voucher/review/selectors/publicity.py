"""Publicity, payment, clawback: the publicity candidates and rows, overdue clawbacks, and
the notifications that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from voucher.applications.models import (
    Application,
    Clawback,
    Decision,
    Notification,
    PolicyRoundRecord,
)
from voucher.applications.selectors import confirmed_decisions
from voucher.core import clock
from voucher.policy.money import yuan_to_wan


def publicity_candidates(record: PolicyRoundRecord) -> list[tuple[Application, Decision]]:
    """The round's approved applications whose decision in force is an approval."""
    approved = Application.objects.filter(round=record, state="approved")
    decisions = confirmed_decisions(approved)
    return [
        (a, decisions[a.pk])
        for a in approved.select_related("enterprise", "round")
        if a.pk in decisions and decisions[a.pk].kind == "approval"
    ]


def publicity_rows(applications: list[Application]) -> list[dict[str, Any]]:
    """The fields the bureau publishes (公示): no personal contact data."""
    decisions = confirmed_decisions(applications)
    rows = []
    for n, a in enumerate(sorted(applications, key=lambda x: x.pk), start=1):
        decision = decisions.get(a.pk)
        rows.append(
            {
                "序号": n,
                "申报编号": a.reference,
                "申报单位": a.applicant_name,
                "统一社会信用代码": a.enterprise.uscc,
                "申报方向": a.get_direction_display(),
                "项目名称": a.project_name,
                # exact: RULES.md rounds in two places only, the publicity list adds none
                "拟支持金额（万元）": yuan_to_wan(decision.amount) if decision else "",
                "拟支持金额（元）": decision.amount if decision else "",
            }
        )
    return rows


@dataclass(frozen=True)
class OverdueRow:
    clawback: Clawback
    reference: str
    applicant_name: str
    days_overdue: int


def overdue_report(today: date | None = None) -> list[OverdueRow]:
    today = today or clock.today()
    return [
        OverdueRow(
            c, c.application.reference, c.application.applicant_name, (today - c.due_date).days
        )
        for c in Clawback.objects.filter(refunded_on__isnull=True, due_date__lt=today)
        .select_related("application", "application__round")
        .order_by("due_date")
    ]


def open_clawbacks() -> list[Clawback]:
    return list(
        Clawback.objects.filter(refunded_on__isnull=True).select_related(
            "application", "application__round"
        )
    )


def failed_notifications() -> list[Notification]:
    return list(Notification.objects.exclude(error="").select_related("application")[:200])
