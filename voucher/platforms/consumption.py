"""Consumption rows of a platform -> per enterprise, contract and month aggregates. No Django.

The rules (docs/platform-api.md, docs/decisions/0004-consumption-ingest.md):

- Times are Beijing wall-clock (UTC+8, no daylight saving), `YYYY-MM-DD HH:MM:SS` or with a
  `T`; a row covers the half-open interval [start, end) and must last at least one second.
- The claim period of a row is the round's subsidy window ∩ the contract's validity, both whole
  days: [first day 00:00:00, day after the last day 00:00:00).
- A row inside the period counts whole; one outside counts nothing; one that straddles an edge
  counts `amount × seconds inside / seconds of the row`, rounded half-up to the fen in integer
  fen (`voucher.policy.money.pro_rate`, the RULES.md rounding, with seconds for days). Its
  quantity is pro-rated the same way to the millionth.
- A row belongs to the month (Beijing) of the first second it counts for.
- Only `compute` rows become delivery lines; the other resource types are aggregated and kept
  (the record of what the platform sent) but deliver nothing (COMPUTE_ONLY).
- A bad row is reported (row number, column, message) and skipped; the rest of the batch is
  processed. A file whose header is wrong, that is not CSV/Parquet, or that has more than
  `max_errors` bad rows is refused whole: nothing of it is kept.

Two readers give the same result. `ingest_file` is the engine, DuckDB, for every file (one
statement per file, exact integer pro-rating, under a memory limit:
`duck_ingest`, docs/decisions/0006-consumption-ingest-duckdb.md and
0013-one-ingest-engine.md). `ingest_reference` (`ingest_rows` over a file) is the reference,
pure Python one row at a time: the tests compare the engine with it, the engine sends it the
rows it does not vouch for, and it words the refusal of a small file DuckDB refuses. Memory is
bounded by the aggregates and a fixed working set, never by the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from voucher.core.spreadsheets import row as safe_row
from voucher.policy import money
from voucher.policy import uscc as uscc_codes
from voucher.policy.money import pro_rate

if TYPE_CHECKING:
    import pyarrow as pa

COLUMNS = (
    "enterprise_uscc",
    "contract_id",
    "order_id",
    "resource_type",
    "device_model",
    "start",
    "end",
    "quantity",
    "unit",
    "unit_price",
    "amount",
)
RESOURCE_TYPES = ("compute", "storage", "network", "security")
MAX_ID_LENGTH = 64
QUANTITY_PLACES = 6
DEFAULT_MAX_ERRORS = 10_000
NO_DEVICE = "算力（compute）行须填写设备型号 (device_model is required for a compute row)"

_EPOCH = datetime(1970, 1, 1)
_DAY = 86_400
_USCC_RE = re.compile(f"[{re.escape(uscc_codes.ALPHABET)}]{{18}}")
# ASCII digits only (re.ASCII), as the engine's [0-9]: an Arabic-Indic or full-width digit is
# refused as "not an amount / a time" everywhere, never read as a number by one path and refused
# as "no such time" by another
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}", re.ASCII)
_MONEY_RE = re.compile(rf"\d{{1,{money.INTEGER_DIGITS}}}(\.\d{{1,2}})?", re.ASCII)  # one limit
_QUANTITY_RE = re.compile(r"\d{1,14}(\.\d{1,6})?", re.ASCII)


class BatchRefused(Exception):
    """The whole file is refused (wrong header, unreadable, too many bad rows). `errors`: the
    bad rows found before a refusal for too many of them, for the platform to see what is wrong
    (the rows are otherwise not read to the end)."""

    def __init__(self, message: str, errors: Sequence[RowError] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1 = the first data row (line 2 of a CSV file)
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class Period:
    """A claim period in Beijing seconds: [start, end)."""

    start: int
    end: int


def day_start(day: date) -> int:
    """Seconds of `day` 00:00:00 Beijing on the naive epoch every row is read on."""
    return (day - _EPOCH.date()).days * _DAY


EMPTY = Period(0, 0)  # a contract valid on no day of the window: every row is outside


def period_of(first_day: date, last_day: date) -> Period:
    return Period(day_start(first_day), day_start(last_day) + _DAY)


def claim_period(window: tuple[date, date], validity: tuple[date, date] | None) -> Period | None:
    start, end = window
    if validity is not None:
        start, end = max(start, validity[0]), min(end, validity[1])
    if end < start:
        return None
    return period_of(start, end)


def seconds_to_datetime(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def month_of(seconds: int) -> str:
    moment = seconds_to_datetime(seconds)
    return f"{moment.year:04d}-{moment.month:02d}"


# --- one row --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    uscc: str
    contract_id: str
    order_id: str
    resource_type: str
    device: str
    start: int  # seconds
    end: int
    quantity_micro: int  # quantity × 10^6
    unit: str
    unit_price: Decimal
    amount_fen: int


def _seconds(text: str) -> int:
    moment = datetime.strptime(text.replace("T", " ", 1), "%Y-%m-%d %H:%M:%S")
    return int((moment - _EPOCH).total_seconds())


def _scaled(text: str, places: int) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 10**places + int((fraction + "0" * places)[:places] or 0)


def parse_row(values: Mapping[str, Any], row_number: int) -> Row | list[RowError]:
    """One row as read (strings, or None for an empty cell) -> a Row, or every error in it."""
    errors: list[RowError] = []

    def text(column: str) -> str:
        value = values.get(column)
        return "" if value is None else str(value).strip()

    def fail(column: str, message: str) -> None:
        errors.append(RowError(row_number, column, message))

    uscc = text("enterprise_uscc").upper()
    if not _USCC_RE.fullmatch(uscc):
        fail(
            "enterprise_uscc", f"统一社会信用代码须为18位 0-9A-HJ-NPQRTUWXY: {uscc!r} (not a USCC)"
        )
    identifiers = {}
    for column in ("contract_id", "order_id", "unit"):
        value = text(column)
        if not value:
            fail(column, "不能为空 (must not be empty)")
        elif len(value) > MAX_ID_LENGTH:
            fail(column, f"最多 {MAX_ID_LENGTH} 个字符 (too long)")
        identifiers[column] = value
    device = text("device_model")
    if len(device) > MAX_ID_LENGTH:
        fail("device_model", f"最多 {MAX_ID_LENGTH} 个字符 (too long)")
    resource = text("resource_type")
    if resource not in RESOURCE_TYPES:
        fail(
            "resource_type",
            f"资源类型须为 {'/'.join(RESOURCE_TYPES)} 之一: {resource!r} (unknown resource type)",
        )
    elif resource == "compute" and not device:
        # RULES.md, Fail closed: without a device neither the flagged-device list nor the
        # unit-price bands can apply
        fail("device_model", NO_DEVICE)
    moments: dict[str, int] = {}
    for column in ("start", "end"):
        value = text(column)
        if not _TIME_RE.fullmatch(value):
            fail(column, f"时间须为 YYYY-MM-DD HH:MM:SS（北京时间）: {value!r} (not a time)")
            continue
        try:
            moments[column] = _seconds(value)
        except ValueError:
            fail(column, f"不存在的时间: {value!r} (no such time)")
    if len(moments) == 2 and moments["end"] <= moments["start"]:
        fail("end", "结束时间须晚于开始时间 (end is not after start)")
    numbers: dict[str, str] = {}
    for column, pattern, what in (
        ("quantity", _QUANTITY_RE, "数量须为非负数，最多6位小数 (not a quantity)"),
        ("unit_price", _QUANTITY_RE, "单价须为非负数，最多6位小数 (not a unit price)"),
        (
            "amount",
            _MONEY_RE,
            f"金额须为非负的元，最多两位小数，整数部分最多 {money.INTEGER_DIGITS} 位 (not an amount)",
        ),
    ):
        value = text(column)
        if not pattern.fullmatch(value):
            fail(column, f"{what}: {value!r}")
        numbers[column] = value
    if errors:
        return errors
    return Row(
        uscc=uscc,
        contract_id=identifiers["contract_id"],
        order_id=identifiers["order_id"],
        resource_type=resource,
        device=device,
        start=moments["start"],
        end=moments["end"],
        quantity_micro=_scaled(numbers["quantity"], QUANTITY_PLACES),
        unit=identifiers["unit"],
        unit_price=Decimal(numbers["unit_price"]),
        amount_fen=_scaled(numbers["amount"], 2),
    )


# --- aggregates -------------------------------------------------------------------------------

# (uscc, contract id, month "YYYY-MM", resource type, device, unit)
Key = tuple[str, str, str, str, str, str]
# (key, amount_fen, quantity_micro, outside_fen, row_count, prorated_rows, first_row, last_row,
#  row_sum, first_second, last_second): an Aggregate's fields in order, flat
FlatAggregate = tuple[Key, int, int, int, int, int, int, int, int, int | None, int | None]


@dataclass(slots=True)
class Aggregate:
    """What the rows of one key add up to, and which rows they were.

    `amount_fen`/`quantity_micro` count the seconds inside the claim period; `outside_fen` the
    rest. Traceability: the rows are those of the stored file with this key; `row_count`,
    `first_row`, `last_row` and `row_sum` (Σ row numbers) check a re-trace (`trace_rows`).
    """

    amount_fen: int = 0
    quantity_micro: int = 0
    outside_fen: int = 0
    row_count: int = 0
    prorated_rows: int = 0
    first_row: int = 0
    last_row: int = 0
    row_sum: int = 0
    first_second: int | None = None  # first second counted inside the period
    last_second: int | None = None  # last second counted (end - 1)

    def add_rows(self, *, count: int, first: int, last: int, total: int) -> None:
        self.first_row = first if self.row_count == 0 else min(self.first_row, first)
        self.last_row = max(self.last_row, last)
        self.row_count += count
        self.row_sum += total

    def add(self, other: Aggregate) -> None:
        """Another aggregate of the same key (another batch's, or rows read another way)."""
        self.amount_fen += other.amount_fen
        self.quantity_micro += other.quantity_micro
        self.outside_fen += other.outside_fen
        self.prorated_rows += other.prorated_rows
        self.add_span(other.first_second, other.last_second)
        self.add_rows(
            count=other.row_count, first=other.first_row, last=other.last_row, total=other.row_sum
        )

    def add_span(self, first_second: int | None, last_second: int | None) -> None:
        if first_second is not None:
            self.first_second = (
                first_second if self.first_second is None else min(self.first_second, first_second)
            )
        if last_second is not None:
            self.last_second = (
                last_second if self.last_second is None else max(self.last_second, last_second)
            )


# The aggregate table's columns in the order a binary COPY sends them (`IngestResult.
# stored_binary`): the 64-bit integers that are never null first, then the seconds, the texts.
STORED_BINARY_COLUMNS = (
    "batch_id",
    "amount",
    "outside_amount",
    "row_count",
    "prorated_rows",
    "first_row",
    "last_row",
    "row_sum",
    "first_second",
    "last_second",
    "enterprise_uscc",
    "contract_id",
    "month",
    "resource_type",
    "device",
    "unit",
    "quantity",
)


@dataclass
class IngestResult:
    aggregates: dict[Key, Aggregate] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0
    rows_prorated: int = 0

    def aggregate(self, key: Key) -> Aggregate:
        found = self.aggregates.get(key)
        if found is None:
            found = self.aggregates[key] = Aggregate()
        return found

    def reject(self, errors: Sequence[RowError], max_errors: int) -> None:
        """A bad row, reported; the one after the first `max_errors` refuses the file, whose
        report is those first `max_errors` bad rows (the rows are taken in file order)."""
        self.rows_rejected += 1
        if self.rows_rejected > max_errors:
            raise BatchRefused(
                f"超过 {max_errors} 行有错误，整批拒收 (more than {max_errors} bad rows: batch refused)",
                errors=sorted(self.errors, key=lambda error: error.row),
            )
        self.errors.extend(errors)

    def flat_aggregates(self) -> Iterator[FlatAggregate]:
        """Every aggregate as one flat tuple in Aggregate's field order (the DuckDB path's
        result makes them from its columns, without Aggregate objects:
        `duck_ingest.ColumnarResult`)."""
        for key, a in self.aggregates.items():
            yield (
                key,
                a.amount_fen,
                a.quantity_micro,
                a.outside_fen,
                a.row_count,
                a.prorated_rows,
                a.first_row,
                a.last_row,
                a.row_sum,
                a.first_second,
                a.last_second,
            )

    def stored_rows(self, batch_id: int) -> Iterator[tuple[Any, ...]]:
        """The aggregates as rows of the aggregate table (`actions.batches._AGGREGATE_COLUMNS`): the
        batch, the key, the amounts in fen and the quantity as decimal text (the columns of
        voucher.core.columns, exact on SQLite and PostgreSQL), the counts."""
        for key, amount, quantity, outside, *counts in self.flat_aggregates():
            yield (batch_id, *key, amount, str(micro_to_decimal(quantity)), outside, *counts)

    def stored_csv(self, batch_id: int) -> Iterator[bytes | memoryview]:
        """`stored_rows` as CSV text in chunks, the form PostgreSQL's `COPY … (FORMAT csv)`
        reads: every text quoted (so that an empty device stays '' and not NULL), a missing
        second an empty field (NULL), integers as digits. The DuckDB path's result writes its
        columns with Arrow's CSV writer (`duck_ingest.ColumnarResult`); this is the same text
        from the rows, for a result with aggregates in its dict."""
        lines: list[str] = []
        for row in self.stored_rows(batch_id):
            lines.append(",".join(map(_csv_field, row)) + "\n")
            if len(lines) == 10_000:
                yield "".join(lines).encode()
                lines = []
        if lines:
            yield "".join(lines).encode()

    def stored_binary(self, batch_id: int) -> Iterator[bytes | memoryview] | None:
        """The rows in PostgreSQL's binary COPY format, columns in STORED_BINARY_COLUMNS'
        order, where a result makes them without Python per row (the DuckDB path's:
        `duck_ingest.ColumnarResult`); None: store `stored_csv` instead."""
        return None

    def totals(self) -> tuple[int, int, int]:
        """(aggregates, amount of compute in fen, amount of everything else in fen)."""
        compute = sum(a.amount_fen for k, a in self.aggregates.items() if k[3] == "compute")
        other = sum(a.amount_fen for k, a in self.aggregates.items() if k[3] != "compute")
        return len(self.aggregates), compute, other

    def summary(self) -> dict[str, Any]:
        count, compute, other = self.totals()
        return {
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
            "rows_prorated": self.rows_prorated,
            "aggregates": count,
            # compute inside the claim periods: what the delivery lines add up to
            "amount": str(fen_to_yuan(compute)),
            "other_amount": str(fen_to_yuan(other)),
        }


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)


def fen_to_yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def micro_to_decimal(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-QUANTITY_PLACES)


ContractTerms = Mapping[tuple[str, str], tuple[date, date]]


class Periods:
    """Claim period per (uscc, contract); None when the contract is not valid in the window."""

    def __init__(self, window: tuple[date, date], contracts: ContractTerms | None) -> None:
        self.window = window
        self.contracts = contracts
        self.cache: dict[tuple[str, str], Period] = {}

    def known(self, uscc: str, contract_id: str) -> bool:
        return self.contracts is None or (uscc, contract_id) in self.contracts

    def enterprises(self) -> frozenset[str]:
        """The enterprises the contracts belong to (a batch's: one)."""
        return frozenset(uscc for uscc, _ in self.contracts or ())

    def get(self, uscc: str, contract_id: str) -> Period:
        key = (uscc, contract_id)
        found = self.cache.get(key)
        if found is None:
            validity = None if self.contracts is None else self.contracts[key]
            found = self.cache[key] = claim_period(self.window, validity) or EMPTY
        return found


def _unknown_contract(row_number: int, row: Row, periods: Periods) -> RowError:
    enterprises = periods.enterprises()
    if enterprises and row.uscc not in enterprises:
        # the contract may well exist: the row names another enterprise than the batch's
        return RowError(
            row_number,
            "enterprise_uscc",
            f"该行的企业 {row.uscc} 不是本批次的企业 {'、'.join(sorted(enterprises))} "
            "(the row's enterprise is not the batch's)",
        )
    return RowError(
        row_number,
        "contract_id",
        f"该企业没有提交编号为 {row.contract_id!r} 的合同 (no such contract for this enterprise)",
    )


def cut(row: Row, period: Period) -> tuple[Key, int, int]:
    """The key of a row and the seconds [inside_start, inside_end) it counts for (maybe none)."""
    inside_start, inside_end = max(row.start, period.start), min(row.end, period.end)
    if period.end <= period.start or inside_end <= inside_start:
        inside_start = inside_end = row.start
    month = month_of(inside_start)
    key = (row.uscc, row.contract_id, month, row.resource_type, row.device, row.unit)
    return key, inside_start, inside_end


def add_row(result: IngestResult, row: Row, row_number: int, period: Period) -> None:
    """Cut one valid row to its claim period and add it to its aggregate (exact)."""
    key, inside_start, inside_end = cut(row, period)
    aggregate = result.aggregate(key)
    inside, duration = inside_end - inside_start, row.end - row.start
    if inside == 0:
        aggregate.outside_fen += row.amount_fen
    else:
        if inside == duration:
            amount, quantity = row.amount_fen, row.quantity_micro
        else:
            # pro_rate works in fen of its Decimal: hand it fen (or micro-units) as hundredths
            amount = int(pro_rate(Decimal(row.amount_fen).scaleb(-2), inside, duration).scaleb(2))
            quantity = int(
                pro_rate(Decimal(row.quantity_micro).scaleb(-2), inside, duration).scaleb(2)
            )
            aggregate.prorated_rows += 1
            result.rows_prorated += 1
        aggregate.amount_fen += amount
        aggregate.quantity_micro += quantity
        aggregate.outside_fen += row.amount_fen - amount
        aggregate.add_span(inside_start, inside_end - 1)
    aggregate.add_rows(count=1, first=row_number, last=row_number, total=row_number)


def ingest_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    window: tuple[date, date],
    contracts: ContractTerms | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    result: IngestResult | None = None,
    first_row: int = 1,
) -> IngestResult:
    """The reference implementation: one row at a time, exact, memory bounded by the aggregates."""
    result = result if result is not None else IngestResult()
    periods = Periods(window, contracts)
    for row_number, values in enumerate(rows, start=first_row):
        result.rows_read += 1
        take_row(result, values, row_number, periods, max_errors)
    return result


def take_row(
    result: IngestResult,
    values: Mapping[str, Any],
    row_number: int,
    periods: Periods,
    max_errors: int,
) -> None:
    """One row through the reference parser: reported when a cell is bad or its contract was
    not submitted, else added (the engine sends here every row it does not vouch for)."""
    parsed = parse_row(values, row_number)
    if isinstance(parsed, list):
        result.reject(parsed, max_errors)
    elif not periods.known(parsed.uscc, parsed.contract_id):
        result.reject([_unknown_contract(row_number, parsed, periods)], max_errors)
    else:
        add_row(result, parsed, row_number, periods.get(parsed.uscc, parsed.contract_id))


# --- files ------------------------------------------------------------------------------------


def check_header(names: Sequence[str]) -> None:
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS]
    duplicated = sorted({c for c in names if list(names).count(c) > 1})
    problems = []
    if missing:
        problems.append(f"缺少列 (missing columns): {', '.join(missing)}")
    if unknown:
        problems.append(f"不认识的列 (unknown columns): {', '.join(unknown)}")
    if duplicated:
        problems.append(f"重复的列 (duplicated columns): {', '.join(duplicated)}")
    if problems:
        raise BatchRefused("; ".join(problems))


def csv_dict_rows(stream: IO[str]) -> Iterator[dict[str, str]]:
    header, records = _csv_records(stream)
    for values in records:
        yield dict(zip(header, values, strict=True))


def _csv_records(stream: IO[str]) -> tuple[list[str], Iterator[list[str]]]:
    """The header, and the records as lists of cells: refused (BatchRefused) where the file is
    not a CSV file of the format (no header, a wrong one, a line of the wrong width)."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise BatchRefused("空文件，没有表头 (empty file: no header)") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    check_header(header)
    width = len(header)

    def records() -> Iterator[list[str]]:
        try:
            for values in reader:
                if not values:
                    continue  # a blank line is no row (editors and spreadsheets end files so)
                if len(values) != width:
                    raise BatchRefused(
                        f"第 {reader.line_num} 行有 {len(values)} 个单元格，应为 {width} 个 "
                        f"(line {reader.line_num}: {len(values)} cells, expected {width})"
                    )
                yield values
        except csv.Error as error:
            raise BatchRefused(f"不是有效的 CSV 文件 (not a valid CSV file): {error}") from None

    return header, records()


def check_csv_structure(path: Path) -> None:
    """Read a CSV file's structure only (encoding, header, cells per line), as the reference
    reads it, without parsing a cell: BatchRefused names what is wrong, in the platform's terms.
    Used where DuckDB refused a large file with a message of its own."""
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            _, records = _csv_records(stream)
            for _values in records:
                pass
    except UnicodeDecodeError:
        raise BatchRefused("CSV 文件须为 UTF-8 编码 (CSV must be UTF-8)") from None


# Parquet is read with pyarrow, a reader independent of the engine's. It is imported where it
# is used: the web processes import this module for its rules and never read a file.
PARQUET_BATCH_ROWS = 262_144


def parquet_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """Record batches of the documented columns of a Parquet file, as stored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise BatchRefused(f"不是有效的 Parquet 文件 (not a valid Parquet file): {error}") from None
    check_header(parquet.schema_arrow.names)
    try:
        yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=list(COLUMNS))
    except (pa.ArrowInvalid, OSError) as error:
        raise BatchRefused(f"Parquet 文件无法读取 (unreadable Parquet): {error}") from None


def as_text(batch: pa.RecordBatch) -> pa.Table:
    """Every documented column of `batch` as the text the reference parses, '' for an empty
    cell: a Parquet file's typed cells (and the cells the engine hands back, as DuckDB holds
    them) read as a CSV file's. BatchRefused for a column type no cell of which is accepted."""
    import pyarrow as pa

    return pa.table({name: _text_column(batch.column(name), name) for name in COLUMNS})


def _text_column(column: pa.Array, name: str) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

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
    raise BatchRefused(f"列 {name} 的类型 {kind} 不可接受：{why} (column type not accepted)")


def _parquet_dict_rows(path: Path) -> Iterator[dict[str, Any]]:
    for batch in parquet_batches(path):
        yield from as_text(batch).to_pylist()


def detect_kind(path: Path) -> str:
    with path.open("rb") as stream:
        head = stream.read(4)
    return "parquet" if head == b"PAR1" else "csv"


def ingest_reference(
    path: Path,
    *,
    window: tuple[date, date],
    contracts: ContractTerms | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> IngestResult:
    """The reference over a CSV (UTF-8) or Parquet file, streamed: `ingest_rows`."""
    if detect_kind(path) == "parquet":
        return ingest_rows(
            _parquet_dict_rows(path), window=window, contracts=contracts, max_errors=max_errors
        )
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            return ingest_rows(
                csv_dict_rows(stream), window=window, contracts=contracts, max_errors=max_errors
            )
    except UnicodeDecodeError:
        raise BatchRefused("CSV 文件须为 UTF-8 编码 (CSV must be UTF-8)") from None


def ingest_file(
    path: Path,
    *,
    window: tuple[date, date],
    contracts: ContractTerms | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> IngestResult:
    """A CSV (UTF-8) or Parquet file, streamed, by the engine (DuckDB): the reference's result."""
    # Imported here, not at the top (docs/decisions/0013-one-ingest-engine.md): the engine
    # builds on this module (its result is an IngestResult, its refusals BatchRefused, its
    # leftover rows go to `take_row`), so it imports this one; and the web processes import
    # this module for its rules alone, without loading pyarrow (50 MB and 0.3-0.5 s of import
    # per process), which only the worker that ingests needs.
    from voucher.platforms import duck_ingest

    return duck_ingest.ingest_duckdb(
        path, detect_kind(path), window=window, contracts=contracts, max_errors=max_errors
    )


def prepare() -> None:
    """Pay the engine's fixed costs now, once per process: the worker calls this when it starts
    (`duck_ingest.prepare`: imports, and one DuckDB database for all its batches)."""
    from voucher.platforms import duck_ingest

    duck_ingest.prepare()


def release() -> None:
    """Let go of what `prepare` holds (a worker that stops)."""
    from voucher.platforms import duck_ingest

    duck_ingest.release()


# --- delivery lines and traceability ------------------------------------------------------------


def _unit_price(amount_fen: int, quantity_micro: int) -> Decimal:
    """The average unit price, descriptive only (the engine computes nothing from it)."""
    if quantity_micro == 0:
        return Decimal("0")
    return (
        Decimal(amount_fen) * Decimal(10**QUANTITY_PLACES) / Decimal(100 * quantity_micro)
    ).quantize(Decimal(1).scaleb(-QUANTITY_PLACES), rounding=ROUND_HALF_UP)


def delivery_lines(
    aggregates: Mapping[Key, Aggregate], uscc: str, contract_id: str
) -> list[dict[str, str]]:
    """The interchange-format delivery lines of one contract: compute only, one per month (and
    device and unit), dated by the first and last second they count for."""
    lines = []
    for key in sorted(aggregates):
        k_uscc, k_contract, _month, resource, device, unit = key
        aggregate = aggregates[key]
        if (k_uscc, k_contract) != (uscc, contract_id) or resource != "compute":
            continue
        if aggregate.first_second is None or aggregate.last_second is None:
            continue  # nothing inside the claim period
        line = {
            "start": seconds_to_datetime(aggregate.first_second).date().isoformat(),
            "end": seconds_to_datetime(aggregate.last_second).date().isoformat(),
            "service": "compute",
            "quantity": str(micro_to_decimal(aggregate.quantity_micro)),
            "unit": unit,
            "unit_price": str(_unit_price(aggregate.amount_fen, aggregate.quantity_micro)),
            "amount": str(fen_to_yuan(aggregate.amount_fen)),
        }
        if device:
            line["device"] = device
        lines.append(line)
    return lines


def trace_rows(
    path: Path, key: Key, *, window: tuple[date, date], contracts: ContractTerms | None = None
) -> Iterator[tuple[int, str]]:
    """(row number, order id) of every valid row of the stored file that made `key`.

    Re-reads the file with the reference parser; the count and Σ row numbers equal the
    aggregate's (a test checks it), so a reviewer can list the orders behind any figure.
    """
    periods = Periods(window, contracts)
    if detect_kind(path) == "parquet":
        for number, values in enumerate(_parquet_dict_rows(path), start=1):
            yield from _match(values, number, key, periods)
        return
    with path.open(encoding="utf-8", newline="") as stream:
        for number, values in enumerate(csv_dict_rows(stream), start=1):
            yield from _match(values, number, key, periods)


def _match(
    values: Mapping[str, Any], number: int, key: Key, periods: Periods
) -> Iterator[tuple[int, str]]:
    parsed = parse_row(values, number)
    if isinstance(parsed, list) or (parsed.uscc, parsed.contract_id) != key[:2]:
        return
    if not periods.known(parsed.uscc, parsed.contract_id):
        return
    if cut(parsed, periods.get(parsed.uscc, parsed.contract_id))[0] == key:
        yield number, parsed.order_id


def file_sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


# A message quotes the bad cell; a cell of 200 KB would make every such line of the report as
# long. The start of the cell says what is wrong with it.
REPORT_MESSAGE_CHARS = 500


def errors_csv(errors: Iterable[RowError]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "line", "column", "message"])
    for error in errors:
        message = error.message
        if len(message) > REPORT_MESSAGE_CHARS:
            message = message[:REPORT_MESSAGE_CHARS] + "…"
        # the column and the message quote the platform's file: never a formula in Excel
        writer.writerow(safe_row([error.row, error.row + 1, error.column, message]))
    return out.getvalue()
