"""The applicant's journey through the pages, without a browser."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from .portal_helpers import (
    USCC_A,
    fill_d2,
    member,
    open_round,
    post_step,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    open_round()
    return member("a@example.cn", USCC_A, "北京示例智能科技有限公司")


@pytest.fixture
def client_a(client, applicant):
    client.force_login(applicant)
    return client


def new_application(client, direction: int = 2):
    from voucher.applications.models import Application

    response = client.post(reverse("portal:new"), {"direction": direction})
    assert response.status_code == 302, response.content.decode()[:3000]
    return Application.objects.latest("id")


def test_every_step_renders_and_the_self_check_lists_what_is_missing(client_a):
    app = new_application(client_a)
    for step in ("direction", "applicant", "project", "contracts", "report", "declarations",
                 "commitment", "materials", "submit", "status"):  # fmt: skip
        response = client_a.get(reverse(f"portal:{step}", args=[app.pk]))
        assert response.status_code == 200, step
    check = client_a.get(reverse("portal:selfcheck", args=[app.pk])).content.decode()
    assert "尚不能测算" in check
    assert "注册地址" in check


def test_a_filled_application_is_evaluated_submitted_frozen_and_receipted(
    client_a, mailoutbox, django_capture_on_commit_callbacks
):
    from voucher.portal.models import Submission

    from .review_support import supplier_confirms_all

    app = new_application(client_a)
    fill_d2(client_a, app)
    supplier_confirms_all(app)  # the supplier's word (issue 22): not what this test is about
    check = client_a.get(reverse("portal:selfcheck", args=[app.pk])).content.decode()
    assert "符合条件" in check, check
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(client_a, app, "submit", {"confirm": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert app.state == "submitted"
    submission = Submission.objects.get(application=app)
    assert json.loads(submission.document_json)["submitted_on"] == str(app.submitted_on)
    assert submission.evaluation.outcome == "eligible"
    assert mailoutbox and submission.receipt_number in mailoutbox[-1].subject
    status = client_a.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert submission.receipt_number in status
    assert "提交申报" in status
    # frozen: every change is refused and nothing changes
    before = submission.document_sha256
    response = post_step(client_a, app, "applicant", {"applicant_name": "改名"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/portal/applications/{app.pk}/status/")
    app.refresh_from_db()
    assert app.applicant_name != "改名"
    assert Submission.objects.get(application=app).document_sha256 == before
    # the bureau's 办理记录 names every step the applicant took, in words
    from voucher.core.models import AuditEntry
    from voucher.review.history import history_label, history_query

    entries = AuditEntry.objects.filter(history_query(app))
    assert entries.filter(action="application_submit").exists()
    assert not [e.action for e in entries if history_label(e) == e.action]
