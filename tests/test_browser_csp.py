"""The Content-Security-Policy in a real Chromium: the pages it could break still work and
Chromium reports no violation (tests/browser_support.py fails the test on any): the evaluation
list, the API's Swagger page (its own static files, no CDN), the staff login with a TOTP code,
and the official lists' round selector (its script moved from onchange= to site.js)."""

from __future__ import annotations

import pytest

from .browser_support import chromium, in_thread, totp_code
from .conftest import EXAMPLES_DIR
from .review_support import FAST_HASHERS

pytestmark = pytest.mark.browser
PASSWORD = "voucher-demo"


@pytest.fixture
def site(transactional_db, live_server, settings):
    from voucher.applications.models import PolicyRoundRecord
    from voucher.demo.examples import demo_load
    from voucher.demo.staff import demo_staff_ensure

    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.VOUCHER_PUBLIC_DEMO = True
    demo_load(examples_dir=EXAMPLES_DIR)
    demo_staff_ensure(password=PASSWORD)
    other = PolicyRoundRecord.objects.order_by("pk").first()
    assert other is not None
    other.pk = None
    other.code = "bj-2027-test"
    other.window_start = other.window_start.replace(year=other.window_start.year - 1)
    other.save()
    return live_server.url


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def test_pages_work_under_the_policy(browser, site):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    response = page.goto(f"{site}/")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    assert page.locator("table.apps").is_visible()

    page.goto(f"{site}/api/v1/docs")
    # Swagger UI's script ran, from our own files (what it then shows of the document is its own)
    page.locator("#swagger-ui .swagger-ui").wait_for(state="attached")
    # ... and drew the operations: the accessibility check after this step sees the page as a
    # developer does, not an empty frame (checked before they were drawn, it passed by luck)
    page.locator("#swagger-ui .opblock-summary-control").first.wait_for(state="visible")
    page.check_accessibility_now()
    page.goto(f"{site}/api/v1/bureau/docs")  # the bureau's API, drawn by the same Swagger UI
    page.locator("#swagger-ui .opblock-summary-control").first.wait_for(state="visible")
    page.check_accessibility_now()

    page.goto(f"{site}/review/")
    page.wait_for_url("**/review/login/**")
    page.get_by_label("用户名").fill("guanli")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码").fill(in_thread(lambda: totp_code("guanli")))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{site}/review/")

    page.goto(f"{site}/review/official-lists/")
    page.locator("select[data-autosubmit]").select_option("bj-2027-test")
    page.wait_for_url("**/review/official-lists/?round=bj-2027-test")
    assert "bj-2027-test" in page.locator("h1").inner_text()
