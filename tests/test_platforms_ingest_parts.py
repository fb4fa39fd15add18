"""A CSV file read in parts side by side (`duck_ingest._Session._parts`) gives exactly what the
reference gives: the same aggregates, row numbers across the parts, and errors. Where a split
cannot be trusted (inside a quoted cell, lone carriage returns) or a part fails, the file is
read in one piece; a blank line still takes the reference path."""

from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_platforms_ingest_duckdb import _ROWS, UNTIDY, both, row
from voucher.platforms import consumption as core
from voucher.platforms import duck_ingest, generate


@pytest.fixture
def reads(monkeypatch):
    """Every file of any size is cut into three parts; `reads` lists how each statement read
    it: the number of splits, 0 for one piece."""
    monkeypatch.setattr(duck_ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(duck_ingest, "THREADS", 3)
    seen: list[int] = []
    real = duck_ingest._Session.groups

    def groups(self, splits=None):
        seen.append(len(splits or []))
        return real(self, splits)

    monkeypatch.setattr(duck_ingest._Session, "groups", groups)
    return seen


def _write(path, rows):
    generate.write_small_csv(path, rows)
    return path


def test_untidy_and_bad_rows_read_in_parts_come_out_as_the_reference_says(tmp_path, reads):
    path = _write(tmp_path / "b.csv", UNTIDY * 3)
    reference, fast = both(path)
    assert fast == reference
    assert reads == [2]  # three parts, and no second read in one piece
    assert reference[2] > 30  # rejected rows in every part, numbered across the parts


def test_row_numbers_carry_across_the_parts(tmp_path, reads):
    rows = [
        row(
            order_id=f"O-{i}",
            start=f"2025-10-{day:02d} 00:00:00",
            end=f"2025-10-{day:02d} 01:00:00",
        )
        for i, day in enumerate(1 + i % 28 for i in range(300))
    ]
    rows[250] = row(amount="x")
    path = _write(tmp_path / "b.csv", rows)
    reference, fast = both(path)
    assert fast == reference and reads == [2]
    aggregates, read, rejected, _, errors = fast
    assert read == 300 and rejected == 1 and errors[0][0] == 251
    assert sum(a[7] for a in aggregates.values()) == sum(range(1, 301)) - 251  # Σ row numbers


def test_without_contracts_in_parts(tmp_path, reads):
    path = _write(tmp_path / "b.csv", UNTIDY * 2)
    reference, fast = both(path, contracts=None)
    assert fast == reference and reads == [2]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(_ROWS, min_size=1, max_size=60))
def test_for_any_rows_parts_give_what_the_reference_gives(tmp_path, reads, rows):
    path = _write(tmp_path / "h.csv", rows)
    reference, fast = both(path)
    assert fast == reference


def test_a_split_inside_a_quoted_cell_reads_the_file_in_one_piece(tmp_path, reads):
    path = tmp_path / "b.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(core.COLUMNS))
        writer.writeheader()
        writer.writerow(row(order_id="O-1"))
        writer.writerow(row(order_id="O-2" + "\nline" * 400))  # spans the file's middle
        writer.writerow(row(order_id="O-3"))
    splits = duck_ingest.csv_splits(path, 3)
    assert splits and duck_ingest.csv_shape(path, splits).split_in_quotes
    reference, fast = both(path)
    assert fast == reference
    # read in parts, then in one piece; the line feeds inside the cell then send it to the
    # reference path (DuckDB's records do not account for every line)
    assert reads == [2, 0]


def test_a_part_that_fails_reads_the_file_in_one_piece_and_refuses_it(tmp_path, reads):
    rows = [",".join(row(order_id=f"O-{i}").values()) for i in range(100)]
    rows[80] += ",one cell too many"
    path = tmp_path / "b.csv"
    path.write_text(",".join(core.COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert both(path) == ["refused", "refused"]
    assert reads == [2, 0]


def test_a_part_not_read_whole_reads_the_file_in_one_piece(tmp_path, reads, monkeypatch):
    real = duck_ingest._Feed.run

    def run(self):
        real(self)
        self.complete = self.start_at == 0  # as if the other parts had lost bytes

    monkeypatch.setattr(duck_ingest._Feed, "run", run)
    path = _write(tmp_path / "b.csv", UNTIDY * 2)
    reference, fast = both(path)
    assert fast == reference and reads == [2, 0]


def test_a_blank_line_before_the_end_takes_the_reference_path(tmp_path, reads, monkeypatch):
    text = ",".join(core.COLUMNS) + "\n" + "\n".join(",".join(row().values()) for _ in range(50))
    path = tmp_path / "b.csv"
    path.write_text(text.replace("\n", "\n\n", 30) + "\n", encoding="utf-8")
    taken = _count_reference_runs(monkeypatch)
    reference, fast = both(path)
    assert reference != "refused" and fast == reference
    assert reads == [2] and taken == [1]  # DuckDB skipped them; the line count sent it on


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_at_the_end_keep_the_fast_path(tmp_path, reads, monkeypatch, newline):
    lines = [",".join(core.COLUMNS)] + [",".join(row().values()) for _ in range(50)]
    path = tmp_path / "b.csv"
    path.write_bytes((newline.join(lines) + newline * 3).encode())
    taken = _count_reference_runs(monkeypatch)
    reference, fast = both(path)
    assert reference != "refused" and fast == reference
    assert taken == [0], (reads, taken)
    assert reads == [2], (reads, taken)


def _count_reference_runs(monkeypatch) -> list[int]:
    """How often the DuckDB engine handed the file to the reference: the reference runs that
    `both` did not ask for itself (it asks once)."""
    taken = [-1]
    real = core.ingest_file

    def ingest_file(path, **kwargs):
        taken[0] += kwargs.get("engine") == "python"
        return real(path, **kwargs)

    monkeypatch.setattr(core, "ingest_file", ingest_file)
    return taken
