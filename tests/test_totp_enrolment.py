"""Issue 18, item 3: a staff member binds an authenticator only through a one-time link an
administrator issued (e-mailed, or handed over from the staff page). A password alone never shows
a TOTP secret; the link works once, expires, belongs to one user; a reissue is audited and a reset
removes the devices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.accounts.enrolment import ENROLMENT_HOURS
from voucher.accounts.models import TotpEnrolment
from voucher.core.models import AuditEntry
from voucher.review import staff

from .review_support import FAST_HASHERS, PASSWORD, make_staff, verified_client

NO_LINK = "请使用管理员发送的绑定链接完成验证器绑定"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def admin(db, django_user_model):
    return make_staff(django_user_model, "administrator", "administrator")


@pytest.fixture
def reviewer(db, django_user_model):
    return make_staff(django_user_model, "reviewer", "bureau_reviewer")


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _issue(user, admin, *, reset=False) -> str:
    return _path(staff.staff_totp_link(user=user, acting_user=admin, reset=reset))


def _code(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def _login(client, user, path: str, code: str = ""):
    return client.post(
        reverse("review:login"),
        {"username": user.username, "password": PASSWORD, "otp_token": code, "next": path},
    )


def _secret_shown(page: str) -> bool:
    return 'id="otp-secret"' in page or "otpauth://" in page or 'id="otp-qr"' in page


def test_a_password_alone_never_shows_a_secret(client, reviewer):
    """The defect: a staff account with no device logging in with its password was shown a fresh
    secret and confirmed its own device, so a stolen password enrolled the thief's phone."""
    response = _login(client, reviewer, "")
    page = response.content.decode()
    assert response.status_code == 200 and NO_LINK in page and not _secret_shown(page)
    assert "_auth_user_id" not in client.session  # not even a password session
    # a password session by other means (the matrix's force_login) finds no secret either
    client.force_login(reviewer)
    for method in ("get", "post"):
        answer = getattr(client, method)(reverse("review:otp_setup"), {"otp_token": "123456"})
        assert not _secret_shown(answer.content.decode())
    assert client.get(reverse("review:otp_setup")).content.decode().count(NO_LINK)
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert client.get(reverse("review:queue")).status_code == 302


def test_the_link_enrols_once_after_the_password(client, reviewer, admin):
    path = _issue(reviewer, admin)
    assert client.get(path)["Location"].startswith(reverse("review:login"))  # password first
    response = _login(client, reviewer, path)
    assert response.status_code == 302 and response["Location"] == path
    page = client.get(path).content.decode()
    assert _secret_shown(page)
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    assert client.get(reverse("review:queue")).status_code == 302  # not verified yet
    wrong = client.post(path, {"otp_token": "000000" if _code(device) != "000000" else "111111"})
    assert "验证码不正确" in wrong.content.decode()
    device.throttle_reset()  # django-otp makes a retry wait after a wrong code
    response = client.post(path, {"otp_token": _code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("review:queue")
    assert client.get(reverse("review:queue")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    entry = AuditEntry.objects.get(action="staff_totp_enrol")
    assert entry.data["user"] == reviewer.username
    # used up: the same link shows nothing any more, to anyone
    client.logout()
    again = client.get(path)
    assert again.status_code == 404 and not _secret_shown(again.content.decode())
    # and the next login wants the code of the new device
    response = _login(client, reviewer, "")
    assert response.status_code == 200 and NO_LINK not in response.content.decode()


def test_the_link_expires(client, reviewer, admin):
    path = _issue(reviewer, admin)
    enrolment = TotpEnrolment.objects.get(user=reviewer)
    lasts = enrolment.expires_at - enrolment.created_at
    assert abs(lasts - timedelta(hours=ENROLMENT_HOURS)) < timedelta(minutes=1)
    TotpEnrolment.objects.filter(pk=enrolment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = _login(client, reviewer, path)
    assert response.status_code == 200 and NO_LINK in response.content.decode()
    client.force_login(reviewer)
    page = client.get(path)
    assert page.status_code == 404 and not _secret_shown(page.content.decode())


def test_the_link_is_bound_to_its_user(client, reviewer, admin, django_user_model):
    other = make_staff(django_user_model, "other", "bureau_reviewer")
    path = _issue(reviewer, admin)
    # another staff member's password does not open it, nor does their session
    response = _login(client, other, path)
    assert response.status_code == 200 and NO_LINK in response.content.decode()
    client.force_login(other)
    page = client.get(path)
    assert page.status_code == 403 and not _secret_shown(page.content.decode())
    assert client.post(path, {"otp_token": "123456"}).status_code == 403
    assert not TOTPDevice.objects.filter(user=other).exists()
    # a token nobody issued
    assert client.get(reverse("review:otp_enrol", args=["x" * 43])).status_code == 404


def test_only_the_hash_of_the_token_is_stored(reviewer, admin):
    path = _issue(reviewer, admin)
    token = path.rstrip("/").rsplit("/", 1)[1]
    (enrolment,) = TotpEnrolment.objects.filter(user=reviewer)
    assert token not in enrolment.token_sha256 and len(enrolment.token_sha256) == 64
    assert all(token not in str(e.data) for e in AuditEntry.objects.all())


def test_a_reissue_is_audited_revokes_the_older_link_and_a_reset_the_devices(
    client, reviewer, admin, django_capture_on_commit_callbacks
):
    first = _issue(reviewer, admin)
    with django_capture_on_commit_callbacks(execute=True):
        second = _issue(reviewer, admin)
    (message,) = mail.outbox
    assert message.to == [reviewer.email] and _path(re.search(r"https?://\S+", message.body)[0])
    assert second in message.body.replace("http://localhost:8000", "")
    assert client.get(first).status_code == 404  # revoked by the newer one
    links = AuditEntry.objects.filter(action="staff_totp_link").order_by("pk")
    assert [e.actor_label for e in links] == [admin.username] * 2
    assert links.last().data["links_revoked"] == 1
    # enrol through the second, then lose the phone: the administrator resets
    _login(client, reviewer, second)
    client.get(second)
    device = TOTPDevice.objects.get(user=reviewer)
    client.post(second, {"otp_token": _code(device)})
    assert TOTPDevice.objects.filter(user=reviewer, confirmed=True).exists()
    with pytest.raises(staff.StaffError, match="重置"):
        staff.staff_totp_link(user=reviewer, acting_user=admin)  # a link replaces no device
    third = _issue(reviewer, admin, reset=True)
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    reset = AuditEntry.objects.get(action="staff_totp_reset")
    assert reset.data["user"] == reviewer.username and reset.data["devices"] == 1
    client.logout()
    assert NO_LINK in _login(client, reviewer, "").content.decode()
    assert _login(client, reviewer, third)["Location"] == third


def test_only_an_administrator_issues_a_link(reviewer, django_user_model):
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    with pytest.raises(staff.StaffError, match="系统管理员"):
        staff.staff_totp_link(user=reviewer, acting_user=approver)
    assert not TotpEnrolment.objects.exists()


def test_the_staff_page_hands_over_the_link_once(client, reviewer, admin):
    from voucher.applications.rounds import current_round

    current_round()  # the staff page shows a round's dates
    verified_client(client, admin)
    url = reverse("review:staff_member", args=[reviewer.pk])
    response = client.post(url, {"what": "totp_link"})
    assert response.status_code == 200
    page = response.content.decode()
    shown = re.search(r"https?://[^\s<\"]+/review/otp/enrol/[^\s<\"]+", page)[0]
    assert TotpEnrolment.objects.filter(user=reviewer, used_at__isnull=True).count() == 1
    assert shown not in client.get(reverse("review:staff")).content.decode()
    assert AuditEntry.objects.filter(action="staff_totp_link").count() == 1
    client.post(url, {"what": "totp_reset"})
    assert AuditEntry.objects.filter(action="staff_totp_reset").count() == 1
    assert client.get(_path(shown)).status_code == 404  # the reset revoked the first link


def test_the_first_administrator_gets_a_link_from_the_command_line(client, admin):
    """Nobody can issue the first administrator's link on the staff page: the server's operator
    prints one (`voucher totp_link`), audited as the system."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("totp_link", admin.username, "--base-url", "https://jxj.example.cn", stdout=out)
    link = out.getvalue().strip()
    assert link.startswith("https://jxj.example.cn/review/otp/enrol/")
    entry = AuditEntry.objects.get(action="staff_totp_link")
    assert entry.actor is None and entry.data["user"] == admin.username
    assert _login(client, admin, _path(link))["Location"] == _path(link)


def test_the_enrolment_page_shows_a_qr_code_of_the_otpauth_link(client, reviewer, admin):
    """Made on the server as a PNG data URL (no script; CSP's img-src allows data:), and read
    back by a QR decoder it is exactly the device's otpauth:// link."""
    import base64
    import html
    import io

    import zxingcpp
    from PIL import Image

    path = _issue(reviewer, admin)
    _login(client, reviewer, path)
    response = client.get(path)
    page = response.content.decode()
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    found = re.search(r'<img class="otp-qr" id="otp-qr" src="([^"]+)"', page)
    assert found, page
    url = html.unescape(found.group(1))
    assert url.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    (barcode,) = zxingcpp.read_barcodes(image)
    assert barcode.text == device.config_url
    assert barcode.text.startswith("otpauth://totp/") and "secret=" in barcode.text
    assert "data:" in response["Content-Security-Policy"].split("img-src", 1)[1].split(";")[0]
