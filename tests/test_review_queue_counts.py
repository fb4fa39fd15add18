"""The lists' counts and order, from the database: the open review count of a row is its
evaluation's review findings not yet answered plus its cross-application findings not yet
answered; both are kept as they change (an evaluation stored, a finding answered, the screen and
the round's checks working the cross findings out) and filters and sorting use them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voucher.applications.actions import application_evaluate
from voucher.applications.models import (
    Application,
    CrossFindingCount,
    FindingResolution,
    StoredEvaluation,
)
from voucher.review import actions, selectors
from voucher.review.crosscheck import cross_items

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, put_in_state, verified_client
from .season_support import copy_applications


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "reviewer2": make_staff(django_user_model, "reviewer2", "bureau_reviewer"),
        "screener": make_staff(django_user_model, "screener", "centre_screener"),
    }


def _engine_open(application: Application) -> int:
    """The count as the queue worked it out before: the latest evaluation's review findings
    without a resolution of that evaluation."""
    e = (
        application.evaluations.filter(correction_in_progress=False)
        .order_by("-created_at", "-id")
        .first()
    )
    if e is None:
        return 0
    resolved = set(FindingResolution.objects.filter(evaluation=e).values_list("rule", "contract"))
    return sum(
        1
        for f in e.findings
        if f["status"] == "review" and (f["rule"], f.get("contract") or "") not in resolved
    )


def _cross_open(application: Application) -> int:
    return sum(1 for item in cross_items(application) if item.unresolved)


def _row(user, application):
    (row,) = [r for r in selectors.review_rows(user) if r.id == application.pk]
    return row


def test_the_count_is_the_open_review_and_cross_findings(team):
    reviewer = team["reviewer"]
    first = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    (second,) = copy_applications(first, 1)
    # the same enterprise twice in the round: a cross finding (ONE_DIRECTION) of both
    Application.objects.filter(pk=second.pk).update(enterprise=first.enterprise)
    put_in_state(second, "in_review")
    application_evaluate(application=first, acting_user=reviewer)  # counts both, first's partner
    engine, cross = _engine_open(first), _cross_open(first)
    assert engine > 0 and cross > 0
    assert _row(reviewer, first).review_open == engine + cross
    assert _row(reviewer, second).review_open == _engine_open(second) + _cross_open(second)

    # a review finding answered: one fewer
    finding = next(
        f for f in first.evaluations.get(bureau_latest=True).findings if f["status"] == "review"
    )
    actions.finding_resolve(
        application=first,
        rule=finding["rule"],
        contract=finding.get("contract"),
        resolution="accept",
        reason="核实无误",
        acting_user=reviewer,
    )
    assert _row(reviewer, first).review_open == engine + cross - 1
    # answering it again changes nothing
    actions.finding_resolve(
        application=first,
        rule=finding["rule"],
        contract=finding.get("contract"),
        resolution="reject",
        reason="复核不认可",
        acting_user=reviewer,
    )
    assert _row(reviewer, first).review_open == engine + cross - 1

    # a cross finding answered: one fewer again
    item = next(i for i in cross_items(first) if i.unresolved)
    actions.cross_finding_resolve(
        application=first,
        key=item.key,
        resolution="accept",
        reason="同一企业",
        acting_user=reviewer,
    )
    assert _row(reviewer, first).review_open == engine + cross - 2
    assert _row(reviewer, first).review_open == _engine_open(first) + _cross_open(first)


def test_a_new_evaluation_counts_afresh_and_the_correction_in_progress_is_not_the_bureaus(team):
    reviewer = team["reviewer"]
    application = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    before = StoredEvaluation.objects.get(application=application, bureau_latest=True)
    stored = application_evaluate(application=application, acting_user=reviewer)
    assert stored.bureau_latest and not StoredEvaluation.objects.get(pk=before.pk).bureau_latest
    put_in_state(application, "supplement_requested")
    during = application_evaluate(application=application, acting_user=reviewer)
    assert during.correction_in_progress and not during.bureau_latest
    assert StoredEvaluation.objects.get(application=application, bureau_latest=True) == stored
    assert _row(reviewer, application).review_open == _engine_open(application) + _cross_open(
        application
    )


def test_the_screen_and_the_checks_page_keep_the_count_current(client, team):
    reviewer = team["reviewer"]
    first = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    (second,) = copy_applications(first, 1)
    Application.objects.filter(pk=second.pk).update(enterprise=first.enterprise)
    put_in_state(second, "in_review")  # no evaluation: nothing has counted its findings yet
    CrossFindingCount.objects.all().delete()
    verified_client(client, reviewer)
    client.get(f"/review/{second.pk}/")
    assert CrossFindingCount.objects.get(application=second).open == _cross_open(second) > 0
    assert not CrossFindingCount.objects.filter(application=first).exists()
    client.get(f"/review/checks/?round={first.round.code}")
    assert CrossFindingCount.objects.get(application=first).open == _cross_open(first) > 0


def test_filters_and_sorting_in_the_database(client, team):
    reviewer = team["reviewer"]
    template = application_from("d2-common-shareholder-review")
    copy_applications(template, 12, assignee=reviewer)
    rows = selectors.review_rows(reviewer)
    by_open = selectors.review_page(reviewer, {}, "-open").rows
    assert [r.review_open for r in by_open] == sorted((r.review_open for r in rows), reverse=True)[
        : len(by_open)
    ]
    by_amount = selectors.review_page(reviewer, {}, "amount").rows
    amounts = [r.approved_max for r in by_amount if r.approved_max is not None]
    assert amounts == sorted(amounts)
    with_open = selectors.review_rows(reviewer, {"open": "yes"})
    assert with_open and all(r.review_open > 0 for r in with_open)
    assert all(r.review_open == 0 for r in selectors.review_rows(reviewer, {"open": "no"}))
    top = max(r.approved_max for r in rows if r.approved_max is not None)
    assert all(
        r.approved_max is not None and r.approved_max >= top
        for r in selectors.review_rows(reviewer, {"amount_min": top})
    )
    mine = selectors.review_rows(reviewer, {"assignee": reviewer.username})
    assert mine and all(r.assignee == reviewer.username for r in mine)
    in_review = selectors.review_rows(reviewer, {"state": "in_review", "outcome": rows[-1].outcome})
    assert all(r.state == "in_review" and r.outcome == rows[-1].outcome for r in in_review)
    # a screener sees direction 3 only, in the query
    assert all(r.direction == 3 for r in selectors.review_rows(team["screener"]))

    verified_client(client, reviewer)
    page = client.get("/review/?sort=-open&open=yes&direction=2").content.decode()
    assert 'href="?sort=open&amp;open=yes&amp;direction=2"' in page  # the header keeps filters
    assert 'name="sort" value="-open"' in page  # the filter form keeps the order
    for bad, name in (("amount_min=abc", "amount_min"), ("direction=x", "direction")):
        response = client.get(f"/review/?{bad}")
        assert response.status_code == 400 and name in response.content.decode()
    assert client.get("/review/?amount_max=１，０００").status_code == 200  # as people type it
    assert client.get("/review/?page=999&sort=nonsense").status_code == 200


def test_my_queue_pages_and_the_counts_it_shows(client, team):
    reviewer = team["reviewer"]
    template = application_from("d2-common-shareholder-review")
    made = copy_applications(template, 200, assignee=reviewer)
    work = selectors.my_work(reviewer)
    assert len(work.assigned) == 50 and work.assigned.page.paginator.count > 50
    assert all(r.assignee == reviewer.username for r in work.assigned)
    assert all(not r.assignee for r in work.unassigned)
    verified_client(client, reviewer)
    page = client.get("/review/mine/?assigned_page=2").content.decode()
    assert 'data-pager="assigned_page"' in page and "第 2 /" in page
    ids = {r.id for r in selectors.my_work(reviewer, assigned_page=2).assigned}
    assert ids and not ids & {r.id for r in work.assigned}
    assert {m.pk for m in made} >= ids
    assert Decimal(0) <= min(r.review_open for r in work.assigned)


def test_the_queue_is_counted_as_all_less_the_drafts(team, django_user_model):
    """Branch mine: without a filter on the state or on a row's figures the queue's count is
    every visible application less the visible drafts, in one statement that never asks "not a
    draft" (which has PostgreSQL read each row's state); the number is the list's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voucher.review.selectors.queue import counted_queryset, list_count

    template = application_from("d2-common-shareholder-review")
    copy_applications(template, 8)
    drafts = Application.objects.filter(state="draft")
    for index, application in enumerate(Application.objects.exclude(state="draft")[:3]):
        Application.objects.filter(pk=application.pk).update(state="draft", direction=2 + index)
    assert drafts.exists() and drafts.count() < Application.objects.count()
    auditor = make_staff(django_user_model, "auditor", "auditor")
    nobody = make_staff(django_user_model, "nobody", "no_such_role")
    uscc = template.enterprise.uscc
    for user in (team["reviewer"], team["screener"], auditor, nobody):
        for filters in ({}, {"direction": 2}, {"direction": 3}, {"q": "（1"}, {"q": uscc[:6]}):
            listed = len(selectors.review_rows(user, filters))  # (the user's roles read)
            with CaptureQueriesContext(connection) as captured:
                counted = list_count(user, filters)
            assert counted == counted_queryset(user, filters).count() == listed
            assert len(captured) <= 1
            assert all("NOT" not in q["sql"] and "<>" not in q["sql"] for q in captured)
    # a filter on the state, or on a row's figures: counted on the list's own query
    for filters in ({"state": "in_review"}, {"state": "draft"}, {"open": "yes"}):
        assert list_count(team["reviewer"], filters) == len(
            selectors.review_rows(team["reviewer"], filters)
        )
