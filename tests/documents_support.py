"""Helpers for the documents tests (no tests here): an application with everything a form
prints, and readers for the PDFs and DOCX the system makes."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.builders import base_document, delivery

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "documents"

REPORT_TEXT = {
    "enterprise_overview": "本公司成立于2019年，主营人工智能大模型研发与行业应用。\n近3年主营业务收入分别为1200万元、2300万元、4100万元。",
    "background_goals": "面向工业质检的视觉大模型，目标是缺陷检出率达到99.5%。",
    "content": "项目使用供应商C1提供的H800智能算力进行训练，创新点在于小样本缺陷生成。",
    "progress": "已完成第一阶段训练；下一步在三家工厂试点部署。",
}


def rich_document() -> dict:
    """Direction 2, a common shareholder (review), 万元 amounts that need all six decimals."""
    doc = base_document(2)
    doc["registry"] = {
        "shareholdings": [
            {"holder": "P-7788", "held": "91110000MA00AAAA4N", "ratio": "1"},
            {"holder": "91110000MA00AAAA4N", "held": "91110108MA01C3QX7B", "ratio": "0.51"},
            {"holder": "P-7788", "held": "91110105MA02D4RY0J", "ratio": "0.20"},
        ],
        "officers": [],
    }
    doc["requested_amount"] = "1234567.89"
    doc["project"]["overview"] = "工业视觉质检，应用于汽车零部件产线。"
    c = doc["contracts"][0]
    c["deliveries"] = [
        delivery("2025-09-08", "2025-12-31", "3000000.00"),
        delivery("2026-01-01", "2026-01-31", "12345.67"),
        delivery("2025-10-01", "2025-10-31", "150000.00", service="storage", device=None),
    ]
    c["invoices"] = [
        {"number": "25112000004495444840", "date": "2026-04-01", "amount": "3162345.67"}
    ]
    c["payments"] = [{"date": "2026-04-02", "amount": "3162345.67"}]
    c["other_subsidies"] = [
        {
            "level": "district",
            "policy": "海淀区算力补贴",
            "amount": "100000.00",
            "status": "applied",
        },
        {
            "level": "national",
            "policy": "国家算力券试点",
            "amount": "50000.50",
            "status": "granted",
        },
    ]
    doc["materials"] = ["contract", "usage_table", "commitment_letter"]
    return doc


def make_application(doc: dict | None = None, *, report: bool = True):
    from voucher.applications.actions import application_evaluate
    from voucher.applications.interchange import application_import
    from voucher.documents.data import load_application
    from voucher.documents.models import ImplementationReport
    from voucher.policy.format import parse_application

    application = application_import(document=parse_application(doc or rich_document()))
    if report:
        ImplementationReport.objects.create(application=application, **REPORT_TEXT)
    application_evaluate(application=application)
    return load_application(application.pk)


def flat(text: str) -> str:
    """Text without any whitespace: PDF line breaks fall anywhere in Chinese text."""
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def pdf_page_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def missing_from(text: str, expected: list[str]) -> list[str]:
    haystack = flat(text)
    return [e for e in expected if e and flat(e) not in haystack]


def pdf_fonts(data: bytes) -> dict[str, bool]:
    """Every font of every page -> whether its program is embedded (FontFile, 2 or 3)."""
    from pypdf import PdfReader

    out: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            descriptor_holder = font
            if font.get("/Subtype") == "/Type0":
                descriptor_holder = font["/DescendantFonts"][0].get_object()
            descriptor = descriptor_holder.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            out[str(font.get("/BaseFont"))] = embedded
    return out


def docx_text(data: bytes) -> str:
    """Every text run of the body, tables, headers and footers."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [doc.element.body]
    for section in doc.sections:
        parts += [section.header._element, section.footer._element]
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    chunks = []
    for part in parts:
        for el in part.iter():
            if el.tag == f"{w}t" and el.text:
                chunks.append(el.text)
            elif el.tag == f"{w}p":
                chunks.append("\n")
    return "".join(chunks)


def render_png(data: bytes, name: str) -> list[Path]:
    """Pages as PNG under test-artifacts/documents/ for a person to look at (pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            raise AssertionError("pdftoppm (Debian poppler-utils) is missing: .ci/run installs it")
        return []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    pdf_path = ARTIFACTS / f"{name}.pdf"
    pdf_path.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", str(pdf_path), str(ARTIFACTS / name)], check=True
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))
