"""A small queue of jobs done after the request: what a request must not wait for.

A request writes only what must be in its transaction and `enqueue`s the rest (a submission's
evaluation, its cross-check counts and its receipt e-mail: docs/decisions/0027-deferred-evaluation.md).
Each job has a kind, a payload (JSON) and a unique key, so that queuing the same work twice (a
retried request) queues it once. The apps name what each kind does with `register(kind, handler)`
in their AppConfig.ready(): the core imports no app above it.

`voucher jobs worker` takes jobs as the platforms' worker takes batches and the documents' worker
takes renders (voucher/documents/jobs.py): under a lease, with SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL so that several workers share one queue, the attempt number fencing the result. The
handler runs in one transaction with the job's "done": a worker killed in the middle leaves
nothing of its attempt, and its job is taken again once its lease (VOUCHER_JOB_LEASE_SECONDS) runs
out, up to MAX_ATTEMPTS; a job done by a worker whose lease ran out meanwhile is rolled back, so
every job is done exactly once. The worker beats (`jobs`), which /healthz reports.

With VOUCHER_JOBS_INLINE (development, the tests and the demo, where no worker runs) `enqueue` does
the job at once, in the caller's transaction, as the request did before.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from voucher.core import leases

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
JOBS_WORKER = "jobs"  # its heartbeat's name, `voucher jobs worker`

Handler = Callable[..., None]
_handlers: dict[str, Handler] = {}


class Job(models.Model):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STATES = ((QUEUED, "排队中"), (RUNNING, "进行中"), (DONE, "已完成"), (FAILED, "失败"))

    kind = models.CharField("类型", max_length=50)
    # one job per key: the same work queued twice (a retried request) is queued once
    key = models.CharField("键", max_length=200, unique=True)
    payload = models.JSONField("参数", default=dict)
    state = models.CharField("状态", max_length=10, choices=STATES, default=QUEUED)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    leased_until = models.DateTimeField("租约到期", null=True, blank=True)
    leased_by = models.CharField("工作进程", max_length=100, blank=True)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("排队时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        app_label = "core"
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        indexes = (models.Index(fields=["state", "id"], name="core_job_state_id"),)

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.state})"


def register(kind: str, handler: Handler) -> None:
    """What a job of `kind` does: handler(**payload), in a transaction."""
    _handlers[kind] = handler


def inline() -> bool:
    return bool(getattr(settings, "VOUCHER_JOBS_INLINE", False))


def lease_seconds() -> float:
    return float(getattr(settings, "VOUCHER_JOB_LEASE_SECONDS", 60))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def enqueue(kind: str, key: str, **payload: Any) -> Job:
    """Queue the job `key` once (in the caller's transaction: it is queued if that commits).
    Inline, it is done at once, in the caller's transaction."""
    if kind not in _handlers:
        raise LookupError(f"no handler registered for jobs of kind {kind!r}")
    job, created = Job.objects.get_or_create(key=key, defaults={"kind": kind, "payload": payload})
    if created and inline():
        _do_inline(job)
    return job


def enqueue_new(kind: str, key: str, **payload: Any) -> Job:
    """`enqueue` of a job whose key cannot have been queued before, because it names a row the
    caller's transaction has just created (a submission's evaluation): one INSERT, without the
    look-up (and the savepoint) that queuing once takes. Were the key queued all the same, the
    insert fails on the unique key and the caller's transaction with it: never twice."""
    if kind not in _handlers:
        raise LookupError(f"no handler registered for jobs of kind {kind!r}")
    job = Job.objects.create(key=key, kind=kind, payload=payload)
    if inline():
        _do_inline(job)
    return job


def _do_inline(job: Job) -> None:
    with transaction.atomic():
        _handlers[job.kind](**job.payload)
        Job.objects.filter(pk=job.pk).update(
            state=Job.DONE, attempts=1, finished_at=timezone.now(), leased_by="inline"
        )
    job.refresh_from_db()


def settle_seconds() -> float:
    return float(getattr(settings, "VOUCHER_JOBS_SETTLE_SECONDS", 1.0))


def max_defer_seconds() -> float:
    return float(getattr(settings, "VOUCHER_JOBS_MAX_DEFER_SECONDS", 30))


def _still_arriving(now: Any) -> bool:
    """Whether a job was queued within the last VOUCHER_JOBS_SETTLE_SECONDS: requests are coming
    in (a deadline rush), which the worker lets pass first."""
    newest = Job.objects.order_by("-pk").values_list("created_at", flat=True).first()
    return newest is not None and newest > now - timedelta(seconds=settle_seconds())


def claim(*, yielding: bool = False) -> Job | None:
    """Take one job under a lease (voucher/core/leases.py): the oldest queued, else the oldest
    whose lease ran out; its attempt number goes up by one.

    `yielding` (the worker's loop): while jobs are still arriving, only a job that has waited
    VOUCHER_JOBS_MAX_DEFER_SECONDS is taken. The requests that queue the jobs and the worker
    share the machine and the database (whose processes the worker's `nice` does not reach): in
    a rush of 100 submissions the worker's evaluations took a sixth of the CPU while applicants
    waited for their receipts. The evaluations wait instead, marked 评估中 (fail closed), at
    most that long once the rush is over or that long in all."""
    now = timezone.now()
    queryset = Job.objects.all()
    if yielding and _still_arriving(now):
        waited = now - timedelta(seconds=max_defer_seconds())
        queryset = queryset.filter(models.Q(state=Job.RUNNING) | models.Q(created_at__lt=waited))
    return leases.claim(
        queryset,
        now,
        {
            "state": Job.RUNNING,
            "leased_until": now + timedelta(seconds=lease_seconds()),
            "leased_by": worker_name(),
        },
    )


class LeaseLost(Exception):
    """Another worker took the job meanwhile: this attempt is rolled back."""


def run(job: Job) -> Job:
    """Do a claimed job: its handler and its "done" in one transaction, or failed with the reason
    (after MAX_ATTEMPTS; before that, an error leaves it to be taken again)."""
    if job.attempts > MAX_ATTEMPTS:
        leases.finish(job, state=Job.FAILED, error=f"abandoned after {MAX_ATTEMPTS} attempts")
        return job
    handler = _handlers.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler registered for jobs of kind {job.kind!r}")
        with transaction.atomic():
            handler(**job.payload)
            if not leases.finish(job, state=Job.DONE, error=""):
                raise LeaseLost
    except LeaseLost:
        logger.warning("job %s: lease lost; another attempt does it", job.pk)
        return job
    except Exception as error:
        logger.exception("job %s (%s) failed, attempt %d", job.pk, job.kind, job.attempts)
        message = f"{type(error).__name__}: {error}"[:2000]
        if job.attempts >= MAX_ATTEMPTS:
            leases.finish(job, state=Job.FAILED, error=message)
        else:  # taken again at once by the next free worker
            Job.objects.filter(pk=job.pk, state=Job.RUNNING, attempts=job.attempts).update(
                state=Job.QUEUED, leased_until=None, error=message
            )
            job.state, job.error = Job.QUEUED, message
    return job


def work_once(*, yielding: bool = False) -> Job | None:
    """Claim and do one job (the worker's loop, `yielding`: see claim); None when there is none
    to take."""
    job = claim(yielding=yielding)
    if job is None:
        return None
    return run(job)


def work_all() -> int:
    """Do every takeable job now (tests, `voucher jobs worker --once`); how many were run."""
    count = 0
    while work_once() is not None:
        count += 1
    return count
