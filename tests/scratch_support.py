"""A real ingest process killed (SIGKILL) while it holds its scratch: the sweep's tests and the
API's retry test start one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from voucher.platforms import scratch

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
    """The scratch paths of a real ingest process killed (SIGKILL) while it held them, made to
    look older than the sweep's grace period."""
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
    age(*paths)
    return paths


def age(*paths: str | Path) -> None:
    """Make `paths` look older than the sweep's grace period."""
    old = time.time() - scratch.GRACE_SECONDS - 1
    for path in paths:
        os.utime(path, (old, old))
