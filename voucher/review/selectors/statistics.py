"""统计: the round's figures by district, industry section, direction, month and supplier.

Each table is summed by the database, one query per measure, whatever the size of the round: the
applications filed (not drafts, not withdrawn), what they asked for, what was approved (confirmed
approvals) and what was paid. The district is the registering authority's division code in the
USCC (characters 3 to 8, applications/districts.py); the industry is the GB/T 4754 section the
applicant declared; the month is the month of submission. Suppliers are counted by their
contracts (a contract's subsidy is not split by supplier in the decision): applications, contracts
and the contracts' totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils.translation import gettext as _

from voucher.applications.districts import district_name
from voucher.applications.models import (
    CONFIRMED,
    Application,
    Contract,
    Decision,
    PaymentRecord,
    PolicyRoundRecord,
)
from voucher.applications.wording import CHOICE_LABELS, direction_name

ZERO = Decimal("0.00")
INDUSTRY_NAMES = {label[0]: label for label in CHOICE_LABELS if label[1:2] == " "}


@dataclass(frozen=True)
class StatisticsRow:
    key: str
    label: str
    count: int
    requested: Decimal
    approved: Decimal
    paid: Decimal

    def share(self, top: Decimal) -> int:
        """The approved amount as a percent of the table's largest (the CSS bar)."""
        return int(self.approved * 100 / top) if top else 0


@dataclass(frozen=True)
class StatisticsTable:
    slug: str
    title: str
    rows: list[StatisticsRow]

    @property
    def top(self) -> Decimal:
        return max([r.approved for r in self.rows], default=ZERO)

    @property
    def with_bars(self) -> list[tuple[StatisticsRow, int]]:
        """Each row with its bar's length, 0 to 100 (the largest approved amount is 100)."""
        top = self.top
        return [(r, r.share(top)) for r in self.rows]

    @property
    def totals(self) -> StatisticsRow:
        return StatisticsRow(
            "",
            _("合计"),
            sum(r.count for r in self.rows),
            sum((r.requested for r in self.rows), ZERO),
            sum((r.approved for r in self.rows), ZERO),
            sum((r.paid for r in self.rows), ZERO),
        )


@dataclass(frozen=True)
class SupplierRow:
    uscc: str
    name: str
    applications: int
    contracts: int
    total: Decimal


# (slug, title, the key seen from an application, the label of a key)
Dimension = tuple[str, str, Callable[[str], Any], Callable[[Any], str]]


def _dimensions() -> list[Dimension]:
    return [
        (
            "district",
            _("按区（统一社会信用代码第3至8位）"),
            lambda prefix: Substr(f"{prefix}enterprise__uscc", 3, 6),
            lambda key: _(district_name(str(key or ""))),
        ),
        (
            "industry",
            _("按行业门类（GB/T 4754）"),
            lambda prefix: F(f"{prefix}industry"),
            lambda key: _(INDUSTRY_NAMES.get(str(key), str(key) or "—")),
        ),
        (
            "direction",
            _("按申报方向"),
            lambda prefix: F(f"{prefix}direction"),
            lambda key: direction_name(key),
        ),
        (
            "month",
            _("按提交月份"),
            lambda prefix: TruncMonth(f"{prefix}submitted_on"),
            lambda key: key.strftime("%Y-%m") if key else "—",
        ),
    ]


def _filed(record: PolicyRoundRecord) -> Any:
    return Application.objects.filter(round=record).exclude(state__in=("draft", "withdrawn"))


def _table(record: PolicyRoundRecord, dimension: Dimension) -> StatisticsTable:
    slug, title, key_of, label_of = dimension
    apps = _filed(record)
    base = {
        row["key"]: row
        for row in apps.annotate(key=key_of(""))
        .order_by()
        .values("key")
        .annotate(count=Count("id"), requested=Sum("requested_amount"))
    }
    approved = {
        row["key"]: row["total"]
        for row in Decision.objects.filter(application__in=apps, status=CONFIRMED, kind="approval")
        .annotate(key=key_of("application__"))
        .order_by()
        .values("key")
        .annotate(total=Sum("amount"))
    }
    paid = {
        row["key"]: row["total"]
        for row in PaymentRecord.objects.filter(application__in=apps)
        .annotate(key=key_of("application__"))
        .order_by()
        .values("key")
        .annotate(total=Sum("amount"))
    }
    keys = sorted(set(base) | set(approved) | set(paid), key=lambda k: (k is None, str(k)))
    rows = [
        StatisticsRow(
            key=str(k.strftime("%Y-%m") if hasattr(k, "strftime") else (k or "")),
            label=label_of(k),
            count=(base.get(k) or {}).get("count") or 0,
            requested=(base.get(k) or {}).get("requested") or ZERO,
            approved=approved.get(k) or ZERO,
            paid=paid.get(k) or ZERO,
        )
        for k in keys
    ]
    return StatisticsTable(slug, title, rows)


def round_statistics(record: PolicyRoundRecord) -> list[StatisticsTable]:
    return [_table(record, d) for d in _dimensions()]


def supplier_statistics(record: PolicyRoundRecord, limit: int | None = 50) -> list[SupplierRow]:
    """The suppliers named in the round's filed applications, the largest contract totals first."""
    rows = (
        Contract.objects.filter(application__in=_filed(record))
        .order_by()
        .values("supplier_uscc")
        .annotate(
            applications=Count("application", distinct=True),
            contracts=Count("id"),
            total=Sum("total_amount"),
        )
        .order_by("-total", "supplier_uscc")
    )
    if limit is not None:
        rows = rows[:limit]
    found = list(rows)
    names = dict(
        Contract.objects.filter(supplier_uscc__in=[r["supplier_uscc"] for r in found])
        .order_by("supplier_uscc", "-id")
        .values_list("supplier_uscc", "supplier_name")
    )
    return [
        SupplierRow(
            r["supplier_uscc"],
            names.get(r["supplier_uscc"], ""),
            r["applications"],
            r["contracts"],
            r["total"] or ZERO,
        )
        for r in found
    ]
