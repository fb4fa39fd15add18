"""A reviewer's day in a real Chromium: TOTP login, the queue, a review finding and the
cross-application findings resolved, a supplement requested and answered (with its diff), a
proposal, a second person approves, the publicity list, the payment. Screenshots land in test-artifacts/review-*.png.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from .browser_support import ARTIFACTS, chromium, in_thread, totp_code
from .conftest import EXAMPLES_DIR, application_from
from .review_support import FAST_HASHERS, tick_materials

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"


@pytest.fixture
def site(transactional_db, live_server, settings, django_user_model, tmp_path):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from voucher.accounts.door import BACKEND, SessionStore
    from voucher.applications.models import Membership
    from voucher.demo.examples import demo_load
    from voucher.demo.staff import demo_examples_submit, demo_staff_ensure

    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DATA_DIR = tmp_path  # the materials' uploads
    demo_load(examples_dir=EXAMPLES_DIR)
    demo_staff_ensure(password=PASSWORD)
    demo_examples_submit()
    application = application_from("d2-common-shareholder-review")
    # The examples share one made-up enterprise; in this round it applied once (ONE_DIRECTION
    # is judged across the round when the answer to the supplement is evaluated again).
    type(application).objects.filter(enterprise=application.enterprise).exclude(
        pk=application.pk
    ).delete()
    applicant = django_user_model.objects.create_user(
        "t-applicant", password=PASSWORD, email="applicant@enterprise.example.cn"
    )
    Membership.objects.create(user=applicant, enterprise=application.enterprise)
    session = SessionStore()
    session[SESSION_KEY] = str(applicant.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = applicant.get_session_auth_hash()
    session.create()
    ARTIFACTS.mkdir(exist_ok=True)
    return {"url": live_server.url, "id": application.pk, "applicant_session": session.session_key}


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


def test_a_reviewers_day(browser, site):
    url, app_id = site["url"], site["id"]
    screen = f"{url}/review/{app_id}/"
    reviewer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = reviewer.new_page()

    # log in with TOTP; the queue
    _log_in(page, url, "shenhe")
    assert page.locator("h1").inner_text() == "审核队列"
    page.screenshot(path=str(ARTIFACTS / "review-1-queue.png"), full_page=True)

    # take the application from "my queue" (nobody has it yet), then open it from there
    page.get_by_role("link", name="我的待办").click()
    row = page.locator("#unassigned tr", has=page.locator(f"a[href='/review/{app_id}/']"))
    row.get_by_role("button", name="领取").click()
    assert page.get_by_text("已分配给 shenhe").is_visible()
    page.locator(f"#assigned a[href='/review/{app_id}/']").click()
    page.wait_for_url(screen)
    assert page.locator("#assignee").inner_text() == "承办人 shenhe"

    # accept, formal check passed
    page.get_by_role("button", name="受理并进行形式审查").click()
    assert page.locator("#state").inner_text() == "形式审查中"
    assert page.get_by_text(
        "已办理：受理并进行形式审查"
    ).is_visible()  # which step, not just "done"
    page.get_by_role("button", name="形式审查通过，进入审核").click()
    assert page.locator("#state").inner_text() == "审核中"
    assert page.get_by_text("已办理：形式审查通过，进入审核").is_visible()

    # resolve the review finding, with the reason
    finding = page.locator(".finding-review", has_text="SUPPLIER_EQUITY")
    assert "P-7788" in finding.inner_text()  # the related-party path is the evidence
    finding.get_by_label("认可", exact=True).check()
    finding.get_by_label("理由").fill("共同股东 P-7788 持股比例低，已核实无利益输送")
    finding.get_by_role("button", name="记录处理意见").click()
    finding = page.locator(".finding-review", has_text="SUPPLIER_EQUITY")
    assert "已处理：认可" in finding.locator(".resolution").inner_text()
    page.screenshot(path=str(ARTIFACTS / "review-2-finding-resolved.png"), full_page=True)

    # the cross-application findings (the examples claim one invoice and one contract in other
    # applications) are review items too: no decision while one is open, whatever the kind
    cross = page.locator("#cross-findings")
    assert "DUPLICATE_INVOICE" in cross.inner_text()
    page.locator("form.propose input[name=kind][value=rejection]").check()
    page.locator("form.propose input[name=reason]").fill("发票重复")
    page.get_by_role("button", name="拟定").click()
    assert page.get_by_text("还有跨申报核查项未处理").is_visible()
    open_items = cross.locator(".cross-finding.unresolved")
    for _ in range(open_items.count()):
        item = open_items.first
        item.get_by_label("认可", exact=True).check()
        item.get_by_label("理由").fill("其他申报使用的是同一合同的其他发票金额，已核实")
        with page.expect_navigation():
            item.get_by_role("button", name="记录处理意见").click()
    assert open_items.count() == 0
    assert "已处理：认可" in cross.locator(".resolution").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "review-2b-cross-findings-resolved.png"), full_page=True)

    # request a supplement, item by item
    page.locator("textarea[name=items]").fill("补充付款凭证\n说明与供应方的股权关系")
    page.get_by_role("button", name="发出补正通知").click()
    assert page.locator("#state").inner_text() == "待补正"

    # the applicant sees exactly that list on the portal's status page…
    applicant = browser.new_context(viewport={"width": 1000, "height": 800}, locale="zh-CN")
    applicant.add_cookies([{"name": "sessionid", "value": site["applicant_session"], "url": url}])
    status = applicant.new_page()
    status.goto(f"{url}/portal/applications/{app_id}/status/")
    assert status.get_by_text("补充付款凭证").first.is_visible()
    assert status.get_by_text("说明与供应方的股权关系").first.is_visible()
    status.screenshot(path=str(ARTIFACTS / "review-3-applicant-sees-the-list.png"), full_page=True)
    applicant.close()

    # …corrects the project name and answers each item (the wizard's own journey, with its
    # completeness and version checks, is tests/test_browser_supplement.py; here the answer goes
    # through the same review action the wizard's resubmission calls)
    def answer():
        from django.contrib.auth import get_user_model

        from voucher.applications import lifecycle
        from voucher.applications.models import Application, SupplementRequest

        Application.objects.filter(pk=app_id).update(project_name="多模态大模型训练（补正后）")
        application = Application.objects.get(pk=app_id)
        open_request = SupplementRequest.objects.get(application=application, answered_at=None)
        first, second = open_request.items.order_by("id")
        lifecycle.supplement_answer(
            application=application,
            answers={
                first.pk: "付款凭证已上传",
                second.pk: "供应方与我单位无控股关系，共同股东持股 5%",
            },
            acting_user=get_user_model().objects.get(username="t-applicant"),
        )

    in_thread(answer)

    # the reviewer sees the answers and the field-level diff
    page.goto(screen)
    assert page.locator("#state").inner_text() == "已补正"
    diff = page.locator("#diff")
    assert "用算项目名称" in diff.inner_text()  # the field as the form names it, not project.name
    assert "多模态大模型训练（补正后）" in diff.locator(".after").first.inner_text()
    assert page.get_by_text("答复：付款凭证已上传").is_visible()
    page.screenshot(path=str(ARTIFACTS / "review-4-diff.png"), full_page=True)
    page.get_by_role("button", name="补正后继续审核").click()
    assert page.locator("#state").inner_text() == "审核中"

    # the new evaluation asks again; resolve, then propose the full amount
    finding = page.locator(".finding-review", has_text="SUPPLIER_EQUITY")
    finding.get_by_label("认可", exact=True).check()
    finding.get_by_label("理由").fill("补正说明已核实")
    finding.get_by_role("button", name="记录处理意见").click()

    def materials_checked():  # 附件14-1, item by item (tests/test_browser_materials.py does it by hand)
        from django.contrib.auth import get_user_model

        from voucher.applications.models import Application

        tick_materials(
            Application.objects.get(pk=app_id), get_user_model().objects.get(username="shenhe")
        )

    in_thread(materials_checked)
    page.goto(screen)
    assert page.locator("input[name=amount]").input_value() == "600000.00"
    page.get_by_role("button", name="拟定").click()
    assert page.get_by_text("已拟定审核意见").is_visible()
    page.screenshot(path=str(ARTIFACTS / "review-5-proposed.png"), full_page=True)
    reviewer.close()

    # a second person, the approver, confirms
    approver = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = approver.new_page()
    _log_in(page, url, "fuhe")
    page.get_by_role("link", name="我的待办").click()
    page.locator(f"#to-confirm a[href='/review/{app_id}/#decision']").click()
    page.screenshot(path=str(ARTIFACTS / "review-5b-approver-queue.png"), full_page=True)
    # the amount is confirmed in figures and words before the button does anything
    page.get_by_role("button", name="复核确认").click()
    assert page.locator("#state").inner_text() != "予以支持"
    assert "600,000.00" in page.locator(".amount-check").inner_text()
    assert "陆拾万元整" in page.locator(".amount-check").inner_text()
    page.locator("#amount-checked").check()
    page.get_by_role("button", name="复核确认").click()
    assert page.locator("#state").inner_text() == "予以支持"
    assert page.get_by_role("link", name="审核结果通知书（PDF）").is_visible()
    page.screenshot(path=str(ARTIFACTS / "review-6-approved.png"), full_page=True)

    # publish the publicity list: a period already over is refused (the payment would follow
    # at once); one from today is published
    page.goto(f"{url}/review/publicity/")
    today = timezone.localdate()
    page.get_by_label("公示开始").fill((today - timedelta(days=10)).isoformat())
    page.get_by_label("公示结束").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="发布公示名单").click()
    assert page.get_by_text("公示开始日期不能早于今天").is_visible()
    page.get_by_label("公示开始").fill(today.isoformat())
    page.get_by_label("公示结束").fill((today + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="发布公示名单").click()
    assert page.get_by_text("已发布公示名单").is_visible()
    assert page.get_by_role("link", name="导出 Excel").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "review-7-publicity.png"), full_page=True)

    def period_over():
        from voucher.applications.models import PublicityList

        PublicityList.objects.update(
            starts_on=today - timedelta(days=8), ends_on=today - timedelta(days=1)
        )

    in_thread(period_over)  # eight days later

    # record the payment
    page.goto(screen)
    payment = page.locator("#payment")
    payment.get_by_label("金额（元）").fill("600000.00")
    payment.get_by_label("凭证号").fill("ZF-2026-0001")
    payment.get_by_role("button", name="登记拨付").click()
    assert page.locator("#state").inner_text() == "已拨付"
    page.screenshot(path=str(ARTIFACTS / "review-8-paid.png"), full_page=True)

    # the dashboard shows it
    page.goto(f"{url}/review/dashboard/")
    assert "600,000.00" in page.locator("#direction-2").inner_text()
    page.screenshot(path=str(ARTIFACTS / "review-9-dashboard.png"), full_page=True)
    approver.close()
