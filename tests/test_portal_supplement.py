"""补正 through the wizard: the bureau returns an application; the applicant corrects it in the
wizard, sees the list on every page, answers item by item and resubmits a new frozen version.
Every other state after submission stays frozen."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from .portal_helpers import USCC_A, USCC_B, fill_d2, member, open_round, post_step
from .review_support import make_staff, put_in_state

pytestmark = pytest.mark.django_db

ITEMS = ["合同C1的总金额与盖章合同不一致，请更正", "补充说明与供应商的关系"]
WIZARD_GETS = ["applicant", "project", "contracts", "report", "declarations", "commitment",
               "materials", "submit", "supplement"]  # fmt: skip


@pytest.fixture
def world(settings, tmp_path, client, django_user_model):
    from voucher.applications import roles as r
    from voucher.applications.models import Application
    from voucher.review import actions as review_actions

    settings.DATA_DIR = tmp_path
    open_round()
    owner = member("owner@a.example.cn", USCC_A, "甲公司")
    outsider = member("other@b.example.cn", USCC_B, "乙公司")
    client.force_login(owner)
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    fill_d2(client, app)
    app.refresh_from_db()
    response = client.post(
        reverse("portal:submit", args=[app.pk]), {"version": app.version, "confirm": "on"}
    )
    assert response.status_code == 302
    reviewer = make_staff(django_user_model, "reviewer", r.REVIEWER)
    app.refresh_from_db()
    for name in ("accept", "pass_formal_check"):
        review_actions.application_transition(
            application=app, transition=name, acting_user=reviewer
        )
    review_actions.supplement_request(
        application=app,
        items=ITEMS,
        due_on=timezone.localdate() + timedelta(days=7),
        acting_user=reviewer,
    )
    app.refresh_from_db()
    assert app.state == "supplement_requested"
    return {"app": app, "owner": owner, "outsider": outsider, "reviewer": reviewer}


def _contract(app):
    from voucher.applications.models import Contract

    return Contract.objects.get(application=app, contract_id="C1")


def _contract_post(client, app, total: str):
    from .portal_helpers import contract_values

    app.refresh_from_db()
    return client.post(
        reverse("portal:contract", args=[app.pk, _contract(app).pk]),
        {"form": "contract", "version": app.version, **contract_values("C1", total)},
    )


def _answers(app, texts=("已更正为盖章合同金额", "与供应商无关联关系")):
    from voucher.applications.models import SupplementRequest

    request = SupplementRequest.objects.get(application=app, answered_at__isnull=True)
    return {f"answer_{i.pk}": t for i, t in zip(request.items.all(), texts, strict=True)}


def test_the_round_trip_answer_edit_a_contract_total_resubmit_and_the_diff(
    client, world, django_capture_on_commit_callbacks
):
    from voucher.applications import selectors as app_selectors
    from voucher.applications.models import Snapshot
    from voucher.portal.models import Submission
    from voucher.review import selectors as review_selectors

    app = world["app"]
    # the wizard opens on the supplement step, and every step shows the bureau's list
    assert client.get(reverse("portal:open", args=[app.pk]))["Location"] == reverse(
        "portal:supplement", args=[app.pk]
    )
    for step in WIZARD_GETS:
        response = client.get(reverse(f"portal:{step}", args=[app.pk]), follow=True)
        assert response.status_code == 200, step
        page = response.content.decode()
        assert 'id="supplement-banner"' in page, step
        assert all(item in page for item in ITEMS), step
    # correct a contract total (2,400 万 -> 2,300 万) in the wizard itself
    assert _contract_post(client, app, "23,000,000.00").status_code == 302
    assert _contract(app).total_amount == Decimal("23000000.00")
    # an answer missing: the error is next to that field, nothing resubmitted
    app.refresh_from_db()
    answers = _answers(app)
    first, second = answers
    response = client.post(
        reverse("portal:supplement", args=[app.pk]),
        {"version": app.version, first: answers[first], second: "", "confirm": "on"},
    )
    assert response.status_code == 400
    assert "请答复这一项补正要求" in response.content.decode()
    app.refresh_from_db()
    assert app.state == "supplement_requested"
    # a stale version is refused with the optimistic-locking message
    response = client.post(
        reverse("portal:supplement", args=[app.pk]),
        {"version": app.version - 1, **answers, "confirm": "on"},
    )
    assert response.status_code == 400
    assert "尚未保存" in response.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:supplement", args=[app.pk]),
            {"version": app.version, **answers, "confirm": "on"},
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert app.state == "resubmitted"
    # a new frozen version, evaluated by the same engine, a second receipt
    submissions = list(Submission.objects.filter(application=app).order_by("submitted_at", "id"))
    assert len(submissions) == 2
    assert submissions[1].receipt_number.endswith("-B1")
    assert submissions[0].document_sha256 != submissions[1].document_sha256
    assert '"23000000.00"' in submissions[1].document_json
    assert [s.transition for s in Snapshot.objects.filter(application=app)][-1] == "resubmit"
    # the reviewer's field-level diff shows the changed total
    diff = review_selectors.latest_diff(app)
    assert diff is not None
    changed = {line.path: (line.before, line.after) for line in diff.lines}
    assert changed["contracts[0].total_amount"] == ("24000000.00", "23000000.00"), changed
    # the answers are on record, the status page shows them, e-mails went out
    (shown,) = [s for s in app_selectors.supplement_requests_for(app)]
    assert [answer for *_rest, answer in shown.items] == [
        "已更正为盖章合同金额",
        "与供应商无关联关系",
    ]
    status = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert submissions[1].receipt_number in status and "与供应商无关联关系" in status
    # the timeline names the bureau's steps, not its people nor its internal work
    assert "受理并进行形式审查" in status and "审核人员要求补正" in status
    assert "补正后重新提交" in status and "管理部门" in status
    assert "t-reviewer" not in status and "application_accept" not in status
    assert any(app.reference in m.subject for m in mail.outbox)
    # and now the wizard is frozen again
    assert _contract_post(client, app, "1,000.00").status_code == 302
    assert _contract(app).total_amount == Decimal("23000000.00")


def test_after_the_due_date_nothing_can_be_changed_nor_resubmitted(client, world):
    from voucher.applications.models import SupplementRequest
    from voucher.portal import actions

    app = world["app"]
    SupplementRequest.objects.filter(application=app).update(
        due_on=timezone.localdate() - timedelta(days=1)
    )
    response = client.get(reverse("portal:contracts", args=[app.pk]))
    assert response["Location"] == reverse("portal:status", args=[app.pk])
    assert _contract_post(client, app, "1,000.00").status_code == 302
    assert _contract(app).total_amount == Decimal("24000000.00")
    app.refresh_from_db()
    with pytest.raises(actions.PortalError, match="截止日期"):
        actions.contract_save(
            application=app,
            expected_version=app.version,
            contract_pk=_contract(app).pk,
            values={"contract_id": "C1", "total_amount": Decimal("1000")},
            acting_user=world["owner"],
        )
    status = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert "已过" in status
    assert reverse("portal:supplement", args=[app.pk]) not in status


def test_submit_cannot_be_used_to_skip_the_answers(client, world):
    from voucher.portal import actions

    app = world["app"]
    assert client.get(reverse("portal:submit", args=[app.pk]))["Location"] == reverse(
        "portal:supplement", args=[app.pk]
    )
    with pytest.raises(actions.PortalError):
        actions.application_submit(
            application=app, expected_version=app.version, acting_user=world["owner"]
        )


@pytest.mark.parametrize(
    "state",
    ["submitted", "formal_check", "in_review", "resubmitted", "approved", "rejected",
     "publicized", "paid", "clawback_requested", "refunded", "overdue", "withdrawn"],
)  # fmt: skip
def test_every_other_state_after_submission_is_frozen(client, world, state):
    from voucher.portal import actions

    app = put_in_state(world["app"], state)
    for step in WIZARD_GETS:
        response = client.get(reverse(f"portal:{step}", args=[app.pk]))
        assert response.status_code == 302, (state, step)
        assert response["Location"] == reverse("portal:status", args=[app.pk]), (state, step)
    assert client.get(reverse("portal:open", args=[app.pk]))["Location"] == reverse(
        "portal:status", args=[app.pk]
    )
    before = app.version
    assert _contract_post(client, app, "1,000.00").status_code == 302
    assert post_step(client, app, "project", {"project_name": "改名"}).status_code == 302
    response = client.post(
        reverse("portal:supplement", args=[app.pk]),
        {"version": app.version, **_answers_or_empty(app), "confirm": "on"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == state and app.version == before
    assert _contract(app).total_amount == Decimal("24000000.00")
    with pytest.raises(actions.PortalError):
        actions.contract_save(
            application=app,
            expected_version=app.version,
            contract_pk=_contract(app).pk,
            values={"contract_id": "C1", "total_amount": Decimal("1000")},
            acting_user=world["owner"],
        )
    status = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert reverse("portal:supplement", args=[app.pk]) not in status


def _answers_or_empty(app):
    from voucher.applications.models import SupplementItem

    return {
        f"answer_{i.pk}": "答复" for i in SupplementItem.objects.filter(request__application=app)
    }


def test_the_draft_and_the_supplement_state_are_the_only_editable_ones():
    from voucher.applications.states import STATE_CHOICES, WIZARD_STATES

    assert {"draft", "supplement_requested"} == WIZARD_STATES
    assert len(STATE_CHOICES) == 14  # the parametrised test above names the other twelve


def test_supplement_requested_without_an_open_request_is_frozen(client, world):
    from voucher.applications.models import SupplementRequest

    app = world["app"]
    SupplementRequest.objects.filter(application=app).update(answered_at=timezone.now())
    response = client.get(reverse("portal:contracts", args=[app.pk]))
    assert response["Location"] == reverse("portal:status", args=[app.pk])


def test_an_outsider_reaches_nothing_of_the_supplement(client, world):
    app = world["app"]
    client.force_login(world["outsider"])
    for step in WIZARD_GETS:
        assert client.get(reverse(f"portal:{step}", args=[app.pk])).status_code == 404, step
    response = client.post(
        reverse("portal:supplement", args=[app.pk]),
        {"version": app.version, **_answers(app), "confirm": "on"},
    )
    assert response.status_code == 404
    app.refresh_from_db()
    assert app.state == "supplement_requested"
    client.logout()
    response = client.get(reverse("portal:supplement", args=[app.pk]))
    assert response["Location"].startswith(reverse("accounts:login"))


def test_in_english_the_supplement_list_and_step_are_translated(client, world):
    app = world["app"]
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("portal:supplement", args=[app.pk])).content.decode()
    assert "The reviewer asks for a supplement" in page
    assert "Answer to item 1" in page and "Resubmit" in page
    assert all(item in page for item in ITEMS)  # the bureau's own words stay as written


def test_the_old_answer_link_leads_to_the_wizard_and_answers_nothing_by_itself(client, world):
    """/review/answer/<id>/ (in e-mails sent before the wizard took answers) skips no check."""
    app = world["app"]
    response = client.post(f"/review/answer/{app.pk}/", _answers(app))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:supplement", args=[app.pk])
    app.refresh_from_db()
    assert app.state == "supplement_requested"


def test_while_the_applicant_corrects_the_bureau_sees_the_version_last_submitted(client, world):
    """Evaluations of a half-corrected version are the applicant's: every page, figure and
    document of the bureau keeps to the evaluation of the version it was given, until the
    corrected version is resubmitted and evaluated as submitted."""
    from django.test import Client

    from voucher.applications.actions import application_evaluate
    from voucher.applications.selectors import application_detail, latest_evaluation
    from voucher.applications.templatetags.voucher_format import yuan_text as yuan
    from voucher.review import selectors as review_selectors
    from voucher.staffapi.selectors import application_out

    from .review_support import verified_client

    app = world["app"]
    submitted = latest_evaluation(app)
    assert submitted is not None and not submitted.correction_in_progress
    # the applicant lowers the contract total (the subsidy with it) and runs the self-check
    assert _contract_post(client, app, "1,000.00").status_code == 302
    assert client.get(reverse("portal:selfcheck", args=[app.pk])).status_code == 200
    app.refresh_from_db()
    draft = latest_evaluation(app, with_correction_in_progress=True)
    assert draft is not None and draft.pk != submitted.pk and draft.correction_in_progress
    assert draft.approved_max < submitted.approved_max
    # the bureau evaluating the round again meanwhile evaluates that same half-corrected version
    again = application_evaluate(application=app, acting_user=world["reviewer"])
    assert again.correction_in_progress
    # the bureau: the functions, the queue, the detail, the screen, the staff API, the dashboard
    assert latest_evaluation(app) == submitted
    reviewer = world["reviewer"]
    (row,) = [x for x in review_selectors.review_rows(reviewer) if x.id == app.pk]
    assert row.approved_max == submitted.approved_max
    assert application_detail(app.pk).evaluation == submitted
    screen = review_selectors.review_screen(app, reviewer)
    assert screen.approved_max == submitted.approved_max and screen.being_corrected
    assert application_out(app)["evaluation"]["id"] == submitted.pk
    (figures,) = [f for f in review_selectors.dashboard(app.round) if f.direction == 2]
    assert figures.proposed == submitted.approved_max
    page = verified_client(Client(), reviewer).get(f"/review/{app.pk}/").content.decode()
    assert 'id="being-corrected"' in page and "申报单位正在补正" in page
    # the applicant's own self-check still shows the version being corrected
    check = client.get(reverse("portal:selfcheck", args=[app.pk])).content.decode()
    assert f'id="selfcheck-amount">{yuan(draft.approved_max)}<' in check
    # resubmitted: the corrected version's evaluation is the bureau's, and the latest
    app.refresh_from_db()
    response = client.post(
        reverse("portal:supplement", args=[app.pk]),
        {"version": app.version, **_answers(app), "confirm": "on"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    resubmitted = latest_evaluation(app)
    assert resubmitted is not None and not resubmitted.correction_in_progress
    assert resubmitted.pk not in (submitted.pk, draft.pk)
    assert resubmitted.approved_max == draft.approved_max
    assert latest_evaluation(app, with_correction_in_progress=True) == resubmitted
    assert not review_selectors.review_screen(app, reviewer).being_corrected


def test_an_evaluation_takes_the_state_as_the_content_is_read_not_as_loaded(world):
    """A round evaluated from applications loaded before the bureau returned one for 补正
    reads what the applicant may be editing: marked as a correction in progress."""
    from voucher.applications.actions import applications_evaluate_batch
    from voucher.applications.models import Application

    app = world["app"]
    loaded = put_in_state(app, "in_review")  # as loaded before the request…
    Application.objects.filter(pk=app.pk).update(state="supplement_requested")  # …that came
    assert loaded.state == "in_review"
    (stored,) = applications_evaluate_batch(applications=[loaded])
    assert stored.correction_in_progress


def test_the_parameters_page_leaves_out_what_resubmission_evaluates(world):
    """Evaluating again cannot bring an application being corrected up to the current
    parameters (its evaluations are the applicant's until resubmission, which uses them)."""
    from voucher.applications.parameters import parameters_page
    from voucher.applications.selectors import latest_evaluation

    app = world["app"]
    type(latest_evaluation(app)).objects.filter(application=app).update(parameters_sha256="old")
    assert parameters_page(app.round).stale == 0
    assert parameters_page(put_in_state(app, "in_review").round).stale == 1


def test_a_supplement_items_text_reaches_the_applicant_escaped(client, world):
    """A reviewer's words are text on the applicant's page, never markup: Django's form
    templates print a field's help text as it is, so the form escapes the item's text itself."""
    from voucher.applications.models import SupplementItem

    app = world["app"]
    item = SupplementItem.objects.filter(request__application=app).order_by("pk").first()
    item.text = '请补充<script>alert("x")</script>说明 & 附件'
    item.save(update_fields=["text"])
    page = client.get(reverse("portal:supplement", args=[app.pk])).content.decode()
    assert "<script>alert" not in page
    assert "请补充&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;说明 &amp; 附件" in page
