"""Issue 19 points 10 and 11 in a real Chromium: the wizard, the status page and the review
screen in Chinese and English at 1280 and 390 px (axe-core checks each, as it checks every page
of every browser test: tests/browser_support.py; the screenshots land in test-artifacts/a11y-*),
and the wizard and the review screen used with the keyboard alone (Tab and Enter)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .browser_support import ARTIFACTS, chromium, totp_code
from .conftest import EXAMPLES_DIR, application_from
from .portal_helpers import fill_d2, member, open_round, uscc_with_check
from .review_support import FAST_HASHERS

pytestmark = pytest.mark.browser
PASSWORD = "voucher-demo"
SIZES = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"zh": "zh-hans", "en": "en"}


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path, client):
    from voucher.applications.models import Application
    from voucher.demo.examples import demo_load
    from voucher.demo.staff import demo_examples_submit, demo_staff_ensure

    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DATA_DIR = tmp_path
    demo_load(examples_dir=EXAMPLES_DIR)
    demo_staff_ensure(password=PASSWORD)
    demo_examples_submit()
    reviewed = application_from("d2-common-shareholder-review")
    open_round()
    uscc = uscc_with_check("91110108MA01QQQQ1")  # not one of the demo's enterprises
    client.force_login(member("owner@a.example.cn", uscc, "北京示例智能科技有限公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    draft = Application.objects.get(enterprise__uscc=uscc)
    fill_d2(client, draft)
    ARTIFACTS.mkdir(exist_ok=True)
    return {
        "url": live_server.url,
        "draft": draft.pk,
        "reviewed": reviewed.pk,
        "session": client.cookies["sessionid"].value,
    }


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def _cookies(url: str, session: str, language: str) -> list[dict[str, str]]:
    return [
        {"name": "sessionid", "value": session, "url": url},
        {"name": "django_language", "value": language, "url": url},
    ]


def _staff_session(browser, url: str) -> list[dict]:
    context = browser.new_context(viewport=SIZES["wide"], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}/review/")
    page.wait_for_url("**/review/login/**")
    page.get_by_label("用户名").fill("shenhe")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码").fill(totp_code("shenhe"))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/review/")
    cookies = context.cookies()
    context.close()
    return cookies


def test_the_key_pages_in_both_languages_at_both_widths(browser, site):
    url = site["url"]
    staff = _staff_session(browser, url)
    applicant = _cookies(url, site["session"], "")[:1]
    pages = {
        "wizard": (applicant, f"{url}/portal/applications/{site['draft']}/contracts/"),
        "status": (applicant, f"{url}/portal/applications/{site['draft']}/status/"),
        "review": (
            [c for c in staff if c["name"] != "django_language"],
            f"{url}/review/{site['reviewed']}/",
        ),
    }
    for lang, code in LANGUAGES.items():
        for size, viewport in SIZES.items():
            for name, (cookies, address) in pages.items():
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                context.add_cookies(cookies)
                context.add_cookies([{"name": "django_language", "value": code, "url": url}])
                page = context.new_page()
                page.goto(address)
                page.locator("#main, main").first.wait_for()
                assert page.evaluate("document.documentElement.lang") == (
                    "en" if lang == "en" else "zh-Hans"
                )
                page.screenshot(
                    path=str(ARTIFACTS / f"a11y-{name}-{lang}-{size}.png"), full_page=True
                )
                # nothing wider than the screen but the tables' own scrolling boxes
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], (name, lang, size, width)
                context.close()
    # every one of those page loads was checked by axe-core, in both languages
    checked = {(p["url"].split("?")[0], p["lang"]) for p in browser.axe.pages}
    for _cookies_of, address in pages.values():
        assert (address, "zh-Hans") in checked and (address, "en") in checked, address


def _tab_to(page, text: str, within: str = "body", limit: int = 300) -> None:
    """Tab until the focused element's text or label is `text`, inside `within` (a selector):
    the keyboard alone."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(within) => { const e = document.activeElement; if (!e.closest(within)) return '';"
            " return (e.innerText || e.value || e.getAttribute('aria-label') || ''); }",
            within,
        )
        if "".join(focused.split()).lstrip("✓0123456789") == text:
            return
    raise AssertionError(f"{text!r} cannot be reached with Tab")


def test_the_wizard_and_the_review_screen_with_the_keyboard_alone(browser, site):
    url = site["url"]
    context = browser.new_context(viewport=SIZES["wide"], locale="zh-CN")
    context.add_cookies(_cookies(url, site["session"], "zh-hans"))
    page = context.new_page()
    page.goto(f"{url}/portal/applications/{site['draft']}/applicant/")
    # the skip link is the first stop and leads to the form
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    _tab_to(page, "保存并继续")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/project/")
    # a step of the wizard by its link in the steps list, with Enter
    _tab_to(page, "算力合同")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contracts/")
    context.close()

    staff = _staff_session(browser, url)
    context = browser.new_context(viewport=SIZES["wide"], locale="zh-CN")
    context.add_cookies(staff)
    page = context.new_page()
    page.goto(f"{url}/review/mine/")
    _tab_to(page, "领取", within=f"tr:has(a[href='/review/{site['reviewed']}/'])")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{url}/review/{site['reviewed']}/")
    _tab_to(page, "受理并进行形式审查")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#state").inner_text() == "形式审查中"
    context.close()
