"""Storing aggregates: SQLite's page cache is widened for the insert and put back after."""

from __future__ import annotations

import pytest
from django.db import connection

from voucher.platforms import actions


@pytest.mark.django_db
def test_the_page_cache_is_widened_while_storing_and_put_back():
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            with actions._sqlite_page_cache(cursor):
                pass  # nothing to widen: PostgreSQL has its own buffers
            return
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        with actions._sqlite_page_cache(cursor):
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -131072
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before
        with pytest.raises(RuntimeError), actions._sqlite_page_cache(cursor):
            raise RuntimeError("a failed insert")
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before
