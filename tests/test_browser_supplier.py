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
