"""Reading China's fully digitalised e-invoices (数电票) and prefilling a contract's invoice.

XML (the structured original) is read by the local names of its elements, with defusedxml; PDF
text is read with pdfplumber, position-aware (buyer left, seller right, items by column), after
NFKC normalisation: some generators emit Kangxi radicals (⼤ U+2F24 for 大) and full-width
punctuation. A scanned image is not read: it is accepted for a person to read. No file proves an
invoice authentic; only the national verification service can (/work/shared/spec/EINVOICE.md).
"""

from __future__ import annotations

import io
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.conf import settings

from voucher.applications.models import Contract, Invoice

DEFAULT_COMPUTE_CATEGORIES = ("信息技术服务",)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@dataclass(frozen=True, slots=True)
class InvoiceItem:
    name: str  # "*信息技术服务*算力服务费"
    spec: str = ""
    unit: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tax_rate: Decimal | None = None  # 0.06
    tax: Decimal | None = None

    @property
    def category(self) -> str:
        """The tax category short name between the asterisks, "" when there is none."""
        m = re.match(r"\*([^*]+)\*", self.name)
        return m.group(1) if m else ""


@dataclass(slots=True)
class ParsedInvoice:
    source: Literal["xml", "pdf"]
    number: str = ""
    issue_date: date | None = None
    kind: str = ""  # 增值税专用发票 / 普通发票
    buyer_name: str = ""
    buyer_tax_id: str = ""
    seller_name: str = ""
    seller_tax_id: str = ""
    amount: Decimal | None = None  # 合计金额 (without tax)
    tax: Decimal | None = None  # 合计税额
    total: Decimal | None = None  # 价税合计
    items: list[InvoiceItem] = field(default_factory=list)
    remark: str = ""
    problems: list[str] = field(default_factory=list)  # what could not be read


@dataclass(frozen=True, slots=True)
class NotParsed:
    """A file that is accepted but not read by the system: a person reads it."""

    reason: str


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    cleaned = nfkc(text).strip().replace(",", "").replace("¥", "").replace(" ", "")
    if not cleaned or set(cleaned) == {"*"}:
        return None
    percent = cleaned.endswith("%")
    try:
        value = Decimal(cleaned.rstrip("%"))
    except InvalidOperation:
        return None
    return value / 100 if percent else value


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    m = re.search(r"(\d{4})[-年/](\d{1,2})[-月/](\d{1,2})", nfkc(text))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


# --- XML -------------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Any, *names: str) -> Any:
    """The element at a path of local names below `element` (first match at each step)."""
    current = element
    for name in names:
        current = next((c for c in current if _local(c.tag) == name), None)
        if current is None:
            return None
    return current


def _text(element: Any, *names: str) -> str:
    found = _child(element, *names)
    return nfkc(found.text or "").strip() if found is not None and found.text else ""


def _descendants(element: Any, name: str) -> Iterable[Any]:
    return (e for e in element.iter() if _local(e.tag) == name)


def parse_invoice_xml(data: bytes) -> ParsedInvoice:
    from defusedxml import ElementTree

    root = ElementTree.fromstring(data)
    inv = ParsedInvoice(source="xml")
    header = _child(root, "Header")
    body = _child(root, "EInvoiceData")
    supervision = _child(root, "TaxSupervisionInfo")
    if header is not None:
        inv.number = _text(header, "EIid")
        inv.kind = _text(header, "InherentLabel", "GeneralOrSpecialVAT", "LabelName")
    if supervision is not None:
        inv.number = inv.number or _text(supervision, "InvoiceNumber")
        inv.issue_date = _iso_date(_text(supervision, "IssueTime"))
    if body is None:
        inv.problems.append("缺少 EInvoiceData")
        return inv
    inv.seller_name = _text(body, "SellerInformation", "SellerName")
    inv.seller_tax_id = _text(body, "SellerInformation", "SellerIdNum")
    inv.buyer_name = _text(body, "BuyerInformation", "BuyerName")
    inv.buyer_tax_id = _text(body, "BuyerInformation", "BuyerIdNum")
    inv.amount = _decimal(_text(body, "BasicInformation", "TotalAmWithoutTax"))
    inv.tax = _decimal(_text(body, "BasicInformation", "TotalTaxAm"))
    inv.total = _decimal(_text(body, "BasicInformation", "TotalTax-includedAmount"))
    inv.remark = _text(body, "AdditionalInformation", "Remark")
    for item in _descendants(body, "IssuItemInformation"):
        inv.items.append(
            InvoiceItem(
                name=_text(item, "ItemName"),
                spec=_text(item, "SpecMod"),
                unit=_text(item, "MeaUnits"),
                quantity=_decimal(_text(item, "Quantity")),
                unit_price=_decimal(_text(item, "UnPrice")),
                amount=_decimal(_text(item, "Amount")),
                tax_rate=_decimal(_text(item, "TaxRate")),
                tax=_decimal(_text(item, "ComTaxAm")),
            )
        )
    return inv


# --- PDF -------------------------------------------------------------------------------------

_MONEY = r"¥?\s*(-?[\d,]+\.\d{2})"
_COLUMNS = ("项目名称", "规格型号", "单位", "数量", "单价", "金额", "税率/征收率", "税额")
_PARTY_NAME = re.compile(r"(?<!项目)名称[:：]\s*(\S+)")
_PARTY_ID = re.compile(r"(?:统一社会信用代码/)?纳税人识别号[:：]\s*([0-9A-Z]{15,20})")


def _page_text(page: Any) -> str:
    return nfkc(page.extract_text() or "")


def parse_invoice_pdf(data: bytes) -> ParsedInvoice | NotParsed:
    import pdfplumber

    inv = ParsedInvoice(source="pdf")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if not pdf.pages:
            return NotParsed("PDF 没有页面")
        page = pdf.pages[0]
        text = _page_text(page)
        if not text.strip():
            return NotParsed("扫描件（PDF 中没有文字层），由审核人员阅读")
        m = re.search(r"发票号码[:：]?\s*(\d{20})", text)
        inv.number = m.group(1) if m else ""
        inv.issue_date = _iso_date(
            (re.search(r"开票日期[:：]?\s*(\d{4}年\d{1,2}月\d{1,2}日)", text) or [None, None])[1]
        )
        if "专用发票" in text:
            inv.kind = "增值税专用发票"
        elif "普通发票" in text:
            inv.kind = "普通发票"
        mid = page.width / 2
        header_top = _items_header_top(page)
        party_bottom = header_top if header_top is not None else page.height / 2
        left = _page_text(page.crop((0, 0, mid, party_bottom)))
        right = _page_text(page.crop((mid, 0, page.width, party_bottom)))
        inv.buyer_name, inv.buyer_tax_id = _party(left)
        inv.seller_name, inv.seller_tax_id = _party(right)
        totals = re.search(r"合\s*计\s*" + _MONEY + r"\s*" + _MONEY, text)
        if totals:
            inv.amount, inv.tax = _decimal(totals.group(1)), _decimal(totals.group(2))
        grand = re.search(r"\(小写\)\s*" + _MONEY, text)
        inv.total = _decimal(grand.group(1)) if grand else None
        remark = re.search(r"备\s*注\s*(.*)", text)
        inv.remark = remark.group(1).strip() if remark else ""
        if header_top is not None:
            inv.items = _items(page, header_top)
    for name, value in (
        ("发票号码", inv.number),
        ("开票日期", inv.issue_date),
        ("价税合计", inv.total),
    ):
        if not value:
            inv.problems.append(f"未能读出{name}")
    return inv


def _party(text: str) -> tuple[str, str]:
    name = _PARTY_NAME.search(text)
    tax_id = _PARTY_ID.search(text)
    return (name.group(1) if name else "", tax_id.group(1) if tax_id else "")


def _words(page: Any) -> list[dict[str, Any]]:
    words: list[dict[str, Any]] = page.extract_words(keep_blank_chars=False, x_tolerance=1.5)
    for w in words:
        w["text"] = nfkc(w["text"])
    return words


def _items_header_top(page: Any) -> float | None:
    for w in _words(page):
        if w["text"] == "项目名称":
            return float(w["top"])
    return None


def _items(page: Any, header_top: float) -> list[InvoiceItem]:
    words = _words(page)
    header = {w["text"]: (w["x0"] + w["x1"]) / 2 for w in words if abs(w["top"] - header_top) < 3}
    centres = [(name, header[name]) for name in _COLUMNS if name in header]
    if len(centres) < 6:
        return []
    centres.sort(key=lambda c: c[1])
    bounds = [(a[1] + b[1]) / 2 for a, b in itertools.pairwise(centres)]

    def column(x: float) -> str:
        for (name, _c), bound in zip(centres, bounds, strict=False):
            if x < bound:
                return name
        return centres[-1][0]

    # words of one row may sit a point apart (CJK and Latin faces differ): cluster by top
    rows: list[dict[str, list[str]]] = []
    row_top = -1.0
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if w["top"] <= header_top + 3:
            continue
        if w["text"] in ("合", "合计") and column(w["x0"]) == "项目名称":
            break
        if not rows or w["top"] - row_top > 3:
            rows.append({})
            row_top = w["top"]
        rows[-1].setdefault(column((w["x0"] + w["x1"]) / 2), []).append(w["text"])
    items: list[InvoiceItem] = []
    for line in rows:
        name = "".join(line.get("项目名称", []))
        if not name:
            continue
        if not name.startswith("*") and items and not line.get("金额"):
            # a long item name wraps onto the next line
            prev = items[-1]
            items[-1] = InvoiceItem(prev.name + name, *_rest(prev))
            continue

        def get(col: str, line: dict[str, list[str]] = line) -> str:
            return "".join(line.get(col, []))

        items.append(
            InvoiceItem(
                name=name,
                spec=get("规格型号"),
                unit=get("单位"),
                quantity=_decimal(get("数量")),
                unit_price=_decimal(get("单价")),
                amount=_decimal(get("金额")),
                tax_rate=_decimal(get("税率/征收率")),
                tax=_decimal(get("税额")),
            )
        )
    return items


def _rest(item: InvoiceItem) -> tuple[Any, ...]:
    return (
        item.spec,
        item.unit,
        item.quantity,
        item.unit_price,
        item.amount,
        item.tax_rate,
        item.tax,
    )


# --- any file --------------------------------------------------------------------------------

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF8", b"BM")


def read_invoice(file_bytes: bytes, filename: str = "") -> ParsedInvoice | NotParsed:
    """XML or PDF e-invoice → ParsedInvoice; an image (a scan) or OFD → NotParsed."""
    head = file_bytes[:16].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and file_bytes[8:12] == b"WEBP"):
        return NotParsed("图片（扫描件）不做识别，由审核人员阅读")
    if head.startswith(b"%PDF"):
        return parse_invoice_pdf(file_bytes)
    if head.startswith(b"<"):
        return parse_invoice_xml(file_bytes)
    if head.startswith(b"PK") and filename.lower().endswith(".ofd"):
        return NotParsed("OFD 版式文件暂不识别，请上传 XML 或 PDF，或由审核人员阅读")
    return NotParsed("不是可识别的发票文件（XML、PDF），由审核人员阅读")


# --- prefill and flags -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceFlag:
    code: str  # BUYER_NOT_APPLICANT, SELLER_NOT_SUPPLIER, DUPLICATE_NUMBER, TOTALS, NON_COMPUTE, …
    status: Literal["fail", "review"]
    message: str


@dataclass(frozen=True, slots=True)
class InvoicePrefill:
    invoice: Invoice  # unsaved; number, date, amount (价税合计) filled from the file
    flags: list[InvoiceFlag]
    parsed: ParsedInvoice


def compute_categories() -> tuple[str, ...]:
    return tuple(
        getattr(settings, "VOUCHER_INVOICE_COMPUTE_CATEGORIES", DEFAULT_COMPUTE_CATEGORIES)
    )


def _same_name(a: str, b: str) -> bool:
    def fold(s: str) -> str:
        return re.sub(r"\s+", "", nfkc(s))

    return fold(a) == fold(b)


def invoice_prefill(
    contract: Contract,
    parsed: ParsedInvoice,
    *,
    accepted_categories: Iterable[str] | None = None,
) -> InvoicePrefill:
    """An Invoice for `contract` from a parsed e-invoice, and what a reviewer must look at.

    The invoice's amount is the 价税合计 (tax included): the money paid, which the engine sets
    against the payments and the delivered compute (RULES.md, step 3).
    """
    application = contract.application
    flags: list[InvoiceFlag] = []
    applicant_id = application.enterprise.uscc
    if parsed.buyer_tax_id and parsed.buyer_tax_id != applicant_id:
        flags.append(
            InvoiceFlag(
                "BUYER_NOT_APPLICANT",
                "fail",
                f"购买方 {parsed.buyer_name}（{parsed.buyer_tax_id}）不是申报单位 "
                f"{application.applicant_name}（{applicant_id}）",
            )
        )
    elif not parsed.buyer_tax_id and not _same_name(parsed.buyer_name, application.applicant_name):
        flags.append(
            InvoiceFlag(
                "BUYER_NOT_APPLICANT",
                "fail",
                f"购买方“{parsed.buyer_name}”不是申报单位“{application.applicant_name}”",
            )
        )
    elif parsed.buyer_name and not _same_name(parsed.buyer_name, application.applicant_name):
        flags.append(
            InvoiceFlag(
                "BUYER_NOT_APPLICANT",
                "review",
                f"购买方税号与申报单位一致，名称不同：“{parsed.buyer_name}”与“{application.applicant_name}”",
            )
        )
    if parsed.seller_tax_id and parsed.seller_tax_id != contract.supplier_uscc:
        flags.append(
            InvoiceFlag(
                "SELLER_NOT_SUPPLIER",
                "fail",
                f"销售方 {parsed.seller_name}（{parsed.seller_tax_id}）不是合同 {contract.contract_id} "
                f"的算力供应方 {contract.supplier_name}（{contract.supplier_uscc}）",
            )
        )
    elif not parsed.seller_tax_id and not _same_name(parsed.seller_name, contract.supplier_name):
        flags.append(
            InvoiceFlag(
                "SELLER_NOT_SUPPLIER",
                "fail",
                f"销售方“{parsed.seller_name}”不是合同 {contract.contract_id} 的算力供应方“{contract.supplier_name}”",
            )
        )
    if parsed.number:
        if not re.fullmatch(r"\d{20}", parsed.number):
            flags.append(
                InvoiceFlag(
                    "NUMBER_FORMAT", "review", f"发票号码 {parsed.number} 不是20位数电票号码"
                )
            )
        claimed = (
            Invoice.objects.filter(
                number=parsed.number, contract__application__round_id=application.round_id
            )
            .select_related("contract__application__round")
            .order_by("id")
        )
        for other in claimed:
            flags.append(
                InvoiceFlag(
                    "DUPLICATE_NUMBER",
                    "fail",
                    f"发票号码 {parsed.number} 已在本轮申报 {other.contract.application.reference} "
                    f"合同 {other.contract.contract_id} 中申报",
                )
            )
    flags.extend(_total_flags(parsed))
    accepted = (
        tuple(accepted_categories) if accepted_categories is not None else compute_categories()
    )
    for item in parsed.items:
        if item.category not in accepted:
            flags.append(
                InvoiceFlag(
                    "NON_COMPUTE_ITEM",
                    "review",
                    f"项目“{item.name}”的税收分类“{item.category or '无'}”不在算力类别（{'、'.join(accepted)}）之内，"
                    "由审核人员判断是否为智能算力",
                )
            )
    for problem in parsed.problems:
        flags.append(InvoiceFlag("UNREADABLE", "review", problem))
    position = contract.invoices.count()
    # unsaved, and incomplete where the file was: the person completes it before saving
    invoice = Invoice(contract=contract, position=position, number=parsed.number)
    invoice.date = parsed.issue_date  # type: ignore[assignment]
    invoice.amount = parsed.total
    return InvoicePrefill(invoice=invoice, flags=flags, parsed=parsed)


def _total_flags(p: ParsedInvoice) -> list[InvoiceFlag]:
    flags = []
    if (
        p.amount is not None
        and p.tax is not None
        and p.total is not None
        and p.amount + p.tax != p.total
    ):
        flags.append(
            InvoiceFlag(
                "TOTALS",
                "fail",
                f"合计金额 {p.amount} + 合计税额 {p.tax} ≠ 价税合计 {p.total}",
            )
        )
    if p.items and p.amount is not None:
        items_amount = sum((i.amount or Decimal(0) for i in p.items), Decimal("0.00"))
        if items_amount != p.amount:
            flags.append(
                InvoiceFlag("TOTALS", "fail", f"明细金额之和 {items_amount} ≠ 合计金额 {p.amount}")
            )
    if p.items and p.tax is not None:
        items_tax = sum((i.tax or Decimal(0) for i in p.items), Decimal("0.00"))
        if items_tax != p.tax:
            flags.append(
                InvoiceFlag("TOTALS", "fail", f"明细税额之和 {items_tax} ≠ 合计税额 {p.tax}")
            )
    return flags
