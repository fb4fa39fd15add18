"""The supplier's side in a real Chromium (issue 22): the bureau's invitation link; the supplier's
contact logs in, joins, disputes one delivery line and confirms the rest; the applicant sees the
dispute on its contract page; the supplier confirms it too and the reviewer sees 供给方已确认
beside each line (the terms, each delivery line, invoice and payment, the delivered amount). axe-core checks every page (tests/browser_support.py). Screenshots
land in test-artifacts/supplier-*.png."""

from __future__ import annotations

import pytest

from .browser_support import ARTIFACTS, chromium, in_thread, totp_code
from .conftest import EXAMPLES_DIR
from .review_support import FAST_HASHERS

pytestmark = pytest.mark.browser

PASSWORD = "voucher-demo"
SUPPLIER_EMAIL = "gongying@supplier.example.cn"
APPLICANT_EMAIL = "shenbao@applicant.example.cn"
REASON = "该期间实际交付数量少于填报数量"


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path, django_user_model):
    from voucher.accounts.actions import supplier_invitation_create
    from voucher.applications.models import Application, Membership
    from voucher.demo.examples import demo_load
    from voucher.demo.staff import demo_staff_ensure

    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = FAST_HASHERS
    demo_load(examples_dir=EXAMPLES_DIR)
    demo_staff_ensure(password=PASSWORD)
    d4 = Application.objects.get(source_name="examples/d4-small/application.json")
    Application.objects.filter(pk=d4.pk).update(state="draft")  # the applicant may still edit
    contract = d4.contracts.order_by("pk").first()
    applicant = django_user_model.objects.create_user(
        APPLICANT_EMAIL, email=APPLICANT_EMAIL, password=PASSWORD
    )
    Membership.objects.create(user=applicant, enterprise=d4.enterprise)
    django_user_model.objects.create_user(SUPPLIER_EMAIL, email=SUPPLIER_EMAIL, password=PASSWORD)
    _invitation, link = supplier_invitation_create(
        uscc=contract.supplier_uscc,
        email=SUPPLIER_EMAIL,
        acting_user=django_user_model.objects.get(username="guanli"),
        accept_url_for=lambda token: f"{live_server.url}/accounts/supplier-invitations/{token}/",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    return {"url": live_server.url, "link": link, "d4": d4, "contract": contract}


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"supplier-{name}.png"), full_page=True)


def _log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("电子邮箱或用户名").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_the_supplier_disputes_one_line_and_confirms_the_rest(browser, site):
    url, contract = site["url"], site["contract"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, url, SUPPLIER_EMAIL)
    page.wait_for_load_state("load")
    page.goto(site["link"])
    page.get_by_role("button", name="加入").click()
    page.wait_for_url("**/portal/supplier/")
    # every example names the same supplier: its list has contracts of several applicants
    page.locator(f'a[href="/portal/supplier/contracts/{contract.pk}/"]').click()
    page.wait_for_url("**/portal/supplier/contracts/*/")
    lines = page.locator(".supplier-line")
    count = lines.count()
    assert count >= 2  # the contract's terms and at least one delivery line
    # a dispute without a reason is refused beside the line
    lines.nth(1).get_by_role("button", name="提出异议").click()
    page.locator("[role=alert]").first.wait_for()
    assert "理由" in page.locator("[role=alert]").first.inner_text()
    page.locator(".supplier-line").nth(1).get_by_label("异议理由").fill(REASON)
    page.locator(".supplier-line").nth(1).get_by_role("button", name="提出异议").click()
    page.wait_for_url("**/portal/supplier/contracts/*/")
    for i in range(count):
        if i == 1:
            continue
        page.locator(".supplier-line").nth(i).get_by_role("button", name="确认").click()
        page.wait_for_load_state("load")
    states = page.locator(".supplier-line-state").all_inner_texts()
    assert states[1] == f"有异议：{REASON}"
    assert all(s == "已确认" for i, s in enumerate(states) if i != 1)
    shot(page, "1-contract")
    page.goto(f"{url}/portal/supplier/")
    row = page.locator("#supplier-contracts tr", has=page.locator(f'a[href$="/{contract.pk}/"]'))
    assert "有异议" in row.inner_text()
    shot(page, "2-list")
    context.close()

    applicant = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = applicant.new_page()
    _log_in(page, url, APPLICANT_EMAIL)
    page.wait_for_load_state("load")
    page.goto(f"{url}/portal/applications/{site['d4'].pk}/contracts/{contract.pk}/")
    words = page.locator("#supplier-words").inner_text()
    assert f"供给方有异议：{REASON}" in words
    assert "供给方已确认" in words
    shot(page, "3-applicant")
    applicant.close()
    stored = in_thread(
        lambda: sorted(contract.supplier_confirmations.values_list("state", flat=True))
    )
    assert stored == ["confirmed"] * (count - 1) + ["disputed"]


def test_the_supplier_confirms_by_file_with_one_dispute(browser, site, tmp_path):
    """Issue 22 item 5: the supplier exports its contracts, fills the column 确认/有异议 (one
    dispute with its reason), uploads the file and sees what was saved."""
    import csv
    import io

    from django.contrib.auth import get_user_model

    from voucher.applications.models import SupplierMember

    url, contract = site["url"], site["contract"]
    in_thread(
        lambda: SupplierMember.objects.create(
            user=get_user_model().objects.get(username=SUPPLIER_EMAIL),
            uscc=contract.supplier_uscc,
        )
    )

    def not_yet_spoken() -> None:
        # the demo's supplier has spoken on d4-small (voucher/demo/examples.py): not yet, here
        from voucher.applications import supplier

        contract.supplier_confirmations.all().delete()
        supplier.supplier_state_refresh(contract.pk)

    in_thread(not_yet_spoken)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    _log_in(page, url, SUPPLIER_EMAIL)
    page.wait_for_load_state("load")
    page.goto(f"{url}/portal/supplier/")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    ours = [r for r in rows if r["行标识"].startswith(f"{contract.pk}/")]
    assert len(ours) >= 2 and ours[0]["行标识"].endswith("/contract")
    disputed = ours[1]["行标识"]
    for r in ours:
        if r["行标识"] == disputed:
            r["确认/有异议"], r["异议理由"] = "有异议", REASON
        else:
            r["确认/有异议"] = "确认"
    filled = tmp_path / "supplier-words.csv"
    with filled.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)  # every contract of the export, only this one's lines filled
    page.get_by_label("填写后的导出文件（.xlsx 或 .csv）").set_input_files(str(filled))
    page.get_by_role("button", name="上传并确认").click()
    result = page.locator("#supplier-file-result")
    result.wait_for()
    assert f"确认 {len(ours) - 1} 行，提出异议 1 行" in result.inner_text()
    row = page.locator("#supplier-contracts tr", has=page.locator(f'a[href$="/{contract.pk}/"]'))
    assert "有异议" in row.inner_text()
    shot(page, "4-file")
    # the filter: only the disputed contract
    page.get_by_label("确认状态").select_option("disputed")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/portal/supplier/?*word=disputed*")
    assert page.locator("#supplier-contracts tbody tr").count() == 1
    context.close()
    stored = in_thread(
        lambda: sorted(contract.supplier_confirmations.values_list("line", "state", "reason"))
    )
    assert (disputed.split("/", 1)[1], "disputed", REASON) in stored
    assert len(stored) == len(ours)


def _log_in_review(page, url: str, username: str) -> None:
    page.goto(f"{url}/review/")
    page.wait_for_url("**/review/login/**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码").fill(totp_code(username))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/review/")


def test_the_reviewer_sees_the_suppliers_word_beside_each_line(browser, site):
    from voucher.applications.models import Application, SupplierAttestation

    url, contract = site["url"], site["contract"]

    def silent_and_in_review() -> None:  # the demo's supplier has spoken on d4-small: not yet
        contract.supplier_confirmations.all().delete()
        SupplierAttestation.objects.filter(contract=contract).delete()
        Application.objects.filter(pk=site["d4"].pk).update(state="in_review")

    in_thread(silent_and_in_review)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, url, SUPPLIER_EMAIL)
    page.wait_for_load_state("load")
    page.goto(site["link"])
    page.get_by_role("button", name="加入").click()
    page.wait_for_url("**/portal/supplier/")
    page.goto(f"{url}/portal/supplier/contracts/{contract.pk}/")
    lines = page.locator(".supplier-line")
    count = lines.count()
    headings = lines.locator("h2").all_inner_texts()
    assert any(h.startswith("发票") for h in headings)  # invoices and payments are lines too
    assert any(h.startswith("付款") for h in headings)
    for i in range(count):
        page.locator(".supplier-line").nth(i).get_by_role("button", name="确认").click()
        page.wait_for_load_state("load")
    assert page.locator(".supplier-line-state").all_inner_texts() == ["已确认"] * count
    context.close()

    reviewer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = reviewer.new_page()
    _log_in_review(page, url, "shenhe")
    page.goto(f"{url}/review/{site['d4'].pk}/")
    page.locator("summary", has_text="合同明细").click()
    confirmed = page.locator(".supplier-confirmed")
    # the terms, each delivery line, each invoice and payment, and the delivered amount
    assert confirmed.count() == count + 1
    assert all(t == "供给方已确认" for t in confirmed.all_inner_texts())
    assert page.locator(".supplier-unconfirmed, .supplier-disputed").count() == 0
    delivered = page.locator('td[data-label="交付"]').first
    assert "供给方已确认" in delivered.inner_text()
    shot(page, "4-review")
    reviewer.close()


# --- issue 22's "Done when": the whole journey, from the applicant's contract to the review -------

CORRECTED = "已按供给方的结算单更正为 80000 卡时"


@pytest.fixture
def draft(transactional_db, live_server, settings, tmp_path, django_user_model):
    """A direction-2 draft of USCC_A with every step but its contract and the declarations on it
    (filled through the pages by the Django client, as tests/portal_helpers.py's fill_d2 does); the
    supplier USCC_B has a member, who is e-mailed on submission; the demo's staff log in with
    TOTP."""
    from django.test import Client
    from django.urls import reverse

    from voucher.applications.models import Application, SupplierMember
    from voucher.applications.rounds import rounds_sync
    from voucher.demo.staff import demo_staff_ensure
    from voucher.policy.round import MATERIAL_IDS

    from .portal_helpers import (
        APPLICANT,
        PROJECT_D2,
        REPORT,
        USCC_A,
        USCC_B,
        member,
        open_round,
        pdf_bytes,
        post_step,
        upload,
    )

    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.VOUCHER_JOBS_INLINE = True  # the submission's job (evaluation, e-mails) at once
    rounds_sync()
    open_round()
    demo_staff_ensure(password=PASSWORD)
    applicant = member(APPLICANT_EMAIL, USCC_A, "北京示例智能科技有限公司")
    applicant.set_password(PASSWORD)
    applicant.save()
    supplier_user = django_user_model.objects.create_user(
        SUPPLIER_EMAIL, email=SUPPLIER_EMAIL, password=PASSWORD
    )
    SupplierMember.objects.create(user=supplier_user, uscc=USCC_B)
    client = Client()
    client.force_login(applicant)
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    for step, data in (
        ("applicant", APPLICANT),
        ("project", PROJECT_D2),
        ("report", REPORT),
        ("commitment", {"acknowledged": "on"}),
    ):
        assert post_step(client, app, step, data).status_code == 302
    for material in MATERIAL_IDS:
        upload(client, app, material, f"{material}.pdf", pdf_bytes())
    ARTIFACTS.mkdir(exist_ok=True)
    return {"url": live_server.url, "id": app.pk, "supplier_uscc": USCC_B}


@pytest.fixture
def journey_browser(draft):
    with chromium() as browser:
        yield browser


def _add_row(page, kind: str, values: dict[str, str]) -> None:
    """One row of a contract through its panel on the contract page ("添加")."""
    section = page.locator(f"section#{kind}")
    section.locator("details.panel > summary").click()
    for field, value in values.items():
        box = section.locator(f"#id_{kind}-{field}")
        if field == "service":
            box.select_option(value)
        else:
            box.fill(value)
    _submit(page, section.get_by_role("button", name="添加"))


def _submit(page, button) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def _line(page, heading: str):
    return page.locator(".supplier-line", has=page.locator("h2", has_text=heading))


def test_the_whole_journey_of_a_contract_confirmed_by_its_supplier(journey_browser, draft):
    """An applicant adds a contract naming its supplier's USCC with two delivery lines, an invoice
    and a payment, and submits; the supplier (e-mailed at submission) disputes one delivery line
    and confirms the rest and declares (附件14-1 三); the applicant sees the dispute. A submitted
    application is frozen: the product's path for a correction is 补正 (the bureau returns it,
    portal/actions.py edit_problem), where the applicant removes the disputed line and adds it
    again corrected (a line is never edited in place) and resubmits; the supplier, told of the
    correction, sees the new line unconfirmed and confirms it; the reviewer sees 供给方已确认
    beside every line and no SUPPLIER_CONFIRMATION finding left open."""
    import re
    from datetime import timedelta

    from django.core import mail

    browser = journey_browser
    url, app_id = draft["url"], draft["id"]
    base = f"{url}/portal/applications/{app_id}"
    sept = {"start": "2025-09-01", "end": "2025-09-30", "service": "compute", "device": "H800",
            "quantity": "216000", "unit": "card-hour", "unit_price": "12",
            "amount": "2,592,000.00"}  # fmt: skip
    october = {**sept, "start": "2025-10-01", "end": "2025-10-31", "quantity": "100000",
               "amount": "1,200,000.00"}  # fmt: skip

    # 1. the applicant adds the contract, its two delivery lines, an invoice and a payment
    applicant = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = applicant.new_page()
    _log_in(page, url, APPLICANT_EMAIL)
    page.wait_for_url("**/portal/")
    page.goto(f"{base}/contracts/")
    page.get_by_label("合同编号").fill("C1")
    page.get_by_label("算力供给方名称").fill("北京示例算力有限公司")
    page.get_by_label("供给方统一社会信用代码").fill(draft["supplier_uscc"])
    page.get_by_label("签订日期").fill("2025-09-01")
    page.get_by_label("合同有效期开始").fill("2025-09-01")
    page.get_by_label("合同有效期结束").fill("2026-08-31")
    page.get_by_label("合同总额（元）").fill("24,000,000.00")
    page.get_by_role("button", name="保存合同").click()
    page.wait_for_url(re.compile(r"/contracts/\d+/$"))
    contract_pk = int(re.search(r"/contracts/(\d+)/", page.url).group(1))
    _add_row(page, "deliveries", sept)
    _add_row(page, "deliveries", october)
    rows = page.locator("section#deliveries table.rows tbody tr:not(.row-note)")
    assert rows.count() == 2
    _add_row(page, "invoices", {"number": "25112000000012345678", "date": "2025-11-08",
                                "amount": "3,792,000.00"})  # fmt: skip
    _add_row(page, "payments", {"date": "2025-11-15", "amount": "3,792,000.00"})
    words = page.locator("#supplier-words .supplier-word").all_inner_texts()
    assert len(words) == 5 and all(w.endswith("供给方未确认") for w in words)
    shot(page, "j1-contract-added")
    # the declarations step opens again for the new contract; then submit
    page.goto(f"{base}/declarations/")
    for name in (f"sharing_{contract_pk}", f"hierarchy_{contract_pk}",
                 "other_municipal_compute_support", "dishonest_entity"):  # fmt: skip
        page.locator(f'input[name="{name}"][value="0"]').check()
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url("**/commitment/")
    page.goto(f"{base}/submit/")
    assert page.locator(".blockers").count() == 0, page.locator(".blockers").inner_text()
    page.get_by_label("我确认以上内容真实、准确，提交后不能再修改。").check()
    page.get_by_role("button", name="提交申报").click()
    page.wait_for_url("**/status/")
    assert page.locator("#state").inner_text() == "已提交"
    # the supplier is e-mailed at submission (the submission's job), and it is audited
    asked = [m for m in mail.outbox if SUPPLIER_EMAIL in m.to]
    assert len(asked) == 1 and "请确认合同 C1" in asked[0].subject

    def notified() -> list[str]:
        from voucher.core.models import AuditEntry

        return list(
            AuditEntry.objects.filter(action="supplier_notified").values_list(
                "data__event", flat=True
            )
        )

    assert in_thread(notified) == ["supplier:submitted"]

    # 2. the supplier disputes the October line, confirms the rest and declares (14-1 三)
    supplier_side = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    spage = supplier_side.new_page()
    _log_in(spage, url, SUPPLIER_EMAIL)
    spage.wait_for_url("**/portal/supplier/")
    spage.locator(f'a[href="/portal/supplier/contracts/{contract_pk}/"]').click()
    spage.wait_for_url(f"**/portal/supplier/contracts/{contract_pk}/")
    headings = spage.locator(".supplier-line h2").all_inner_texts()
    assert headings[:3] == ["合同条款", "交付记录 1", "交付记录 2"] and len(headings) == 5
    _line(spage, "交付记录 2").get_by_label("异议理由").fill(REASON)
    _submit(spage, _line(spage, "交付记录 2").get_by_role("button", name="提出异议"))
    for heading in headings:
        if heading != "交付记录 2":
            _submit(spage, _line(spage, heading).get_by_role("button", name="确认"))
    states = spage.locator(".supplier-line-state").all_inner_texts()
    assert states == ["已确认", "已确认", f"有异议：{REASON}", "已确认", "已确认"]
    spage.locator("#att-compliant").check()
    spage.locator("#att-sharing").check()
    spage.locator("#att-hierarchy").check()
    spage.get_by_role("button", name="提交声明").click()
    spage.locator("#attestation-made").wait_for()
    shot(spage, "j2-supplier-disputes")

    # 3. the applicant sees the dispute: the wizard is frozen, the status page shows it
    page.goto(f"{base}/contracts/{contract_pk}/")
    page.wait_for_url("**/status/")
    status_words = page.locator("#supplier-status").inner_text()
    assert f"供给方有异议：{REASON}" in status_words
    assert status_words.count("供给方已确认") == 4
    shot(page, "j3-applicant-sees-dispute")

    # 4. the bureau accepts it and returns it for 补正 naming the dispute (the review's own
    # screens for this are tests/test_browser_review.py's)
    def returned() -> None:
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from voucher.applications.models import Application
        from voucher.review import actions as review_actions

        reviewer = get_user_model().objects.get(username="shenhe")
        application = Application.objects.get(pk=app_id)
        for name in ("accept", "pass_formal_check"):
            review_actions.application_transition(
                application=application, transition=name, acting_user=reviewer
            )
        review_actions.supplement_request(
            application=application,
            items=[f"供给方对合同 C1 的交付记录 2（2025年10月）有异议：{REASON}，请更正"],
            due_on=timezone.localdate() + timedelta(days=10),
            acting_user=reviewer,
        )

    in_thread(returned)

    # 5. the applicant corrects the line through 补正: removes it and adds it again, resubmits
    page.goto(f"{base}/status/")
    page.locator("#start-supplement").click()
    page.wait_for_url("**/supplement/")
    page.goto(f"{base}/contracts/{contract_pk}/")
    assert f"供给方有异议：{REASON}" in page.locator("#supplier-words").inner_text()
    section = page.locator("section#deliveries")
    section.get_by_role("link", name="删除这一行（需确认）").nth(1).click()
    page.wait_for_url("**/deliveries/*/delete/")
    page.get_by_label("我确认删除这一行").check()
    page.get_by_role("button", name="确认删除").click()
    page.wait_for_url(re.compile(rf"/contracts/{contract_pk}/(#deliveries)?$"))
    _add_row(page, "deliveries", {**october, "quantity": "80000", "amount": "960,000.00"})
    words = page.locator("#supplier-words .supplier-word").all_inner_texts()
    assert sum(w.endswith("供给方已确认") for w in words) == 4
    (new_line,) = [w for w in words if not w.endswith("供给方已确认")]
    assert new_line.startswith("交付记录") and "960,000.00 元" in new_line
    assert new_line.endswith("供给方未确认")
    shot(page, "j4-applicant-corrected")
    page.goto(f"{base}/supplement/")
    page.get_by_label("第 1 项答复").fill(CORRECTED)
    page.get_by_label("我已按补正要求修改申报内容，确认以上答复真实、准确。").check()
    page.get_by_role("button", name="重新提交").click()
    page.wait_for_url("**/status/")
    assert page.locator("#state").inner_text() == "已补正"
    told = [m for m in mail.outbox if SUPPLIER_EMAIL in m.to and "已更正" in m.subject]
    assert len(told) == 1 and REASON in told[0].body  # the line it disputed, named
    applicant.close()

    # 6. the supplier sees the corrected line unconfirmed and confirms it
    spage.goto(f"{url}/portal/supplier/contracts/{contract_pk}/")
    states = spage.locator(".supplier-line-state").all_inner_texts()
    assert states == ["已确认", "已确认", "未确认", "已确认", "已确认"]
    assert "80000" in _line(spage, "交付记录 2").inner_text()
    _submit(spage, _line(spage, "交付记录 2").get_by_role("button", name="确认"))
    assert spage.locator(".supplier-line-state").all_inner_texts() == ["已确认"] * 5
    shot(spage, "j5-supplier-confirms-correction")
    supplier_side.close()

    # 7. the reviewer sees 供给方已确认 beside each line and no SUPPLIER_CONFIRMATION left open
    reviewer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    rpage = reviewer.new_page()
    _log_in_review(rpage, url, "shenhe")
    rpage.goto(f"{url}/review/{app_id}/")
    rpage.locator("summary", has_text="合同明细").click()
    confirmed = rpage.locator(".supplier-confirmed")
    # the terms, the two delivery lines, the invoice, the payment, and the delivered amount
    assert confirmed.all_inner_texts() == ["供给方已确认"] * 6
    assert rpage.locator(".supplier-unconfirmed, .supplier-disputed").count() == 0
    assert "供给方已确认" in rpage.locator('td[data-label="交付"]').first.inner_text()
    assert "供给方已确认" in rpage.locator(".supplier-invoices").inner_text()
    assert "属于合规的智算资源" in rpage.locator(".supplier-attestation").inner_text()
    finding = rpage.locator("#finding-SUPPLIER_CONFIRMATION-C1")
    assert "finding-pass" in (finding.get_attribute("class") or "")
    assert rpage.locator('.finding-review[id^="finding-SUPPLIER_CONFIRMATION"]').count() == 0
    shot(rpage, "j6-review")
    reviewer.close()
