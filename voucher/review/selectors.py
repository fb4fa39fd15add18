"""Reads of the bureau's side: plain data for the pages, the exports and the portal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications import ports
from voucher.applications import selectors as app_selectors
from voucher.applications.models import (
    CONFIRMED,
    PROPOSED,
    Application,
    Budget,
    Clawback,
    Decision,
    FindingResolution,
    MaterialFile,
    Notification,
    PaymentRecord,
    PolicyRoundRecord,
    ReviewCase,
    Snapshot,
    StoredEvaluation,
    SupplementRequest,
)
from voucher.applications.states import STATE_CHOICES, SUPPLEMENT_STATES, WITH_BUREAU_STATES
from voucher.applications.workflow import transitions_from
from voucher.core.models import AuditEntry
from voucher.policy.money import yuan_to_wan
from voucher.review.budget import Simulation, prorata
from voucher.review.crosscheck import application_checks
from voucher.review.history import history_label, history_query

STATE_LABELS = dict(STATE_CHOICES)


# --- the queue and the lists ------------------------------------------------------------------


# The transitions the review screen offers as buttons and its transition URL performs: the
# others have their own forms (supplement, decision, publicity, payment, clawback) or are not the
# bureau's (submit, resubmit, withdraw).
SITE_TRANSITIONS = ("accept", "pass_formal_check", "resume_review", "mark_overdue")


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    applicant_name: str
    direction: int
    state: str
    state_label: str
    submitted_on: date | None
    outcome: str | None
    outcome_label: str
    approved_max: Decimal | None
    requested: Decimal | None
    proposed: Decimal | None
    decided: Decimal | None
    review_open: int
    assignee: str


FILTERS = ("state", "direction", "outcome", "assignee", "q")


def review_rows(user: Any, filters: Mapping[str, str] | None = None) -> list[QueueRow]:
    """Every application the user may see (not drafts), with the filters of the list page."""
    filters = filters or {}
    qs: QuerySet[Application] = (
        Application.objects.exclude(state="draft")
        .select_related("enterprise", "round")
        .order_by("id")
    )
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    if filters.get("direction"):
        qs = qs.filter(direction=int(filters["direction"]))
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(applicant_name__icontains=q) | qs.filter(enterprise__uscc__icontains=q)
    applications = [a for a in qs if p.can_view_application(user, a)]
    ids = [a.pk for a in applications]
    latest = app_selectors.latest_evaluations(ids)
    resolved: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for ev_id, rule, contract, app_id in FindingResolution.objects.filter(
        application_id__in=ids
    ).values_list("evaluation_id", "rule", "contract", "application_id"):
        if app_id in latest and latest[app_id].pk == ev_id:
            resolved[app_id].add((rule, contract))
    proposed = {
        d.application_id: d.amount
        for d in Decision.objects.filter(application_id__in=ids, status=PROPOSED)
    }
    decided = {
        d.application_id: d.amount
        for d in Decision.objects.filter(application_id__in=ids, status=CONFIRMED)
    }
    assignees = {
        c.application_id: c.assignee.get_username() if c.assignee else ""
        for c in ReviewCase.objects.filter(application_id__in=ids).select_related("assignee")
    }
    rows = []
    for a in applications:
        e: StoredEvaluation | None = latest.get(a.pk)
        reviews = [f for f in (e.findings if e else []) if f["status"] == "review"]
        open_count = sum(
            1 for f in reviews if (f["rule"], f.get("contract") or "") not in resolved[a.pk]
        )
        row = QueueRow(
            id=a.pk,
            reference=a.reference,
            applicant_name=a.applicant_name,
            direction=a.direction,
            state=a.state,
            state_label=_(STATE_LABELS.get(a.state, a.state)),
            submitted_on=a.submitted_on,
            outcome=e.outcome if e else None,
            outcome_label=app_selectors.outcome_label(e.outcome if e else None),
            approved_max=e.approved_max if e else None,
            requested=a.requested_amount,
            proposed=proposed.get(a.pk),
            decided=decided.get(a.pk),
            review_open=open_count,
            assignee=assignees.get(a.pk, ""),
        )
        if filters.get("outcome") and row.outcome != filters["outcome"]:
            continue
        if filters.get("assignee") and row.assignee != filters["assignee"]:
            continue
        rows.append(row)
    return rows


@dataclass(frozen=True)
class PendingDecision:
    id: int
    application_id: int
    reference: str
    applicant_name: str
    kind: str
    kind_label: str
    amount: Decimal
    proposed_by: str
    proposed_at: Any


@dataclass(frozen=True)
class MyWork:
    """The "my queue" page: what is mine now, what waits for my confirmation, what nobody has."""

    assigned: list[QueueRow]
    to_confirm: list[PendingDecision]
    unassigned: list[QueueRow]
    may_take: bool


def my_work(user: Any) -> MyWork:
    rows = [row for row in review_rows(user) if row.state in WITH_BUREAU_STATES]
    name = user.get_username()
    pending = [
        d
        for d in Decision.objects.filter(status=PROPOSED)
        .exclude(proposed_by=user)
        .select_related("application__round", "proposed_by")  # the guards read the round
        .order_by("proposed_at", "id")
        if p.can_confirm(user, d.application, d.kind)
    ]
    return MyWork(
        assigned=[row for row in rows if row.assignee == name],
        to_confirm=[
            PendingDecision(
                id=d.pk,
                application_id=d.application_id,
                reference=d.application.reference,
                applicant_name=d.application.applicant_name,
                kind=d.kind,
                kind_label=_(d.get_kind_display()),
                amount=d.amount,
                proposed_by=d.proposed_by.get_username(),
                proposed_at=d.proposed_at,
            )
            for d in pending
        ],
        unassigned=[row for row in rows if not row.assignee],
        may_take=bool(p.can_take(user)),
    )


# --- the review screen ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is MISSING:
            return "added"
        if self.after is MISSING:
            return "removed"
        return "changed"


class _Missing:
    def __repr__(self) -> str:
        return "—"

    def __str__(self) -> str:
        return "—"


MISSING: Any = _Missing()


def json_diff(before: Any, after: Any, path: str = "") -> list[DiffLine]:
    """Field-level differences between two interchange documents (JSON paths, a.b[0].c)."""
    if isinstance(before, dict) and isinstance(after, dict):
        lines = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            lines += json_diff(before.get(key, MISSING), after.get(key, MISSING), sub)
        return lines
    if isinstance(before, list) and isinstance(after, list):
        lines = []
        for i in range(max(len(before), len(after))):
            lines += json_diff(
                before[i] if i < len(before) else MISSING,
                after[i] if i < len(after) else MISSING,
                f"{path}[{i}]",
            )
        return lines
    if before == after:
        return []
    if isinstance(before, dict | list) and after is MISSING:
        return [DiffLine(path, before, MISSING)]
    return [DiffLine(path, before, after)]


@dataclass
class VersionDiff:
    before: Snapshot
    after: Snapshot
    lines: list[DiffLine]
    outcome_before: str
    outcome_after: str
    max_before: Decimal | None
    max_after: Decimal | None


def latest_diff(application: Application) -> VersionDiff | None:
    """What changed between the version the reviewer saw and the one resubmitted after 补正."""
    snaps = list(Snapshot.objects.filter(application=application).select_related("evaluation"))
    resubmits = [i for i, s in enumerate(snaps) if s.transition == "resubmit"]
    if not resubmits:
        return None
    after_i = resubmits[-1]
    before = next(
        (s for s in reversed(snaps[:after_i]) if s.transition == "request_supplement"), None
    )
    if before is None:
        return None
    after = snaps[after_i]
    return VersionDiff(
        before,
        after,
        json_diff(before.document, after.document),
        app_selectors.outcome_label(before.evaluation.outcome if before.evaluation else None),
        app_selectors.outcome_label(after.evaluation.outcome if after.evaluation else None),
        before.evaluation.approved_max if before.evaluation else None,
        after.evaluation.approved_max if after.evaluation else None,
    )


@dataclass
class ReviewScreen:
    detail: app_selectors.ApplicationDetail
    resolutions: dict[tuple[str, str], FindingResolution]
    open_reviews: int
    transitions: list[tuple[str, str, p.Check]]  # name, label, check for this user
    supplements: list[SupplementRequest]
    decisions: list[Decision]
    open_proposal: Decision | None
    diff: VersionDiff | None
    cross: list[Any]
    payments: list[PaymentRecord]
    clawbacks: list[Clawback]
    assignee: str
    can_resolve: p.Check
    can_propose: p.Check
    can_supplement: p.Check
    can_confirm: p.Check
    can_pay: p.Check
    can_clawback: p.Check
    approved_max: Decimal | None
    state_label: str
    history: list[Any] = field(default_factory=list)
    # the materials the applicant uploaded (附件14-1): 形式审查 is reading them
    materials: list[Any] = field(default_factory=list)
    groups: list[tuple[Any, list[tuple[Any, FindingResolution | None]]]] = field(
        default_factory=list
    )
    contract_lines: list[Any] = field(default_factory=list)
    assignable: list[str] = field(default_factory=list)  # reviewers and screeners, by username
    # Returned for 补正 and not yet resubmitted: the findings and figures are of the version last
    # submitted (the applicant's self-checks of the version being corrected are left out).
    being_corrected: bool = False
    # direction 3: the platform's data changed after the build (the figures here are the build's)
    platform_data_changed: bool = False


def assignable_staff(application: Application) -> list[str]:
    """Reviewers and screeners who may handle this application (screeners: direction 3 only)."""
    from django.contrib.auth import get_user_model

    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[p.r.REVIEWER, p.r.SCREENER])
        .distinct()
        .order_by("username")
        .prefetch_related("groups")  # the roles of all of them in one query
    )
    return [u.get_username() for u in users if p.can_view_application(u, application)]


def review_screen(application: Application, user: Any) -> ReviewScreen:

    detail = app_selectors.application_detail(application.pk)
    evaluation = detail.evaluation
    resolutions = (
        {
            (x.rule, x.contract): x
            for x in FindingResolution.objects.filter(evaluation=evaluation).select_related(
                "resolved_by"
            )
        }
        if evaluation
        else {}
    )
    open_reviews = 0
    if evaluation:
        open_reviews = sum(
            1
            for f in evaluation.findings
            if f["status"] == "review" and (f["rule"], f.get("contract") or "") not in resolutions
        )
    decisions = list(
        Decision.objects.filter(application=application).select_related(
            "proposed_by", "confirmed_by"
        )
    )
    open_proposal = next((d for d in decisions if d.status == PROPOSED), None)
    case = ReviewCase.objects.filter(application=application).select_related("assignee").first()
    transitions = [
        (name, p.transition_label(name), p.can_transition(user, application, name))
        for name in transitions_from(application.state)
        if name in SITE_TRANSITIONS
    ]
    history = list(
        AuditEntry.objects.filter(history_query(application)).order_by("created_at", "id")
    )
    for entry in history:
        entry.label = history_label(entry)  # type: ignore[attr-defined]
    groups = [
        (g, [(f, resolutions.get((f.rule, f.contract or ""))) for f in g.findings])
        for g in detail.groups
    ]
    contract_lines = list(
        application.contracts.prefetch_related("deliveries", "invoices", "payments")
    )
    return ReviewScreen(
        groups=groups,
        contract_lines=contract_lines,
        detail=detail,
        resolutions=resolutions,
        open_reviews=open_reviews,
        transitions=transitions,
        supplements=list(
            SupplementRequest.objects.filter(application=application).prefetch_related("items")
        ),
        decisions=decisions,
        open_proposal=open_proposal,
        diff=latest_diff(application),
        cross=application_checks(application),
        payments=list(PaymentRecord.objects.filter(application=application)),
        clawbacks=list(Clawback.objects.filter(application=application)),
        assignee=case.assignee.get_username() if case and case.assignee else "",
        assignable=assignable_staff(application)
        if application.state in WITH_BUREAU_STATES and p.can_hand_out(user)
        else [],
        can_resolve=p.can_resolve_finding(user, application),
        can_propose=p.can_propose(user, application),
        can_supplement=p.can_request_supplement(user, application),
        can_confirm=p.can_confirm(user, application, open_proposal.kind)
        if open_proposal
        else p.Check(False, _("没有待复核的意见")),
        can_pay=p.can_record_payment(user, application),
        can_clawback=p.can_request_clawback(user, application),
        approved_max=evaluation.approved_max if evaluation else None,
        state_label=_(STATE_LABELS.get(application.state, application.state)),
        history=history,
        materials=list(MaterialFile.objects.filter(application=application)),
        being_corrected=application.state in SUPPLEMENT_STATES,
        platform_data_changed=ports.platform_data_changed(application),
    )


# --- for the applicant portal -------------------------------------------------------------------


# --- budget and dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class DirectionFigures:
    direction: int
    budget: Decimal | None
    requested: Decimal
    proposed: Decimal  # approved_max of the applications still in review (what the engine allows)
    approved: Decimal
    paid: Decimal
    count: int

    def bar(self, value: Decimal) -> int:
        """Percent of the largest figure of the row (for the CSS bar chart)."""
        top = max(
            [self.requested, self.proposed, self.approved, self.paid, self.budget or Decimal(0)]
        )
        return int(value * 100 / top) if top else 0

    def bars(self) -> list[tuple[str, str, Decimal | None, int]]:
        """(label, css class, amount, percent of the row's largest) for the bar chart."""
        rows: list[tuple[str, str, Decimal | None, int]] = [
            (_("申请"), "requested", self.requested, self.bar(self.requested)),
            (_("审核中"), "proposed", self.proposed, self.bar(self.proposed)),
            (_("已核定"), "approved", self.approved, self.bar(self.approved)),
            (_("已拨付"), "paid", self.paid, self.bar(self.paid)),
        ]
        if self.budget is not None:
            rows.append((_("预算"), "budget", self.budget, self.bar(self.budget)))
        return rows


def dashboard(record: PolicyRoundRecord) -> list[DirectionFigures]:
    apps = list(Application.objects.filter(round=record).exclude(state__in=("draft", "withdrawn")))
    latest = app_selectors.latest_evaluations(a.pk for a in apps)
    decided = {
        d.application_id: d.amount
        for d in Decision.objects.filter(application__in=apps, status=CONFIRMED, kind="approval")
    }
    paid = defaultdict(Decimal)
    for row in (
        PaymentRecord.objects.filter(application__in=apps)
        .values("application_id")
        .annotate(total=Sum("amount"))
    ):
        paid[row["application_id"]] = row["total"]
    budgets = {b.direction: b.amount for b in Budget.objects.filter(round=record)}
    figures = []
    for direction in (1, 2, 3, 4):
        mine = [a for a in apps if a.direction == direction]
        zero = Decimal("0.00")
        figures.append(
            DirectionFigures(
                direction=direction,
                budget=budgets.get(direction),
                requested=sum((a.requested_amount or zero for a in mine), zero),
                proposed=sum(
                    (
                        latest[a.pk].approved_max
                        for a in mine
                        if a.pk in latest and a.pk not in decided and a.state != "rejected"
                    ),
                    zero,
                ),
                approved=sum((decided.get(a.pk, zero) for a in mine), zero),
                paid=sum((paid.get(a.pk, zero) for a in mine), zero),
                count=len(mine),
            )
        )
    return figures


def monthly_series(record: PolicyRoundRecord) -> list[tuple[str, Decimal, Decimal]]:
    """Approved and paid per month (the dashboard's over-time chart)."""
    approved: dict[str, Decimal] = defaultdict(Decimal)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for d in Decision.objects.filter(
        application__round=record, status=CONFIRMED, kind="approval", confirmed_at__isnull=False
    ):
        assert d.confirmed_at is not None
        approved[timezone.localtime(d.confirmed_at).strftime("%Y-%m")] += d.amount
    for pay in PaymentRecord.objects.filter(application__round=record):
        paid[pay.paid_on.strftime("%Y-%m")] += pay.amount
    months = sorted(set(approved) | set(paid))
    return [(m, approved[m], paid[m]) for m in months]


@dataclass
class SimulationRow:
    application: Application
    approved_max: Decimal
    scaled: Decimal


def budget_simulation(
    record: PolicyRoundRecord, direction: int
) -> tuple[Simulation | None, list[SimulationRow]]:
    """What pro-rata scaling would give each applicant whose application may be approved."""
    budget = Budget.objects.filter(round=record, direction=direction).first()
    if budget is None:
        return None, []
    apps = {
        a.pk: a
        for a in Application.objects.filter(
            round=record,
            direction=direction,
            state__in=(*WITH_BUREAU_STATES, "approved", "publicized", "paid"),
        )
    }
    decided = {
        d.application_id: d.amount
        for d in Decision.objects.filter(application_id__in=apps, status=CONFIRMED, kind="approval")
    }
    amounts = {pk: e.approved_max for pk, e in app_selectors.latest_evaluations(apps).items()}
    amounts.update(decided)
    amounts = {k: v for k, v in amounts.items() if v > 0}
    simulation = prorata(amounts, budget.amount)
    rows = [SimulationRow(apps[s.key], s.approved, s.scaled) for s in simulation.rows]
    return simulation, rows


# --- publicity, payment, clawback ----------------------------------------------------------------


def publicity_candidates(record: PolicyRoundRecord) -> list[tuple[Application, Decision]]:
    decisions = {
        d.application_id: d
        for d in Decision.objects.filter(
            application__round=record, status=CONFIRMED, kind="approval"
        )
    }
    return [
        (a, decisions[a.pk])
        for a in Application.objects.filter(round=record, state="approved").select_related(
            "enterprise", "round"
        )
        if a.pk in decisions
    ]


def publicity_rows(applications: list[Application]) -> list[dict[str, Any]]:
    """The fields the bureau publishes (公示): no personal contact data."""
    decisions = {
        d.application_id: d
        for d in Decision.objects.filter(application__in=applications, status=CONFIRMED)
    }
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
    today = today or timezone.localdate()
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
