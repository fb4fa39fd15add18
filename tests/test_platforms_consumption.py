"""Consumption rows -> aggregates: the pure core, the engine and the reference, the edges to the
second."""

from __future__ import annotations

from datetime import date

import pytest

from voucher.platforms import consumption as core
from voucher.platforms import generate

WINDOW = (date(2025, 9, 8), date(2026, 3, 31))
USCC = generate.make_uscc(1)
CONTRACTS = {(USCC, "C-1"): (date(2025, 9, 1), date(2026, 8, 31))}


def row(start: str, end: str, amount: str = "100.00", **changes: str) -> dict[str, str]:
    values = {
        "enterprise_uscc": USCC,
        "contract_id": "C-1",
        "order_id": "O-1",
        "resource_type": "compute",
        "device_model": "H800",
        "start": start,
        "end": end,
        "quantity": "10",
        "unit": "card-hour",
        "unit_price": "10.00",
        "amount": amount,
    }
    values.update(changes)
    return values


# the engine (DuckDB) and the reference reader
READERS = {"reference": core.ingest_reference, "duckdb": core.ingest_file}
ENGINES = list(READERS)


def ingest_with(engine, path, **kwargs):
    return READERS[engine](path, window=WINDOW, **kwargs)


def ingest(tmp_path, rows, engine, contracts=CONTRACTS, **kwargs):
    path = tmp_path / "batch.csv"
    generate.write_small_csv(path, rows)
    return ingest_with(engine, path, contracts=contracts, **kwargs)


def counted(result) -> int:
    return sum(a.amount_fen for a in result.aggregates.values())


# A row of 100 seconds worth 100.00 yuan, placed against the window's first second
# (2025-09-08 00:00:00) and the second after its last (2026-04-01 00:00:00).
EDGES = [
    # (start, end, fen counted): wholly before / one second inside / wholly inside
    ("2025-09-07 23:58:20", "2025-09-08 00:00:00", 0),  # ends at the edge: nothing inside
    ("2025-09-07 23:58:21", "2025-09-08 00:00:01", 100),  # 1 s of 100 inside: 1.00
    ("2025-09-08 00:00:00", "2025-09-08 00:01:40", 10000),  # starts at the edge: all
    ("2025-09-07 23:59:59", "2025-09-08 00:01:39", 9900),  # one second before: 99.00
    ("2026-03-31 23:58:20", "2026-04-01 00:00:00", 10000),  # ends at the last second: all
    ("2026-03-31 23:58:21", "2026-04-01 00:00:01", 9900),  # one second after: 99.00
    ("2026-04-01 00:00:00", "2026-04-01 00:01:40", 0),  # starts after: nothing
    ("2026-03-31 23:59:59", "2026-04-01 00:01:39", 100),  # one second inside: 1.00
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("start", "end", "fen"), EDGES)
def test_it_pro_rates_a_row_at_the_window_edges_to_the_second(tmp_path, engine, start, end, fen):
    result = ingest(tmp_path, [row(start, end)], engine)
    assert counted(result) == fen
    (aggregate,) = result.aggregates.values()
    assert aggregate.amount_fen + aggregate.outside_fen == 10000


@pytest.mark.parametrize("engine", ENGINES)
def test_it_rounds_a_pro_rated_amount_half_up_to_the_fen(tmp_path, engine):
    # 0.03 yuan over 2 seconds, 1 inside: 1.5 fen -> 2 fen; 0.01 over 3 s, 1 inside: 0.33 -> 0
    rows = [
        row("2025-09-07 23:59:59", "2025-09-08 00:00:01", "0.03"),
        row("2025-09-07 23:59:58", "2025-09-08 00:00:01", "0.01", contract_id="C-1"),
    ]
    result = ingest(tmp_path, rows, engine)
    assert counted(result) == 2
    assert result.rows_prorated == 2


# RULES.md v2, Money: a platform row is pro-rated by the second, never by days (an hour-long
# job must not count as a whole day). 100.00 yuan each.
LAST_DAY = [
    # (start, end, fen counted)
    ("2026-03-31 10:00:00", "2026-03-31 11:00:00", 10000),  # an hour on the last day: whole
    ("2026-03-31 23:00:00", "2026-04-01 00:00:00", 10000),  # the last hour, ending at the edge
    ("2026-03-31 23:30:00", "2026-04-01 00:30:00", 5000),  # half of it after: half (days: 1/2)
    ("2026-03-31 23:00:00", "2026-04-02 00:00:00", 400),  # 1 h of 25 (days: 1 of 2)
    ("2025-09-07 00:00:00", "2025-09-08 01:00:00", 400),  # 1 h of 25 on the first day
    ("2026-03-31 23:59:59", "2026-04-01 23:59:59", 0),  # 1 s of a day: 0.0012 yuan -> 0
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("start", "end", "fen"), LAST_DAY)
def test_an_hour_long_job_at_the_window_edge_counts_by_the_second(
    tmp_path, engine, start, end, fen
):
    result = ingest(tmp_path, [row(start, end)], engine)
    assert counted(result) == fen
    # the line lies inside the window, so the engine counts it whole: no day's share of it
    (line,) = core.delivery_lines(result.aggregates, USCC, "C-1")
    assert line["amount"] == f"{fen // 100}.{fen % 100:02d}"
    assert "2025-09-08" <= line["start"] <= line["end"] <= "2026-03-31"


@pytest.mark.parametrize("engine", ENGINES)
def test_it_rounds_exactly_half_a_fen_up_at_the_window_end_too(tmp_path, engine):
    # 0.01 over 2 s, 1 inside: 0.5 fen -> 1; 0.03 over 2 s: 1.5 -> 2; 0.05 over 4 s, 1 inside:
    # 1.25 -> 1; quantity 0.000001 over 2 s, 1 inside: half a millionth -> 0.000001
    edge = ("2026-03-31 23:59:59", "2026-04-01 00:00:01")
    rows = [
        row(*edge, "0.01", order_id="A"),
        row(*edge, "0.03", order_id="B"),
        row("2026-03-31 23:59:59", "2026-04-01 00:00:03", "0.05", order_id="C"),
    ]
    result = ingest(tmp_path, rows, engine)
    assert counted(result) == 1 + 2 + 1
    (aggregate,) = result.aggregates.values()
    assert aggregate.outside_fen == (1 + 3 + 5) - 4  # every fen is in or out
    assert result.rows_prorated == 3
    quantity = ingest(tmp_path, [row(*edge, "0.02", quantity="0.000001")], engine)
    (aggregate,) = quantity.aggregates.values()
    assert (aggregate.amount_fen, aggregate.quantity_micro) == (1, 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_it_cuts_rows_to_the_contract_validity_too(tmp_path, engine):
    contracts = {(USCC, "C-1"): (date(2025, 10, 1), date(2025, 10, 31))}
    rows = [
        row("2025-09-30 23:59:10", "2025-10-01 00:00:50", "60.00"),  # 50 of 100 s... see below
        row("2025-11-01 00:00:00", "2025-11-01 01:00:00", "60.00"),
    ]
    result = ingest(tmp_path, rows, engine, contracts=contracts)
    # first row: 100 s, 50 inside -> 30.00; second wholly after the contract
    assert counted(result) == 3000


@pytest.mark.parametrize("engine", ENGINES)
def test_it_counts_only_compute_and_keeps_the_rest_aside(tmp_path, engine):
    rows = [
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00"),
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00", resource_type="storage", unit="TB-month"),
    ]
    result = ingest(tmp_path, rows, engine)
    lines = core.delivery_lines(result.aggregates, USCC, "C-1")
    assert [line["amount"] for line in lines] == ["100.00"]
    assert {k[3] for k in result.aggregates} == {"compute", "storage"}


@pytest.mark.parametrize("engine", ENGINES)
def test_it_reports_bad_rows_with_row_and_column_and_keeps_the_good_ones(tmp_path, engine):
    rows = [
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00"),
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00", amount="-5"),
        row("2025-02-30 00:00:00", "2025-10-01 01:00:00"),
        row("2025-10-01 02:00:00", "2025-10-01 01:00:00"),
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00", resource_type="gpu"),
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00", contract_id="C-9"),
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00", amount="1.001"),
    ]
    result = ingest(tmp_path, rows, engine)
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "amount"),
        (3, "start"),
        (4, "end"),
        (5, "resource_type"),
        (6, "contract_id"),
        (7, "amount"),
    ]
    assert result.rows_rejected == 6
    assert counted(result) == 10000
    assert "row,line,column,message" in core.errors_csv(result.errors)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_compute_row_without_a_device_is_a_bad_row_naming_device_model(tmp_path, engine):
    # RULES.md v2, Fail closed: neither the flagged list nor the price bands apply without one
    hour = ("2025-10-01 00:00:00", "2025-10-01 01:00:00")
    rows = [
        row(*hour),
        row(*hour, device_model=""),
        row(*hour, device_model="   "),
        row(*hour, device_model="\u3000"),
        row(*hour, resource_type="storage", device_model="", unit="TB-month"),
        row(*hour, resource_type="network", device_model="", unit="GB"),
    ]
    result = ingest(tmp_path, rows, engine)
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (n, "device_model", core.NO_DEVICE) for n in (2, 3, 4)
    ]
    assert "算力（compute）行须填写设备型号" in core.NO_DEVICE
    assert result.rows_rejected == 3
    assert {(k[3], k[4]) for k in result.aggregates} == {
        ("compute", "H800"),
        ("storage", ""),
        ("network", ""),
    }
    assert core.delivery_lines(result.aggregates, USCC, "C-1")[0]["device"] == "H800"


@pytest.mark.parametrize("engine", ENGINES)
def test_it_refuses_a_batch_with_too_many_bad_rows(tmp_path, engine):
    rows = [row("2025-10-01 00:00:00", "2025-10-01 01:00:00", amount="x")] * 3
    with pytest.raises(core.BatchRefused):
        ingest(tmp_path, rows, engine, max_errors=2)


@pytest.mark.parametrize("engine", ENGINES)
def test_it_refuses_a_file_with_the_wrong_header(tmp_path, engine):
    path = tmp_path / "bad.csv"
    path.write_text("enterprise_uscc,amount\nx,1\n", encoding="utf-8")
    with pytest.raises(core.BatchRefused, match="missing columns"):
        ingest_with(engine, path)


@pytest.mark.parametrize("engine", ENGINES)
def test_it_refuses_a_file_that_is_not_utf8(tmp_path, engine):
    path = tmp_path / "bad.csv"
    path.write_bytes(",".join(core.COLUMNS).encode() + b"\n\xff\xfe,1\n")
    with pytest.raises(core.BatchRefused):
        ingest_with(engine, path)


def _normal(result):
    return {
        key: (
            a.amount_fen,
            a.quantity_micro,
            a.outside_fen,
            a.row_count,
            a.first_row,
            a.last_row,
            a.row_sum,
            a.first_second,
            a.last_second,
            a.prorated_rows,
        )
        for key, a in result.aggregates.items()
    }


def test_the_engine_and_the_reference_give_the_same_aggregates_for_both_formats(tmp_path):
    plan = generate.Plan(enterprises=30, seed=3)
    csv_path, parquet_path = tmp_path / "g.csv", tmp_path / "g.parquet"
    generate.write(plan, 3000, csv_path=csv_path, parquet_path=parquet_path, chunk_rows=700)
    # a few bad and untidy rows among them
    with csv_path.open("a", encoding="utf-8") as stream:
        stream.write(
            f" {generate.make_uscc(1).lower()} ,C-1,O-x,compute,H800,2025-10-01T00:00:00,2025-10-01 01:00:00,1,card-hour,1,1.5\n"
        )
        stream.write(
            f"{generate.make_uscc(1)},C-1,O-y,compute,H800,2025-10-01 00:00:00,2025-10-01 01:00:00,1,card-hour,1,1.555\n"
        )

    def run(path, engine):
        return ingest_with(engine, path, contracts=plan.contracts())

    results = {
        (path.suffix, engine): run(path, engine)
        for path in (csv_path, parquet_path)
        for engine in ENGINES
    }
    for suffix in (".csv", ".parquet"):
        reference = results[(suffix, "reference")]
        assert reference.rows_prorated > 0
        for engine in ENGINES:
            result = results[(suffix, engine)]
            assert _normal(result) == _normal(reference), (suffix, engine)
            assert _report(result) == _report(reference), (suffix, engine)
    assert [(e.row, e.column) for e in results[(".csv", "reference")].errors] == [(3002, "amount")]
    assert results[(".parquet", "reference")].errors == []

    # the Parquet file holds the generated rows only: the tidy-able row (1.50) is the difference
    def total(result):
        return sum(v[0] + v[2] for v in _normal(result).values())

    assert total(results[(".parquet", "reference")]) == total(results[(".csv", "reference")]) - 150


def _report(result):
    return (
        result.rows_read,
        result.rows_rejected,
        result.rows_prorated,
        [(e.row, e.column, e.message) for e in result.errors],
        result.summary(),
    )


def test_every_figure_traces_back_to_its_rows(tmp_path):
    plan = generate.Plan(enterprises=5, seed=5)
    path = tmp_path / "g.csv"
    generate.write(plan, 400, csv_path=path)
    result = core.ingest_file(path, window=WINDOW, contracts=plan.contracts())
    for key, aggregate in list(result.aggregates.items())[:10]:
        rows = list(core.trace_rows(path, key, window=WINDOW, contracts=plan.contracts()))
        assert len(rows) == aggregate.row_count
        assert sum(number for number, _ in rows) == aggregate.row_sum


def test_the_example_file_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples/platform/consumption.csv"
    result = core.ingest_reference(example, window=WINDOW)
    assert result.errors == [] and result.rows_read >= 4


def test_an_aggregate_adds_another_of_the_same_key():
    first = core.Aggregate(100, 2_000_000, 5, 2, 1, 3, 9, 12, 1_000, 2_000)
    first.add(core.Aggregate(50, 1_000_000, 0, 1, 0, 1, 1, 1, None, 2_500))
    assert first == core.Aggregate(150, 3_000_000, 5, 3, 1, 1, 9, 13, 1_000, 2_500)
    empty = core.Aggregate()
    empty.add(core.Aggregate(7, 1, 0, 1, 0, 4, 4, 4, 10, 10))
    assert empty == core.Aggregate(7, 1, 0, 1, 0, 4, 4, 4, 10, 10)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("amount", "counted_fen"),
    [("9999999999999.98", 999999999999998), ("9999999999999.99", 999999999999999)],
)
def test_a_row_up_to_the_one_limit_is_counted(tmp_path, engine, amount, counted_fen):
    rows = [row("2025-10-01 00:00:00", "2025-10-01 01:00:00", amount)]
    result = ingest(tmp_path, rows, engine)
    assert counted(result) == counted_fen and result.rows_rejected == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_row_above_the_one_limit_is_rejected_naming_amount(tmp_path, engine):
    """voucher.policy.money.MAX_YUAN: a 14-digit amount was taken before, and its aggregate
    came back from SQLite changed."""
    rows = [row("2025-10-01 00:00:00", "2025-10-01 01:00:00", "10000000000000.00")]
    result = ingest(tmp_path, rows, engine)
    assert result.rows_rejected == 1
    assert [(e.column, "整数部分最多 13 位" in e.message) for e in result.errors] == [
        ("amount", True)
    ]


ARABIC_INDIC_100 = "\u0661\u0660\u0660"  # ١٠٠
FULL_WIDTH_100 = "１００"


@pytest.mark.parametrize("digits", [ARABIC_INDIC_100, FULL_WIDTH_100], ids=["arabic", "full-width"])
@pytest.mark.parametrize(
    ("column", "message"),
    [("amount", "not an amount"), ("quantity", "not a quantity"), ("unit_price", "not a unit")],
)
def test_a_number_in_other_digits_is_refused_as_not_a_number(digits, column, message):
    values = row("2025-10-01 00:00:00", "2025-10-01 01:00:00", **{column: digits})
    errors = core.parse_row(values, 2)
    assert isinstance(errors, list) and [e.column for e in errors] == [column]
    assert message in errors[0].message


@pytest.mark.parametrize(
    "digits", ["２０２５", "\u0662\u0660\u0662\u0665"], ids=["full-width", "arabic"]
)
def test_a_time_in_other_digits_is_refused_as_not_a_time_not_as_no_such_time(digits):
    values = row(f"{digits}-10-01 00:00:00", "2025-10-01 01:00:00")
    errors = core.parse_row(values, 2)
    assert isinstance(errors, list) and [e.column for e in errors] == ["start"]
    assert "not a time" in errors[0].message


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_with_other_digits_is_refused_the_same_by_both_readers(engine, tmp_path):
    import csv

    path = tmp_path / "batch.csv"
    rows = [
        row("2025-10-01 00:00:00", "2025-10-01 01:00:00"),
        row("2025-10-02 00:00:00", "2025-10-02 01:00:00", amount=ARABIC_INDIC_100),
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = READERS[engine](path, window=WINDOW, contracts=CONTRACTS)
    assert [(e.row, e.column) for e in result.errors] == [(2, "amount")]  # the second row
    assert "not an amount" in result.errors[0].message
