"""Issue 19 in a real Chromium: a new applicant saves part of a step, changes direction, is warned
about a delivery whose amount is not quantity × unit price, sees what the subsidy period leaves
out, and deletes the line after a confirmation. Screenshots: test-artifacts/flow-*.png."""

from __future__ import annotations

import re

import pytest

from .browser_support import ARTIFACTS, chromium
from .portal_helpers import PASSWORD, USCC_A, member, open_round

pytestmark = pytest.mark.browser

EMAIL = "wang.wu@example.cn"


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path):
    from voucher.applications.rounds import rounds_sync

    settings.DATA_DIR = tmp_path
    rounds_sync()
    open_round()
    member(EMAIL, USCC_A, "北京示例智能科技有限公司")
    ARTIFACTS.mkdir(exist_ok=True)
    return live_server.url


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"flow-{name}.png"), full_page=True)


def test_a_new_applicant_changes_direction_saves_part_and_is_warned(browser, site):
    from voucher.policy.round import get_round
    from voucher.portal.templatetags.portal_format import cn_date

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("电子邮箱或用户名").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    page.get_by_role("link", name="新建申报").click()
    page.wait_for_url("**/portal/applications/new/")
    # 免申即享: direction 3 is explained, not offered
    assert page.locator("#direction-3").count() == 0
    assert "免申即享" in page.locator(".direction-card", has_text="方向三").inner_text()
    page.locator("#direction-2").check()
    page.get_by_role("button", name="创建申报草稿").click()

    # a partial save: every field but a wrong mobile number is saved
    page.wait_for_url("**/applicant/")
    page.get_by_label("注册地址").fill("北京市海淀区中关村大街1号")
    page.get_by_label("生产经营地址").fill("北京市海淀区中关村大街1号")
    page.get_by_label("企业", exact=True).check()
    page.locator("#id_independent_legal_person_0").check()
    page.get_by_label("所属行业门类（GB/T 4754）").select_option("I")
    page.locator("#id_ai_new_rd_institution_1").check()
    page.get_by_label("项目申报联系人").fill("王五")
    page.get_by_label("联系人手机").fill("12345")
    page.get_by_label("联系人通讯地址").fill("北京市海淀区中关村大街1号")
    page.get_by_label("联系人电子邮箱").fill(EMAIL)
    page.get_by_role("button", name="保存", exact=True).click()
    page.locator(".msg", has_text="已保存填写正确的").wait_for()
    assert page.get_by_label("联系人手机").input_value() == "12345"  # kept where it is wrong
    assert "请填写11位中国大陆手机号" in page.locator(".has-error").inner_text()
    sidebar = page.locator(".selfcheck")
    sidebar.locator("ul.todo").wait_for()
    assert "联系人手机" in sidebar.inner_text()
    assert "注册地址" not in sidebar.inner_text()  # the sidebar reads what was saved
    shot(page, "1-partial-save")
    page.reload()  # saved indeed: the address is there after a reload
    assert page.get_by_label("注册地址").input_value() == "北京市海淀区中关村大街1号"

    # changing direction on the direction step
    page.get_by_role("link", name=re.compile("申报方向")).first.click()
    page.wait_for_url("**/direction/")
    assert page.locator("#direction-3").count() == 0
    page.locator("#direction-4").check()
    shot(page, "2-direction-choose")
    page.get_by_role("button", name="改选为所选方向").click()
    page.locator(".msg", has_text="方向二改为方向四").wait_for()
    assert "方向四" in page.locator(".crumbs").inner_text()
    shot(page, "3-direction-changed")

    # a contract whose delivery starts before the subsidy period and whose amount is not
    # quantity × unit price
    page.get_by_role("link", name=re.compile("算力合同")).first.click()
    page.wait_for_url("**/contracts/")
    page.get_by_label("合同编号").fill("C1")
    page.get_by_label("算力供给方名称").fill("北京示例算力有限公司")
    page.get_by_label("供给方统一社会信用代码").fill("91110000MA00AAAA4N")
    page.get_by_label("签订日期").fill("2025-08-01")
    page.get_by_label("合同有效期开始").fill("2025-08-01")
    page.get_by_label("合同有效期结束").fill("2026-08-31")
    page.get_by_label("合同总额（元）").fill("5,000,000.00")
    page.get_by_role("button", name="保存合同").click()
    page.wait_for_url("**/contracts/*/")
    rnd = get_round("bj-2026")
    terms = page.locator("#claim-terms").inner_text()
    assert cn_date(rnd.window_start) in terms and cn_date(rnd.window_end) in terms
    section = page.locator("section#deliveries")
    section.locator("details.panel > summary").click()
    values = {"start": "2025-08-01", "end": "2025-10-31", "service": "compute",
              "device": "H800", "quantity": "100000", "unit": "card-hour",
              "unit_price": "10", "amount": "900,000.00"}  # fmt: skip
    for field, value in values.items():
        box = section.locator(f"#id_deliveries-{field}")
        if field == "service":
            box.select_option(value)
        else:
            box.fill(value)
    section.get_by_role("button", name="添加").click()
    page.locator("section#deliveries table.rows").wait_for()
    assert "数量 × 单价 = 1,000,000.00 元" in page.locator(".msg-warning").inner_text()
    assert page.locator(".line-amount-warning").is_visible()
    assert "补贴期外交付" in page.locator("#claim-excluded").inner_text()
    assert "未计入" in page.locator(".line-excluded").inner_text()
    shot(page, "4-delivery-warning")

    # deleting the line asks first
    section.get_by_role("link", name="删除这一行（需确认）").click()
    page.wait_for_url("**/deliveries/*/delete/")
    assert "900,000.00 元" in page.locator("#row-to-delete").inner_text()
    shot(page, "5-delete-confirm")
    page.get_by_role("button", name="确认删除").click()
    assert page.locator("#row-to-delete").is_visible()  # not ticked: still asking
    page.get_by_label("我确认删除这一行").check()
    page.get_by_role("button", name="确认删除").click()
    page.wait_for_url(re.compile(r"/contracts/\d+/(#deliveries)?$"))
    page.locator("section#deliveries p.empty").wait_for()
    shot(page, "6-deleted")

    # a bad delivery line: kept as typed beside its error; the contract and its lines stay
    section = page.locator("section#deliveries")
    section.locator("details.panel > summary").click()
    for field, value in {**values, "device": "", "start": "2025-10-01"}.items():
        box = section.locator(f"#id_deliveries-{field}")
        if field == "service":
            box.select_option(value)
        else:
            box.fill(value)
    section.get_by_role("button", name="添加").click()
    page.locator(
        "#id_deliveries-device + .errorlist, .has-error", has_text="设备型号"
    ).first.wait_for()
    assert section.locator("#id_deliveries-start").input_value() == "2025-10-01"
    assert section.locator("#id_deliveries-quantity").input_value() == "100000"
    assert page.get_by_label("合同总额（元）").input_value().replace(",", "") == "5000000.00"
    shot(page, "7-bad-line-kept")

    # a field-level save of the contract: the valid total is saved, the wrong end date is not
    page.get_by_label("合同总额（元）").fill("6,000,000.00")
    page.get_by_label("合同有效期结束").fill("2024-01-01")
    page.get_by_role("button", name="保存合同").click()
    page.locator(".msg", has_text="已保存填写正确的").wait_for()
    assert "有效期结束早于开始" in page.locator(".has-error").first.inner_text()
    assert page.get_by_label("合同有效期结束").input_value() == "2024-01-01"  # as typed
    shot(page, "8-contract-partial-save")
    page.reload()
    assert page.get_by_label("合同总额（元）").input_value().replace(",", "") == "6000000.00"
    assert page.get_by_label("合同有效期结束").input_value() == "2026-08-31"  # kept

    # deleting the whole contract asks first (a page, no script), at 1280 and 390 px
    page.get_by_role("link", name="删除此合同（需确认）").click()
    page.wait_for_url("**/contracts/*/delete/")
    summary = page.locator("#contract-to-delete").inner_text()
    assert "C1" in summary and "6,000,000.00 元" in summary
    shot(page, "9-contract-delete-confirm")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "9-contract-delete-confirm-390")
    page.get_by_role("button", name="确认删除").click()
    assert page.locator("#contract-to-delete").is_visible()  # not ticked: still asking
    assert "请勾选确认" in page.locator(".has-error").inner_text()
    page.get_by_label(re.compile("我确认删除这份合同")).check()
    page.get_by_role("button", name="确认删除").click()
    page.wait_for_url("**/contracts/")
    page.locator(".msg", has_text="合同 C1 已删除").wait_for()
    shot(page, "10-contract-deleted-390")
    page.set_viewport_size({"width": 1280, "height": 900})
