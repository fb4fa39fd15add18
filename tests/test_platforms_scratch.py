"""A worker killed in the middle of an ingest leaves its scratch (DuckDB's spill directory with
the parts' pipes, the groups' Arrow file) in the temporary directory; the next batch sweeps it,
and never what a running ingest holds."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pyarrow as pa

from voucher.platforms import duck_ingest, scratch

from .scratch_support import age, killed_worker_s_scratch

WINDOW = (date(2025, 9, 8), date(2026, 3, 31))


def _empty_csv(directory: Path) -> Path:
    path = directory / "batch.csv"
    path.write_text(",".join(duck_ingest.core.COLUMNS) + "\n")
    return path


def test_the_scratch_of_a_killed_ingest_is_swept(tmp_path):
    spill, groups = killed_worker_s_scratch(tmp_path)
    assert os.path.basename(spill).startswith("voucher-ingest-")
    assert os.path.basename(groups).startswith("voucher-groups-")
    assert scratch.sweep(str(tmp_path)) == sorted([groups, spill])
    assert not os.path.exists(spill) and not os.path.exists(groups)
    assert (tmp_path / "batch.csv").exists()  # nothing else is touched
    assert scratch.sweep(str(tmp_path)) == []


def test_what_a_running_ingest_holds_is_kept_however_old(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    session = duck_ingest._Session(_empty_csv(tmp_path), "csv", WINDOW, None)
    groups = duck_ingest._GroupBatches(limit=0)
    groups.append(pa.record_batch({"units": [1]}))
    mine = [session.spill, str(groups.path)]
    age(*mine)
    try:
        assert scratch.sweep(str(tmp_path), older_than=0) == []
        assert all(os.path.exists(p) for p in mine)
    finally:
        session.close()
        groups.close()
    assert not any(os.path.exists(p) for p in mine)


def test_an_item_in_its_grace_period_and_other_names_are_kept(tmp_path):
    young = tmp_path / "voucher-ingest-just-made"  # made, not yet locked by its creator
    young.mkdir()
    others = [tmp_path / "voucher-uploads-x", tmp_path / "other-voucher-ingest-x"]
    for path in others:
        path.mkdir()
    age(*others)
    assert scratch.sweep(str(tmp_path)) == []
    assert all(p.exists() for p in (young, *others))
    age(young)
    assert scratch.sweep(str(tmp_path)) == [str(young)]


def test_nobody_s_file_and_directory_are_removed(tmp_path):
    directory = tmp_path / "voucher-ingest-q1w2e3"  # also what a version without locks left
    directory.mkdir()
    (directory / "part-0.csv").write_text("x")
    file = tmp_path / "voucher-groups-r4t5.arrows"
    file.write_bytes(b"arrow")
    age(directory, file)
    assert scratch.sweep(str(tmp_path)) == sorted([str(file), str(directory)])
    assert list(tmp_path.iterdir()) == []


def test_what_cannot_be_removed_is_logged_and_the_sweep_goes_on(tmp_path, monkeypatch, caplog):
    first = tmp_path / "voucher-groups-a.arrows"
    second = tmp_path / "voucher-groups-b.arrows"
    for path in (first, second):
        path.write_bytes(b"x")
    age(first, second)
    real_unlink = os.unlink

    def refuse_the_first(path, *args, **kwargs):
        if str(path) == str(first):
            raise PermissionError(13, "Operation not permitted", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr("os.unlink", refuse_the_first)
    assert scratch.sweep(str(tmp_path)) == [str(second)]
    assert first.exists() and not second.exists()
    assert "could not remove" in caplog.text and "voucher-groups-a" in caplog.text


def test_no_temporary_directory_sweeps_nothing(tmp_path):
    assert scratch.sweep(str(tmp_path / "gone")) == []


def test_a_file_system_without_locks_neither_fails_the_ingest_nor_loses_its_files(
    tmp_path, monkeypatch
):
    import fcntl

    def no_locks(descriptor, operation):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    item = tmp_path / "voucher-ingest-x"
    item.mkdir()
    assert scratch.hold(str(item)) is None
    age(item)
    assert scratch.sweep(str(tmp_path)) == [] and item.exists()


def test_a_session_that_fails_to_start_lets_go_of_its_spill_directory(tmp_path, monkeypatch):
    import duckdb
    import pytest

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    def refuse(*args, **kwargs):
        raise duckdb.IOException("cannot open")

    monkeypatch.setattr(duckdb, "connect", refuse)
    with pytest.raises(duckdb.IOException):
        duck_ingest._Session(_empty_csv(tmp_path), "csv", WINDOW, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv"]
