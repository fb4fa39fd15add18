"""A worker killed in the middle of an ingest leaves its scratch files (DuckDB's spill directory
with the parts' pipes, the groups' Arrow file) in the temporary directory; the next batch sweeps
them, and never a running ingest's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pyarrow as pa

from voucher.platforms import duck_ingest, scratch

ROOT = Path(__file__).resolve().parent.parent

KILLED_WORKER = textwrap.dedent(
    """
    import os, signal, sys, tempfile
    from datetime import date
    from pathlib import Path
    tempfile.tempdir = sys.argv[1]
    import pyarrow as pa
    from voucher.platforms import duck_ingest
    csv = Path(sys.argv[1]) / "batch.csv"
    csv.write_text(",".join(duck_ingest.core.COLUMNS) + "\\n")
    session = duck_ingest._Session(csv, "csv", (date(2025, 9, 8), date(2026, 3, 31)), None)
    groups = duck_ingest._GroupBatches(limit=0)
    groups.append(pa.record_batch({"units": [1, 2, 3]}))
    print(session.spill)
    print(groups.path, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def killed_worker_s_scratch(directory: Path) -> list[str]:
    """The scratch paths of a real ingest process killed (SIGKILL) while it held them."""
    child = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER, str(directory)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    paths = child.stdout.split()
    assert len(paths) == 2 and all(os.path.exists(p) for p in paths), paths
    return paths


def _a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_scratch_of_a_killed_ingest_is_swept(tmp_path):
    spill, groups = killed_worker_s_scratch(tmp_path)
    assert os.path.basename(spill).startswith("voucher-ingest-")
    assert os.path.basename(groups).startswith("voucher-groups-")
    assert sorted(scratch.sweep(str(tmp_path))) == sorted([spill, groups])
    assert not os.path.exists(spill) and not os.path.exists(groups)
    assert (tmp_path / "batch.csv").exists()  # nothing else is touched
    assert scratch.sweep(str(tmp_path)) == []


def test_a_running_process_s_scratch_and_other_names_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    session = duck_ingest._Session(
        _empty_csv(tmp_path), "csv", (date(2025, 9, 8), date(2026, 3, 31)), None
    )
    groups = duck_ingest._GroupBatches(limit=0)
    groups.append(pa.record_batch({"units": [1]}))
    dead = _a_dead_pid()
    others = [
        tmp_path / "voucher-ingest-abc123",  # no process id: not ours to judge
        tmp_path / f"voucher-uploads-{dead}-x",
        tmp_path / f"other-{dead}-x",
    ]
    for path in others:
        path.mkdir()
    mine = [session.spill, groups.path]
    assert all(f"-{os.getpid()}-" in os.path.basename(str(p)) for p in mine)
    try:
        assert scratch.sweep(str(tmp_path)) == []
        assert all(os.path.exists(str(p)) for p in [*mine, *others])
    finally:
        session.close()
        groups.close()
    assert not os.path.exists(session.spill) and not os.path.exists(str(mine[1]))


def test_a_dead_process_s_file_and_directory_are_removed(tmp_path):
    dead = _a_dead_pid()
    directory = tmp_path / f"voucher-ingest-{dead}-q1w2e3"
    directory.mkdir()
    (directory / "part-0.csv").write_text("x")
    file = tmp_path / f"voucher-groups-{dead}-r4t5.arrows"
    file.write_bytes(b"arrow")
    assert scratch.sweep(str(tmp_path)) == sorted([str(directory), str(file)])
    assert list(tmp_path.iterdir()) == []


def test_no_temporary_directory_sweeps_nothing(tmp_path):
    assert scratch.sweep(str(tmp_path / "gone")) == []


def _empty_csv(directory: Path) -> Path:
    path = directory / "batch.csv"
    path.write_text(",".join(duck_ingest.core.COLUMNS) + "\n")
    return path
