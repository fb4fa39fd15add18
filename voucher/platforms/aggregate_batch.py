"""The reference of every consumption aggregate to its batch, kept by the database's triggers
(docs/decisions/0039-aggregate-batch-by-triggers.md).

`ConsumptionAggregate.batch` has no foreign-key constraint (`db_constraint=False`): on
PostgreSQL the constraint checked each of a batch's 250,000 aggregates one at a time (a row
trigger per aggregate, about 1 s of the server per batch at the commit). The same guarantees are
kept by triggers instead:

- an aggregate inserted or updated names a batch that exists, or the statement fails
  (foreign_key_violation on PostgreSQL, a constraint failure on SQLite). On PostgreSQL one
  statement-level trigger checks the statement's distinct batches (one for a COPY) and locks each
  one `FOR KEY SHARE` until the commit, as the foreign key's check does, so that a delete of the
  batch in another transaction waits for ours or makes ours fail;
- a batch deleted takes its aggregates with it (the model's `on_delete=CASCADE`, now also for a
  delete that does not go through the ORM; the ORM deletes them first and the trigger finds none);
- a batch's id changed while aggregates name it, or the batch table truncated while aggregates
  remain, is refused (a TRUNCATE of both tables together, as Django's `flush` does, is not).

Unlike the constraint (deferred to the commit) the check is at the end of each statement: an
aggregate cannot be inserted before its batch, even inside one transaction. Nothing does.

`install` (the migration, then `post_migrate`) creates the triggers that are missing: SQLite
drops a table's triggers when a migration remakes the table.
"""

from __future__ import annotations

from typing import Any

from voucher.core.triggers import require_vendor, trigger_names

AGGREGATE = "platforms_consumptionaggregate"
BATCH = "platforms_consumptionbatch"
PREFIX = "platforms_aggregate_batch"
APP, MIGRATION = "platforms", "0008_aggregate_batch_by_triggers"

_MISSING = "a consumption aggregate names a batch that does not exist"
_RENAMED = "a consumption batch named by aggregates cannot change its id"
_TRUNCATED = "the consumption batches cannot be truncated without their aggregates"

# PostgreSQL: (function, its body, the triggers that run it)
_POSTGRESQL: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        f"{PREFIX}_exists",
        # the distinct batches of the statement's rows: one for a batch's COPY
        "DECLARE wanted bigint;"
        " BEGIN"
        " FOR wanted IN SELECT DISTINCT batch_id FROM new_rows LOOP"
        f" PERFORM 1 FROM {BATCH} WHERE id = wanted FOR KEY SHARE;"
        " IF NOT FOUND OR wanted IS NULL THEN"
        f" RAISE EXCEPTION '{_MISSING} (%)', wanted USING ERRCODE = 'foreign_key_violation';"
        " END IF;"
        " END LOOP;"
        " RETURN NULL;"
        " END",
        (
            f"CREATE TRIGGER {PREFIX}_insert AFTER INSERT ON {AGGREGATE}"
            f" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}_exists()",
            f"CREATE TRIGGER {PREFIX}_update AFTER UPDATE ON {AGGREGATE}"
            f" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}_exists()",
        ),
    ),
    (
        f"{PREFIX}_cascade",
        f"BEGIN DELETE FROM {AGGREGATE} WHERE batch_id IN (SELECT id FROM old_rows); RETURN NULL; END",
        (
            f"CREATE TRIGGER {PREFIX}_delete AFTER DELETE ON {BATCH}"
            f" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}_cascade()",
        ),
    ),
    (
        f"{PREFIX}_renamed",
        f"BEGIN IF EXISTS (SELECT 1 FROM {AGGREGATE} WHERE batch_id = OLD.id) THEN"
        f" RAISE EXCEPTION '{_RENAMED} (%)', OLD.id USING ERRCODE = 'foreign_key_violation';"
        " END IF; RETURN NULL; END",
        (
            f"CREATE TRIGGER {PREFIX}_renamed AFTER UPDATE OF id ON {BATCH}"
            f" FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION {PREFIX}_renamed()",
        ),
    ),
    (
        f"{PREFIX}_truncated",
        # AFTER TRUNCATE fires once every table of the statement is empty
        f"BEGIN IF EXISTS (SELECT 1 FROM {AGGREGATE}) THEN"
        f" RAISE EXCEPTION '{_TRUNCATED}' USING ERRCODE = 'foreign_key_violation';"
        " END IF; RETURN NULL; END",
        (
            f"CREATE TRIGGER {PREFIX}_truncated AFTER TRUNCATE ON {BATCH}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}_truncated()",
        ),
    ),
)

_BATCH_EXISTS = f"EXISTS (SELECT 1 FROM {BATCH} WHERE id = NEW.batch_id)"
# SQLite: (trigger, its definition); a row trigger's RAISE(ABORT) is an IntegrityError
_SQLITE: tuple[tuple[str, str], ...] = (
    (
        f"{PREFIX}_insert",
        f"BEFORE INSERT ON {AGGREGATE} WHEN NOT {_BATCH_EXISTS}"
        f" BEGIN SELECT RAISE(ABORT, '{_MISSING}'); END",
    ),
    (
        f"{PREFIX}_update",
        f"BEFORE UPDATE OF batch_id ON {AGGREGATE} WHEN NOT {_BATCH_EXISTS}"
        f" BEGIN SELECT RAISE(ABORT, '{_MISSING}'); END",
    ),
    (
        f"{PREFIX}_delete",
        f"AFTER DELETE ON {BATCH} BEGIN DELETE FROM {AGGREGATE} WHERE batch_id = OLD.id; END",
    ),
    (
        f"{PREFIX}_renamed",
        f"BEFORE UPDATE OF id ON {BATCH} WHEN OLD.id IS NOT NEW.id"
        f" AND EXISTS (SELECT 1 FROM {AGGREGATE} WHERE batch_id = OLD.id)"
        f" BEGIN SELECT RAISE(ABORT, '{_RENAMED}'); END",
    ),
)


def _expected(vendor: str) -> set[str]:
    if vendor == "postgresql":
        return {sql.split()[2] for _, _, triggers in _POSTGRESQL for sql in triggers}
    return {name for name, _ in _SQLITE}


def _orphans(cursor: Any) -> int:
    cursor.execute(
        f"SELECT count(*) FROM {AGGREGATE} a"
        f" WHERE NOT EXISTS (SELECT 1 FROM {BATCH} b WHERE b.id = a.batch_id)"
    )
    (count,) = cursor.fetchone()
    return int(count)


def install(connection: Any) -> bool:
    """Create the triggers if any is missing (all of them again, in one transaction); True if
    it did. Refuses (IntegrityError) if aggregates name a batch that does not exist: the
    triggers keep a table that holds none."""
    from django.db import IntegrityError, transaction

    vendor = connection.vendor
    require_vendor(vendor, "the aggregates' batch triggers")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if _expected(vendor) <= trigger_names(cursor, vendor, PREFIX):
            return False
        if vendor == "postgresql":  # no write between the check and the triggers
            cursor.execute(f"LOCK TABLE {BATCH}, {AGGREGATE} IN SHARE MODE")
        orphans = _orphans(cursor)
        if orphans:
            raise IntegrityError(f"{orphans} consumption aggregates name no batch")
        _drop(cursor, vendor)
        if vendor == "postgresql":
            for function, body, triggers in _POSTGRESQL:
                cursor.execute(
                    f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger"
                    f" LANGUAGE plpgsql AS $$ {body} $$"
                )
                for sql in triggers:
                    cursor.execute(sql)
        else:
            for name, definition in _SQLITE:
                cursor.execute(f"CREATE TRIGGER {name} {definition}")
    return True


def _drop(cursor: Any, vendor: str) -> None:
    if vendor == "postgresql":
        for function, _, triggers in _POSTGRESQL:
            for sql in triggers:
                table = sql.split(" ON ")[1].split()[0]
                cursor.execute(f"DROP TRIGGER IF EXISTS {sql.split()[2]} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name, _ in _SQLITE:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def drop(connection: Any) -> None:
    """Remove the triggers (the migration taken back: the foreign key is made again)."""
    with connection.cursor() as cursor:
        _drop(cursor, connection.vendor)


def installed_after_migrate(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After `migrate` (and `flush`): the triggers are there, whatever a migration remade."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    # not while the migration that took the foreign key away is unapplied (migrated back)
    if (APP, MIGRATION) in MigrationRecorder(connection).applied_migrations():
        install(connection)
