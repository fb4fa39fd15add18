"""Claiming an enterprise the registry import created, in a real Chromium: the claimant (at
phone width) files the request with the licence and the declaration; a staff administrator
logs in with TOTP, opens the licence and approves; the claimant is then its administrator.
Screenshots land in test-artifacts/claim-*.png."""

from __future__ import annotations

import pytest

from .browser_support import ARTIFACTS, chromium, totp_code
from .portal_helpers import pdf_bytes
from .review_support import FAST_HASHERS

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"
EMAIL = "wang.wu@example.cn"
USCC = "91110108MA01C3QX7B"
NAME = "北京导入示例科技有限公司"


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path, django_user_model):
    from voucher.applications.models import Enterprise
    from voucher.demo.staff import demo_staff_ensure

    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = FAST_HASHERS
    Enterprise.objects.create(uscc=USCC, name=NAME)  # as a registry import leaves it
    django_user_model.objects.create_user(EMAIL, email=EMAIL, password=PASSWORD)
    demo_staff_ensure(password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    licence = tmp_path / "营业执照.pdf"
    licence.write_bytes(pdf_bytes())
    return {"url": live_server.url, "licence": licence}


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"claim-{name}.png"), full_page=True)


def test_a_claim_filed_on_a_phone_and_approved_by_the_administrator(browser, site):
    url = site["url"]
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
    )
    page = phone.new_page()
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("电子邮箱或用户名").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/enterprise/new/")
    page.get_by_label("统一社会信用代码").fill(USCC)
    page.get_by_label("单位名称（与营业执照一致）").fill(NAME)
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/accounts/enterprise/claim/?uscc=*")
    assert page.locator("#claim-enterprise").inner_text() == NAME
    # nothing ticked: the errors are beside the fields
    page.get_by_role("button", name="提交认领申请").click()
    page.locator(".has-error").first.wait_for()
    assert page.locator(".has-error").count() == 4  # name, position, licence, declaration
    shot(page, "1-errors")
    page.get_by_label("您的姓名").fill("王五")
    page.get_by_label("您在该单位的职务").fill("总经理")
    page.get_by_label("营业执照（扫描件或照片）").set_input_files(str(site["licence"]))
    page.get_by_label("本人声明", exact=False).check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "2-request")
    page.get_by_role("button", name="提交认领申请").click()
    page.wait_for_url("**/accounts/enterprise/new/")
    assert "认领申请待审核" in page.locator("#claim-state").inner_text()
    shot(page, "3-pending")

    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin = staff.new_page()
    admin.goto(f"{url}/accounts/claims/")
    admin.wait_for_url("**/review/login/**")
    admin.get_by_label("用户名").fill("guanli")
    admin.get_by_label("密码").fill(PASSWORD)
    admin.get_by_label("动态验证码").fill(totp_code("guanli"))
    admin.get_by_role("button", name="登录").click()
    admin.wait_for_url("**/accounts/claims/")
    admin.get_by_role("link", name=NAME).click()
    admin.wait_for_url("**/accounts/claims/*/")
    with admin.expect_download() as download:
        admin.get_by_role("link", name="营业执照.pdf").click()
    assert download.value.suggested_filename == "营业执照.pdf"
    admin.get_by_label("通过：申请人成为该单位管理员").check()
    shot(admin, "4-decision")
    admin.get_by_role("button", name="提交审核结论").click()
    admin.wait_for_url("**/accounts/claims/")
    assert "已通过" in admin.inner_text("body")
    shot(admin, "5-decided")
    staff.close()

    page.goto(f"{url}/portal/")
    page.wait_for_url("**/portal/")
    page.goto(f"{url}/accounts/enterprise/")
    assert "管理员" in page.inner_text("body") and NAME in page.inner_text("body")
    shot(page, "6-administrator")
    phone.close()
