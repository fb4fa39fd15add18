"""A CSV file read in parts side by side (`duck_ingest._Session._parts`) gives exactly what the
reference gives: the same aggregates, row numbers across the parts, and errors. Where a split
cannot be trusted (inside a quoted cell, lone carriage returns) or a part fails, the file is
read in one piece; a blank line before the end takes the reference path, blank lines at the end
do not."""

from __future__ import annotations

import csv
import sys

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
    real = core.ingest_reference

    def ingest_reference(path, **kwargs):
        taken[0] += 1
        return real(path, **kwargs)

    monkeypatch.setattr(core, "ingest_reference", ingest_reference)
    return taken


# --- the byte scan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "newlines", "ends", "lone_cr"),
    [
        (b"a\nb\n", 2, True, False),
        (b"a\r\nb\r\n", 2, True, False),
        (b"a\nb", 1, False, False),
        (b"a\rb\n", 1, True, True),
        (b"a\r\nb\r", 1, False, True),
        (b"", 0, False, False),
    ],
)
def test_the_scan_counts_line_feeds_and_finds_lone_carriage_returns(
    tmp_path, data, newlines, ends, lone_cr
):
    path = tmp_path / "b.csv"
    path.write_bytes(data)
    for chunk in (1, 2, 3, 1 << 20):  # patterns straddling the chunks' edges
        for wc in (True, False):  # line feeds counted by wc -l, or in the pass
            shape = duck_ingest.csv_shape(path, [], chunk=chunk, wc=wc)
            found = (shape.newlines, shape.ends_with_newline, shape.lone_cr)
            assert found == (newlines, ends, lone_cr)


@pytest.mark.parametrize("wc", [None, "/bin/false", "/bin/echo"], ids=["none", "fails", "babbles"])
def test_without_a_working_wc_the_scan_counts_the_line_feeds_itself(tmp_path, monkeypatch, wc):
    path = tmp_path / "b.csv"
    path.write_bytes(b"h\na\r\nb\n\nc")
    monkeypatch.setattr(duck_ingest.shutil, "which", lambda name: wc)
    shape = duck_ingest.csv_shape(path, [], chunk=3)
    assert (shape.newlines, shape.ends_with_newline, shape.lone_cr) == (4, False, False)


def test_the_scan_knows_a_split_inside_quotes_by_their_parity(tmp_path):
    path = tmp_path / "b.csv"
    data = b'h\n"a\n""b""\n"\nc\n'
    path.write_bytes(data)
    inside = data.index(b"\n") + 3  # after `"a\n`
    outside = data.index(b"c")
    for chunk in (1, 4, 1 << 20):
        assert duck_ingest.csv_shape(path, [inside], chunk=chunk).split_in_quotes
        assert not duck_ingest.csv_shape(path, [outside], chunk=chunk).split_in_quotes


@pytest.mark.parametrize(
    ("newlines", "ends", "records", "match"),
    [(3, True, 2, True), (2, False, 2, True), (4, True, 2, False), (2, True, 2, False)],
)
def test_records_match_every_line(newlines, ends, records, match):
    shape = duck_ingest.CsvShape(newlines=newlines, ends_with_newline=ends)
    assert shape.records_match(records) is match


def test_splits_fall_just_after_a_line_feed_and_small_files_are_read_whole(tmp_path, monkeypatch):
    path = _write(tmp_path / "b.csv", [row(order_id=f"O-{i}") for i in range(100)])
    data = path.read_bytes()
    monkeypatch.setattr(duck_ingest, "PARALLEL_MIN_BYTES", 0)
    splits = duck_ingest.csv_splits(path, 4)
    assert len(splits) == 3 and all(data[s - 1 : s] == b"\n" for s in splits)
    assert splits == sorted(set(splits))
    monkeypatch.setattr(duck_ingest, "PARALLEL_MIN_BYTES", len(data) + 1)
    assert duck_ingest.csv_splits(path, 4) == []


def test_without_named_pipes_the_file_is_read_in_one_piece(tmp_path, reads, monkeypatch):
    def refuse(path):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(duck_ingest.os, "mkfifo", refuse)
    path = _write(tmp_path / "b.csv", UNTIDY * 2)
    reference, fast = both(path)
    assert fast == reference and reads == [2, 0]


def test_many_cores_read_at_most_max_parts(tmp_path, reads, monkeypatch):
    monkeypatch.setattr(duck_ingest, "THREADS", 64)
    path = _write(tmp_path / "b.csv", [row(order_id=f"O-{i}") for i in range(400)])
    reference, fast = both(path)
    assert fast == reference and reads == [duck_ingest.MAX_PARTS - 1]


def test_lone_carriage_returns_take_the_reference_path(tmp_path, reads):
    """Python's csv ends a record at a lone CR (old Mac files); such a file is read as the
    reference reads it, whatever DuckDB would make of it."""
    lines = [",".join(core.COLUMNS)] + [
        ",".join(row(order_id=f"O-{i}").values()) for i in range(60)
    ]
    path = tmp_path / "b.csv"
    path.write_bytes(("\r".join(lines) + "\r").encode("utf-8"))
    reference, fast = both(path)
    assert fast == reference and reference[1] == 60  # every row read


def _pipe_max_size() -> int:
    try:
        with open("/proc/sys/fs/pipe-max-size") as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return 0


@pytest.mark.skipif(
    sys.platform != "linux" or _pipe_max_size() < duck_ingest.PIPE_BYTES,
    reason="F_SETPIPE_SZ is Linux's, up to /proc/sys/fs/pipe-max-size",
)
def test_each_part_s_pipe_holds_a_mebibyte(tmp_path, reads, monkeypatch):
    """DuckDB reads a default 64 KiB pipe 64 KiB at a time (a second more per 10 million rows):
    every part's pipe is widened before the first byte goes in."""
    import fcntl

    sizes: list[int] = []
    real = duck_ingest._widen

    def widen(pipe):
        real(pipe)
        sizes.append(fcntl.fcntl(pipe, fcntl.F_GETPIPE_SZ))

    monkeypatch.setattr(duck_ingest, "_widen", widen)
    path = _write(tmp_path / "b.csv", [row(order_id=f"O-{i}") for i in range(90)])
    reference, fast = both(path)
    assert fast == reference and reads == [2]
    assert sizes == [duck_ingest.PIPE_BYTES] * 3


@pytest.mark.parametrize(
    ("ending", "blank"),
    [
        (b"x\n", 0),
        (b"x\n\n", 1),
        (b"x\r\n\r\n", 1),
        (b"x\n\n\n\n", 3),
        (b"x\r\n\r\n\n", 2),
        (b"x", 0),
    ],
)
def test_the_scan_counts_the_blank_lines_at_the_end(tmp_path, ending, blank):
    path = tmp_path / "b.csv"
    path.write_bytes(b"a,b\n1,2\n" + ending)
    assert duck_ingest._trailing_blank_lines(path) == blank


def test_a_tail_of_nothing_but_line_ends_is_not_counted(tmp_path):
    """More line ends than the tail holds: the count would be a guess, so it is 0 and the file
    takes the reference path (its records do not account for its lines)."""
    path = tmp_path / "b.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"\n" * 5000)
    assert duck_ingest._trailing_blank_lines(path) == 0
    shape = duck_ingest.csv_shape(path, [])
    assert not shape.records_match(1)
