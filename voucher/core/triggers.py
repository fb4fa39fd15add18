"""The database triggers the project keeps itself (voucher.applications.unit_prices,
voucher.platforms.aggregate_batch): which of them a database holds, on the two vendors it runs
on. Each keeper installs its own; `install` creates what `trigger_names` does not list."""

from __future__ import annotations

from typing import Any

VENDORS = ("postgresql", "sqlite")


def require_vendor(vendor: str, what: str) -> None:
    """The keepers' SQL is written for PostgreSQL and SQLite only."""
    if vendor not in VENDORS:
        raise NotImplementedError(f"{what} are written for {vendor}")


def trigger_names(cursor: Any, vendor: str, prefix: str = "") -> set[str]:
    """The names of the user-defined triggers starting with `prefix` (PostgreSQL's internal
    ones, those behind its foreign keys, left out)."""
    if vendor == "postgresql":
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
            [prefix + "%"],
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            [prefix + "%"],
        )
    return {name for (name,) in cursor.fetchall()}
