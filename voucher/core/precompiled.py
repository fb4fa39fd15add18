"""Querysets whose SQL the ORM writes once per process, then asks with each call's values
(issue 23, decision 0050).

Compiling a query (resolving its joins, its columns, quoting their names, writing the SQL) is
about a fifth of the review screen's CPU: 0.2–0.7 ms for each of its twenty queries, every
request, though their shape never changes and only the ids in them do. `rows(key, model,
build, **values)` builds the queryset once with a sentinel in place of each value
(`build(**sentinels)`) and compiles it; each call then asks that SQL with the sentinels replaced by `values` and makes
the rows as the ORM makes them (the same compiler's columns, converters, related objects),
so the result is the queryset's own `list(...)`.

A value may be compared with a text column as its digits (`object_id=str(pk)`, an audit
entry's object): the sentinel's digits are found among the parameters and the call's value is
asked as `str(value)` (decision 0055, the status page's timeline).

Only for querysets whose SQL depends on nothing but the values passed (no IN list whose length
varies, no value that the ORM writes into the SQL rather than as a parameter): a value found
other than as its sentinel among the parameters is refused when compiled. Like
applications/absent_rows.py's one query (decision 0048), which was the first compiled so.

Two forms, one technique (decisions 0049 and 0050 found it apart; it is kept here once):

- `rows(key, model, build, **values)`: model instances, made by the queryset's own machinery
  (the review screen's application, evaluation, document, materials).
- `CompiledQuery(build, *sentinels)`: plain tuples, each column converted as the ORM converts it
  or left as the driver returns it (`convert=False`: a money column's whole fen), for the
  dashboard's sums and its simulation.

In both, a sentinel is replaced by the call's value of the same type as the parameter the ORM
made of it (psycopg's Int2 for a small integer column stays an Int2).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeGuard

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.utils import timezone

# Sentinel values (ids no row has), one per name passed, in the order of the names: each is
# replaced by the call's value wherever the compiled parameters hold it.
_SENTINELS = (-7_230_051, -7_230_052, -7_230_053, -7_230_054)

# per (database alias, current time zone, key): the queryset built with the sentinels, its compiler (once through
# as_sql: its columns and how to make rows of them are known), its SQL and parameters, and the
# names of the sentinels in the parameters' places (None where a parameter is fixed)
_compiled: dict[
    tuple[str, str, str], tuple[QuerySet[Any], Any, str, list[Any], list[str | None]]
] = {}


def _compile(
    alias: str, key: str, build: Callable[..., QuerySet[Any]], names: list[str]
) -> tuple[QuerySet[Any], Any, str, list[Any], list[str | None]]:
    if len(names) > len(_SENTINELS):
        raise ValueError(f"{key}: at most {len(_SENTINELS)} values")
    sentinels = dict(zip(names, _SENTINELS, strict=False))
    queryset = build(**sentinels).using(alias)
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    by_value: dict[Any, str] = {v: name for name, v in sentinels.items()}
    # a value the query compares with a text column (an audit entry's object_id) is passed as
    # the sentinel's digits, and asked as the value's (str(value))
    by_value.update({str(v): TEXT + name for name, v in sentinels.items()})
    places = [
        by_value.get(p)
        if (isinstance(p, int) and not isinstance(p, bool)) or type(p) is str
        else None
        for p in params
    ]
    _check_shape(key, sql, params, sentinels, text=True)
    # the columns' converters, as results_iter asks get_converters for them at each iteration
    # (a tenth of a small query's CPU, decision 0058): they depend on the columns and the
    # database's backend only, both fixed here, as CompiledQuery keeps its own
    columns = [column for column, *_ in compiler.select[: compiler.col_count]]
    converters = compiler.get_converters(columns)
    ask = compiler.get_converters

    def get_converters(expressions: Any) -> Any:
        # these columns' (the same objects: results_iter takes them from the select) once
        same = len(expressions) == len(columns) and all(
            e is c for e, c in zip(expressions, columns, strict=True)
        )
        return converters if same else ask(expressions)

    compiler.get_converters = get_converters
    entry = (queryset, compiler, sql, list(params), places)
    _compiled[_where(alias, key)] = entry
    return entry


def _where(alias: str, key: str) -> tuple[str, str, str]:
    """Where a compiled query is kept: its database, and the time zone current when it is
    asked, which the ORM writes into a query that truncates a time to its month or day."""
    return (alias, timezone.get_current_timezone_name(), key)


def _check_shape(
    key: str, sql: str, params: Any, sentinels: dict[str, int], *, text: bool = False
) -> None:
    """Refuses a query whose values are not all parameters: a sentinel not among them (a value
    written into the SQL, or not used) would leave every later call asking the sentinel's.
    `text`: a sentinel's digits as a parameter count as the sentinel (`rows`, decision 0055)."""
    for name, sentinel in sentinels.items():
        passed = sentinel in params or (text and str(sentinel) in params)
        if not passed or str(sentinel) in sql:
            raise ValueError(f"{key}: {name} is not a parameter of the query alone")


# the mark of a place whose value is passed as text (str(value)), before the value's name
TEXT = "text:"


def _is_int(name: str | None) -> TypeGuard[str]:
    """Whether a place holds a value as an integer (whose range is checked), not fixed or text."""
    return name is not None and not name.startswith(TEXT)


def rows(key: str, model: Any, build: Callable[..., QuerySet[Any]], **values: Any) -> list[Any]:
    """`list(build(**values))`, a queryset of `model`, its SQL written once per process (and
    database) under `key`: `build` must make the same query, but for the values, whatever they
    are."""
    alias = router.db_for_read(model)
    entry = _compiled.get(_where(alias, key))
    if entry is None:
        entry = _compile(alias, key, build, sorted(values))
    queryset, compiler, sql, params, places = entry
    if queryset.query.select_for_update:
        # what the compiler checks each time it writes a locking query (SQLCompiler.as_sql),
        # which a compiled one no longer does
        connection = connections[alias]
        if connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
    if not all(
        _fits(p, values[name]) for p, name in zip(params, places, strict=True) if _is_int(name)
    ):
        return []  # as the ORM's lookup of an id no column can hold: no row, nothing asked
    asked = [
        p
        if name is None
        else str(values[name[len(TEXT) :]])
        if name.startswith(TEXT)
        else _as_param(p, values[name])
        for p, name in zip(params, places, strict=True)
    ]

    def get_compiler(using: Any = None, connection: Any = None, elide_empty: bool = True) -> Any:
        # the compiled columns and SQL, this thread's connection, the call's parameters
        mine = copy.copy(compiler)
        mine.connection = connections[alias]
        mine.as_sql = lambda *args, **kwargs: (sql, asked)
        return mine

    again = queryset.all()  # a clone, nothing fetched yet
    again.query.get_compiler = get_compiler  # type: ignore[method-assign]
    return list(again)


class CompiledQuery:
    """`build(*sentinels)`'s SQL, compiled once per database alias; `rows(alias, *values)` runs
    it with each sentinel among its parameters replaced by the value in its place."""

    def __init__(
        self, build: Callable[..., QuerySet[Any]], *sentinels: int, convert: bool = True
    ) -> None:
        self.build = build
        self.sentinels = sentinels
        self.convert = convert
        self._compiled: dict[
            tuple[str, str, str], tuple[str, list[Any], list[tuple[int, Any]]]
        ] = {}

    def _compile(self, alias: str) -> tuple[str, list[Any], list[tuple[int, Any]]]:
        where = _where(alias, "")
        if where not in self._compiled:
            compiler = self.build(*self.sentinels).using(alias).query.get_compiler(alias)
            sql, params = compiler.as_sql()
            named = {f"value {n + 1}": s for n, s in enumerate(self.sentinels)}
            _check_shape(getattr(self.build, "__qualname__", "query"), sql, params, named)
            # what QuerySet iteration applies (SQLCompiler.results_iter)
            columns = [column for column, *_ in compiler.select[: compiler.col_count]]
            converters = list(compiler.get_converters(columns).items()) if self.convert else []
            self._compiled[where] = (sql, list(params), converters)
        return self._compiled[where]

    def sql(self, alias: str, *values: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters, with `values` in the sentinels' places when given (to
        be asked inside a statement of the caller's)."""
        sql, params, _converters = self._compile(alias)
        if not values:
            return sql, params
        given = dict(zip(self.sentinels, values, strict=True))
        return sql, [_as_param(p, given[p]) if _sentinel(p, given) else p for p in params]

    def rows(
        self, alias: str, *values: Any, low: int = 0, high: int | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows; `low`, `high`: those of the slice [low:high] only, as the queryset sliced
        asks them (its LIMIT and OFFSET, which the ORM writes into the SQL, not as parameters)."""
        sql, params, converters = self._compile(alias)
        given = dict(zip(self.sentinels, values, strict=True))
        if not all(_fits(p, given[p]) for p in params if _sentinel(p, given)):
            return []  # as the ORM's lookup of a value no column can hold: no row, nothing asked
        asked = [_as_param(p, given[p]) if _sentinel(p, given) else p for p in params]
        connection = connections[alias]
        if low or high is not None:
            if high is not None and high <= low:
                return []  # as an empty slice of a queryset: nothing asked
            # where and as the compiler writes it (SQLCompiler.as_sql: after the ORDER BY)
            sql = f"{sql} {connection.ops.limit_offset_sql(low, high)}"
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


def _sentinel(param: Any, given: dict[Any, Any]) -> bool:
    """Whether a parameter is one of the sentinels: an int, or the driver's wrapper of one
    (psycopg's Int2 for a small integer column), never True (which equals 1); or a text
    sentinel (in_list_rows' lists of text)."""
    if type(param) is str:
        return param in given
    return isinstance(param, int) and not isinstance(param, bool) and param in given


def bucket(n: int) -> int:
    """The length an IN list of `n` values is asked as (in_list_rows): the next power of two,
    so that a few compiled queries serve every length (0 for none)."""
    return 0 if n <= 0 else 1 << (n - 1).bit_length()


# per (key, the lists' bucket lengths): the query compiled with that many sentinels in each list
# (None: the ORM found it could match no row, as with an empty IN list alone)
_by_lengths: dict[tuple[str, tuple[int, ...]], CompiledQuery | None] = {}


def _list_sentinel(kind: type, list_no: int, i: int) -> Any:
    if kind is str:
        return f"\u27e6sentinel {list_no}.{i}\u27e7"  # text no key or code holds
    return -7_300_000 - 1_000 * list_no - i


def in_list_rows(
    key: str, model: Any, build: Callable[..., QuerySet[Any]], *lists: list[Any]
) -> list[tuple[Any, ...]]:
    """`list(build(*lists))`, a values_list queryset of `model` whose values are IN lists of
    varying length (decision 0057): its SQL written once per process for each combination of
    the lists' bucket lengths (1, 2, 4, 8...), each list asked padded to its bucket by its last
    value repeated (a value repeated in an IN list matches no more rows). A value compared
    with `=` is passed as a list of one (`build` uses `values[0]`). The values of a list are
    all ints or all text; an empty list is passed to `build` empty (the ORM leaves out a
    condition that can match nothing, or the whole query: then no row, nothing asked)."""
    alias = router.db_for_read(model)
    sizes = tuple(bucket(len(values)) for values in lists)
    where = (key, sizes)
    if where in _by_lengths:
        query = _by_lengths[where]
    else:
        sentinel_lists = [
            [_list_sentinel(type(values[0]), n, i) for i in range(size)]
            for n, (values, size) in enumerate(zip(lists, sizes, strict=True))
        ]
        flat = [s for sentinels in sentinel_lists for s in sentinels]

        def built(*_sentinels: Any) -> QuerySet[Any]:
            return build(*sentinel_lists)

        built.__qualname__ = key
        query = CompiledQuery(built, *flat)
        try:
            query.sql(alias)
        except EmptyResultSet:
            query = None
        _by_lengths[where] = query
    if query is None:
        return []
    asked = [
        x
        for values, size in zip(lists, sizes, strict=True)
        for x in [*values, *values[-1:] * (size - len(values))]
    ]
    return query.rows(alias, *asked)


def _as_param(sentinel: Any, value: Any) -> Any:
    """`value` in the sentinel's place, of the type the ORM gave the sentinel (psycopg's Int2 for
    a small integer column; a plain int, or None, passed as it is)."""
    return value if type(sentinel) is int or value is None else type(sentinel)(value)


# what a column of each integer type holds (a plain int: the ORM's bigint ids)
_BITS = {"Int2": 16, "Int4": 32}


def _fits(sentinel: Any, value: Any) -> bool:
    """Whether `value` fits the integer column the sentinel stands in a comparison with. The
    ORM asks nothing for an id out of its column's range (an exact lookup that can match no
    row); a compiled query must not send it either (SQLite cannot take it, PostgreSQL a smallint
    refuses it). Every value compiled so far is compared for equality."""
    if not isinstance(value, int) or isinstance(value, bool):
        return True
    bits = _BITS.get(type(sentinel).__name__, 64)
    return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
