"""Correcting an enterprise's name and USCC with four eyes, in a real Chromium (issue 21 item 3):
an approver (fuhe) proposes from the enterprise's page — a wrong check character is refused
beside the field — and cannot approve their own proposal; the administrator (guanli) approves; the
enterprise's page in the review area and the enterprise's own page in the portal show the new
name. Screenshots land in test-artifacts/correction-*.png."""

from __future__ import annotations

import pytest

from voucher.policy.uscc import expected_check_character

from .browser_support import ARTIFACTS, chromium, totp_code
from .review_support import FAST_HASHERS

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"
EMAIL = "zhao.liu@example.cn"
OLD_USCC = "91110108MA01C3QX7B"
OLD_NAME = "北京错字科技有限公司"
NEW_USCC = "91110108MA01RGHT7" + expected_check_character("91110108MA01RGHT7")
NEW_NAME = "北京正字科技有限公司"


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path, django_user_model):
    from voucher.applications.models import ADMIN, Enterprise, Membership
    from voucher.demo.staff import demo_staff_ensure

    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = FAST_HASHERS
    enterprise = Enterprise.objects.create(uscc=OLD_USCC, name=OLD_NAME)
    member = django_user_model.objects.create_user(
        EMAIL, email=EMAIL, password=PASSWORD, first_name="赵六"
    )
    Membership.objects.create(user=member, enterprise=enterprise, role=ADMIN)
    demo_staff_ensure(password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    return {"url": live_server.url, "enterprise": enterprise}


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"correction-{name}.png"), full_page=True)


def staff_login(browser, url: str, username: str, where: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}{where}")
    page.wait_for_url("**/review/login/**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码").fill(totp_code(username))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{where}")
    return context, page


def test_a_reviewer_proposes_an_approver_approves_and_the_enterprise_shows_it(browser, site):
    url = site["url"]
    context, reviewer = staff_login(browser, url, "fuhe", "/review/")
    reviewer.get_by_role("link", name="企业信息").click()
    reviewer.wait_for_url("**/review/enterprises/")
    reviewer.get_by_label("名称或统一社会信用代码").fill("错字")
    reviewer.get_by_role("button", name="查找").click()
    reviewer.get_by_role("link", name=OLD_NAME).click()
    reviewer.wait_for_url("**/review/enterprises/*/")
    assert "已提交的申报保留提交时的内容" in reviewer.inner_text("#correction")
    wrong = NEW_USCC[:17] + ("1" if NEW_USCC[17] != "1" else "2")
    reviewer.get_by_label("更正后的统一社会信用代码").fill(wrong)
    reviewer.get_by_label("更正后的名称").fill(NEW_NAME)
    reviewer.get_by_label("更正理由（依据，如营业执照）").fill("营业执照上的名称和代码与登记不一致")
    reviewer.get_by_role("button", name="提出更正").click()
    assert "校验位" in reviewer.inner_text("#new-uscc-error")
    assert reviewer.get_by_label("更正后的名称").input_value() == NEW_NAME  # nothing lost
    shot(reviewer, "1-refused")
    reviewer.get_by_label("更正后的统一社会信用代码").fill(NEW_USCC)
    reviewer.get_by_role("button", name="提出更正").click()
    reviewer.wait_for_url("**/review/enterprises/corrections/*/")
    assert "提出人以外" in reviewer.inner_text("#cannot-decide")  # not their own
    assert reviewer.locator("#correction-decision").count() == 0
    shot(reviewer, "2-proposed")
    context.close()

    context, approver = staff_login(browser, url, "guanli", "/review/enterprises/")
    approver.locator("#pending-corrections").get_by_role("link").first.click()
    approver.wait_for_url("**/review/enterprises/corrections/*/")
    assert NEW_NAME in approver.inner_text("#correction-values")
    approver.get_by_label("批准：按上表更正企业信息").check()
    shot(approver, "3-approving")
    approver.get_by_role("button", name="提交复核结论").click()
    approver.wait_for_url("**/review/enterprises/*/")
    assert approver.inner_text("#enterprise-name") == NEW_NAME
    assert approver.inner_text("#enterprise-uscc") == NEW_USCC
    assert "已批准" in approver.inner_text("#corrections")
    shot(approver, "4-approved")
    context.close()

    portal = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = portal.new_page()
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("电子邮箱或用户名").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    page.goto(f"{url}/accounts/enterprise/")
    assert page.inner_text("h1") == NEW_NAME and NEW_USCC in page.inner_text("body")
    assert "赵六" in page.inner_text("header")  # the person's name, not the login
    shot(page, "5-enterprise")
    portal.close()
