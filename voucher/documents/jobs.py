"""Rendering documents off the request: the queue of DocumentJob, its worker and the time limit.

A request for a document computes its data hash (render.py). A job done for that hash is served
at once from storage; otherwise a job is queued (actions.document_request) and the page shows its
progress. `voucher documents worker` takes jobs as the platforms' worker takes batches
(voucher/platforms/lease.py): under a lease, with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL
so that several workers share one queue, the attempt number fencing the result. Each render runs
in a child process (fork) killed after VOUCHER_DOCUMENT_TIMEOUT_SECONDS: the job is failed with
a message saying so. A worker killed mid-render leaves its job running until the lease (the time
limit and a margin) runs out; the next worker takes it again, up to MAX_ATTEMPTS.

With VOUCHER_DOCUMENTS_INLINE (development, tests, the demo: no worker runs there) the request
renders the job itself, in process and without the time limit.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from datetime import timedelta
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.core import leases
from voucher.core.files import store_once
from voucher.documents import render
from voucher.documents.models import DocumentJob

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LEASE_MARGIN_SECONDS = 30


class RenderTimeout(Exception):
    pass


class RenderFailed(Exception):
    pass


def timeout_seconds() -> float:
    return float(getattr(settings, "VOUCHER_DOCUMENT_TIMEOUT_SECONDS", 60))


def inline() -> bool:
    return bool(getattr(settings, "VOUCHER_DOCUMENTS_INLINE", False))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def storage_name(job: DocumentJob) -> str:
    """Content-addressed by the data hash, which names the document, its data and templates."""
    return f"documents/{job.data_hash[:2]}/{job.data_hash}.{job.extension}"


# --- the queue --------------------------------------------------------------------------------


def claim(job_id: int | None = None) -> DocumentJob | None:
    """Take one job under a lease (voucher/core/leases.py): the given one, or the oldest queued,
    else the oldest whose lease ran out; its attempt number goes up by one."""
    now = timezone.now()
    jobs = DocumentJob.objects.all()
    if job_id is not None:
        jobs = jobs.filter(pk=job_id)
    return leases.claim(
        jobs,
        now,
        {
            "state": DocumentJob.RUNNING,
            "started_at": now,
            "leased_until": now + timedelta(seconds=timeout_seconds() + LEASE_MARGIN_SECONDS),
            "leased_by": worker_name(),
        },
    )


def run(job: DocumentJob, *, limited: bool = True) -> DocumentJob:
    """Render a claimed job, store the file and mark it done; or failed with the reason."""
    if job.attempts > MAX_ATTEMPTS:
        leases.finish(
            job,
            state=DocumentJob.FAILED,
            error=_(
                "生成文书的工作进程中断了 %(n)d 次，已停止尝试。请稍后重新打开此链接或联系管理员。"
            )
            % {"n": MAX_ATTEMPTS},
        )
        return job
    try:
        if limited:
            body = render_limited(job.application_id, job.document, job.extension)
        else:
            body = render.build(job.application_id, job.document, job.extension)
    except RenderTimeout:
        seconds = timeout_seconds()
        logger.warning("document job %s: over the time limit of %g s", job.pk, seconds)
        leases.finish(
            job,
            state=DocumentJob.FAILED,
            failure=DocumentJob.TIMEOUT,
            error=f"超过了 {seconds:g} 秒的时限",
        )
        return job
    except Exception as error:
        logger.exception("document job %s failed", job.pk)
        leases.finish(
            job,
            state=DocumentJob.FAILED,
            error=_("生成文书失败：%(error)s")
            % {"error": str(error)[:500] or type(error).__name__},
        )
        return job
    name = storage_name(job)
    store_once(default_storage, name, BytesIO(body))
    if not leases.finish(job, state=DocumentJob.DONE, file=name, size=len(body), error=""):
        logger.warning("document job %s: lease lost; another attempt stores it", job.pk)
    return job


def failure_message(job: DocumentJob) -> str:
    """Why a job failed, for the person who asked, in their language."""
    if job.failure == DocumentJob.TIMEOUT:
        return _(
            "生成文书超过了 %(seconds)s 秒的时限，已停止。"
            "通常是因为填写的文字过长：请精简项目概述或实施情况报告后重新生成。"
        ) % {"seconds": f"{timeout_seconds():g}"}
    if job.failure == DocumentJob.ABANDONED:
        return _("生成文书的工作进程多次中断，已停止尝试。请联系系统管理员。")
    return _("生成文书失败：%(error)s") % {"error": job.error}


def work_once() -> DocumentJob | None:
    """Claim and run one job (the worker's loop); None when the queue is empty."""
    job = claim()
    if job is None:
        return None
    return run(job)


def requeue(job: DocumentJob) -> DocumentJob:
    """A done job whose stored file is gone (a store wiped or restored without it): queued again."""
    DocumentJob.objects.filter(pk=job.pk, state=DocumentJob.DONE).update(
        state=DocumentJob.QUEUED, file="", size=None, finished_at=None
    )
    job.refresh_from_db()
    return job


def run_inline(job: DocumentJob) -> DocumentJob:
    """The request renders the job itself (VOUCHER_DOCUMENTS_INLINE)."""
    claimed = claim(job.pk)
    if claimed is None:  # done, failed, or another process is on it
        job.refresh_from_db()
        return job
    return run(claimed, limited=False)


# --- the time limit ---------------------------------------------------------------------------


def _child(application_id: int, document: str, extension: str, pipe: Any) -> None:
    try:
        body = render.build(application_id, document, extension)
    except BaseException as error:
        pipe.send(("error", f"{type(error).__name__}: {error}"))
    else:
        pipe.send(("ok", body))
    finally:
        pipe.close()
        connections.close_all()


def render_limited(application_id: int, document: str, extension: str) -> bytes:
    """Render in a child process; kill it after VOUCHER_DOCUMENT_TIMEOUT_SECONDS (RenderTimeout).

    The child is forked (it inherits the loaded code, WeasyPrint included, so a render does not
    pay Django's start-up) after the parent closed its database connections: the child opens its
    own. It reads the application from the database as it is now."""
    if connection.in_atomic_block:
        raise RuntimeError("a limited render needs committed data: it runs outside a transaction")
    connections.close_all()
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(application_id, document, extension, send), daemon=True
    )
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_seconds()):
            raise RenderTimeout
        try:
            outcome, value = receive.recv()
        except EOFError:
            raise RenderFailed("生成文书的进程意外退出") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if outcome != "ok":
        raise RenderFailed(value)
    body: bytes = value
    return body


def preload() -> None:
    """Load what a render needs once in the worker, so every forked render has it already."""
    import weasyprint  # noqa: F401

    render.template_version()
