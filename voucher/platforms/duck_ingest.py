"""The DuckDB fast path of `consumption` (docs/decisions/0006-consumption-ingest-duckdb.md).
No Django.

One SQL statement reads the file (CSV as text, Parquet as stored), validates every cell with
the reference parser's strict patterns, joins the contracts, cuts each row to its claim period,
pro-rates the rows that straddle an edge with exact integer arithmetic (HUGEINT:
`(2 × fen × inside + duration) div (2 × duration)`, i.e. half-up to the fen, as
`policy.money.pro_rate`), and groups per key. A row that is not clean (a bad cell, a contract
the enterprise did not submit, anything the strict patterns do not vouch for) becomes a group of
its own, keyed by its row number; a second pass (only when there are such rows) fetches their
cells and they go through the reference `consumption.parse_row` + `add_row`, which reports or
adds them; the errors are then sorted by row. So both paths give the same aggregates and the
same error report (tests compare them, with hypothesis too). A CSV file with a blank line
(which Python's csv refuses and DuckDB skips) takes the reference path; a Parquet column type
this path does not vouch for takes the pyarrow one.

Money and quantities are DECIMAL/HUGEINT in DuckDB and `int` fen/micro-units in Python; no
float anywhere. Memory is bounded by design: DuckDB streams the file (a CSV or Parquet scan is
a pipeline, not a table), keeps only the hash table of groups, and is given a `memory_limit`
(beyond it the aggregate spills to a temporary directory) and a thread count. The Python side
fetches the result a record batch at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from voucher.platforms import consumption as core
from voucher.policy import uscc as uscc_codes

MEMORY_LIMIT = os.environ.get("VOUCHER_INGEST_MEMORY", "512MB")
THREADS = int(os.environ.get("VOUCHER_INGEST_THREADS", "0")) or (os.cpu_count() or 1)
FETCH_ROWS = 65_536

# Every character Python's str.strip() removes, as an RE2 class: a clean cell starts and ends
# with none of them, so that its text is the reference's `str(value).strip()` (a cell with
# whitespace to trim, or a lower-case USCC, is left to the reference path).
_SPACE_CODES = (
    0x9,
    0xA,
    0xB,
    0xC,
    0xD,
    0x1C,
    0x1D,
    0x1E,
    0x1F,
    0x20,
    0x85,
    0xA0,
    0x1680,
    0x2000,
    0x2001,
    0x2002,
    0x2003,
    0x2004,
    0x2005,
    0x2006,
    0x2007,
    0x2008,
    0x2009,
    0x200A,
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
)
_SPACE_LIST = ", ".join(str(c) for c in (-1, *_SPACE_CODES))  # ord("") is -1
_USCC = f"[{uscc_codes.ALPHABET}]{{18}}"
_MONEY = r"[0-9]{1,14}(\.[0-9]{1,2})?"
_QUANTITY = r"[0-9]{1,14}(\.[0-9]{1,6})?"
_FAST_LIMIT = 10**12
_YEAR_1000 = core.day_start(date(1000, 1, 1))
_YEAR_10000 = core.day_start(date(9999, 12, 31)) + 86_400


class Unsupported(Exception):
    """A Parquet column type this path does not vouch for: the caller uses another engine."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _has_blank_line(path: Path, chunk: int = 32 << 20) -> bool:
    """Python's csv refuses a blank line (a record of no cells); DuckDB skips it. A blank line
    inside a quoted cell also answers True: the caller then takes the reference path.

    numpy over one reusable buffer (bounded memory; numpy releases the GIL, so this runs in a
    thread beside the DuckDB statement). Two bytes of the previous chunk are kept in front."""
    import numpy as np

    buffer = np.zeros(chunk + 2, dtype=np.uint8)
    view = memoryview(buffer)  # type: ignore[arg-type]
    kept = 0
    with path.open("rb", buffering=0) as stream:
        while read := stream.readinto(view[kept:]):
            part = buffer[: kept + read]
            lines = np.flatnonzero(part == 10)
            gaps = np.diff(lines)
            if np.any(gaps == 1):  # \n\n
                return True
            after_two = lines[1:][gaps == 2]
            if after_two.size and np.any(part[after_two - 1] == 13):  # \n\r\n
                return True
            if np.any(np.diff(np.flatnonzero(part == 13)) == 1):  # \r\r
                return True
            kept = min(2, kept + read)
            buffer[:kept] = part[-kept:]
    return False


# --- per-column SQL -------------------------------------------------------------------------


def _tidy(text: str) -> str:
    """Not empty, and neither the first nor the last character is one strip() removes."""
    return f"(ord({text}[1]) NOT IN ({_SPACE_LIST}) AND ord({text}[-1]) NOT IN ({_SPACE_LIST}))"


def _text(column: str) -> str:
    return f"coalesce(\"{column}\", '')"


def _time_sql(column: str, kind: str) -> tuple[str, str]:
    """(seconds, clean) of a time column: text `YYYY-MM-DD HH:MM:SS` or a naive timestamp."""
    if kind == "text":
        text = f"t_{column}"
        parsed = f"try_strptime({text}, '%Y-%m-%d %H:%M:%S')"
        seconds = f"(epoch_us({parsed}) // 1000000)"
        # a real time formats back to its own text (no 02-30 roll-over, no single digits);
        # DuckDB takes year 0, Python does not; a `T` separator is left to the reference path
        clean = (
            f"(strftime({parsed}, '%Y-%m-%d %H:%M:%S') = {text} "
            f"AND NOT starts_with({text}, '0000'))"
        )
        return seconds, clean
    micros = f'epoch_us("{column}")' if kind == "us" else f'epoch_ns("{column}")'
    unit = 1_000_000 if kind == "us" else 1_000_000_000
    seconds = f"({micros} // {unit})"
    # pyarrow prints years 1000-9999 as the reference reads them; others are its business
    clean = (
        f'("{column}" IS NOT NULL AND {micros} % {unit} = 0 '
        f"AND {seconds} BETWEEN {_YEAR_1000} AND {_YEAR_10000 - 1})"
    )
    return seconds, clean


def _number_sql(column: str, kind: str, places: int, scale: int) -> tuple[str, str]:
    """(value as DECIMAL(18, places), clean) of a money/quantity column.

    The fast path takes values below 10^12 (so that the pro-rating's × 10^places stays far from
    any limit); a larger one (the format allows 14 digits) is left to the reference path."""
    exact = f"DECIMAL(18, {places})"
    if kind == "text":
        pattern = _MONEY if places == 2 else _QUANTITY
        text = f"t_{column}"
        value = f"TRY_CAST({text} AS {exact})"
        clean = f"(regexp_full_match({text}, '{pattern}') AND {value} < {_FAST_LIMIT})"
        return f"CASE WHEN {clean} THEN {value} END", clean
    if kind == "decimal" and scale > places:
        return "NULL", "false"  # every cell prints with too many decimals: the reference says so
    clean = f'("{column}" IS NOT NULL AND "{column}" >= 0 AND "{column}" < {_FAST_LIMIT})'
    return f'CASE WHEN {clean} THEN CAST("{column}" AS {exact}) END', clean


def _pro_rated(value: str, places: int) -> str:
    """`value × inside / duration` half-up to the last place, in integers (policy.money)."""
    units = f"CAST(CAST({value} AS DECIMAL(38, {places})) * {10**places} AS HUGEINT)"
    rounded = f"(2 * {units} * inside + duration) // (2 * duration)"
    unit = f"'{Decimal(1).scaleb(-places)}'::DECIMAL({places + 1}, {places})"  # 0.01, 0.000001
    return f"CAST(CAST({rounded} AS DECIMAL(38, 0)) * {unit} AS DECIMAL(18, {places}))"


# --- the statement --------------------------------------------------------------------------


def _source(path: Path, kind: str, names: list[str]) -> str:
    if kind == "parquet":
        return (
            f"(SELECT file_row_number + 1 AS rn, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({_literal(str(path))}, file_row_number = true))"
        )
    columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (
        f"(SELECT row_number() OVER () AS rn, * FROM read_csv({_literal(str(path))}, "
        f"columns = {columns}, header = false, skip = 1, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', strict_mode = true, null_padding = false, "
        f"encoding = 'utf-8'))"
    )


def _statement(
    path: Path,
    kind: str,
    names: list[str],
    types: dict[str, str],
    scales: dict[str, int],
    with_contracts: bool,
) -> str:
    text_columns = [c for c in core.COLUMNS if types.get(c, "text") == "text"]
    trimmed = ", ".join(f"{_text(c)} AS t_{c}" for c in text_columns)
    start_s, start_ok = _time_sql("start", types.get("start", "text"))
    end_s, end_ok = _time_sql("end", types.get("end", "text"))
    numbers = {
        name: _number_sql(name, types.get(name, "text"), places, scales.get(name, 0))
        for name, places in (("quantity", 6), ("unit_price", 6), ("amount", 2))
    }
    ids_ok = " AND ".join(
        [
            f"regexp_full_match(t_enterprise_uscc, '{_USCC}')",
            *(
                f"{_tidy(f't_{c}')} AND length(t_{c}) <= {core.MAX_ID_LENGTH}"
                for c in ("contract_id", "order_id", "unit")
            ),
            f"(t_device_model = '' OR {_tidy('t_device_model')})",
            f"length(t_device_model) <= {core.MAX_ID_LENGTH}",
            "t_resource_type IN (" + ", ".join(_literal(r) for r in core.RESOURCE_TYPES) + ")",
        ]
    )
    if with_contracts:
        join = (
            "LEFT JOIN contracts c ON c.uscc = v.t_enterprise_uscc "
            "AND c.contract_id = v.t_contract_id"
        )
        known = "c.lo IS NOT NULL"
        lo, hi, cid = "c.lo", "c.hi", "c.cid"
        keys = "NULL AS k_enterprise_uscc, NULL AS k_contract_id, CASE WHEN ok THEN cid END"
    else:
        join, known, lo, hi, cid = "", "true", "$lo", "$hi", "NULL::INTEGER"
        keys = (
            "CASE WHEN ok THEN t_enterprise_uscc END AS k_enterprise_uscc, "
            "CASE WHEN ok THEN t_contract_id END AS k_contract_id, NULL::INTEGER"
        )
    return f"""
WITH v AS (
    SELECT *, {trimmed},
        {start_s} AS start_s, {end_s} AS end_s,
        {numbers["quantity"][0]} AS micro, {numbers["amount"][0]} AS fen,
        ({ids_ok} AND {start_ok} AND {end_ok} AND {numbers["quantity"][1]}
            AND {numbers["unit_price"][1]} AND {numbers["amount"][1]}) AS cells_ok
    FROM {_source(path, kind, names)}
),
j AS (
    SELECT v.*, ({known}) AND coalesce(cells_ok AND end_s > start_s, false) AS ok,
        {lo} AS lo, {hi} AS hi, {cid} AS cid
    FROM v {join}
),
cut AS (
    SELECT *,
        CASE WHEN hi <= lo OR least(end_s, hi) <= greatest(start_s, lo) THEN 0
             ELSE least(end_s, hi) - greatest(start_s, lo) END AS inside,
        end_s - start_s AS duration,
        CASE WHEN hi <= lo OR least(end_s, hi) <= greatest(start_s, lo) THEN start_s
             ELSE greatest(start_s, lo) END AS month_s
    FROM j
),
cut_m AS (
    SELECT *, make_timestamp(month_s * 1000000) AS month_ts FROM cut
),
r AS (
    SELECT rn, ok,
        {keys} AS k_cid,
        CASE WHEN ok THEN year(month_ts) * 100 + month(month_ts) END AS k_month,
        CASE WHEN ok THEN t_resource_type END AS k_resource_type,
        CASE WHEN ok THEN t_device_model END AS k_device_model,
        CASE WHEN ok THEN t_unit END AS k_unit,
        CASE WHEN NOT ok OR inside = 0 THEN 0::DECIMAL(18, 2)
             WHEN inside = duration THEN fen
             ELSE {_pro_rated("fen", 2)} END AS fen_in,
        CASE WHEN NOT ok OR inside = 0 THEN 0::DECIMAL(18, 6)
             WHEN inside = duration THEN micro
             ELSE {_pro_rated("micro", 6)} END AS micro_in,
        CASE WHEN ok THEN fen END AS fen_all,
        CASE WHEN ok AND inside > 0 THEN greatest(start_s, lo) END AS first_s,
        CASE WHEN ok AND inside > 0 THEN least(end_s, hi) - 1 END AS last_s,
        CASE WHEN ok AND inside > 0 AND inside < duration THEN 1 ELSE 0 END AS prorated,
    FROM cut_m
)
SELECT CASE WHEN ok THEN NULL ELSE rn END AS slow_row, k_cid AS cid,
    k_enterprise_uscc AS enterprise_uscc, k_contract_id AS contract_id,
    printf('%04d-%02d', k_month // 100, k_month % 100) AS month,
    k_resource_type AS resource_type, k_device_model AS device_model, k_unit AS unit,
    CAST(sum(fen_in) * 100 AS HUGEINT) AS amount_fen,
    CAST(sum(micro_in) * 1000000 AS HUGEINT) AS quantity_micro,
    CAST((sum(fen_all) - sum(fen_in)) * 100 AS HUGEINT) AS outside_fen,
    count(*) AS row_count, CAST(sum(prorated) AS BIGINT) AS prorated_rows,
    min(rn) AS first_row, max(rn) AS last_row, sum(rn) AS row_sum,
    min(first_s) AS first_second, max(last_s) AS last_second
FROM r
GROUP BY ALL
"""


# --- the driver -----------------------------------------------------------------------------


def _parquet_types(path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """How the fast path reads each column of a Parquet file; Unsupported when it does not."""
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(path).schema_arrow
    except (pa.ArrowInvalid, OSError) as error:
        raise core.BatchRefused(
            f"不是有效的 Parquet 文件 (not a valid Parquet file): {error}"
        ) from None
    core.check_header(schema.names)
    types: dict[str, str] = {}
    scales: dict[str, int] = {}
    for name in core.COLUMNS:
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            types[name] = "text"
        elif name in ("start", "end") and pa.types.is_timestamp(kind) and kind.tz is None:
            types[name] = "ns" if kind.unit == "ns" else "us"
        elif name in ("quantity", "unit_price", "amount") and pa.types.is_decimal128(kind):
            types[name], scales[name] = "decimal", kind.scale
        elif name in ("quantity", "unit_price", "amount") and pa.types.is_integer(kind):
            types[name] = "integer"
        else:
            raise Unsupported(f"{name}: {kind}")
    return types, scales


def _contracts(window: tuple[date, date], contracts: core.ContractTerms) -> pa.Table:
    usccs, ids, los, his = [], [], [], []
    for (uscc, contract_id), validity in contracts.items():
        period = core.claim_period(window, validity) or core.EMPTY
        usccs.append(uscc)
        ids.append(contract_id)
        los.append(period.start)
        his.append(period.end)
    return pa.table(
        {
            "uscc": pa.array(usccs, pa.string()),
            "contract_id": pa.array(ids, pa.string()),
            "lo": pa.array(los, pa.int64()),
            "hi": pa.array(his, pa.int64()),
            "cid": pa.array(range(len(usccs)), pa.int32()),
        }
    )


class _Session:
    """A DuckDB connection with its memory limit, threads and spill directory, for one file."""

    def __init__(
        self,
        path: Path,
        kind: str,
        window: tuple[date, date],
        contracts: core.ContractTerms | None,
    ) -> None:
        import duckdb

        self.kind = kind
        self.names: list[str] = []
        self.types: dict[str, str] = {}
        self.scales: dict[str, int] = {}
        if kind == "parquet":
            self.types, self.scales = _parquet_types(path)
        else:
            from voucher.platforms import arrow_ingest

            self.names = arrow_ingest.csv_header(path)
        self.path, self.window, self.contracts = path, window, contracts
        self.spill = tempfile.mkdtemp(prefix="voucher-ingest-")
        self.connection = duckdb.connect(
            config={
                "threads": THREADS,
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": self.spill,
                "preserve_insertion_order": True,
            }
        )
        if contracts is not None:
            self.connection.register("contracts", _contracts(window, contracts))

    def close(self) -> None:
        self.connection.close()
        shutil.rmtree(self.spill, ignore_errors=True)

    def _run(self, sql: str, parameters: dict[str, Any]) -> Iterator[pa.RecordBatch]:
        import duckdb

        try:
            query = self.connection.sql(sql, params=parameters or None)
            # DuckDB 2 names it to_arrow_reader, 1.x fetch_record_batch
            fetch = getattr(query, "to_arrow_reader", None) or query.fetch_record_batch
            yield from fetch(FETCH_ROWS)
        except (duckdb.InvalidInputException, duckdb.ConversionException) as error:
            what = "Parquet" if self.kind == "parquet" else "CSV"
            raise core.BatchRefused(
                f"不是有效的 {what} 文件 (not a valid {what} file): {error}"
            ) from None

    def groups(self) -> Iterator[pa.RecordBatch]:
        """The aggregates of the clean rows, and the number of every other row (`slow_row`)."""
        sql = _statement(
            self.path, self.kind, self.names, self.types, self.scales, self.contracts is not None
        )
        parameters: dict[str, Any] = {}
        if self.contracts is None:
            period = core.claim_period(self.window, None)
            assert period is not None
            parameters.update(lo=period.start, hi=period.end)
        return self._run(sql, parameters)

    def cells(self, rows: pa.Array) -> Iterator[pa.RecordBatch]:
        """The cells (as stored) of the rows numbered `rows`: a second pass, only when the first
        left rows to the reference path (keeping them in the aggregate would cost memory)."""
        self.connection.register("slow", pa.table({"rn": rows}))
        columns = ", ".join(f'"{c}"' for c in core.COLUMNS)
        source = _source(self.path, self.kind, self.names)
        sql = f"SELECT rn AS slow_row, {columns} FROM {source} WHERE rn IN (SELECT rn FROM slow)"
        return self._run(sql, {})


def ingest_duckdb(
    path: Path,
    kind: str,
    *,
    window: tuple[date, date],
    contracts: core.ContractTerms | None = None,
    max_errors: int = core.DEFAULT_MAX_ERRORS,
) -> core.IngestResult:
    """`consumption.ingest_file` with DuckDB; the same result as `consumption.ingest_rows`."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        blank = pool.submit(_has_blank_line, path) if kind == "csv" else None
        try:
            result = _ingest(path, kind, window, contracts, max_errors)
        except core.BatchRefused:
            if blank is None or not blank.result():
                raise
        if blank is not None and blank.result():
            return core.ingest_file(
                path, window=window, contracts=contracts, max_errors=max_errors, engine="python"
            )
    return result


def _ingest(
    path: Path,
    kind: str,
    window: tuple[date, date],
    contracts: core.ContractTerms | None,
    max_errors: int,
) -> core.IngestResult:
    result = core.IngestResult()
    try:
        session = _Session(path, kind, window, contracts)
    except Unsupported:
        return core.ingest_file(
            path, window=window, contracts=contracts, max_errors=max_errors, engine="arrow"
        )
    try:
        periods = core._Periods(window, contracts)
        pairs = None if contracts is None else list(contracts)  # contract number -> (uscc, id)
        slow_rows: list[pa.Array] = []
        for batch in session.groups():
            slow = pc.is_valid(batch.column("slow_row"))
            _add_groups(result, batch.filter(pc.invert(slow)), pairs)
            slow_rows.append(batch.column("slow_row").filter(slow))
        rows = pa.concat_arrays(slow_rows) if slow_rows else pa.array([], pa.int64())
        if len(rows):
            for batch in session.cells(rows):
                _add_slow_rows(result, batch, periods, max_errors)
    finally:
        session.close()
    # DuckDB hands the rows over in no particular order; the reference reports in file order
    # (a row's own errors keep theirs: the sort is stable)
    result.errors.sort(key=lambda error: error.row)
    return result


def _add_groups(
    result: core.IngestResult, batch: pa.RecordBatch, pairs: list[tuple[str, str]] | None
) -> None:
    """Groups of clean rows: each key comes once (rows of the reference path may share it)."""
    if batch.num_rows == 0:
        return
    columns = {name: batch.column(name) for name in batch.schema.names}
    if pairs is not None:
        cids = columns["cid"].to_pylist()
        usccs = [pairs[cid][0] for cid in cids]
        contract_ids = [pairs[cid][1] for cid in cids]
    else:
        usccs = columns["enterprise_uscc"].to_pylist()
        contract_ids = columns["contract_id"].to_pylist()
    keys = zip(
        usccs,
        contract_ids,
        columns["month"].to_pylist(),
        columns["resource_type"].to_pylist(),
        columns["device_model"].to_pylist(),
        columns["unit"].to_pylist(),
        strict=True,
    )
    values = zip(
        _integers(columns["amount_fen"]),
        _integers(columns["quantity_micro"]),
        _integers(columns["outside_fen"]),
        *(
            _integers(columns[name])
            for name in ("row_count", "prorated_rows", "first_row", "last_row", "row_sum")
        ),
        columns["first_second"].to_pylist(),
        columns["last_second"].to_pylist(),
        strict=True,
    )
    aggregates = result.aggregates
    for key, (amount, quantity, outside, count, prorated, first, last, total, lo, hi) in zip(
        keys, values, strict=True
    ):
        found = aggregates.get(key)
        if found is None:
            aggregates[key] = core.Aggregate(
                amount_fen=amount,
                quantity_micro=quantity,
                outside_fen=outside,
                row_count=count,
                prorated_rows=prorated,
                first_row=first,
                last_row=last,
                row_sum=total,
                first_second=lo,
                last_second=hi,
            )
        else:  # rows of the reference path came first
            found.amount_fen += amount
            found.quantity_micro += quantity
            found.outside_fen += outside
            found.prorated_rows += prorated
            found.add_span(lo, hi)
            found.add_rows(count=count, first=first, last=last, total=total)
    result.rows_read += pc.sum(columns["row_count"]).as_py()
    result.rows_prorated += pc.sum(columns["prorated_rows"]).as_py()


def _integers(column: pa.Array) -> list[int]:
    """Exact integer sums: int64 when they fit (they always do for real files), else int."""
    if pa.types.is_integer(column.type):
        return column.to_pylist()
    try:
        return pc.cast(column, pa.int64()).to_pylist()
    except pa.ArrowInvalid:
        return [int(value) for value in column.to_pylist()]


def _add_slow_rows(
    result: core.IngestResult,
    batch: pa.RecordBatch,
    periods: core._Periods,
    max_errors: int,
) -> None:
    """Rows the statement did not vouch for: the reference parser reports or adds them."""
    from voucher.platforms import arrow_ingest

    cells = arrow_ingest.as_strings(batch).to_pylist()
    for row_number, values in zip(batch.column("slow_row").to_pylist(), cells, strict=True):
        result.rows_read += 1
        parsed = core.parse_row(values, row_number)
        if isinstance(parsed, list):
            result.reject(parsed, max_errors)
            continue
        if not periods.known(parsed.uscc, parsed.contract_id):
            result.reject([core._unknown_contract(row_number, parsed.contract_id)], max_errors)
            continue
        core.add_row(result, parsed, row_number, periods.get(parsed.uscc, parsed.contract_id))
