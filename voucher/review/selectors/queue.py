"""The queue and the lists: the review queue with its filters, and a staff member's own work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications import selectors as app_selectors
from voucher.applications.models import (
    CONFIRMED,
    PROPOSED,
    Application,
    Decision,
    FindingResolution,
    ReviewCase,
    StoredEvaluation,
)
from voucher.applications.states import WITH_BUREAU_STATES
from voucher.review.selectors.common import STATE_LABELS


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
