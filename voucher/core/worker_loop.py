"""The loop of a queue's worker command (`voucher jobs worker`, `voucher documents worker`):
its common options, its heartbeat, one job at a time, a failed claim retried after a pause,
`--once` ending when there is nothing to take."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.management.base import BaseCommand

from voucher.core.heartbeat import Beating

J = TypeVar("J")


def add_worker_arguments(worker: Any, *, sleep: float) -> None:
    """--once, --sleep (seconds between two looks at an empty queue) and --beat."""
    worker.add_argument("--once", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--sleep", type=float, default=sleep)
    worker.add_argument(
        "--beat",
        type=float,
        default=30.0,
        help="seconds between heartbeats (/healthz reports the last one)",
    )


def run_worker(
    command: BaseCommand,
    options: dict[str, Any],
    *,
    heartbeat: str,
    take: Callable[[], J | None],
    describe: Callable[[J], str],
    failed: str,
) -> None:
    """Beat as `heartbeat` and do what `take` claims and does (None: nothing to take) until
    killed, or with --once until nothing is left; each done job is written as `describe` says.
    An exception in `take` is written after `failed` and the loop goes on: the job is taken
    again once its lease runs out."""
    with Beating(heartbeat, every=options["beat"]):
        while True:
            try:
                job = take()
            except Exception as error:
                command.stderr.write(f"{failed}: {error}")
                time.sleep(options["sleep"])
                continue
            if job is not None:
                command.stdout.write(describe(job))
                continue
            if options["once"]:
                return
            time.sleep(options["sleep"])
