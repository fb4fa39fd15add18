"""A query the ORM writes once per process and database, then asked with each call's values.

Building a queryset and compiling it to SQL is most of the CPU of a query that returns few rows
(~0.5 ms for one with a FilteredRelation, a subquery and a few aggregates): a page that asks the
same query on every request, only its values changing (a round's id, a direction), pays it each
time (issue 23; decisions 0048, 0049). `CompiledQuery` asks the ORM for the query once, built with
sentinel values no row holds, and then runs that SQL with the call's values in their place; its
rows are converted by the converters the ORM chose for its columns (a MoneyField's Decimal, a
month in the current time zone), so they are what the queryset returns, or left as the driver
returns them (`convert=False`: a money column's whole fen, for sums worked out in integers).

The SQL is fixed at the first call: what it was built from must not change while the process
runs (the settings, the time zone, the sentinels' places among the parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet


class CompiledQuery:
    """`build(*sentinels)`'s SQL, compiled once per database alias; `rows(alias, *values)` runs
    it with each sentinel among its parameters replaced by the value in its place."""

    def __init__(
        self, build: Callable[..., QuerySet[Any]], *sentinels: int, convert: bool = True
    ) -> None:
        self.build = build
        self.sentinels = sentinels
        self.convert = convert
        self._compiled: dict[str, tuple[str, list[Any], list[tuple[int, Any]]]] = {}

    def _compile(self, alias: str) -> tuple[str, list[Any], list[tuple[int, Any]]]:
        if alias not in self._compiled:
            compiler = self.build(*self.sentinels).using(alias).query.get_compiler(alias)
            sql, params = compiler.as_sql()
            # each sentinel a parameter (not written into the SQL, where it would stay)
            assert all(s in params for s in self.sentinels), (self.sentinels, params)
            assert not any(str(s) in sql for s in self.sentinels), sql
            # what QuerySet iteration applies (SQLCompiler.results_iter)
            columns = [column for column, *_ in compiler.select[: compiler.col_count]]
            converters = list(compiler.get_converters(columns).items()) if self.convert else []
            self._compiled[alias] = (sql, list(params), converters)
        return self._compiled[alias]

    def sql(self, alias: str) -> tuple[str, list[Any]]:
        sql, params, _converters = self._compile(alias)
        return sql, params

    def rows(self, alias: str, *values: Any) -> list[tuple[Any, ...]]:
        sql, params, converters = self._compile(alias)
        given = dict(zip(self.sentinels, values, strict=True))
        asked = [type(p)(given[p]) if _sentinel(p, given) else p for p in params]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, asked)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            values_ = list(row)
            for position, (functions, expression) in converters:
                value = values_[position]
                for function in functions:
                    value = function(value, expression, connection)
                values_[position] = value
            converted.append(tuple(values_))
        return converted


def _sentinel(param: Any, given: dict[int, Any]) -> bool:
    """Whether a parameter is one of the sentinels: an int, or the driver's wrapper of one
    (psycopg's Int2 for a small integer column), never True (which equals 1)."""
    return isinstance(param, int) and not isinstance(param, bool) and param in given
