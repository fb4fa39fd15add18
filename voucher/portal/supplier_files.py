"""A compute supplier's contracts as a file, and its words back from the same file (issue 22 item 5).

The export (CSV or XLSX) has one row per line of each contract naming the supplier: the contract's
terms, then each delivery line, invoice and payment (`supplier.ROW_KINDS`), with the line's key (行标识) and the hash of the content the
supplier sees (内容校验码). The supplier fills the column 确认/有异议 (and 异议理由 for a dispute)
and uploads the file again; `read_words` checks it row by row like the contracts import
(voucher/portal/imports.py: the row and the column named, in plain Chinese) and
`words_apply` gives each word through the page's own action (`supplier.line_word`), which
refuses a line whose content changed since the export.

What is all-or-nothing and what is per row (docs/policy/supplier-confirmation.md):
- a mistake in the file (an unknown word, a dispute without a reason, a key that is not a line
  of the supplier's contracts, a missing column, a line named twice) saves nothing: every
  mistake is listed, the supplier corrects the file and uploads it again;
- a line the applicant changed or deleted since the export is refused for its row only (it is
  not the supplier's mistake, and its other words stand); the result names those rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import supplier
from voucher.applications.models import (
    LINE_CONFIRMED,
    LINE_DISPUTED,
    Contract,
    Delivery,
    Invoice,
    Payment,
)
from voucher.applications.roles import supplier_uscc_of
from voucher.applications.uploads import UploadRefused, check_upload
from voucher.core.audit import audit
from voucher.core.http import too_large, upload_limit_bytes
from voucher.core.spreadsheets import row as safe_row
from voucher.portal.imports import ImportFailed, RowError, _header_key, _rows_csv, _rows_xlsx

UPLOAD_KIND = "supplier_confirmations"
MAX_ROWS = 20000
SHEET = "合同逐行确认"
KEY, HASH, WORD, REASON = "行标识", "内容校验码", "确认/有异议", "异议理由"
CONFIRM_WORDS = {"确认", "已确认", "confirm", "confirmed", "是"}
DISPUTE_WORDS = {"有异议", "异议", "dispute", "disputed"}
STATE_WORDS = {
    LINE_CONFIRMED: "已确认",
    LINE_DISPUTED: "有异议",
    supplier.UNCONFIRMED: "未确认",
}
HEADERS = (
    KEY,
    HASH,
    "申报单位",
    "申报编号",
    "申报状态",
    "合同编号",
    "行",
    "签订日期",
    "有效期开始",
    "有效期结束",
    "合同总额（元）",
    "开始日期",
    "结束日期",
    "服务类型",
    "设备型号",
    "数量",
    "单位",
    "单价（元）",
    "金额（元）",
    "发票号码",
    "开票日期",
    "支付日期",
    "当前状态",
    "当前异议理由",
    WORD,
    REASON,
)
INSTRUCTIONS = (
    "算力供给方逐行确认（北京市算力券，附件14-1 三、五）",
    "每行是一份合同的一项内容：合同条款（签订日期、有效期、总额）、一条交付记录、一张发票或一笔付款。",
    "核对后在“确认/有异议”列填写“确认”或“有异议”；有异议的须在“异议理由”列写明理由；留空的行不处理。",
    "请勿修改“行标识”和“内容校验码”：它们对应导出时该行的内容。导出后申报单位修改或删除了的行不会保存，请重新导出核对。",
    "上传时逐行检查：文件中有任何填写错误（如无法识别的填写、有异议未写理由、找不到的行标识）都不会保存，并列出每个错误所在的行号和列。",
)


def max_bytes() -> int:
    return upload_limit_bytes(UPLOAD_KIND)


# --- the export --------------------------------------------------------------------------------


def line_key(contract: Contract, line: supplier.Line) -> str:
    return f"{contract.pk}/{line.key}"


def _cells(contract: Contract, line: supplier.Line) -> list[Any]:
    application: Any = contract.application
    head = [
        line_key(contract, line),
        supplier.content_hash(line.row),
        application.enterprise.name,
        application.reference,
        application.get_state_display(),
        contract.contract_id,
    ]
    blank_contract = ["", "", "", ""]  # 签订日期, 有效期开始/结束, 合同总额
    blank_delivery = ["", "", "", "", "", "", ""]  # 开始日期 … 单价
    blank_money = ["", "", ""]  # 发票号码, 开票日期, 支付日期
    row: Any = line.row
    if line.is_contract:
        body = [
            "合同条款",
            row.signed_on or "",
            row.valid_from,
            row.valid_to,
            row.total_amount,
            *blank_delivery,
            "",
            *blank_money,
        ]
    elif isinstance(row, Delivery):
        body = [
            "交付记录",
            *blank_contract,
            row.start,
            row.end,
            row.get_service_display(),
            row.device or "",
            row.quantity,
            row.unit,
            row.unit_price,
            row.amount,
            *blank_money,
        ]
    elif isinstance(row, Invoice):
        body = ["发票", *blank_contract, *blank_delivery, row.amount, row.number, row.date, ""]
    elif isinstance(row, Payment):
        body = ["付款", *blank_contract, *blank_delivery, row.amount, "", "", row.date]
    else:  # a line of a kind this file does not lay out: named in words
        body = [str(row), *blank_contract, *blank_delivery, "", *blank_money]
    tail = [STATE_WORDS.get(line.state, line.state), line.reason, "", ""]
    return head + body + tail


def export_rows(contracts: Sequence[Contract]) -> list[list[Any]]:
    """Every line of the contracts, the supplier's words read in two queries."""
    words, _declared = supplier.words_and_attestations(contracts)
    rows = []
    for contract in contracts:
        for line in supplier.lines_of(contract, words[contract.pk]):
            rows.append(_cells(contract, line))
    return rows


def export_csv(contracts: Sequence[Contract]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(HEADERS))
    for values in export_rows(contracts):
        writer.writerow(safe_row("" if v is None else v for v in values))  # never a formula
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # Excel reads UTF-8 with its BOM


def export_xlsx(contracts: Sequence[Contract]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(safe_row(HEADERS))
    for head in sheet[1]:
        head.font = Font(bold=True)
    rows = export_rows(contracts)
    for values in rows:
        sheet.append(safe_row("" if v is None else v for v in values))
    word_column = get_column_letter(HEADERS.index(WORD) + 1)
    choice = DataValidation(type="list", formula1='"确认,有异议"', allow_blank=True)
    sheet.add_data_validation(choice)
    choice.add(f"{word_column}2:{word_column}{len(rows) + 1}")
    for index, header in enumerate(HEADERS, start=1):
        width = 66 if header == HASH else max(12, len(header) * 2 + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    notes = book.create_sheet("说明")
    for i, text in enumerate(INSTRUCTIONS, 1):
        notes.cell(row=i, column=1, value=safe_row([text])[0]).font = Font(bold=(i == 1))
    notes.column_dimensions["A"].width = 120
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading the words back --------------------------------------------------------------------


@dataclass(frozen=True)
class FileWord:
    sheet: str
    row: int  # the row number in the file (the header is row 1)
    contract_pk: int
    line: str
    content_hash: str
    state: str
    reason: str


@dataclass
class WordsApplied:
    confirmed: int = 0
    disputed: int = 0
    unchanged: int = 0  # the same word on the same content was given already
    refused: list[RowError] = field(default_factory=list)  # lines changed since the export


# "<contract pk>/contract" or "<contract pk>/<kind>:<pk>", a kind of `supplier.ROW_KINDS`
_KINDS = "|".join(map(re.escape, supplier.ROW_KINDS))
_KEY = re.compile(rf"^(\d{{1,18}})/(contract|(?:{_KINDS}):\d{{1,18}})$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _sheet_rows(name: str, data: bytes) -> tuple[str, list[list[Any]]]:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        try:
            check_upload(name, data, kind=UPLOAD_KIND)  # zip bombs, macros, external links, XXE
        except UploadRefused as exc:
            raise ImportFailed([RowError(name, 0, "", str(exc))]) from None
        try:
            for title, rows in _rows_xlsx(data, max_rows=MAX_ROWS):
                if rows and WORD in {_header_key(h) for h in rows[0] if h}:
                    return title, rows
        except ImportFailed:
            raise
        except Exception:
            raise ImportFailed([RowError(name, 0, "", _("无法读取此 Excel 文件"))]) from None
        raise ImportFailed(
            [RowError(name, 0, "", _("没有找到含“%(column)s”列的工作表") % {"column": WORD})]
        )
    if lower.endswith(".csv"):
        return "CSV", _rows_csv(data, max_rows=MAX_ROWS)
    raise ImportFailed([RowError(name, 0, "", _("只能上传 .xlsx 或 .csv 文件"))])


def read_words(name: str, data: bytes, *, acting_user: Any) -> list[FileWord]:
    """The words of the file, every row checked; ImportFailed lists every mistake (then nothing
    is saved). A key that is not a line of the acting supplier's contracts is a mistake, named as
    not found (another supplier's contract is not said to exist)."""
    if len(data) > max_bytes():
        raise ImportFailed([RowError(name, 0, "", str(too_large(UPLOAD_KIND, len(data))))])
    sheet, rows = _sheet_rows(name, data)
    if not rows:
        raise ImportFailed([RowError(sheet, 0, "", _("文件是空的"))])
    header = [_header_key(h) for h in rows[0]]
    missing = [c for c in (KEY, HASH, WORD) if _header_key(c) not in header]
    if missing:
        raise ImportFailed([RowError(sheet, 1, c, _("缺少此列")) for c in missing])
    at = {c: header.index(_header_key(c)) for c in (KEY, HASH, WORD, REASON) if c in header}

    def value(row: list[Any], column: str) -> str:
        i = at.get(column)
        return _text(row[i]) if i is not None and i < len(row) else ""

    errors: list[RowError] = []
    wanted: list[tuple[int, int, str, str, str, str]] = []
    seen: dict[tuple[int, str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        word = value(row, WORD)
        if not word:
            continue  # a line the supplier leaves for later
        lowered = word.lower()
        if lowered in CONFIRM_WORDS:
            state = LINE_CONFIRMED
        elif lowered in DISPUTE_WORDS:
            state = LINE_DISPUTED
        else:
            errors.append(
                RowError(
                    sheet,
                    number,
                    WORD,
                    _("应填“确认”或“有异议”（或留空），收到“%(v)s”") % {"v": word},
                )
            )
            continue
        reason = value(row, REASON)
        if state == LINE_DISPUTED and not reason:
            errors.append(RowError(sheet, number, REASON, _("提出异议须写明理由")))
            continue
        key = value(row, KEY)
        matched = _KEY.match(key)
        if matched is None:
            errors.append(
                RowError(sheet, number, KEY, _("无法识别“%(v)s”：请勿修改此列") % {"v": key})
            )
            continue
        content = value(row, HASH).lower()
        if not _HEX.match(content):
            errors.append(RowError(sheet, number, HASH, _("无法识别：请勿修改此列")))
            continue
        contract_pk, line = int(matched.group(1)), matched.group(2)
        if (contract_pk, line) in seen:
            errors.append(
                RowError(
                    sheet,
                    number,
                    KEY,
                    _("与第%(n)d行是同一行，只能填写一次") % {"n": seen[(contract_pk, line)]},
                )
            )
            continue
        seen[(contract_pk, line)] = number
        wanted.append((number, contract_pk, line, content, state, reason[:500]))
    # only the acting supplier's contracts: any other key is "not found"
    uscc = supplier_uscc_of(acting_user)
    mine = set(
        Contract.objects.filter(
            supplier_uscc=uscc, pk__in={pk for _n, pk, *_rest in wanted}
        ).values_list("pk", flat=True)
    ) if uscc else set()  # fmt: skip
    words = []
    for number, contract_pk, line, content, state, reason in wanted:
        if contract_pk not in mine:
            errors.append(
                RowError(
                    sheet,
                    number,
                    KEY,
                    _("找不到此行：它不属于列明贵单位为算力供给方的合同"),
                )
            )
            continue
        words.append(FileWord(sheet, number, contract_pk, line, content, state, reason))
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))
    if not words:
        raise ImportFailed([RowError(sheet, 0, WORD, _("没有任何一行填写了“确认”或“有异议”"))])
    return words


def words_apply(
    words: Iterable[FileWord], *, source_name: str, data: bytes, acting_user: Any
) -> WordsApplied:
    """Each word through the page's own action (`supplier.line_word`, audited per line), with the
    content hash the file carries: a line changed or deleted since the export is refused for its
    row. A word the supplier already gave on the same content is left as it is."""
    result = WordsApplied()
    words = list(words)
    contracts = Contract.objects.in_bulk({w.contract_pk for w in words})
    given, _declared = supplier.words_and_attestations(list(contracts.values()))
    spoken: set[int] = set()
    with transaction.atomic():
        for word in words:
            before = given[word.contract_pk].get(word.line)
            if (
                before is not None
                and before.content_hash == word.content_hash
                and before.state == word.state
                and before.reason == (word.reason if word.state == LINE_DISPUTED else "")
            ):
                # the same word on the same content, if the line is still that content
                contract = contracts[word.contract_pk]
                row = supplier.row_of_line(contract, word.line)
                if row is not None and supplier.content_hash(row) == word.content_hash:
                    result.unchanged += 1
                    continue
            try:
                supplier.line_word(
                    contract=contracts[word.contract_pk],
                    line=word.line,
                    state=word.state,
                    reason=word.reason,
                    acting_user=acting_user,
                    expected_hash=word.content_hash,
                    refresh_state=False,  # once per contract, below
                    evaluate=False,  # once per application, below
                )
            except supplier.SupplierRefused as refused:
                if refused.field == "line":
                    message = _("该行已被申报单位删除，未保存")
                elif refused.field == "content_hash":
                    message = _(
                        "该行内容在导出后已被申报单位修改，未保存；请重新导出，核对后再确认。"
                    )
                else:
                    message = str(refused.message)
                result.refused.append(RowError(word.sheet, word.row, KEY, message))
                continue
            spoken.add(word.contract_pk)
            if word.state == LINE_CONFIRMED:
                result.confirmed += 1
            else:
                result.disputed += 1
        for contract_pk in sorted(spoken):
            supplier.supplier_state_refresh(contract_pk)
        supplier.evaluate_after_supplier_word(
            sorted({contracts[pk].application_id for pk in spoken})
        )
        audit(
            actor=acting_user,
            action="supplier_file_words",
            data={
                "source": source_name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "confirmed": result.confirmed,
                "disputed": result.disputed,
                "unchanged": result.unchanged,
                "refused_rows": [e.row for e in result.refused],
            },
        )
    return result
