"""Issue 19, the applicant's experience: changing direction, deleting a draft, field-level
saves, the claim period beside the deliveries, the signed forms on the materials step, the
declarations of the Excel template, and warnings and confirmations where money is involved."""

from __future__ import annotations

from datetime import date as date_
from decimal import Decimal

import pytest
from django.urls import reverse

from .portal_helpers import (
    APPLICANT,
    PROJECT_D2,
    USCC_A,
    contract_values,
    fill_d2,
    member,
    open_round,
    pdf_bytes,
    post_step,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    open_round()
    return member("a@example.cn", USCC_A, "北京示例智能科技有限公司")


@pytest.fixture
def client_a(client, applicant):
    client.force_login(applicant)
    return client


def new_application(client, direction: int = 2):
    from voucher.applications.models import Application

    response = client.post(reverse("portal:new"), {"direction": direction})
    assert response.status_code == 302, response.content.decode()[:3000]
    return Application.objects.latest("id")


def audit_actions(app) -> list[str]:
    from voucher.core.models import AuditEntry

    return list(
        AuditEntry.objects.filter(
            object_type="applications.application", object_id=str(app.pk)
        ).values_list("action", flat=True)
    )


def submitted(client, app):
    fill_d2(client, app)
    response = post_step(client, app, "submit", {"confirm": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert app.state == "submitted"
    return app


# --- 1. changing direction and deleting a draft -----------------------------------------------


def test_the_direction_step_changes_the_direction_reevaluates_and_audits(client_a):
    from voucher.applications.models import StoredEvaluation

    app = new_application(client_a)
    fill_d2(client_a, app)
    page = client_a.get(reverse("portal:direction", args=[app.pk])).content.decode()
    assert 'id="direction-change"' in page and 'name="direction" value="4"' in page
    assert 'name="direction" value="3"' not in page  # 免申即享: no radio for direction 3
    evaluations = StoredEvaluation.objects.filter(application=app).count()
    response = post_step(client_a, app, "direction", {"direction": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert app.direction == 1
    assert app.miit_2025_list is False  # direction 2's condition is cleared
    assert "application_direction_change" in audit_actions(app)
    # the self-check ran again at once, under direction 1
    latest = StoredEvaluation.objects.filter(application=app).order_by("-id").first()
    assert StoredEvaluation.objects.filter(application=app).count() == evaluations + 1
    assert any(f["rule"].startswith("D1") for f in latest.findings), latest.findings
    # the project step asks direction 1's questions again before submission
    from voucher.portal.selectors import submission_blockers

    assert any(b.step == "project" for b in submission_blockers(app))
    followed = client_a.get(reverse("portal:direction", args=[app.pk])).content.decode()
    assert "方向二改为方向一" in followed


def test_direction_3_is_not_opened_nor_chosen_in_the_portal(client_a):
    from voucher.applications.models import Application

    response = client_a.post(reverse("portal:new"), {"direction": 3})
    assert response.status_code == 200
    assert "免申即享" in response.content.decode()
    assert not Application.objects.exists()
    app = new_application(client_a)
    response = post_step(client_a, app, "direction", {"direction": "3"})
    assert response.status_code == 400
    assert "免申即享" in response.content.decode()
    app.refresh_from_db()
    assert app.direction == 2


def test_the_action_refuses_direction_3_too(applicant):
    from voucher.applications.models import Enterprise
    from voucher.portal import actions

    with pytest.raises(actions.PortalError, match="免申即享"):
        actions.application_create(
            enterprise=Enterprise.objects.get(uscc=USCC_A), direction=3, acting_user=applicant
        )


def test_a_submitted_application_keeps_its_direction_and_cannot_be_deleted(client_a):
    from voucher.applications.models import Application
    from voucher.portal import actions

    app = submitted(client_a, new_application(client_a))
    response = post_step(client_a, app, "direction", {"direction": "1"})
    assert response.status_code == 302  # the wizard is closed: to the status page
    app.refresh_from_db()
    assert app.direction == 2
    with pytest.raises(actions.PortalError, match="已提交"):
        actions.application_direction_change(
            application=app, expected_version=app.version, direction=1, acting_user=None
        )
    response = post_step(client_a, app, "delete_draft", {"confirm": "on"})
    assert response.status_code == 400
    assert "不能删除" in response.content.decode()
    assert Application.objects.filter(pk=app.pk).exists()


def test_deleting_a_draft_asks_first_then_deletes_it_and_its_uploads(
    client_a, settings, django_capture_on_commit_callbacks
):
    from voucher.applications.models import Application, Contract, MaterialFile
    from voucher.core.models import AuditEntry

    app = new_application(client_a)
    assert post_step(client_a, app, "contracts", contract_values("C1", "100.00")).status_code == 302
    upload(client_a, app, "contract", "licence.pdf", pdf_bytes())
    sha = MaterialFile.objects.get(application=app).sha256
    stored = settings.DATA_DIR / "uploads" / sha
    page = client_a.get(reverse("portal:delete_draft", args=[app.pk])).content.decode()
    assert "不能恢复" in page and 'name="confirm"' in page
    response = post_step(client_a, app, "delete_draft", {})  # not confirmed
    assert response.status_code == 400
    assert "请勾选确认" in response.content.decode()
    assert Application.objects.filter(pk=app.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(client_a, app, "delete_draft", {"confirm": "on"})
    assert response.status_code == 302
    assert not Application.objects.filter(pk=app.pk).exists()
    assert not Contract.objects.filter(contract_id="C1").exists()
    assert not MaterialFile.objects.filter(sha256=sha).exists()
    assert not stored.exists()
    entry = AuditEntry.objects.get(action="application_delete_draft")
    assert entry.data["contracts"] == ["C1"]
    assert entry.data["files"][0]["sha256"] == sha
    # a new draft may be opened in the round again
    new_application(client_a, direction=4)


# --- 3. field-level saves -----------------------------------------------------------------------


def test_one_invalid_field_does_not_block_saving_the_others(client_a):
    app = new_application(client_a)
    data = {**APPLICANT, "contact_mobile": "12345"}
    response = post_step(client_a, app, "applicant", data)
    assert response.status_code == 200  # the form again (htmx swaps a 200 in place)
    page = response.content.decode()
    assert "请填写11位中国大陆手机号" in page
    assert 'value="12345"' in page  # the typed value is kept at the invalid field
    app.refresh_from_db()
    assert app.registered_address == APPLICANT["registered_address"]
    assert app.contact_name == "张三"
    assert app.contact_mobile == ""
    # the sidebar reads the saved draft: no stale "注册地址" to fill in
    check = client_a.get(reverse("portal:selfcheck", args=[app.pk])).content.decode()
    assert "注册地址" not in check
    assert "联系人手机" in check
    # the form on the page carries the new version: correcting the field saves at once
    assert f'name="version" value="{app.version}"' in page
    response = post_step(client_a, app, "applicant", APPLICANT)
    assert response.status_code == 302
    from voucher.portal.selectors import progress_of

    assert "applicant" in progress_of(app).steps_done


def test_the_project_step_saves_its_valid_fields_too(client_a):
    app = new_application(client_a)
    response = post_step(
        client_a, app, "project", {**PROJECT_D2, "project_start_date": "2025-13-45"}
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.project_name == PROJECT_D2["project_name"]
    assert app.miit_2025_list is True
    assert app.project_start_date is None
    from voucher.portal.selectors import progress_of

    assert "project" not in progress_of(app).steps_done


def test_the_report_step_saves_the_sections_that_fit(client_a):
    from voucher.documents.models import ImplementationReport
    from voucher.documents.report_sections import REPORT_MAX_CHARS
    from voucher.portal.selectors import progress_of

    from .portal_helpers import REPORT

    app = new_application(client_a)
    too_long = "长" * (REPORT_MAX_CHARS + 1)
    response = post_step(client_a, app, "report", {**REPORT, "progress": too_long})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"最多 {REPORT_MAX_CHARS} 个字符" in page and too_long in page  # kept, beside its error
    report = ImplementationReport.objects.get(application=app)
    assert report.enterprise_overview == REPORT["enterprise_overview"]
    assert report.content == REPORT["content"]
    assert report.progress == ""
    assert "report" not in progress_of(app).steps_done
    app.refresh_from_db()
    assert f'name="version" value="{app.version}"' in page
    assert post_step(client_a, app, "report", REPORT).status_code == 302
    assert "report" in progress_of(app).steps_done


def test_the_declarations_step_saves_the_answers_given(client_a):
    from voucher.core.models import AuditEntry
    from voucher.portal.selectors import progress_of

    app = new_application(client_a)
    assert post_step(client_a, app, "contracts", contract_values("C1", "100.00")).status_code == 302
    contract = app.contracts.get()
    answers = {"other_municipal_compute_support": "1", f"sharing_{contract.pk}": "1"}
    response = post_step(client_a, app, "declarations", answers)
    assert response.status_code == 200
    app.refresh_from_db()
    contract.refresh_from_db()
    assert app.other_municipal_compute_support is True
    assert contract.revenue_or_risk_sharing is True
    assert "declarations" not in progress_of(app).steps_done
    entry = AuditEntry.objects.filter(action="declarations_save").latest("id")
    assert entry.data["not_saved"] == sorted(["dishonest_entity", f"hierarchy_{contract.pk}"])
    # opened again, the page shows the answers saved and still asks the others
    page = client_a.get(reverse("portal:declarations", args=[app.pk])).content.decode()
    assert 'value="1" required id="id_other_municipal_compute_support_0" checked' in page
    assert f'value="1" required id="id_sharing_{contract.pk}_0" checked' in page
    assert f'id="id_hierarchy_{contract.pk}_0" checked' not in page
    assert f'id="id_hierarchy_{contract.pk}_1" checked' not in page
    complete = {**answers, "dishonest_entity": "0", f"hierarchy_{contract.pk}": "0"}
    assert post_step(client_a, app, "declarations", complete).status_code == 302
    assert "declarations" in progress_of(app).steps_done


def test_the_contract_page_saves_the_valid_fields_of_a_contract(client_a):

    app = new_application(client_a)
    contract, _page = contract_with_delivery(client_a, app)
    url = reverse("portal:contract", args=[app.pk, contract.pk])
    app.refresh_from_db()
    values = {**contract_values("C1", "6,000,000.00"), "supplier_name": "北京另一算力有限公司"}
    values["valid_to"] = "2024-01-01"  # before its start: refused
    response = client_a.post(url, {"form": "contract", "version": app.version, **values})
    assert response.status_code == 200
    page = response.content.decode()
    assert "有效期结束早于开始" in page and 'value="2024-01-01"' in page
    contract.refresh_from_db()
    assert contract.total_amount == Decimal("6000000.00")
    assert contract.supplier_name == "北京另一算力有限公司"
    assert contract.valid_to == date_(2026, 8, 31)  # kept
    assert contract.deliveries.count() == 1
    app.refresh_from_db()
    assert page.count(f'name="version" value="{app.version}"') >= 1
    assert f'name="deliveries-version" value="{app.version}"' in page  # the lines' forms too


def test_a_bad_delivery_line_keeps_what_was_typed_and_loses_nothing_else(client_a):
    app = new_application(client_a)
    contract, _page = contract_with_delivery(client_a, app)
    app.refresh_from_db()
    url = reverse("portal:contract", args=[app.pk, contract.pk])
    line = {"start": "2025-10-01", "end": "2025-10-31", "service": "compute", "device": "",
            "quantity": "1000", "unit": "card-hour", "unit_price": "12", "amount": "12000.00"}  # fmt: skip
    data = {"form": "deliveries", "deliveries-version": app.version}
    data.update({f"deliveries-{k}": v for k, v in line.items()})
    response = client_a.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "算力交付须填写设备型号" in page
    assert 'name="deliveries-quantity" value="1000"' in page  # what was typed stays
    assert 'name="deliveries-start" value="2025-10-01"' in page
    assert contract.deliveries.count() == 1  # the line already there
    contract.refresh_from_db()
    assert contract.total_amount == Decimal("5000000.00")  # and the contract
    assert 'value="5000000.00"' in page or 'value="5,000,000.00"' in page


# --- 4 and 7. what counts of the deliveries; warnings and confirmations -------------------------


def contract_with_delivery(client, app, **delivery):
    from voucher.applications.models import Contract

    assert (
        post_step(client, app, "contracts", contract_values("C1", "5,000,000.00")).status_code
        == 302
    )
    contract = Contract.objects.get(application=app, contract_id="C1")
    values = {
        "start": "2025-09-01",
        "end": "2025-09-30",
        "service": "compute",
        "device": "H800",
        "quantity": "216000",
        "unit": "card-hour",
        "unit_price": "12.00",
        "amount": "2592000.00",
        **delivery,
    }
    app.refresh_from_db()
    data = {"form": "deliveries", "deliveries-version": app.version}
    data.update({f"deliveries-{k}": v for k, v in values.items()})
    url = reverse("portal:contract", args=[app.pk, contract.pk])
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return contract, response.content.decode()


def test_the_contract_page_shows_the_period_the_rates_and_what_is_left_out(client_a):
    from voucher.policy.money import format_yuan_grouped, pro_rate
    from voucher.policy.round import get_round
    from voucher.portal.templatetags.portal_format import cn_date, percent

    app = new_application(client_a)
    _contract, page = contract_with_delivery(client_a, app)
    rnd = get_round(app.round.code)
    # the round's parameters, not a literal
    assert cn_date(rnd.window_start) in page and cn_date(rnd.window_end) in page
    assert percent(rnd.directions[2].rate) in page
    # 2025-09-01..30: the days before the period's first day are left out, with the amount
    days_in = (date_(2025, 9, 30) - rnd.window_start).days + 1
    counted = pro_rate(Decimal("2592000.00"), days_in, 30)
    excluded = Decimal("2592000.00") - counted
    assert 'id="claim-terms"' in page
    assert f"{format_yuan_grouped(counted)} 元" in page  # money as applicants read it
    assert f"{format_yuan_grouped(excluded)} 元" in page
    assert "补贴期外交付" in page
    assert "line-amount-warning" not in page  # 216000 × 12.00 = 2,592,000.00


def test_a_delivery_whose_amount_is_not_quantity_times_price_is_saved_with_a_warning(client_a):
    app = new_application(client_a)
    contract, page = contract_with_delivery(
        client_a, app, quantity="100000", unit_price="10", amount="900,000.00"
    )
    assert contract.deliveries.count() == 1  # a warning, not a refusal
    assert "数量 × 单价 = 1,000,000.00 元" in page  # the message after the save
    assert "line-amount-warning" in page  # and the row's own mark, for as long as it is so
    # within one fen is no difference
    _c, page = contract_with_delivery(
        client_a,
        new_application_after_delete(client_a, app),
        quantity="3",
        unit_price="0.333",
        amount="1.00",
    )
    assert "line-amount-warning" not in page


def new_application_after_delete(client, app):
    assert post_step(client, app, "delete_draft", {"confirm": "on"}).status_code == 302
    return new_application(client)


def test_deleting_a_delivery_line_asks_for_confirmation(client_a):
    app = new_application(client_a)
    contract, page = contract_with_delivery(client_a, app)
    row = contract.deliveries.get()
    url = reverse("portal:contract_row_delete", args=[app.pk, contract.pk, "deliveries", row.pk])
    assert f'href="{url}"' in page  # the table links to the confirmation, posts nothing
    shown = client_a.get(url).content.decode()
    assert "2,592,000.00 元" in shown and 'name="confirm"' in shown
    app.refresh_from_db()
    response = client_a.post(url, {"version": app.version})
    assert response.status_code == 400
    assert contract.deliveries.count() == 1
    response = client_a.post(url, {"version": app.version, "confirm": "on"})
    assert response.status_code == 302
    assert contract.deliveries.count() == 0


def test_deleting_a_whole_contract_asks_for_confirmation_and_is_audited(client_a):
    from voucher.core.models import AuditEntry

    app = new_application(client_a)
    contract, page = contract_with_delivery(client_a, app)
    url = reverse("portal:contract_delete", args=[app.pk, contract.pk])
    assert f'href="{url}"' in page  # the contract page links to the confirmation, posts nothing
    assert f'action="{url}"' not in page
    shown = client_a.get(url)
    assert shown.status_code == 200
    text = shown.content.decode()
    assert 'id="contract-to-delete"' in text and 'name="confirm"' in text
    assert "5,000,000.00 元" in text  # the contract's total, as applicants read money
    app.refresh_from_db()
    response = client_a.post(url, {"version": app.version})  # the box not ticked
    assert response.status_code == 400
    assert "请勾选确认" in response.content.decode()
    assert app.contracts.filter(pk=contract.pk).exists()
    assert contract.deliveries.count() == 1
    assert "contract_delete" not in audit_actions(app)
    response = client_a.post(url, {"version": app.version, "confirm": "on"})
    assert response.status_code == 302
    assert not app.contracts.exists()
    entry = AuditEntry.objects.get(action="contract_delete")
    assert entry.data["contract"] == "C1" and entry.data["total_amount"] == "5000000.00"
    assert entry.data["rows"]["deliveries"] == 1


def test_a_contract_cannot_be_deleted_after_submission(client_a):
    from voucher.applications.models import Contract

    app = submitted(client_a, new_application(client_a))
    contract = Contract.objects.filter(application=app).first()
    url = reverse("portal:contract_delete", args=[app.pk, contract.pk])
    response = client_a.get(url)
    assert response.status_code == 302 and reverse("portal:status", args=[app.pk]) in response.url
    response = client_a.post(url, {"version": app.version, "confirm": "on"})
    assert response.status_code == 302
    assert Contract.objects.filter(pk=contract.pk).exists()
    assert "contract_delete" not in audit_actions(app)


# --- 6. the template's declaration columns ---------------------------------------------------


def test_the_imported_declaration_columns_fill_the_declarations(client_a):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    from voucher.portal.imports import template_xlsx
    from voucher.portal.selectors import progress_of

    app = new_application(client_a)
    declarations = {"other_municipal_compute_support": "0", "dishonest_entity": "0"}
    assert post_step(client_a, app, "declarations", declarations).status_code == 302
    book = load_workbook(io.BytesIO(template_xlsx()))
    for sheet in book.worksheets:
        sheet.delete_rows(2, sheet.max_row)
    headers = [cell.value for cell in book["合同"][1]]
    row = {
        "合同编号": "C9",
        "供给方名称": "北京示例算力有限公司",
        "供给方统一社会信用代码": "91110105MA02D4RY0J",
        "签订日期": "2025-09-01",
        "有效期开始": "2025-09-01",
        "有效期结束": "2026-08-31",
        "合同总额（元）": "3000000.00",
    }
    for column, header in enumerate(headers, start=1):
        if "收益分成" in header:
            value = "是"
        elif "上下级" in header:
            value = "否"
        else:
            value = row[header]
        book["合同"].cell(row=2, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    app.refresh_from_db()
    response = client_a.post(
        reverse("portal:contracts_import", args=[app.pk]),
        {"version": app.version, "file": SimpleUploadedFile("c.xlsx", out.getvalue())},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    contract = app.contracts.get(contract_id="C9")
    assert (contract.revenue_or_risk_sharing, contract.hierarchy) == (True, False)
    # the declarations step stays done and shows the answers the file gave
    assert "declarations" in progress_of(app).steps_done
    page = client_a.get(reverse("portal:declarations", args=[app.pk])).content.decode()
    assert 'id="declarations-imported"' in page
    assert (
        f'name="sharing_{contract.pk}" value="1" required id="id_sharing_{contract.pk}_0" checked'
        in page
    )
    assert (
        f'name="hierarchy_{contract.pk}" value="0" required id="id_hierarchy_{contract.pk}_1" checked'
        in page
    )


# --- 5. the signed forms on the materials step; the status page after submission -------------


def test_the_materials_step_links_the_forms_to_sign_and_the_status_page_stops_asking(client_a):
    app = new_application(client_a)
    page = client_a.get(reverse("portal:materials", args=[app.pk])).content.decode()
    assert 'id="signed-usage_table"' in page  # not complete yet: says what is missing
    fill_d2(client_a, app)
    page = client_a.get(reverse("portal:materials", args=[app.pk])).content.decode()
    for kind in ("usage-table", "implementation-report", "commitment-letter"):
        assert reverse("documents:download", args=[app.pk, kind, "pdf"]) in page, kind
        assert reverse("documents:download", args=[app.pk, kind, "docx"]) in page, kind
    status = client_a.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert "打印、签字盖章后扫描上传" in status  # a draft: still to do
    response = post_step(client_a, app, "submit", {"confirm": "on"})
    assert response.status_code == 302
    status = client_a.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert "打印、签字盖章后扫描上传" not in status
    assert 'id="documents-kept"' in status
