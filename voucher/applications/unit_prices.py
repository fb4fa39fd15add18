"""The round's unit-price samples (RoundUnitPrice), counted by the database's triggers.

A delivery row is a sample of its round's unit-price statistics while the row, its contract and
its application all exist, the application is active (neither draft nor withdrawn) and the row
names a device. Every write that can change that moves the count, whatever order the writes come
in (docs/decisions/0035-unit-price-statistics.md):

- a delivery inserted, deleted, or given another device, unit, price or contract: its row;
- a contract inserted, deleted, or moved to another application: the rows under it;
- an application inserted, deleted, or changing round or becoming active or inactive (submitted,
  withdrawn, sent back to draft): the rows under it.

A row is counted when the last of the three comes to exist and uncounted when the first of them
goes (a trigger finds only the rows still joined), so a delete of an application before its
contracts, or of its deliveries before it, ends with the same counts. Triggers and not the
code's signals: a queryset's update, a bulk create or a delete in bulk send none, and a missed
path is a wrong finding.

`install` (the migration, then `post_migrate`) creates the triggers where one is missing and then
counts the whole table again: SQLite drops a table's triggers when a migration remakes the table.
"""

from __future__ import annotations

from typing import Any

from voucher.core.triggers import require_vendor, trigger_names

TABLE = "applications_roundunitprice"
DELIVERY, CONTRACT, APPLICATION = (
    "applications_delivery",
    "applications_contract",
    "applications_application",
)
INACTIVE = "('draft', 'withdrawn')"
# Each price's count is kept in SHARDS rows, by application (its id modulo SHARDS), and read as
# their sum: a counter is a row lock held until commit, and at a deadline rush every submission
# moves the counts of the same popular devices and prices. With one row per price the
# submissions queued on them (a rush of 100: p50 0.96 s → 1.57 s); with 16 two of them meet
# on a row one time in 16.
SHARDS = 16
COLUMNS = "(round_id, device, unit, unit_price, shard, deliveries)"
# every statement's SELECT has a WHERE: SQLite's upsert needs it after INSERT ... SELECT
UPSERT = (
    " ON CONFLICT (round_id, device, unit, unit_price, shard)"
    f" DO UPDATE SET deliveries = {TABLE}.deliveries + excluded.deliveries"
)
# the counters are taken in one order (a statement's rows sorted): two transactions moving the
# same devices' counts wait for each other rather than deadlock
ORDER = " ORDER BY 1, 2, 3, 4, 5"


def _delivery(row: str, sign: str) -> str:
    return (
        f"INSERT INTO {TABLE} {COLUMNS}"
        f" SELECT a.round_id, {row}.device, {row}.unit, {row}.unit_price, a.id % {SHARDS},"
        f" {sign}1"
        f" FROM {CONTRACT} c JOIN {APPLICATION} a ON a.id = c.application_id"
        f" WHERE c.id = {row}.contract_id AND a.state NOT IN {INACTIVE} AND {row}.device <> ''"
        + UPSERT
    )


def _contract(row: str, sign: str) -> str:
    return (
        f"INSERT INTO {TABLE} {COLUMNS}"
        f" SELECT a.round_id, d.device, d.unit, d.unit_price, a.id % {SHARDS}, {sign}COUNT(*)"
        f" FROM {DELIVERY} d JOIN {APPLICATION} a ON a.id = {row}.application_id"
        f" WHERE d.contract_id = {row}.id AND a.state NOT IN {INACTIVE} AND d.device <> ''"
        " GROUP BY a.round_id, d.device, d.unit, d.unit_price, a.id" + ORDER + UPSERT
    )


def _application(row: str, sign: str) -> str:
    return (
        f"INSERT INTO {TABLE} {COLUMNS}"
        f" SELECT {row}.round_id, d.device, d.unit, d.unit_price, {row}.id % {SHARDS},"
        f" {sign}COUNT(*)"
        f" FROM {DELIVERY} d JOIN {CONTRACT} c ON c.id = d.contract_id"
        f" WHERE c.application_id = {row}.id AND {row}.state NOT IN {INACTIVE}"
        " AND d.device <> ''"
        " GROUP BY d.device, d.unit, d.unit_price" + ORDER + UPSERT
    )


# (table, its statement, the columns whose update moves the counts, the update's condition in
# SQLite's words and in PostgreSQL's)
TRIGGERS: tuple[tuple[str, Any, str, str, str], ...] = (
    (
        DELIVERY,
        _delivery,
        "device, unit, unit_price, contract_id",
        "OLD.device IS NOT NEW.device OR OLD.unit IS NOT NEW.unit"
        " OR OLD.unit_price IS NOT NEW.unit_price OR OLD.contract_id IS NOT NEW.contract_id",
        "OLD.device IS DISTINCT FROM NEW.device OR OLD.unit IS DISTINCT FROM NEW.unit"
        " OR OLD.unit_price IS DISTINCT FROM NEW.unit_price"
        " OR OLD.contract_id IS DISTINCT FROM NEW.contract_id",
    ),
    (
        CONTRACT,
        _contract,
        "application_id",
        "OLD.application_id IS NOT NEW.application_id",
        "OLD.application_id IS DISTINCT FROM NEW.application_id",
    ),
    (
        APPLICATION,
        _application,
        "state, round_id",
        f"OLD.round_id IS NOT NEW.round_id"
        f" OR (OLD.state IN {INACTIVE}) IS NOT (NEW.state IN {INACTIVE})",
        f"OLD.round_id IS DISTINCT FROM NEW.round_id"
        f" OR (OLD.state IN {INACTIVE}) IS DISTINCT FROM (NEW.state IN {INACTIVE})",
    ),
)


def _name(table: str) -> str:
    return f"{table}_unit_prices"


def _sqlite(table: str, statement: Any, columns: str, changed: str) -> list[str]:
    name = _name(table)
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {statement('NEW', '')}; END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {statement('OLD', '-')}; END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {columns} ON {table} WHEN {changed}"
        f" BEGIN {statement('OLD', '-')}; {statement('NEW', '')}; END",
    ]


def _postgresql(table: str, statement: Any, columns: str, changed: str) -> list[str]:
    name = _name(table)
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        f" IF TG_OP = 'UPDATE' AND NOT ({changed}) THEN RETURN NULL; END IF;"
        f" IF TG_OP IN ('UPDATE', 'DELETE') THEN {statement('OLD', '-')}; END IF;"
        f" IF TG_OP IN ('UPDATE', 'INSERT') THEN {statement('NEW', '')}; END IF;"
        " RETURN NULL;"
        " END $$",
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def _expected(vendor: str) -> set[str]:
    if vendor == "postgresql":
        return {_name(table) for table, *_ in TRIGGERS}
    return {f"{_name(table)}_{event}" for table, *_ in TRIGGERS for event in EVENTS}


EVENTS = ("insert", "delete", "update")


def recount(cursor: Any) -> None:
    """Count the table again from the deliveries (what the triggers keep, from nothing)."""
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(
        f"INSERT INTO {TABLE} {COLUMNS}"
        f" SELECT a.round_id, d.device, d.unit, d.unit_price, a.id % {SHARDS}, COUNT(*)"
        f" FROM {DELIVERY} d JOIN {CONTRACT} c ON c.id = d.contract_id"
        f" JOIN {APPLICATION} a ON a.id = c.application_id"
        f" WHERE a.state NOT IN {INACTIVE} AND d.device <> ''"
        f" GROUP BY a.round_id, d.device, d.unit, d.unit_price, a.id % {SHARDS}"
    )


def install(connection: Any, *, recount_anyway: bool = False) -> bool:
    """Create the triggers that are missing and, if any was (or `recount_anyway`), count the
    table again; True if it did. In one transaction; on PostgreSQL the three tables are kept
    from writes meanwhile (a write between the count and the trigger would be lost)."""
    from django.db import transaction

    vendor = connection.vendor
    require_vendor(vendor, "the unit-price triggers")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        missing = not _expected(vendor) <= trigger_names(cursor, vendor)
        if not (missing or recount_anyway):
            return False
        if vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {DELIVERY}, {CONTRACT}, {APPLICATION} IN SHARE MODE")
        if missing:
            _create_triggers(cursor, vendor)
        recount(cursor)
    return True


def _create_triggers(cursor: Any, vendor: str) -> None:
    for table, statement, columns, sqlite_changed, postgresql_changed in TRIGGERS:
        if vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table)} ON {table}")
            created = _postgresql(table, statement, columns, postgresql_changed)
        else:
            for event in EVENTS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table)}_{event}")
            created = _sqlite(table, statement, columns, sqlite_changed)
        for sql in created:
            cursor.execute(sql)


def installed_after_migrate(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After `migrate` and after `flush` (which sends the same signal): the triggers are there
    and the counts are counted again from the rows. Again even with every trigger in place: on
    SQLite `flush` empties the tables by DELETE, in its own order, and each delivery deleted
    after the count table was emptied would leave a count below zero behind."""
    from django.db import connections

    if TABLE in connections[using].introspection.table_names():
        install(connections[using], recount_anyway=True)


def drop(connection: Any) -> None:
    """Remove the triggers (the migration taken back)."""
    with connection.cursor() as cursor:
        for table, *_ in TRIGGERS:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table)} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {_name(table)}()")
            else:
                for event in EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table)}_{event}")
