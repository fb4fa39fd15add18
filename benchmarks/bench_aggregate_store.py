"""Where PostgreSQL's time goes when a batch's aggregates are stored (issue 18 item 11,
decision 0039): the groups of a consumption file made once, then stored with `aggregates_store`
under variants of the aggregate table, each in a transaction rolled back, the deferred checks
fired before the rollback (`SET CONSTRAINTS ALL IMMEDIATE`, what the commit would do).

    .venv/bin/python -m benchmarks.bench_aggregate_store --file /tmp/…/consumption-2000000-….csv \
        --database postgres://postgres@127.0.0.1:5432/BRANCH_probe [--repeat 3]

Prints per variant the wall seconds and the CPU seconds of this process and of the server
process behind the connection (from /proc), fastest of `--repeat`, variants interleaved."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from benchmarks.bench_consumption import _backend_cpu, _cpu
from benchmarks.support import fresh_database

AGGREGATE, BATCH = "platforms_consumptionaggregate", "platforms_consumptionbatch"
FOREIGN_KEY = (
    f"ALTER TABLE {AGGREGATE} ADD CONSTRAINT probe_fk FOREIGN KEY (batch_id)"
    f" REFERENCES {BATCH} (id) DEFERRABLE INITIALLY DEFERRED"
)


def _no_triggers(cursor) -> None:
    from voucher.platforms import aggregate_batch

    aggregate_batch._drop(cursor, "postgresql")


def _index_names(cursor, columns: str) -> list[str]:
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
        [AGGREGATE, f"%({columns})%"],
    )
    return [name for (name,) in cursor.fetchall()]


def _drop_index(columns: str):
    def change(cursor) -> None:
        for name in _index_names(cursor, columns):
            cursor.execute(f"DROP INDEX {name}")

    return change


VARIANTS = {
    "foreign key (before)": [_no_triggers, lambda c: c.execute(FOREIGN_KEY)],
    "triggers (after)": [],
    "triggers, work_mem 128MB": [lambda c: c.execute("SET LOCAL work_mem = '128MB'")],
    "neither": [_no_triggers],
    "triggers, no batch_id index": [_drop_index("batch_id")],
    "triggers, no (uscc, contract) index": [_drop_index("enterprise_uscc, contract_id")],
    "triggers, one (batch_id, contract_id) index": [
        _drop_index("batch_id"),
        _drop_index("enterprise_uscc, contract_id"),
        lambda c: c.execute(
            f"CREATE INDEX probe_batch_contract ON {AGGREGATE} (batch_id, contract_id)"
        ),
    ],
    "triggers, (uscc, contract) index COLLATE C": [
        _drop_index("enterprise_uscc, contract_id"),
        lambda c: c.execute(
            f'CREATE INDEX probe_c ON {AGGREGATE} (enterprise_uscc COLLATE "C", contract_id COLLATE "C")'
        ),
    ],
    "triggers, COPY of CSV text (before 0046)": [],
    "triggers, id sequence CACHE 1000": [
        lambda c: c.execute(f"ALTER SEQUENCE {AGGREGATE}_id_seq CACHE 1000")
    ],
    "triggers, no deduplication in either index": [
        lambda c: [
            c.execute(f"ALTER INDEX {name} SET (deduplicate_items = off)")
            for name in _index_names(c, "batch_id")
            + _index_names(c, "enterprise_uscc, contract_id")
        ]
    ],
    "neither, no secondary index": [
        _no_triggers,
        _drop_index("batch_id"),
        _drop_index("enterprise_uscc, contract_id"),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="")
    parser.add_argument(
        "--prefill", type=int, default=0, help="batches stored before, as a worker's table holds"
    )
    arguments = parser.parse_args()
    fresh_database("bench-aggregate-store-", arguments.database)
    from django.db import connection, transaction

    from voucher.platforms import actions, consumption, generate
    from voucher.platforms.models import ConsumptionBatch, Platform

    result = consumption.ingest_file(
        arguments.file,
        window=(date(2020, 1, 1), date(2030, 1, 1)),
        contracts=generate.Plan(arguments.enterprises).contracts(),
    )
    binary = result.stored_binary
    platform = Platform.objects.create(code="probe", name="probe")
    others = [
        ConsumptionBatch.objects.create(
            platform=platform,
            enterprise_uscc="-",
            idempotency_key=f"p{number}",
            file_sha256="-",
            file_size=0,
        )
        for number in range(arguments.prefill)
    ]
    batch = ConsumptionBatch.objects.create(
        platform=platform, enterprise_uscc="-", idempotency_key="p", file_sha256="-", file_size=0
    )
    chosen = [
        v for v in VARIANTS if not arguments.only or any(o in v for o in arguments.only.split("|"))
    ]
    best: dict[str, tuple[float, float, float, float]] = {}
    for _ in range(arguments.repeat):
        for name in chosen:
            with transaction.atomic(), connection.cursor() as cursor:
                for change in VARIANTS[name]:
                    change(cursor)
                for other in others:
                    actions.aggregates_store(batch=other, result=result)
                # the CSV text, as before the binary COPY (decision 0046)
                result.stored_binary = (  # type: ignore[method-assign]
                    (lambda batch_id: None) if "CSV text" in name else binary
                )
                began, cpu, server = time.perf_counter(), _cpu(), _backend_cpu(connection)
                count = actions.aggregates_store(batch=batch, result=result)
                stored = time.perf_counter() - began
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                wall = time.perf_counter() - began
                figures = (wall, _cpu() - cpu, _backend_cpu(connection) - server, stored)
                transaction.set_rollback(True)
            if name not in best or figures[0] < best[name][0]:
                best[name] = figures
            print(
                f"{name:38} {count:,} rows: {figures[0]:.2f} s (COPY {figures[3]:.2f} s),"
                f" worker CPU {figures[1]:.2f} s, server CPU {figures[2]:.2f} s",
                flush=True,
            )
    print("fastest of each:")
    for name, (wall, worker, server, _stored) in best.items():
        print(f"  {name:38} {wall:.2f} s, worker {worker:.2f} s, server {server:.2f} s")


if __name__ == "__main__":
    main()
