"""The materials in review, in a real Chromium: a reviewer opens the application, opens the
contract in the page, ticks its checklist, marks one item 不符合, is refused an approval for it,
and sends the supplement request the checklist filled in. Screenshots land in
$VOUCHER_SCREENSHOTS (or test-artifacts/) as materials-*.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .browser_support import ARTIFACTS, chromium, in_thread, totp_code
from .conftest import EXAMPLES_DIR, application_from
from .review_support import FAST_HASHERS, attach_material, minimal_pdf

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"
SHOTS = Path(os.environ.get("VOUCHER_SCREENSHOTS") or ARTIFACTS)

CONTRACT_HTML = """<html><body style="font-family: 'Noto Serif CJK SC'; font-size: 12pt">
<h1 style="text-align:center">智能算力服务合同</h1>
<p>甲方（需求方）：北京测试智能科技有限公司</p>
<p>乙方（供给方）：北京算力供应有限公司</p>
<p>第一条 交付标的：乙方向甲方提供智能算力（GPU 训练资源）。</p>
<p>第二条 规模与金额：800 卡时/月，单价 12.00 元/卡时，合同总额 115,200.00 元。</p>
<p style="break-after: page">第三条 有效期：2026年1月1日至2026年12月31日。</p>
<p>第四条 其他补贴情况：本合同未申请国家、市、区级其他算力补贴。</p>
<p>甲方（盖章）　　　　　　乙方（盖章）</p>
</body></html>"""


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path):
    from voucher.applications.models import ReviewCase
    from voucher.demo.examples import demo_load
    from voucher.demo.staff import demo_examples_submit, demo_staff_ensure

    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DATA_DIR = tmp_path
    demo_load(examples_dir=EXAMPLES_DIR)
    demo_staff_ensure(password=PASSWORD)
    demo_examples_submit()
    application = application_from("d4-small")
    type(application).objects.filter(pk=application.pk).update(state="in_review")
    from django.contrib.auth import get_user_model
    from weasyprint import HTML

    ReviewCase.objects.create(
        application=application, assignee=get_user_model().objects.get(username="shenhe")
    )
    from voucher.documents import signing

    # the contract carries the enterprise's electronic signature (issue 21 item 5)
    enterprise_pem = tmp_path / "enterprise.pem"
    signing.make_self_signed(enterprise_pem, "北京测试智能科技有限公司")
    settings.VOUCHER_SIGNING_KEY_FILE = settings.VOUCHER_SIGNING_CERT_FILE = str(enterprise_pem)
    signed = signing.sign_pdf(HTML(string=CONTRACT_HTML).write_pdf(), field_name="Enterprise")
    settings.VOUCHER_SIGNING_KEY_FILE = settings.VOUCHER_SIGNING_CERT_FILE = ""
    contract = attach_material(application, "contract", signed, "算力服务合同（盖章版）.pdf")
    for material in (
        "demand_qualification",
        "supply_qualification",
        "invoice_or_payment",
        "settlement",
        "usage_table",
        "implementation_report",
        "commitment_letter",
    ):
        attach_material(application, material, minimal_pdf(), f"{material}.pdf")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {"url": live_server.url, "id": application.pk, "contract": contract.pk}


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def _log_in(page, url, username):
    page.goto(f"{url}/review/")
    page.wait_for_url("**/review/login/**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码").fill(totp_code(username))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/review/")


def test_a_reviewer_checks_the_materials_and_asks_for_a_supplement(browser, site):
    url, app_id = site["url"], site["id"]
    screen = f"{url}/review/{app_id}/"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, url, "shenhe")

    # the application: every material of 14-1 with its file and checklist
    page.goto(screen)
    materials = page.locator("#materials")
    assert "尚未核对完毕" in materials.locator("#materials-open").inner_text()
    contract = page.locator("#m-contract")
    assert "算力服务合同（盖章版）.pdf" in contract.inner_text()
    assert "未发现密级标志" in contract.inner_text()
    assert "application/pdf" in contract.inner_text()
    signatures = contract.locator(f"#file-{site['contract']} .file-signatures").inner_text()
    assert "北京测试智能科技有限公司" in signatures and "签名后未改动" in signatures
    assert "未签名" in page.locator("#m-commitment_letter .file-signatures").inner_text()
    contract.scroll_into_view_if_needed()
    contract.screenshot(path=str(SHOTS / "materials-1-screen-contract.png"))

    # open the contract in the page: its two pages as pictures, the checklist beside them
    contract.get_by_role("link", name="在页面中查看").click()
    page.wait_for_url(f"**/review/{app_id}/files/{site['contract']}/view/")
    pictures = page.locator(".pages img")
    assert pictures.count() == 2
    assert pictures.first.evaluate("img => img.complete && img.naturalWidth") == 1000
    assert page.get_by_text("与上传时一致").is_visible()
    assert page.locator("figcaption").first.inner_text() == "第 1 页 / 共 2 页"
    page.screenshot(path=str(SHOTS / "materials-2-contract-in-the-page.png"))

    # tick the checklist; one item is wrong, with what is wrong
    aside = page.locator(".material-aside")
    for row in aside.locator("tr.check").all():
        if row.get_attribute("data-item") == "contract.other_subsidies":
            row.get_by_label("不符合").check()
            row.locator("input[name='note-contract.other_subsidies']").fill(
                "未说明已申请未发放的区级补贴"
            )
        else:
            row.get_by_label("符合", exact=True).check()
    aside.get_by_role("button", name="保存核对结果").click()
    page.wait_for_url(f"**/review/{app_id}/files/{site['contract']}/view/")
    assert page.get_by_text("已保存核对结果").is_visible()
    wrong = page.locator("tr.check-wrong")
    assert wrong.count() == 1 and "对申请国家、市、区级" in wrong.inner_text()
    assert page.locator(".material-aside tr.check-ok").count() == 5
    page.screenshot(path=str(SHOTS / "materials-3-checklist-ticked.png"))
    wrong.scroll_into_view_if_needed()
    assert wrong.get_by_role("link", name="就此项要求补正").is_visible()
    page.screenshot(path=str(SHOTS / "materials-3b-item-wrong.png"))

    # an approval is refused while the item is wrong (and the other materials unchecked)
    page.goto(screen)
    page.locator("#decision").get_by_role("button", name="拟定").click()
    refusal = page.locator(".msg-error")
    assert "申报材料尚未核对完毕，不能予以支持" in refusal.inner_text()
    assert "对申请国家、市、区级相关算力补贴进行情况说明（含已申请未发放）（不符合）" in (
        refusal.inner_text()
    )
    page.screenshot(path=str(SHOTS / "materials-4-approval-refused.png"))

    # the wrong item offers the supplement request, filled in with it
    page.locator("#m-contract").get_by_role("link", name="就此项要求补正").click()
    items = page.locator("#supplement-form textarea[name=items]")
    expected = "算力合同：对申请国家、市、区级相关算力补贴进行情况说明（含已申请未发放）不符合要求（未说明已申请未发放的区级补贴）"
    assert items.input_value() == expected
    page.locator("#supplement-form").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "materials-5-supplement-prefilled.png"))
    page.get_by_role("button", name="发出补正通知").click()
    assert page.locator("#state").inner_text() == "待补正"
    assert page.locator(".supplement").get_by_text(expected).is_visible()
    page.screenshot(path=str(SHOTS / "materials-6-supplement-sent.png"), full_page=True)

    def recorded():
        from voucher.applications.models import MaterialCheck, SupplementRequest
        from voucher.core.models import AuditEntry

        return (
            MaterialCheck.objects.filter(application_id=app_id, status="wrong").count(),
            [i.text for i in SupplementRequest.objects.get(application_id=app_id).items.all()],
            AuditEntry.objects.filter(action="material_view").count(),
        )

    assert in_thread(recorded) == (1, [expected], 2)  # viewed twice: before and after saving
    context.close()
