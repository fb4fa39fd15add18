"""`voucher documents worker`: renders the queued documents (voucher/documents/jobs.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.core.heartbeat import DOCUMENTS_WORKER, Beating
from voucher.documents import jobs


class Command(BaseCommand):
    help = "Documents (14-2, 14-3, 14-4, the package): the worker that renders them"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        worker = sub.add_parser("worker", help="render queued documents, each under a time limit")
        worker.add_argument("--once", action="store_true", help="stop when the queue is empty")
        worker.add_argument("--sleep", type=float, default=0.5)
        worker.add_argument(
            "--beat",
            type=float,
            default=30.0,
            help="seconds between heartbeats (/healthz reports the last one)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        jobs.preload()
        self.stdout.write(
            f"documents worker {jobs.worker_name()}: "
            f"time limit {jobs.timeout_seconds():g} s a document"
        )
        with Beating(DOCUMENTS_WORKER, every=options["beat"]):
            while True:
                try:
                    job = jobs.work_once()
                except Exception as error:  # the job is taken again once its lease runs out
                    self.stderr.write(f"document job failed, will be retried: {error}")
                    time.sleep(options["sleep"])
                    continue
                if job is not None:
                    took = f"{job.seconds:.1f} s" if job.seconds is not None else ""
                    self.stdout.write(
                        f"document job {job.pk}: {job.document}.{job.extension} "
                        f"of application {job.application_id} {job.state} {took}"
                        + (f" {job.error}" if job.error else "")
                    )
                    continue
                if options["once"]:
                    return
                time.sleep(options["sleep"])
