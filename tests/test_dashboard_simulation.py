"""The dashboard's pro-rata simulation (budget_simulation_page, one query, whole fen) shows what
the two queries and the Decimal scaling it replaced showed (branch dash, issue 23): the same
rows in the same order on every page, the same amounts, totals and factor, on a round whose
candidates have an evaluation or none, a confirmed approval, two, or one of nothing."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module

import pytest
from django.core.paginator import Paginator
from django.db.models import FilteredRelation, Q
from django.utils import timezone

from voucher.applications.models import (
    CONFIRMED,
    Application,
    Budget,
    Decision,
    StoredEvaluation,
)
from voucher.applications.states import WITH_BUREAU_STATES
from voucher.review.budget import prorata

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff
from .season_support import copy_applications

PAGE = 4
# the module (voucher.review.selectors.dashboard is the function of that name)
dashboard_module = import_module("voucher.review.selectors.dashboard")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def _reference(record, direction: int, page):
    """budget_simulation_page as it was before branch dash: Decimals through the ORM, the
    candidates' evaluations and their approvals in two queries, prorata for every row."""
    budget = Budget.objects.filter(round=record, direction=direction).first()
    if budget is None:
        return None
    candidates = Application.objects.filter(
        round=record,
        direction=direction,
        state__in=(*WITH_BUREAU_STATES, "approved", "publicized", "paid"),
    )
    latest = FilteredRelation("evaluations", condition=Q(evaluations__bureau_latest=True))
    amounts = {
        pk: amount
        for pk, amount in candidates.annotate(latest=latest)
        .order_by("id")
        .values_list("pk", "latest__approved_max")
        if amount is not None
    }
    amounts.update(
        Decision.objects.filter(application__in=candidates, status=CONFIRMED, kind="approval")
        .order_by("id")
        .values_list("application_id", "amount")
    )
    simulation = prorata({k: v for k, v in amounts.items() if v > 0}, budget.amount)
    shown = Paginator(simulation.rows, PAGE).get_page(page)
    apps = Application.objects.select_related("round").in_bulk([s.key for s in shown])
    rows = [
        (apps[s.key].reference, apps[s.key].applicant_name, s.approved, s.scaled) for s in shown
    ]
    return _seen(simulation, rows, shown)


def _seen(simulation, rows, shown):
    """What the page shows, the Decimals as text (100 and 100.00 differ there)."""
    return (
        str(simulation.budget),
        str(simulation.total),
        str(simulation.factor),
        str(simulation.scaled_total),
        simulation.over_budget,
        len(simulation.rows),
        [tuple(str(x) for x in row) for row in rows],
        (shown.number, shown.paginator.num_pages, shown.start_index(), shown.end_index()),
    )


def _now(record, direction: int, page):
    simulation, rows, shown = dashboard_module.budget_simulation_page(record, direction, page)
    if simulation is None:
        return None
    seen = [
        (r.application.reference, r.application.applicant_name, r.approved_max, r.scaled)
        for r in rows
    ]
    return _seen(simulation, seen, shown)


@pytest.fixture
def candidates(demo_data, django_user_model, monkeypatch):
    monkeypatch.setattr(dashboard_module, "PAGE_SIZE", PAGE)
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    template = application_from("d2-common-shareholder-review")
    made = copy_applications(template, 24, assignee=approver, proposer=reviewer)
    # amounts of their own, some with odd fen
    for n, application in enumerate(made):
        StoredEvaluation.objects.filter(application=application).update(
            approved_max=Decimal(100_000 + 7_919 * n) + Decimal(n % 7) / 100
        )
    approved = [a for a in made if a.state == "approved"]
    assert len(approved) >= 4

    def approve(application, amount: str) -> None:
        evaluation = StoredEvaluation.objects.filter(application=application).first()
        Decision.objects.create(
            application=application,
            evaluation=evaluation,
            kind="approval",
            amount=Decimal(amount),
            approved_max_at_decision=evaluation.approved_max,
            lowered_reason="lowered",
            proposed_by=reviewer,
            status=CONFIRMED,
            confirmed_by=approver,
            confirmed_at=timezone.now(),
        )

    # approved with no latest evaluation: comes after those with one, in the order of its
    # first approval (made[0], the first application, approved last, comes last)
    no_latest = [*approved[:2], made[0]]
    StoredEvaluation.objects.filter(application__in=no_latest).update(bureau_latest=False)
    approve(approved[1], "123.45")  # a second approval: the later one counts
    approve(approved[2], "0")  # approved at nothing: not a candidate of the scaling
    approve(made[0], "4321.09")  # an approval of an application still in review
    approve(made[1], "5432.10")
    return template.round


@pytest.mark.django_db
def test_the_simulation_shows_what_it_showed(candidates):
    record = candidates
    assert _now(record, 2, 1) is None  # no budget: nothing to scale
    shown = dashboard_module.budget_simulation_page(record, 2, 1, {})
    assert shown == (None, [], None)
    amounts = Budget.objects.create(round=record, direction=2, amount="1.00")
    total = Decimal(_reference(record, 2, 1)[1])
    pages = -(-_reference(record, 2, 1)[5] // PAGE)
    assert pages >= 3
    for budget in (total / 3, total - Decimal("0.01"), total, total + 1, Decimal("0.00")):
        amounts.amount = budget.quantize(Decimal("0.01"))
        amounts.save()
        for page in [*range(1, pages + 1), pages + 1, "x", 0]:
            assert _now(record, 2, page) == _reference(record, 2, page), (budget, page)
    assert _now(record, 2, 1)[4] is True  # the last budget, nothing: all scaled to 0


@pytest.mark.django_db
def test_the_figures_and_the_series_sum_what_they_say(candidates, django_user_model):
    """The figures and the monthly series against their definitions, summed here in Python:
    an approval confirmed without a time is in no month, and the approvals and payments of a
    withdrawn application are in the series, not in the figures."""
    from collections import defaultdict
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from voucher.applications.models import PaymentRecord

    record = candidates
    clerk = django_user_model.objects.create_user("clerk")
    apps = list(Application.objects.filter(round=record).order_by("pk"))
    withdrawn, plain = apps[-1], apps[-2]
    Application.objects.filter(pk=withdrawn.pk).update(state="withdrawn")
    evaluation = StoredEvaluation.objects.filter(application=withdrawn).first()
    approver = django_user_model.objects.get(username="t-approver")
    reviewer = django_user_model.objects.get(username="t-reviewer")
    Decision.objects.create(
        application=withdrawn,
        evaluation=evaluation,
        kind="approval",
        amount=Decimal("10.01"),
        approved_max_at_decision=evaluation.approved_max,
        lowered_reason="lowered",
        proposed_by=reviewer,
        status=CONFIRMED,
        confirmed_by=approver,
        confirmed_at=None,
    )
    shanghai = ZoneInfo("Asia/Shanghai")
    # the last instant of January in Beijing: January there, February nowhere
    first = Decision.objects.filter(status=CONFIRMED, confirmed_at__isnull=False).order_by("pk")
    Decision.objects.filter(pk__in=list(first.values_list("pk", flat=True)[:2])).update(
        confirmed_at=datetime(2026, 1, 31, 23, 59, tzinfo=shanghai)
    )
    for application, day, amount in (
        (withdrawn, date(2026, 3, 2), "7.77"),
        (plain, date(2026, 3, 31), "1234.56"),
        (plain, date(2026, 4, 1), "0.01"),
    ):
        PaymentRecord.objects.create(
            application=application,
            paid_on=day,
            amount=Decimal(amount),
            reference=f"P-{application.pk}-{day}",
            recorded_by=clerk,
        )

    states = {a.pk: a.state for a in Application.objects.filter(round=record)}
    counted = {pk for pk, state in states.items() if state not in dashboard_module.UNCOUNTED}
    approvals = list(
        Decision.objects.filter(application__round=record, status=CONFIRMED, kind="approval")
    )
    payments = list(PaymentRecord.objects.filter(application__round=record))
    figures = {f.direction: f for f in dashboard_module.dashboard(record)}
    for direction in (1, 2, 3, 4):
        mine = {a.pk for a in Application.objects.filter(round=record, direction=direction)}
        ours = mine & counted
        decided = {d.application_id for d in approvals}
        latest = {
            e.application_id: e.approved_max
            for e in StoredEvaluation.objects.filter(application__in=ours, bureau_latest=True)
        }
        f = figures[direction]
        assert f.count == len(ours)
        assert f.approved == sum(
            (d.amount for d in approvals if d.application_id in ours), Decimal("0.00")
        )
        assert f.paid == sum((p.amount for p in payments if p.application_id in ours), Decimal(0))
        assert f.proposed == sum(
            (v for pk, v in latest.items() if pk not in decided and states[pk] != "rejected"),
            Decimal(0),
        )
    months: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for d in approvals:
        if d.confirmed_at is not None:
            months[d.confirmed_at.astimezone(shanghai).strftime("%Y-%m")][0] += d.amount
    for p in payments:
        months[p.paid_on.strftime("%Y-%m")][1] += p.amount
    series = dashboard_module.monthly_series(record)
    assert series == [(m, a, b) for m, (a, b) in sorted(months.items())]
    assert series[0][0] == "2026-01" and "2026-03" in {m for m, _a, _b in series}
    assert Decision.objects.filter(confirmed_at__isnull=True, status=CONFIRMED).exists()


@pytest.mark.django_db
def test_the_compiled_queries_return_what_their_querysets_return(candidates, django_user_model):
    """Each of the dashboard's queries compiled once (CompiledQuery) and asked for this round
    and each direction returns the rows its queryset returns, converted alike (or, for the
    simulation's, as the driver returns them: whole fen)."""

    from datetime import date

    from voucher.applications.models import PaymentRecord

    record = candidates
    paid = Application.objects.filter(round=record, state="approved").first()
    PaymentRecord.objects.create(
        application=paid,
        paid_on=date(2026, 5, 31),
        amount=Decimal("99.99"),
        reference="P-1",
        recorded_by=django_user_model.objects.get(username="t-approver"),
    )
    Budget.objects.create(round=record, direction=2, amount="1234.56")
    for name in ("_FIGURES", "_APPROVALS_BY_MONTH", "_PAYMENTS_BY_MONTH", "_BUDGETS"):
        compiled = getattr(dashboard_module, name)
        assert compiled.rows("default", record.pk) == list(compiled.build(record.pk)), name
        assert compiled.rows("default", record.pk)  # something to compare
        assert compiled.rows("default", record.pk + 1000) == []  # another round's
    compiled = dashboard_module._CANDIDATES
    for direction in (1, 2, 3, 4):
        fen = [
            tuple(x if type(x) is not Decimal else int(x * 100) for x in row)
            for row in compiled.build(record.pk, direction)
        ]
        assert compiled.rows("default", record.pk, direction) == fen
        assert all(type(x) is int for row in fen for x in row[2:] if x is not None)
    assert compiled.rows("default", record.pk, 2)
