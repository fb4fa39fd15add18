"""免申即享 needs the enterprise's consent (issue 20 item 4): the administrator confirms in the portal,
accepting the 14-4 commitments, with a payee account given; no approval without it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from voucher.applications import payees
from voucher.applications.models import ADMIN, Direction3Consent, Membership
from voucher.core.models import AuditEntry
from voucher.core.refusals import Refused
from voucher.portal import consent
from voucher.review import actions
from voucher.review.actions.decisions import _gates_passed

from .conftest import application_from
from .review_support import FAST_HASHERS, make_applicant, put_in_state


@pytest.fixture
def d3(demo_data, django_user_model, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    application = put_in_state(application_from("d3-modelscope"), "in_review")
    admin = make_applicant(django_user_model, application, "boss")
    Membership.objects.filter(user=admin).update(role=ADMIN)
    member = make_applicant(django_user_model, application, "member")
    return application, admin, member


def _payee(application, admin):
    return payees.payee_enter(
        enterprise=application.enterprise,
        account_name=application.enterprise.name,
        bank="中国银行",
        branch="北京分行",
        account_number="6216 6100 0000 1234 567",
        acting_user=admin,
    )


def test_no_approval_without_consent(d3):
    application = d3[0]
    with pytest.raises(actions.ReviewError, match="意愿确认"):
        _gates_passed(application, None)


def test_the_administrator_consents_with_the_commitments_and_an_account(d3):
    application, admin, _ = d3
    with pytest.raises(Refused, match="收款账户") as refused:
        consent.d3_consent_give(application=application, accept_commitments=True, acting_user=admin)
    assert refused.value.field == "payee"
    _payee(application, admin)
    with pytest.raises(Refused, match="承诺书") as refused:
        consent.d3_consent_give(
            application=application, accept_commitments=False, acting_user=admin
        )
    assert refused.value.field == "accept"
    given = consent.d3_consent_give(
        application=application, accept_commitments=True, acting_user=admin
    )
    assert given.commitments_sha256 == consent.commitments_sha256()
    assert AuditEntry.objects.filter(action="d3_consent").count() == 1
    _gates_passed(application, None)  # the consent gate is passed now
    with pytest.raises(Refused, match="无需重复"):
        consent.d3_consent_give(application=application, accept_commitments=True, acting_user=admin)


def test_a_plain_member_cannot_consent(d3):
    application, admin, member = d3
    _payee(application, admin)
    with pytest.raises(Refused, match="企业管理员"):
        consent.d3_consent_give(
            application=application, accept_commitments=True, acting_user=member
        )
    assert not Direction3Consent.objects.exists()


def test_a_plain_member_is_told_about_the_consent_in_english_too(d3):
    """The consent's own refusal is chosen by the check's code, not by a word of its text
    (review of issue 19: it looked for "管理员" in the reason, which English has not)."""
    from django.utils import translation

    application, admin, member = d3
    _payee(application, admin)
    with translation.override("en"), pytest.raises(Refused) as refused:
        consent.d3_consent_give(
            application=application, accept_commitments=True, acting_user=member
        )
    assert str(refused.value.message) == "Only the enterprise's administrator may give the consent"
    assert refused.value.code == "forbidden"


def test_other_directions_need_no_consent(demo_data, django_user_model):
    application = put_in_state(application_from("d4-small"), "in_review")
    admin = make_applicant(django_user_model, application, "boss")
    Membership.objects.filter(user=admin).update(role=ADMIN)
    with pytest.raises(Refused, match="只有方向三"):
        consent.d3_consent_give(application=application, accept_commitments=True, acting_user=admin)


def test_the_portal_asks_and_takes_the_consent(d3, client):
    application, admin, _ = d3
    client.force_login(admin)
    status = client.get(reverse("portal:status", args=[application.pk])).content.decode()
    assert "须由企业管理员确认申请" in status
    assert reverse("portal:consent", args=[application.pk]) in status
    _payee(application, admin)
    page = client.get(reverse("portal:consent", args=[application.pk])).content.decode()
    assert "承诺书（附件14-4）" in page and "确认申请" in page
    refused = client.post(reverse("portal:consent", args=[application.pk]), {})
    assert refused.status_code == 422
    assert "请阅读并勾选" in refused.content.decode()
    done = client.post(reverse("portal:consent", args=[application.pk]), {"accept": "1"})
    assert done.status_code == 302
    assert Direction3Consent.objects.filter(application=application).exists()
