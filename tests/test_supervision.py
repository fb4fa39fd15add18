"""Supervision after payment (issue 20 item 6): the yearly follow-up report, its reminder and the
overdue list, spot checks, all audited; a spot-check problem leads to the clawback."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from voucher.applications import supervision
from voucher.applications.models import FollowUpReport, PaymentRecord, SpotCheck
from voucher.core.models import AuditEntry
from voucher.core.refusals import Refused
from voucher.policy.dates import add_months

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    make_applicant,
    make_staff,
    put_in_state,
    verified_client,
)


@pytest.fixture
def paid(demo_data, django_user_model, settings):
    """d4-small paid 11 months ago: its first report falls due in about a month."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    application = put_in_state(application_from("d4-small"), "paid")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    paid_on = add_months(timezone.localdate(), -11)
    PaymentRecord.objects.create(
        application=application,
        paid_on=paid_on,
        amount="1000.00",
        reference="P",
        recorded_by=approver,
    )
    member = make_applicant(django_user_model, application)
    return application, member, approver, paid_on


def test_two_reports_a_year_apart_from_the_first_payment(paid):
    application, _, _, paid_on = paid
    dues = supervision.reports_due(application)
    assert [(d.year, d.due_on) for d in dues] == [
        (1, add_months(paid_on, 12)),
        (2, add_months(paid_on, 24)),
    ]


def test_nothing_is_owed_before_payment(demo_data):
    assert supervision.reports_due(application_from("d2-common-shareholder-review")) == []


def test_the_reminder_goes_once_before_the_due_date(
    paid, demo_clock, django_capture_on_commit_callbacks
):
    application = paid[0]
    today = timezone.localdate()
    assert supervision.follow_up_remind(today, days=10) == 0  # due in ~30 days: not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert supervision.follow_up_remind(today, days=40) == 1
    assert supervision.follow_up_remind(today, days=40) == 0  # once per report
    assert any("跟踪报告" in m.subject for m in mail.outbox)
    assert AuditEntry.objects.filter(action="follow_up_remind").count() == 1
    call_command("supervision", "remind")  # the daily command runs
    assert FollowUpReport.objects.get(application=application, year=1).reminded_at is not None


def test_the_member_files_the_report_and_it_is_audited(paid, client):
    application, member, _, _ = paid
    client.force_login(member)
    page = client.get(reverse("portal:follow_up", args=[application.pk])).content.decode()
    assert "报送第 1 年跟踪报告" in page
    refused = client.post(
        reverse("portal:follow_up", args=[application.pk]),
        {"year": "1", "compute_used": "", "outcomes": "发布了模型"},
    )
    assert refused.status_code == 422 and "请填写此项" in refused.content.decode()
    assert "发布了模型" in refused.content.decode()  # what was typed is kept
    done = client.post(
        reverse("portal:follow_up", args=[application.pk]),
        {
            "year": "1",
            "compute_used": "用了 3000 卡时训练",
            "outcomes": "发布了模型",
            "problems": "",
        },
    )
    assert done.status_code == 302
    report = FollowUpReport.objects.get(application=application, year=1)
    assert report.submitted_by == member and report.compute_used == "用了 3000 卡时训练"
    assert AuditEntry.objects.filter(action="follow_up_submit").count() == 1
    with pytest.raises(Refused, match="已报送"):
        supervision.follow_up_submit(
            application=application,
            year=1,
            compute_used="x",
            outcomes="y",
            problems="",
            acting_user=member,
        )


def test_an_overdue_report_is_listed_for_the_bureau(paid, demo_clock, django_user_model):
    application, _, approver, paid_on = paid
    demo_clock.set_offset((add_months(paid_on, 12) - timezone.localdate()).days + 1)
    staff = verified_client(Client(), approver)
    page = staff.get(reverse("review:supervision")).content.decode()
    assert application.reference in page and "逾期未报送" in page
    assert "逾期未报送：1 份" in page


def test_a_spot_check_is_recorded_and_a_problem_leads_to_the_clawback(paid):
    application, member, approver, _ = paid
    with pytest.raises(Refused):
        supervision.spot_check_record(
            application=application,
            checked_on=date.today() - timedelta(days=1),
            finding="x",
            problem=False,
            acting_user=member,
        )
    check = supervision.spot_check_record(
        application=application,
        checked_on=timezone.localdate(),
        finding="现场核查：算力实际用于挖矿",
        problem=True,
        acting_user=approver,
    )
    assert SpotCheck.objects.get() == check
    assert AuditEntry.objects.filter(action="spot_check_record").count() == 1
    staff = verified_client(Client(), approver)
    page = staff.get(reverse("review:supervision")).content.decode()
    assert "现场核查：算力实际用于挖矿" in page
    assert reverse("review:screen", args=[application.pk]) + "#clawback" in page


def test_the_reminder_run_costs_the_same_queries_however_many_were_paid(
    paid, django_capture_on_commit_callbacks
):
    """The reports owed are read together: paid applications whose report is not due soon add
    no query to the daily run (it asked two per paid application)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voucher.applications.models import Application

    application, _member, approver, _paid_on = paid
    others = Application.objects.exclude(pk=application.pk).order_by("pk")
    today = timezone.localdate()
    counts = []
    for size in (1, 5):
        for other in others[:size]:
            PaymentRecord.objects.get_or_create(
                application=other,
                defaults={
                    "paid_on": today,  # due in a year
                    "amount": "1000.00",
                    "reference": f"P{other.pk}",
                    "recorded_by": approver,
                },
            )
        with CaptureQueriesContext(connection) as captured:
            assert supervision.follow_up_remind(today, days=10) == 0
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    with django_capture_on_commit_callbacks(execute=True):
        assert supervision.follow_up_remind(today, days=40) == 1  # d4-small's, as before
