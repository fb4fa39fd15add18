"""Heartbeats of the background workers: each one writes the time it was last seen alive, and
/healthz (voucher/core/views.py) reports it. One row per worker name (`platforms` is the
consumption-batch worker, `voucher platforms worker`; `documents` renders the documents,
`voucher documents worker`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

logger = logging.getLogger(__name__)

PLATFORMS_WORKER = "platforms"
DOCUMENTS_WORKER = "documents"  # `voucher documents worker`


class WorkerHeartbeat(models.Model):
    name = models.CharField("工作进程", max_length=50, unique=True)
    seen_at = models.DateTimeField("最近心跳")
    host = models.CharField("主机与进程", max_length=200, blank=True)

    class Meta:
        app_label = "core"
        verbose_name = "后台进程心跳"
        verbose_name_plural = "后台进程心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.seen_at:%Y-%m-%d %H:%M:%S} {self.host}"


def beat(name: str) -> None:
    """The worker `name` is alive now (one UPDATE, or the row's INSERT the first time)."""
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={"seen_at": timezone.now(), "host": f"{socket.gethostname()}:{os.getpid()}"[:200]},
    )


def worker_state(name: str) -> tuple[str, datetime | None]:
    """("ok" | "stale" | "none", when it was last seen): stale after
    VOUCHER_WORKER_STALE_SECONDS without a beat."""
    seen = WorkerHeartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
    if seen is None:
        return "none", None
    limit = timedelta(seconds=settings.VOUCHER_WORKER_STALE_SECONDS)
    return ("ok" if timezone.now() - seen <= limit else "stale"), seen


class Beating:
    """`with Beating(name, every=30):` beats at once, then every `every` seconds from a thread of
    its own until the block ends, so a batch that takes minutes does not look like a dead worker.
    A beat that fails (the database busy or away) is logged and tried again next time."""

    def __init__(self, name: str, every: float) -> None:
        self.name = name
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)

    def __enter__(self) -> Beating:
        beat(self.name)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    beat(self.name)
                except Exception as error:  # the next beat may succeed; the worker goes on
                    logger.warning("heartbeat of %s failed: %s", self.name, error)
        finally:
            connection.close()  # this thread's own connection
