"""The round's settings: the budget per direction, and the outside lists imported from a file."""

from __future__ import annotations

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
from voucher.review.actions.official_lists import NAME_HEADERS, USCC_HEADERS, read_table


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
    rows = read_table(content, filename)  # a file it cannot read: one refusal naming it
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
