"""Direct PostgreSQL connections for hot paths that are one statement.

A call through a SQLAlchemy session on PostgreSQL costs a pre-ping, ``BEGIN``, the
statements and ``COMMIT``: a round trip each, and with many requests in one server
process every round trip is also a hand-over of the GIL, which under load costs more
than the database's work (a next-item call went from 6 round trips and a p99 of 37 ms
with 20 reviewers to one round trip and 13 ms, ADR 0013). A hot path that can be one
statement (a server-side function doing the whole transaction) runs here instead: an
autocommit psycopg connection from a small pool of its own, no pre-ping, one
``execute``.

Without the pre-ping a kept connection may have died (a server restart, an idle
timeout): a statement that fails on a kept connection with a connection error is run
once more on a new connection. So only statements that are safe to repeat may run here:
a repeat after a lost reply must find the work done, not do it twice.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect

from mlgrove.errors import DatabaseUnavailable

__all__ = ["DirectConnection", "DirectPool"]

T = TypeVar("T")


class DirectConnection:
    """A direct connection inside :meth:`DirectPool.transaction`, for
    :class:`~mlgrove.store.prepared.Prepared` statements: the driver's connection and the
    engine's dialect (which compiles them)."""

    __slots__ = ("dialect", "driver")

    def __init__(self, driver: Any, dialect: Dialect) -> None:
        self.driver = driver
        self.dialect = dialect


class DirectPool:
    """Up to ``size`` autocommit psycopg connections to the engine's database, made on
    first use with the engine's own connection arguments (so a ``search_path`` option in
    the URL applies), kept for reuse; a caller beyond ``size`` waits for one."""

    def __init__(self, engine: Engine, size: int) -> None:
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._args = list(args)
        self._kwargs = {**kwargs, "autocommit": True}
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._pid = os.getpid()
        self._display = engine.url.render_as_string(hide_password=True)
        self._dialect = engine.dialect

    def fetch_one(self, sql: str, params: Sequence[Any]) -> Any | None:
        """Run one statement that is safe to repeat; its first row (attribute access by
        column name), or None when it returns no row."""
        return self._run(lambda conn: conn.execute(sql, params).fetchone())

    def transaction(self, work: Callable[[DirectConnection], T]) -> T:
        """Run ``work`` in one transaction; an exception from it rolls back. Without a
        SQLAlchemy session around it, a verdict costs 20% less of the serving process's
        CPU (ADR 0017). (psycopg's pipeline mode, which would send ``BEGIN`` with the
        first statement and ``COMMIT`` with the last, cost more CPU than the two round
        trips it saves, so it is not used.)

        ``work`` must be safe to repeat, like :meth:`fetch_one`'s statement: if a kept
        connection turns out dead, it runs once more on a new one, and if the first run's
        ``COMMIT`` arrived before its reply was lost, the repeat finds its work done.
        """

        def in_transaction(conn: Any) -> T:
            with conn.transaction():
                return work(DirectConnection(conn, self._dialect))

        return self._run(in_transaction)

    def _run(self, work: Callable[[Any], T]) -> T:
        import psycopg

        with self._slot():
            conn, kept = self._take()
            try:
                try:
                    result = work(conn)
                except psycopg.OperationalError:
                    if not kept or not _lost(conn):
                        raise
                    # A kept connection died while idle: once more, on a new one.
                    conn.close()
                    conn = self._connect()
                    result = work(conn)
            except psycopg.OperationalError as exc:
                if not _lost(conn):
                    # The server refused the work (a deadlock, a timeout: psycopg files
                    # those under OperationalError too) on a connection still fit for
                    # use: the caller gets that error, not "lost the connection".
                    self._give_back(conn)
                    raise
                conn.close()
                raise DatabaseUnavailable(
                    f"lost the connection to database {self._display}: {_reason(exc)}",
                    hint="check that the database server runs, then try again",
                ) from None
            except BaseException:
                # A refusal raised by the caller's work rolled its transaction back and
                # leaves the connection fit for reuse (a broken one is closed).
                self._give_back(conn)
                raise
            self._give_back(conn)
            return result

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()

    def _take(self) -> tuple[Any, bool]:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must not share its parent's sockets.
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _connect(self) -> Any:
        import psycopg
        from psycopg.rows import namedtuple_row

        try:
            return psycopg.connect(*self._args, row_factory=namedtuple_row, **self._kwargs)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot reach database {self._display}: {_reason(exc)}",
                hint="check database_url (or $MLGROVE_DATABASE_URL) and that the server runs",
            ) from None

    def _give_back(self, conn: Any) -> None:
        import psycopg

        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
            return
        with self._lock:
            if self._pid == os.getpid():
                # Last in, first out: the warmest connection (and its prepared
                # statements) serves the next call.
                self._idle.append(conn)
                return
        conn.close()


def _lost(conn: Any) -> bool:
    """Whether the connection is gone (closed, or broken by a lost server), as opposed to
    a statement the server refused on a connection that still works."""
    return bool(conn.closed or conn.broken)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)
