"""An ingest's scratch files in the temporary directory, and the sweep of those a killed worker
left behind.

The ingest writes DuckDB's spill directory (with the named pipes of a CSV file's parts) and,
beyond 64 MiB of groups, an Arrow file of them (decision 0010). It removes both when it ends;
a worker killed in the middle cannot. Each name carries the id of the process that made it, so
the sweep, which runs before every batch, removes only what belongs to a process that is gone
and never a running ingest's files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile

_NAME = re.compile(r"^voucher-(?:ingest|groups)-(\d+)-")


def prefix(kind: str) -> str:
    """The name prefix of a scratch file or directory of `kind` ("ingest", "groups")."""
    return f"voucher-{kind}-{os.getpid()}-"


def sweep(directory: str | None = None) -> list[str]:
    """Remove the scratch files and directories of processes that are gone; their paths."""
    directory = directory or tempfile.gettempdir()
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        match = _NAME.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows: sweep nothing
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
