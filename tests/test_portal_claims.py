"""Claiming an enterprise that exists without members (e.g. from a registry import): a request
with the business licence and a declaration, decided by a staff administrator."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from .portal_helpers import PASSWORD, USCC_A, USCC_B, member, pdf_bytes
from .review_support import FAST_HASHERS, make_staff, verified_client

pytestmark = pytest.mark.django_db
IMPORTED = "91110108MA01C3QX7B"  # USCC_A: an enterprise the registry import created


@pytest.fixture
def world(settings, tmp_path, django_user_model):
    from voucher.applications import roles as r
    from voucher.applications.models import Enterprise

    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = FAST_HASHERS
    enterprise = Enterprise.objects.create(uscc=IMPORTED, name="甲公司（导入）")
    claimant = django_user_model.objects.create_user(
        "claimant@a.example.cn", email="claimant@a.example.cn", password=PASSWORD
    )
    return {
        "enterprise": enterprise,
        "claimant": claimant,
        "administrator": make_staff(django_user_model, "administrator", r.ADMINISTRATOR),
        "reviewer": make_staff(django_user_model, "reviewer", r.REVIEWER),
    }


def _claim(client, content: bytes = b"", name: str = "营业执照.pdf", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "uscc": IMPORTED,
        "claimant_name": "张三",
        "claimant_position": "总经理",
        "declaration": "on",
        "licence": SimpleUploadedFile(name, content or pdf_bytes(), "application/pdf"),
        **extra,
    }
    return client.post(reverse("accounts:enterprise_claim"), data)


def _request_claim(client, world, django_capture_on_commit_callbacks):
    from voucher.accounts.models import EnterpriseClaim
    from voucher.applications.models import Enterprise

    client.force_login(world["claimant"])
    response = client.post(reverse("accounts:enterprise_new"), {"uscc": IMPORTED, "name": "甲公司"})
    assert response["Location"] == reverse("accounts:enterprise_claim") + f"?uscc={IMPORTED}"
    assert not world["enterprise"].memberships.exists()  # no longer claimed on the spot
    page = client.get(response["Location"]).content.decode()
    assert "甲公司（导入）" in page and 'for="id_licence"' in page
    with django_capture_on_commit_callbacks(execute=True):
        assert _claim(client).status_code == 302
    claim = EnterpriseClaim.objects.get()
    assert claim.status == "pending" and claim.licence_name == "营业执照.pdf"
    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert recipients == ["administrator@bureau.example.cn", "claimant@a.example.cn"]
    assert "认领申请待审核" in client.get(reverse("accounts:enterprise_new")).content.decode()
    # while the claim is pending no other enterprise can be registered
    response = client.post(
        reverse("accounts:enterprise_new"), {"uscc": USCC_B, "name": "乙公司"}, follow=True
    )
    assert "审核结束前不能登记其他单位" in response.content.decode()
    assert not Enterprise.objects.filter(uscc=USCC_B).exists()
    assert client.get(reverse("portal:home"))["Location"] == reverse("accounts:enterprise_new")
    return claim


def test_approved_the_claimant_becomes_the_administrator(
    client, world, django_capture_on_commit_callbacks
):
    from voucher.applications.models import Membership
    from voucher.core.models import AuditEntry

    claim = _request_claim(client, world, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    client.logout()
    verified_client(client, world["administrator"])
    listing = client.get(reverse("accounts:claims")).content.decode()
    assert "甲公司（导入）" in listing
    page = client.get(reverse("accounts:claim", args=[claim.pk])).content.decode()
    assert reverse("accounts:claim_licence", args=[claim.pk]) in page
    licence = client.get(reverse("accounts:claim_licence", args=[claim.pk]))
    assert licence.status_code == 200 and b"".join(licence.streaming_content).startswith(b"%PDF")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:claim", args=[claim.pk]), {"decision": "approve", "reason": ""}
        )
    assert response.status_code == 302
    membership = Membership.objects.get(user=world["claimant"])
    assert membership.enterprise == world["enterprise"] and membership.is_admin
    assert [m.to for m in mail.outbox] == [["claimant@a.example.cn"]]
    assert "管理员" in mail.outbox[0].subject
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"enterprise_claim_request", "enterprise_claim_approve"} <= actions


def test_refused_with_a_reason_nobody_becomes_a_member(
    client, world, django_capture_on_commit_callbacks
):
    from voucher.applications.models import Membership

    claim = _request_claim(client, world, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    client.logout()
    verified_client(client, world["administrator"])
    # refusing needs a reason: the error is beside the field
    response = client.post(reverse("accounts:claim", args=[claim.pk]), {"decision": "refuse"})
    assert response.status_code == 400
    assert "不予通过时请填写理由" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:claim", args=[claim.pk]),
            {"decision": "refuse", "reason": "营业执照上的名称与登记名称不符"},
        )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "refused"
    assert not Membership.objects.filter(user=world["claimant"]).exists()
    assert "营业执照上的名称与登记名称不符" in mail.outbox[0].body
    client.logout()
    client.force_login(world["claimant"])
    page = client.get(reverse("accounts:enterprise_new")).content.decode()
    assert "认领申请未通过" in page and "营业执照上的名称与登记名称不符" in page
    # a second attempt is possible after a refusal
    assert _claim(client).status_code == 302


def test_a_reviewer_is_not_an_administrator_and_is_told_why(
    client, world, django_capture_on_commit_callbacks
):
    from voucher.accounts.actions import AccountError, enterprise_claim_decide

    claim = _request_claim(client, world, django_capture_on_commit_callbacks)
    client.logout()
    verified_client(client, world["reviewer"])
    for url in (reverse("accounts:claims"), reverse("accounts:claim", args=[claim.pk])):
        response = client.get(url)
        assert response.status_code == 403
        assert "只有系统管理员可以审核企业认领申请" in response.content.decode()
    response = client.post(reverse("accounts:claim", args=[claim.pk]), {"decision": "approve"})
    assert response.status_code == 403
    assert client.get(reverse("accounts:claim_licence", args=[claim.pk])).status_code == 404
    with pytest.raises(AccountError, match="只有系统管理员"):
        enterprise_claim_decide(claim=claim, approve=True, reason="", acting_user=world["reviewer"])
    claim.refresh_from_db()
    assert claim.status == "pending" and not world["enterprise"].memberships.exists()


def test_an_outsider_reaches_none_of_the_claim_pages(
    client, world, django_capture_on_commit_callbacks
):
    claim = _request_claim(client, world, django_capture_on_commit_callbacks)
    outsider = member("other@b.example.cn", USCC_B, "乙公司")
    client.force_login(outsider)
    assert client.get(reverse("accounts:claims")).status_code == 403
    assert (
        client.post(reverse("accounts:claim", args=[claim.pk]), {"decision": "approve"}).status_code
        == 403
    )
    assert client.get(reverse("accounts:claim_licence", args=[claim.pk])).status_code == 404
    # an enterprise with members cannot be claimed, only joined by invitation
    assert client.get(reverse("accounts:enterprise_claim") + f"?uscc={USCC_B}").status_code == 302
    client.logout()
    for url in (reverse("accounts:claims"), reverse("accounts:claim_licence", args=[claim.pk])):
        assert client.get(url).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "pending"


def test_the_licence_goes_through_the_upload_checks(client, world):
    from voucher.accounts.models import EnterpriseClaim

    client.force_login(world["claimant"])
    response = _claim(client, content=b"MZ\x90\x00 not a pdf at all", name="licence.pdf")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_licence_error"' in page or "has-error" in page
    response = _claim(client, name="营业执照.docx", content=_docx())
    assert response.status_code == 400
    assert "PDF、JPG、PNG 或 OFD" in response.content.decode()
    response = _claim(client, declaration="")
    assert response.status_code == 400
    assert "请阅读并勾选声明" in response.content.decode()
    assert not EnterpriseClaim.objects.exists()


def _docx() -> bytes:
    from .portal_helpers import docx_bytes

    return docx_bytes()


def test_a_brand_new_enterprise_is_still_registered_at_once(client, world):
    from voucher.applications.models import Membership

    client.force_login(world["claimant"])
    response = client.post(reverse("accounts:enterprise_new"), {"uscc": USCC_B, "name": "乙公司"})
    assert response["Location"] == reverse("portal:home")
    assert Membership.objects.get(user=world["claimant"]).enterprise.uscc == USCC_B
    assert USCC_A == IMPORTED


def test_the_action_itself_refuses_another_enterprise_while_a_claim_is_pending(
    client, world, django_capture_on_commit_callbacks
):
    """Not only the page: a second tab or a script reaching the action is refused too."""
    from voucher.accounts import actions
    from voucher.applications.models import Enterprise

    _request_claim(client, world, django_capture_on_commit_callbacks)
    with pytest.raises(actions.AccountError, match="审核结束前不能登记其他单位"):
        actions.enterprise_register(uscc=USCC_B, name="乙公司", acting_user=world["claimant"])
    assert not Enterprise.objects.filter(uscc=USCC_B).exists()


def test_the_claims_pages_verify_an_administrator_as_the_review_site_does(
    client, db, django_user_model, settings
):
    """The claims pages use the review site's check (`staff_verified_by`): an administrator
    without a TOTP device sets one up; one with a device whose session is not verified logs in
    again (the session is ended); a verified one reaches the list; a reviewer is refused."""

    from .review_support import FAST_HASHERS, make_staff, verified_client

    settings.PASSWORD_HASHERS = FAST_HASHERS
    admin = make_staff(django_user_model, "admin", "administrator")
    client.force_login(admin)
    response = client.get(reverse("accounts:claims"))
    assert response.status_code == 302 and response["Location"] == reverse("review:otp_setup")
    TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    response = client.get(reverse("accounts:claims"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("review:login"))
    assert "_auth_user_id" not in client.session  # logged out, to log in with a code
    TOTPDevice.objects.filter(user=admin).delete()
    assert verified_client(client, admin).get(reverse("accounts:claims")).status_code == 200
    client.logout()
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    response = verified_client(client, reviewer).get(reverse("accounts:claims"))
    assert response.status_code == 403 and "refusal-reason" in response.content.decode()
