"""The aggregates' batch, kept by triggers instead of a foreign-key constraint (decision 0039,
voucher/platforms/aggregate_batch.py): on SQLite and on PostgreSQL an aggregate cannot name a
batch that does not exist, and a batch deleted, even outside the ORM, takes its aggregates."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from voucher.core.triggers import trigger_names
from voucher.platforms import actions, aggregate_batch, consumption
from voucher.platforms.models import ConsumptionAggregate, ConsumptionBatch, Platform

AGGREGATE, BATCH = aggregate_batch.AGGREGATE, aggregate_batch.BATCH


def _batch(key: str = "k") -> ConsumptionBatch:
    platform, _ = Platform.objects.get_or_create(code="guard", defaults={"name": "guard"})
    return ConsumptionBatch.objects.create(
        platform=platform, enterprise_uscc="-", idempotency_key=key, file_sha256="-", file_size=0
    )


def _result(count: int) -> consumption.IngestResult:
    result = consumption.IngestResult()
    for n in range(count):
        key = ("91110108MA00000019", "C-1", "2025-01", "compute", "H20", f"u{n}")
        result.aggregates[key] = consumption.Aggregate(
            amount_fen=n, quantity_micro=n, outside_fen=0, row_count=1, prorated_rows=0,
            first_row=n + 1, last_row=n + 1, row_sum=n + 1, first_second=None, last_second=None,
        )  # fmt: skip
    return result


def _aggregate(batch_id: int) -> ConsumptionAggregate:
    return ConsumptionAggregate.objects.create(
        batch_id=batch_id, enterprise_uscc="91110108MA00000019", contract_id="C-1",
        month="2025-01", resource_type="compute", device="H20", unit="hour", amount=0,
        quantity=0, outside_amount=0, row_count=1, prorated_rows=0, first_row=1, last_row=1,
        row_sum=1,
    )  # fmt: skip


def _count(batch_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {AGGREGATE} WHERE batch_id = %s", [batch_id])
        return cursor.fetchone()[0]


def test_the_column_has_no_constraint_and_the_triggers_are_there(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AGGREGATE)
        assert not [c for c in constraints.values() if c["foreign_key"]]
        # the batch is still looked up by its index (the delete before a store, the readers)
        assert [c for c in constraints.values() if c["index"] and c["columns"] == ["batch_id"]]
        assert aggregate_batch._expected(connection.vendor) <= trigger_names(
            cursor, connection.vendor, aggregate_batch.PREFIX
        )
    assert aggregate_batch.install(connection) is False  # nothing missing: nothing done


def test_an_aggregate_of_a_batch_that_does_not_exist_is_refused(db):
    batch = _batch()
    missing = batch.pk + 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        _aggregate(missing)
    with pytest.raises(IntegrityError), transaction.atomic():
        # the bulk store: a COPY on PostgreSQL, 50-row INSERTs on SQLite
        actions.aggregates_store(batch=ConsumptionBatch(pk=missing), result=_result(120))
    assert _count(missing) == 0
    assert actions.aggregates_store(batch=batch, result=_result(120)) == 120
    assert _count(batch.pk) == 120


def test_an_aggregate_cannot_be_moved_to_a_batch_that_does_not_exist(db):
    batch, other = _batch("a"), _batch("b")
    aggregate = _aggregate(batch.pk)
    ConsumptionAggregate.objects.filter(pk=aggregate.pk).update(batch_id=other.pk)  # exists
    ConsumptionAggregate.objects.filter(pk=aggregate.pk).update(device="")  # batch unchanged
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsumptionAggregate.objects.filter(pk=aggregate.pk).update(batch_id=other.pk + 1000)
    assert ConsumptionAggregate.objects.get(pk=aggregate.pk).batch_id == other.pk


def test_a_batch_deleted_takes_its_aggregates_in_the_orm_and_in_sql(db):
    kept, by_orm, by_sql = _batch("kept"), _batch("orm"), _batch("sql")
    for batch in (kept, by_orm, by_sql):
        actions.aggregates_store(batch=batch, result=_result(60))
    by_orm.delete()  # Django's on_delete=CASCADE
    with connection.cursor() as cursor:  # a delete that never saw the ORM
        cursor.execute(f"DELETE FROM {BATCH} WHERE id = %s", [by_sql.pk])
    assert (_count(by_orm.pk), _count(by_sql.pk), _count(kept.pk)) == (0, 0, 60)


def test_a_batch_named_by_aggregates_keeps_its_id(db):
    named, empty = _batch("named"), _batch("empty")
    _aggregate(named.pk)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {BATCH} SET id = id + 1000 WHERE id = %s", [named.pk])
    with connection.cursor() as cursor:  # one no aggregate names may
        cursor.execute(f"UPDATE {BATCH} SET id = id + 1000 WHERE id = %s", [empty.pk])
    assert ConsumptionBatch.objects.filter(pk=empty.pk + 1000).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_the_batches_are_not_truncated_without_their_aggregates(db):
    _aggregate(_batch().pk)
    with connection.cursor() as cursor:  # the batch's own deferred checks (its platform) done
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {BATCH}")
    assert ConsumptionAggregate.objects.count() == 1
    with connection.cursor() as cursor:  # both together, as Django's flush does
        cursor.execute(f"TRUNCATE {BATCH}, {AGGREGATE}")
    assert ConsumptionAggregate.objects.count() == 0


def test_install_refuses_a_table_with_aggregates_of_no_batch(db):
    batch = _batch()
    _aggregate(batch.pk)
    aggregate_batch.drop(connection)
    try:
        with connection.cursor() as cursor:  # the guard gone, an orphan gets in
            cursor.execute(f"UPDATE {AGGREGATE} SET batch_id = batch_id + 1000")
        with pytest.raises(IntegrityError):
            aggregate_batch.install(connection)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {AGGREGATE} SET batch_id = batch_id - 1000")
    finally:
        assert aggregate_batch.install(connection) is True


_INSERT = (
    f"INSERT INTO {AGGREGATE} (batch_id, enterprise_uscc, contract_id, month, resource_type,"
    " device, unit, amount, quantity, outside_amount, row_count, prorated_rows, first_row,"
    " last_row, row_sum) VALUES (%s, 'u', 'c', '2025-01', 'compute', '', 'h', 0, '0', 0, 1, 0,"
    " 1, 1, 1)"
)


def _raw_connection():
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
        options="-c lock_timeout=10000",
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_batch_deleted_meanwhile_waits_for_or_refuses_its_aggregates():
    """As the constraint's check did: the statement's batches are locked FOR KEY SHARE, so an
    insert waits for a delete of its batch in progress and then fails, and a delete waits
    for an insert in progress and then takes the aggregates with it."""
    import threading

    import psycopg

    first, second = _batch("first"), _batch("second")
    with _raw_connection() as deleting, _raw_connection() as inserting:
        # a delete in progress: the insert waits for it, then finds no batch
        deleting.execute(f"DELETE FROM {BATCH} WHERE id = %s", [first.pk])
        outcome: list[BaseException | None] = []

        def insert() -> None:
            try:
                inserting.execute(_INSERT, [first.pk])
                outcome.append(None)
            except BaseException as error:  # reported below
                outcome.append(error)
            finally:
                inserting.rollback()

        thread = threading.Thread(target=insert)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting on the batch's row
        deleting.commit()
        thread.join(10)
        assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
        # an insert in progress: the delete waits for it, then takes the aggregate too
        inserting.execute(_INSERT, [second.pk])
        thread = threading.Thread(
            target=lambda: deleting.execute(f"DELETE FROM {BATCH} WHERE id = %s", [second.pk])
        )
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()
        inserting.commit()
        thread.join(10)
        deleting.commit()
    assert _count(second.pk) == 0
    assert not ConsumptionBatch.objects.filter(pk__in=[first.pk, second.pk]).exists()
