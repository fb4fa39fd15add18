"""An ingest's scratch files in the temporary directory, and the sweep of those a killed worker
left behind.

The ingest writes DuckDB's spill directory (with the named pipes of a CSV file's parts) and,
beyond 64 MiB of groups, an Arrow file of them (decision 0010). It removes both when it ends;
a worker killed in the middle cannot. So each scratch item is held: its creator keeps an
exclusive `flock` on it for as long as it uses it, and the kernel lets go of the lock when the
process ends, however it ends. The sweep, which runs before every batch, removes only the items
whose lock it can take, and so never a running ingest's, in this process, another one, or
another container that shares the directory (a process id could not tell those apart).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time

try:
    import fcntl
except ImportError:  # Windows: nothing is held, and nothing is swept
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

# DuckDB's spill directory; the groups' Arrow file; the local copy of a batch file kept in an
# object store (actions/batches.py)
KINDS = ("ingest", "groups", "copy")
# An item is created, then locked: a sweep in between must not take it for a dead worker's.
GRACE_SECONDS = 60


def prefix(kind: str) -> str:
    """The name prefix of a scratch item of `kind` (one of KINDS)."""
    return f"voucher-{kind}-"


_NAME = re.compile("^(?:" + "|".join(re.escape(prefix(kind)) for kind in KINDS) + ")")


def hold(path: str) -> int | None:
    """Lock the scratch file or directory at `path` for this process; the descriptor to pass to
    `release` (None where there are no locks)."""
    if fcntl is None:
        return None
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # just made: nobody else holds it
    except OSError:
        # a file system without locks: the item goes unheld, and the sweep, which cannot lock
        # it either, takes it for one in use and leaves it
        os.close(descriptor)
        return None
    return descriptor


def release(descriptor: int | None) -> None:
    if descriptor is not None:
        with contextlib.suppress(OSError):
            os.close(descriptor)


def sweep(directory: str | None = None, *, older_than: float = GRACE_SECONDS) -> list[str]:
    """Remove the scratch items nobody holds (older than `older_than` seconds); their paths.

    Never raises: a sweep that cannot remove something (another user's file in a sticky
    /tmp, say) logs it and goes on, and the batch it runs before goes on too."""
    if fcntl is None:
        return []
    directory = directory or tempfile.gettempdir()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    removed = []
    now = time.time()
    for name in names:
        if _NAME.match(name) is None:
            continue
        path = os.path.join(directory, name)
        try:
            if now - os.lstat(path).st_mtime < older_than or os.path.islink(path):
                continue
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # gone meanwhile, or not ours to open
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # held: in use
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError as error:
            logger.warning("could not remove the scratch item %s: %s", path, error)
        finally:
            os.close(descriptor)
    return removed
