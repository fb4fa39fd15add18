"""`voucher jobs worker`: does the work queued after the request (voucher/core/jobs.py)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.core import jobs
from voucher.core.worker_loop import add_worker_arguments, run_worker


class Command(BaseCommand):
    help = "The worker of the jobs queued after the request (a submission's evaluation and e-mail)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        worker = sub.add_parser("worker", help="do queued jobs, each under a lease")
        add_worker_arguments(worker, sleep=0.2)
        worker.add_argument(
            "--nice",
            type=int,
            default=10,
            help="lower the worker's CPU priority by this much (os.nice), so that a rush of "
            "requests is served before the work queued after them; 0 leaves it as it is",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["nice"] > 0:
            os.nice(options["nice"])
        self.stdout.write(
            f"jobs worker {jobs.worker_name()}: lease {jobs.lease_seconds():g} s a job"
        )
        run_worker(
            self,
            options,
            heartbeat=jobs.JOBS_WORKER,
            # --once drains the queue now; the loop lets a rush of requests pass first
            take=lambda: jobs.work_once(yielding=not options["once"]),
            describe=lambda job: (
                f"job {job.pk}: {job.kind} {job.key} {job.state}"
                + (f" {job.error}" if job.error else "")
            ),
            failed="job failed, will be retried",
        )
