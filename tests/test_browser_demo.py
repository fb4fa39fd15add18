"""The demo in a real Chromium: the list, then the direction-2 example a reviewer must look at.

Run with `pytest -m browser`; screenshots land in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import re

import pytest

from voucher.policy.clauses import CLAUSES

from .browser_support import ARTIFACTS, chromium
from .conftest import EXAMPLES_DIR, application_from

pytestmark = pytest.mark.browser
SHAREHOLDER_EXAMPLE: dict[str, int] = {}  # the d2 example with a common shareholder: its pk


@pytest.fixture
def demo_site(transactional_db, live_server, settings):
    from voucher.demo.examples import demo_load

    settings.VOUCHER_PUBLIC_DEMO = True
    demo_load(examples_dir=EXAMPLES_DIR)
    SHAREHOLDER_EXAMPLE["pk"] = application_from("d2-common-shareholder-review").pk
    ARTIFACTS.mkdir(exist_ok=True)
    return live_server.url


@pytest.fixture
def browser(demo_site):
    """Chromium, started after the data is in place.

    Playwright's sync API runs the test in a greenlet with a context of its own; ORM work done
    inside it would open a database connection that nobody closes (PostgreSQL then refuses to
    drop the test database), so the fixtures touch the database before and after it, not in it.
    """
    with chromium() as browser:
        yield browser


def test_a_visitor_reads_the_list_and_the_review_finding_with_its_clause(browser, demo_site):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{demo_site}/")

    table = page.locator("table.apps")
    for label in ("符合条件", "不符合条件", "需人工审核"):
        exact = re.compile(rf"^\s*{label}\s*$")  # 符合条件 alone, not inside 不符合条件
        assert table.locator(".outcome", has_text=exact).first.is_visible()
    assert table.get_by_text("¥30,000,000.00").is_visible()  # direction 1, the cap binds
    assert table.get_by_text("3,000.00 万元").is_visible()
    page.screenshot(path=str(ARTIFACTS / "list.png"), full_page=True)

    # three direction-2 examples need a person: a common shareholder, no official list, a
    # supplier outside the registry (RULES.md v2)
    review_rows = table.locator("tbody tr", has=page.locator(".outcome-needs_review"))
    assert review_rows.count() == 3
    for i in range(3):
        assert "方向二" in review_rows.nth(i).inner_text()
    link = f'td.applicant a[href$="/applications/{SHAREHOLDER_EXAMPLE["pk"]}/"]'
    review_rows.locator(link).click()

    page.wait_for_url("**/applications/*/")
    assert page.locator(".outcome-big").inner_text() == "需人工审核"
    finding = page.locator(".finding-review", has_text="SUPPLIER_EQUITY")
    assert finding.is_visible()
    assert "P-7788" in finding.inner_text()  # the common holder is named
    clause = finding.locator("blockquote.clause")
    assert CLAUSES["一（五）注1"].text in clause.inner_text()
    assert page.locator(".amount-main").get_by_text("¥600,000.00").is_visible()
    page.screenshot(path=str(ARTIFACTS / "detail-review.png"))
    page.locator("details.group-pass > summary").click()  # the passes are folded away
    assert page.locator(".finding-pass", has_text="APPLICANT_BEIJING").is_visible()
    page.screenshot(path=str(ARTIFACTS / "detail-review-full.png"), full_page=True)


def test_the_pages_work_on_a_phone(browser, demo_site):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(f"{demo_site}/")
    page.get_by_role("button", name="English").click()  # the longer labels must fit too
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "list-phone-en.png"), full_page=True)
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    page.goto(f"{demo_site}/")
    # No sideways scrolling on a phone: the table turns into cards.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=str(ARTIFACTS / "list-phone.png"), full_page=True)
    page.locator("tbody tr", has=page.locator(".outcome-needs_review")).first.locator(
        "td.applicant a"
    ).click()
    page.wait_for_url("**/applications/*/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "detail-phone.png"), full_page=True)


def test_the_pages_are_chinese_first_and_switch_to_english(browser, demo_site):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    page.goto(f"{demo_site}/")
    assert page.locator("h1").inner_text() == "申报列表"  # whatever the browser prefers
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Applications"
    assert page.locator(".outcome", has_text="Needs review").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "list-en.png"), full_page=True)
