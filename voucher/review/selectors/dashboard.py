"""Budget and dashboard: the figures per direction, the monthly series, the pro-rata simulation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications.models import (
    CONFIRMED,
    Application,
    Budget,
    Decision,
    PaymentRecord,
    PolicyRoundRecord,
)
from voucher.applications.states import WITH_BUREAU_STATES
from voucher.review.budget import Simulation, prorata

PAGE_SIZE = 50


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


def _latest() -> FilteredRelation:
    """The bureau's latest evaluation of each application (StoredEvaluation.bureau_latest)."""
    return FilteredRelation("evaluations", condition=Q(evaluations__bureau_latest=True))


def _by_direction(rows: Any, value: str) -> dict[int, Any]:
    return {row["direction"]: row[value] for row in rows}


def dashboard(record: PolicyRoundRecord) -> list[DirectionFigures]:
    """The figures per direction, summed by the database (a few queries, whatever the size of
    the round)."""
    apps = Application.objects.filter(round=record).exclude(state__in=("draft", "withdrawn"))
    approvals = Decision.objects.filter(status=CONFIRMED, kind="approval")
    totals = {
        row["direction"]: row
        for row in apps.order_by()
        .values("direction")
        .annotate(count=Count("id"), requested=Sum("requested_amount"))
    }
    # what the engine allows of those still undecided (no confirmed approval, not rejected)
    proposed = _by_direction(
        apps.exclude(state="rejected")
        .exclude(Exists(approvals.filter(application=OuterRef("pk"))))
        .annotate(latest=_latest())
        .order_by()
        .values("direction")
        .annotate(total=Sum("latest__approved_max")),
        "total",
    )
    approved = _by_direction(
        approvals.filter(application__in=apps)
        .order_by()
        .values(direction=F("application__direction"))
        .annotate(total=Sum("amount")),
        "total",
    )
    paid = _by_direction(
        PaymentRecord.objects.filter(application__in=apps)
        .order_by()
        .values(direction=F("application__direction"))
        .annotate(total=Sum("amount")),
        "total",
    )
    budgets = {b.direction: b.amount for b in Budget.objects.filter(round=record)}
    zero = Decimal("0.00")
    return [
        DirectionFigures(
            direction=direction,
            budget=budgets.get(direction),
            requested=(totals.get(direction) or {}).get("requested") or zero,
            proposed=proposed.get(direction) or zero,
            approved=approved.get(direction) or zero,
            paid=paid.get(direction) or zero,
            count=(totals.get(direction) or {}).get("count") or 0,
        )
        for direction in (1, 2, 3, 4)
    ]


def monthly_series(record: PolicyRoundRecord) -> list[tuple[str, Decimal, Decimal]]:
    """Approved and paid per month (the dashboard's over-time chart), summed by the database."""
    approved: dict[str, Decimal] = defaultdict(Decimal)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for row in (
        Decision.objects.filter(
            application__round=record,
            status=CONFIRMED,
            kind="approval",
            confirmed_at__isnull=False,
        )
        .annotate(month=TruncMonth("confirmed_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
    ):
        approved[row["month"].strftime("%Y-%m")] += row["total"]
    for row in (
        PaymentRecord.objects.filter(application__round=record)
        .annotate(month=TruncMonth("paid_on"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
    ):
        paid[row["month"].strftime("%Y-%m")] += row["total"]
    months = sorted(set(approved) | set(paid))
    return [(m, approved[m], paid[m]) for m in months]


@dataclass
class SimulationRow:
    application: Application
    approved_max: Decimal
    scaled: Decimal


def budget_simulation(
    record: PolicyRoundRecord, direction: int, page: Any = None
) -> tuple[Simulation | None, list[SimulationRow]]:
    """What pro-rata scaling would give each applicant whose application may be approved: the
    amounts of all of them are read in one query (the scaling needs their total); the rows are
    those of page `page` of PAGE_SIZE (all of them when None)."""
    simulation, rows, _page = budget_simulation_page(record, direction, page)
    return simulation, rows


def budget_simulation_page(
    record: PolicyRoundRecord, direction: int, page: Any = None
) -> tuple[Simulation | None, list[SimulationRow], Page[Any] | None]:
    budget = Budget.objects.filter(round=record, direction=direction).first()
    if budget is None:
        return None, [], None
    candidates = Application.objects.filter(
        round=record,
        direction=direction,
        state__in=(*WITH_BUREAU_STATES, "approved", "publicized", "paid"),
    )
    amounts: dict[int, Decimal] = {
        pk: amount
        for pk, amount in candidates.annotate(latest=_latest())
        .order_by("id")
        .values_list("pk", "latest__approved_max")
        if amount is not None
    }
    amounts.update(
        Decision.objects.filter(application__in=candidates, status=CONFIRMED, kind="approval")
        .order_by("id")
        .values_list("application_id", "amount")
    )
    amounts = {k: v for k, v in amounts.items() if v > 0}
    simulation = prorata(amounts, budget.amount)
    shown: Page[Any] | None = None
    scaled = simulation.rows
    if page is not None:
        shown = Paginator(simulation.rows, PAGE_SIZE).get_page(page)
        scaled = list(shown.object_list)
    apps = Application.objects.select_related("round").in_bulk([s.key for s in scaled])
    rows = [SimulationRow(apps[s.key], s.approved, s.scaled) for s in scaled]
    return simulation, rows, shown
