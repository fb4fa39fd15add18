"""The administrator imports a round's official lists (RULES.md v2, "Fail closed").

Each kind (Beijing's AI new R&D institutions, the MIIT 2025 task list, the model and Agent
filings) comes from the file its issuing body publishes, CSV or Excel, with its source and as-of
date; an import replaces the round's list of that kind. A row that cannot be read is reported by
its row number and left out: a declaration missing from the list is then `review`, never `pass`,
so a bad row can only cost a reviewer a look, never let a declaration through.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ReviewError, require
from voucher.applications.models import (
    OFFICIAL_LIST_KINDS,
    OfficialList,
    OfficialListEntry,
    PolicyRoundRecord,
)
from voucher.core.audit import audit
from voucher.policy.dates import DateError, parse_date
from voucher.policy.lists import filing_key
from voucher.policy.uscc import is_well_formed

USCC_HEADERS = ("统一社会信用代码", "信用代码", "社会信用代码", "uscc")
NAME_HEADERS = ("名称", "企业名称", "单位名称", "机构名称", "模型名称", "产品名称", "name")
NUMBER_HEADERS = ("备案号", "备案编号", "登记编号", "备案登记号", "number")
DATE_HEADERS = ("备案日期", "登记日期", "备案时间", "日期", "date")
MAX_REPORTED = 1000


@dataclass
class OfficialListImport:
    kind: str
    count: int = 0
    errors: list[str] = field(default_factory=list)
    official_list: OfficialList | None = None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """The rows of a CSV (UTF-8, or the GB 18030 a Chinese Excel saves) or Excel file."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:
            raise ReviewError(
                _("无法读取文件 %(filename)s：不是有效的 Excel 文件") % {"filename": filename},
                field="file",
            ) from None
        rows = [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        return rows
    if b"\x00" in content[:4096]:
        raise ReviewError(
            _("无法读取文件 %(filename)s：不是文本（CSV）文件，也不是 .xlsx 文件")
            % {"filename": filename},
            field="file",
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReviewError(
            _("无法读取文件 %(filename)s：编码既不是 UTF-8 也不是 GBK") % {"filename": filename},
            field="file",
        )
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((i for i, h in enumerate(lowered) if h in names), None)


def _at(row: list[str], col: int | None) -> str:
    return row[col].strip() if col is not None and col < len(row) else ""


def _entries(
    kind: str, rows: list[list[str]], result: OfficialListImport
) -> list[OfficialListEntry]:
    header = rows[0]
    name_col = _column(header, NAME_HEADERS)
    if kind == "model_filings":
        number_col, date_col = _column(header, NUMBER_HEADERS), _column(header, DATE_HEADERS)
        if number_col is None or date_col is None:
            raise ReviewError(
                _("备案名单须有表头“备案号”和“备案日期”两列（第 1 行）"), field="file"
            )
    else:
        number_col, date_col = _column(header, USCC_HEADERS), None
        if number_col is None:
            raise ReviewError(_("名单须有表头“统一社会信用代码”一列（第 1 行）"), field="file")
    entries: dict[str, OfficialListEntry] = {}
    for row_number, row in enumerate(rows[1:], start=2):
        code = _at(row, number_col)
        if not any(c.strip() for c in row):
            continue
        filed_on = None
        if kind == "model_filings":
            key = filing_key(code)
            try:
                filed_on = parse_date(_at(row, date_col), field="date", label=_("备案日期"))
            except DateError as exc:
                result.errors.append(
                    _("第 %(row)s 行：%(error)s") % {"row": row_number, "error": exc.message(_)}
                )
                continue
            if not key:
                result.errors.append(_("第 %(row)s 行：备案号为空") % {"row": row_number})
                continue
        else:
            code = key = code.upper().replace(" ", "")
            if not is_well_formed(code):
                result.errors.append(
                    _("第 %(row)s 行：“%(code)s”不是统一社会信用代码")
                    % {"row": row_number, "code": code}
                )
                continue
        if key in entries:
            result.errors.append(
                _("第 %(row)s 行：%(code)s 与第 %(first)s 行重复，只保留第一行")
                % {"row": row_number, "code": code, "first": entries[key].row}
            )
            continue
        entries[key] = OfficialListEntry(
            row=row_number,
            key=key[:200],
            code=code[:200],
            name=_at(row, name_col)[:300],
            filed_on=filed_on,
        )
    return list(entries.values())


def official_list_import(
    *,
    round: PolicyRoundRecord,
    kind: str,
    content: bytes,
    filename: str,
    source: str,
    as_of: Any,
    acting_user: Any,
) -> OfficialListImport:
    """Replace the round's official list of `kind` with the file's rows (the administrator)."""
    require(p.can_manage_round(acting_user))
    if kind not in dict(OFFICIAL_LIST_KINDS):
        raise ReviewError(_("未知的名单：%(kind)s") % {"kind": kind}, field="kind")
    source = (source or "").strip()
    if not source:
        raise ReviewError(_("请填写名单来源（发布单位、文号或网址）"), field="source")
    try:
        as_of_day = parse_date(as_of, field="as_of", label=_("截至日期"))
    except DateError as exc:
        raise ReviewError(exc.message(_), field="as_of") from None
    rows = read_table(content, filename)
    if not rows:
        raise ReviewError(_("文件 %(filename)s 是空的") % {"filename": filename}, field="file")
    result = OfficialListImport(kind)
    entries = _entries(kind, rows, result)
    with transaction.atomic():
        OfficialList.objects.filter(round=round, kind=kind).delete()
        official = OfficialList.objects.create(
            round=round,
            kind=kind,
            source=source[:300],
            as_of=as_of_day,
            file_name=filename[:300],
            sha256=hashlib.sha256(content).hexdigest(),
            imported_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        for entry in entries:
            entry.official_list = official
        OfficialListEntry.objects.bulk_create(entries, batch_size=2000)
        result.count = len(entries)
        result.official_list = official
        audit(
            actor=acting_user,
            action="official_list_import",
            obj=official,
            data={
                "round": round.code,
                "kind": kind,
                "source": official.source,
                "as_of": as_of_day,
                "file": filename,
                "sha256": official.sha256,
                "count": result.count,
                "errors": result.errors[:MAX_REPORTED],
            },
        )
    return result
