"""The consumption ingest engine, DuckDB, for every file (docs/decisions/
0006-consumption-ingest-duckdb.md, 0008-csv-in-parts.md, 0013-one-ingest-engine.md). No Django.

One SQL statement reads the file (CSV as text, Parquet as stored), validates every cell with
the reference parser's strict patterns, joins the contracts, cuts each row to its claim period,
pro-rates the rows that straddle an edge with exact integer arithmetic (HUGEINT:
`(2 × fen × inside + duration) div (2 × duration)`, i.e. half-up to the fen, as
`policy.money.pro_rate`), and groups per key. The key cells (resource type, device, unit, and
without contracts the enterprise and contract) are few: they are checked once per group, and a
group that fails hands its rows back. A row that is not clean (a bad cell, a contract the
enterprise did not submit, anything the strict patterns do not vouch for) becomes a group of
its own, keyed by its row number; a second pass (only when there are such rows or groups)
fetches their cells in file order and they go through the reference `consumption.parse_row` +
`add_row`, which reports or adds them. So the engine gives the reference's aggregates and error
report, and a file refused for too many bad rows lists the same first rows as the reference,
on every run (tests compare them, with hypothesis too).

A large CSV file is read in parts side by side (`_Session._parts`, decision 0008), each with
its own row numbers, shifted when the parts are merged. A byte scan beside the statement
(`csv_shape`) counts the line feeds: when DuckDB's records do not account for every line (a
blank line before the end, or a line feed inside a quoted cell), the file takes the reference
path. Blank lines at the end (editors and spreadsheets leave them) are counted and keep the
fast path. A small file DuckDB refuses is read by the reference too: its refusal names the line
and the cells in the platform's terms, where DuckDB's names its own options and our file's
path (a large one has only its structure read). A Parquet file with a column type the statement
does not read natively (a time zone, decimal256, an integer id) is given to DuckDB as the
reference reads it, every cell as text (`consumption.as_text`), and checked as a CSV file's
cells are (docs/decisions/0013-one-ingest-engine.md).

Money and quantities are DECIMAL/HUGEINT in DuckDB and `int` fen/micro-units in Python; no
float anywhere. Memory is bounded by design: DuckDB streams the file (a CSV or Parquet scan is
a pipeline, not a table), keeps only the hash table of groups, and is given a `memory_limit`
(beyond it the aggregate spills to a temporary directory) and a thread count. The Python side
fetches the result a record batch at a time and keeps it as columns (`ColumnarResult`), in
memory up to GROUPS_IN_MEMORY and beyond that in a file (`_GroupBatches`, decision 0010).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voucher.platforms import consumption as core
from voucher.platforms import scratch
from voucher.policy import money
from voucher.policy import uscc as uscc_codes

# DuckDB's memory limit while the parts of a CSV file are read side by side, each with a hash
# table of its groups. 640 MB: with 512 MB the two parts' hash tables of 270,000 groups spilled
# 390 MB to disk and the process peaked higher (731 MiB against 540) and later (decision 0009;
# the figures: docs/performance.md).
MEMORY_LIMIT = os.environ.get("VOUCHER_INGEST_MEMORY", "640MB")
# ... and while one statement holds one hash table: a file read in one piece (Parquet, a small
# CSV file), and the merge of the parts. 448 MB read the benchmark's Parquet file as fast as
# 640 MB (320 MB spilled: 6.7 s against 4.3 s) and kept 2.48 million groups under 1 GiB
# (decision 0010; the figures: docs/performance.md).


def _one_table_limit(environ: Any) -> str:
    """448 MB unless set; an operator who set VOUCHER_INGEST_MEMORY alone (to fit a container,
    say) gets that limit for every statement, never more."""
    if environ.get("VOUCHER_INGEST_MEMORY_ONE_TABLE"):
        return str(environ["VOUCHER_INGEST_MEMORY_ONE_TABLE"])
    if environ.get("VOUCHER_INGEST_MEMORY"):
        return str(environ["VOUCHER_INGEST_MEMORY"])
    return "448MB"


ONE_TABLE_MEMORY_LIMIT = _one_table_limit(os.environ)
THREADS = int(os.environ.get("VOUCHER_INGEST_THREADS", "0")) or (os.cpu_count() or 1)
# a CSV file from this size up is read in THREADS parts side by side (`_Session._parts`), at
# most MAX_PARTS: each part holds a hash table of its groups (all under MEMORY_LIMIT, spilling
# beyond it) and two threads
PARALLEL_MIN_BYTES = int(os.environ.get("VOUCHER_INGEST_PARALLEL_BYTES", str(64 << 20)))
MAX_PARTS = 8
ALLOCATOR_FLUSH = "16MB"
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
_MONEY = rf"[0-9]{{1,{money.INTEGER_DIGITS}}}(\.[0-9]{{1,2}})?"  # the one limit
_QUANTITY = r"[0-9]{1,14}(\.[0-9]{1,6})?"
_FAST_LIMIT = 10**12
_YEAR_1000 = core.day_start(date(1000, 1, 1))
_YEAR_10000 = core.day_start(date(9999, 12, 31)) + 86_400


class DuckDBRefused(core.BatchRefused):
    """DuckDB could not read the file. Its message names its own options and the stored file's
    path, nothing a platform can act on: `ingest_duckdb` says it in the platform's terms.
    `brief`: the message's first line, which says what DuckDB found."""

    def __init__(self, message: str, brief: str) -> None:
        super().__init__(message)
        self.brief = brief


class Unsupported(Exception):
    """A Parquet column type the statement does not read natively: the file is read as text
    (`_TextCells`)."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class CsvShape:
    """What one byte scan of a CSV file tells the DuckDB path (`csv_shape`)."""

    newlines: int = 0  # line feeds in the file
    ends_with_newline: bool = False
    trailing_blank_lines: int = 0  # blank lines after the last record (no rows: both skip them)
    # a carriage return not followed by a line feed: Python's csv ends a record there, and
    # DuckDB may not; such a file takes the reference path
    lone_cr: bool = False
    # the file may be read in parts only if no split offset falls inside a quoted cell
    split_in_quotes: bool = False

    def records_match(self, records: int) -> bool:
        """Whether DuckDB's `records` (header excluded) account for every line of the file.

        Both skip a blank line, but a blank line before the end cannot be told here from a
        line feed inside a quoted cell, where the two may differ: such a file takes the
        reference path. Blank lines at the end are counted (`trailing_blank_lines`)."""
        lines = records + 1
        return not self.lone_cr and self.newlines - self.trailing_blank_lines == (
            lines if self.ends_with_newline else lines - 1
        )

    @property
    def splits_hold(self) -> bool:
        """Whether every split offset is a record boundary."""
        return not (self.split_in_quotes or self.lone_cr)


CR, LF = 13, 10


def _count_line_feeds(path: Path) -> subprocess.Popen[bytes] | None:
    """`wc -l` counting the file's line feeds beside the caller, or None without one.

    Why: Python's `bytes.count` of one byte goes a byte at a time (1.4 s of CPU for the 2.2
    GiB benchmark file, taken from the statement running beside it); GNU's and BusyBox's wc
    count at memory speed (0.05 s of CPU, plus the read the scan does anyway)."""
    wc = shutil.which("wc")
    if wc is None:
        return None
    try:
        with path.open("rb") as stream:
            return subprocess.Popen(
                [wc, "-l"], stdin=stream, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
    except OSError:
        return None


def _counted(process: subprocess.Popen[bytes] | None) -> int | None:
    """What `_count_line_feeds` counted, or None when it could not tell."""
    if process is None:
        return None
    output, _ = process.communicate()
    try:
        return int(output.split()[0]) if process.returncode == 0 else None
    except (IndexError, ValueError):
        return None


def csv_shape(path: Path, splits: list[int], chunk: int = 32 << 20, wc: bool = True) -> CsvShape:
    """One pass over the bytes, a chunk at a time (bounded memory), with nothing but `in`
    (memchr speed: a pattern search for `\\n\\n` costs several times more) and `bytes.count`
    where something was found: lone carriage returns, and the parity of the quotes before each
    split offset (RFC 4180 doubles a quote inside a quoted cell, so an odd count means the
    offset is inside one). The line feeds are counted by `wc -l` beside it, or in the same pass
    without one (or with `wc=False`)."""
    counting = _count_line_feeds(path) if wc else None
    try:
        shape = _scan(path, splits, chunk, count_line_feeds=counting is None)
    finally:
        counted = _counted(counting)
    if counting is not None:
        shape.newlines = counted if counted is not None else _scan(path, [], chunk, True).newlines
    return shape


def _scan(path: Path, splits: list[int], chunk: int, count_line_feeds: bool) -> CsvShape:
    shape = CsvShape()
    pending = sorted(splits)
    quotes = 0  # quote characters before `position`
    position = 0
    last = -1  # the byte before `position`
    buffer = bytearray(chunk)  # one reusable buffer: no allocation per chunk
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while size := stream.readinto(view):
            if count_line_feeds:
                shape.newlines += buffer.count(b"\n", 0, size)
            if last == CR and buffer[0] != LF:
                shape.lone_cr = True
            if buffer.find(b"\r", 0, size) != -1:
                end = size - 1 if buffer[size - 1] == CR else size  # judged with what follows
                shape.lone_cr |= buffer.count(b"\r", 0, end) != buffer.count(b"\r\n", 0, end)
            has_quotes = buffer.find(b'"', 0, size) != -1
            while pending and pending[0] < position + size:
                offset = pending.pop(0) - position
                before = quotes + (buffer.count(b'"', 0, offset) if has_quotes else 0)
                shape.split_in_quotes |= before % 2 == 1
            quotes += buffer.count(b'"', 0, size) if has_quotes else 0
            position += size
            last = buffer[size - 1]
    shape.lone_cr |= last == CR
    shape.ends_with_newline = last == LF
    if shape.ends_with_newline:
        shape.trailing_blank_lines = _trailing_blank_lines(path)
    return shape


def _trailing_blank_lines(path: Path, tail: int = 4096) -> int:
    """The blank lines after a file's last record: the line feeds of its final run of line
    ends, but the first (which ends the record). A run that fills the whole tail is not counted
    (the count would be a guess): the file then takes the reference path."""
    with path.open("rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        stream.seek(max(0, size - tail))
        data = stream.read()
    ends = len(data) - len(data.rstrip(b"\r\n"))
    if ends == len(data):
        return 0
    return max(0, data[len(data) - ends :].count(b"\n") - 1)


# --- per-column SQL -------------------------------------------------------------------------


def _tidy(text: str) -> str:
    """Not empty, and neither the first nor the last character is one strip() removes.
    (`ascii` gives the first character's code point without cutting a substring; `ord('')` is
    -1, in the list, so an empty text is not tidy.) A printable ASCII character, nearly every
    one, is settled by the CASE without the list: `NOT IN` a list of constants is planned as a
    join on every row (0.4 s of CPU at 20 million rows against none)."""

    def not_space(code: str) -> str:
        return (
            f"(CASE WHEN {code} BETWEEN 33 AND 126 THEN true "
            f"ELSE NOT list_contains([{_SPACE_LIST}], {code}) END)"
        )

    return f"({not_space(f'ascii({text})')} AND {not_space(f'ord({text}[-1])')})"


def _text(column: str, nullable: bool) -> str:
    """A text cell, '' when empty (a CSV file's are read so; a Parquet file's may be null)."""
    return f"coalesce(\"{column}\", '')" if nullable else f'"{column}"'


def _time_sql(column: str, kind: str) -> tuple[str, str]:
    """(seconds, clean) of a time column: text `YYYY-MM-DD HH:MM:SS` or a naive timestamp."""
    if kind == "text":
        text = f"t_{column}"
        parsed = f"TRY_CAST({text} AS TIMESTAMP)"
        seconds = f"(epoch_us({parsed}) // 1000000)"
        # a real time prints back as its own text: no 02-30 roll-over, no single digits, no `T`
        # separator, fraction or offset, no year 0 (DuckDB prints it "0001-01-01 (BC)"); the
        # byte length keeps out a fifth digit of the year (this costs a third less than
        # strptime + strftime)
        clean = f"(strlen({text}) = 19 AND CAST({parsed} AS VARCHAR) = {text})"
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
        matched = f"(regexp_full_match({text}, '{pattern}') AND {value} < {_FAST_LIMIT})"
        # The common spelling first, without the pattern: a cell that is DuckDB's own text of
        # its value (an amount with two decimals, a quantity without any), at or above zero and
        # below the limit, matches the pattern and reads as that value (a test fuzzes both
        # ways). Any other cell takes the pattern (CASE evaluates it only for those rows). Per
        # million cells on one thread, pattern and cast cost 0.07-0.09 s of CPU, this
        # 0.045-0.06 (a regular expression costs DuckDB ~45 ns a cell whatever the pattern).
        usual_places = _USUAL_PLACES[places]
        usual = _usual_number(text, usual_places)
        clean = f"(CASE WHEN {usual} THEN true ELSE {matched} END)"
        if usual_places == places:
            return f"CASE WHEN {clean} THEN {value} END", clean
        # the value from the usual spelling's cast, not a second cast of the text
        as_usual = f"CAST(TRY_CAST({text} AS DECIMAL(18, {usual_places})) AS {exact})"
        both = f"CASE WHEN {usual} THEN {as_usual} ELSE {value} END"
        return f"CASE WHEN {clean} THEN {both} END", clean
    if kind == "decimal" and scale > places:
        return "NULL", "false"  # every cell prints with too many decimals: the reference says so
    clean = f'("{column}" IS NOT NULL AND "{column}" >= 0 AND "{column}" < {_FAST_LIMIT})'
    return f'CASE WHEN {clean} THEN CAST("{column}" AS {exact}) END', clean


# The decimals of a number cell's usual spelling: amounts come with two, quantities with none.
_USUAL_PLACES = {2: 2, 6: 0}


def _usual_number(text: str, places: int) -> str:
    """Whether `text` is DuckDB's own text of a DECIMAL(18, places) value in [0, _FAST_LIMIT):
    ASCII digits with no leading zero (but `0` itself, and `0.50`), then with places > 0 a
    point and exactly `places` digits: no sign, space, exponent or separator. Such a text
    matches _MONEY and _QUANTITY, and its value is the one the reference reads. NULL where
    DuckDB does not read the text as a number."""
    parsed = f"TRY_CAST({text} AS DECIMAL(18, {places}))"
    return f"(CAST({parsed} AS VARCHAR) = {text} AND {parsed} >= 0 AND {parsed} < {_FAST_LIMIT})"


def _unit_price_ok(kind: str, scale: int) -> str:
    """Whether a unit price cell is clean. Nothing is computed from it (the reference only
    checks its pattern), so a text cell needs no value: the pattern alone (a cast costs 0.5 s
    of CPU at 20 million rows); a typed one, as `_number_sql`'s."""
    if kind == "text":
        return f"regexp_full_match(t_unit_price, '{_QUANTITY}')"
    return _number_sql("unit_price", kind, 6, scale)[1]


def _pro_rated(value: str, places: int) -> str:
    """`value × inside / duration` half-up to the last place, in integers (policy.money)."""
    units = f"CAST(CAST({value} AS DECIMAL(38, {places})) * {10**places} AS HUGEINT)"
    rounded = f"(2 * {units} * inside + duration) // (2 * duration)"
    unit = f"'{Decimal(1).scaleb(-places)}'::DECIMAL({places + 1}, {places})"  # 0.01, 0.000001
    return f"CAST(CAST({rounded} AS DECIMAL(38, 0)) * {unit} AS DECIMAL(18, {places}))"


# --- the statement --------------------------------------------------------------------------


def _source(path: Path, kind: str, names: list[str], skip: int = 1) -> str:
    """The rows of `path` (a whole file, or one part of a CSV file) numbered from 1 in `rn`."""
    if kind == "parquet":
        return (
            f"(SELECT file_row_number + 1 AS rn, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({_literal(str(path))}, file_row_number = true))"
        )
    columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names) + "}"
    # an empty cell is '' (force_not_null), as the reference reads it: no coalesce per cell
    not_null = "[" + ", ".join(_literal(n) for n in names) + "]"
    return (
        f"(SELECT row_number() OVER () AS rn, * FROM read_csv({_literal(str(path))}, "
        f"columns = {columns}, header = false, skip = {skip}, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', strict_mode = true, null_padding = false, "
        f"force_not_null = {not_null}, encoding = 'utf-8'))"
    )


# One integer groups a clean row: contract number × _MONTHS + YYYYMM (grouping on one integer
# costs less than on three columns); a row set aside is grouped on minus its row number.
_MONTHS = 1_000_000

_RESOURCE_TYPES = "(" + ", ".join(_literal(r) for r in core.RESOURCE_TYPES) + ")"


def _id_ok(text: str) -> str:
    # characters ≤ bytes: the character count is needed only past MAX_ID_LENGTH bytes
    limit = core.MAX_ID_LENGTH
    return f"({_tidy(text)} AND (strlen({text}) <= {limit} OR length({text}) <= {limit}))"


def _keys_ok(with_contracts: bool) -> str:
    """The checks of the key cells, made once per group rather than once per row (the keys are
    few; a group that fails them is handed back row by row to the reference path). With
    contracts, the enterprise and contract are vouched for by the join (`_CONTRACTS`)."""
    checks = [
        f"resource_type IN {_RESOURCE_TYPES}",
        f"(device_model = '' OR {_tidy('device_model')})",
        # a compute row names its device (RULES.md, Fail closed): one that does not is handed
        # back to the reference, which reports it
        "(resource_type <> 'compute' OR device_model <> '')",
        f"length(device_model) <= {core.MAX_ID_LENGTH}",
        _id_ok("unit"),
    ]
    if not with_contracts:
        checks += [f"regexp_full_match(enterprise_uscc, '{_USCC}')", _id_ok("contract_id")]
    return " AND ".join(checks)


def contract_periods(
    window: tuple[date, date], contracts: core.ContractTerms, pairs: list[tuple[str, str]]
) -> pa.Table:
    """The contracts of `pairs` (enterprise USCC, contract id) with their claim periods in
    seconds (`lo`, `hi`; an empty period where the contract and the window do not meet), each
    numbered (`cid`) by its place in `pairs`. The statement joins the rows to this table."""
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


# The contracts whose own keys the reference would accept: a row that joins one of them has a
# clean enterprise USCC and contract id.
_CONTRACTS = (
    f"CREATE TABLE contracts AS SELECT * FROM contract_terms "
    f"WHERE regexp_full_match(uscc, '{_USCC}') AND {_id_ok('contract_id')}"
)


def _statement(
    source: str,
    types: dict[str, str],
    scales: dict[str, int],
    with_contracts: bool,
    ids_unique: bool = False,
    nullable: bool = True,
) -> str:
    """Per-row checks, the cut and the pro-rating, grouped per key (row numbers of `source`).
    `nullable`: whether a text cell may be null (a Parquet file's) rather than ''."""
    text_columns = [c for c in core.COLUMNS if types.get(c, "text") == "text"]
    trimmed = ", ".join(f"{_text(c, nullable)} AS t_{c}" for c in text_columns)
    start_s, start_ok = _time_sql("start", types.get("start", "text"))
    end_s, end_ok = _time_sql("end", types.get("end", "text"))
    numbers = {
        name: _number_sql(name, types.get(name, "text"), places, scales.get(name, 0))
        for name, places in (("quantity", 6), ("amount", 2))
    }
    unit_price_ok = _unit_price_ok(types.get("unit_price", "text"), scales.get("unit_price", 0))
    if with_contracts:
        if ids_unique:  # one string to hash and compare per row, the enterprise checked after
            join = "LEFT JOIN contracts c ON c.contract_id = v.t_contract_id"
            known = "coalesce(c.uscc = v.t_enterprise_uscc, false)"
        else:
            join = (
                "LEFT JOIN contracts c ON c.uscc = v.t_enterprise_uscc "
                "AND c.contract_id = v.t_contract_id"
            )
            known = "c.lo IS NOT NULL"
        lo, hi, cid = "c.lo", "c.hi", "c.cid"
        contract_key = f"CAST(cid AS BIGINT) * {_MONTHS}"
    else:
        join, known, lo, hi, cid = "", "true", "$lo", "$hi", "NULL::INTEGER"
        contract_key = "0"
    return f"""
WITH v AS (
    SELECT *, {trimmed},
        {start_s} AS start_s, {end_s} AS end_s,
        {numbers["quantity"][0]} AS micro, {numbers["amount"][0]} AS fen,
        ({_id_ok("t_order_id")} AND {start_ok} AND {end_ok} AND {numbers["quantity"][1]}
            AND {unit_price_ok} AND {numbers["amount"][1]}) AS cells_ok
    FROM {source}
),
j AS (
    SELECT v.*, ({known}) AND coalesce(cells_ok AND end_s > start_s, false) AS ok,
        {lo} AS lo, {hi} AS hi, {cid} AS cid
    FROM v {join}
),
cut AS (
    -- seconds inside the claim period (none when it is empty, hi <= lo); a row with any
    -- positive `inside` has end > start, so the pro-rating never divides by zero
    SELECT *, greatest(least(end_s, hi) - greatest(start_s, lo), 0) AS inside,
        end_s - start_s AS duration
    FROM j
),
cut_m AS (
    SELECT *,
        make_timestamp(CASE WHEN inside > 0 THEN greatest(start_s, lo) ELSE start_s END
            * 1000000) AS month_ts
    FROM cut
),
r AS (
    -- a row that is not ok is a group of its own (slow_row), set aside: its other keys and
    -- values do not matter, so they are not guarded by `ok`
    SELECT rn, ok, cid, t_enterprise_uscc, t_contract_id,
        year(month_ts) * 100 + month(month_ts) AS k_month,
        CASE WHEN inside = 0 THEN 0::DECIMAL(18, 2)
             WHEN inside = duration THEN fen
             ELSE {_pro_rated("fen", 2)} END AS fen_in,
        CASE WHEN inside = 0 THEN 0::DECIMAL(18, 6)
             WHEN inside = duration THEN micro
             ELSE {_pro_rated("micro", 6)} END AS micro_in,
        fen AS fen_all,
        CASE WHEN inside > 0 THEN greatest(start_s, lo) END AS first_s,
        CASE WHEN inside > 0 THEN least(end_s, hi) - 1 END AS last_s,
        inside > 0 AND inside < duration AS prorated,
        t_resource_type, t_device_model, t_unit
    FROM cut_m
)
SELECT CASE WHEN ok THEN {contract_key} + k_month ELSE -rn END AS gk,
    {"" if with_contracts else "t_enterprise_uscc AS enterprise_uscc, t_contract_id AS contract_id,"}
    t_resource_type AS resource_type, t_device_model AS device_model, t_unit AS unit,
    CAST(sum(fen_in) * 100 AS HUGEINT) AS amount_fen,
    CAST(sum(micro_in) * 1000000 AS HUGEINT) AS quantity_micro,
    CAST((sum(fen_all) - sum(fen_in)) * 100 AS HUGEINT) AS outside_fen,
    count(*) AS row_count, CAST(count_if(prorated) AS BIGINT) AS prorated_rows,
    min(rn) AS first_row, max(rn) AS last_row, CAST(sum(rn) AS HUGEINT) AS row_sum,
    min(first_s) AS first_second, max(last_s) AS last_second
FROM r
GROUP BY ALL
"""


def _string_keys(with_contracts: bool) -> list[str]:
    """The group key's text columns (the enterprise and contract are the contract number's
    when contracts are given)."""
    ids = [] if with_contracts else ["enterprise_uscc", "contract_id"]
    return [*ids, "resource_type", "device_model", "unit"]


def _merged(parts: list[tuple[str, int]], with_contracts: bool) -> str:
    """The groups of several parts of one file as one: part k's row numbers move by the rows
    of the parts before it (`offset`)."""
    union = " UNION ALL ".join(f"SELECT *, {offset} AS off FROM {table}" for table, offset in parts)
    return f"""(
SELECT CASE WHEN gk < 0 THEN gk - off ELSE gk END AS gk, {", ".join(_string_keys(with_contracts))},
    CAST(sum(amount_fen) AS HUGEINT) AS amount_fen,
    CAST(sum(quantity_micro) AS HUGEINT) AS quantity_micro,
    CAST(sum(outside_fen) AS HUGEINT) AS outside_fen,
    CAST(sum(row_count) AS BIGINT) AS row_count,
    CAST(sum(prorated_rows) AS BIGINT) AS prorated_rows,
    min(first_row + off) AS first_row, max(last_row + off) AS last_row,
    CAST(sum(row_sum + row_count * off) AS HUGEINT) AS row_sum,
    min(first_second) AS first_second, max(last_second) AS last_second
FROM ({union})
GROUP BY ALL
)"""


def _final(groups: str, with_contracts: bool) -> str:
    """The groups as Python takes them, each clean one already the row the store writes
    (`_STORED`): the group key `gk` taken apart (the row set aside, or the contract and
    month), the enterprise and contract id of the contract number (a join of the few contracts,
    not a look-up per group in Python), the month and the quantity as text, and whether the key
    cells passed."""
    ids = "c.uscc AS enterprise_uscc, c.contract_id AS contract_id"
    # the contracts table holds only contracts whose keys passed; a clean group's contract
    # number is always one of them (a row set aside has none: gk < 0)
    join = f"LEFT JOIN contracts c ON g.gk >= 0 AND c.cid = g.gk // {_MONTHS}"
    return f"""
SELECT CASE WHEN gk < 0 THEN -gk END AS slow_row,
    {ids if with_contracts else "enterprise_uscc, contract_id"},
    CASE WHEN gk >= 0 THEN printf('%04d-%02d', gk % {_MONTHS} // 100, gk % 100) END AS month,
    resource_type, device_model, unit, amount_fen, quantity_micro, outside_fen, row_count,
    prorated_rows, first_row, last_row, row_sum, first_second, last_second,
    gk < 0 OR ({_keys_ok(with_contracts)}) AS keys_ok,
    {_decimal_text("quantity_micro", 6)} AS quantity_text
FROM {groups} g {join if with_contracts else ""}
ORDER BY gk  -- the contracts are numbered in key order (`_Session.pairs`)
"""


def _decimal_text(units: str, places: int) -> str:
    """Integer `units` of 10^-places as decimal text, exactly as `str(Decimal(units).scaleb(
    -places))` (a test compares them): the quantity column keeps text (voucher.core.columns),
    and DuckDB makes it for all the groups at once."""
    unit = f"'{Decimal(1).scaleb(-places)}'::DECIMAL({places + 1}, {places})"
    return f"CAST(CAST({units} AS DECIMAL(38, 0)) * {unit} AS VARCHAR)"


# --- the driver -----------------------------------------------------------------------------


def _parquet_types(path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """How the statement reads each column of a Parquet file as stored; Unsupported when it
    does not read one natively (the file is then read as text: `_TextCells`)."""
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


_TEXT_SCHEMA = pa.schema([("rn", pa.int64()), *((name, pa.string()) for name in core.COLUMNS)])


class _TextCells:
    """A Parquet file as the reference reads it, for the column types the statement does not
    read natively: every cell as its text (`consumption.as_text`), the rows numbered from 1 in
    `rn`, as an Arrow stream that DuckDB scans and checks as it checks a CSV file's cells. A
    stream is read once: each statement gets a new one (`reader`).

    `refused`: the reference's own refusal, met while DuckDB read the stream (a column of
    floats, a file pyarrow cannot read), which DuckDB would report in its own words."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refused: core.BatchRefused | None = None

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(_TEXT_SCHEMA, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        first = 1
        try:
            for batch in core.parquet_batches(self.path):
                rows = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
                first += batch.num_rows
                yield from core.as_text(batch).add_column(0, "rn", rows).to_batches()
        except core.BatchRefused as refused:
            self.refused = refused
            raise


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, read and checked as the reference reads them
    (BatchRefused when they are wrong): DuckDB then reads the rows by these names."""
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            header = next(csv.reader(stream), None)
    except UnicodeDecodeError:
        raise core.BatchRefused("CSV 文件须为 UTF-8 编码 (CSV must be UTF-8)") from None
    except csv.Error as error:
        raise core.BatchRefused(f"不是有效的 CSV 文件 (not a valid CSV file): {error}") from None
    if header is None:
        raise core.BatchRefused("空文件，没有表头 (empty file: no header)")
    names = [h.strip().lstrip("\ufeff") for h in header]
    core.check_header(names)
    return names


def csv_splits(path: Path, parts: int) -> list[int]:
    """Offsets that cut a CSV file into `parts` of about equal size, each just after a line
    feed (whether that is a record boundary is for `csv_shape` to confirm). None for a file
    under PARALLEL_MIN_BYTES."""
    size = path.stat().st_size
    if parts < 2 or size < PARALLEL_MIN_BYTES or not hasattr(os, "mkfifo"):  # not on Windows
        return []
    offsets: list[int] = []
    with path.open("rb") as stream:
        for k in range(1, parts):
            stream.seek(size * k // parts)
            stream.readline()
            offset = stream.tell()
            if offset < size and (not offsets or offset > offsets[-1]):
                offsets.append(offset)
    return offsets


# Bytes a part's pipe holds (Linux's default is 64 KiB, and an unprivileged process may ask for
# up to /proc/sys/fs/pipe-max-size, 1 MiB by default).
PIPE_BYTES = 1 << 20


def _widen(pipe: int) -> None:
    """Give a part's pipe PIPE_BYTES. Why: DuckDB's CSV reader asks for a large buffer at a
    time and a 64 KiB pipe hands it 64 KiB per read, with a wake-up of the feeding thread in
    between: one part's statement took 10.5 s from a default pipe, 8.8 s from a 1 MiB one and
    9.0 s from the file itself (10 million rows, one thread). Where the kernel refuses (not
    Linux, or a lower limit), the pipe keeps its size: slower, not wrong."""
    try:
        import fcntl  # not on Windows, which reads a file in one piece (`csv_splits`)
    except ImportError:
        return
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if setpipe is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe, setpipe, PIPE_BYTES)


class _Feed(threading.Thread):
    """Writes bytes [start, end) of a file into a named pipe that DuckDB reads as a file of its
    own (the kernel copies; nothing is written to disk), until `done` (its statement ended).

    `complete`: every byte went in (a reader that stopped early would otherwise go unnoticed).
    A reader that opens the pipe again (DuckDB re-reads a file to word some errors) is given an
    empty file at once instead of waiting forever for a writer; that the rows of all the parts
    account for every line of the file is checked at the end (`CsvShape.records_match`)."""

    def __init__(self, fifo: str, path: Path, start: int, end: int, done: threading.Event):
        super().__init__(daemon=True)
        self.fifo, self.path, self.start_at, self.end_at, self.done = fifo, path, start, end, done
        self.complete = False

    def _open(self) -> int | None:
        """The pipe's writing end once a reader has opened it; None once `done`."""
        while True:
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as error:  # ENXIO: no reader yet
                if error.errno != errno.ENXIO or self.done.wait(0.002):
                    return None

    def run(self) -> None:
        out = self._open()
        if out is None:
            return
        sent_all = False
        try:
            os.set_blocking(out, True)
            _widen(out)
            with self.path.open("rb") as source:
                offset = self.start_at
                while offset < self.end_at:
                    sent = os.sendfile(out, source.fileno(), offset, self.end_at - offset)
                    if sent == 0:
                        break
                    offset += sent
                sent_all = offset >= self.end_at
        except OSError:  # BrokenPipeError: the reader went away
            pass
        finally:
            os.close(out)
        self.complete = sent_all
        while not self.done.wait(0.005):  # an empty file for any later opening
            with contextlib.suppress(OSError):
                os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))


def _connect(spill: str) -> Any:
    """A new in-memory DuckDB database with the ingest's memory limit, threads and spill
    directory."""
    import duckdb

    return duckdb.connect(
        config={
            "threads": THREADS,
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": spill,
            "preserve_insertion_order": True,
            # DuckDB cannot estimate a file's rows (it guesses a few dozen), so it would
            # build the contract join's hash table from the rows and probe it with the
            # contracts: 20 million rows held and spilled to disk. Each join here is
            # written with its small side on the right, the build side without this
            # rewrite. (In the configuration, so that the parts' cursors have it too.)
            "disabled_optimizers": "build_side_probe_side",
            # hand freed memory back after each task beyond 16 MB held (default 128 MB):
            # with 2.48 million groups the process peaked 60 MiB lower, at the same speed
            "allocator_flush_threshold": ALLOCATOR_FLUSH,
        }
    )


# The tables a session makes in its database (dropped when it ends, in the worker's database).
_SESSION_TABLES = ("contracts", *(f"part_{index}" for index in range(MAX_PARTS)))


class _Engine:
    """The worker's DuckDB database, opened once when the worker starts (`prepare`) and used by
    one session at a time, each through a connection of its own (`cursor`: its registered
    Arrow tables go with it), instead of a database per batch.

    Why: a batch paid for a new database (0.1-0.3 s on the loaded two-core machine), and the
    first batch of a worker also for importing DuckDB and pyarrow (2-3 s): at 2 million rows
    that is much of what bare DuckDB takes for the whole file (docs/performance.md). The
    database's spill directory lives as long as it does (DuckDB cannot switch it once used),
    held like any scratch item (a killed worker's is swept); the named pipes of a CSV file's
    parts stay in the session's own directory. A session that finds the database taken (two
    ingests at once in one process) opens one of its own, as before."""

    def __init__(self) -> None:
        self.spill = tempfile.mkdtemp(prefix=scratch.prefix("ingest"))
        self._held = scratch.hold(self.spill)
        self._lock = threading.Lock()
        self.database: Any = None
        self.sessions = 0  # sessions served (the tests look)
        try:
            self.database = _connect(self.spill)
            # the first statements of a database load what DuckDB loads lazily
            self.database.execute("SELECT 1").fetchall()
        except BaseException:
            self.close()
            raise

    def take(self) -> bool:
        """Whether the caller now holds the database (until `give_back`)."""
        if not self._lock.acquire(blocking=False):
            return False
        if self.database is None:  # closed after a failure: open a new one
            try:
                self.database = _connect(self.spill)
            except BaseException:
                self._lock.release()
                return False
        return True

    def session_connection(self) -> Any:
        connection = self.database.cursor()
        self._drop_tables(connection)  # a session before that could not
        return connection

    def give_back(self, connection: Any, failed: bool) -> None:
        try:
            if not failed:
                try:
                    self._drop_tables(connection)
                    connection.execute(f"SET memory_limit = {_literal(MEMORY_LIMIT)}")
                except Exception:  # a database we cannot tidy is not reused
                    failed = True
            with contextlib.suppress(Exception):
                connection.close()
            if failed:
                self._close_database()
            self.sessions += 1
        finally:
            self._lock.release()

    @staticmethod
    def _drop_tables(connection: Any) -> None:
        for table in _SESSION_TABLES:
            connection.execute(f"DROP TABLE IF EXISTS {table}")

    def _close_database(self) -> None:
        if self.database is not None:
            with contextlib.suppress(Exception):
                self.database.close()
            self.database = None

    def close(self) -> None:
        self._close_database()
        shutil.rmtree(self.spill, ignore_errors=True)
        scratch.release(self._held)


_ENGINE: _Engine | None = None


def prepare() -> None:
    """What a worker pays once, when it starts, rather than on every batch (or its first):
    DuckDB and pyarrow imported, and the DuckDB database every later ingest of this process
    uses (`_Engine`). Idempotent."""
    global _ENGINE
    if _ENGINE is None:
        import atexit

        import duckdb  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        _ENGINE = _Engine()
        atexit.register(release)  # its spill directory goes with a worker that stops


def release() -> None:
    """Close the database `prepare` opened (a worker that stops; the tests)."""
    global _ENGINE
    engine, _ENGINE = _ENGINE, None
    if engine is not None:
        engine.close()


class _Session:
    """A DuckDB connection with its memory limit, threads and spill directory, for one file:
    the worker's database (`prepare`) when there is one, else a database of its own."""

    def __init__(
        self,
        path: Path,
        kind: str,
        window: tuple[date, date],
        contracts: core.ContractTerms | None,
    ) -> None:
        self.kind = kind
        self.names: list[str] = []
        self.types: dict[str, str] = {}
        self.scales: dict[str, int] = {}
        self.text_cells: _TextCells | None = None  # a Parquet file read as text
        if kind == "parquet":
            try:
                self.types, self.scales = _parquet_types(path)
            except Unsupported:
                self.text_cells = _TextCells(path)
        else:
            self.names = csv_header(path)
        self.path, self.with_contracts = path, contracts is not None
        self.spill = tempfile.mkdtemp(prefix=scratch.prefix("ingest"))
        self._spill_held = scratch.hold(self.spill)  # until close: the sweep leaves it alone
        self.connection: Any = None
        self.engine: _Engine | None = None
        try:
            self._connect(window, contracts)
        except BaseException:  # the spill directory is held: let go of it, or nobody will
            self.close()
            raise

    def _connect(self, window: tuple[date, date], contracts: core.ContractTerms | None) -> None:
        engine = _ENGINE
        if engine is not None and engine.take():
            self.engine = engine  # the worker's database, opened once (`prepare`)
            self.connection = engine.session_connection()
        else:  # a database of its own, closed with the session (as before `prepare`)
            self.connection = _connect(self.spill)
        self.parameters: dict[str, Any] = {}
        self.ids_unique = False
        # contract number -> (uscc, contract id), in key order: the groups come out ordered by
        # contract number (`_final`), so the store appends to its (enterprise, contract) index
        self.pairs: list[tuple[str, str]] | None = None
        if contracts is not None:
            self.pairs = sorted(contracts)
            self.connection.register(
                "contract_terms", contract_periods(window, contracts, self.pairs)
            )
            self.connection.execute(_CONTRACTS)
            self.connection.unregister("contract_terms")
            # a batch's contracts are one enterprise's: their ids are (nearly always) unique
            ((unique,),) = self.connection.sql(
                "SELECT count(*) = count(DISTINCT contract_id) FROM contracts"
            ).fetchall()
            self.ids_unique = bool(unique)
        else:
            period = core.claim_period(window, None)
            assert period is not None
            self.parameters.update(lo=period.start, hi=period.end)

    def close(self, failed: bool = False) -> None:
        """Close the connection, remove the session's scratch; with the worker's database,
        drop what the session made there and hand the database back (`failed`: after an
        error, which may have left DuckDB in a state nobody should build on, the database is
        closed and the next session opens a new one)."""
        if self.engine is not None:
            engine, self.engine = self.engine, None
            engine.give_back(self.connection, failed)
        elif self.connection is not None:
            self.connection.close()
        self.connection = None
        shutil.rmtree(self.spill, ignore_errors=True)
        scratch.release(self._spill_held)

    def _refused(self, error: Exception) -> core.BatchRefused:
        what = "Parquet" if self.kind == "parquet" else "CSV"
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        return DuckDBRefused(
            f"不是有效的 {what} 文件 (not a valid {what} file): {error}",
            f"不是有效的 {what} 文件 (not a valid {what} file): {first}",
        )

    def _run(self, sql: str, parameters: dict[str, Any]) -> Iterator[pa.RecordBatch]:
        import duckdb

        try:
            query = self.connection.sql(sql, params=parameters or None)
            # DuckDB 2 names it to_arrow_reader, 1.x fetch_record_batch
            fetch = getattr(query, "to_arrow_reader", None) or query.fetch_record_batch
            yield from fetch(FETCH_ROWS)
        except (duckdb.InvalidInputException, duckdb.ConversionException) as error:
            if self.text_cells is not None and self.text_cells.refused is not None:
                raise self.text_cells.refused from None  # the reference's own words
            raise self._refused(error) from None

    def _statement(self, source: str) -> str:
        return _statement(
            source,
            self.types,
            self.scales,
            self.with_contracts,
            self.ids_unique,
            nullable=self.kind == "parquet" and self.text_cells is None,
        )

    def _source(self) -> str:
        """The rows of the whole file, numbered from 1 in `rn`, for one statement."""
        if self.text_cells is not None:
            self.connection.register("text_cells", self.text_cells.reader())
            return "(SELECT * FROM text_cells)"
        return _source(self.path, self.kind, self.names)

    def groups(self, splits: list[int] | None = None) -> Iterator[pa.RecordBatch]:
        """The aggregates of the clean rows (`keys_ok`), and the number of every other row
        (`slow_row`). With `splits` (a CSV file), from the parts read side by side."""
        if splits:
            self._memory_limit(MEMORY_LIMIT)
            parts = self._parts(splits)
            self._memory_limit(ONE_TABLE_MEMORY_LIMIT)
            return self._run(_final(parts, self.with_contracts), {})
        self._memory_limit(ONE_TABLE_MEMORY_LIMIT)
        groups = f"({self._statement(self._source())})"
        return self._run(_final(groups, self.with_contracts), self.parameters)

    def _memory_limit(self, limit: str) -> None:
        """Set DuckDB's limit for the next statement. Lowering it makes DuckDB evict what it
        holds beyond the new limit; where it cannot, it refuses, and the statement runs under
        the limit it had (more memory, not a failed batch)."""
        import duckdb

        with contextlib.suppress(duckdb.OutOfMemoryException):
            self.connection.execute(f"SET memory_limit = {_literal(limit)}")

    def _parts(self, splits: list[int]) -> str:
        """Read the parts of a CSV file at once, each into a table of its groups, and return
        the SQL that merges them. Raises PartsFailed when a part could not be read whole (the
        caller reads the file in one piece, which gives the refusal its canonical wording).

        Why: row numbers come from a streaming window (DuckDB's CSV reader has no row-number
        column, its Parquet reader has), which keeps a scan on one thread; each part gets its
        own, on its own connection, and the numbers are shifted when merging (`_merged`)."""
        edges = [0, *splits, self.path.stat().st_size]
        feeds: list[_Feed] = []
        queries: list[threading.Thread] = []
        errors: list[BaseException] = []

        def query(index: int, fifo: str, done: threading.Event) -> None:
            try:
                cursor = self.connection.cursor()
                try:
                    source = _source(Path(fifo), "csv", self.names, skip=1 if index == 0 else 0)
                    cursor.execute(
                        f"CREATE TABLE part_{index} AS {self._statement(source)}",
                        self.parameters or None,
                    )
                finally:
                    cursor.close()
            except BaseException as error:  # reported to the caller below
                errors.append(error)
            finally:
                done.set()

        for index in range(len(edges) - 1):
            fifo = os.path.join(self.spill, f"part-{index}.csv")
            try:
                os.mkfifo(fifo)
            except OSError as error:  # a file system without named pipes
                raise PartsFailed(error) from None
            done = threading.Event()
            feeds.append(_Feed(fifo, self.path, edges[index], edges[index + 1], done))
            queries.append(threading.Thread(target=query, args=(index, fifo, done), daemon=True))
        for thread in (*feeds, *queries):
            thread.start()
        for thread in (*queries, *feeds):
            thread.join()
        if errors or not all(feed.complete for feed in feeds):
            raise PartsFailed(errors[0] if errors else "a part was not read whole")
        parts, offset = [], 0
        for index in range(len(feeds)):
            parts.append((f"part_{index}", offset))
            (counted,) = self.connection.sql(
                f"SELECT coalesce(sum(row_count), 0) FROM part_{index}"
            ).fetchall()
            offset += int(counted[0])
        return _merged(parts, self.with_contracts)

    def cells(self, rows: pa.Array, bad_keys: pa.Table | None) -> Iterator[pa.RecordBatch]:
        """The cells (as stored) of the rows numbered `rows`, and of the rows whose key cells
        are among `bad_keys`: a second pass, only when the first left rows to the reference
        path (keeping them in the aggregate would cost memory)."""
        self.connection.register("slow", pa.table({"rn": rows}))
        columns = ", ".join(f'"{c}"' for c in core.COLUMNS)
        source = self._source()
        where = "rn IN (SELECT rn FROM slow)"
        if bad_keys is not None and bad_keys.num_rows:
            self.connection.register("bad_keys", bad_keys)
            match = " AND ".join(f"b.{c} = coalesce(s.\"{c}\", '')" for c in bad_keys.column_names)
            where += f" OR EXISTS (SELECT 1 FROM bad_keys b WHERE {match})"
        # in file order: the reference path refuses the file at the bad row after the first
        # max_errors, so the order decides which rows the refusal's report lists (DuckDB's
        # parallel scan and the joins of the filter hand rows over in no fixed order)
        sql = f"SELECT rn AS slow_row, {columns} FROM {source} s WHERE {where} ORDER BY rn"
        return self._run(sql, {})


class PartsFailed(Exception):
    """A part of a CSV file read side by side failed or was not read whole."""


def ingest_duckdb(
    path: Path,
    kind: str,
    *,
    window: tuple[date, date],
    contracts: core.ContractTerms | None = None,
    max_errors: int = core.DEFAULT_MAX_ERRORS,
) -> core.IngestResult:
    """`consumption.ingest_file`: the same result as `consumption.ingest_reference`."""
    from concurrent.futures import ThreadPoolExecutor

    def reference() -> core.IngestResult:
        return core.ingest_reference(
            path, window=window, contracts=contracts, max_errors=max_errors
        )

    def refused_in_our_terms(refused: DuckDBRefused) -> core.IngestResult:
        # A small file: the reference reads it (its refusal names the line and the cells, or it
        # reads what DuckDB would not). A large one: reading it in Python could outlast the
        # worker's lock, so only its structure is read (line, cells), and failing that DuckDB's
        # first line is given, without its options and our file's path.
        if path.stat().st_size < PARALLEL_MIN_BYTES:
            return reference()
        if kind == "csv":
            core.check_csv_structure(path)
        raise core.BatchRefused(refused.brief) from None

    if kind != "csv":
        try:
            return _ingest(path, kind, window, contracts, max_errors, [], None)[0]
        except DuckDBRefused as refused:
            return refused_in_our_terms(refused)
    splits = csv_splits(path, min(THREADS, MAX_PARTS))
    with ThreadPoolExecutor(max_workers=1) as pool:
        shape = pool.submit(csv_shape, path, splits)
        try:
            result, records = _ingest(
                path, kind, window, contracts, max_errors, splits, shape.result
            )
        except DuckDBRefused as refused:
            return refused_in_our_terms(refused)
        if not shape.result().records_match(records):
            return reference()
    return result


def _ingest(
    path: Path,
    kind: str,
    window: tuple[date, date],
    contracts: core.ContractTerms | None,
    max_errors: int,
    splits: list[int],
    shape: Callable[[], CsvShape] | None,
) -> tuple[core.IngestResult, int]:
    """The result, and how many rows DuckDB read (whatever became of them)."""
    records = 0
    session = _Session(path, kind, window, contracts)
    try:
        periods = core.Periods(window, contracts)
        result = ColumnarResult()
        try:
            groups = session.groups(splits)
            if splits and shape is not None and not shape().splits_hold:
                groups = session.groups()
        except PartsFailed:
            groups = session.groups()
        slow_rows: list[pa.Array] = []
        bad_keys: list[pa.RecordBatch] = []
        key_columns = _string_keys(session.with_contracts)
        for batch in groups:
            records += pc.sum(batch.column("row_count")).as_py() or 0
            slow = pc.is_valid(batch.column("slow_row"))
            keys_ok = batch.column("keys_ok")
            clean = pc.and_(pc.invert(slow), keys_ok)
            result.add_groups(batch.filter(clean))
            slow_rows.append(batch.column("slow_row").filter(slow))
            failed = pc.invert(keys_ok)
            if pc.any(failed).as_py():
                bad_keys.append(batch.filter(failed).select(key_columns))
        rows = pa.concat_arrays(slow_rows) if slow_rows else pa.array([], pa.int64())
        bad = (
            pa.Table.from_batches(bad_keys).group_by(key_columns).aggregate([])
            if bad_keys
            else None
        )
        if len(rows) or bad is not None:
            for batch in session.cells(rows, bad):
                _add_slow_rows(result, batch, periods, max_errors)
    except core.BatchRefused:  # the file's fault (DuckDB's refusal too): the database is sound
        session.close()
        raise
    except BaseException:
        session.close(failed=True)
        raise
    session.close()
    # the rows came in file order (`cells`); a row's own errors keep theirs
    result.errors.sort(key=lambda error: error.row)
    return result, records


# The clean groups a result keeps in memory; beyond this they go to a file (`_GroupBatches`).
# The benchmark's 270,000 groups take 55 MiB.
GROUPS_IN_MEMORY = int(os.environ.get("VOUCHER_INGEST_GROUPS_BYTES", str(64 << 20)))


class _GroupBatches:
    """Record batches of groups, in memory up to GROUPS_IN_MEMORY bytes and beyond that in an
    Arrow IPC stream file, read back one batch at a time on every pass.

    Why: the groups are held from the statement until they are stored, and their number has
    no bound but the file's (2.48 million groups were 600 MiB of batches). With the file, the
    groups an ingest holds in memory are at most GROUPS_IN_MEMORY bytes plus one batch, beside
    DuckDB's `memory_limit` (decision 0010). The file is deleted when the batches are
    (`close`, or when they are collected)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = GROUPS_IN_MEMORY if limit is None else limit
        self.in_memory: list[pa.RecordBatch] = []
        self.held = 0  # bytes in memory
        self.path: str | None = None
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._sink: pa.OSFile | None = None
        self._finalizer: Any = None

    def append(self, batch: pa.RecordBatch) -> None:
        if self.path is not None and self._writer is None:  # a pass closed the file
            raise RuntimeError("groups added after they were read")
        if self._writer is None and self.held + batch.nbytes <= self.limit:
            self.in_memory.append(batch)
            self.held += batch.nbytes
            return
        if self._writer is None:
            self._open(batch.schema)
        assert self._writer is not None
        self._writer.write_batch(batch)

    def _open(self, schema: pa.Schema) -> None:
        import weakref

        handle, self.path = tempfile.mkstemp(prefix=scratch.prefix("groups"), suffix=".arrows")
        os.close(handle)
        held = scratch.hold(self.path)  # until deleted: the sweep leaves it alone
        self._finalizer = weakref.finalize(self, _discard, self.path, held)
        self._sink = pa.OSFile(self.path, "wb")
        self._writer = pa.ipc.new_stream(self._sink, schema)

    def _finish_writing(self) -> None:
        if self._writer is not None:
            self._writer.close()
            assert self._sink is not None
            self._sink.close()
            self._writer = self._sink = None

    def __bool__(self) -> bool:
        return bool(self.in_memory) or self.path is not None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        # what there is now: a pass made before `close` and read after it must not come out
        # short without a word
        return self._pass(list(self.in_memory), self.path)

    def _pass(self, in_memory: list[pa.RecordBatch], path: str | None) -> Iterator[pa.RecordBatch]:
        yield from in_memory
        if path is None:
            return
        if self.path != path:
            raise RuntimeError("the groups were closed during a pass over them")
        self._finish_writing()
        with pa.OSFile(path, "rb") as source:
            yield from pa.ipc.open_stream(source)

    def close(self) -> None:
        self._finish_writing()
        self.in_memory, self.held = [], 0
        if self._finalizer is not None:
            self._finalizer()
        self.path = None


def _discard(path: str, held: int | None) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    scratch.release(held)


class ColumnarResult(core.IngestResult):
    """The DuckDB path's result. Its clean groups stay Arrow record batches until something asks
    for `aggregates` (the dict is then built, once); storing and the summary read the columns
    (`stored_rows`, `stored_csv`, `flat_aggregates`, `totals`): at 270,000 groups, making the
    Aggregate objects cost more than the rest of storing them. Rows of the reference path are
    added through the dict."""

    def __init__(self) -> None:
        self._groups = _GroupBatches()
        self._built: dict[core.Key, core.Aggregate] = {}
        super().__init__()

    @property
    def aggregates(self) -> dict[core.Key, core.Aggregate]:
        if self._groups:
            groups, self._groups = self._groups, _GroupBatches()
            for row in _group_rows(groups):
                aggregate = core.Aggregate(*row[1:])  # the row is in Aggregate's field order
                found = self._built.get(row[0])
                if found is None:
                    self._built[row[0]] = aggregate
                else:
                    found.add(aggregate)
            groups.close()
        return self._built

    @aggregates.setter
    def aggregates(self, value: dict[core.Key, core.Aggregate]) -> None:
        self._built = value

    def add_groups(self, batch: pa.RecordBatch) -> None:
        """Clean groups of the statement: each key comes once."""
        if batch.num_rows:
            self._groups.append(batch)
            self.rows_read += pc.sum(batch.column("row_count")).as_py()
            self.rows_prorated += pc.sum(batch.column("prorated_rows")).as_py()

    def _columnar(self) -> bool:
        """Whether every aggregate is still in the columns (none in the dict yet)."""
        return bool(self._groups) and not self._built

    def flat_aggregates(self) -> Iterator[core.FlatAggregate]:
        if not self._columnar():
            return super().flat_aggregates()  # builds the dict first, if need be
        return _group_rows(self._groups)

    def stored_rows(self, batch_id: int) -> Iterator[tuple[Any, ...]]:
        if not self._columnar():
            return super().stored_rows(batch_id)
        return _stored_rows(self._groups, batch_id)

    def stored_csv(self, batch_id: int) -> Iterator[bytes | memoryview]:
        if not self._columnar():
            return super().stored_csv(batch_id)
        return _stored_csv(self._groups, batch_id)

    def stored_binary(self, batch_id: int) -> Iterator[bytes | memoryview] | None:
        """`stored_csv`'s rows in PostgreSQL's binary COPY format, columns in the order of
        `core.STORED_BINARY_COLUMNS`; None when the text is needed instead: a result with
        aggregates in its dict, or an integer sum beyond 64 bits (as text the database
        refuses it, as before)."""
        if not self._columnar() or not all(map(_fits_int64, self._groups)):
            return None
        return _stored_binary(self._groups, batch_id)

    def totals(self) -> tuple[int, int, int]:
        if not self._columnar():
            return super().totals()
        count = compute = other = 0
        for batch in self._groups:
            amounts = batch.column("amount_fen")
            is_compute = pc.equal(batch.column("resource_type"), "compute")
            inside = pc.sum(amounts.filter(is_compute)).as_py() or 0
            compute += int(inside)
            other += int(pc.sum(amounts).as_py() or 0) - int(inside)
            count += batch.num_rows
        return count, compute, other


_KEYS = ("enterprise_uscc", "contract_id", "month", "resource_type", "device_model", "unit")
_COUNTS = ("row_count", "prorated_rows", "first_row", "last_row", "row_sum")
# A batch of groups' columns in the order of the stored rows (`IngestResult.stored_rows`, after
# the batch: `actions.batches._AGGREGATE_COLUMNS`)
_STORED = (
    *_KEYS,
    "amount_fen",
    "quantity_text",
    "outside_fen",
    *_COUNTS,
    "first_second",
    "last_second",
)


def _stored_rows(groups: Iterable[pa.RecordBatch], batch_id: int) -> Iterator[tuple[Any, ...]]:
    """`IngestResult.stored_rows` from the columns the statement made them in (`_final`): a
    list per column and one C-level zip per batch of groups."""
    for batch in groups:
        yield from zip(
            itertools.repeat(batch_id, batch.num_rows),
            *(_values(batch.column(name)) for name in _STORED),
            strict=True,
        )


def _stored_csv(groups: Iterable[pa.RecordBatch], batch_id: int) -> Iterator[bytes | memoryview]:
    """`IngestResult.stored_csv` from the columns: Arrow's CSV writer (C++) writes each batch of
    groups, in the stored rows' order, as the text PostgreSQL's COPY reads, with no Python per
    row (the batch id a column of its own)."""
    import pyarrow.csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in groups:
        columns = [batch.column(name) for name in _STORED]
        table = pa.table(
            [pa.repeat(pa.scalar(batch_id, pa.int64()), batch.num_rows), *map(_exact, columns)],
            names=["batch_id", *_STORED],
        )
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, options)
        yield memoryview(sink.getvalue())


# The groups' columns of the binary COPY's fields (`core.STORED_BINARY_COLUMNS`): the eight
# 64-bit integers that are never null first, so that each row's field count and those fields
# are one fixed-width record made at once by numpy, then the seconds, then the texts.
_BINARY_INTEGERS = ("amount_fen", "outside_fen", *_COUNTS)  # after the batch id
_BINARY_NULLABLE = ("first_second", "last_second")
_BINARY_TEXTS = (*_KEYS, "quantity_text")
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
COPY_BINARY_TRAILER = b"\xff\xff"
_NULL_FIELD = pa.scalar(b"\xff\xff\xff\xff", pa.binary())  # a field of length -1
_FIXED = np.dtype(
    [("fields", ">i2")]
    + [
        (f"{part}{index}", kind)
        for index in range(8)
        for part, kind in (("l", ">i4"), ("v", ">i8"))
    ]
)


def _fits_int64(batch: pa.RecordBatch) -> bool:
    """Whether every integer sum of a batch of groups fits the table's 64-bit columns."""
    for name in ("amount_fen", "outside_fen", "row_sum"):
        column = batch.column(name)
        if pa.types.is_decimal(column.type) and column.null_count < len(column):
            low, high = (value.as_py() for value in pc.min_max(column).values())
            if not -(2**63) <= int(low) <= int(high) < 2**63:
                return False
    return True


def _fixed_width(records: np.ndarray, width: int) -> pa.Array:
    """numpy records of `width` bytes each as an Arrow binary array, one value per record."""
    offsets = np.arange(0, (len(records) + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), len(records), [None, pa.py_buffer(offsets), pa.py_buffer(records)]
    )


def _stored_binary(groups: Iterable[pa.RecordBatch], batch_id: int) -> Iterator[bytes | memoryview]:
    """`stored_csv`'s rows as PostgreSQL's binary COPY (header, rows, trailer), made by numpy
    and Arrow a column at a time: the server then takes each integer as its 8 bytes and each
    text as its bytes instead of parsing the CSV text of every field (decision 0046). The
    values are the same; a text still goes through its column's checks (length, encoding)."""
    yield COPY_BINARY_HEADER
    for batch in groups:
        count = batch.num_rows
        if not count:
            continue
        fixed = np.empty(count, dtype=_FIXED)
        fixed["fields"] = len(core.STORED_BINARY_COLUMNS)
        values = [np.full(count, batch_id, dtype=np.int64)]
        values += [_exact(batch.column(name)).to_numpy() for name in _BINARY_INTEGERS]
        for index, value in enumerate(values):
            fixed[f"l{index}"] = 8
            fixed[f"v{index}"] = value
        fields = [_fixed_width(fixed, _FIXED.itemsize)]
        for name in _BINARY_NULLABLE:
            column = batch.column(name)
            record = np.empty(count, dtype=[("l", ">i4"), ("v", ">i8")])
            record["l"] = 8
            record["v"] = column.fill_null(0).to_numpy()
            fields.append(pc.if_else(column.is_valid(), _fixed_width(record, 12), _NULL_FIELD))
        for name in _BINARY_TEXTS:
            column = batch.column(name)
            if not pa.types.is_string(column.type):
                column = pc.cast(column, pa.string())
            lengths = pc.binary_length(column).fill_null(0).to_numpy().astype(">i4")
            text = pc.binary_join_element_wise(
                _fixed_width(lengths, 4), column.cast(pa.binary()), b""
            )
            fields.append(text.fill_null(_NULL_FIELD))  # a null text: a NULL field
        rows = pc.binary_join_element_wise(*fields, b"")
        offsets = np.frombuffer(rows.buffers()[1], np.int32, count + 1, rows.offset * 4)
        yield memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
    yield COPY_BINARY_TRAILER


def _exact(column: pa.Array) -> pa.Array:
    """An integer sum as int64 where it fits (it always does for real files); beyond that as
    its exact decimal text, which the database refuses for its 64-bit column, as it refuses
    the Python int `_integers` gives."""
    if not pa.types.is_decimal(column.type):
        return column
    try:
        return pc.cast(column, pa.int64())
    except pa.ArrowInvalid:
        return pc.cast(column, pa.string())


def _values(column: pa.Array) -> list[Any]:
    return _integers(column) if pa.types.is_decimal(column.type) else column.to_pylist()


def _group_rows(groups: Iterable[pa.RecordBatch]) -> Iterator[core.FlatAggregate]:
    """The statement's clean groups as flat rows, in Aggregate's field order."""
    for batch in groups:
        columns = {name: batch.column(name) for name in batch.schema.names}
        keys = zip(*(columns[name].to_pylist() for name in _KEYS), strict=True)
        yield from zip(
            keys,
            *(_integers(columns[name]) for name in ("amount_fen", "quantity_micro", "outside_fen")),
            *(_integers(columns[name]) for name in _COUNTS),
            columns["first_second"].to_pylist(),
            columns["last_second"].to_pylist(),
            strict=True,
        )


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
    periods: core.Periods,
    max_errors: int,
) -> None:
    """Rows the statement did not vouch for: the reference parser reports or adds them."""
    cells = core.as_text(batch).to_pylist()
    for row_number, values in zip(batch.column("slow_row").to_pylist(), cells, strict=True):
        result.rows_read += 1
        core.take_row(result, values, row_number, periods, max_errors)
