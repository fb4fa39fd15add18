"""The worker's DuckDB database, opened once when it starts (`duck_ingest.prepare`) and used by
every batch after it: the same results as the reference, nothing left behind between batches,
a new database after a failure (docs/workers.md, docs/performance.md)."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from tests.test_platforms_ingest_duckdb import CONTRACTS, UNTIDY, WINDOW, both, row
from voucher.platforms import consumption as core
from voucher.platforms import duck_ingest, generate, scratch


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """The worker's database, its spill directory in `tmp_path`; and the calls of
    duckdb.connect made after it was opened."""
    import duckdb

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    duck_ingest.release()
    duck_ingest.prepare()
    opened: list[object] = []
    real = duckdb.connect

    def connect(*args, **kwargs):
        opened.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect)
    assert duck_ingest._ENGINE is not None
    yield duck_ingest._ENGINE, opened
    duck_ingest.release()


def _files(tmp_path, monkeypatch) -> list:
    """A clean CSV file, one with untidy and bad rows, one read in three parts, one refused
    for too many bad rows, a typed Parquet file and one read as text."""
    clean = tmp_path / "clean.csv"
    generate.write_small_csv(clean, [row(), row(order_id="O-2", amount="55.50")])
    untidy = tmp_path / "untidy.csv"
    generate.write_small_csv(untidy, UNTIDY)
    refused = tmp_path / "refused.csv"
    generate.write_small_csv(refused, [row(amount="x")] * 30)
    typed = tmp_path / "typed.parquet"
    table = pa.table({name: [value] * 3 for name, value in row().items()})
    pq.write_table(
        table.set_column(7, "quantity", pa.array([10, 20, 30], pa.int64())),
        typed,
    )
    text = tmp_path / "text.parquet"
    pq.write_table(table.set_column(7, "quantity", pa.array([1.5, 2.0, 3.0], pa.float64())), text)
    return [clean, untidy, refused, typed, text]


def test_a_started_worker_opens_no_database_per_batch_and_gives_the_reference_s_results(
    tmp_path, monkeypatch, engine
):
    database, opened = engine
    files = _files(tmp_path, monkeypatch)
    outcomes = [both(path, max_errors=10) for path in files]
    # in parts: the same database, its cursors side by side
    monkeypatch.setattr(duck_ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(duck_ingest, "THREADS", 3)
    outcomes.append(both(files[1]))
    for reference, fast in outcomes:
        assert fast == reference
    assert outcomes[2] == ["refused", "refused"]
    assert opened == []  # every batch ran in the worker's database
    assert database.sessions == len(outcomes)
    # and each left nothing there for the next
    assert database.database.sql("SHOW TABLES").fetchall() == []


def test_every_batch_in_a_row_gives_the_same_result(tmp_path, engine):
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, UNTIDY * 2)
    results = [both(path, contracts=contracts) for _ in range(3) for contracts in (CONTRACTS, None)]
    assert all(fast == reference for reference, fast in results)
    assert results[0::2] == [results[0]] * 3 and results[1::2] == [results[1]] * 3


def test_after_a_failure_the_next_batch_gets_a_new_database(tmp_path, monkeypatch, engine):
    database, opened = engine
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, [row(), row(order_id="O-2")])
    first = database.database

    def broken(self, batch):
        raise RuntimeError("the disk went away")

    with monkeypatch.context() as patched:
        patched.setattr(duck_ingest.ColumnarResult, "add_groups", broken)
        with pytest.raises(RuntimeError):
            core.ingest_file(path, window=WINDOW, contracts=CONTRACTS)
    assert database.database is None  # closed, not handed to the next batch
    reference, fast = both(path)
    assert fast == reference
    assert database.database is not None and database.database is not first
    assert len(opened) == 1  # the new database, kept for the batches after


def test_two_ingests_at_once_in_one_process_each_get_a_database(tmp_path, engine):
    database, opened = engine
    path = tmp_path / "b.csv"
    generate.write_small_csv(path, UNTIDY)
    assert database.take()  # another ingest holds the worker's database
    try:
        reference, fast = both(path)
    finally:
        database.give_back(database.database.cursor(), failed=False)
    assert fast == reference
    assert len(opened) == 1


def test_the_worker_s_spill_directory_is_held_while_it_runs_and_removed_when_it_stops(
    tmp_path, engine
):
    database, _ = engine
    spill = database.spill
    assert os.path.dirname(spill) == str(tmp_path)
    old = 0
    os.utime(spill, (old, old))
    assert scratch.sweep(str(tmp_path)) == []  # held: a running worker's
    duck_ingest.release()
    assert not os.path.exists(spill)


@pytest.mark.django_db
def test_the_worker_opens_the_database_before_its_first_batch_and_closes_it_when_it_stops(
    settings, tmp_path, monkeypatch
):
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    duck_ingest.release()
    seen = []
    real = duck_ingest.prepare

    def prepare():
        real()
        seen.append(duck_ingest._ENGINE)

    monkeypatch.setattr(duck_ingest, "prepare", prepare)
    call_command("platforms", "worker", "--once")
    assert len(seen) == 1 and seen[0] is not None
    assert duck_ingest._ENGINE is None  # the worker stopped: closed
    assert not os.path.exists(seen[0].spill)
