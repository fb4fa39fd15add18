"""Budget and dashboard: the figures per direction, the monthly series, the pro-rata simulation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import selectors as app_selectors
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
