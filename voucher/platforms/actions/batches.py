"""Consumption batches: a platform submits or withdraws one, and the worker that ingests it
and stores its aggregates (all or nothing, taken again after a crash).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from voucher.applications.models import Application
from voucher.applications.parameters import current_effective_round
from voucher.applications.states import UNDECIDED_STATES
from voucher.core import refusals
from voucher.core.audit import audit
from voucher.core.files import local_path, store_once
from voucher.core.http import too_large, upload_limit_bytes
from voucher.platforms import consumption, lease, scratch
from voucher.platforms.actions.common import (
    SETTLEMENT_WINDOW,
    Refused,
    _actor,
    _listed_project,
    batch_name,
    batch_storage,
)
from voucher.platforms.models import (
    ApiToken,
    ConsumptionAggregate,
    ConsumptionBatch,
    PlatformContract,
    ShortlistEntry,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _visible_ascii(text: str) -> bool:
    return all("!" <= c <= "~" for c in text)


def _store_upload(upload: IO[bytes], kind: str) -> tuple[str, int]:
    """Keep the upload in the batch storage under its SHA-256: (SHA-256, size); refused (413)
    once it passes the limit of its kind (settings.VOUCHER_MAX_UPLOAD_MB). The name is known
    only at the end, so the bytes are spooled to a local temporary file while they are hashed."""
    limit = upload_limit_bytes(kind)
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise too_large(kind, declared, limit)
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        for chunk in iter(lambda: upload.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            if size > limit:
                raise too_large(kind, size, limit)
            spool.write(chunk)
        if size == 0:  # no rows, no header: nothing a worker could read, refused at once
            raise Refused(
                "上传的文件为空 (the uploaded file is empty)",
                code=refusals.INVALID,
                errors=[{"location": "body.file", "message": "文件为空 (empty file)"}],
            )
        sha = digest.hexdigest()
        spool.seek(0)
        store_once(batch_storage(), batch_name(sha), spool)
    return sha, size


@contextlib.contextmanager
def _local_file(sha: str) -> Iterator[Path]:
    """The batch file as a path on this machine, which the ingest (DuckDB, named pipes) reads:
    the stored file itself where the storage is a local directory; else (S3) a copy in the
    temporary directory, held as a scratch item while the ingest runs (a killed worker's copy
    is swept like its other scratch files) and removed afterwards."""
    storage, name = batch_storage(), batch_name(sha)
    local = local_path(storage, name)
    if local is not None:
        yield local
        return
    handle, copy = tempfile.mkstemp(prefix=scratch.prefix("copy"))
    held = scratch.hold(copy)
    try:
        with os.fdopen(handle, "wb") as out, storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, out, 1 << 20)
        yield Path(copy)
    finally:
        scratch.release(held)
        Path(copy).unlink(missing_ok=True)


def _batch_create(
    *,
    token: ApiToken,
    uscc: str,
    upload: IO[bytes],
    file_name: str,
    idempotency_key: str,
    settles: tuple[Application, str] | None = None,
) -> tuple[ConsumptionBatch, bool]:
    if not idempotency_key or len(idempotency_key) > 100 or not _visible_ascii(idempotency_key):
        # HTTP headers are Latin-1 on the wire: a key in other characters arrives garbled
        raise Refused(
            "须提供 Idempotency-Key：1 至 100 个可见的 ASCII 字符 (Idempotency-Key: 1 to 100 "
            "visible ASCII characters)",
            code=refusals.BAD_REQUEST,
            errors=[
                {
                    "location": "header.Idempotency-Key",
                    "message": "1 to 100 visible ASCII characters",
                }
            ],
        )
    sha, size = _store_upload(upload, "consumption" if settles is None else "settlement")
    application, contract_id = settles if settles is not None else (None, "")
    existing = ConsumptionBatch.objects.filter(
        platform=token.platform, idempotency_key=idempotency_key
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                batch = ConsumptionBatch.objects.create(
                    platform=token.platform,
                    enterprise_uscc=uscc,
                    settles_application=application,
                    settles_contract_id=contract_id,
                    idempotency_key=idempotency_key,
                    file_sha256=sha,
                    file_name=file_name[:200],
                    file_size=size,
                )
                audit(
                    actor=None,
                    action="platform_settlement_submit" if settles else "platform_batch_submit",
                    obj=batch,
                    data={
                        **_actor(token),
                        "uscc": uscc,
                        "sha256": sha,
                        "bytes": size,
                        **(
                            {"application": application.pk, "contract": contract_id}
                            if application is not None
                            else {}
                        ),
                    },
                )
            return batch, True
        except IntegrityError:  # the same key posted twice at once: the other one won
            existing = ConsumptionBatch.objects.get(
                platform=token.platform, idempotency_key=idempotency_key
            )
    same_target = (existing.settles_application_id, existing.settles_contract_id) == (
        None if application is None else application.pk,
        contract_id,
    )
    if existing.file_sha256 != sha:
        what = "另一个文件 (another file)"
    elif existing.enterprise_uscc != uscc or not same_target:
        what = "同一文件的另一个目标企业或合同 (the same file for another enterprise or contract)"
    else:
        return existing, False
    raise Refused(
        f"该 Idempotency-Key 已用于{what}",
        code=refusals.CONFLICT,
        detail=f"batch {existing.pk} was submitted with this key; send this one under a new key",
        errors=[{"location": "header.Idempotency-Key", "message": "already used"}],
    )


def batch_withdraw(*, token: ApiToken, batch: ConsumptionBatch) -> ConsumptionBatch:
    """The platform withdraws a batch it sent by mistake (a wrong file, one sent twice under
    two keys): its rows stop counting (their aggregates stay, for the record) and a corrected
    file can be sent under a new key. Withdrawing twice is the same as once.

    Refused while the batch is being processed, and once the application its rows are evidence
    for has a decision: the direction-3 application built from the enterprise's consumption, or
    the applicant's application a settlement batch is attached to.
    """
    with transaction.atomic():
        batch = ConsumptionBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == ConsumptionBatch.WITHDRAWN:
            return batch
        if batch.status == ConsumptionBatch.RUNNING:
            raise Refused(
                "批次正在处理，处理完成后才能撤回 (the batch is being processed: withdraw it "
                "once it is done)",
                code=refusals.CONFLICT,
            )
        if batch.settles_application_id is not None:
            evidence_for = [batch.settles_application]
        else:
            evidence_for = [
                entry.application
                for entry in ShortlistEntry.objects.filter(
                    project__platform=batch.platform,
                    project__enterprise_uscc=batch.enterprise_uscc,
                    application__isnull=False,
                ).select_related("application")
            ]
        decided = [a for a in evidence_for if a is not None and a.state not in UNDECIDED_STATES]
        if decided:
            raise Refused(
                "批次所支撑的申报已作出审核决定，不能撤回 (the application this batch is "
                "evidence for has a decision)",
                code=refusals.CONFLICT,
                detail=f"application {decided[0].reference} is {decided[0].state}",
            )
        before = batch.status
        batch.status = ConsumptionBatch.WITHDRAWN
        batch.withdrawn_at = timezone.now()
        batch.save(update_fields=["status", "withdrawn_at"])
        audit(
            actor=None,
            action="platform_batch_withdraw",
            obj=batch,
            data={**_actor(token), "status_before": before},
        )
    return batch


def batch_submit(
    *,
    token: ApiToken,
    uscc: str,
    upload: IO[bytes],
    file_name: str,
    idempotency_key: str,
) -> tuple[ConsumptionBatch, bool]:
    """Store the file (content-addressed) and queue it once per Idempotency-Key.

    Same key and same file: the batch already queued or processed, `created` False. Same key,
    another file: refused with 409. The file is hashed while it is copied, never held whole.
    """
    _listed_project(token.platform, uscc)  # the key is checked with the rest of the upload
    return _batch_create(
        token=token,
        uscc=uscc,
        upload=upload,
        file_name=file_name,
        idempotency_key=idempotency_key,
    )


# --- the worker ----------------------------------------------------------------------------


def batch_contract_terms(batch: ConsumptionBatch) -> dict[tuple[str, str], tuple[date, date]]:
    if batch.settles_application_id is not None:
        return {(batch.enterprise_uscc, batch.settles_contract_id): SETTLEMENT_WINDOW}
    terms = {}
    for stored in PlatformContract.objects.filter(
        platform=batch.platform, enterprise_uscc=batch.enterprise_uscc
    ):
        document = stored.document
        terms[(stored.enterprise_uscc, stored.contract_id)] = (
            date.fromisoformat(document["valid_from"]),
            date.fromisoformat(document["valid_to"]),
        )
    return terms


def _takeable(now: datetime) -> Q:
    """Queued, or running under a lease that ran out (its worker was killed or stalled)."""
    return Q(status=ConsumptionBatch.QUEUED) | Q(
        status=ConsumptionBatch.RUNNING, leased_until__lt=now
    )


def _claim(batch_id: int | None) -> ConsumptionBatch | None:
    """Take one batch under a lease: the given one, or the oldest queued one, else the oldest
    whose lease ran out. Its attempt number goes up by one: the fencing token of this claim.

    On PostgreSQL several workers claim at once with SELECT … FOR UPDATE SKIP LOCKED: each
    skips the rows another is claiming. SQLite has no row locks: a conditional UPDATE (the
    batch still as we read it) takes it, and a worker that lost the race tries the next one.
    """
    now = timezone.now()
    candidates = ConsumptionBatch.objects.filter(_takeable(now))
    if batch_id is not None:
        candidates = candidates.filter(pk=batch_id)
    order = (
        Case(When(status=ConsumptionBatch.QUEUED, then=Value(0)), default=Value(1)),
        "pk",
    )
    claimed = {
        "status": ConsumptionBatch.RUNNING,
        "locked_at": now,
        "leased_until": lease.lease_end(now),
        "leased_by": lease.worker_name(),
    }
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            batch = candidates.select_for_update(skip_locked=True).order_by(*order).first()
            if batch is None:
                return None
            before = batch.status
            for field, value in claimed.items():
                setattr(batch, field, value)
            batch.attempts += 1
            batch.save(update_fields=[*claimed, "attempts"])
    else:
        for found in candidates.order_by(*order)[:20]:
            taken = ConsumptionBatch.objects.filter(
                _takeable(now), pk=found.pk, attempts=found.attempts
            ).update(attempts=F("attempts") + 1, **claimed)
            if taken:
                before = found.status
                batch = ConsumptionBatch.objects.get(pk=found.pk)
                break
        else:
            return None
    if before == ConsumptionBatch.RUNNING:
        logger.warning(
            "batch %s: taken over as attempt %s (the lease of the worker before ran out)",
            batch.pk,
            batch.attempts,
        )
    return batch


_AGGREGATE_COLUMNS = (
    "batch_id",
    "enterprise_uscc",
    "contract_id",
    "month",
    "resource_type",
    "device",
    "unit",
    "amount",
    "quantity",
    "outside_amount",
    "row_count",
    "prorated_rows",
    "first_row",
    "last_row",
    "row_sum",
    "first_second",
    "last_second",
)


# Aggregates per INSERT statement: one statement of 50 rows costs SQLite a third less than 50
# of one row (its per-statement work: measured 0.49 s against 0.77 s for 270,000 rows). 50 × 17
# parameters stays far below SQLite's 32,766 and PostgreSQL's 65,535.
ROWS_PER_INSERT = 50


def aggregates_store(*, batch: ConsumptionBatch, result: consumption.IngestResult) -> int:
    """Store the aggregates in bulk, inside the batch's transaction (call it there): on
    PostgreSQL with one `COPY … FROM STDIN` fed the CSV text of the rows (`stored_csv`: the
    DuckDB path's result writes it from its columns, with no Python per aggregate); elsewhere
    (SQLite) with parameterised statements of ROWS_PER_INSERT rows each. Either way the ORM's
    per-object work is skipped: it costs more than the ingest itself at a few hundred thousand
    rows. The number stored."""
    if connection.vendor == "postgresql":
        return _copy_aggregates(batch, result)
    table = connection.ops.quote_name(ConsumptionAggregate._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _AGGREGATE_COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_AGGREGATE_COLUMNS)) + ")"
    sql = f"INSERT INTO {table} ({columns}) VALUES "
    many = sql + ", ".join([row] * ROWS_PER_INSERT)
    width = ROWS_PER_INSERT * len(_AGGREGATE_COLUMNS)
    rows = result.stored_rows(batch.pk)
    count = 0
    with connection.cursor() as cursor, _sqlite_page_cache(cursor):
        while chunk := list(itertools.islice(rows, 100 * ROWS_PER_INSERT)):
            whole = len(chunk) - len(chunk) % ROWS_PER_INSERT
            if whole:  # ROWS_PER_INSERT rows' values, flat, per statement
                values = itertools.chain.from_iterable(chunk[:whole])
                cursor.executemany(many, list(zip(*[values] * width, strict=False)))
            if whole < len(chunk):  # the last few, one statement each
                cursor.executemany(sql + row, chunk[whole:])
            count += len(chunk)
    return count


def _copy_aggregates(batch: ConsumptionBatch, result: consumption.IngestResult) -> int:
    """PostgreSQL: the rows through psycopg's COPY API (`Cursor.copy`), in chunks as
    `stored_binary` (binary COPY) or else `stored_csv` (CSV text) makes them; the count is
    PostgreSQL's own (the COPY's row count)."""
    table = connection.ops.quote_name(ConsumptionAggregate._meta.db_table)
    # binary where the result makes it (the DuckDB path's): the server takes each integer as
    # its 8 bytes instead of parsing the text of every field (decision 0046)
    chunks = result.stored_binary(batch.pk)
    names, form = consumption.STORED_BINARY_COLUMNS, "binary"
    if chunks is None:
        chunks, names, form = result.stored_csv(batch.pk), _AGGREGATE_COLUMNS, "csv"
    columns = ", ".join(connection.ops.quote_name(c) for c in names)
    statement = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT {form})"
    # the database's errors as Django's (an IntegrityError for an aggregate of no batch, from
    # the triggers of voucher/platforms/aggregate_batch.py), as through Django's own cursor
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        with raw.copy(statement) as copy:
            for chunk in chunks:
                copy.write(chunk)
        return int(raw.rowcount)


@contextlib.contextmanager
def _sqlite_page_cache(cursor: Any) -> Iterator[None]:
    """SQLite (the demo's database) with a page cache of up to 128 MiB while the aggregates
    go in: with its default 2 MiB it writes pages out in the middle of the transaction, and
    inserting 270,000 aggregates took a fifth longer (measured: 1.63 s against 1.33 s)."""
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (previous,) = cursor.fetchone()
    cursor.execute("PRAGMA cache_size = -131072")  # KiB; pages are allocated as needed
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def batch_worker_start() -> None:
    """What a worker does once when it starts, so that no batch pays it: the ingest engine's
    imports and its DuckDB database (`consumption.prepare`, docs/workers.md)."""
    consumption.prepare()


def batch_worker_stop() -> None:
    """A worker that stops closes the ingest's database and removes its spill directory."""
    consumption.release()


def batch_process(
    *, batch_id: int | None = None, before_store: Callable[[], None] | None = None
) -> ConsumptionBatch | None:
    """The job: ingest one batch and store its aggregates, exactly once.

    The batch is claimed under a lease (voucher/platforms/lease.py) its heartbeat renews while
    the file is read and aggregated, outside any transaction. The result is stored in one
    transaction that first checks the claim is still ours (the batch running under our
    attempt number): a worker whose lease ran out and was taken over stores nothing, and a
    worker that dies (or an error) leaves nothing half stored. The batch is taken again: queued
    after an error, or by another worker once the lease of a killed one runs out.
    `before_store` lets the tests fail in the middle of storing.
    """
    batch = _claim(batch_id)
    if batch is None:
        return None
    attempt = batch.attempts
    if attempt > MAX_ATTEMPTS:  # every worker before was killed reading it (out of memory?)
        ConsumptionBatch.objects.filter(
            pk=batch.pk, status=ConsumptionBatch.RUNNING, attempts=attempt
        ).update(
            status=ConsumptionBatch.FAILED,
            refusal=f"the batch lost its worker {attempt - 1} times (killed or stalled)",
            locked_at=None,
            leased_until=None,
        )
        logger.error("batch %s: failed for good after %s attempts", batch.pk, attempt - 1)
        return ConsumptionBatch.objects.get(pk=batch.pk)
    try:
        with lease.Heartbeat(batch) as heartbeat:
            # what a worker killed in the middle of an ingest left in the temporary directory
            # (a batch it held is taken again here, once its lease ran out); never raises
            for leftover in scratch.sweep():
                logger.warning("removed the scratch item of a worker that is gone: %s", leftover)
            result, refusal = _ingest(batch)
        if heartbeat.lost.is_set():
            return ConsumptionBatch.objects.get(pk=batch.pk)  # another worker holds it
        with transaction.atomic():
            locked = ConsumptionBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.status != ConsumptionBatch.RUNNING or locked.attempts != attempt:
                logger.warning(
                    "batch %s: attempt %s lost its lease to attempt %s; its result is dropped",
                    batch.pk,
                    attempt,
                    locked.attempts,
                )
                return locked  # another worker took it over: its result counts, not ours
            locked.aggregates.all().delete()
            aggregates_store(batch=locked, result=result)
            if before_store is not None:
                before_store()
            locked.status = ConsumptionBatch.REFUSED if refusal else ConsumptionBatch.DONE
            locked.refusal = refusal
            locked.summary = result.summary()
            locked.error_report = consumption.errors_csv(result.errors)
            locked.finished_at = timezone.now()
            locked.locked_at = None
            locked.leased_until = None
            locked.save()
            audit(
                actor=None,
                action="platform_batch_process",
                obj=locked,
                data={"status": locked.status, "refusal": refusal, **locked.summary},
            )
        return locked
    except Exception as error:
        # back to the queue (or failed for good), unless another worker holds it by now
        ConsumptionBatch.objects.filter(
            pk=batch.pk, status=ConsumptionBatch.RUNNING, attempts=attempt
        ).update(
            status=(
                ConsumptionBatch.FAILED if attempt >= MAX_ATTEMPTS else ConsumptionBatch.QUEUED
            ),
            refusal=f"{type(error).__name__}: {error}"[:2000],
            locked_at=None,
            leased_until=None,
        )
        raise


def _ingest(batch: ConsumptionBatch) -> tuple[consumption.IngestResult, str]:
    """Read and aggregate the batch's file: (result, refusal of the whole file or "")."""
    policy_round = current_effective_round().policy_round
    window = (
        SETTLEMENT_WINDOW
        if batch.settles_application_id is not None
        else (policy_round.window_start, policy_round.window_end)
    )
    try:
        # DuckDB reads a local path: a store elsewhere (S3) is copied to a temporary file first
        with _local_file(batch.file_sha256) as path:
            return consumption.ingest_file(
                path, window=window, contracts=batch_contract_terms(batch)
            ), ""
    except consumption.BatchRefused as refused:
        result = consumption.IngestResult()
        result.errors = refused.errors  # the bad rows found before it, if that is why
        result.rows_rejected = len({error.row for error in refused.errors})
        return result, str(refused)
