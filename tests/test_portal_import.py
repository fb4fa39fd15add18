"""Contracts from Excel and CSV: the template, bad rows reported with row and column, all or nothing."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from .portal_helpers import USCC_A, member, open_round, post_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get()


def workbook(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import load_workbook

    from voucher.portal.imports import template_xlsx

    book = load_workbook(io.BytesIO(template_xlsx()))
    for title, rows in sheets.items():
        sheet = book[title]
        sheet.delete_rows(2, sheet.max_row)
        for i, row in enumerate(rows, start=2):
            for j, value in enumerate(row, start=1):
                sheet.cell(row=i, column=j, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_CONTRACT = [
    "C2",
    "北京示例算力有限公司",
    "91110105MA02D4RY0J",
    "2025-09-01",
    "2025-09-01",
    "2026-08-31",
    "12000000.00",
    "否",
    "否",
]
GOOD_DELIVERY = [
    "C2",
    "2025-09-08",
    "2025-12-31",
    "算力",
    "H800",
    "100000",
    "card-hour",
    "12.00",
    "1200000.00",
]


def send(client, app, name: str, content: bytes):
    app.refresh_from_db()
    return client.post(
        reverse("portal:contracts_import", args=[app.pk]),
        {"version": app.version, "file": SimpleUploadedFile(name, content)},
    )


def test_the_template_downloads_with_every_sheet(draft, client):
    from openpyxl import load_workbook

    response = client.get(reverse("portal:import_template", args=["all", "xlsx"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["说明", "合同", "交付记录", "发票", "付款", "其他补贴"]
    csv_response = client.get(reverse("portal:import_template", args=["invoices", "csv"]))
    assert csv_response.content.decode("utf-8-sig").startswith("合同编号,发票号码,开票日期")


def test_a_workbook_imports_a_contract_with_its_rows(draft, client):
    content = workbook(
        {
            "合同": [GOOD_CONTRACT],
            "交付记录": [GOOD_DELIVERY],
            "发票": [["C2", "123", "2026-01-08", 1200000]],  # a number cell, as Excel keeps it
            "付款": [["C2", "2026年1月15日", "1,200,000.00"]],
            "其他补贴": [],
        }
    )
    response = send(client, draft, "contracts.xlsx", content)
    assert response.status_code == 302, response.content.decode()[-3000:]
    contract = draft.contracts.get()
    assert contract.contract_id == "C2"
    assert str(contract.total_amount) == "12000000.00"
    delivery = contract.deliveries.get()
    assert (delivery.service, str(delivery.amount), delivery.unit_price_places) == (
        "compute",
        "1200000.00",
        2,
    )
    assert str(contract.invoices.get().amount) == "1200000.00"
    assert str(contract.payments.get().date) == "2026-01-15"
    from voucher.core.models import AuditEntry

    entry = AuditEntry.objects.get(action="contract_rows_import")
    # what was imported, kind by kind; the empty sheet (其他补贴) has no entry
    assert entry.data["counts"] == {"contracts": 1, "deliveries": 1, "invoices": 1, "payments": 1}


def test_bad_rows_are_reported_with_row_and_column_and_nothing_is_imported(draft, client):
    from voucher.applications.models import Contract, Delivery

    content = workbook(
        {
            "合同": [
                GOOD_CONTRACT,
                [
                    "C3",
                    "乙",
                    "91110105MA02D4RYOJ",
                    "",
                    "2025-09-01",
                    "2025-01-01",
                    "12.345",
                    "也许",
                    "否",
                ],
            ],
            "交付记录": [
                GOOD_DELIVERY,
                ["C9", "2025-09-08", "2025-12-31", "算力", "", "1", "h", "1", "1.00"],
                ["C2", "2025-13-01", "2025-12-31", "电力", "", "-1", "h", "1", "1.00"],
            ],
        }
    )
    response = send(client, draft, "contracts.xlsx", content)
    assert response.status_code == 200
    page = response.content.decode()
    for expected in (
        "“合同”第3行「供给方统一社会信用代码」",
        "“合同”第3行「合同总额（元）」",
        "“合同”第3行「存在收益分成或风险共担协议（是/否）」",
        "“交付记录”第3行「合同编号」：找不到合同 C9",
        "“交付记录”第4行「服务类型（算力/存储/网络/安全）」",
    ):
        assert expected in page, expected
    assert Contract.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_compute_row_without_a_device_is_reported_at_the_device_column(draft, client):
    # RULES.md v2, Fail closed: a compute row must name its device; other services need none
    from voucher.applications.models import Contract, Delivery
    from voucher.portal.imports import ImportFailed, read_spreadsheet

    no_device = [*GOOD_DELIVERY[:4], None, *GOOD_DELIVERY[5:]]
    blank_device = [*GOOD_DELIVERY[:4], "\u3000 ", *GOOD_DELIVERY[5:]]
    storage = [*GOOD_DELIVERY[:3], "存储", None, "50", "TB-month", "300.00", "15000.00"]
    content = workbook(
        {"合同": [GOOD_CONTRACT], "交付记录": [GOOD_DELIVERY, no_device, storage, blank_device]}
    )
    with pytest.raises(ImportFailed) as failed:
        read_spreadsheet("contracts.xlsx", content, existing_contract_ids=[])
    assert [(e.sheet, e.row, e.column) for e in failed.value.errors] == [
        ("交付记录", 3, "设备型号"),
        ("交付记录", 5, "设备型号"),
    ]
    # the applicant's words (voucher.applications.wording), not the format's "算力（compute）"
    assert "算力类交付记录须填写“设备型号”" in failed.value.errors[0].message

    page = send(client, draft, "contracts.xlsx", content).content.decode()
    assert "“交付记录”第3行「设备型号」：算力类交付记录须填写“设备型号”" in page
    assert Contract.objects.count() == 0 and Delivery.objects.count() == 0

    fixed = workbook({"合同": [GOOD_CONTRACT], "交付记录": [GOOD_DELIVERY, storage]})
    assert send(client, draft, "contracts.xlsx", fixed).status_code == 302
    assert [(d.service, d.device) for d in Delivery.objects.order_by("position")] == [
        ("compute", "H800"),
        ("storage", None),
    ]


def test_a_csv_file_is_recognised_by_its_header_and_gbk_works(draft, client):
    assert (
        post_step(
            client,
            draft,
            "contracts",
            {
                "contract_id": "C1",
                "supplier_name": "丙",
                "supplier_uscc": "91110105MA02D4RY0J",
                "signed_on": "2025-09-01",
                "valid_from": "2025-09-01",
                "valid_to": "2026-08-31",
                "total_amount": "30000000",
            },
        ).status_code
        == 302
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["合同编号", "支付日期", "金额（元）"])
    writer.writerow(["C1", "2025/10/15", "2742000.00"])
    writer.writerow(["C1", "2025-11-15", "100.5"])
    response = send(client, draft, "付款.csv", out.getvalue().encode("gb18030"))
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert [str(p.amount) for p in draft.contracts.get().payments.all()] == ["2742000.00", "100.50"]
    # a second file adds after the rows already there, in file order
    again = io.StringIO()
    csv.writer(again).writerows([["合同编号", "支付日期", "金额（元）"], ["C1", "2025-12-15", "7"]])
    assert send(client, draft, "付款.csv", again.getvalue().encode("utf-8")).status_code == 302
    rows = draft.contracts.get().payments.order_by("position")
    assert [(p.position, str(p.amount)) for p in rows] == [
        (0, "2742000.00"),
        (1, "100.50"),
        (2, "7.00"),
    ]


def test_an_unknown_file_kind_is_refused(draft, client):
    response = send(client, draft, "contracts.txt", b"hello")
    assert response.status_code == 200
    assert "只能导入 .xlsx 或 .csv 文件" in response.content.decode()


def test_the_template_says_gongjifang_the_policy_s_word(draft, client):
    """附件14 says 算力供给方: the template's headers say so (issue 19, point 8)."""
    from openpyxl import load_workbook

    response = client.get(reverse("portal:import_template", args=["all", "xlsx"]))
    headers = [c.value for c in load_workbook(io.BytesIO(response.content))["合同"][1]]
    assert "供给方名称" in headers and "供给方统一社会信用代码" in headers
    assert not any("供应方" in str(h) for h in headers)
    csv_response = client.get(reverse("portal:import_template", args=["contracts", "csv"]))
    assert "供给方名称,供给方统一社会信用代码" in csv_response.content.decode("utf-8-sig")


def _old_header(header: str) -> str:
    return header.replace("供给方", "供应方")


def test_a_file_filled_in_from_the_old_template_still_imports(draft, client):
    """Files filled in before the headers said 供给方 (供应方名称, 供应方统一社会信用代码) import,
    as Excel and as CSV, and an error names the column as the file names it."""
    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(workbook({"合同": [GOOD_CONTRACT], "交付记录": [GOOD_DELIVERY]}))
    )
    for cell in book["合同"][1]:
        cell.value = _old_header(str(cell.value))
    out = io.BytesIO()
    book.save(out)
    response = send(client, draft, "old.xlsx", out.getvalue())
    assert response.status_code == 302, response.content.decode()[-3000:]
    contract = draft.contracts.get()
    assert (contract.supplier_name, contract.supplier_uscc) == (
        "北京示例算力有限公司",
        "91110105MA02D4RY0J",
    )
    assert contract.deliveries.count() == 1
    from voucher.portal.imports import TABLES_BY_KIND

    old = [_old_header(c.header) for c in TABLES_BY_KIND["contracts"].columns]
    assert "供应方名称" in old
    text = io.StringIO()
    csv.writer(text).writerows(
        [old, ["C3", "北京示例算力有限公司", "91110105MA02D4RY0", *GOOD_CONTRACT[3:]]]
    )
    response = send(client, draft, "old.csv", text.getvalue().encode("utf-8"))
    assert response.status_code == 200
    assert "“合同”第2行「供应方统一社会信用代码」" in response.content.decode()
    text = io.StringIO()
    csv.writer(text).writerows([old, ["C3", *GOOD_CONTRACT[1:]]])
    assert send(client, draft, "old.csv", text.getvalue().encode("utf-8")).status_code == 302
    assert draft.contracts.filter(contract_id="C3", supplier_name="北京示例算力有限公司").exists()
