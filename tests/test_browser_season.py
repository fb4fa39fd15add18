"""From the decision to the money, in a real Chromium (issue 20): the applicant sees the decision
and its notice and gives the payee account; two members of staff check and confirm it; the
publicity list is public and an outsider objects; a reviewer resolves the objection; the approver
exports a payment batch and reads the bank's result back; the applicant sees 已拨付. Screenshots
at desktop and phone width land in test-artifacts/season-*.png."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from voucher.core import clock

from .browser_support import ARTIFACTS, chromium, in_thread, totp_code
from .conftest import EXAMPLES_DIR, application_from
from .review_support import FAST_HASHERS, confirm_by_hand, propose, put_in_state

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"
APPLICANT = "boss@season.example.cn"
SHOTS = Path(os.environ.get("VOUCHER_SCREENSHOTS") or ARTIFACTS)
ACCOUNT = "6222 0200 0000 1234 567"


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path):
    from django.contrib.auth import get_user_model

    from voucher.applications.models import ADMIN, Membership
    from voucher.demo.examples import demo_load
    from voucher.demo.staff import demo_staff_ensure

    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DATA_DIR = tmp_path
    demo_load(examples_dir=EXAMPLES_DIR)
    demo_staff_ensure(password=PASSWORD)
    application = put_in_state(application_from("d4-small"), "approved")
    users = get_user_model().objects
    decision = confirm_by_hand(
        propose(application, users.get(username="shenhe")), users.get(username="fuhe")
    )
    boss = users.create_user(APPLICANT, email=APPLICANT, password=PASSWORD)
    Membership.objects.create(user=boss, enterprise=application.enterprise, role=ADMIN)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {
        "url": live_server.url,
        "id": application.pk,
        "amount": decision.amount,
        "name": application.enterprise.name,
        "applicant_name": application.applicant_name,
    }


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def _staff(browser, url, username):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    page.goto(f"{url}/review/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码", exact=False).fill(totp_code(username))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/review/")
    return page


def _both_widths(page, name):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / f"season-{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"season-{name}-390.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 400, f"{name} is {width}px wide on a phone"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_from_the_decision_to_the_money(browser, site):
    url, app_id = site["url"], site["id"]
    money = f"{site['amount']:,.2f} 元"

    # the applicant: the decision, its notice, the payee account
    applicant = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN"
    ).new_page()
    applicant.goto(f"{url}/accounts/login/")
    applicant.get_by_label("电子邮箱或用户名").fill(APPLICANT)
    applicant.get_by_label("密码").fill(PASSWORD)
    applicant.get_by_role("button", name="登录").click()
    applicant.wait_for_url("**/portal/")
    applicant.goto(f"{url}/portal/applications/{app_id}/status/")
    decision = applicant.locator("#decision")
    assert "予以支持" in decision.inner_text() and money in decision.inner_text()
    notice = applicant.request.get(f"{url}/portal/applications/{app_id}/notice.pdf")
    assert notice.ok and notice.body().startswith(b"%PDF-")
    assert "尚无已确认的收款账户" in applicant.locator("#payment").inner_text()
    _both_widths(applicant, "1-decision")
    applicant.locator("#payment").get_by_role("link", name="填报收款账户").click()
    applicant.wait_for_url("**/accounts/enterprise/payee/")
    applicant.get_by_label("户名").fill("张三")  # not the enterprise: refused, naming the field
    applicant.get_by_label("开户银行").fill("中国工商银行")
    applicant.get_by_label("开户网点（支行）").fill("北京中关村支行")
    applicant.get_by_label("银行账号").fill(ACCOUNT)
    applicant.get_by_role("button", name="提交收款账户").click()
    assert "户名须与企业名称" in applicant.locator("#err_account_name").inner_text()
    applicant.get_by_label("户名").fill(site["name"])
    applicant.get_by_role("button", name="提交收款账户").click()
    applicant.wait_for_url("**/accounts/enterprise/payee/")
    assert "已核验" not in applicant.content()
    assert "待核验" in applicant.locator(".notice").inner_text()
    _both_widths(applicant, "2-payee")

    # four eyes on the account
    reviewer = _staff(browser, url, "shenhe")
    reviewer.goto(f"{url}/review/payees/")
    reviewer.get_by_role("button", name="核验无误").click()
    assert "待另一名工作人员确认" in reviewer.locator(".messages").inner_text()
    approver = _staff(browser, url, "fuhe")
    approver.goto(f"{url}/review/payees/")
    approver.get_by_role("button", name="确认账户").click()
    assert "收款账户已确认" in approver.locator(".messages").inner_text()

    # the publicity list, published, is public; an outsider objects
    def publish():
        from django.contrib.auth import get_user_model

        from voucher.applications.models import Application
        from voucher.core import clock
        from voucher.review import actions

        application = Application.objects.get(pk=app_id)
        actions.publicity_publish(
            round=application.round,
            applications=[application],
            starts_on=clock.today(),
            ends_on=clock.today() + timedelta(days=7),
            acting_user=get_user_model().objects.get(username="fuhe"),
        )

    in_thread(publish)
    outsider = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN"
    ).new_page()
    outsider.goto(f"{url}/publicity/")
    listed = outsider.locator("table").first.inner_text()
    assert site["applicant_name"] in listed and money in listed
    outsider.screenshot(path=str(SHOTS / "season-3-public-list-390.png"), full_page=True)
    assert outsider.evaluate("() => document.documentElement.scrollWidth") <= 400
    outsider.get_by_role("link", name="提出异议").first.click()
    outsider.get_by_label("异议人姓名或单位名称").fill("王五")
    outsider.get_by_label("联系方式（电话或电子邮箱）").fill("wangwu@example.cn")
    outsider.get_by_label("异议理由").fill("该企业的算力实际由关联公司提供，请核查。")
    time.sleep(3.5)  # a person reads before sending (the spam guard's time stamp)
    outsider.get_by_role("button", name="提交异议").click()
    assert "异议已提交" in outsider.locator("h1").inner_text()
    outsider.screenshot(path=str(SHOTS / "season-4-objection-sent-390.png"), full_page=True)

    # the reviewer resolves it on the review screen
    reviewer.goto(f"{url}/review/{app_id}/")
    objection = reviewer.locator(".objection").first
    assert "异议人：王五" in objection.inner_text()
    objection.get_by_placeholder("处理结果").fill("经核查，供给方与申报单位无关联，异议不成立。")
    objection.get_by_role("button", name="记录处理结果").click()
    reviewer.wait_for_url(f"**/review/{app_id}/")

    # the period ends (the demo's clock), the approver exports a batch and reads the result
    in_thread(lambda: clock.set_offset(8))
    approver.goto(f"{url}/review/payments/")
    approver.get_by_role("button", name="生成拨付批次").click()
    approver.wait_for_url("**/review/payments/*/")
    batch_id = approver.url.rstrip("/").rsplit("/", 1)[1]
    exported = approver.request.get(f"{url}/review/payments/{batch_id}/batch.csv")
    rows = list(csv.reader(io.StringIO(exported.body().decode("utf-8-sig"))))
    assert rows[1][6] == ACCOUNT.replace(" ", "")
    approver.screenshot(path=str(SHOTS / "season-5-batch-1280.png"), full_page=True)
    result = (
        "批次号,序号,收款账号,金额（元）,结果,退回原因,银行流水号,处理日期\n"
        f"{batch_id},1,{rows[1][6]},{rows[1][7]},成功,,YH0001,2026-12-15\n"
    )
    approver.locator("input[type=file]").set_input_files(
        files=[{"name": "result.csv", "mimeType": "text/csv", "buffer": result.encode()}]
    )
    approver.get_by_role("button", name="读入结果").click()
    assert "银行结果已读入" in approver.locator(".messages").inner_text()

    # the applicant sees the money
    applicant.goto(f"{url}/portal/applications/{app_id}/status/")
    paid = applicant.locator("#payment").inner_text()
    assert f"已拨付 {money}" in paid
    _both_widths(applicant, "6-paid")
