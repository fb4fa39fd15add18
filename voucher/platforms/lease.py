"""The consumption worker's lease on a batch (docs/workers.md).

A worker claims a batch with a lease: `leased_until` = now + VOUCHER_WORKER_LEASE_SECONDS
(60 s by default), and `attempts` goes up by one. The attempt number is the fencing token:
only the worker holding attempt N may store the batch's result, and the store checks it in the
same transaction that writes the aggregates. While the worker ingests, a heartbeat thread
renews the lease every VOUCHER_WORKER_HEARTBEAT_SECONDS (15 s); a worker killed with kill -9
stops renewing, its lease runs out and another worker takes the batch (attempt N + 1) within
a lease. A worker that was only slow (a pause longer than the lease) finds attempt N + 1 at
store time and stores nothing: every batch's rows are stored exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from types import TracebackType

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from voucher.platforms.models import ConsumptionBatch

logger = logging.getLogger(__name__)


def lease_duration() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "VOUCHER_WORKER_LEASE_SECONDS", 60)))


def heartbeat_interval() -> float:
    return float(getattr(settings, "VOUCHER_WORKER_HEARTBEAT_SECONDS", 15))


def lease_end(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + lease_duration()


def worker_name() -> str:
    """Who holds a lease, for the operator (admin, logs): host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def lease_renew(batch_id: int, attempt: int) -> bool:
    """Extend the lease of attempt `attempt`; False when it is no longer ours (another worker
    took the batch after our lease ran out, or the batch is finished)."""
    renewed = ConsumptionBatch.objects.filter(
        pk=batch_id, status=ConsumptionBatch.RUNNING, attempts=attempt
    ).update(leased_until=lease_end())
    return renewed == 1


class Heartbeat:
    """A thread renewing the lease while the worker ingests (`with Heartbeat(batch):`).

    `lost` is set once a renewal finds the batch is no longer ours: the worker stops and
    stores nothing (the store checks the attempt anyway; this only saves the work). A failed
    renewal (the database busy or away a moment) is retried at the next beat: the lease is
    four beats long. Inside a transaction (the tests' `db` fixture) no other connection sees
    the batch, so there is no heartbeat: the lease of the claim stands.
    """

    def __init__(self, batch: ConsumptionBatch) -> None:
        self.batch_id = batch.pk
        self.attempt = batch.attempts
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if not connection.in_atomic_block:
            self._thread = threading.Thread(
                target=self._run, name=f"lease-batch-{self.batch_id}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(heartbeat_interval()):
                try:
                    if not lease_renew(self.batch_id, self.attempt):
                        logger.warning(
                            "batch %s: lease of attempt %s lost", self.batch_id, self.attempt
                        )
                        self.lost.set()
                        return
                except DatabaseError as error:
                    logger.warning("batch %s: lease not renewed: %s", self.batch_id, error)
        finally:
            connection.close()  # this thread's own connection
