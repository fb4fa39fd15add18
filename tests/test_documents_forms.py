"""Forms 14-2, 14-3, 14-4, the package and the decision notice: every value and every fixed
sentence of the source in the PDF and the DOCX, fonts embedded, pages rendered for a person."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import verified_session
from voucher.documents import docx_forms, pdf
from voucher.documents import source_text as src
from voucher.documents.data import wan
from voucher.documents.report_sections import SECTIONS
from voucher.policy.clauses import CLAUSES, clause_ids

from .documents_support import (
    REPORT_TEXT,
    docx_text,
    flat,
    make_application,
    missing_from,
    pdf_fonts,
    pdf_page_texts,
    pdf_text,
    render_png,
    rich_document,
)

pytestmark = pytest.mark.django_db
SOURCE = (
    Path(__file__).resolve().parent.parent
    / "voucher/policy/source/attachment-14-compute-voucher-guide.zh.txt"
).read_text(encoding="utf-8")


@pytest.fixture
def application(db):
    return make_application()


def identity_values(application) -> list[str]:
    from voucher.applications.interchange import application_export
    from voucher.policy.format import dumps_application

    sha = hashlib.sha256(
        dumps_application(application_export(application)).encode("utf-8")
    ).hexdigest()
    return [application.reference, sha]


def usage_values(a) -> list[str]:
    return [
        a.applicant_name,
        a.enterprise.uscc,
        a.registered_address,
        a.business_address,
        a.contact_name,
        a.contact_mobile,
        a.contact_address,
        a.contact_email,
        a.project_name,
        "301.234567",  # compute deliveries 3,000,000.00 + 12,345.67 (storage is not compute)
        "123.456789",  # requested 1,234,567.89 yuan
        "2025年9月10日",
        "海淀区算力补贴",
        "国家算力券试点",
        "5.00005",  # granted 50,000.50 yuan
        "10.00",  # applied, not paid: 100,000.00 yuan
        a.project_overview,
    ]


# --- the source text itself --------------------------------------------------------------------


def test_every_fixed_sentence_is_verbatim_in_the_source():
    sentences = src.fixed_sentences_14_2() + src.fixed_sentences_14_3() + src.fixed_sentences_14_4()
    assert [s for s in sentences if s not in SOURCE] == []
    assert len(src.COMMITMENTS) == 8


def test_report_sections_give_the_portal_headings_hints_and_lengths():
    assert [s.field for s in SECTIONS] == list(REPORT_TEXT)
    for s in SECTIONS:
        assert s.heading in SOURCE and s.hint in SOURCE
        low, high = s.suggested_chars
        assert 0 < low < high


@pytest.mark.parametrize(
    ("yuan", "shown"),
    [
        ("0.01", "0.000001"),
        ("1234567.89", "123.456789"),
        ("20000000.00", "2000.00"),
        ("50000.50", "5.00005"),
        ("12345.60", "1.23456"),
        ("0.00", "0.00"),
    ],
)
def test_wan_is_exact_to_the_fen_and_trims_only_zeros(yuan, shown):
    assert wan(Decimal(yuan)) == shown


# --- PDFs -----------------------------------------------------------------------------------


def check_pdf(data: bytes, expected: list[str], name: str) -> str:
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert missing_from(text, expected) == []
    fonts = pdf_fonts(data)
    assert fonts and all(fonts.values()), fonts
    assert any("Noto-Serif-CJK-SC" in f for f in fonts) and any(
        "Noto-Sans-CJK-SC" in f for f in fonts
    )
    pages = pdf_page_texts(data)
    for number, page in enumerate(pages, 1):
        assert f"第{number}页/共{len(pages)}页" in flat(page)
    render_png(data, name)
    return text


def test_usage_table_pdf_has_both_parts_every_value_and_the_seal_marker(application):
    data = pdf.usage_table_pdf(application)
    text = check_pdf(
        data,
        src.fixed_sentences_14_2() + usage_values(application) + identity_values(application),
        "14-2-usage-table",
    )
    assert "（加盖公章）" in flat(text)
    assert len(pdf_page_texts(data)) == 1


def test_implementation_report_pdf_has_cover_sections_hints_and_what_the_applicant_wrote(
    application,
):
    data = pdf.implementation_report_pdf(application)
    written = [line for t in REPORT_TEXT.values() for line in t.splitlines()]
    check_pdf(
        data,
        src.fixed_sentences_14_3()
        + written
        + [application.project_name, application.applicant_name, "2026年4月10日"]
        + identity_values(application),
        "14-3-implementation-report",
    )
    cover = flat(pdf_page_texts(data)[0])
    assert "企业名称（加盖公章）：" + application.applicant_name in cover
    assert "一、企业基本情况介绍" not in cover


def test_implementation_report_without_a_report_leaves_room_to_write(db):
    application = make_application(report=False)
    data = pdf.implementation_report_pdf(application)
    assert missing_from(pdf_text(data), src.fixed_sentences_14_3()) == []


def test_commitment_letter_pdf_has_the_eight_commitments_verbatim_and_the_seal_block(application):
    data = pdf.commitment_letter_pdf(application)
    text = check_pdf(
        data,
        [*src.fixed_sentences_14_4(), application.applicant_name, *identity_values(application)],
        "14-4-commitment-letter",
    )
    assert "单位（签章）：" + application.applicant_name in flat(text)
    assert len(pdf_page_texts(data)) == 1


def test_package_pdf_has_cover_forms_checklist_and_self_check(application):
    data = pdf.package_pdf(application)
    evaluation = application.evaluations.latest()
    review = [f for f in evaluation.findings if f["status"] == "review"]
    assert review, "the example has a common shareholder: a review finding"
    text = check_pdf(
        data,
        src.fixed_sentences_14_2()
        + src.fixed_sentences_14_3()
        + src.fixed_sentences_14_4()
        + usage_values(application)
        + identity_values(application)
        + list(src.MATERIAL_HEADINGS.values())
        + ["算力券申报材料", "自查结果", f"评估#{evaluation.pk}", "需人工审核"]
        + [f["rule"] for f in review]
        # a finding may rest on several clauses ("14-1 三, 14-1 五"): the package quotes each
        + [CLAUSES[c].text for f in review for c in clause_ids(f["clause"])],
        "package",
    )
    assert f"{evaluation.approved_max:,.2f}" in text


def test_package_lists_uploaded_files_when_the_portal_registers_them(application, monkeypatch):
    from voucher.documents import package

    monkeypatch.setattr(package, "_MATERIAL_SOURCES", [])
    assert package.package_materials(application) == []
    sha = "ab" * 32
    package.register_material_source(
        lambda app: [
            {"name": "合同扫描件.pdf", "size": 123456, "sha256": sha, "material": "contract"}
        ]
    )
    text = flat(pdf_text(pdf.package_pdf(application)))
    assert "合同扫描件.pdf" in text and "123456" in text and sha in text


def test_decision_notice_for_approval_and_rejection_cites_the_clauses(application):
    approval = pdf.decision_notice_pdf(
        application,
        "approval",
        Decimal("600000.00"),
        [pdf.NoticeReason("按比例上限核定。", "二（一）")],
    )
    check_pdf(
        approval,
        [
            application.applicant_name,
            application.project_name,
            application.reference,
            "600,000.00",
            "60.00万元",
            CLAUSES["二（一）"].text,
            "予以支持",
        ],
        "notice-approval",
    )
    rejection = pdf.decision_notice_pdf(
        application,
        "rejection",
        None,
        [pdf.NoticeReason("申报单位与算力供给方存在共同股东。", "一（五）注1"), "其他说明。"],
    )
    check_pdf(
        rejection,
        [
            "不予支持",
            "申报单位与算力供给方存在共同股东。",
            CLAUSES["一（五）注1"].text,
            "其他说明。",
        ],
        "notice-rejection",
    )
    with pytest.raises(ValueError):
        pdf.decision_notice_pdf(application, "approval", None, [])


# --- DOCX -----------------------------------------------------------------------------------


def test_usage_table_docx_holds_the_same_text(application):
    text = docx_text(docx_forms.usage_table_docx(application))
    assert (
        missing_from(
            text,
            src.fixed_sentences_14_2() + usage_values(application) + identity_values(application),
        )
        == []
    )


def test_implementation_report_docx_holds_the_same_text(application):
    text = docx_text(docx_forms.implementation_report_docx(application))
    written = [line for t in REPORT_TEXT.values() for line in t.splitlines()]
    assert (
        missing_from(
            text,
            src.fixed_sentences_14_3()
            + written
            + [application.project_name, application.applicant_name],
        )
        == []
    )


def test_commitment_letter_docx_holds_the_same_text(application):
    text = docx_text(docx_forms.commitment_letter_docx(application))
    assert missing_from(text, [*src.fixed_sentences_14_4(), application.applicant_name]) == []
    assert "单位（签章）：" + application.applicant_name in flat(text)


def test_docx_is_a4_with_page_numbers_in_the_footer(application):
    import io

    from docx import Document

    doc = Document(io.BytesIO(docx_forms.usage_table_docx(application)))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert "PAGE" in section.footer._element.xml and "NUMPAGES" in section.footer._element.xml


# --- views ----------------------------------------------------------------------------------


DOWNLOADS = [
    ("usage-table", "pdf"),
    ("usage-table", "docx"),
    ("implementation-report", "pdf"),
    ("implementation-report", "docx"),
    ("commitment-letter", "pdf"),
    ("commitment-letter", "docx"),
    ("package", "pdf"),
]


@pytest.mark.parametrize(("document", "extension"), DOWNLOADS)
def test_staff_download_each_document(
    client, reviewer, not_public, application, document, extension
):
    verified_session(client, reviewer)
    r = client.get(f"/applications/{application.pk}/documents/{document}.{extension}")
    assert r.status_code == 200
    assert r.content[:4] == (b"%PDF" if extension == "pdf" else b"PK\x03\x04")
    assert "attachment;" in r["Content-Disposition"]


def test_outsiders_cannot_download_and_strangers_are_sent_to_log_in(
    client, outsider, not_public, application
):
    url = f"/applications/{application.pk}/documents/usage-table.pdf"
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_a_public_demo_lets_anyone_download(client, public_demo, application):
    assert (
        client.get(f"/applications/{application.pk}/documents/commitment-letter.docx").status_code
        == 200
    )


def test_unknown_documents_and_applications_are_not_found(
    client, reviewer, not_public, application
):
    verified_session(client, reviewer)
    assert client.get(f"/applications/{application.pk}/documents/package.docx").status_code == 404
    assert client.get(f"/applications/{application.pk}/documents/other.pdf").status_code == 404
    assert client.get("/applications/99999/documents/package.pdf").status_code == 404


def test_the_detail_page_links_every_download(client, reviewer, not_public, application):
    verified_session(client, reviewer)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    for document, extension in DOWNLOADS:
        assert f"/applications/{application.pk}/documents/{document}.{extension}" in page


def test_rich_document_is_a_valid_application():
    from voucher.policy.format import parse_application

    parse_application(rich_document())
