"""Classified markings in uploads: materials must be declassified (承诺书 第5条).

A classification mark is 绝密, 机密 or 秘密 followed by ★ and, usually, the period of secrecy
(机密★5年, 秘密★长期). The word alone is ordinary prose (商业秘密保护, 技术秘密) and is not a mark.
Marks such as 内部★ are configured (settings.VOUCHER_CLASSIFIED_EXTRA_MARKS). Text is read from
PDF (pypdf, page by page) and DOCX (body, tables, headers and footers); other files are not read.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from voucher.applications.ports import (
    SCAN_CLEAN,
    SCAN_NOT_READ,
    SCAN_REFUSED,
    SCAN_UNREADABLE,
    ClassifiedScanResult,
)
from voucher.documents.source_text import COMMITMENTS

DEFAULT_EXTRA_MARKS = ("内部★", "内部资料注意保存", "内部资料，注意保存")
_LEVEL_MARK = re.compile(r"(?:绝密|机密|秘密)[★☆](?:\d{1,3}(?:年|个月)|长期)?")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Hit:
    page: int | None  # 1-based; None when the format has no pages the system can count
    text: str  # the mark as found, e.g. "机密★5年"


def extra_marks() -> tuple[str, ...]:
    return tuple(getattr(settings, "VOUCHER_CLASSIFIED_EXTRA_MARKS", DEFAULT_EXTRA_MARKS))


def _normalise(text: str) -> str:
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def find_marks(text: str, page: int | None = None) -> list[Hit]:
    flat = _normalise(text)
    hits = [Hit(page, m.group(0)) for m in _LEVEL_MARK.finditer(flat)]
    for mark in extra_marks():
        if _normalise(mark) in flat:
            hits.append(Hit(page, mark))
    return hits


def _pdf_pages(data: bytes) -> Iterable[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        yield page.extract_text() or ""


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _page_break(el: Any) -> bool:
    return bool(el.tag == f"{_W}br" and el.get(f"{_W}type") == "page")


def _docx_pages(data: bytes) -> list[str]:
    """Text per page as far as the file says: Word stores where pages broke when it last laid
    the document out (lastRenderedPageBreak); without those, explicit page breaks count."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    body = doc.element.body
    rendered = any(True for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    pages = [""]
    for el in body.iter():
        tag = el.tag
        if tag == f"{_W}t" and el.text:
            pages[-1] += el.text
        elif tag == f"{_W}p":
            pages[-1] += "\n"
        elif (tag == f"{_W}lastRenderedPageBreak") if rendered else _page_break(el):
            pages.append("")
    # marks in headers and footers stand on every page: report them on the first
    for section in doc.sections:
        for part in (section.header, section.footer):
            pages[0] += "\n" + "\n".join(p.text for p in part.paragraphs)
    return pages


def _readable_kind(file_bytes: bytes, filename: str) -> str | None:
    """ "pdf" or "docx" when the scanner reads the file's text; None for other kinds."""
    name = filename.lower()
    if file_bytes[:5] == b"%PDF-" or name.endswith(".pdf"):
        return "pdf"
    if file_bytes[:2] == b"PK" and name.endswith(".docx"):
        return "docx"
    return None


def scan_for_classified_marks(file_bytes: bytes, filename: str) -> list[Hit]:
    """Classification marks in a PDF or DOCX upload, with the page of each; [] when none (or
    when the file is of a kind whose text the system does not read, such as an image)."""
    kind = _readable_kind(file_bytes, filename)
    if kind == "pdf":
        pages: Iterable[str] = _pdf_pages(file_bytes)
    elif kind == "docx":
        pages = _docx_pages(file_bytes)
    else:
        return []
    hits: list[Hit] = []
    for number, text in enumerate(pages, 1):
        hits.extend(find_marks(text, number))
    return hits


def refusal_message(hits: list[Hit]) -> str:
    """Why an upload is refused, in the words an applicant reads."""
    where = "；".join(
        f"第{h.page}页“{h.text}”" if h.page is not None else f"“{h.text}”" for h in hits
    )
    return (
        f"文件含有密级标志（{where}），不予接收。申报材料须经脱密处理："
        f"承诺书第5条“{COMMITMENTS[4]}”"
    )


def upload_scan(data: bytes, name: str) -> ClassifiedScanResult:
    """The scan of an uploaded file (plugged into the uploads' check, applications/ports.py):
    refused with the pages of its marks; or passed, saying whether its text was read, is of a
    kind not read (a picture, a spreadsheet), or could not be read (the format checks of the
    upload passed it) — kept with the file for the reviewer."""
    if _readable_kind(data, name) is None:
        return ClassifiedScanResult(SCAN_NOT_READ)
    try:
        hits = scan_for_classified_marks(data, name)
    except Exception:
        return ClassifiedScanResult(SCAN_UNREADABLE)
    if hits:
        return ClassifiedScanResult(SCAN_REFUSED, refusal_message(hits))
    return ClassifiedScanResult(SCAN_CLEAN)
