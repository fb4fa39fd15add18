"""Direction 3 (免申即享) in a real Chromium: a platform publishes a project; the centre's screener
logs in with TOTP, screens it with reasons and lists it; a change left unsaved does not slip into
the build; the platform then sends its contract and consumption; the screener builds the
application, and the bureau's reviewer opens it with the platform data's reconciliation.
Screenshots land in test-artifacts/screening-*.png.
"""

from __future__ import annotations

import io
import re

import pytest

from .browser_support import ARTIFACTS, chromium, in_thread, totp_code
from .review_support import FAST_HASHERS
from .test_api_platforms import CONTRACT, FILE, PROJECT, USCC

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"  # the demo staff's (demo_staff_ensure)


@pytest.fixture
def published(transactional_db, live_server, settings, tmp_path):
    from voucher.demo.staff import demo_staff_ensure
    from voucher.platforms import actions
    from voucher.platforms.models import Platform

    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    demo_staff_ensure(password=PASSWORD)
    actions.platforms_sync()
    token, _ = actions.token_issue(platform=Platform.objects.get(code="modelscope"), label="t")
    project, _ = actions.project_publish(token=token, data=PROJECT)
    ARTIFACTS.mkdir(exist_ok=True)
    return {"url": live_server.url, "token": token, "project": project}


@pytest.fixture
def browser(published):
    with chromium() as browser:
        yield browser


def _log_in(page, url: str, username: str, then: str) -> None:
    page.goto(f"{url}/review/login/?next={then}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码").fill(totp_code(username))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}{then}")


def _platform_sends_contract_and_consumption(published) -> None:
    from voucher.platforms import actions

    token = published["token"]
    actions.contract_submit(token=token, uscc=USCC, document=CONTRACT)
    batch, _ = actions.batch_submit(
        token=token,
        uscc=USCC,
        upload=io.BytesIO(FILE),
        file_name="consumption.csv",
        idempotency_key="browser-1",
    )
    assert actions.batch_process(batch_id=batch.pk).status == "done"


def test_the_centre_screens_lists_and_builds_and_the_bureau_reviews(browser, published):
    from voucher.platforms.models import ShortlistEntry

    url = published["url"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _log_in(page, url, "chushen", "/platforms/screening/")
    row = page.locator("tr", has_text=PROJECT["name"])
    assert "待筛选" in row.inner_text()
    row.get_by_label("开源", exact=True).check()
    row.get_by_label("符合开源计划场景").check()
    row.locator("textarea[name=reasons]").fill("Apache-2.0 开源，属开源计划的工业质检场景。")
    row.get_by_role("button", name="保存结论").click()
    page.wait_for_load_state()
    assert "列入名单" in page.locator(".messages, .message, [role=alert]").first.inner_text()
    row = page.locator("tr", has_text=PROJECT["name"])
    assert "列入名单" in row.inner_text()

    # unticked but not saved: the build refuses rather than build from the saved screening
    row.get_by_label("开源", exact=True).uncheck()
    row.get_by_role("button", name="生成并审查申报").click()
    page.wait_for_load_state()
    assert "请先“保存结论”" in page.content()
    entry = in_thread(lambda: ShortlistEntry.objects.get(project=published["project"]))
    assert entry.application_id is None and entry.open_source

    in_thread(lambda: _platform_sends_contract_and_consumption(published))
    row = page.locator("tr", has_text=PROJECT["name"])
    row.get_by_role("button", name="生成并审查申报").click()
    page.wait_for_load_state()
    message = page.locator(".messages, .message, [role=alert]").first.inner_text()
    # the outcome by its label (no invoice or payment was sent: not 符合条件), never its code
    assert re.search(
        r"已生成申报 #\d+，审查结论 (符合条件|不符合条件|需人工审核|材料不全)；", message
    )
    row = page.locator("tr", has_text=PROJECT["name"])
    assert "合同 C1：核对差异" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "screening-built.png"), full_page=True)

    # on a phone the screening page is cards, not wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "screening-phone.png"), full_page=True)

    entry = in_thread(lambda: ShortlistEntry.objects.get(project=published["project"]))
    reviewer = browser.new_page(viewport={"width": 1280, "height": 900})
    _log_in(reviewer, url, "shenhe", "/review/")
    reviewer.goto(f"{url}/review/{entry.application_id}/")
    text = reviewer.content()
    assert PROJECT["name"] in text and "C1" in text
    assert "平台数据核对" in text or "核对差异" in text
    reviewer.screenshot(path=str(ARTIFACTS / "screening-review.png"), full_page=True)
