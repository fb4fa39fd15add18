"""Budget and dashboard: the figures per direction, the monthly series, the pro-rata simulation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.paginator import Page, Paginator
from django.db import router
from django.db.models import (
    BooleanField,
    Case,
    Count,
    FilteredRelation,
    Q,
    Sum,
    Value,
    When,
)
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
from voucher.applications.models.application import reference_of
from voucher.applications.states import WITH_BUREAU_STATES
from voucher.core.precompiled import CompiledQuery
from voucher.review.budget import Simulation, prorata_fen

PAGE_SIZE = 50

# the states whose applications the dashboard's figures leave out
UNCOUNTED = ("draft", "withdrawn")


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


# The dashboard's queries are written by the ORM once per process and database (CompiledQuery,
# decision 0049) with these in place of the round's id and the direction: an id no round has, a
# direction no application has (within a small integer's range: for a value beyond its column's
# the ORM finds no row and writes no query).
_ROUND, _DIRECTION = -7_230_049, 32_049


def _alias() -> str:
    return router.db_for_read(Application)


class MonthSum(NamedTuple):
    month: Any  # a datetime, a date (payments), None (an approval confirmed without a time)
    counted: bool  # whether the dashboard's figures count the application (UNCOUNTED)
    direction: int
    total: Decimal


@dataclass(frozen=True)
class RoundSums:
    """The round's confirmed approvals and payments summed by direction, by month and by
    whether the dashboard counts their application (not a draft, not withdrawn): what the
    figures and the monthly series both read, in two queries for both instead of four."""

    approvals: list[MonthSum]
    payments: list[MonthSum]


def _counted() -> Case:
    """Whether the dashboard's figures count the application of the row (UNCOUNTED)."""
    return Case(
        When(application__state__in=UNCOUNTED, then=Value(False)),
        default=Value(True),
        output_field=BooleanField(),
    )


def _approvals_by_month(round_id: int) -> Any:
    return (
        Decision.objects.filter(application__round=round_id, status=CONFIRMED, kind="approval")
        .annotate(
            month=TruncMonth("confirmed_at", tzinfo=timezone.get_current_timezone()),
            counted=_counted(),
        )
        .order_by()
        .values_list("month", "counted", "application__direction")
        .annotate(total=Sum("amount"))
    )


def _payments_by_month(round_id: int) -> Any:
    return (
        PaymentRecord.objects.filter(application__round=round_id)
        .annotate(month=TruncMonth("paid_on"), counted=_counted())
        .order_by()
        .values_list("month", "counted", "application__direction")
        .annotate(total=Sum("amount"))
    )


def round_sums(record: PolicyRoundRecord) -> RoundSums:
    return RoundSums(
        [MonthSum(*row) for row in _APPROVALS_BY_MONTH.rows(_alias(), record.pk)],
        [MonthSum(*row) for row in _PAYMENTS_BY_MONTH.rows(_alias(), record.pk)],
    )


_APPROVALS_BY_MONTH = CompiledQuery(_approvals_by_month, _ROUND)
_PAYMENTS_BY_MONTH = CompiledQuery(_payments_by_month, _ROUND)


def _counted_by_direction(rows: list[MonthSum]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.counted:
            totals[row.direction] += row.total
    return totals


def _figures(round_id: int) -> Any:
    """(direction, count, requested, proposed) of the round's applications the dashboard
    counts."""
    approvals = Decision.objects.filter(status=CONFIRMED, kind="approval")
    # what the engine allows of those still undecided (no confirmed approval, not rejected),
    # summed in the same pass over the round as the count and the requested amounts: the
    # latest evaluation is one row at most (a unique constraint), so the join adds no row.
    # NOT IN, not NOT EXISTS: PostgreSQL reads the confirmed approvals once into a hash,
    # where a correlated NOT EXISTS inside the FILTER probed their index once per application
    # (4,000 probes, half the query's time, on a season); application_id is never NULL.
    undecided = ~Q(state="rejected") & ~Q(pk__in=approvals.values("application_id"))
    return (
        Application.objects.filter(round_id=round_id)
        .exclude(state__in=UNCOUNTED)
        .annotate(latest=_latest())
        .order_by()
        .values("direction")
        .annotate(
            count=Count("id"),
            requested=Sum("requested_amount"),
            proposed=Sum("latest__approved_max", filter=undecided),
        )
        .values_list("direction", "count", "requested", "proposed")
    )


_FIGURES = CompiledQuery(_figures, _ROUND)


def dashboard(
    record: PolicyRoundRecord,
    sums: RoundSums | None = None,
    budgets: dict[int, Decimal] | None = None,
) -> list[DirectionFigures]:
    """The figures per direction, summed by the database (a few queries, whatever the size of
    the round); `sums`: round_sums(record), `budgets`: round_budgets(record), when the caller
    read them already."""
    totals = {
        direction: (count, requested, proposed)
        for direction, count, requested, proposed in _FIGURES.rows(_alias(), record.pk)
    }
    sums = sums or round_sums(record)
    approved = _counted_by_direction(sums.approvals)
    paid = _counted_by_direction(sums.payments)
    if budgets is None:
        budgets = round_budgets(record)
    zero = Decimal("0.00")
    none = (0, None, None)
    return [
        DirectionFigures(
            direction=direction,
            budget=budgets.get(direction),
            requested=totals.get(direction, none)[1] or zero,
            proposed=totals.get(direction, none)[2] or zero,
            approved=approved.get(direction) or zero,
            paid=paid.get(direction) or zero,
            count=totals.get(direction, none)[0] or 0,
        )
        for direction in (1, 2, 3, 4)
    ]


def _budgets(round_id: int) -> Any:
    return Budget.objects.filter(round=round_id).order_by().values_list("direction", "amount")


_BUDGETS = CompiledQuery(_budgets, _ROUND)


def round_budgets(record: PolicyRoundRecord) -> dict[int, Decimal]:
    """The round's budgets (their amounts) by direction: the figures and the simulation read
    them both."""
    return dict(_BUDGETS.rows(_alias(), record.pk))


def monthly_series(
    record: PolicyRoundRecord, sums: RoundSums | None = None
) -> list[tuple[str, Decimal, Decimal]]:
    """Approved and paid per month (the dashboard's over-time chart), summed by the database;
    `sums`: round_sums(record), when the caller read them already."""
    sums = sums or round_sums(record)
    approved: dict[str, Decimal] = defaultdict(Decimal)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for row in sums.approvals:
        if row.month is not None:  # confirmed without a time: in no month
            approved[row.month.strftime("%Y-%m")] += row.total
    for row in sums.payments:
        paid[row.month.strftime("%Y-%m")] += row.total
    months = sorted(set(approved) | set(paid))
    return [(m, approved[m], paid[m]) for m in months]


@dataclass(frozen=True)
class SimulatedApplication:
    """What a simulation row shows of its application (read with its amounts, in the same
    query, not as a model instance of its own)."""

    reference: str
    applicant_name: str


@dataclass
class SimulationRow:
    application: SimulatedApplication
    approved_max: Decimal
    scaled: Decimal


def _candidates(round_id: int, direction: int) -> Any:
    """(id, applicant, latest evaluation's approved_max, confirmed approval's id, its amount)
    of the applications of the round and direction that may be approved, the money in whole
    fen; a row per confirmed approval (one without any: None, None)."""
    return (
        Application.objects.filter(
            round_id=round_id,
            direction=direction,
            state__in=(*WITH_BUREAU_STATES, "approved", "publicized", "paid"),
        )
        .annotate(
            latest=_latest(),
            approval=FilteredRelation(
                "decisions",
                condition=Q(decisions__status=CONFIRMED, decisions__kind="approval"),
            ),
        )
        .order_by("id", "approval__id")
        .values_list(
            "pk", "applicant_name", "latest__approved_max", "approval__id", "approval__amount"
        )
    )


_CANDIDATES = CompiledQuery(_candidates, _ROUND, _DIRECTION, convert=False)


def budget_simulation_page(
    record: PolicyRoundRecord,
    direction: int,
    page: Any = None,
    budgets: dict[int, Decimal] | None = None,
) -> tuple[Simulation | None, list[SimulationRow], Page[Any] | None]:
    """`budgets`: round_budgets(record), when the caller read them already."""
    budget = (round_budgets(record) if budgets is None else budgets).get(direction)
    if budget is None:
        return None, [], None
    # each candidate with its latest evaluation and its confirmed approvals, in one query, the
    # amounts as the columns' whole fen (the scaling is worked out in integers, and only the
    # page's rows become Decimals): what the engine allows, unless an approval was confirmed
    latest: dict[int, int] = {}
    approvals: list[tuple[int, int, int]] = []
    names: dict[int, str] = {}
    for pk, name, allowed, decision, approved in _CANDIDATES.rows(_alias(), record.pk, direction):
        names[pk] = name
        if allowed is not None:
            latest[pk] = allowed
        if decision is not None:
            approvals.append((decision, pk, approved))
    # the latest confirmed approval of an application wins; one without an evaluation comes
    # after those with one, in the order of its first approval (as two queries read them)
    approvals.sort()
    for _decision, pk, approved in approvals:
        latest[pk] = approved
    simulation = prorata_fen({k: v for k, v in latest.items() if v > 0}, budget)
    shown: Page[Any] | None = None
    scaled = simulation.rows
    if page is not None:
        shown = Paginator(simulation.rows, PAGE_SIZE).get_page(page)
        scaled = list(shown.object_list)
    rows = [
        SimulationRow(
            SimulatedApplication(reference_of(record.code, s.key), names[s.key]),
            s.approved,
            s.scaled,
        )
        for s in scaled
    ]
    return simulation, rows, shown
