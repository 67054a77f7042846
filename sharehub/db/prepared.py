"""Reads whose SQL Django compiles once per process, then runs with new values.

Django compiles a queryset each time it is evaluated. For the few small reads every API request makes
(the token, the caller's memberships and grants, a dataset's fields, one record by key) the compiling
costs more than the query: a lookup by key spent about half of its CPU there (issue 12). A
`PreparedRead` builds its queryset once, with stand-in values, finds where those stand-ins landed among
the compiled parameters, and from then on runs the same SQL with the caller's values in their place. The
SQL still comes from the ORM, so it follows the models; only the values change.

Only single values can be parameters (int, str, datetime): a list for `__in` would change the SQL's
shape. Rows come back as `values_list` gives them, with the same converters applied.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

_serial = itertools.count(1)


def _stand_in(kind: type) -> Any:
    """A value no real parameter will equal, of the kind the caller will pass."""
    n = next(_serial)
    if kind is int:
        return -(7_301_000_000_000 + n)
    if kind is str:
        return f"\x00prepared-read-stand-in-{n}\x00"
    if kind is datetime:
        return datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC) + timedelta(microseconds=n)
    raise TypeError(f"a prepared read takes int, str or datetime parameters, not {kind.__name__}")


def _adapt(value: Any, connection) -> Any:
    """As the ORM turns a value into a query parameter (only datetimes differ between databases)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # the compiled parameters; those at `slots` are replaced on each run
    slots: tuple[tuple[int, str], ...]  # (position in params, parameter name)
    converters: tuple  # (column, converter functions, expression), as the compiler applies them


class PreparedRead:
    """`build(**stand_ins)` returns a `values_list` queryset; `rows(**values)` runs its SQL with `values`.

    `parameters` names each parameter and its type, e.g. `PreparedRead(build, user_id=int)`."""

    def __init__(self, build: Callable[..., QuerySet], **parameters: type) -> None:
        self._build = build
        self._kinds = parameters
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        connection = connections[alias]
        stand_ins = {name: _stand_in(kind) for name, kind in self._kinds.items()}
        queryset = self._build(**stand_ins)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        adapted = {name: _adapt(value, connection) for name, value in stand_ins.items()}
        slots = []
        for position, param in enumerate(params):
            for name, value in adapted.items():
                if type(param) is type(value) and param == value:
                    slots.append((position, name))
        missing = set(stand_ins) - {name for _position, name in slots}
        if missing:
            raise TypeError(f"parameters {sorted(missing)} do not reach the compiled SQL as single values")
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        converters = tuple(
            (column, tuple(functions), expression)
            for column, (functions, expression) in compiler.get_converters(columns).items()
        )
        return _Compiled(sql, tuple(params), tuple(slots), converters)

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple]:
        if values.keys() != self._kinds.keys():
            raise TypeError(f"give exactly the parameters {sorted(self._kinds)}")
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compiled.setdefault(using, self._compile(using))
        connection = connections[using]
        params = list(compiled.params)
        for position, name in compiled.slots:
            params[position] = _adapt(values[name], connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for column, functions, expression in compiled.converters:
                value = row[column]
                for function in functions:
                    value = function(value, expression, connection)
                row[column] = value
            converted.append(tuple(row))
        return converted
