"""A new staff member binds the authenticator in a real Chromium, only through the administrator's
one-time link (issue 18, item 3): the password alone shows no secret; the administrator (`guanli`,
the demo's TOTP login) issues the link on 系统管理; the member logs in through it, adds the secret,
confirms with a code and reaches the queue; the link then works no more.
Screenshots land in test-artifacts/totp-enrol-*.png.
"""

from __future__ import annotations

import base64
import re

import pytest

from .browser_support import ARTIFACTS, chromium, in_thread, totp_code
from .review_support import FAST_HASHERS, make_staff

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "voucher-demo"  # the demo staff's (demo_staff_ensure)
MEMBER_PASSWORD = "pw-review-1"  # make_staff's
NO_LINK = "请使用管理员发送的绑定链接完成验证器绑定"


@pytest.fixture
def site(transactional_db, live_server, settings, django_user_model):
    from voucher.applications.rounds import current_round
    from voucher.demo.staff import demo_staff_ensure

    settings.PASSWORD_HASHERS = FAST_HASHERS
    current_round()  # the staff page shows a round's dates
    demo_staff_ensure(password=DEMO_PASSWORD)
    member = make_staff(django_user_model, "newcomer", "bureau_reviewer")
    ARTIFACTS.mkdir(exist_ok=True)
    return {"url": live_server.url, "member": member}


def _log_in(page, url: str, username: str, password: str, code: str = "", next_: str = ""):
    page.goto(f"{url}/review/login/" + (f"?next={next_}" if next_ else ""))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("动态验证码").fill(code)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_a_new_member_binds_the_authenticator_through_the_link(site):
    from django_otp.oath import TOTP

    url, member = site["url"], site["member"]
    with chromium() as browser:
        # the password alone: no secret, the way to the link
        newcomer = browser.new_context().new_page()
        _log_in(newcomer, url, member.username, MEMBER_PASSWORD)
        assert NO_LINK in newcomer.content()
        assert newcomer.locator("#otp-secret").count() == 0

        # the administrator issues the link on 系统管理
        admin = browser.new_context().new_page()
        _log_in(admin, url, "guanli", DEMO_PASSWORD, totp_code("guanli"), "/review/staff/")
        row = admin.locator(f"#staff-{member.username}")
        row.get_by_role("button", name="签发绑定链接").click()
        admin.wait_for_load_state()
        shown = admin.locator("#enrolment-link").inner_text()
        link = re.search(r"https?://\S+/review/otp/enrol/\S+/", shown)[0]
        admin.screenshot(path=str(ARTIFACTS / "totp-enrol-issued.png"), full_page=True)

        # the member opens it: the password first, then the secret, then a code
        newcomer.goto(link)
        assert "/review/login/" in newcomer.url
        newcomer.get_by_label("用户名").fill(member.username)
        newcomer.get_by_label("密码").fill(MEMBER_PASSWORD)
        newcomer.get_by_role("button", name="登录").click()
        newcomer.wait_for_url(link)
        secret = newcomer.locator("#otp-secret").inner_text().strip()
        newcomer.screenshot(path=str(ARTIFACTS / "totp-enrol-secret.png"), full_page=True)
        # the QR code was drawn: the CSP let its data: URL through (a refused image has no width)
        assert newcomer.locator("#otp-qr").evaluate("img => img.complete && img.naturalWidth") > 0
        code = f"{TOTP(base64.b32decode(secret)).token():06d}"
        newcomer.get_by_label("验证码").fill(code)
        newcomer.get_by_role("button", name="确认绑定").click()
        newcomer.wait_for_url(f"{url}/review/")
        assert "动态验证码已启用" in newcomer.content()

        # used up
        newcomer.goto(link)
        assert "绑定链接无效、已使用或已过期" in newcomer.content()
        assert newcomer.locator("#otp-secret").count() == 0

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from voucher.core.models import AuditEntry

    assert in_thread(lambda: TOTPDevice.objects.filter(user=member, confirmed=True).count()) == 1
    actions = in_thread(lambda: list(AuditEntry.objects.values_list("action", flat=True)))
    assert "staff_totp_link" in actions and "staff_totp_enrol" in actions
