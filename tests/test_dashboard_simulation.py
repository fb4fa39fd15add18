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
