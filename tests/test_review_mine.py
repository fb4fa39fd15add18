"""My queue: what is assigned to me, what waits for my confirmation, what nobody has taken."""

from __future__ import annotations

import pytest

from voucher.applications.models import ReviewCase
from voucher.core.models import AuditEntry
from voucher.review import actions, selectors

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    make_staff,
    put_in_state,
    tick_materials,
    verified_client,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "reviewer2": make_staff(django_user_model, "reviewer2", "bureau_reviewer"),
        "approver": make_staff(django_user_model, "approver", "bureau_approver"),
        "auditor": make_staff(django_user_model, "auditor", "auditor"),
        "screener": make_staff(django_user_model, "screener", "centre_screener"),
    }


def test_my_work_splits_assigned_pending_and_unassigned(team):
    mine = put_in_state(application_from("d4-small"), "in_review")
    other = put_in_state(application_from("d1-cap-binds"), "submitted")
    actions.application_assign(
        application=mine, assignee=team["reviewer"], acting_user=team["reviewer"]
    )
    work = selectors.my_work(team["reviewer"])
    assert [r.id for r in work.assigned] == [mine.pk]
    assert other.pk in [r.id for r in work.unassigned]
    assert mine.pk not in [r.id for r in work.unassigned]
    assert work.may_take
    assert selectors.my_work(team["reviewer2"]).assigned == []


def test_a_proposal_waits_for_an_approver_not_for_its_proposer(team):
    application = put_in_state(application_from("d4-small"), "in_review")
    tick_materials(application, team["reviewer"])
    decision = actions.decision_propose(
        application=application, kind="approval", acting_user=team["reviewer"]
    )
    assert [d.id for d in selectors.my_work(team["approver"]).to_confirm] == [decision.pk]
    assert selectors.my_work(team["reviewer"]).to_confirm == []
    assert selectors.my_work(team["reviewer2"]).to_confirm == []  # reviewers do not confirm


def test_taking_an_application_from_the_page(client, team):
    application = put_in_state(application_from("d4-small"), "submitted")
    verified_client(client, team["reviewer"])
    page = client.get("/review/mine/").content.decode()
    assert application.reference in page and "领取" in page
    response = client.post(
        f"/review/{application.pk}/assign/", {"assignee": "me", "next": "/review/mine/"}
    )
    assert response.status_code == 302 and response["Location"] == "/review/mine/"
    assert ReviewCase.objects.get(application=application).assignee == team["reviewer"]
    assert AuditEntry.objects.filter(action="application_assign").count() == 1
    page = client.get("/review/mine/").content.decode()
    assert 'id="assigned"' in page and application.reference in page.split('id="to-confirm"')[0]


def test_handing_to_a_colleague_from_the_screen(client, team):
    application = put_in_state(application_from("d4-small"), "in_review")
    verified_client(client, team["approver"])
    screen = client.get(f"/review/{application.pk}/").content.decode()
    assert 'id="assign-to"' in screen and "t-reviewer2" in screen
    client.post(f"/review/{application.pk}/assign/", {"assignee": "t-reviewer2"})
    assert ReviewCase.objects.get(application=application).assignee == team["reviewer2"]


@pytest.mark.parametrize(
    ("actor", "assignee", "reason"),
    [
        ("auditor", "reviewer", "只有审核、复核人员或管理员可以分配申报"),
        ("reviewer", "approver", "只能分配给审核人员"),
        ("reviewer", "screener", "只处理方向三"),  # d4-small is direction 4
    ],
)
def test_assignment_refusals_say_why_and_change_nothing(team, actor, assignee, reason):
    application = put_in_state(application_from("d4-small"), "in_review")
    with pytest.raises(actions.ReviewError, match=reason):
        actions.application_assign(
            application=application, assignee=team[assignee], acting_user=team[actor]
        )
    assert not ReviewCase.objects.filter(application=application).exists()


def test_the_auditor_sees_no_assign_form_and_an_unknown_user_is_named(client, team):
    application = put_in_state(application_from("d4-small"), "in_review")
    verified_client(client, team["auditor"])
    assert 'id="assign-to"' not in client.get(f"/review/{application.pk}/").content.decode()
    verified_client(client, team["reviewer"])
    response = client.post(f"/review/{application.pk}/assign/", {"assignee": "nobody"}, follow=True)
    assert "nobody" in response.content.decode()
    assert not ReviewCase.objects.filter(application=application).exists()


def test_a_taken_application_cannot_be_taken_by_a_second_reviewer(team):
    application = put_in_state(application_from("d4-small"), "submitted")
    actions.application_assign(
        application=application, assignee=team["reviewer"], acting_user=team["reviewer"]
    )
    with pytest.raises(actions.ReviewError, match="已由 t-reviewer 承办"):
        actions.application_assign(
            application=application, assignee=team["reviewer2"], acting_user=team["reviewer2"]
        )
    assert ReviewCase.objects.get(application=application).assignee == team["reviewer"]
    # the reviewer who has it may hand it on; an approver may move it
    actions.application_assign(
        application=application, assignee=team["reviewer2"], acting_user=team["reviewer"]
    )
    actions.application_assign(
        application=application, assignee=team["reviewer"], acting_user=team["approver"]
    )
    assert ReviewCase.objects.get(application=application).assignee == team["reviewer"]


def test_accepting_keeps_whoever_took_it(team):
    application = put_in_state(application_from("d4-small"), "submitted")
    actions.application_assign(
        application=application, assignee=team["reviewer"], acting_user=team["reviewer"]
    )
    actions.application_transition(
        application=application, transition="accept", acting_user=team["reviewer2"]
    )
    assert ReviewCase.objects.get(application=application).assignee == team["reviewer"]


def test_a_decided_application_is_not_assigned(team):
    application = put_in_state(application_from("d4-small"), "approved")
    with pytest.raises(actions.ReviewError, match="无需分配承办人"):
        actions.application_assign(
            application=application, assignee=team["reviewer"], acting_user=team["reviewer"]
        )


def test_the_screen_offers_screeners_only_for_direction_3(client, team):
    d4 = put_in_state(application_from("d4-small"), "in_review")
    d3 = put_in_state(application_from("d3-modelscope"), "in_review")
    verified_client(client, team["approver"])
    assert "t-screener" not in client.get(f"/review/{d4.pk}/").content.decode()
    assert "t-screener" in client.get(f"/review/{d3.pk}/").content.decode()


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_the_next_address_stays_on_this_site(client, team, target):
    application = put_in_state(application_from("d4-small"), "submitted")
    verified_client(client, team["reviewer"])
    response = client.post(f"/review/{application.pk}/assign/", {"assignee": "me", "next": target})
    assert response["Location"] == "/review/"


def test_a_bad_row_id_is_a_404_not_a_server_error(client, team, django_user_model):
    admin = make_staff(django_user_model, "administrator", "administrator")
    verified_client(client, admin)
    response = client.post("/review/parameters/", {"what": "band_remove", "id": "x1"})
    assert response.status_code == 404


def test_the_assignable_staff_cost_the_same_queries_however_many_there_are(
    db, django_user_model, django_assert_max_num_queries
):
    from voucher.applications import roles as r
    from voucher.applications.models import Application
    from voucher.review.selectors import assignable_staff

    application = Application(direction=2)
    for index in range(6):
        make_staff(django_user_model, f"reviewer{index}", r.REVIEWER)
    with django_assert_max_num_queries(1):  # the users with their staff groups
        names = assignable_staff(application)
    assert names == [f"t-reviewer{index}" for index in range(6)]


def test_the_waiting_proposals_cost_my_queue_the_same_queries_however_many(team):
    """Confirming is the approvers': whether the approver is also the applicant is never
    asked (a membership query per proposal, before), and the round comes with the
    application; whether a direction-3 approval's platform data changed is asked of the
    page's proposals at once (a query per proposal, before)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .review_support import propose

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            work = selectors.my_work(team["approver"])
        assert len(work.to_confirm) == waiting
        return len(captured)

    from .season_support import copy_applications

    first = put_in_state(application_from("d3-modelscope"), "in_review")
    waiting = 1
    propose(first, team["reviewer"])
    queries()  # what is read once per process (cached since) is not a proposal's
    one = queries()
    # direction 3 copies, in review (the copies' states cycle), proposed, and others
    more = [a for a in copy_applications(first, 6) if a.state == "in_review"]
    for folder in ("d4-small", "d1-cap-binds", "d2-threshold-exact"):
        more.append(put_in_state(application_from(folder), "in_review"))
    for application in more:
        propose(application, team["reviewer"])
    waiting += len(more)
    assert queries() == one  # two more direction-3 approvals and three others


def test_my_queue_reads_only_what_its_rows_show(team):
    """Branch mine: nobody's list reads no assignee (none to show: two joins fewer, unless a
    filter or the order names one), the lists are counted on the states of the bureau's work
    alone (not "not a draft" again beside them), the proposals are counted without the joins
    of their rows, and no row's decisions are read (the page shows no decided amount)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .review_support import propose

    taken = put_in_state(application_from("d4-small"), "in_review")
    nobodys = put_in_state(application_from("d1-cap-binds"), "submitted")
    actions.application_assign(
        application=taken, assignee=team["reviewer"], acting_user=team["reviewer"]
    )
    tick_materials(taken, team["reviewer"])
    propose(taken, team["reviewer"])
    with CaptureQueriesContext(connection) as captured:
        work = selectors.my_work(team["approver"])
    assert [d.application_id for d in work.to_confirm] == [taken.pk]
    assert [r.id for r in work.unassigned] == [nobodys.pk]
    assert [r.reference for r in work.unassigned] == [nobodys.reference]
    read = [q["sql"] for q in captured.captured_queries]
    (unassigned,) = [sql for sql in read if "NOT EXISTS" in sql]
    assert "auth_user" not in unassigned
    (counted,) = [sql for sql in read if 'AS "unassigned"' in sql]
    assert "draft" not in counted
    (proposals,) = [sql for sql in read if "COUNT(*)" in sql and "review_decision" in sql]
    assert "auth_user" not in proposals and "policyroundrecord" not in proposals
    assert not [sql for sql in read if "'proposed', 'confirmed'" in sql]
    # an assignee asked for: nobody's list is empty, as it was with the join
    reviewer = team["reviewer"]
    theirs = {"assignee": reviewer.username}
    assert selectors.my_work(reviewer, theirs).unassigned == []
    assert [r.id for r in selectors.my_work(reviewer, theirs).assigned] == [taken.pk]
    assert [r.id for r in selectors.my_work(reviewer, {}, "-assignee").unassigned] == [nobodys.pk]
