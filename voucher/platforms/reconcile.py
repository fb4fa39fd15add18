"""Reconciliation of consumption aggregates with a contract, its invoices and its payments, and
of a platform's settlement data with what an applicant declared. Pure (no models, no database;
gettext for the labels only), Decimal yuan.

Every comparison names what it compares (`kind`, `subject`), the figure expected and the one
found, their difference (`actual − expected`), the tolerance and why, whether it is flagged,
where the expected figure comes from in the contract (`sources`) and the aggregate rows that
made the actual figure (`rows`: batch, month, the file's row range and count). Nothing here
corrects anything: a difference is reported, the reviewer decides (the application built from
the consumption keeps the platform's figures).

Direction 3 (`reconcile`), one contract:

- `scale` (per device and unit): compute quantity counted in the claim period vs the contracted
  scale; flagged when above (consuming less than contracted is normal while a contract runs).
  Exact: quantities are summed in millionths.
- `unit_price` (per device and unit): the effective price `amount / quantity` vs the contracted
  price; flagged when `|amount − quantity × price|` exceeds the rounding the rows carry (below).
- `uncontracted`: compute consumed on a device/unit the contract's terms do not name.
- `terms_missing`: the contract declares no scale or unit price (14-1 一 asks for them).
- `total`: everything billed under the contract (all resource types, inside and outside the
  claim period: the rows' own amounts) vs the contract total; flagged when above. Exact.
- `invoiced`, `paid`: invoice and payment totals vs the billed amount; flagged when they differ
  either way (short: the engine caps the verified cost at the evidence; over: invoiced or paid
  for more than the platform's rows show). Exact: all three are sums of fen amounts.

Settlement data for directions 1, 2, 4 (`compare_settlement`): the declared delivery lines of one
contract, grouped per service, device, unit and the months they span (lines whose months
overlap are one group), vs the settled rows of the same service, device and unit in those
months: `settled_quantity` and `settled_amount`, flagged when they differ at all, and
`undeclared_settlement` for settled rows in months no declared line covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext, gettext_noop, ngettext

ZERO = Decimal("0")
FEN = Decimal("0.01")
HALF_FEN = Decimal("0.005")
HALF_MICRO = Decimal("0.0000005")
PRICE_PLACES = Decimal("0.000001")

# What is compared; `flagged` says whether they differ. Chinese source text, translated where
# shown (Comparison.label; the review and portal templates translate a stored label).
KIND_LABELS = {
    "scale": gettext_noop("用量 / 合同规模"),
    "unit_price": gettext_noop("实际单价 / 合同单价"),
    "uncontracted": gettext_noop("合同未约定的设备或单位"),
    "terms_missing": gettext_noop("合同未写明规模或单价"),
    "total": gettext_noop("消费金额 / 合同总额"),
    "invoiced": gettext_noop("发票金额 / 消费金额"),
    "paid": gettext_noop("付款金额 / 消费金额"),
    "settled_quantity": gettext_noop("结算数量 / 申报数量"),
    "settled_amount": gettext_noop("结算金额 / 申报金额"),
    "undeclared_settlement": gettext_noop("未申报的结算交付"),
}


# The kinds whose expected, actual, difference and tolerance are yuan (a unit price to the
# contract's six places); the others' are quantities.
YUAN_KINDS = frozenset(
    {"total", "invoiced", "paid", "settled_amount", "undeclared_settlement", "unit_price"}
)


def plain(value: Decimal, min_places: int = 0) -> str:
    """A figure for a sentence: fixed point, grouped, no trailing zeros beyond `min_places`
    (`0E-8` reads `0`, `14048.000000` reads `14,048`)."""
    text = f"{value:f}"  # exact; normalize() would round to the context's 28 digits
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def figure(value: str | Decimal | None, kind: str) -> str:
    """One comparison's figure as a person reads it: money in yuan to the fen, a unit price in
    yuan to its own places, a quantity as it is (14,048 card-hours)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    if kind in YUAN_KINDS:
        return f"{sign}¥{plain(abs(amount), 2)}"
    return plain(amount)


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """One stored aggregate (ConsumptionAggregate) as the comparisons read it."""

    id: int | None
    batch_id: int | None
    month: str  # YYYY-MM
    resource_type: str
    device: str
    unit: str
    amount: Decimal  # counted in the claim period
    quantity: Decimal
    outside_amount: Decimal  # the rest of the rows' amounts
    row_count: int
    prorated_rows: int = 0
    first_row: int = 0
    last_row: int = 0

    @property
    def billed(self) -> Decimal:
        """The rows' own amounts, inside and outside the claim period."""
        return self.amount + self.outside_amount


@dataclass(frozen=True, slots=True)
class RowRef:
    """Where a figure comes from: an aggregate, its batch and the range of the file's rows."""

    aggregate: int | None
    batch: int | None
    month: str
    resource_type: str
    device: str
    unit: str
    first_row: int
    last_row: int
    row_count: int

    @classmethod
    def of(cls, row: AggregateRow) -> RowRef:
        return cls(
            row.id,
            row.batch_id,
            row.month,
            row.resource_type,
            row.device,
            row.unit,
            row.first_row,
            row.last_row,
            row.row_count,
        )

    def label(self) -> str:
        return (
            f"批次 {self.batch} · {self.month} · {self.resource_type} {self.device} {self.unit} · "
            f"第 {self.first_row}–{self.last_row} 行（{self.row_count} 行）"
        )


@dataclass(frozen=True, slots=True)
class ContractedLine:
    """The contract's scale and price for one device and unit; `source` names where it is."""

    device: str
    unit: str
    quantity: Decimal | None
    unit_price: Decimal | None
    source: str


@dataclass(frozen=True, slots=True)
class ContractFigures:
    contract_id: str
    total_amount: Decimal
    lines: tuple[ContractedLine, ...] = ()
    invoices: tuple[Decimal, ...] = ()
    payments: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class DeclaredLine:
    """A delivery line the applicant declared (`index` in the contract's deliveries)."""

    index: int
    start: date
    end: date
    service: str
    device: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Comparison:
    kind: str
    subject: str
    expected: Decimal | None
    actual: Decimal
    difference: Decimal | None  # actual − expected
    tolerance: Decimal
    flagged: bool
    note: str = ""
    sources: tuple[str, ...] = ()
    rows: tuple[RowRef, ...] = ()

    @property
    def label(self) -> str:
        """What is compared, in the active language."""
        return gettext(KIND_LABELS[self.kind]) if self.kind in KIND_LABELS else self.kind

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("expected", "actual", "difference", "tolerance"):
            value = data[name]
            data[name] = None if value is None else str(value)
        data["rows"] = [asdict(r) for r in self.rows]
        data["sources"] = list(self.sources)
        data["label"] = KIND_LABELS.get(self.kind, self.kind)  # the source text; shown translated
        return data


@dataclass(frozen=True, slots=True)
class Reconciliation:
    contract_id: str
    comparisons: tuple[Comparison, ...] = field(default_factory=tuple)

    @property
    def differences(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if c.flagged)

    def as_json(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "comparisons": [c.as_json() for c in self.comparisons],
            "differences": sum(1 for c in self.comparisons if c.flagged),
        }


def _refs(rows: Iterable[AggregateRow]) -> tuple[RowRef, ...]:
    return tuple(RowRef.of(r) for r in rows)


def _subject(device: str, unit: str) -> str:
    return f"{device or '—'} · {unit}"


def effective_price(amount: Decimal, quantity: Decimal) -> Decimal | None:
    if quantity == 0:
        return None
    return (amount / quantity).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def price_tolerance(rows: Sequence[AggregateRow], price: Decimal) -> Decimal:
    """How far `Σ amount` may lie from `Σ quantity × price` by rounding alone.

    Each row's amount is its quantity × price rounded to the fen by the platform: at most half
    a fen off. A row pro-rated at an edge of the claim period has its amount rounded again
    (half a fen) and its quantity rounded to the millionth (half a millionth × price).
    """
    rows_total = sum((r.row_count for r in rows), 0)
    prorated = sum((r.prorated_rows for r in rows), 0)
    return HALF_FEN * rows_total + (HALF_FEN + HALF_MICRO * price) * prorated


def reconcile(contract: ContractFigures, rows: Sequence[AggregateRow]) -> Reconciliation:
    """Compare one contract's aggregates with its terms, total, invoices and payments."""
    comparisons: list[Comparison] = []
    compute = [r for r in rows if r.resource_type == "compute"]
    by_key: dict[tuple[str, str], list[AggregateRow]] = {}
    for row in compute:
        by_key.setdefault((row.device, row.unit), []).append(row)
    terms: dict[tuple[str, str], list[ContractedLine]] = {}
    for line in contract.lines:
        terms.setdefault((line.device, line.unit), []).append(line)

    if not contract.lines:
        comparisons.append(
            Comparison(
                "terms_missing",
                "",
                None,
                sum((r.quantity for r in compute), ZERO),
                None,
                ZERO,
                True,
                note=gettext("无法核对规模与单价"),
                rows=_refs(compute),
            )
        )
    for key in sorted(set(by_key) | set(terms)):
        device, unit = key
        found, declared = by_key.get(key, []), terms.get(key, [])
        quantity = sum((r.quantity for r in found), ZERO)
        amount = sum((r.amount for r in found), ZERO)
        refs = _refs(found)
        if not declared:
            if contract.lines:
                comparisons.append(
                    Comparison(
                        "uncontracted",
                        _subject(device, unit),
                        ZERO,
                        quantity,
                        quantity,
                        ZERO,
                        quantity > 0 or amount > 0,
                        note=gettext("金额 %(amount)s") % {"amount": plain(amount, 2)},
                        rows=refs,
                    )
                )
            continue
        scales = [line.quantity for line in declared if line.quantity is not None]
        if scales:
            expected = sum(scales, ZERO)
            comparisons.append(
                Comparison(
                    "scale",
                    _subject(device, unit),
                    expected,
                    quantity,
                    quantity - expected,
                    ZERO,
                    quantity > expected,
                    sources=tuple(line.source for line in declared if line.quantity is not None),
                    rows=refs,
                )
            )
        prices = sorted({line.unit_price for line in declared if line.unit_price is not None})
        if prices and quantity > 0:
            # several prices for one device: consumption priced above all of them is the concern
            price = prices[-1]
            tolerance = price_tolerance(found, price)
            excess = amount - quantity * price
            actual_price = effective_price(amount, quantity) or ZERO
            flagged = abs(excess) > tolerance if len(prices) == 1 else excess > tolerance
            comparisons.append(
                Comparison(
                    "unit_price",
                    _subject(device, unit),
                    price,
                    actual_price,
                    actual_price - price,
                    tolerance,
                    flagged,
                    note=gettext(
                        "金额 %(amount)s − 数量 %(quantity)s × 合同单价 %(price)s = %(excess)s"
                    )
                    % {
                        "amount": plain(amount, 2),
                        "quantity": plain(quantity),
                        "price": plain(price, 2),
                        "excess": plain(excess, 2),
                    },
                    sources=tuple(line.source for line in declared if line.unit_price is not None),
                    rows=refs,
                )
            )

    billed = sum((r.billed for r in rows), ZERO)
    every = _refs(rows)
    comparisons.append(
        Comparison(
            "total",
            "",
            contract.total_amount,
            billed,
            billed - contract.total_amount,
            ZERO,
            billed > contract.total_amount,
            sources=("total_amount",),
            rows=every,
        )
    )
    for kind, items in (("invoiced", contract.invoices), ("paid", contract.payments)):
        total = sum(items, ZERO)
        comparisons.append(
            Comparison(
                kind,
                "",
                billed,
                total,
                total - billed,
                ZERO,
                total != billed,
                note=ngettext("%(count)d 笔", "%(count)d 笔", len(items)) % {"count": len(items)},
                sources=("invoices" if kind == "invoiced" else "payments",),
                rows=every,
            )
        )
    return Reconciliation(contract.contract_id, tuple(comparisons))


# --- settlement data vs declared delivery lines ----------------------------------------------


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class _Group:
    service: str
    device: str
    unit: str
    first: str
    last: str
    lines: list[DeclaredLine]


def _groups(declared: Sequence[DeclaredLine]) -> list[_Group]:
    """Declared lines per service, device and unit, merged where their months overlap."""
    groups: list[_Group] = []
    ordered = sorted(
        declared, key=lambda x: (x.service, x.device, x.unit, _month(x.start), x.index)
    )
    for line in ordered:
        first, last = _month(line.start), _month(line.end)
        previous = groups[-1] if groups else None
        if (
            previous is not None
            and (previous.service, previous.device, previous.unit)
            == (line.service, line.device, line.unit)
            and first <= previous.last
        ):
            previous.last = max(previous.last, last)
            previous.lines.append(line)
        else:
            groups.append(_Group(line.service, line.device, line.unit, first, last, [line]))
    return groups


def compare_settlement(
    declared: Sequence[DeclaredLine], rows: Sequence[AggregateRow]
) -> tuple[Comparison, ...]:
    """The settled rows of one contract vs the delivery lines the applicant declared for it."""
    comparisons: list[Comparison] = []
    used: set[int] = set()
    for group in _groups(declared):
        members = [
            (i, r)
            for i, r in enumerate(rows)
            if (r.resource_type, r.device, r.unit) == (group.service, group.device, group.unit)
            and group.first <= r.month <= group.last
        ]
        used.update(i for i, _ in members)
        found = [r for _, r in members]
        months = group.first if group.first == group.last else f"{group.first}–{group.last}"
        subject = f"{group.service} · {_subject(group.device, group.unit)} · {months}"
        sources = tuple(f"deliveries[{line.index}]" for line in group.lines)
        refs = _refs(found)
        expected_q = sum((line.quantity for line in group.lines), ZERO)
        expected_a = sum((line.amount for line in group.lines), ZERO)
        settled_q = sum((r.quantity for r in found), ZERO)
        settled_a = sum((r.billed for r in found), ZERO)
        for kind, expected, actual in (
            ("settled_quantity", expected_q, settled_q),
            ("settled_amount", expected_a, settled_a),
        ):
            comparisons.append(
                Comparison(
                    kind,
                    subject,
                    expected,
                    actual,
                    actual - expected,
                    ZERO,
                    actual != expected,
                    sources=sources,
                    rows=refs,
                )
            )
    for i, row in enumerate(rows):
        if i in used:
            continue
        comparisons.append(
            Comparison(
                "undeclared_settlement",
                f"{row.resource_type} · {_subject(row.device, row.unit)} · {row.month}",
                ZERO,
                row.billed,
                row.billed,
                ZERO,
                True,
                note=gettext("数量 %(quantity)s") % {"quantity": plain(row.quantity)},
                rows=(RowRef.of(row),),
            )
        )
    return tuple(comparisons)
