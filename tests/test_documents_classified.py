"""Classified markings in uploads (承诺书 第5条: materials must be declassified)."""

from __future__ import annotations

import io

import pytest

from voucher.documents.classified import Hit, refusal_message, scan_for_classified_marks


def pdf_pages(*pages: str) -> bytes:
    import weasyprint

    body = "".join(
        f'<div style="break-before: page">{text}</div>' if i else f"<div>{text}</div>"
        for i, text in enumerate(pages)
    )
    return weasyprint.HTML(
        string=f'<html><body style="font-family: Noto Serif CJK SC">{body}</body></html>'
    ).write_pdf()


def docx_pages(*pages: str, header: str = "") -> bytes:
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    if header:
        doc.sections[0].header.paragraphs[0].text = header
    for i, text in enumerate(pages):
        p = doc.add_paragraph()
        if i:
            p.add_run().add_break(WD_BREAK.PAGE)
        p.add_run(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


PROSE = "本合同双方应履行商业秘密保护义务，对技术秘密承担保密责任。"


def test_a_pdf_marked_on_page_3_is_refused_naming_page_3():
    data = pdf_pages("算力服务合同", PROSE, "附件：机密★5年 资源分配表")
    hits = scan_for_classified_marks(data, "contract.pdf")
    assert hits == [Hit(3, "机密★5年")]
    message = refusal_message(hits)
    assert "第3页" in message and "机密★5年" in message and "所有材料已经脱密处理" in message


def test_the_bare_mark_and_every_level_are_found():
    data = pdf_pages("绝密★长期", "秘 密 ★ 1 年", "机密★")
    assert scan_for_classified_marks(data, "x.pdf") == [
        Hit(1, "绝密★长期"),
        Hit(2, "秘密★1年"),
        Hit(3, "机密★"),
    ]


def test_secret_in_ordinary_prose_is_not_refused():
    assert (
        scan_for_classified_marks(
            pdf_pages("算力服务合同", PROSE, "机密信息的范围由双方约定。"), "x.pdf"
        )
        == []
    )
    assert scan_for_classified_marks(docx_pages(PROSE), "x.docx") == []


def test_a_docx_mark_is_found_on_its_page_and_in_the_header():
    hits = scan_for_classified_marks(docx_pages("合同正文", PROSE, "秘密★3年"), "contract.docx")
    assert hits == [Hit(3, "秘密★3年")]
    assert scan_for_classified_marks(docx_pages("正文", header="机密★10年"), "c.docx") == [
        Hit(1, "机密★10年")
    ]


def test_internal_marks_are_configured(settings):
    data = pdf_pages("内部★ 仅限本单位")
    assert scan_for_classified_marks(data, "x.pdf") == [Hit(1, "内部★")]
    settings.VOUCHER_CLASSIFIED_EXTRA_MARKS = ["内部资料"]
    assert scan_for_classified_marks(data, "x.pdf") == []
    assert scan_for_classified_marks(pdf_pages("内部 资料"), "x.pdf") == [Hit(1, "内部资料")]


@pytest.mark.parametrize("name", ["scan.png", "notes.txt", "old.doc"])
def test_files_whose_text_is_not_read_give_no_hits(name):
    assert scan_for_classified_marks(b"\x89PNG\r\n\x1a\n" + "机密★5年".encode(), name) == []


def test_the_upload_scan_says_what_it_found_for_the_file_it_passes():
    """Kept with the stored file (MaterialFile.classified_scan) for the reviewer: text read and
    clean; a kind not read; a file it could not read; refused with the marks."""
    from voucher.applications.ports import SCAN_CLEAN, SCAN_NOT_READ, SCAN_REFUSED, SCAN_UNREADABLE
    from voucher.documents.classified import upload_scan

    assert upload_scan(pdf_pages("算力合同"), "c.pdf").outcome == SCAN_CLEAN
    assert upload_scan(docx_pages(PROSE), "c.docx").outcome == SCAN_CLEAN
    assert upload_scan(b"\x89PNG\r\n\x1a\n", "scan.png").outcome == SCAN_NOT_READ
    assert upload_scan(b"%PDF-1.4 broken", "c.pdf").outcome == SCAN_UNREADABLE
    refused = upload_scan(pdf_pages("机密★5年"), "c.pdf")
    assert refused.outcome == SCAN_REFUSED and "第1页“机密★5年”" in (refused.refusal or "")
