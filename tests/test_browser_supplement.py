"""补正 through the wizard in a real Chromium: the bureau has returned a submitted application;
the applicant opens it from the status page, sees the bureau's list on every step, corrects a
contract total, answers each item and resubmits; the reviewer logs in with TOTP, sees the version
last submitted while the applicant corrects it, then the resubmitted one with the field diff.
Screenshots land in test-artifacts/supplement-*.png (one at phone width)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .browser_support import ARTIFACTS, chromium, in_thread
from .portal_helpers import PASSWORD, USCC_A, USCC_B, fill_d2, member, open_round

pytestmark = pytest.mark.browser

EMAIL = "owner@a.example.cn"
ITEMS = ["合同C1的合同总额与盖章合同不一致，请更正", "说明与供应商共同股东的关系"]


@pytest.fixture
def returned(transactional_db, live_server, settings, tmp_path, django_user_model):
    """A submitted direction-2 application, accepted, in review, and returned for 补正."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from voucher.applications import roles as r
    from voucher.applications.models import Application
    from voucher.applications.rounds import rounds_sync
    from voucher.registry.models import Company, Shareholding
    from voucher.review import actions as review_actions

    from .review_support import make_staff

    settings.DATA_DIR = tmp_path
    rounds_sync()
    open_round()
    # a person holding both the applicant and the supplier: the self-check draws the paths
    Company.objects.create(uscc=USCC_A, name="北京示例智能科技有限公司")
    Company.objects.create(uscc=USCC_B, name="北京示例算力有限公司")
    Shareholding.objects.create(holder="P-0001", held=USCC_A, ratio=Decimal("0.35"))
    Shareholding.objects.create(holder="P-0001", held=USCC_B, ratio=Decimal("0.05"))
    owner = member(EMAIL, USCC_A, "北京示例智能科技有限公司")
    client = Client()
    client.force_login(owner)
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    fill_d2(client, app)
    app.refresh_from_db()
    response = client.post(
        reverse("portal:submit", args=[app.pk]), {"version": app.version, "confirm": "on"}
    )
    assert response.status_code == 302
    reviewer = make_staff(django_user_model, "reviewer", r.REVIEWER)
    device = TOTPDevice.objects.create(user=reviewer, name="t", confirmed=True)
    app.refresh_from_db()
    for name in ("accept", "pass_formal_check"):
        review_actions.application_transition(
            application=app, transition=name, acting_user=reviewer
        )
    review_actions.supplement_request(
        application=app,
        items=ITEMS,
        due_on=timezone.localdate() + timedelta(days=10),
        acting_user=reviewer,
        note="请于截止日期前在系统中补正。",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return {"url": live_server.url, "id": app.pk, "reviewer": reviewer.username, "totp": totp}


@pytest.fixture
def browser(returned):
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"supplement-{name}.png"), full_page=True)


def test_the_applicant_corrects_answers_and_resubmits_through_the_wizard(browser, returned):
    url, app_id = returned["url"], returned["id"]
    base = f"{url}/portal/applications/{app_id}"
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("电子邮箱或用户名").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")

    page.goto(f"{base}/status/")
    assert page.locator("#state").inner_text() == "待补正"
    assert all(page.get_by_text(item).first.is_visible() for item in ITEMS)
    shot(page, "1-status")
    page.locator("#start-supplement").click()
    page.wait_for_url("**/supplement/")
    banner = page.locator("#supplement-banner")
    assert all(item in banner.inner_text() for item in ITEMS)

    # correct the contract total in the wizard; the list stays in view on every step
    page.get_by_role("link", name="算力合同").first.click()
    page.wait_for_url("**/contracts/")
    assert page.locator("#supplement-banner").is_visible()
    page.get_by_role("link", name="C1").first.click()
    page.wait_for_url("**/contracts/*/")
    page.get_by_label("合同总额（元）").fill("23,000,000.00")
    page.get_by_role("button", name="保存合同").click()
    page.locator(".msg-success").first.wait_for()
    page.locator("#selfcheck-outcome").wait_for(timeout=15000)
    paths = page.locator('.selfcheck .finding-paths[data-rule="SUPPLIER_EQUITY"]')
    paths.wait_for(timeout=15000)
    assert "P-0001" in paths.inner_text() and "35%" in paths.inner_text()
    shot(page, "2-contract-corrected")
    # and the amount applied for (400 万元 -> 30 万元), below what the engine allows
    page.get_by_role("link", name="项目情况").first.click()
    page.wait_for_url("**/project/")
    page.get_by_label("对应申请金额（万元）").fill("30")
    page.get_by_role("button", name="保存", exact=True).click()
    page.locator(".msg-success").first.wait_for()
    # the self-check the page loads evaluates (and stores) the corrected version
    page.locator("#selfcheck-amount", has_text="300,000.00 元").wait_for(timeout=15000)

    # meanwhile the reviewer sees the version last submitted, and that it is being corrected
    from .review_support import PASSWORD as STAFF_PASSWORD

    def amounts():
        from voucher.applications.models import Application
        from voucher.applications.selectors import latest_evaluation
        from voucher.applications.templatetags.voucher_format import yuan_text

        application = Application.objects.get(pk=app_id)
        submitted = latest_evaluation(application)
        draft = latest_evaluation(application, with_correction_in_progress=True)
        return yuan_text(submitted.approved_max), yuan_text(draft.approved_max)

    submitted_max, draft_max = in_thread(amounts)
    assert (submitted_max, draft_max) == ("397,440.00 元", "300,000.00 元")
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    screen = staff.new_page()
    screen.goto(f"{url}/review/{app_id}/")
    screen.wait_for_url("**/review/login/**")
    screen.get_by_label("用户名").fill(returned["reviewer"])
    screen.get_by_label("密码").fill(STAFF_PASSWORD)
    screen.get_by_label("动态验证码", exact=False).fill(f"{returned['totp'].token():06d}")
    screen.get_by_role("button", name="登录").click()
    screen.wait_for_url(f"**/review/{app_id}/")
    assert "申报单位正在补正" in screen.locator("#being-corrected").inner_text()
    assert screen.locator("#approved-max").inner_text() == submitted_max
    screen.screenshot(path=str(ARTIFACTS / "supplement-2b-review-while-correcting.png"))

    # answer each item and resubmit
    page.get_by_role("link", name="补正提交").click()
    page.wait_for_url("**/supplement/")
    page.get_by_label("第 1 项答复").fill("已按盖章合同更正合同总额为 2,300 万元")
    page.get_by_role("button", name="重新提交").click()
    # the second answer and the confirmation are missing: errors beside the fields
    page.locator(".has-error").first.wait_for()
    assert page.locator(".has-error").count() == 2
    shot(page, "3-errors-beside-fields")
    page.get_by_label("第 2 项答复").fill("共同股东为自然人 P-0001，对供应商持股 5%，不参与经营")
    page.get_by_label("我已按补正要求修改申报内容，确认以上答复真实、准确。").check()
    shot(page, "4-answers")
    page.get_by_role("button", name="重新提交").click()
    page.wait_for_url("**/status/")
    assert page.locator("#state").inner_text() == "已补正"
    assert page.locator("#receipt-number").inner_text().endswith("-B1")
    shot(page, "5-resubmitted")

    # the wizard is frozen again
    page.goto(f"{base}/contracts/")
    page.wait_for_url("**/status/")

    # what the reviewer sees: the field-level diff of the resubmitted version
    def diff():
        from voucher.applications.models import Application
        from voucher.review.selectors import latest_diff

        found = latest_diff(Application.objects.get(pk=app_id))
        return {line.path: (line.before, line.after) for line in found.lines}

    changed = in_thread(diff)
    assert changed["contracts[0].total_amount"] == ("24000000.00", "23000000.00")

    # and on the review screen: the resubmitted version's figures, and the diff
    screen.goto(f"{url}/review/{app_id}/")
    assert screen.locator("#being-corrected").count() == 0
    assert screen.locator("#approved-max").inner_text() == draft_max
    diff_card = screen.locator("#diff")
    assert "第 1 份合同的合同总额（元）" in diff_card.inner_text()  # not contracts[0].total_amount
    diff_card.scroll_into_view_if_needed()
    diff_card.screenshot(path=str(ARTIFACTS / "supplement-7-review-diff.png"))
    staff.close()


def test_the_supplement_step_at_phone_width(browser, returned):
    url, app_id = returned["url"], returned["id"]
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
    )
    page = context.new_page()
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("电子邮箱或用户名").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    page.goto(f"{url}/portal/applications/{app_id}/supplement/")
    page.locator("#selfcheck-outcome").wait_for(timeout=15000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    # labels are tied to the inputs
    assert page.get_by_label("第 1 项答复").is_visible()
    shot(page, "6-phone")
    context.close()
