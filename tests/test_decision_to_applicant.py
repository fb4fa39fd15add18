"""The decision, to the applicant (issue 20 item 1): after the approver confirms, the status page
shows the decision, the amount as money, the reduction reason and the notice PDF; the timeline
says what was decided; the e-mail's amount is formatted."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from django.core import mail
from django.urls import reverse

from voucher.applications.models import Notification
from voucher.review import actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    latest,
    make_applicant,
    make_staff,
    put_in_state,
    tick_materials,
)


@pytest.fixture
def decided(demo_data, django_user_model, settings):
    """d4-small approved with a lowered amount and a reason, by a reviewer and an approver."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    application = tick_materials(put_in_state(application_from("d4-small"), "in_review"), reviewer)
    maximum = latest(application).approved_max
    lowered = (maximum / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    decision = actions.decision_propose(
        application=application,
        kind="approval",
        amount=str(lowered),
        lowered_reason="部分发票未能核实",
        acting_user=reviewer,
    )
    actions.decision_confirm(decision=decision, acting_user=approver)
    member = make_applicant(django_user_model, application)
    application.refresh_from_db()
    return application, member, lowered, maximum


def test_the_status_page_shows_the_decision_the_amount_and_the_reason(client, decided):
    application, member, lowered, maximum = decided
    client.force_login(member)
    page = client.get(reverse("portal:status", args=[application.pk])).content.decode()
    assert "予以支持" in page
    assert f"核定补贴金额 {lowered:,.2f} 元" in page
    assert f"按政策最高可核定 {maximum:,.2f} 元；调减理由：部分发票未能核实" in page
    assert reverse("portal:notice", args=[application.pk]) in page
    # the timeline says what was decided, in words and money
    assert f"予以支持，核定补贴金额 {lowered:,.2f} 元" in page


def test_the_applicant_downloads_the_notice(client, decided):
    application, member, _, _ = decided
    client.force_login(member)
    response = client.get(reverse("portal:notice", args=[application.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_no_notice_before_a_decision(client, demo_data, django_user_model):
    application = application_from("d2-common-shareholder-review")
    member = make_applicant(django_user_model, application)
    client.force_login(member)
    assert client.get(reverse("portal:notice", args=[application.pk])).status_code == 404


def test_another_enterprise_cannot_open_the_notice(client, decided, django_user_model):
    from voucher.applications.models import Enterprise, Membership

    application = decided[0]
    stranger = django_user_model.objects.create_user("t-stranger", password="x")
    other = Enterprise.objects.create(uscc="91110108MA01AAAA1X", name="另一家企业")
    Membership.objects.create(user=stranger, enterprise=other)
    client.force_login(stranger)
    assert client.get(reverse("portal:notice", args=[application.pk])).status_code == 404


def test_the_email_formats_the_amount_and_gives_the_reason(decided):
    application, _, lowered, _ = decided
    notes = [n for n in Notification.objects.filter(application=application)]
    bodies = [m.body for m in mail.outbox] + [getattr(n, "body", "") for n in notes]
    text = "\n".join(bodies)
    assert f"核定补贴金额：{lowered:,.2f} 元。" in text
    assert "调减理由：部分发票未能核实" in text
    assert f"{lowered} 元" not in text.replace(f"{lowered:,.2f} 元", "")
