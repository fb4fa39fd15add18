"""Shared by the portal tests: members of enterprises, an open round, files, a filled draft."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

# Two made-up enterprises with correct check characters (GB 32100-2015).
USCC_A = "91110108MA01C3QX7B"
USCC_B = "91110105MA02D4RY0J"
SUPPLIER_1 = "91110000MA00AAAA4N"
PASSWORD = "Correct-Horse-2026"


def uscc_with_check(first17: str) -> str:
    from voucher.policy.uscc import expected_check_character

    return first17 + expected_check_character(first17 + "0")


def member(email: str, uscc: str, name: str):
    from django.contrib.auth import get_user_model

    from voucher.accounts.actions import enterprise_register

    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    enterprise_register(uscc=uscc, name=name, acting_user=user)
    return user


def open_round(days_left: int = 30):
    from voucher.applications.rounds import current_round

    record = current_round()
    today = timezone.localdate()
    record.opens_on = today - timedelta(days=10)
    record.closes_on = today + timedelta(days=days_left)
    record.save()
    miit_list_loaded(record, USCC_A, USCC_B)
    return record


def miit_list_loaded(record, *usccs: str) -> None:
    """The bureau has loaded the MIIT 2025 list and it holds `usccs` (RULES.md v2: without it a
    direction-2 declaration is review)."""
    from voucher.applications.models import OfficialList, OfficialListEntry

    official, _ = OfficialList.objects.get_or_create(
        round=record,
        kind="miit_2025_list",
        defaults={"source": "测试名单", "as_of": date(2026, 3, 1), "file_name": "t.csv"},
    )
    for row, uscc in enumerate(usccs, start=2):
        OfficialListEntry.objects.get_or_create(
            official_list=official, key=uscc, defaults={"row": row, "code": uscc}
        )


def pdf_bytes(text: str = "") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def docx_bytes(text: str = "算力合同") -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def post_step(client, app, step: str, data: dict, **kwargs):
    from django.urls import reverse

    app.refresh_from_db()
    return client.post(
        reverse(f"portal:{step}", args=[app.pk], kwargs=kwargs or None),
        {"version": app.version, **data},
    )


APPLICANT = {
    "applicant_name": "北京示例智能科技有限公司",
    "registered_address": "北京市海淀区中关村大街1号",
    "business_address": "北京市海淀区中关村大街1号",
    "entity_type": "enterprise",
    "independent_legal_person": "1",
    "industry": "I",
    "ai_new_rd_institution": "0",
    "contact_name": "张三",
    "contact_mobile": "13800138000",
    "contact_address": "北京市海淀区中关村大街1号",
    "contact_email": "zhang@example.com",
}
PROJECT_D2 = {
    "project_name": "工业质检大模型训练",
    "project_start_date": "2025-09-15",
    "requested_amount": "400",
    "ai_field": "1",
    "project_overview": "面向制造业的工业质检大模型。",
    "miit_2025_list": "on",
}
REPORT = {
    "enterprise_overview": "企业基本情况。",
    "background_goals": "项目背景和目标。",
    "content": "项目内容。",
    "progress": "完成情况。",
}


def contract_values(contract_id: str, total: str) -> dict:
    return {
        "contract_id": contract_id,
        "supplier_name": "北京示例算力有限公司",
        "supplier_uscc": USCC_B,
        "signed_on": "2025-09-01",
        "valid_from": "2025-09-01",
        "valid_to": "2026-08-31",
        "total_amount": total,
    }


def fill_d2(client, app, *, total: str = "24,000,000.00") -> None:
    """Every step of a direction-2 draft by hand through the pages (one contract)."""
    from django.urls import reverse

    from voucher.applications.models import Contract
    from voucher.policy.round import MATERIAL_IDS

    assert post_step(client, app, "applicant", APPLICANT).status_code == 302
    assert post_step(client, app, "project", PROJECT_D2).status_code == 302
    assert post_step(client, app, "contracts", contract_values("C1", total)).status_code == 302
    contract = Contract.objects.get(application=app, contract_id="C1")
    url = reverse("portal:contract", args=[app.pk, contract.pk])
    rows = {
        "deliveries": {
            "start": "2025-09-01",
            "end": "2025-09-30",
            "service": "compute",
            "device": "H800",
            "quantity": "216000",
            "unit": "card-hour",
            "unit_price": "12.00",
            "amount": "2592000.00",
        },
        "invoices": {
            "number": "25112000000012345678",
            "date": "2025-10-08",
            "amount": "2592000.00",
        },
        "payments": {"date": "2025-10-15", "amount": "2592000.00"},
    }
    for kind, values in rows.items():
        app.refresh_from_db()
        data = {"form": kind, f"{kind}-version": app.version}
        data.update({f"{kind}-{k}": v for k, v in values.items()})
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
    assert post_step(client, app, "report", REPORT).status_code == 302
    declarations = {"other_municipal_compute_support": "0", "dishonest_entity": "0"}
    for c in Contract.objects.filter(application=app):
        declarations[f"sharing_{c.pk}"] = "0"
        declarations[f"hierarchy_{c.pk}"] = "0"
    assert post_step(client, app, "declarations", declarations).status_code == 302
    assert post_step(client, app, "commitment", {"acknowledged": "on"}).status_code == 302
    for material in MATERIAL_IDS:
        upload(client, app, material, f"{material}.pdf", pdf_bytes())


def upload(client, app, material: str, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    app.refresh_from_db()
    return client.post(
        reverse("portal:materials", args=[app.pk]),
        {
            "version": app.version,
            "material": material,
            "files": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        },
    )


ZERO = Decimal("0.00")
