"""The DuckDB ingest gives what the reference `ingest_rows` gives: every aggregate to the fen,
every error (row, column, message), for CSV and Parquet, clean, untidy and bad rows."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voucher.platforms import consumption as core
from voucher.platforms import duck_ingest, generate

WINDOW = (date(2025, 9, 8), date(2026, 3, 31))
USCC = generate.make_uscc(1)
OTHER = generate.make_uscc(2)
CONTRACTS = {
    (USCC, "C-1"): (date(2025, 9, 1), date(2026, 8, 31)),
    (USCC, "C-2"): (date(2025, 10, 1), date(2025, 10, 31)),
    (OTHER, "合同-1"): (date(2026, 1, 1), date(2026, 6, 30)),
    (OTHER, "C-void"): (date(2027, 1, 1), date(2027, 6, 30)),  # valid on no day of the window
}


def row(**changes: str) -> dict[str, str]:
    values = {
        "enterprise_uscc": USCC,
        "contract_id": "C-1",
        "order_id": "O-1",
        "resource_type": "compute",
        "device_model": "H800",
        "start": "2025-10-01 00:00:00",
        "end": "2025-10-01 01:00:00",
        "quantity": "10",
        "unit": "card-hour",
        "unit_price": "10.00",
        "amount": "100.00",
    }
    values.update(changes)
    return values


def normal(result: core.IngestResult):
    # the base class's rows: read from the dict of Aggregates, also for DuckDB's result
    rows = core.IngestResult.flat_aggregates(result)
    return (
        {key: tuple(values) for key, *values in rows},
        result.rows_read,
        result.rows_rejected,
        result.rows_prorated,
        [(e.row, e.column, e.message) for e in result.errors],
    )


def both(path, contracts=CONTRACTS, **kwargs):
    """(reference, duckdb), or "refused" for each that refused the file. Two refusals must say
    the same and list the same bad rows (the error report of a refused batch)."""
    outcomes = []
    refusals = []
    for ingest in (core.ingest_reference, core.ingest_file):
        try:
            outcomes.append(normal(ingest(path, window=WINDOW, contracts=contracts, **kwargs)))
        except core.BatchRefused as refused:
            outcomes.append("refused")
            refusals.append((str(refused), sorted(refused.errors, key=lambda e: e.row)))
    if len(refusals) == 2:
        assert refusals[0] == refusals[1]
    return outcomes


UNTIDY = [
    row(),
    row(enterprise_uscc=f" {USCC.lower()} "),  # trimmed and upper-cased by the reference
    row(contract_id="C-1\u3000"),  # ideographic space: Python's strip() removes it
    row(order_id="\u00a0O-2"),
    row(device_model=" "),  # a device of spaces is no device
    row(device_model=""),
    row(resource_type=" storage", unit="TB-month"),
    row(start="2025-10-01T00:00:00"),  # the T separator
    row(start="2025-02-29 00:00:00"),  # no such day
    row(start="2024-02-29 00:00:00", end="2025-09-08 00:00:10"),  # a real one, straddling
    row(start="0000-01-01 00:00:00"),
    row(start="2025-10-01 24:00:00"),
    row(start="2025-10-01 00:00:60"),
    row(start="2025-1-01 00:00:00"),
    row(start="２025-10-01 00:00:00"),  # a full-width digit
    row(end="2025-10-01 00:00:00"),  # not after start
    row(amount="-1"),
    row(amount="1.001"),
    row(amount="1e3"),
    row(amount="9999999999999.99"),  # the largest amount (voucher.policy.money.MAX_YUAN)
    row(amount="10000000000000.00"),  # one fen more
    row(amount="99999999999999.99"),
    row(amount="１２.５"),  # full-width digits: the reference reads them, the fast path leaves them
    row(quantity="0.0000001"),
    row(quantity=" 2.5 "),
    row(unit_price=""),
    row(unit_price="99999999999999.999999"),  # the largest unit price
    row(unit_price="100000000000000"),
    row(unit_price="1.0000001"),
    row(unit=""),
    row(order_id="O" * 64),
    row(order_id="O" * 65),
    row(order_id="订" * 64),
    row(order_id="订" * 65),
    row(resource_type="GPU"),
    row(contract_id="C-9"),  # not a contract of this enterprise
    row(enterprise_uscc=OTHER, contract_id="合同-1", start="2025-12-31 23:00:00"),
    row(enterprise_uscc=OTHER, contract_id="C-void"),
    row(contract_id="C-2", start="2025-09-30 23:59:59", end="2025-10-01 00:00:02", amount="0.05"),
    row(contract_id="C-2", start="2025-10-31 23:59:59", end="2025-11-01 00:00:02", amount="0.05"),
    row(enterprise_uscc="91110108MA0000001!"),
]


def test_untidy_and_bad_csv_rows_come_out_as_the_reference_says(tmp_path):
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, UNTIDY)
    reference, fast = both(path)
    assert fast == reference
    assert reference[2] > 10 and reference[3] > 0  # rejected, pro-rated


def test_too_many_bad_rows_refuse_the_file_with_the_engine_and_the_reference(tmp_path):
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, UNTIDY)
    assert both(path, max_errors=3) == ["refused", "refused"]


# one bad cell per kind, each with its own channel through the engine: a cell the per-row
# checks refuse, a key cell the per-group checks refuse, a contract the join does not find
BAD_KINDS = (
    ("amount", {"amount": "x"}),
    ("start", {"start": "2025-02-30 00:00:00"}),
    ("resource_type", {"resource_type": "gpu"}),
    ("quantity", {"quantity": "-1"}),
    ("unit", {"unit": ""}),
    ("contract_id", {"contract_id": "C-9"}),
)


def test_a_refused_file_reports_its_first_bad_rows_in_file_order_on_every_run(tmp_path):
    """Issue 17 item 7: a file with more than 10,000 bad rows is refused, and its error report
    is the first 10,000 bad rows in file order, each kind of bad cell with one message, the
    same on every run and from both readers (it listed 10,001 rows, which of them depended on
    the order DuckDB's threads handed the rows over)."""
    rows, bad, columns = [], [], []
    for number in range(1, 24_001):  # 12,000 bad rows, every other row, of every kind in turn
        if number % 2:
            rows.append(row(order_id=f"O-{number}"))
            continue
        column, changes = BAD_KINDS[len(bad) % len(BAD_KINDS)]
        rows.append(row(order_id=f"O-{number}", **changes))
        bad.append(number)
        columns.append(column)
    path = tmp_path / "bad.csv"
    generate.write_small_csv(path, rows)

    reports = []
    for ingest in (core.ingest_file, core.ingest_file, core.ingest_reference):
        with pytest.raises(core.BatchRefused) as refused:
            ingest(path, window=WINDOW, contracts=CONTRACTS)
        errors = refused.value.errors
        assert len(errors) == core.DEFAULT_MAX_ERRORS == 10_000
        assert [(e.row, e.column) for e in errors] == list(zip(bad, columns, strict=True))[:10_000]
        messages: dict[str, set[str]] = {}
        for error in errors:
            messages.setdefault(error.column, set()).add(error.message)
        assert all(len(said) == 1 for said in messages.values()), messages
        reports.append(core.errors_csv(errors))
    assert reports[0] == reports[1] == reports[2]
    assert len(reports[0].splitlines()) == 1 + 10_000


@pytest.mark.parametrize(
    "text",
    [
        "",  # no header
        "enterprise_uscc,amount\nx,1\n",  # wrong header
        ",".join(core.COLUMNS) + "\n" + ",".join(row().values()) + ",x\n",  # a cell too many
        ",".join(core.COLUMNS) + "\n" + ",".join(list(row().values())[:-1]) + "\n",  # too few
    ],
)
def test_a_malformed_csv_file_is_refused_by_both(tmp_path, text):
    path = tmp_path / "b.csv"
    path.write_text(text, encoding="utf-8")
    assert both(path) == ["refused", "refused"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("blank", [1, 3])
def test_blank_lines_at_the_end_are_no_rows_for_either(tmp_path, newline, blank):
    path = tmp_path / "b.csv"
    lines = [",".join(core.COLUMNS), ",".join(row().values())]
    path.write_bytes((newline.join(lines) + newline * (1 + blank)).encode())
    reference, fast = both(path)
    assert reference != "refused" and fast == reference


def test_a_refusal_names_the_line_and_cells_not_duckdb_s_options(tmp_path):
    path = tmp_path / "b.csv"
    rows = [",".join(row().values())] * 3
    rows[1] += ",x"
    path.write_text(",".join(core.COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    messages = []
    for ingest in (core.ingest_reference, core.ingest_file):
        with pytest.raises(core.BatchRefused) as refused:
            ingest(path, window=WINDOW, contracts=CONTRACTS)
        messages.append(str(refused.value))
    assert (
        messages[0]
        == messages[1]
        == "第 3 行有 12 个单元格，应为 11 个 (line 3: 12 cells, expected 11)"
    )
    assert str(tmp_path) not in messages[1] and "strict_mode" not in messages[1]


def test_a_large_file_duckdb_refuses_is_refused_in_our_terms_without_a_python_read(
    tmp_path, monkeypatch
):
    """Reading a large file in Python could outlast the worker's lock: only its structure is
    read, and its refusal names the line and the cells."""
    monkeypatch.setattr(duck_ingest, "PARALLEL_MIN_BYTES", 0)  # every file is "large"
    monkeypatch.setattr(
        core, "ingest_rows", lambda *a, **k: pytest.fail("the reference read the rows")
    )
    path = tmp_path / "b.csv"
    rows = [",".join(row().values())] * 3
    rows[1] += ",x"
    path.write_text(",".join(core.COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(core.BatchRefused) as refused:
        core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    assert str(refused.value) == "第 3 行有 12 个单元格，应为 11 个 (line 3: 12 cells, expected 11)"


def test_quoted_cells_and_a_bom_read_as_the_reference_reads_them(tmp_path):
    path = tmp_path / "b.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(core.COLUMNS))
        writer.writeheader()
        writer.writerow(row(order_id='O-"1",\nsecond line'))
        writer.writerow(row(resource_type="storage", device_model="", unit="TB-month"))
    reference, fast = both(path)
    assert fast == reference
    assert reference[1] == 2 and reference[2] == 0


def _parquet(path, columns: dict[str, pa.Array]) -> None:
    pq.write_table(pa.table(columns), path)


def _typed_columns(n: int, **changes: pa.Array) -> dict[str, pa.Array]:
    base = row()
    columns = {name: pa.array([value] * n, pa.string()) for name, value in base.items()}
    first = datetime(2025, 9, 7, 23, 0, 0)
    starts = [first + timedelta(minutes=17 * i) for i in range(n)]
    columns["start"] = pa.array(starts, pa.timestamp("s"))
    columns["end"] = pa.array([s + timedelta(hours=1) for s in starts], pa.timestamp("s"))
    columns["amount"] = pa.array([Decimal(i) / 100 for i in range(n)], pa.decimal128(16, 2))
    columns["quantity"] = pa.array([Decimal(i) for i in range(n)], pa.decimal128(20, 6))
    columns["unit_price"] = pa.array([Decimal(1)] * n, pa.decimal128(20, 6))
    columns.update(changes)
    return columns


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"amount": pa.array(list(range(10)), pa.int64())},
        {"amount": pa.array([Decimal(i) for i in range(10)], pa.decimal128(20, 3))},  # scale 3
        {"amount": pa.array([Decimal(i - 3) for i in range(10)], pa.decimal128(16, 2))},
        {"amount": pa.array([None, *[Decimal(1)] * 9], pa.decimal128(16, 2))},
        {"quantity": pa.array([10**14 - 1, 10**14, *[1] * 8], pa.int64())},
        {
            "start": pa.array(
                [datetime(2025, 10, 1, 0, 0, 0, 500_000 * (i % 2)) for i in range(10)],
                pa.timestamp("ms"),
            )
        },
        {"start": pa.array([datetime(2025, 10, 1)] * 10, pa.timestamp("ns"))},
        {"start": pa.array([None, *[datetime(2025, 10, 1)] * 9], pa.timestamp("s"))},
        {"contract_id": pa.array(["C-1", " C-1", "C-9", None, *["C-1"] * 6], pa.string())},
        {"enterprise_uscc": pa.array([USCC.lower()] * 10, pa.large_string())},
        {"device_model": pa.array(["H800", None, *["A800"] * 8]).dictionary_encode()},
    ],
    ids=lambda changes: ",".join(changes) or "plain",
)
def test_typed_parquet_columns_come_out_as_the_reference_says(tmp_path, changes):
    path = tmp_path / "b.parquet"
    _parquet(path, _typed_columns(10, **changes))
    reference, fast = both(path)
    assert fast == reference


def test_a_parquet_compute_row_with_no_device_is_reported_by_both_readers(tmp_path):
    # RULES.md v2, Fail closed: a null, empty or blank device of a compute row is a bad row
    path = tmp_path / "b.parquet"
    devices = pa.array(["H800", None, "", " \u3000", "A800"], pa.string())
    _parquet(path, _typed_columns(5, device_model=devices))
    reference, fast = both(path)
    assert fast == reference
    assert [(n, column) for n, column, _message in reference[4]] == [
        (2, "device_model"),
        (3, "device_model"),
        (4, "device_model"),
    ]


def _beijing(wall: list[datetime], unit: str = "s") -> pa.Array:
    """Instants (a time zone, UTC) whose Beijing wall-clock times are `wall`."""
    instants = [w - timedelta(hours=8) for w in wall]
    return pa.array(instants, pa.timestamp(unit)).cast(pa.timestamp(unit, tz="UTC"))


_WALL = [datetime(2025, 9, 7, 23, 30) + timedelta(minutes=13 * i) for i in range(10)]


@pytest.mark.parametrize(
    "changes",
    [
        {"start": _beijing(_WALL), "end": _beijing([w + timedelta(hours=1) for w in _WALL])},
        {
            "start": _beijing(
                [w + timedelta(microseconds=500_000 * (i % 2)) for i, w in enumerate(_WALL)], "us"
            )
        },
        {"contract_id": pa.array(list(range(10)), pa.int64())},
        {"order_id": pa.array([Decimal(i) / 10 for i in range(10)], pa.decimal128(10, 1))},
        {"amount": pa.array([Decimal(i) / 100 for i in range(10)], pa.decimal256(40, 2))},
        {"quantity": pa.array([datetime(2025, 10, 1)] * 10, pa.timestamp("s"))},
        {"start": pa.array([20251001000000 + i for i in range(10)], pa.int64())},
        {"device_model": pa.array([None, *range(9)], pa.int8())},
    ],
    ids=[
        "a time zone",
        "a time zone and fractions",
        "integer ids",
        "decimal ids",
        "decimal256",
        "a timestamp for a quantity",
        "integer times",
        "integer devices",
    ],
)
def test_a_parquet_column_type_the_statement_does_not_read_is_read_as_text(tmp_path, changes):
    """The column types the statement reads natively are strings, naive timestamps, decimal128
    and integers where they belong; any other file DuckDB reads as the reference's text."""
    path = tmp_path / "b.parquet"
    _parquet(path, _typed_columns(10, **changes))
    with pytest.raises(duck_ingest.Unsupported):
        duck_ingest._parquet_types(path)
    reference, fast = both(path)
    assert reference != "refused" and fast == reference


def test_a_parquet_column_no_cell_of_which_is_accepted_refuses_the_file(tmp_path):
    floats = tmp_path / "f.parquet"
    _parquet(floats, _typed_columns(3, amount=pa.array([1.0, 2.0, 3.0], pa.float64())))
    assert both(floats) == ["refused", "refused"]  # money is never a float: the same words
    with pytest.raises(core.BatchRefused, match="金额和数量不用浮点数"):
        core.ingest_file(floats, window=WINDOW, contracts=CONTRACTS)
    flags = tmp_path / "b2.parquet"
    _parquet(flags, _typed_columns(3, order_id=pa.array([True, False, True])))
    assert both(flags) == ["refused", "refused"]
    with pytest.raises(core.BatchRefused, match="须为文本、整数、小数或时间戳") as refused:
        core.ingest_file(flags, window=WINDOW, contracts=CONTRACTS)
    assert "浮点数" not in str(refused.value)  # a bool is not a float
    empty = tmp_path / "e.parquet"  # no cell at all: nothing to refuse
    _parquet(empty, {**_typed_columns(0), "amount": pa.array([], pa.float64())})
    assert both(empty) == [({}, 0, 0, 0, []), ({}, 0, 0, 0, [])]


def test_without_contracts_only_the_window_cuts(tmp_path):
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, UNTIDY)
    reference, fast = both(path, contracts=None)
    assert fast == reference


def test_the_statement_is_given_a_memory_limit_and_threads(monkeypatch, tmp_path):
    import duckdb

    seen = {}
    real = duckdb.connect

    def connect(*args, **kwargs):
        seen.update(kwargs.get("config", {}))
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect)
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, [row()])
    core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    assert seen["memory_limit"] == duck_ingest.MEMORY_LIMIT
    assert seen["threads"] >= 1 and seen["temp_directory"]
    assert seen["allocator_flush_threshold"] == duck_ingest.ALLOCATOR_FLUSH == "16MB"


@pytest.mark.parametrize("kind", ["csv in parts", "csv", "parquet"])
def test_two_hash_tables_side_by_side_get_the_larger_memory_limit(monkeypatch, tmp_path, kind):
    """Parts read side by side hold a hash table each (MEMORY_LIMIT); a file read in one
    piece, and the merge of the parts, hold one (ONE_TABLE_MEMORY_LIMIT): DuckDB is given
    each limit before the statement that needs it."""
    limits: list[tuple[str, str]] = []
    real = duck_ingest._Session._memory_limit

    def memory_limit(self, limit):
        real(self, limit)
        ((setting,),) = self.connection.sql("SELECT current_setting('memory_limit')").fetchall()
        limits.append((limit, setting))

    monkeypatch.setattr(duck_ingest._Session, "_memory_limit", memory_limit)
    monkeypatch.setattr(duck_ingest, "PARALLEL_MIN_BYTES", 0 if kind == "csv in parts" else 1 << 40)
    monkeypatch.setattr(duck_ingest, "THREADS", 2)
    rows = [row(order_id=f"O-{i}") for i in range(50)]
    path = tmp_path / ("b.parquet" if kind == "parquet" else "b.csv")
    if kind == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        generate.write_small_csv(path, rows)
    result = core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    assert result.rows_read == 50
    one, two = duck_ingest.ONE_TABLE_MEMORY_LIMIT, duck_ingest.MEMORY_LIMIT
    expected = [two, one] if kind == "csv in parts" else [one]
    assert [limit for limit, _ in limits] == expected and one == "448MB" and two == "640MB"
    # DuckDB took each one (as it shows it: 448 MB is "427.2 MiB")
    import duckdb

    def shown(limit: str) -> str:
        with duckdb.connect(config={"memory_limit": limit}) as fresh:
            return fresh.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    assert [setting for _, setting in limits] == [shown(limit) for limit in expected]


@pytest.mark.parametrize(
    ("environ", "limit"),
    [
        ({}, "448MB"),
        ({"VOUCHER_INGEST_MEMORY": "256MB"}, "256MB"),  # an operator's cap holds everywhere
        ({"VOUCHER_INGEST_MEMORY": "2GB", "VOUCHER_INGEST_MEMORY_ONE_TABLE": "1GB"}, "1GB"),
        ({"VOUCHER_INGEST_MEMORY_ONE_TABLE": "300MB"}, "300MB"),
    ],
)
def test_one_table_s_limit_never_exceeds_an_operator_s_cap(environ, limit):
    assert duck_ingest._one_table_limit(environ) == limit


def test_a_limit_duckdb_cannot_lower_to_leaves_the_statement_under_the_old_one(tmp_path):
    import duckdb

    class Refusing:
        """A connection that cannot free enough memory for a lower limit."""

        def execute(self, sql):
            assert sql.startswith("SET memory_limit")
            raise duckdb.OutOfMemoryException("could not free up enough memory")

    path = tmp_path / "b.csv"
    generate.write_small_csv(path, [row()])
    session = duck_ingest._Session(path, "csv", WINDOW, CONTRACTS)
    real, session.connection = session.connection, Refusing()
    try:
        session._memory_limit("448MB")  # no error: the batch goes on
    finally:
        session.connection = real
        session.close()


# --- any rows at all ---------------------------------------------------------------------------

_T0 = datetime(2025, 9, 7, 23, 59, 0)
_TIMES = st.one_of(
    st.integers(0, 400).map(lambda s: (_T0 + timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")),
    st.integers(0, 400).map(
        lambda s: (datetime(2026, 3, 31, 23, 55) + timedelta(seconds=s)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    ),
    st.integers(0, 400).map(
        lambda s: (datetime(2025, 10, 31, 23, 55) + timedelta(seconds=s)).isoformat()
    ),
    st.sampled_from(["2025-02-30 00:00:00", "", " 2025-10-01 00:00:00", "2025-10-01"]),
)
_MONEY = st.one_of(
    st.integers(0, 10**9).map(lambda fen: f"{fen // 100}.{fen % 100:02d}"),
    st.integers(0, 10**6).map(str),
    st.sampled_from(["-1.00", "0.001", "1,00", " 3.5", "x"]),
)
_QUANTITY = st.one_of(
    st.integers(0, 10**12).map(lambda micro: f"{micro // 10**6}.{micro % 10**6:06d}"),
    st.sampled_from(["1", "0", "-2", "1.0000001"]),
)
_ROWS = st.fixed_dictionaries(
    {
        "enterprise_uscc": st.sampled_from([USCC, OTHER, USCC.lower(), f" {USCC}", "X"]),
        "contract_id": st.sampled_from(["C-1", "C-2", "合同-1", "C-void", "C-9", " C-1", ""]),
        "order_id": st.sampled_from(["O-1", "订单", "", "O" * 65]),
        "resource_type": st.sampled_from([*core.RESOURCE_TYPES, "gpu", " compute"]),
        "device_model": st.sampled_from(["H800", "", " ", "A800\t"]),
        "start": _TIMES,
        "end": _TIMES,
        "quantity": _QUANTITY,
        "unit": st.sampled_from(["card-hour", "TB-month", ""]),
        "unit_price": _QUANTITY,
        "amount": _MONEY,
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(_ROWS, min_size=1, max_size=40))
def test_for_any_rows_duckdb_gives_what_the_reference_gives(tmp_path, rows):
    path = tmp_path / "h.csv"
    generate.write_small_csv(path, rows)
    reference, fast = both(path)
    assert fast == reference


def test_columns_in_another_order_and_a_header_alone(tmp_path):
    path = tmp_path / "b.csv"
    order = list(reversed(core.COLUMNS))
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=order)
        writer.writeheader()
        writer.writerows(UNTIDY[:5])
    reference, fast = both(path)
    assert fast == reference and reference[1] == 5
    empty = tmp_path / "e.csv"
    empty.write_text(",".join(core.COLUMNS) + "\n", encoding="utf-8")
    assert both(empty) == [({}, 0, 0, 0, []), ({}, 0, 0, 0, [])]
    empty_parquet = tmp_path / "e.parquet"
    _parquet(empty_parquet, {name: pa.array([], pa.string()) for name in core.COLUMNS})
    assert both(empty_parquet) == [({}, 0, 0, 0, []), ({}, 0, 0, 0, [])]


@pytest.mark.parametrize("kind", ["csv", "parquet", "parquet as text"])
def test_clean_rows_never_take_the_reference_path(tmp_path, monkeypatch, kind):
    """The comparisons above would pass if every row fell back to the reference: here the
    reference parser must see only the rows the fast path may not vouch for."""
    seen: list[int] = []
    real = core.parse_row

    def counting(values, row_number):
        seen.append(row_number)
        return real(values, row_number)

    monkeypatch.setattr(core, "parse_row", counting)
    rows = [row(order_id=f"O-{i}") for i in range(200)] + [row(amount="1.001")]
    rows[7]["unit_price"] = "99999999999999.999999"  # clean: nothing is computed from it
    path = tmp_path / f"b.{kind.split()[0]}"
    if kind == "csv":
        generate.write_small_csv(path, rows)
    else:
        table = pa.Table.from_pylist(rows)
        if kind == "parquet as text":  # the starts as instants (a time zone)
            wall = [datetime.fromisoformat(r["start"]) for r in rows]
            table = table.set_column(table.schema.get_field_index("start"), "start", _beijing(wall))
        pq.write_table(table, path)
    result = core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    assert result.rows_read == 201 and result.rows_rejected == 1
    assert seen == [result.errors[0].row] == [201]  # only the bad (last) row, by the reference


def test_timestamps_far_outside_any_calendar_are_reported_not_a_failure(tmp_path):
    """The statement computes a month for every row, set aside or not: an instant millennia
    away (a Parquet timestamp is any int64) must come out as the reference's error."""
    path = tmp_path / "b.parquet"
    extreme = pa.array([2**62, 2**63 - 1, -(2**62)], pa.int64()).cast(pa.timestamp("us"))
    _parquet(path, _typed_columns(3, start=extreme))
    reference, fast = both(path)
    assert fast == reference and reference[2] == 3


@pytest.mark.parametrize("spill", [False, True], ids=["in memory", "in a file"])
@pytest.mark.parametrize("contracts", [CONTRACTS, None], ids=["contracts", "window only"])
def test_the_columnar_result_stores_and_sums_what_the_dict_holds(
    tmp_path, monkeypatch, contracts, spill
):
    """With no row for the reference path, DuckDB's result keeps its groups as columns: the
    rows the store writes and the summary must be those of the reference's dict, whether the
    groups stay in memory or (beyond GROUPS_IN_MEMORY) go to a file."""
    monkeypatch.setattr(duck_ingest, "FETCH_ROWS", 16)  # several batches of groups
    monkeypatch.setattr(duck_ingest, "GROUPS_IN_MEMORY", 0 if spill else 1 << 30)
    rows = [
        row(
            order_id=f"O-{i}",
            contract_id=("C-1", "C-2")[i % 2],
            resource_type=core.RESOURCE_TYPES[i % len(core.RESOURCE_TYPES)],
            start=f"2025-{9 + i % 3:02d}-{1 + i % 28:02d} 23:30:00",
            end=f"2025-{9 + i % 3:02d}-{2 + i % 27:02d} 00:30:00",
            amount=f"{i}.{i % 100:02d}",
        )
        for i in range(300)
    ]
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, rows)
    fast = core.ingest_file(path, window=WINDOW, contracts=contracts)
    reference = core.ingest_reference(path, window=WINDOW, contracts=contracts)
    assert isinstance(fast, duck_ingest.ColumnarResult) and fast._groups  # still columns
    assert fast.totals() == reference.totals() and fast.summary() == reference.summary()
    assert sorted(fast.flat_aggregates()) == sorted(reference.flat_aggregates())
    assert sorted(fast.stored_rows(7)) == sorted(reference.stored_rows(7))  # decimal text too
    assert fast._groups  # none of them built the dict
    assert reference.rows_prorated > 0 and reference.totals()[2] > 0  # cut rows, other types
    spilled = fast._groups.path
    assert (spilled is not None) == spill and not (spill and fast._groups.in_memory)
    assert normal(fast) == normal(reference)  # and the dict, once asked for
    assert spilled is None or not os.path.exists(spilled)  # the dict holds them now


def test_group_batches_beyond_the_limit_go_to_a_file_read_back_in_order(tmp_path):
    first = pa.record_batch({"gk": [1, 2], "unit": ["卡时", "TB"]})
    second = pa.record_batch({"gk": [3], "unit": [""]})
    third = pa.record_batch({"gk": [4, 5, 6], "unit": ["a", "b", "c"]})
    batches = duck_ingest._GroupBatches(limit=first.nbytes)  # the first fits, no more
    assert not batches
    for batch in (first, second, third):
        batches.append(batch)
    assert batches and batches.in_memory == [first] and batches.held == first.nbytes
    path = batches.path
    assert path is not None and os.path.exists(path)
    for _ in range(2):  # every pass reads the file again
        assert [b.to_pydict() for b in batches] == [b.to_pydict() for b in (first, second, third)]
    with pytest.raises(RuntimeError):  # the file is closed once read
        batches.append(first)
    made_before = iter(batches)
    batches.close()
    assert not os.path.exists(path) and not batches and list(batches) == []
    # a pass made before the close gives what was in memory, then says it was cut short
    assert next(made_before).to_pydict() == first.to_pydict()
    with pytest.raises(RuntimeError):
        next(made_before)


def test_a_spilled_file_goes_with_its_batches(tmp_path):
    import gc

    batches = duck_ingest._GroupBatches(limit=0)
    batches.append(pa.record_batch({"gk": [1]}))
    path = batches.path
    assert path is not None and os.path.exists(path)
    del batches
    gc.collect()
    assert not os.path.exists(path)


def test_with_rows_of_the_reference_path_the_result_stores_and_sums_the_dict(tmp_path):
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, UNTIDY)
    fast = core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    reference = core.ingest_reference(path, window=WINDOW, contracts=CONTRACTS)
    assert isinstance(fast, duck_ingest.ColumnarResult)
    assert sorted(fast.flat_aggregates()) == sorted(reference.flat_aggregates())
    assert sorted(fast.stored_rows(7)) == sorted(reference.stored_rows(7))
    assert fast.totals() == reference.totals() and fast.summary() == reference.summary()


@pytest.mark.parametrize("shared", [False, True], ids=["ids unique", "an id of two enterprises"])
def test_contracts_are_matched_on_enterprise_and_id(tmp_path, shared):
    """With unique contract ids the join is on the id and the enterprise is compared after;
    an id two enterprises share needs both in the join. Either way: the reference's result."""
    contracts = dict(CONTRACTS)
    if shared:
        contracts[(OTHER, "C-1")] = (date(2025, 12, 1), date(2026, 2, 28))
    rows = [
        *UNTIDY,
        row(enterprise_uscc=OTHER, contract_id="C-1", start="2025-12-31 23:30:00"),
        row(enterprise_uscc=OTHER, contract_id="C-2"),  # USCC's contract, not OTHER's
        row(enterprise_uscc=USCC, contract_id="合同-1"),  # OTHER's contract
    ]
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, rows)
    reference, fast = both(path, contracts=contracts)
    assert fast == reference
    session = duck_ingest._Session(path, "csv", WINDOW, contracts)
    try:
        assert session.ids_unique is not shared
    finally:
        session.close()


def _operators(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("children", []):
        yield from _operators(child)


@pytest.mark.parametrize("shared", [False, True], ids=["ids unique", "an id of two enterprises"])
def test_the_contract_join_builds_on_the_contracts_not_on_the_rows(tmp_path, shared):
    """DuckDB cannot estimate a file's rows: left to itself it builds the join's hash table
    from the rows (20 million held, spilled to disk) and probes it with the contracts. The
    plan must build on the contracts (a hash join's second child) and stream the rows.
    (More contracts than DuckDB's guess of a file's rows, as in the benchmark.)"""
    contracts = dict(CONTRACTS) | {
        (USCC, f"X-{n}"): (date(2025, 9, 1), date(2026, 8, 31)) for n in range(200)
    }
    if shared:
        contracts[(OTHER, "C-1")] = (date(2025, 12, 1), date(2026, 2, 28))
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, [row()])
    session = duck_ingest._Session(path, "csv", WINDOW, contracts)
    try:
        sql = session._statement(duck_ingest._source(path, "csv", session.names))
        ((_, plan),) = session.connection.sql(f"EXPLAIN (FORMAT json) {sql}").fetchall()
    finally:
        session.close()
    joins = [
        op
        for root in json.loads(plan)
        for op in _operators(root)
        if op["name"] == "HASH_JOIN" and "contract_id" in str(op["extra_info"])
    ]
    assert len(joins) == 1
    probe, build = joins[0]["children"]
    assert {op["name"] for op in _operators(build)} >= {"SEQ_SCAN"}
    assert "READ_CSV" not in {op["name"] for op in _operators(build)}
    assert "READ_CSV" in {op["name"] for op in _operators(probe)}


def test_groups_come_out_in_the_order_of_enterprise_and_contract(tmp_path):
    """The store inserts the groups in index order (appending to the (enterprise, contract)
    index costs less than inserting all over it)."""
    rows = [
        row(order_id=f"O-{i}", enterprise_uscc=uscc, contract_id=contract)
        for i, (uscc, contract) in enumerate(reversed(sorted(CONTRACTS) * 3))
    ]
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, rows)
    fast = core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    keys = [stored[1:3] for stored in fast.stored_rows(7)]
    assert len(set(keys)) > 1 and keys == sorted(keys)


_NUMBER_CELLS = st.one_of(
    # DuckDB's own spelling of a decimal, and others of the same value (leading zeros, more or
    # fewer decimals, a sign), around zero and around the fast path's limit
    st.builds(
        lambda units, places: format(Decimal(units).scaleb(-places), "f"),
        st.integers(-(10**15), 10**15) | st.integers(-(10**3), 10**3),
        st.integers(0, 7),
    ),
    st.text(alphabet="0123456789.-+eE_ \t\u0663\uff11", max_size=16),
    st.sampled_from(
        [
            "0.50",
            "-0.00",
            "-1.00",
            "+1.00",
            "1e3",
            "1E3",
            "012.00",
            "00",
            "0",
            "-0",
            "1.",
            ".5",
            "12.5",
            "12",
            "12.000",
            " 12.00",
            "12.00 ",
            "1_000",
            "1_000.00",
            "999999999999.99",
            "1000000000000.00",
            "999999999999",
            "1000000000000",
            "99999999999999",
            "0999999999999",
            "\u0663.00",
            "\uff11",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(_NUMBER_CELLS, min_size=1, max_size=30))
def test_a_number_cell_is_clean_exactly_when_the_pattern_says_so(cells):
    """The statement's check of an amount or quantity cell (`_number_sql`: DuckDB's own
    spelling of the value first, the pattern for the rest) passes a cell exactly when the
    reference's pattern matches it and its value is under the fast path's limit, and then
    reads the reference's value."""
    import duckdb

    connection = duckdb.connect()
    for column, places, pattern in (
        ("amount", 2, core._MONEY_RE),
        ("quantity", 6, core._QUANTITY_RE),
    ):
        value_sql, clean_sql = duck_ingest._number_sql(column, "text", places, 0)
        connection.register("cells", pa.table({f"t_{column}": pa.array(cells, pa.string())}))
        got = connection.execute(f"SELECT coalesce({clean_sql}, false), {value_sql} FROM cells")
        for cell, (clean, value) in zip(cells, got.fetchall(), strict=True):
            expected = bool(pattern.fullmatch(cell)) and Decimal(cell) < duck_ingest._FAST_LIMIT
            assert clean is expected, (column, cell)
            assert value == (Decimal(cell) if expected else None), (column, cell)
        connection.unregister("cells")
