"""Import registry files (CSV or Excel): streamed, checked row by row, idempotent.

Files (docs/registry-import.md): `companies` (uscc, name[, status]), `shareholdings`
(holder, held, ratio[, source, as_of]) and `officers` (person, company, role), each as
`.csv` (UTF-8, a header row) or `.xlsx` (first sheet, or a workbook with sheets of those names).

How it runs: rows are read one at a time, checked in Python (USCC, ratio, role, dates) and
written in batches to a staging table (executemany on SQLite, COPY on PostgreSQL); checks that
need every row (duplicates in the file, references to companies that do not exist) are SQL over
the staging table; then one merge per table. Replacement is per company: the holdings of a
company named in a shareholdings file become exactly the file's rows for it (unless the stored
ones carry a later `as_of`), and the officers of a company named in an officers file become the
file's rows. Rows already stored as they are in the file are not written again, so importing the
same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from django.db import connections, models, transaction
from openpyxl.utils.exceptions import InvalidFileException

from voucher.policy import uscc as uscc_codes
from voucher.policy.dates import DateError, parse_date
from voucher.registry.models import RATIO_PLACES, ROLE_CHOICES, Company, Officer, Shareholding
from voucher.registry.persons import hashed_person_id, looks_like_resident_id

KINDS = ("companies", "shareholdings", "officers")
COLUMNS = {
    "companies": (("uscc", "name"), ("status",)),
    "shareholdings": (("holder", "held", "ratio"), ("source", "as_of")),
    "officers": (("person", "company", "role"), ()),
}
ROLES = {code for code, _ in ROLE_CHOICES}
ROLE_ALIASES = {
    "董事": "director",
    "董事长": "director",
    "执行董事": "director",
    "监事": "supervisor",
    "监事会主席": "supervisor",
    "高级管理人员": "executive",
    "高管": "executive",
    "经理": "executive",
    "总经理": "executive",
    "法定代表人": "legal_representative",
    "其他": "other",
}
log = logging.getLogger(__name__)

BATCH = 10_000
MAX_ERRORS_KEPT = 1000
ANALYZE_AFTER = 10_000  # rows changed
REGISTRY_TABLES = ("registry_company", "registry_shareholding", "registry_officer")
_PERSON_RE = re.compile(r"P-[A-Za-z0-9_-]+")
_RATIO_RE = re.compile(r"\d+(\.\d+)?")
_WELL_FORMED = uscc_codes.WELL_FORMED.fullmatch
_DIGITS_ONLY = re.compile(r"\d{17}[\dX]").fullmatch  # the shape of a national ID number
_ONE = Decimal(1)


class RowError(ValueError):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class ImportError_:
    file: str
    row: int  # 1 is the header; the first data row is 2 (as a spreadsheet numbers it)
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.message}"


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[ImportError_] = field(default_factory=list)
    error_count: int = 0
    # per kind, the companies with a refused row (key -> its first refused row): an update file
    # leaves their stored holdings or officers as they are
    refused_companies: dict[str, dict[str, int]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # kinds whose file could not be read

    def refuse_company(self, kind: str, key: str, row: int) -> None:
        if kind in COMPANY_KEY and key:
            self.refused_companies.setdefault(kind, {}).setdefault(key, row)

    def error(self, file: str, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(ImportError_(file, row, column, message))

    @property
    def changed(self) -> int:
        return sum(c.get("written", 0) + c.get("deleted", 0) for c in self.counts.values())


# --- reading -------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel keeps numbers as binary floats; repr is the shortest decimal that reads back as
        # the same float, i.e. what the cell shows. Cells formatted as text avoid this entirely.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    yield from csv.reader(text)


def _sheet_rows(sheet: Any) -> Iterator[list[str]]:
    for values in sheet.iter_rows(values_only=True):
        yield [_cell(v) for v in values]


def read_table(name: str, stream: IO[bytes], sheet: str | None = None) -> Iterator[list[str]]:
    """The rows of a CSV or .xlsx file, the header first, one at a time."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        workbook = load_workbook(stream, read_only=True, data_only=True)
        try:
            ws = workbook[sheet] if sheet else workbook.worksheets[0]
            yield from _sheet_rows(ws)
        finally:
            workbook.close()
    else:
        yield from _csv_rows(stream)


# --- checking one row ---------------------------------------------------------------------


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip() if not value.isascii() else value.strip()


@lru_cache(maxsize=1 << 16)  # hubs and persons recur on many rows; a hit is ~0.1 µs
def check_uscc(value: str, column: str) -> str:
    value = _nfkc(value).upper()
    if not value:
        raise RowError(column, "缺少统一社会信用代码 (USCC missing)")
    if len(value) != 18 or not uscc_codes.is_well_formed(value):
        raise RowError(
            column,
            f"不是有效的统一社会信用代码（18位，不含 I、O、Z、S、V）: {value} (not a USCC)",
        )
    return value


@lru_cache(maxsize=1 << 16)
def _company_code(value: str) -> bool:
    """A well-formed USCC whose check character is right is a company, never an ID number."""
    return uscc_codes.is_well_formed(value) and uscc_codes.has_valid_check_character(value)


def check_person(value: str, column: str) -> str:
    value = _nfkc(value)
    if value.startswith("P-") and _PERSON_RE.fullmatch(value):
        return value
    if looks_like_resident_id(value.upper()):
        return hashed_person_id(value.upper())
    if not _PERSON_RE.fullmatch(value):
        raise RowError(
            column, f"人员编号须为 P-… 形式: {value!r} (person id must look like P-0001)"
        )
    return value


def check_party(value: str, column: str) -> str:
    stripped = _nfkc(value)
    if stripped.startswith("P-"):
        return check_person(stripped, column)
    if _company_code(stripped.upper()):
        return check_uscc(stripped, column)
    if looks_like_resident_id(stripped.upper()):
        return hashed_person_id(stripped.upper())
    return check_uscc(stripped, column)


@lru_cache(maxsize=1 << 16)
def check_ratio(value: str, column: str = "ratio") -> Decimal:
    text = _nfkc(value)
    if text.endswith("%"):
        raise RowError(column, f"比例写成小数，如 0.51，不写百分号: {text} (write 0.51, not 51%)")
    if not _RATIO_RE.fullmatch(text):
        raise RowError(column, f"不是有效的比例: {text!r} (not a decimal ratio)")
    ratio = Decimal(text)
    if not (0 < ratio <= _ONE):
        raise RowError(column, f"持股比例须在 (0, 1] 之间: {text} (ratio must be in (0, 1])")
    if "." in text and len(text.split(".", 1)[1].rstrip("0")) > RATIO_PLACES:
        raise RowError(column, f"比例最多 {RATIO_PLACES} 位小数: {text} (too many decimals)")
    return ratio


@lru_cache(maxsize=1 << 10)
def check_date(value: str, column: str) -> date | None:
    text = _nfkc(value)
    if not text:
        return None
    try:
        return parse_date(text, field=column, strict=True)
    except DateError as refused:
        raise RowError(column, str(refused)) from None


def check_text(value: str, column: str, max_length: int, required: bool) -> str:
    if not value and not required:
        return ""
    text = value.strip()
    if required and not text:
        raise RowError(column, "不能为空 (must not be blank)")
    if len(text) > max_length:
        raise RowError(column, f"超过 {max_length} 个字符 (longer than {max_length})")
    return text


def check_role(value: str, column: str = "role") -> str:
    text = _nfkc(value)
    role = ROLE_ALIASES.get(text, text.lower())
    if role not in ROLES:
        raise RowError(
            column,
            f"不认识的职务: {text!r}，应为 {' / '.join(sorted(ROLES))} (unknown role)",
        )
    return role


def _company_row(r: dict[str, str]) -> tuple[Any, ...]:
    return (
        check_uscc(r["uscc"], "uscc"),
        check_text(r["name"], "name", 200, True),
        check_text(r.get("status", ""), "status", 30, False),
    )


def _holding_row(r: dict[str, str]) -> tuple[Any, ...]:
    holder, held = r["holder"], r["held"]
    # fast paths for the common, clean row; anything else takes the full check below
    if not _WELL_FORMED(held):
        held = check_uscc(held, "held")
    if holder.startswith("P-") and _PERSON_RE.fullmatch(holder):
        pass
    elif not (_WELL_FORMED(holder) and not _DIGITS_ONLY(holder)):
        holder = check_party(holder, "holder")  # may be a national ID number: the full test
    if holder == held:
        raise RowError("holder", f"企业不能持有自身: {held} (a company cannot hold itself)")
    source = r.get("source") or ""
    return (
        holder,
        held,
        check_ratio(r["ratio"]),
        check_text(source, "source", 100, False) if source else "",
        check_date(r.get("as_of") or "", "as_of"),
    )


def _officer_row(r: dict[str, str]) -> tuple[Any, ...]:
    return (
        check_person(r["person"], "person"),
        check_uscc(r["company"], "company"),
        check_role(r["role"]),
    )


ROW_CHECKS: dict[str, Callable[[dict[str, str]], tuple[Any, ...]]] = {
    "companies": _company_row,
    "shareholdings": _holding_row,
    "officers": _officer_row,
}


# --- staging and merging --------------------------------------------------------------------

STAGES = {
    "companies": ("registry_stage_company", "row_no, uscc, name, status"),
    "shareholdings": ("registry_stage_holding", "row_no, holder, held, ratio, source, as_of"),
    "officers": ("registry_stage_officer", "row_no, person, company, role"),
}
_STAGE_DDL = {
    "companies": "row_no integer, uscc varchar(18), name varchar(200), status varchar(30)",
    "shareholdings": (
        "row_no integer, holder varchar(80), held varchar(18), ratio decimal(11, 10),"
        " source varchar(100), as_of date"
    ),
    "officers": "row_no integer, person varchar(80), company varchar(18), role varchar(30)",
}


class _Stage:
    """A temporary table filled in batches: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, cursor: Any, vendor: str, kind: str):
        self.cursor = cursor
        self.vendor = vendor
        self.table, self.columns = STAGES[kind]
        self.batch: list[tuple[Any, ...]] = []
        cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {self.table} ({_STAGE_DDL[kind]})")

    def add(self, row: tuple[Any, ...]) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        if self.vendor == "postgresql":
            with self.cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                for row in self.batch:
                    copy.write_row(row)
        else:
            rows = self.batch
            if self.table == "registry_stage_holding":  # SQLite has no decimal type: pass text
                rows = [(r[0], r[1], r[2], str(r[3]), r[4], r[5]) for r in rows]
            marks = ", ".join(["%s"] * len(self.batch[0]))
            self.cursor.executemany(
                f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})", rows
            )
        self.batch = []


# The company an update replaces rows of: a shareholding belongs to the held company, an officer to
# the company they serve.
COMPANY_KEY = {"shareholdings": "held", "officers": "company"}

UNREADABLE = (
    "文件无法读取：不是 UTF-8 编码的 CSV 或有效的 .xlsx（例如 GBK 编码或二进制文件），"
    "请另存为 UTF-8 CSV 后重新导入；本文件未导入任何行 "
    "(not a UTF-8 CSV or a valid .xlsx file; nothing of it was imported)"
)


def _company_key(value: str) -> str:
    return _nfkc(value or "").upper()


def _stage_file(
    cursor: Any, vendor: str, kind: str, name: str, rows: Iterable[list[str]], report: ImportReport
) -> int:
    required = COLUMNS[kind][0]
    check = ROW_CHECKS[kind]
    stage = _Stage(cursor, vendor, kind)
    iterator = iter(rows)
    header = [_nfkc(h).lower() for h in next(iterator, [])]
    missing = [c for c in required if c not in header]
    if missing:
        report.error(name, 1, ",".join(missing), "缺少必需的列 (required column missing)")
        return 0
    width = len(header)
    read = 0
    batch = stage.batch
    key_column = COMPANY_KEY.get(kind, "")
    for number, values in enumerate(iterator, start=2):
        if not "".join(values).strip():
            continue  # blank lines (and Excel's empty trailing rows) are not rows
        read += 1
        if len(values) < width:
            values = values + [""] * (width - len(values))
        record = dict(zip(header, values, strict=False))  # unknown columns are never read
        try:
            batch.append((number, *check(record)))
        except RowError as exc:
            report.error(name, number, exc.column, exc.message)
            report.refuse_company(kind, _company_key(record.get(key_column, "")), number)
            continue
        if len(batch) >= BATCH:
            stage.flush()
            batch = stage.batch
    stage.flush()
    return read


def _stage_readable_file(
    cursor: Any, vendor: str, kind: str, name: str, rows: Iterable[list[str]], report: ImportReport
) -> int:
    """_stage_file, but a file that cannot be read (GBK, binary, a broken workbook) is one clear
    line naming it, and none of its rows are merged: half a file is not an update."""
    try:
        return _stage_file(cursor, vendor, kind, name, rows, report)
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, InvalidFileException, KeyError):
        report.error(name, 0, "", UNREADABLE)
        report.unreadable.add(kind)
        cursor.execute(f"DELETE FROM {STAGES[kind][0]}")
        return 0


class _Timed:
    """A cursor whose slow statements (≥ 1 s) are logged with their time."""

    def __init__(self, cursor: Any):
        self.cursor = cursor

    def execute(self, sql: str, params: Any = None) -> None:
        started = time.perf_counter()
        self.cursor.execute(sql, params)
        took = time.perf_counter() - started
        if took >= 1:
            log.info("%.1f s: %s", took, " ".join(sql.split())[:120])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


def _report_rows(
    cursor: Any,
    report: ImportReport,
    name: str,
    column: str,
    sql: str,
    message: str,
    kind: str = "",
) -> int:
    """Report the staged rows that `sql` selects (row_no, value), then drop them; their
    companies (kind's COMPANY_KEY) keep what is stored."""
    table = sql.split(" FROM ", 1)[1].split()[0]
    cursor.execute(sql)
    bad = cursor.fetchall()
    for row_no, value in bad:
        report.error(name, row_no, column, message.format(value=value))
    if bad:
        numbers = [r[0] for r in bad]
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            if kind in COMPANY_KEY:
                cursor.execute(
                    f"SELECT {COMPANY_KEY[kind]}, MIN(row_no) FROM {table}"
                    f" WHERE row_no IN ({', '.join(['%s'] * len(chunk))})"
                    f" GROUP BY {COMPANY_KEY[kind]}",
                    chunk,
                )
                for key, row in cursor.fetchall():
                    report.refuse_company(kind, key, row)
            cursor.execute(
                f"DELETE FROM {table} WHERE row_no IN ({', '.join(['%s'] * len(chunk))})", chunk
            )
    return len(bad)


def _duplicates(
    cursor: Any, report: ImportReport, name: str, table: str, key: str, kind: str = ""
) -> None:
    cursor.execute(f"CREATE INDEX {table}_key ON {table} ({key}, row_no)")
    cols = [c.strip() for c in key.split(",")]
    same = " AND ".join(f"t.{c} = s.{c}" for c in cols)
    shown = " || ' ' || ".join(f"s.{c}" for c in cols)
    _report_rows(
        cursor,
        report,
        name,
        key.replace(" ", ""),
        f"SELECT s.row_no, {shown} FROM {table} s"
        f" WHERE EXISTS (SELECT 1 FROM {table} t WHERE {same} AND t.row_no < s.row_no)",
        "文件中重复的行: {value} (duplicate of an earlier row)",
        kind,
    )


def _dangling(
    cursor: Any, report: ImportReport, name: str, table: str, column: str, kind: str = ""
) -> None:
    person = f" AND s.{column} NOT LIKE 'P-%'" if column == "holder" else ""
    _report_rows(
        cursor,
        report,
        name,
        column,
        f"SELECT s.row_no, s.{column} FROM {table} s WHERE NOT EXISTS"
        f" (SELECT 1 FROM registry_company c WHERE c.uscc = s.{column}){person}",
        "登记信息中没有这家企业: {value} (no such company in the registry or in companies)",
        kind,
    )


def _is_empty(cursor: Any, model: type[models.Model]) -> bool:
    cursor.execute(f"SELECT 1 FROM {model._meta.db_table} LIMIT 1")
    return cursor.fetchone() is None


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.column


@contextmanager
def _indexes_built_after(cursor: Any, model: type[models.Model]) -> Iterator[None]:
    """Loading an empty table: drop its secondary indexes, load, build each once.

    Building an index over sorted rows is many times faster than keeping it up to date row by
    row. (SQLite keeps unique constraints inside the table definition: those stay.) DDL is
    transactional on both databases, so a failed import leaves the indexes as they were.
    """
    db = cursor.db
    q = db.ops.quote_name
    table = q(model._meta.db_table)

    def columns(fields: Iterable[str]) -> str:
        return ", ".join(q(_column(model, f)) for f in fields)

    recreate = []
    for index in model._meta.indexes:
        assert index.name
        cursor.execute(f"DROP INDEX {q(index.name)}")
        recreate.append(f"CREATE INDEX {q(index.name)} ON {table} ({columns(index.fields)})")
    if db.vendor == "postgresql":
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {q(constraint.name)}")
                recreate.append(
                    f"ALTER TABLE {table} ADD CONSTRAINT {q(constraint.name)}"
                    f" UNIQUE ({columns(constraint.fields)})"
                )
    yield
    for sql in recreate:
        cursor.execute(sql)


def _load_order(cursor: Any, columns: str) -> str:
    """SQLite stores a table in rowid order and builds indexes faster over rows loaded in key
    order; PostgreSQL's heap order does not matter to an index built afterwards (the queries
    read index-only), so it is spared the sort of millions of rows."""
    return "" if cursor.db.vendor == "postgresql" else f" ORDER BY {columns}"


def _merge_companies(cursor: Any, report: ImportReport, name: str) -> dict[str, int]:
    _duplicates(cursor, report, name, "registry_stage_company", "uscc")
    if _is_empty(cursor, Company):
        cursor.execute(
            "INSERT INTO registry_company (uscc, name, status)"
            " SELECT uscc, name, status FROM registry_stage_company ORDER BY uscc"
        )
        return {"written": max(cursor.rowcount, 0), "deleted": 0}
    cursor.execute(
        "INSERT INTO registry_company (uscc, name, status)"
        " SELECT uscc, name, status FROM registry_stage_company WHERE true"
        " ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, status = excluded.status"
        " WHERE registry_company.name <> excluded.name"
        " OR registry_company.status <> excluded.status"
    )
    return {"written": max(cursor.rowcount, 0), "deleted": 0}


def _merge_holdings(cursor: Any, report: ImportReport, name: str) -> dict[str, int]:
    stage = "registry_stage_holding"
    _duplicates(cursor, report, name, stage, "holder, held", "shareholdings")
    _dangling(cursor, report, name, stage, "held", "shareholdings")
    _dangling(cursor, report, name, stage, "holder", "shareholdings")
    if _is_empty(cursor, Shareholding):
        with _indexes_built_after(cursor, Shareholding):
            cursor.execute(
                "INSERT INTO registry_shareholding (holder, held, ratio, source, as_of)"
                f" SELECT holder, held, ratio, source, as_of FROM {stage}"
                + _load_order(cursor, "holder, held")
            )
            written = max(cursor.rowcount, 0)
        return {"written": written, "deleted": 0, "skipped_older": 0}
    cursor.execute(f"CREATE INDEX {stage}_held ON {stage} (held)")
    kept = _keep_refused_companies(cursor, report, name, stage, "shareholdings")
    # a company whose stored holdings are newer than the file's keeps them
    cursor.execute(
        f"DELETE FROM {stage} WHERE held IN ("
        f" SELECT f.held FROM (SELECT held, MAX(as_of) AS d FROM {stage} GROUP BY held) f"
        " JOIN (SELECT held, MAX(as_of) AS d FROM registry_shareholding"
        f"       WHERE held IN (SELECT held FROM {stage}) GROUP BY held) cur"
        "   ON cur.held = f.held WHERE cur.d > f.d)"
    )
    skipped = max(cursor.rowcount, 0)
    cursor.execute(
        "DELETE FROM registry_shareholding"
        f" WHERE held IN (SELECT held FROM {stage}) AND NOT EXISTS (SELECT 1 FROM {stage} t"
        " WHERE t.holder = registry_shareholding.holder AND t.held = registry_shareholding.held)"
    )
    deleted = max(cursor.rowcount, 0)
    cursor.execute(
        "INSERT INTO registry_shareholding (holder, held, ratio, source, as_of)"
        f" SELECT holder, held, ratio, source, as_of FROM {stage} WHERE true"
        " ON CONFLICT (holder, held) DO UPDATE SET ratio = excluded.ratio,"
        " source = excluded.source, as_of = excluded.as_of"
        " WHERE registry_shareholding.ratio <> excluded.ratio"
        " OR registry_shareholding.source <> excluded.source"
        " OR registry_shareholding.as_of IS DISTINCT FROM excluded.as_of"
    )
    return {
        "written": max(cursor.rowcount, 0),
        "deleted": deleted,
        "skipped_older": skipped,
        "kept_refused": kept,
    }


def _merge_officers(cursor: Any, report: ImportReport, name: str) -> dict[str, int]:
    stage = "registry_stage_officer"
    _duplicates(cursor, report, name, stage, "company, person, role", "officers")
    _dangling(cursor, report, name, stage, "company", "officers")
    if _is_empty(cursor, Officer):
        with _indexes_built_after(cursor, Officer):
            cursor.execute(
                "INSERT INTO registry_officer (person, company, role)"
                f" SELECT person, company, role FROM {stage}"
                + _load_order(cursor, "company, person, role")
            )
            written = max(cursor.rowcount, 0)
        return {"written": written, "deleted": 0}
    kept = _keep_refused_companies(cursor, report, name, stage, "officers")
    cursor.execute(
        "DELETE FROM registry_officer"
        f" WHERE company IN (SELECT company FROM {stage}) AND NOT EXISTS (SELECT 1 FROM {stage} t"
        " WHERE t.company = registry_officer.company AND t.person = registry_officer.person"
        " AND t.role = registry_officer.role)"
    )
    deleted = max(cursor.rowcount, 0)
    cursor.execute(
        "INSERT INTO registry_officer (person, company, role)"
        f" SELECT person, company, role FROM {stage} WHERE true"
        " ON CONFLICT (company, person, role) DO NOTHING"
    )
    return {"written": max(cursor.rowcount, 0), "deleted": deleted, "kept_refused": kept}


def _keep_refused_companies(
    cursor: Any, report: ImportReport, name: str, stage: str, kind: str
) -> int:
    """A company with any refused row in an update file keeps its stored rows as they are: the
    file's other rows of it are dropped, and the report says so, company by company. (Replacing
    them would delete the stored row the refused one meant to keep: a fail turned into a pass.)"""
    refused = report.refused_companies.get(kind, {})
    column = COMPANY_KEY[kind]
    keys = sorted(refused)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        cursor.execute(
            f"DELETE FROM {stage} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})", chunk
        )
    what = "持股" if kind == "shareholdings" else "高管任职"
    for key in keys:
        report.error(
            name,
            refused[key],
            column,
            f"{key}: 文件中该企业有被拒绝的行，其已登记的{what}保持不变，请改正后重新导入该企业的全部行 "
            f"(a row of this company was refused: its stored {kind} are kept as they were)",
        )
    return len(keys)


MERGES = {
    "companies": _merge_companies,
    "shareholdings": _merge_holdings,
    "officers": _merge_officers,
}


# --- entry points --------------------------------------------------------------------------

Source = tuple[str, Callable[[], Iterable[list[str]]]]  # (name shown in errors, rows)


def import_tables(sources: dict[str, Source], *, using: str = "default") -> ImportReport:
    """Import the given tables (kind -> (name, rows)) in one transaction, companies first."""
    report = ImportReport()
    connection = connections[using]
    vendor = connection.vendor
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -524288")  # 512 MiB of page cache for indexing
        for kind in KINDS:
            if kind not in sources:
                continue
            name, rows = sources[kind]
            report.files.append(name)
            started = time.perf_counter()
            read = _stage_readable_file(cursor, vendor, kind, name, rows(), report)
            staged = time.perf_counter()
            if vendor == "postgresql":
                cursor.execute(f"ANALYZE {STAGES[kind][0]}")  # autovacuum skips temp tables
            if kind in report.unreadable:
                counts = {"written": 0, "deleted": 0}
            else:
                counts = MERGES[kind](_Timed(cursor), report, name)
            log.info(
                "%s: %d rows read and checked in %.1f s, merged in %.1f s",
                name,
                read,
                staged - started,
                time.perf_counter() - staged,
            )
            report.counts[kind] = {"rows": read, **counts}
            cursor.execute(f"DROP TABLE {STAGES[kind][0]}")
        if report.changed >= ANALYZE_AFTER:
            # fresh statistics, so that the planner uses the indexes right after a bulk load
            for table in REGISTRY_TABLES:
                cursor.execute(f"ANALYZE {table}")
            if vendor == "postgresql":
                transaction.on_commit(lambda: _vacuum(using), using=using)
    report.errors.sort(key=lambda e: (KINDS.index(_kind_of(e.file)), e.row))
    return report


def _vacuum(using: str) -> None:
    """PostgreSQL, after a large import: set the visibility map so that the closure query's
    index-only scans read no table pages. VACUUM cannot run inside a transaction."""
    with connections[using].cursor() as cursor:
        for table in REGISTRY_TABLES:
            cursor.execute(f"VACUUM {table}")


def _kind_of(name: str) -> str:
    stem = Path(name).name.lower()
    for kind in KINDS:
        if kind in stem:
            return kind
    return KINDS[0]


def _file_source(path: Path, sheet: str | None = None) -> Callable[[], Iterator[list[str]]]:
    def rows() -> Iterator[list[str]]:
        with path.open("rb") as stream:
            yield from read_table(path.name, stream, sheet)

    return rows


def sources_in(directory: Path) -> dict[str, Source]:
    """companies/shareholdings/officers .csv or .xlsx in a directory, or sheets of a workbook."""
    found: dict[str, Source] = {}
    for kind in KINDS:
        for suffix in (".csv", ".xlsx"):
            path = directory / f"{kind}{suffix}"
            if path.is_file():
                found[kind] = (str(path), _file_source(path))
                break
    for workbook in sorted(directory.glob("*.xlsx")):
        if workbook.stem in KINDS:
            continue
        found.update(_workbook_sources(workbook, found))
    return found


def _workbook_sources(path: Path, already: dict[str, Source]) -> dict[str, Source]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        names = workbook.sheetnames
    finally:
        workbook.close()
    return {
        kind: (f"{path}[{kind}]", _file_source(path, kind))
        for kind in KINDS
        if kind in names and kind not in already
    }


def import_directory(directory: Path, *, using: str = "default") -> ImportReport:
    sources = sources_in(directory)
    if not sources:
        raise FileNotFoundError(
            f"{directory}: 没有 companies/shareholdings/officers 的 .csv 或 .xlsx 文件"
        )
    return import_tables(sources, using=using)
