"""Contracts and their rows from a spreadsheet (XLSX from the template, or CSV).

A workbook has one sheet per table (合同, 交付记录, 发票, 付款, 其他补贴); a CSV file holds one
table, recognised by its header row. Every cell goes through the interchange format's own
validators; every bad cell is reported as (sheet, row number, column, what is wrong), and a file
with any error imports nothing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from pydantic import BaseModel, ValidationError

from voucher.applications.uploads import UploadRefused, check_upload
from voucher.applications.wording import plain_advice
from voucher.core.http import too_large, upload_limit_bytes
from voucher.core.spreadsheets import cell
from voucher.core.spreadsheets import row as safe_row
from voucher.policy import format as fmt
from voucher.policy.dates import DateError, iso_date, parse_date
from voucher.policy.money import MoneyError, format_yuan, parse_yuan
from voucher.portal.actions import ImportedContract, ImportedRows

MAX_ROWS = 5000


def max_bytes() -> int:
    """The largest file the import reads (settings.VOUCHER_MAX_UPLOAD_MB["application_import"])."""
    return upload_limit_bytes("application_import")


@dataclass(frozen=True)
class Column:
    key: str  # the interchange field (dotted for nested ones)
    header: str
    required: bool = True
    kind: str = "text"  # text | money | decimal | date | bool | choice
    example: str = ""
    # earlier headers of the column, still read: files filled in from an older template import
    aliases: tuple[str, ...] = ()

    def header_keys(self) -> tuple[str, ...]:
        """The header as the template writes it, then its earlier forms."""
        return tuple(_header_key(h) for h in (self.header, *self.aliases))


@dataclass(frozen=True)
class Table:
    kind: str
    sheet: str
    columns: tuple[Column, ...]


CONTRACT_ID = Column("contract_id", "合同编号", example="C2")
TABLES = (
    Table(
        "contracts",
        "合同",
        (
            Column("id", "合同编号", example="C2"),
            # 供给方, the policy's word; templates before issue 19 said 供应方
            Column(
                "supplier.name",
                "供给方名称",
                example="北京示例算力有限公司",
                aliases=("供应方名称",),
            ),
            Column(
                "supplier.uscc",
                "供给方统一社会信用代码",
                example="91110105MA02D4RY0J",
                aliases=("供应方统一社会信用代码",),
            ),
            Column("signed_on", "签订日期", required=False, kind="date", example="2025-09-01"),
            Column("valid_from", "有效期开始", kind="date", example="2025-09-01"),
            Column("valid_to", "有效期结束", kind="date", example="2026-08-31"),
            Column("total_amount", "合同总额（元）", kind="money", example="12000000.00"),
            Column(
                "relationship.revenue_or_risk_sharing",
                "存在收益分成或风险共担协议（是/否）",
                kind="bool",
                example="否",
            ),
            Column(
                "relationship.hierarchy",
                "存在行政或业务上下级关系（是/否）",
                kind="bool",
                example="否",
            ),
        ),
    ),
    Table(
        "deliveries",
        "交付记录",
        (
            CONTRACT_ID,
            Column("start", "开始日期", kind="date", example="2025-09-08"),
            Column("end", "结束日期", kind="date", example="2025-12-31"),
            Column("service", "服务类型（算力/存储/网络/安全）", kind="choice", example="算力"),
            Column("device", "设备型号", required=False, example="H800"),
            Column("quantity", "数量", kind="decimal", example="100000"),
            Column("unit", "单位", example="card-hour"),
            Column("unit_price", "单价（元）", kind="decimal", example="12.00"),
            Column("amount", "金额（元）", kind="money", example="1200000.00"),
        ),
    ),
    Table(
        "invoices",
        "发票",
        (
            CONTRACT_ID,
            Column("number", "发票号码", example="25112000000012345678"),
            Column("date", "开票日期", kind="date", example="2026-01-08"),
            Column("amount", "金额（元）", kind="money", example="1200000.00"),
        ),
    ),
    Table(
        "payments",
        "付款",
        (
            CONTRACT_ID,
            Column("date", "支付日期", kind="date", example="2026-01-15"),
            Column("amount", "金额（元）", kind="money", example="1200000.00"),
        ),
    ),
    Table(
        "other_subsidies",
        "其他补贴",
        (
            CONTRACT_ID,
            Column("level", "级别（国家级/市级/区级）", kind="choice", example="区级"),
            Column("policy", "政策名称", example="海淀区算力补贴"),
            Column("amount", "金额（元）", kind="money", example="100000.00"),
            Column("status", "状态（已获得/已申请未拨付）", kind="choice", example="已申请未拨付"),
        ),
    ),
)
TABLES_BY_KIND = {t.kind: t for t in TABLES}
TABLES_BY_SHEET = {t.sheet: t for t in TABLES}
ROW_MODELS: dict[str, type[BaseModel]] = {
    "deliveries": fmt.Delivery,
    "invoices": fmt.Invoice,
    "payments": fmt.Payment,
    "other_subsidies": fmt.OtherSubsidy,
}
CHOICES = {
    "service": {"算力": "compute", "存储": "storage", "网络": "network", "安全": "security"},
    "level": {"国家级": "national", "市级": "municipal", "区级": "district"},
    "status": {"已获得": "granted", "已申请未拨付": "applied", "已申请": "applied"},
}
TRUE_WORDS = {"是", "有", "true", "yes", "y", "1"}
FALSE_WORDS = {"否", "无", "false", "no", "n", "0"}


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"“{self.sheet}”第{self.row}行" if self.row else f"“{self.sheet}”"
        return (
            f"{where}「{self.column}」：{self.message}"
            if self.column
            else f"{where}：{self.message}"
        )


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


# --- cells -----------------------------------------------------------------------------------


def _cell(value: Any, column: Column) -> Any:
    """A cell as the interchange format writes it (strings, bools), or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.kind == "bool":
        word = str(value).strip().lower()
        if isinstance(value, bool):
            return value
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(_("应填“是”或“否”"))
    if column.kind == "date":  # as a person types it (2025年9月8日), read by the one parse
        try:
            return iso_date(parse_date(value if isinstance(value, date) else str(value)))
        except DateError as refused:
            raise ValueError(refused.message(_)) from None
    if column.kind in ("money", "decimal"):
        if isinstance(value, bool):
            raise ValueError(_("应为数字"))
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            # The shortest text that reads back as this binary number: what the cell shows.
            value = f"{Decimal(repr(value)):f}".removesuffix(".0")
        if column.kind == "money":  # as a person types it (¥1,234.50), read by the one parse
            try:
                return format_yuan(parse_yuan(str(value)))
            except MoneyError as refused:
                raise ValueError(refused.message(_)) from None
        return unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    if column.kind == "choice":
        text = str(value).strip()
        names = CHOICES[column.key]
        if text in names:
            return names[text]
        if text in names.values():
            return text
        raise ValueError(_("应为 %(options)s 之一") % {"options": "、".join(names)})
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None:
            continue
        head, _dot, tail = key.partition(".")
        if tail:
            out.setdefault(head, {})[tail] = value
        else:
            out[key] = value
    return out


def _message(error: Any, column: Column | None, header: str) -> str:
    """The format's message about a cell, in the applicant's words (voucher.applications.wording)."""
    choice = column is not None and column.kind in ("choice", "bool")
    return plain_advice(fmt._message(error), header, choice=choice)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


# --- reading ---------------------------------------------------------------------------------


def _rows_xlsx(data: bytes, max_rows: int = MAX_ROWS) -> Iterator[tuple[str, list[list[Any]]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            rows = []
            for i, row in enumerate(sheet.iter_rows(values_only=True)):
                if i > max_rows + 1:
                    raise ImportFailed(
                        [RowError(sheet.title, 0, "", _("行数超过 %(n)d") % {"n": max_rows})]
                    )
                rows.append(list(row))
            yield sheet.title, rows
    finally:
        book.close()


def _rows_csv(data: bytes, max_rows: int = MAX_ROWS) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFailed([RowError("CSV", 0, "", _("无法识别文件编码（请用 UTF-8 或 GBK）"))])
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > max_rows + 1:
        raise ImportFailed([RowError("CSV", 0, "", _("行数超过 %(n)d") % {"n": max_rows})])
    return rows


def _header_key(text: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def _table_for_header(header: Sequence[Any]) -> Table | None:
    """The table whose required columns the header has, the one matching most columns first."""
    found = {_header_key(h) for h in header if h}
    candidates = [
        t
        for t in TABLES
        if all(found.intersection(c.header_keys()) for c in t.columns if c.required)
    ]
    if not candidates:
        return None
    return max(
        candidates, key=lambda t: sum(bool(found.intersection(c.header_keys())) for c in t.columns)
    )


def _as_in_file(table: Table, header: Sequence[Any]) -> Table:
    """The table with each column named as the file names it (an older template's header), so
    that an error names the column the applicant sees."""
    found = {_header_key(h): str(h).strip() for h in header if h}
    columns = []
    for column in table.columns:
        keys = column.header_keys()
        key = next((k for k in keys[1:] if k in found and keys[0] not in found), None)
        columns.append(replace(column, header=found[key]) if key else column)
    return replace(table, columns=tuple(columns))


def _read_table(
    table: Table, sheet: str, rows: list[list[Any]], errors: list[RowError]
) -> list[tuple[int, dict[str, Any], set[str]]]:
    """(row number, cells, columns whose cell was already reported) per non-empty row."""
    header = [_header_key(h) for h in rows[0]]
    positions: dict[str, int] = {}
    missing = []
    for column in table.columns:
        key = next((k for k in column.header_keys() if k in header), None)
        if key is not None:
            positions[column.key] = header.index(key)
        elif column.required:
            missing.append(RowError(sheet, 1, column.header, _("缺少此列")))
    if missing:
        errors.extend(missing)
        return []
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        flat: dict[str, Any] = {}
        bad: set[str] = set()
        for column in table.columns:
            at = positions.get(column.key)
            raw = row[at] if at is not None and at < len(row) else None
            try:
                flat[column.key] = _cell(raw, column)
            except ValueError as exc:
                errors.append(RowError(sheet, number, column.header, str(exc)))
                bad.add(column.key)
                flat[column.key] = None
        out.append((number, flat, bad))
    return out


def _validate(
    model: type[BaseModel], table: Table, sheet: str, number: int, data: dict[str, Any],
    errors: list[RowError], bad: set[str],
) -> BaseModel | None:  # fmt: skip
    """The row as the format's model; every problem not reported yet goes to `errors`."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        headers = {c.key: c.header for c in table.columns}
        for e in exc.errors():
            key = ".".join(str(p) for p in e["loc"])
            if key == "" and e["type"] == "value_error":
                # a check across fields, reported at the field it is about (as the format
                # names it: voucher.policy.format._MODEL_CHECK_FIELDS)
                key = next(
                    (f for marker, f in fmt._MODEL_CHECK_FIELDS.items() if marker in e["msg"]), ""
                )
            if key in bad:
                continue
            header = headers.get(key, key)
            column = next((c for c in table.columns if c.key == key), None)
            errors.append(RowError(sheet, number, header, _message(e, column, header)))
        return None
    return None if bad else parsed


def read_spreadsheet(
    name: str, data: bytes, *, existing_contract_ids: Iterable[str]
) -> ImportedRows:
    """Every row checked; ImportFailed lists every bad cell, and then nothing is imported."""
    if len(data) > max_bytes():
        raise ImportFailed([RowError(name, 0, "", str(too_large("application_import", len(data))))])
    lower = name.lower()
    sheets: list[tuple[str, Table, list[list[Any]]]] = []
    errors: list[RowError] = []
    if lower.endswith(".xlsx"):
        try:
            check_upload(
                name, data, kind="application_import"
            )  # zip bombs and disguised files stop here
        except UploadRefused as exc:
            raise ImportFailed([RowError(name, 0, "", str(exc))]) from None
        try:
            for title, rows in _rows_xlsx(data):
                table = TABLES_BY_SHEET.get(title.strip())
                if table is None or not rows:
                    continue  # the instructions sheet, or one the template does not have
                sheets.append((title, table, rows))
        except ImportFailed:
            raise
        except Exception:
            raise ImportFailed([RowError(name, 0, "", _("无法读取此 Excel 文件"))]) from None
        if not sheets:
            raise ImportFailed(
                [
                    RowError(
                        name,
                        0,
                        "",
                        _("没有找到模板中的工作表（合同、交付记录、发票、付款、其他补贴）"),
                    )
                ]
            )
    elif lower.endswith(".csv"):
        rows = _rows_csv(data)
        table = _table_for_header(rows[0]) if rows else None
        if table is None:
            raise ImportFailed([RowError(name, 1, "", _("表头与模板不符，无法判断是哪一类数据"))])
        sheets.append((table.sheet, table, rows))
    else:
        raise ImportFailed([RowError(name, 0, "", _("只能导入 .xlsx 或 .csv 文件"))])

    contracts: list[ImportedContract] = []
    by_id: dict[str, ImportedContract] = {}
    known = set(existing_contract_ids)
    rows_out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    # contracts first, so the other sheets may name the contracts of the same file
    sheets.sort(key=lambda s: s[1].kind != "contracts")
    for title, table_, rows in sheets:
        table = _as_in_file(table_, rows[0])
        for number, flat, bad in _read_table(table, title, rows, errors):
            if table.kind == "contracts":
                data_ = _nest(flat)
                data_.setdefault("relationship", {})
                parsed = _validate(fmt.Contract, table, title, number, data_, errors, bad)
                if parsed is None:
                    continue
                assert isinstance(parsed, fmt.Contract)
                if parsed.id in known or parsed.id in by_id:
                    errors.append(
                        RowError(
                            title,
                            number,
                            "合同编号",
                            _("合同编号 %(id)s 已存在") % {"id": parsed.id},
                        )
                    )
                    continue
                new = ImportedContract(
                    values={
                        "contract_id": parsed.id,
                        "supplier_name": parsed.supplier.name,
                        "supplier_uscc": parsed.supplier.uscc,
                        "signed_on": parsed.signed_on,
                        "valid_from": parsed.valid_from,
                        "valid_to": parsed.valid_to,
                        "total_amount": parsed.total_amount,
                        "revenue_or_risk_sharing": parsed.relationship.revenue_or_risk_sharing,
                        "hierarchy": parsed.relationship.hierarchy,
                    },
                )
                by_id[parsed.id] = new
                contracts.append(new)
                continue
            contract_id = flat.pop("contract_id")
            if contract_id is None:
                errors.append(RowError(title, number, "合同编号", _("必填，不能为空")))
                continue
            contract_id = unicodedata.normalize("NFKC", contract_id).strip()
            if contract_id not in known and contract_id not in by_id:
                errors.append(
                    RowError(
                        title,
                        number,
                        "合同编号",
                        _("找不到合同 %(id)s：请先录入合同，或在“合同”表中一并导入")
                        % {"id": contract_id},
                    )
                )
                continue
            parsed_row = _validate(
                ROW_MODELS[table.kind], table, title, number, _nest(flat), errors, bad
            )
            if parsed_row is None:
                continue
            values = {name: getattr(parsed_row, name) for name in type(parsed_row).model_fields}
            if table.kind == "deliveries":
                values["quantity_places"] = _places(values["quantity"])
                values["unit_price_places"] = _places(values["unit_price"])
            rows_out.setdefault(table.kind, []).append((contract_id, values))
    if errors:
        raise ImportFailed(errors)
    return ImportedRows(contracts=contracts, rows=rows_out, source_name=name)


# --- the templates to download ---------------------------------------------------------------

INSTRUCTIONS = (
    "算力合同导入模板（北京市算力券）",
    "每个工作表一类数据，第一行是表头，请勿修改表头；从第二行起每行一条。示例行请删除或改写。",
    "“合同编号”把交付记录、发票、付款、其他补贴对应到合同：可以是本文件“合同”表中的合同，也可以是已在系统中录入的合同。",
    "金额以元为单位，最多两位小数（精确到分）；日期写作 2025-09-08 或 2025年9月8日。",
    "服务类型：算力、存储、网络、安全（只有算力计入补贴）；算力记录须填写设备型号。级别：国家级、市级、区级。状态：已获得、已申请未拨付。",
    "导入时逐行检查；任何一行有错都不会导入，并列出每个错误所在的表、行号和列。",
)


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "说明"
    for i, line in enumerate(INSTRUCTIONS, 1):
        notes.cell(row=i, column=1, value=cell(line)).font = Font(bold=(i == 1))
    notes.column_dimensions["A"].width = 120
    for table in TABLES:
        sheet = book.create_sheet(table.sheet)
        for j, column in enumerate(table.columns, 1):
            head = sheet.cell(row=1, column=j, value=cell(column.header))
            head.font = Font(bold=True)
            example = sheet.cell(row=2, column=j, value=cell(column.example))
            example.number_format = "@"  # text: amounts stay exactly as typed
            sheet.column_dimensions[head.column_letter].width = max(14, len(column.header) * 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(kind: str) -> bytes:
    table = TABLES_BY_KIND[kind]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(c.header for c in table.columns))
    writer.writerow(safe_row(c.example for c in table.columns))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
