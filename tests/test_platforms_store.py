"""Storing aggregates: SQLite's page cache is widened for the insert and put back after."""

from __future__ import annotations

import pytest
from django.db import connection

from voucher.platforms import actions
from voucher.platforms.actions import batches


@pytest.mark.django_db
def test_the_page_cache_is_widened_while_storing_and_put_back():
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            with batches._sqlite_page_cache(cursor):
                pass  # nothing to widen: PostgreSQL has its own buffers
            return
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        with batches._sqlite_page_cache(cursor):
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -131072
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before
        with pytest.raises(RuntimeError), batches._sqlite_page_cache(cursor):
            raise RuntimeError("a failed insert")
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 5_000, 5_049], ids=lambda n: f"{n} aggregates")
def test_every_aggregate_is_stored_once_whatever_the_count(count):
    """Aggregates go in ROWS_PER_INSERT at a time and the rest one by one: at, below and
    above a statement's and a chunk's edge, each row is stored exactly as `stored_rows` says."""
    from voucher.platforms import consumption
    from voucher.platforms.models import ConsumptionAggregate, ConsumptionBatch, Platform

    assert actions.ROWS_PER_INSERT == 50
    platform = Platform.objects.create(code="store", name="store")
    batch = ConsumptionBatch.objects.create(
        platform=platform, enterprise_uscc="-", idempotency_key="k", file_sha256="-", file_size=0
    )
    result = consumption.IngestResult()
    for n in range(count):
        key = (
            "91110108MA00000019",
            f"C-{n % 7}",
            f"2025-{n % 12 + 1:02d}",
            "compute",
            "H20",
            f"u{n}",
        )
        result.aggregates[key] = consumption.Aggregate(
            amount_fen=n * 101,
            quantity_micro=n * 1_000_001,
            outside_fen=n,
            row_count=n + 1,
            prorated_rows=n % 2,
            first_row=n + 1,
            last_row=2 * n + 1,
            row_sum=3 * n + 1,
            first_second=None if n % 3 else n,
            last_second=None if n % 3 else n + 86_400,
        )
    assert actions.aggregates_store(batch=batch, result=result) == count
    stored = ConsumptionAggregate.objects.filter(batch=batch).order_by("pk")
    columns = batches._AGGREGATE_COLUMNS

    def as_stored(column, value):  # amounts in fen, the quantity as its text (core.columns)
        if column in ("amount", "outside_amount"):
            return int(value.scaleb(2))
        return str(value) if column == "quantity" else value

    got = [
        tuple(as_stored(c, v) for c, v in zip(columns, values, strict=True))
        for values in stored.values_list(*[c if c != "batch" else "batch_id" for c in columns])
    ]
    assert got == list(result.stored_rows(batch.pk))
