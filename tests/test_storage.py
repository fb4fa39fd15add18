"""Uploads and platform batch files go through Django's storage API (issue 18 item 8), so several
app servers can share an object store: here Django's InMemoryStorage stands in for S3 (it has no
local path either), and nothing is read or written under VOUCHER_DATA_DIR."""

from __future__ import annotations

import glob
import os
import tempfile

import pytest
from django.core.files.storage import default_storage
from django.http import Http404

from voucher.applications import uploads
from voucher.core.files import store_once
from voucher.platforms import actions
from voucher.platforms.models import ConsumptionBatch

from .test_api_platforms import _submit, a, listed, platforms, screener  # noqa: F401

IN_MEMORY = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.fixture
def object_store(platforms, settings, tmp_path):  # noqa: F811 (after platforms: its batch directory)
    settings.STORAGES = IN_MEMORY
    settings.VOUCHER_PLATFORM_BATCH_DIR = None
    settings.DATA_DIR = tmp_path / "data-dir-never-written"
    assert default_storage.__class__.__name__ == "InMemoryStorage"
    return default_storage


def _copies() -> list[str]:
    return glob.glob(os.path.join(tempfile.gettempdir(), "voucher-copy-*"))


def test_an_upload_is_stored_and_served_through_the_storage(object_store, settings):
    sha = "ab" * 32
    uploads.upload_store(b"%PDF-1.7 bytes", sha)
    assert object_store.exists(f"uploads/{sha}")
    response = uploads.upload_file_response(
        sha, filename="合同.pdf", content_type="application/pdf"
    )
    assert b"".join(response.streaming_content) == b"%PDF-1.7 bytes"
    assert response["Content-Disposition"].startswith("attachment")
    uploads.upload_delete(sha)
    with pytest.raises(Http404):
        uploads.upload_file_response(sha, filename="x.pdf", content_type="application/pdf")
    assert not settings.DATA_DIR.exists()


def test_a_batch_is_stored_and_ingested_from_the_object_store(object_store, a, listed, settings):  # noqa: F811
    before = set(_copies())
    batch_id = _submit(a).json()["id"]
    batch = ConsumptionBatch.objects.get(pk=batch_id)
    assert object_store.exists(f"platform-batches/{batch.file_sha256}")
    processed = actions.batch_process(batch_id=batch_id)
    assert processed is not None and processed.status == ConsumptionBatch.DONE, processed.refusal
    assert processed.summary["rows_read"] == 4
    assert set(_copies()) == before  # DuckDB's local copy is gone
    assert not settings.DATA_DIR.exists()


def test_a_local_store_is_written_once_and_whole(tmp_path):
    from django.core.files.storage import FileSystemStorage

    storage = FileSystemStorage(location=tmp_path)
    import io

    store_once(storage, "uploads/x", io.BytesIO(b"first"))
    store_once(storage, "uploads/x", io.BytesIO(b"second"))  # the same name: kept as it was
    assert (tmp_path / "uploads" / "x").read_bytes() == b"first"
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["x"]  # no partial file left
