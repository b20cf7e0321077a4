"""Core statements run on the driver's connection, for the few hottest statements.

SQLAlchemy running a cached Core statement costs 30-90 µs of Python per call (an
execution context, result metadata, events) on top of the driver's own work. A review
cycle makes four to nine statements, and with twenty reviewers served by one process
that Python time is what each of them queues for (the interpreter lock): it was a third
of the process's CPU per item (ADR 0017). A :class:`Prepared` statement is compiled by
SQLAlchemy once per dialect and set of parameter names, with the bind and result
processors SQLAlchemy itself would apply, and then runs on the DBAPI connection beneath a
SQLAlchemy :class:`~sqlalchemy.Connection`, inside that connection's transaction. So the
SQL is still written once, as Core, and a test compares both ways of running it.

Only what those statements need is here: bind parameters by name (no expanding ``IN``
lists), one execution per call, rows as named tuples.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from mlgrove.store.direct import DirectConnection

__all__ = ["Prepared"]

_Processor = Callable[[Any], Any]


class _Form:
    """One statement compiled for one dialect and set of parameter names."""

    __slots__ = ("_columns", "_dialect", "binds", "defaults", "positions", "results", "row", "sql")

    def __init__(self, stmt: Executable, dialect: Dialect, keys: list[str]) -> None:
        # SQLAlchemy's compiler is the one place that knows how the SQL, its parameters
        # and its processors fit together; its attributes here are the ones SQLAlchemy's
        # own execution reads.
        compiled = cast(
            SQLCompiler, cast(ClauseElement, stmt).compile(dialect=dialect, column_keys=keys)
        )
        if any(b.expanding for b in compiled.binds.values()):
            raise TypeError("a prepared statement cannot expand a list of values")
        self.sql = compiled.string
        # qmark (SQLite) wants the values in order; pyformat (psycopg) takes the mapping.
        self.positions = list(compiled.positiontup or ()) if compiled.positional else None
        self.defaults: dict[str, Any] = dict(compiled.construct_params(_check=False))
        # (A sequence of processors only serves tuple-valued "IN" lists, refused above.)
        self.binds = cast(dict[str, _Processor], dict(compiled._bind_processors))
        self._columns = list(compiled._result_columns or ())
        self._dialect = dialect
        names = [c.keyname for c in self._columns]
        self.row: Any = namedtuple("Row", names) if names else None
        # Known at the first reply: a processor may depend on the column's type as the
        # driver describes it (PostgreSQL's numeric types do).
        self.results: list[_Processor | None] | bool | None = False

    def execute(self, conn: Connection | DirectConnection, params: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **params}
        for name, process in self.binds.items():
            values[name] = process(values[name])
        if isinstance(conn, DirectConnection):
            cursor = conn.driver.cursor()
        else:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if self.positions is not None:
            cursor.execute(self.sql, [values[name] for name in self.positions])
        else:
            cursor.execute(self.sql, values)
        return cursor

    def make_row(self, cursor: Any, raw: Any) -> Any:
        results = self.results
        if results is False:
            processors = [
                c.type._cached_result_processor(self._dialect, d[1])
                for c, d in zip(self._columns, cursor.description, strict=True)
            ]
            results = self.results = (
                cast(list[_Processor | None], processors) if any(processors) else None
            )
        if results is None:
            return self.row._make(raw)
        assert isinstance(results, list)
        return self.row._make(
            value if process is None else process(value)
            for process, value in zip(results, raw, strict=True)
        )


class Prepared:
    """A Core statement to run on the driver's connection beneath ``conn`` (a SQLAlchemy
    connection, or a :class:`DirectConnection`), in its transaction; compiled on first
    use per dialect and set of parameter names."""

    __slots__ = ("_forms", "_lock", "statement")

    def __init__(self, stmt: Executable) -> None:
        self.statement = stmt
        self._forms: dict[tuple[str, frozenset[str]], _Form] = {}
        self._lock = threading.Lock()

    def _form(self, conn: Connection | DirectConnection, params: Mapping[str, Any]) -> _Form:
        key = (conn.dialect.name, frozenset(params))
        form = self._forms.get(key)
        if form is None:
            with self._lock:
                form = self._forms.get(key)
                if form is None:
                    form = _Form(self.statement, conn.dialect, sorted(params))
                    self._forms[key] = form
        return form

    def run(self, conn: Connection | DirectConnection, params: Mapping[str, Any]) -> None:
        """Execute, reading nothing back."""
        self._form(conn, params).execute(conn, params).close()

    def all(self, conn: Connection | DirectConnection, params: Mapping[str, Any]) -> list[Any]:
        form = self._form(conn, params)
        cursor = form.execute(conn, params)
        try:
            return [form.make_row(cursor, raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, conn: Connection | DirectConnection, params: Mapping[str, Any]) -> Any | None:
        """The first row (named tuple), or None; the rest are not read."""
        form = self._form(conn, params)
        cursor = form.execute(conn, params)
        try:
            raw = cursor.fetchone()
            return None if raw is None else form.make_row(cursor, raw)
        finally:
            cursor.close()
