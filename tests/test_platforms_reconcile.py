"""Reconciliation of consumption with the contract, invoices and payments, and of settlement
data with declared delivery lines: pure unit tests, one fen (or one millionth) below, at and
above each comparison."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher.platforms import reconcile as reconciliation
from voucher.platforms.reconcile import (
    AggregateRow,
    ContractedLine,
    ContractFigures,
    DeclaredLine,
    compare_settlement,
    price_tolerance,
    reconcile,
)


def agg(
    amount: str,
    quantity: str = "100",
    *,
    outside: str = "0",
    rows: int = 1,
    prorated: int = 0,
    month: str = "2025-10",
    resource: str = "compute",
    device: str = "H800",
    unit: str = "card-hour",
    ident: int = 1,
) -> AggregateRow:
    return AggregateRow(
        id=ident,
        batch_id=7,
        month=month,
        resource_type=resource,
        device=device,
        unit=unit,
        amount=D(amount),
        quantity=D(quantity),
        outside_amount=D(outside),
        row_count=rows,
        prorated_rows=prorated,
        first_row=10,
        last_row=10 + rows - 1,
    )


def contract(
    total: str = "1200.00",
    *,
    scale: str | None = "100",
    price: str | None = "12.00",
    invoices: tuple[str, ...] = ("1200.00",),
    payments: tuple[str, ...] = ("1200.00",),
) -> ContractFigures:
    lines = ()
    if scale is not None or price is not None:
        lines = (
            ContractedLine(
                "H800",
                "card-hour",
                None if scale is None else D(scale),
                None if price is None else D(price),
                "terms[0]",
            ),
        )
    return ContractFigures(
        contract_id="C1",
        total_amount=D(total),
        lines=lines,
        invoices=tuple(D(x) for x in invoices),
        payments=tuple(D(x) for x in payments),
    )


def only(result, kind):
    (found,) = [c for c in result.comparisons if c.kind == kind]
    return found


def test_everything_matching_flags_nothing_and_every_figure_names_its_rows():
    result = reconcile(contract(), [agg("1200.00")])
    assert result.differences == ()
    kinds = [c.kind for c in result.comparisons]
    assert kinds == ["scale", "unit_price", "total", "invoiced", "paid"]
    for comparison in result.comparisons:
        assert [r.aggregate for r in comparison.rows] == [1]
        assert comparison.rows[0].first_row == 10 and comparison.rows[0].batch == 7
    assert only(result, "unit_price").actual == D("12.000000")


@pytest.mark.parametrize(
    ("quantity", "flagged"),
    [("99.999999", False), ("100", False), ("100.000001", True)],
)
def test_scale_one_millionth_below_at_above(quantity, flagged):
    amount = str((D(quantity) * 12).quantize(D("0.01")))
    comparison = only(reconcile(contract(total="9999999"), [agg(amount, quantity)]), "scale")
    assert comparison.flagged is flagged
    assert comparison.expected == D("100")
    assert comparison.difference == D(quantity) - 100
    assert comparison.sources == ("terms[0]",)


@pytest.mark.parametrize(
    ("amount", "flagged"), [("1199.99", True), ("1200.00", False), ("1200.01", True)]
)
def test_unit_price_one_fen_below_at_above_for_one_row(amount, flagged):
    # one row: its amount is 100 × 12.00 rounded to the fen, so it must be exact
    comparison = only(reconcile(contract(total="9999999"), [agg(amount)]), "unit_price")
    assert comparison.tolerance == D("0.005")
    assert comparison.flagged is flagged
    assert comparison.expected == D("12.00")


def test_unit_price_tolerates_the_rounding_of_each_row_and_no_more():
    # three rows of 0.333 card-hours at 12.00: 3.996 -> 4.00 each, 12.00 for 11.988 expected
    rows = [agg("12.00", "0.999", rows=3)]
    comparison = only(reconcile(contract(total="9999999"), rows), "unit_price")
    assert comparison.tolerance == D("0.015")
    assert comparison.flagged is False
    over = only(reconcile(contract(total="9999999"), [agg("12.01", "0.999", rows=3)]), "unit_price")
    assert over.flagged  # 0.022 off, 0.015 allowed


def test_price_tolerance_adds_the_second_rounding_of_pro_rated_rows():
    rows = [agg("1.00", rows=4, prorated=2)]
    assert price_tolerance(rows, D("1000")) == D("0.005") * 4 + (D("0.005") + D("0.0005")) * 2


@pytest.mark.parametrize(
    ("billed", "flagged"), [("1199.99", False), ("1200.00", False), ("1200.01", True)]
)
def test_total_one_fen_below_at_above(billed, flagged):
    # the total counts every resource type billed under the contract, compute and storage
    rows = [
        agg("1000.00"),
        agg(str(D(billed) - 1000), "0", resource="storage", unit="TB", ident=2),
    ]
    result = reconcile(
        contract(invoices=(billed,), payments=(billed,), scale=None, price=None), rows
    )
    comparison = only(result, "total")
    assert comparison.flagged is flagged
    assert comparison.actual == D(billed)
    assert {r.aggregate for r in comparison.rows} == {1, 2}


def test_total_counts_amounts_outside_the_claim_period():
    result = reconcile(contract(), [agg("600.00", outside="600.01")])
    assert only(result, "total").flagged
    assert only(result, "total").actual == D("1200.01")


@pytest.mark.parametrize("kind", ["invoiced", "paid"])
@pytest.mark.parametrize(
    ("evidence", "flagged"), [("1199.99", True), ("1200.00", False), ("1200.01", True)]
)
def test_invoices_and_payments_one_fen_below_at_above(kind, evidence, flagged):
    figures = contract(
        invoices=(evidence,) if kind == "invoiced" else ("1200.00",),
        payments=(evidence,) if kind == "paid" else ("1200.00",),
    )
    comparison = only(reconcile(figures, [agg("1200.00")]), kind)
    assert comparison.flagged is flagged
    assert comparison.expected == D("1200.00")
    assert comparison.difference == D(evidence) - D("1200.00")


def test_invoices_are_summed():
    figures = contract(invoices=("600.00", "600.00"))
    assert not only(reconcile(figures, [agg("1200.00")]), "invoiced").flagged


def test_a_contract_without_terms_is_flagged_not_guessed():
    result = reconcile(contract(scale=None, price=None), [agg("1200.00")])
    missing = only(result, "terms_missing")
    assert missing.flagged and missing.expected is None
    assert not [c for c in result.comparisons if c.kind in ("scale", "unit_price")]


def test_consumption_on_a_device_the_contract_does_not_name_is_flagged():
    rows = [agg("1200.00"), agg("50.00", "5", device="A800", unit="card-hour", ident=2)]
    result = reconcile(contract(total="9999", invoices=("1250.00",), payments=("1250.00",)), rows)
    uncontracted = only(result, "uncontracted")
    assert uncontracted.flagged and uncontracted.subject.startswith("A800")
    assert [r.aggregate for r in uncontracted.rows] == [2]
    assert [c.kind for c in result.differences] == ["uncontracted"]


def test_storage_rows_do_not_count_towards_scale_or_price():
    rows = [
        agg("1200.00"),
        agg("99999.00", "100000", resource="storage", unit="card-hour", ident=2),
    ]
    result = reconcile(
        contract(total="999999", invoices=("101199.00",), payments=("101199.00",)), rows
    )
    assert not only(result, "scale").flagged
    assert not only(result, "unit_price").flagged


def test_money_stays_decimal_in_json():
    data = reconcile(contract(), [agg("1200.00")]).as_json()
    assert data["differences"] == 0
    total = next(c for c in data["comparisons"] if c["kind"] == "total")
    assert total["expected"] == "1200.00" and total["rows"][0]["first_row"] == 10


# --- settlement vs declared lines ---------------------------------------------------------


def line(index=0, start="2025-09-01", end="2025-09-30", quantity="100", amount="1200.00", **kw):
    values = {
        "service": "compute",
        "device": "H800",
        "unit": "card-hour",
        "unit_price": D("12.00"),
    }
    values.update(kw)
    return DeclaredLine(
        index=index,
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        quantity=D(quantity),
        amount=D(amount),
        **values,
    )


@pytest.mark.parametrize(
    ("settled", "flagged"), [("1199.99", True), ("1200.00", False), ("1200.01", True)]
)
def test_settled_amount_one_fen_below_at_above(settled, flagged):
    result = compare_settlement([line()], [agg(settled, month="2025-09")])
    amount = only_of(result, "settled_amount")
    assert amount.flagged is flagged
    assert amount.sources == ("deliveries[0]",)
    assert not only_of(result, "settled_quantity").flagged


@pytest.mark.parametrize(
    ("quantity", "flagged"), [("99.999999", True), ("100", False), ("100.000001", True)]
)
def test_settled_quantity_one_millionth_below_at_above(quantity, flagged):
    result = compare_settlement([line()], [agg("1200.00", quantity, month="2025-09")])
    assert only_of(result, "settled_quantity").flagged is flagged


def only_of(comparisons, kind):
    (found,) = [c for c in comparisons if c.kind == kind]
    return found


def test_settlement_per_month_and_undeclared_months():
    declared = [line(0), line(1, "2025-10-01", "2025-10-31", amount="1300.00")]
    rows = [
        agg("1200.00", month="2025-09", ident=1),
        agg("1200.00", month="2025-10", ident=2),  # declared 1300.00: flagged
        agg("50.00", "4", month="2025-11", ident=3),  # not declared at all
    ]
    result = compare_settlement(declared, rows)
    flagged = [(c.kind, c.subject) for c in result if c.flagged]
    assert flagged == [
        ("settled_amount", "compute · H800 · card-hour · 2025-10"),
        ("undeclared_settlement", "compute · H800 · card-hour · 2025-11"),
    ]
    october = next(c for c in result if c.kind == "settled_amount" and "2025-10" in c.subject)
    assert october.difference == D("-100.00")
    assert [r.aggregate for r in october.rows] == [2]


def test_a_line_spanning_months_is_compared_with_the_rows_of_those_months():
    declared = [line(0, "2026-03-01", "2026-04-30", quantity="2", amount="200.00", unit="lot")]
    rows = [
        agg("100.00", "1", month="2026-03", unit="lot", ident=1),
        agg("100.00", "1", month="2026-04", unit="lot", ident=2),
    ]
    result = compare_settlement(declared, rows)
    assert not [c for c in result if c.flagged]
    assert only_of(result, "settled_amount").subject.endswith("2026-03–2026-04")


def test_a_declared_line_with_nothing_settled_is_flagged():
    result = compare_settlement([line()], [])
    assert only_of(result, "settled_amount").flagged
    assert only_of(result, "settled_amount").actual == D("0")


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("2999000.00", "settled_amount", "¥2,999,000.00"),
        ("-1000.00", "settled_amount", "-¥1,000.00"),
        ("0", "invoiced", "¥0.00"),
        ("20.000000", "unit_price", "¥20.00"),
        ("12.345678", "unit_price", "¥12.345678"),
        ("0.025006000", "unit_price", "¥0.025006"),
        ("14048.000000", "scale", "14,048"),
        ("0.500000", "settled_quantity", "0.5"),
        (None, "scale", "—"),
    ],
)
def test_a_comparison_s_figures_read_as_money_or_quantities(value, kind, shown):
    assert reconciliation.figure(value, kind) == shown


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12))
def test_a_figure_in_a_sentence_is_exact_and_never_in_exponent_form(value):
    text = reconciliation.plain(value, 2)
    assert "E" not in text and D(text.replace(",", "")) == value


def test_the_comparisons_in_english_count_rows_in_the_singular_and_plural():
    from django.template.loader import render_to_string
    from django.utils import translation

    def row(count):
        return {
            "batch": 1,
            "month": "2025-10",
            "first_row": 2,
            "last_row": 1 + count,
            "row_count": count,
        }

    comparison = {
        "kind": "invoiced",
        "label": "发票金额 / 消费金额",
        "subject": "",
        "note": "",
        "expected": "100.00",
        "actual": "0",
        "difference": "-100.00",
        "tolerance": "0",
        "flagged": True,
        "sources": ["invoices", "terms[0]"],
        "rows": [row(1), row(3)],
    }
    with translation.override("en"):
        html = render_to_string("review/_platform_comparisons.html", {"comparisons": [comparison]})
    assert "(1 row)" in html and "(3 rows)" in html and "(1 rows)" not in html
    assert "Invoices" in html and "Contract terms, line 1" in html and "-¥100.00" in html
