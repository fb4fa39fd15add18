"""Benchmark: audit writes per second, 1 and 8 concurrent writers, one head row against partitions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python -m benchmarks.bench_audit [--writes 200] [--writers 8] [--hold-ms 0]

Creates a database of its own on that PostgreSQL server (voucher_bench_audit_<pid>), migrates
it, and drops it at the end. Each writer is a thread with its own connection; each write is one
transaction holding one `audit(...)` entry (and, with --hold-ms, the rest of an action's work
after its entry: the transaction stays open that long, as an action's does). "before" is
VOUCHER_AUDIT_PARTITIONS=1: every write locks the one head row, as the code before the
partitions did; "after" is the default, 16 partitions. Printed side by side with the load
average; the entries are checked afterwards (none lost, `verify` clean).
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import threading
import time

SCENARIOS = (("before: one head row", 1), ("after: 16 partitions", 16))


def _create_database(url: str) -> tuple[str, str]:
    """A new database on the server of `url`: (its URL, its name)."""
    import psycopg

    name = f"voucher_bench_audit_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def _drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(writers: int, writes: int, hold: float) -> float:
    """Writes per second of `writers` threads writing `writes` entries each."""
    from django.db import connection, transaction

    from voucher.core.audit import audit

    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            for i in range(writes):
                with transaction.atomic():
                    audit(actor=None, action="bench", data={"writer": writer, "i": i})
                    if hold:
                        time.sleep(hold)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return writers * writes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=200, help="entries per writer")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--hold-ms", type=float, default=0.0)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (the database is not touched)")
    url, name = _create_database(server)
    try:
        os.environ.update(
            DATABASE_URL=url,
            VOUCHER_DEV="1",
            VOUCHER_AUDIT_KEY=secrets.token_hex(32),
            VOUCHER_DATA_DIR=tempfile.mkdtemp(prefix="bench-audit-"),
            DJANGO_SETTINGS_MODULE="voucher.settings",
        )
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from voucher.core.audit import verify_log
        from voucher.core.models import AuditEntry

        call_command("migrate", verbosity=0)
        connection.close()
        results: dict[tuple[str, int], float] = {}
        for label, partitions in SCENARIOS:
            settings.VOUCHER_AUDIT_PARTITIONS = partitions
            for writers in (1, args.writers):
                _run(writers, 5, 0)  # warm: connections, heads created
                results[label, writers] = _run(writers, args.writes, args.hold_ms / 1000)
        connection.close()
        result = verify_log()
        expected = len(SCENARIOS) * (5 + args.writes) * (1 + args.writers)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"audit writes per second, PostgreSQL, {args.writes} entries per writer, "
            f"hold {args.hold_ms:g} ms; load average {load}"
        )
        print(f"{'':24}{'1 writer':>12}{f'{args.writers} writers':>12}{'scaling':>10}")
        for label, _ in SCENARIOS:
            one, many = results[label, 1], results[label, args.writers]
            print(f"{label:24}{one:12.0f}{many:12.0f}{many / one:9.2f}x")
        before = results[SCENARIOS[0][0], args.writers]
        after = results[SCENARIOS[1][0], args.writers]
        print(f"{args.writers} writers, after / before: {after / before:.2f}x")
        print(
            f"entries {AuditEntry.objects.count()} (expected {expected}), "
            f"verify: {len(result.problems)} problems"
        )
        connection.close()
    finally:
        from django.db import connections

        connections.close_all()
        _drop_database(server, name)


if __name__ == "__main__":
    main()
