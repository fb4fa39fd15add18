"""Supervision after payment: the yearly follow-up report each funded application owes, its
reminder and the overdue list; the bureau's spot checks.

承诺书 第6条 has the enterprise accept the bureau's supervision, and the funds' management rules
ask for 项目跟踪管理和绩效评价; neither sets a form or a period. Our reading (docs/supervision.md): a
short report (compute used, outcomes, problems) a year after the first payment and a year after
that (SUPERVISION_YEARS), a reminder REMIND_DAYS before each is due, and spot checks at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import roles as r
from voucher.applications.models import Application, FollowUpReport, PaymentRecord, SpotCheck
from voucher.applications.notify import applicant_addresses, notify_after_commit
from voucher.core.audit import audit
from voucher.core.refusals import FORBIDDEN, INVALID, Refused
from voucher.policy.dates import add_months

SUPERVISION_YEARS = 2
REMIND_DAYS = 30
TEXT_MAX = 2000


@dataclass(frozen=True)
class ReportDue:
    application: Application
    year: int
    due_on: date
    report: FollowUpReport | None

    @property
    def submitted(self) -> bool:
        return self.report is not None and self.report.submitted_at is not None

    def overdue(self, today: date) -> bool:
        return not self.submitted and today > self.due_on


def first_payment(application: Application) -> date | None:
    record = PaymentRecord.objects.filter(application=application).order_by("paid_on").first()
    return record.paid_on if record else None


def reports_due(application: Application) -> list[ReportDue]:
    """The reports the application owes (none before it is paid), filed or not."""
    paid = first_payment(application)
    if paid is None:
        return []
    filed = {f.year: f for f in FollowUpReport.objects.filter(application=application)}
    return [
        ReportDue(application, year, add_months(paid, 12 * year), filed.get(year))
        for year in range(1, SUPERVISION_YEARS + 1)
    ]


def reports_of_round(round_id: int) -> list[ReportDue]:
    """Every report owed in the round (paid applications), for the bureau's list."""
    return _reports_owed(Application.objects.filter(round_id=round_id))


def _reports_owed(applications: QuerySet[Application]) -> list[ReportDue]:
    """`reports_due` of every paid one of `applications`, in three queries whatever their
    number."""
    out: list[ReportDue] = []
    paid = applications.filter(payment_records__isnull=False).distinct()
    firsts: dict[int, date] = {}
    for application_id, paid_on in PaymentRecord.objects.filter(application__in=paid).values_list(
        "application_id", "paid_on"
    ):
        firsts[application_id] = min(paid_on, firsts.get(application_id, paid_on))
    filed = {
        (f.application_id, f.year): f for f in FollowUpReport.objects.filter(application__in=paid)
    }
    for application in paid.select_related("enterprise", "round").order_by("pk"):
        first = firsts[application.pk]
        for year in range(1, SUPERVISION_YEARS + 1):
            out.append(
                ReportDue(
                    application,
                    year,
                    add_months(first, 12 * year),
                    filed.get((application.pk, year)),
                )
            )
    return out


def follow_up_submit(
    *,
    application: Application,
    year: int,
    compute_used: str,
    outcomes: str,
    problems: str,
    acting_user: Any,
) -> FollowUpReport:
    """The enterprise files the report of `year` (any member; once filed it stays)."""
    if not r.is_applicant_of(acting_user, application):
        raise Refused(_("只有本企业的成员可以报送跟踪报告"), code=FORBIDDEN)
    due = {d.year: d for d in reports_due(application)}
    if year not in due:
        raise Refused(_("该申报尚未拨付，或没有这一年度的跟踪报告"), code=INVALID, field="year")
    if due[year].submitted:
        raise Refused(_("这一年度的跟踪报告已报送"), code=INVALID, field="year")
    texts = {"compute_used": compute_used, "outcomes": outcomes}
    errors = [
        {"location": name, "message": _("请填写此项")}
        for name, value in texts.items()
        if not (value or "").strip()
    ] + [
        {"location": name, "message": _("不超过 %(n)d 个字") % {"n": TEXT_MAX}}
        for name, value in {**texts, "problems": problems}.items()
        if len(value or "") > TEXT_MAX
    ]
    if errors:
        raise Refused(
            errors[0]["message"], code=INVALID, field=errors[0]["location"], errors=errors
        )
    with transaction.atomic():
        report, _created = FollowUpReport.objects.select_for_update().get_or_create(
            application=application, year=year, defaults={"due_on": due[year].due_on}
        )
        report.compute_used = compute_used.strip()
        report.outcomes = outcomes.strip()
        report.problems = (problems or "").strip()
        report.submitted_by = acting_user
        report.submitted_at = timezone.now()
        report.save()
        audit(
            actor=acting_user,
            action="follow_up_submit",
            obj=application,
            data={
                "year": year,
                "due_on": report.due_on,
                "late": timezone.now().date() > report.due_on,
            },
        )
    return report


def follow_up_remind(today: date, *, days: int = REMIND_DAYS) -> int:
    """E-mail each enterprise whose report falls due within `days` (once per report); returns how
    many reminders went out. Run daily (`voucher supervision remind`)."""
    sent = 0
    # the reports owed read together: the paid applications that owe none soon cost nothing
    for due in _reports_owed(Application.objects.all()):
        if due.submitted or not (today <= due.due_on <= today + timedelta(days=days)):
            continue
        if due.report is not None and due.report.reminded_at is not None:
            continue  # reminded on an earlier day (checked again below, under the lock)
        application = due.application
        with transaction.atomic():
            report, _created = FollowUpReport.objects.select_for_update().get_or_create(
                application=application, year=due.year, defaults={"due_on": due.due_on}
            )
            if report.reminded_at is not None:
                continue
            report.reminded_at = timezone.now()
            report.save(update_fields=["reminded_at"])
            notify_after_commit(
                event="follow_up_remind",
                recipients=applicant_addresses(application),
                subject=f"算力券跟踪报告提醒：{application.reference}",
                body=(
                    f"贵单位的算力券项目（{application.reference}）第{due.year}年跟踪报告"
                    f"应于 {due.due_on.isoformat()} 前报送（承诺书第6条：接受监督）。"
                    "请登录申报系统，在申报状态页填写算力使用情况、项目成效和存在问题。"
                ),
                application=application,
            )
            audit(
                actor=None,
                action="follow_up_remind",
                obj=application,
                data={"year": due.year, "due_on": due.due_on},
            )
            sent += 1
    return sent


def spot_check_record(
    *, application: Application, checked_on: date, finding: str, problem: bool, acting_user: Any
) -> SpotCheck:
    """抽查: recorded by a reviewer or approver of a paid application, audited."""
    if not (r.staff_roles_of(acting_user) & {r.REVIEWER, r.APPROVER}):
        raise Refused(_("只有审核或复核人员可以登记抽查"), code=FORBIDDEN)
    if first_payment(application) is None:
        raise Refused(_("只有已拨付的申报才需要抽查"), code=INVALID)
    if not (finding or "").strip():
        raise Refused(_("请填写抽查发现"), code=INVALID, field="finding")
    with transaction.atomic():
        check = SpotCheck.objects.create(
            application=application,
            checked_on=checked_on,
            checked_by=acting_user,
            finding=finding.strip(),
            problem=problem,
        )
        audit(
            actor=acting_user,
            action="spot_check_record",
            obj=application,
            data={"spot_check": check.pk, "checked_on": checked_on, "problem": problem},
        )
    return check
