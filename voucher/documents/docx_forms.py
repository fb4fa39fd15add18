"""Forms 14-2, 14-3 and 14-4 as DOCX the applicant can edit, with the same text as the PDFs.

Fonts named in the DOCX are the Windows faces (宋体, 仿宋, 黑体): a DOCX is edited and printed on the
applicant's machine, which has them, and nothing is embedded. The PDFs use the free Noto faces.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from voucher.applications.models import Application
from voucher.documents import source_text as src
from voucher.documents.data import (
    DocumentIdentity,
    document_identity,
    implementation_report,
    split_date,
    usage_table,
)

BODY_FONT = "仿宋"
TABLE_FONT = "宋体"
HEADING_FONT = "黑体"


def _font(run: Any, name: str, size: float, bold: bool = False) -> None:
    r = run
    r.font.size = Pt(size)
    r.font.bold = bold
    r.font.name = name
    rpr = r._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _para(
    doc_or_cell: Any,
    text: str = "",
    *,
    font: str = BODY_FONT,
    size: float = 12,
    bold: bool = False,
    align: Any = None,
    indent: bool = False,
) -> Any:
    p = doc_or_cell.add_paragraph()
    if text:
        _font(p.add_run(text), font, size, bold)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    return p


def _new_document(identity: DocumentIdentity) -> Any:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(28)
    section.left_margin = section.right_margin = Mm(22)
    footer = section.footer
    first = footer.paragraphs[0]
    _font(first.add_run(identity.lines[0]), HEADING_FONT, 6.5)
    _font(first.add_run("\n" + identity.lines[1]), HEADING_FONT, 6.5)
    pages = footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(pages.add_run("第 "), HEADING_FONT, 8)
    _field(pages, "PAGE")
    _font(pages.add_run(" 页 / 共 "), HEADING_FONT, 8)
    _field(pages, "NUMPAGES")
    _font(pages.add_run(" 页"), HEADING_FONT, 8)
    return doc


def _field(paragraph: Any, code: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("separate", None), ("end", None)):
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run._element.append(instr)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._element.append(char)


def _save(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _head(doc: Any, attachment: str, title: str) -> None:
    _para(doc, attachment, font=HEADING_FONT, size=14)
    _para(doc, title, font=TABLE_FONT, size=20, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def _cell(
    cell: Any, text: str, hint: str = "", *, bold: bool = False, center: bool = False
) -> None:
    p = cell.paragraphs[0]
    if hint:
        _font(p.add_run(hint), TABLE_FONT, 9.5)
        if text:
            p = cell.add_paragraph()
    if text:
        _font(p.add_run(text), HEADING_FONT if bold else TABLE_FONT, 10.5, bold)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def usage_table_docx(application: Application) -> bytes:
    """附件14-2 算力使用情况表, the source's table: four columns, two parts."""
    u = usage_table(application)
    doc = _new_document(document_identity(application))
    _head(doc, src.USAGE_ATTACHMENT, src.USAGE_TITLE)
    table = doc.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Mm(36), Mm(47), Mm(36), Mm(47))

    def row() -> list[Any]:
        cells = table.add_row().cells
        for c, w in zip(cells, widths, strict=True):
            c.width = w
        return list(cells)

    def part(title: str) -> None:
        cells = row()
        merged = cells[0].merge(cells[3])
        _cell(merged, title, bold=True)

    part(src.USAGE_PART_1)
    for (l1, v1), (l2, v2) in u.enterprise_rows:
        c = row()
        _cell(c[0], l1, center=True)
        _cell(c[1], v1)
        _cell(c[2], l2, center=True)
        _cell(c[3], v2)
    part(src.USAGE_PART_2)
    c = row()
    _cell(c[0], src.USAGE_PROJECT_NAME, center=True)
    _cell(c[1].merge(c[3]), u.project_name)
    c = row()
    _cell(c[0], src.USAGE_TOTAL, center=True)
    _cell(c[1], u.total_wan)
    _cell(c[2], src.USAGE_REQUESTED, center=True)
    _cell(c[3], u.requested_wan)
    c = row()
    _cell(c[0], src.USAGE_START, center=True)
    _cell(c[1], u.start_date)
    _cell(c[2], src.USAGE_OTHER_FUNDS, center=True)
    _cell(c[3], u.other_funds, src.USAGE_OTHER_FUNDS_HINT)
    c = row()
    _cell(c[0], src.USAGE_OTHER_AMOUNT, center=True)
    _cell(c[1].merge(c[3]), u.other_amount_wan, src.USAGE_OTHER_AMOUNT_HINT)
    c = row()
    _cell(c[0], src.USAGE_OVERVIEW, center=True)
    overview = c[1].merge(c[3])
    _cell(overview, u.overview, src.USAGE_OVERVIEW_HINT)
    table.rows[-1].height = Mm(60)
    return _save(doc)


def implementation_report_docx(application: Application) -> bytes:
    """附件14-3 算力项目实施情况报告: cover, then sections 一 to 三 with their hints."""
    r = implementation_report(application)
    doc = _new_document(document_identity(application))
    _para(doc, src.REPORT_ATTACHMENT, font=HEADING_FONT, size=14)
    for _ in range(5):
        _para(doc)
    _para(
        doc, src.REPORT_TITLE, font=TABLE_FONT, size=26, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    for _ in range(6):
        _para(doc)
    for label, value in (
        (src.REPORT_PROJECT_LABEL, r.project_name),
        (src.REPORT_COMPANY_LABEL, r.company),
    ):
        p = _para(doc, label, size=15)
        run = p.add_run(value or "\u3000" * 16)
        _font(run, BODY_FONT, 15)
        run.font.underline = True
    for _ in range(3):
        _para(doc)
    y, m, d = split_date(r.date)
    date_text = f"{y}年{m}月{d}日" if y else "\u3000\u3000年\u3000月\u3000日"
    _para(doc, date_text, size=15, align=WD_ALIGN_PARAGRAPH.CENTER)
    doc.add_section(WD_SECTION.NEW_PAGE)
    for chapter in r.chapters:
        _para(doc, chapter.heading, font=HEADING_FONT, size=14, bold=True)
        for part in chapter.parts:
            _para(doc, part.heading, font=HEADING_FONT, size=12, bold=True)
            _para(doc, part.hint, size=12)
            lines = [x for x in part.text.splitlines() if x.strip()] or [""]
            for line in lines:
                _para(doc, line, size=12, indent=True)
    return _save(doc)


def commitment_letter_docx(application: Application) -> bytes:
    """附件14-4 承诺书: the eight commitments verbatim, company name, signature and seal."""
    doc = _new_document(document_identity(application))
    _head(doc, src.COMMITMENT_ATTACHMENT, src.COMMITMENT_TITLE)
    _para(doc, src.COMMITMENT_INTRO, indent=True)
    for i, text in enumerate(src.COMMITMENTS, 1):
        _para(doc, f"{i}.{text}", indent=True)
    _para(doc)
    p = _para(doc, src.COMMITMENT_SIGNATURE + "\u3000" * 8)
    run = p.add_run(src.COMMITMENT_SEAL + application.applicant_name)
    _font(run, BODY_FONT, 12)
    _para(
        doc,
        src.COMMITMENT_DATE + "\u3000\u3000年\u3000\u3000月\u3000\u3000日",
        align=WD_ALIGN_PARAGRAPH.RIGHT,
    )
    return _save(doc)
