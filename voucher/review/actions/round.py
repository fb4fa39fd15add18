"""The round's settings: the budget per direction, and the outside lists imported from a file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ReviewError, require
from voucher.applications.models import Budget, ListedEnterprise, PolicyRoundRecord
from voucher.core.audit import audit
from voucher.policy.uscc import is_well_formed
from voucher.review.actions.common import _money


def budget_set(
    *, round: PolicyRoundRecord, direction: int, amount: Any, acting_user: Any
) -> Budget:
    require(p.can_manage_round(acting_user))
    value = _money(amount)  # never negative
    with transaction.atomic():
        budget, created = Budget.objects.update_or_create(
            round=round, direction=direction, defaults={"amount": value}
        )
        audit(
            actor=acting_user,
            action="budget_set",
            obj=round,
            data={"direction": direction, "amount": value, "created": created},
        )
    return budget


@dataclass
class ListImport:
    kind: str
    count: int = 0
    errors: list[str] = field(default_factory=list)


USCC_HEADERS = ("统一社会信用代码", "信用代码", "uscc", "社会信用代码")
NAME_HEADERS = ("名称", "企业名称", "单位名称", "name")


def _rows(content: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [
            ["" if v is None else str(v).strip() for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return rows
    text = content.decode("utf-8-sig", errors="replace")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def outside_list_import(
    *, kind: str, content: bytes, filename: str, acting_user: Any
) -> ListImport:
    """Replace one outside list (other municipal compute support, or the dishonesty list).

    The file is Excel or CSV; the column headed 统一社会信用代码 (or the first column) holds the
    codes, a column headed 名称 the names. Malformed codes are reported by row and left out.
    """
    require(p.can_manage_round(acting_user))
    if kind not in dict(ListedEnterprise._meta.get_field("kind").choices or []):
        raise ReviewError(_("未知的名单：%(kind)s") % {"kind": kind})
    try:
        rows = _rows(content, filename)
    except Exception as exc:
        raise ReviewError(
            _("无法读取文件 %(filename)s：%(error)s") % {"filename": filename, "error": exc}
        ) from None
    result = ListImport(kind)
    if not rows:
        raise ReviewError(_("文件是空的"))
    header = [h.lower() for h in rows[0]]
    uscc_col = next((i for i, h in enumerate(header) if h in USCC_HEADERS), None)
    name_col = next((i for i, h in enumerate(header) if h in NAME_HEADERS), None)
    body = rows[1:] if uscc_col is not None else rows
    uscc_col = uscc_col or 0
    entries: dict[str, ListedEnterprise] = {}
    for number, row in enumerate(body, start=2 if body is not rows else 1):
        code = (row[uscc_col] if uscc_col < len(row) else "").upper().replace(" ", "")
        if not code:
            continue
        if not is_well_formed(code):
            result.errors.append(
                _("第 %(row)s 行：“%(code)s”不是统一社会信用代码") % {"row": number, "code": code}
            )
            continue
        name = row[name_col] if name_col is not None and name_col < len(row) else ""
        entries[code] = ListedEnterprise(
            kind=kind, uscc=code, name=name[:200], source_name=filename[:300]
        )
    with transaction.atomic():
        ListedEnterprise.objects.filter(kind=kind).delete()
        ListedEnterprise.objects.bulk_create(entries.values())
        result.count = len(entries)
        audit(
            actor=acting_user,
            action="outside_list_import",
            data={
                "kind": kind,
                "file": filename,
                "count": result.count,
                "errors": result.errors[:100],
            },
        )
    return result
