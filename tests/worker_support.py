"""`voucher platforms worker` in a subprocess, for the tests that kill one (kill -9).

Run as `python -m tests.worker_support` from the checkout, with DATABASE_URL naming the test
database and TEST_BATCH_DIR the batch files' directory. With TEST_WORKER_SLOW=<path> the
worker writes its pid to <path> when it starts reading a batch, then sleeps there for ten
minutes: a worker busy in the middle of a batch, to be killed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database the test runs on (the test database, not the configured one)."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        f"/{settings['NAME']}"
    )


def start_worker(
    batch_dir: Path, log: Path, *, slow: Path | None = None, **environment: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "voucher.settings",
        "DATABASE_URL": database_url(),
        "TEST_BATCH_DIR": str(batch_dir),
        **environment,
    }
    if slow is not None:
        env["TEST_WORKER_SLOW"] = str(slow)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.worker_support"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from voucher.platforms import consumption

    settings.VOUCHER_PLATFORM_BATCH_DIR = os.environ["TEST_BATCH_DIR"]
    marker = os.environ.get("TEST_WORKER_SLOW")
    if marker:
        ingest = consumption.ingest_file

        def slow_ingest(*args: Any, **kwargs: Any) -> Any:
            Path(marker).write_text(str(os.getpid()))
            time.sleep(600)
            return ingest(*args, **kwargs)

        consumption.ingest_file = slow_ingest
    call_command("platforms", "worker", "--sleep", "0.2")


if __name__ == "__main__":
    _main()
