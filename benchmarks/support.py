"""What the Django-backed benchmarks share: a fresh, migrated SQLite database, and timing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any


def fresh_sqlite(prefix: str) -> str:
    """Set Django up on a new SQLite database in a new data directory (whatever DATABASE_URL
    says), migrated; the directory."""
    directory = tempfile.mkdtemp(prefix=prefix)
    os.environ["VOUCHER_DATA_DIR"] = directory
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return directory


def fresh_database(prefix: str, url: str | None) -> str:
    """`fresh_sqlite`, or with `url` (PostgreSQL) Django set up on that database, migrated and
    emptied (`flush`); the data directory, new either way."""
    if not url:
        return fresh_sqlite(prefix)
    directory = tempfile.mkdtemp(prefix=prefix)
    os.environ["VOUCHER_DATA_DIR"] = directory
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    return directory


def best_and_median(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Seconds of the fastest and of the median of `repeat` calls of `fn`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)
