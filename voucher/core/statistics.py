"""The query planner's statistics after a bulk load.

PostgreSQL's autovacuum analyzes a table only after its own threshold and delay; until then the
planner guesses the sizes of freshly loaded tables, and guesses badly (on a season of 5,000
applications loaded at once, the dashboard's budget query took 149 ms instead of 11, and the
review screen's wall time was twice its CPU). pg_restore writes no statistics either: its
documentation advises an ANALYZE after it. So whatever loads in bulk (a restore, a season)
ends with this."""

from __future__ import annotations

from django.db import connection


def refresh_planner_statistics() -> bool:
    """ANALYZE the whole database on PostgreSQL (a few seconds at a season's size); SQLite's
    planner keeps no such statistics by default, so nothing there. Whether it ran."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True
