"""`voucher jobs worker`: does the work queued after the request (voucher/core/jobs.py)."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.core import jobs
from voucher.core.heartbeat import Beating


class Command(BaseCommand):
    help = "The worker of the jobs queued after the request (a submission's evaluation and e-mail)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        worker = sub.add_parser("worker", help="do queued jobs, each under a lease")
        worker.add_argument("--once", action="store_true", help="stop when the queue is empty")
        worker.add_argument("--sleep", type=float, default=0.2)
        worker.add_argument(
            "--nice",
            type=int,
            default=10,
            help="lower the worker's CPU priority by this much (os.nice), so that a rush of "
            "requests is served before the work queued after them; 0 leaves it as it is",
        )
        worker.add_argument(
            "--beat",
            type=float,
            default=30.0,
            help="seconds between heartbeats (/healthz reports the last one)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["nice"] > 0:
            os.nice(options["nice"])
        self.stdout.write(
            f"jobs worker {jobs.worker_name()}: lease {jobs.lease_seconds():g} s a job"
        )
        with Beating(jobs.JOBS_WORKER, every=options["beat"]):
            while True:
                try:
                    # --once drains the queue now; the loop lets a rush of requests pass first
                    job = jobs.work_once(yielding=not options["once"])
                except Exception as error:  # the job is taken again once its lease runs out
                    self.stderr.write(f"job failed, will be retried: {error}")
                    time.sleep(options["sleep"])
                    continue
                if job is not None:
                    self.stdout.write(
                        f"job {job.pk}: {job.kind} {job.key} {job.state}"
                        + (f" {job.error}" if job.error else "")
                    )
                    continue
                if options["once"]:
                    return
                time.sleep(options["sleep"])
