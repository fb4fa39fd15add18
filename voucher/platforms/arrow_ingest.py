"""The columnar fast path of `consumption`: pyarrow compute on record batches. No Django.

A row is handled here only when it is *clean* (every cell matches the strict pattern the
reference parser accepts, the contract is known) and it lies wholly inside or wholly outside its
claim period. Every other row (a bad cell, whitespace to trim, lower-case USCC, an unknown
contract, a row straddling an edge) goes to the reference path `consumption.parse_row` +
`add_row`, which reports it or pro-rates it exactly. So both paths give the same aggregates (a
test checks it) and exact Decimal work is spent on the few rows that need it.

Sums are decimal128 (exact, no overflow for any file that fits a disk). Memory is one record
batch plus the grouped partial sums, which are re-grouped whenever they grow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voucher.platforms import consumption as core

CSV_BLOCK_BYTES = 32 << 20
PARQUET_BATCH_ROWS = 262_144
_COMPACT_AT = 1_000_000  # partial group rows kept before they are re-grouped
_KEYS = ["enterprise_uscc", "contract_id", "month", "resource_type", "device_model", "unit"]
_AMOUNT = pa.decimal128(16, 2)
_QUANTITY = pa.decimal128(20, core.QUANTITY_PLACES)


def batches_of(path: Path, kind: str) -> Iterator[pa.RecordBatch]:
    """Record batches of every documented column as strings (CSV) or as stored (Parquet)."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as error:
            raise core.BatchRefused(
                f"不是有效的 Parquet 文件 (not a valid Parquet file): {error}"
            ) from None
        core.check_header(parquet.schema_arrow.names)
        try:
            yield from parquet.iter_batches(
                batch_size=PARQUET_BATCH_ROWS, columns=list(core.COLUMNS)
            )
        except (pa.ArrowInvalid, OSError) as error:
            raise core.BatchRefused(f"Parquet 文件无法读取 (unreadable Parquet): {error}") from None
        return
    import pyarrow.csv as pacsv

    names = csv_header(path)
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=CSV_BLOCK_BYTES
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        yield from reader
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise core.BatchRefused(f"不是有效的 CSV 文件 (not a valid CSV file): {error}") from None


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, checked (BatchRefused when they are wrong)."""
    import csv as csv_module

    try:
        with path.open(encoding="utf-8", newline="") as stream:
            header = next(csv_module.reader(stream), None)
    except UnicodeDecodeError:
        raise core.BatchRefused("CSV 文件须为 UTF-8 编码 (CSV must be UTF-8)") from None
    except csv_module.Error as error:
        raise core.BatchRefused(f"不是有效的 CSV 文件 (not a valid CSV file): {error}") from None
    if header is None:
        raise core.BatchRefused("空文件，没有表头 (empty file: no header)")
    names = [h.strip().lstrip("\ufeff") for h in header]
    core.check_header(names)
    return names


def _string_column(column: pa.Array, name: str) -> pa.Array:
    kind = column.type
    if pa.types.is_string(kind):
        return column.fill_null("")
    if pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return pc.cast(column, pa.string()).fill_null("")
    if pa.types.is_timestamp(kind):
        if kind.tz is not None:  # an instant: shown as Beijing wall-clock time
            column = pc.local_timestamp(pc.cast(column, pa.timestamp(kind.unit, "Asia/Shanghai")))
        whole = None
        if kind.unit != "s":  # a fraction of a second is an error, as in a CSV cell
            whole = pc.equal(column, pc.floor_temporal(column, unit="second"))
            column = pc.cast(column, pa.timestamp("s"), safe=False)
        text = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
        if whole is not None:
            text = pc.if_else(whole, text, pc.binary_join_element_wise(text, "x", "."))
        return text.fill_null("")
    if pa.types.is_decimal(kind) or pa.types.is_integer(kind):
        return pc.cast(column, pa.string()).fill_null("")
    why = (
        "金额和数量不用浮点数 (no floats for money and quantities)"
        if pa.types.is_floating(kind)
        else "须为文本、整数、小数或时间戳 (text, integer, decimal or timestamp)"
    )
    raise core.BatchRefused(f"列 {name} 的类型 {kind} 不可接受：{why} (column type not accepted)")


def as_strings(batch: pa.RecordBatch) -> pa.Table:
    return pa.table({name: _string_column(batch.column(name), name) for name in core.COLUMNS})


def contract_periods(
    window: tuple[date, date], contracts: core.ContractTerms, pairs: list[tuple[str, str]]
) -> pa.Table:
    """The contracts of `pairs` (enterprise USCC, contract id) with their claim periods in
    seconds (`lo`, `hi`; an empty period where the contract and the window do not meet), each
    numbered (`cid`) by its place in `pairs`. Both engines join the rows to this table."""
    periods = [core.claim_period(window, contracts[pair]) or core.EMPTY for pair in pairs]
    return pa.table(
        {
            "uscc": pa.array([uscc for uscc, _ in pairs], pa.string()),
            "contract_id": pa.array([contract_id for _, contract_id in pairs], pa.string()),
            "lo": pa.array([period.start for period in periods], pa.int64()),
            "hi": pa.array([period.end for period in periods], pa.int64()),
            "cid": pa.array(range(len(pairs)), pa.int32()),
        }
    )


def _contracts_table(
    window: tuple[date, date], contracts: core.ContractTerms | None
) -> pa.Table | None:
    """The contract periods, named as this engine's join reads them."""
    if contracts is None:
        return None
    table = contract_periods(window, contracts, list(contracts))
    return table.drop_columns(["cid"]).rename_columns(
        ["enterprise_uscc", "contract_id", "_lo", "_hi"]
    )


def _seconds(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Seconds of `YYYY-MM-DD HH:MM:SS` cells and whether each was a real time."""
    shape = pc.match_substring_regex(text, core.ARROW_TIME)
    normal = pc.utf8_replace_slice(text, start=10, stop=11, replacement=" ")
    parsed = pc.strptime(normal, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    # strptime rolls 02-30 over to 03-02: a real date gives its own day back
    day = pc.cast(pc.utf8_slice_codeunits(pc.if_else(shape, text, "1970-01-01"), 8, 10), pa.int64())
    month = pc.cast(
        pc.utf8_slice_codeunits(pc.if_else(shape, text, "1970-01-01"), 5, 7), pa.int64()
    )
    real = pc.and_(
        pc.and_kleene(shape, pc.is_valid(parsed)),
        pc.and_(pc.equal(pc.day(parsed), day), pc.equal(pc.month(parsed), month)),
    )
    real = pc.fill_null(real, False)
    return pc.cast(parsed, pa.int64()), real


def _clean_ids(table: pa.Table) -> tuple[pa.Table, pa.Array]:
    ok = pc.match_substring_regex(table["enterprise_uscc"], core.ARROW_USCC)
    for name in ("contract_id", "order_id", "unit", "device_model", "resource_type"):
        column = table[name]
        trimmed = pc.utf8_trim_whitespace(column)
        length = pc.utf8_length(trimmed)
        ok = pc.and_(ok, pc.less_equal(length, core.MAX_ID_LENGTH))
        if name != "device_model":
            ok = pc.and_(ok, pc.greater(length, 0))
        table = table.set_column(table.schema.get_field_index(name), name, trimmed)
    ok = pc.and_(ok, pc.is_in(table["resource_type"], value_set=pa.array(core.RESOURCE_TYPES)))
    return table, ok


class _Partials:
    """Grouped partial sums of the clean rows, re-grouped whenever they grow.

    Every aggregation is `sum`, `min` or `max` of its own column, so partials group again with
    the same functions and names.
    """

    def __init__(self, aggregations: list[tuple[str, str]]) -> None:
        self.aggregations = aggregations
        self.tables: list[pa.Table] = []
        self.rows = 0

    def _group(self, table: pa.Table) -> pa.Table:
        grouped = table.group_by(_KEYS, use_threads=True).aggregate(self.aggregations)
        renamed = {f"{column}_{function}": column for column, function in self.aggregations}
        return grouped.rename_columns([renamed.get(n, n) for n in grouped.column_names])

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        grouped = self._group(table)
        self.tables.append(grouped)
        self.rows += grouped.num_rows
        if self.rows > _COMPACT_AT and len(self.tables) > 1:
            self.tables = [self._group(pa.concat_tables(self.tables))]
            self.rows = self.tables[0].num_rows

    def result(self) -> pa.Table | None:
        if not self.tables:
            return None
        if len(self.tables) == 1:
            return self.tables[0]
        return self._group(pa.concat_tables(self.tables))


_ROW_COLUMNS = ["n", "row_min", "row_max", "row_sum"]
_ROWS = [("n", "sum"), ("row_min", "min"), ("row_max", "max"), ("row_sum", "sum")]


def ingest_arrow(
    batches: Iterable[pa.RecordBatch],
    *,
    window: tuple[date, date],
    contracts: core.ContractTerms | None = None,
    max_errors: int = core.DEFAULT_MAX_ERRORS,
) -> core.IngestResult:
    result = core.IngestResult()
    periods = core.Periods(window, contracts)
    contract_table = _contracts_table(window, contracts)
    window_period = core.claim_period(window, None)
    assert window_period is not None
    inside = _Partials(
        [("amount", "sum"), ("quantity", "sum"), *_ROWS, ("start_s", "min"), ("end_s", "max")]
    )
    outside = _Partials([("amount", "sum"), *_ROWS])
    offset = 1
    for batch in batches:
        count = batch.num_rows
        if count == 0:
            continue
        result.rows_read += count
        table = as_strings(batch)
        table = table.append_column(
            "row", pa.array(np.arange(offset, offset + count, dtype=np.int64))
        )
        offset += count
        table, ok = _clean_ids(table)
        start_s, start_ok = _seconds(table["start"])
        end_s, end_ok = _seconds(table["end"])
        ok = pc.and_(ok, pc.and_(start_ok, end_ok))
        ok = pc.and_(ok, pc.fill_null(pc.greater(end_s, start_s), False))
        for name, pattern in (
            ("quantity", core.ARROW_QUANTITY),
            ("unit_price", core.ARROW_QUANTITY),
            ("amount", core.ARROW_MONEY),
        ):
            ok = pc.and_(ok, pc.match_substring_regex(table[name], pattern))
        table = (
            table.append_column("start_s", start_s)
            .append_column("end_s", end_s)
            .append_column("_ok", ok)
        )
        if contract_table is not None:
            # the join reorders rows; everything a row needs travels with it as a column
            table = table.join(
                contract_table,
                keys=["enterprise_uscc", "contract_id"],
                join_type="left outer",
                use_threads=True,
            )
        else:
            table = table.append_column(
                "_lo", pa.array(np.full(count, window_period.start, dtype=np.int64))
            ).append_column("_hi", pa.array(np.full(count, window_period.end, dtype=np.int64)))
        _process(table, inside, outside, result, periods, max_errors)
    _merge(result, inside.result(), outside.result())
    order = {c: i for i, c in enumerate(core.COLUMNS)}
    result.errors.sort(key=lambda e: (e.row, order.get(e.column, len(order))))
    return result


def _process(
    table: pa.Table,
    inside: _Partials,
    outside: _Partials,
    result: core.IngestResult,
    periods: core.Periods,
    max_errors: int,
) -> None:
    clean = table["_ok"]
    known = pc.is_valid(table["_lo"])
    clean = pc.and_(clean, known)
    lo, hi = table["_lo"], table["_hi"]
    start_s, end_s = table["start_s"], table["end_s"]
    empty = pc.fill_null(pc.less_equal(hi, lo), True)
    full = pc.and_(pc.greater_equal(start_s, lo), pc.less_equal(end_s, hi))
    full = pc.and_(pc.invert(empty), pc.fill_null(full, False))
    none = pc.or_(
        empty,
        pc.fill_null(
            pc.less_equal(pc.min_element_wise(end_s, hi), pc.max_element_wise(start_s, lo)), False
        ),
    )
    fast_in = pc.and_(clean, full)
    fast_out = pc.and_(pc.and_(clean, none), pc.invert(full))
    slow = pc.invert(pc.or_(fast_in, fast_out))

    def prepared(mask: pa.Array) -> pa.Table:
        part = table.filter(mask)
        rows = part["row"]
        part = (
            part.append_column("n", pa.array(np.ones(part.num_rows, dtype=np.int64)))
            .append_column("row_min", rows)
            .append_column("row_max", rows)
            .append_column("row_sum", rows)
        )
        start_ts = pc.cast(part["start_s"], pa.timestamp("s"))
        month = pc.add(pc.multiply(pc.year(start_ts), 100), pc.month(start_ts))
        part = part.append_column("month", pc.cast(month, pa.int64()))
        part = part.set_column(
            part.schema.get_field_index("amount"), "amount", pc.cast(part["amount"], _AMOUNT)
        )
        return part.set_column(
            part.schema.get_field_index("quantity"),
            "quantity",
            pc.cast(part["quantity"], _QUANTITY),
        )

    part_in = prepared(fast_in)
    part_in = part_in.set_column(
        part_in.schema.get_field_index("end_s"), "end_s", pc.subtract(part_in["end_s"], 1)
    )
    inside.add(part_in.select([*_KEYS, "amount", "quantity", *_ROW_COLUMNS, "start_s", "end_s"]))
    outside.add(prepared(fast_out).select([*_KEYS, "amount", *_ROW_COLUMNS]))

    slow_rows = table.filter(slow).select([*core.COLUMNS, "row"]).to_pylist()
    for values in slow_rows:
        core.take_row(result, values, values["row"], periods, max_errors)


def _month(value: int) -> str:
    return f"{value // 100:04d}-{value % 100:02d}"


def _as_ints(table: pa.Table, name: str, scale: int) -> list[int]:
    """A decimal sum column as integers of 1/scale, exactly (Decimal when int64 cannot hold it)."""
    column = table[name]
    try:
        return pc.cast(
            pc.multiply(column, pa.scalar(scale, pa.decimal128(19, 0))), pa.int64()
        ).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return [int(value * scale) for value in column.to_pylist()]


def _merge(result: core.IngestResult, inside: pa.Table | None, outside: pa.Table | None) -> None:
    for table, counted in ((inside, True), (outside, False)):
        if table is None:
            continue
        keys = zip(
            table["enterprise_uscc"].to_pylist(),
            table["contract_id"].to_pylist(),
            [_month(m) for m in table["month"].to_pylist()],
            table["resource_type"].to_pylist(),
            table["device_model"].to_pylist(),
            table["unit"].to_pylist(),
            strict=True,
        )
        amounts = _as_ints(table, "amount", 100)
        quantities = _as_ints(table, "quantity", 10**core.QUANTITY_PLACES) if counted else None
        firsts = table["start_s"].to_pylist() if counted else None
        lasts = table["end_s"].to_pylist() if counted else None
        counts, row_min, row_max, row_sum = (table[c].to_pylist() for c in _ROW_COLUMNS)
        for i, key in enumerate(keys):
            aggregate = result.aggregate(key)
            if counted:
                assert quantities is not None and firsts is not None and lasts is not None
                aggregate.amount_fen += amounts[i]
                aggregate.quantity_micro += quantities[i]
                aggregate.add_span(firsts[i], lasts[i])
            else:
                aggregate.outside_fen += amounts[i]
            aggregate.add_rows(count=counts[i], first=row_min[i], last=row_max[i], total=row_sum[i])
