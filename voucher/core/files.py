"""Files kept through Django's storage API (STORAGES["default"]: local files under
VOUCHER_DATA_DIR, or an S3-compatible store shared by several app servers, docs/operations.md).

Uploads and platform batch files are content-addressed (their name is their SHA-256), so a file
is written once and never changed: `store_once`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage

CHUNK = 1 << 20


class DataDirStorage(FileSystemStorage):
    """The default storage: local files under VOUCHER_DATA_DIR (settings.DATA_DIR, read at each
    use, so a test's own DATA_DIR counts), unless OPTIONS give a `location`."""

    @property
    def base_location(self) -> str:
        return str(getattr(self, "_location", None) or settings.DATA_DIR)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def local_path(storage: Storage, name: str) -> Path | None:
    """The file's path on this machine where the storage is a local directory (a
    FileSystemStorage), else None (an object store; Django's InMemoryStorage, which the tests
    use for one, answers path() with a path that holds nothing)."""
    if not isinstance(storage, FileSystemStorage):
        return None
    return Path(storage.path(name))


def store_once(storage: Storage, name: str, content: IO[bytes]) -> None:
    """Keep `content` (read from the start) under `name` unless a file is there already.

    A local directory gets it written beside and renamed into place, so a crash never leaves a
    half file under the name (which the next upload of the same bytes would take as stored);
    an object store's upload is whole or nothing by itself."""
    if storage.exists(name):
        return
    target = local_path(storage, name)
    if target is None:
        storage.save(name, File(content, name=os.path.basename(name)))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := content.read(CHUNK):
                out.write(chunk)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
