"""The metadata database: engine set-up, sessions, and the write path.

SQLite is tuned for concurrent use the way datasette does it: many readers, one writer.
WAL lets readers proceed while a write is in progress; write transactions start with
``BEGIN IMMEDIATE`` (so two writers never deadlock upgrading a read lock) and, within a
process, pass through one lock, so a burst of writes queues in order instead of polling
SQLite's busy handler (which sleeps up to 100 ms between tries) or failing with
"database is locked". The lock is first come, first served: Python's own lock lets the
thread that just released it take it again before a waiting thread wakes, so under a
burst one thread could write many times while another waits (a next-item p99 of 50-70 ms
instead of 12-28 ms with 20 reviewers). It is the whole write path's critical section on
SQLite: hot paths keep their write transactions to a few statements, and the WAL is
checkpointed by a thread of its own rather than inside a commit that holds the lock
(``store/sqlite_checkpoint.py``).

PostgreSQL gets plain concurrent transactions (READ COMMITTED): a process-wide lock would
only serialise what the server does well in parallel, and could never cover a second
process (a worker, the CLI) anyway. Code that changes shared rows does it with row locks
or SQL increments, not read-then-write. A unique constraint that a concurrent write broke
first (two requests making the same name at once) surfaces as :class:`Conflict`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    NoSuchModuleError,
)
from sqlalchemy.orm import Session, sessionmaker

from mlgrove.errors import ConfigError, Conflict, DatabaseUnavailable
from mlgrove.store.direct import DirectPool
from mlgrove.store.sqlite_checkpoint import AUTO_CHECKPOINT_PAGES, Checkpointer

__all__ = ["Database", "FairLock"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: PostgreSQL connections a process keeps open, and how many more it may open at a busy
#: moment: the server runs requests on up to 40 threads, and with fewer connections than
#: busy threads the surplus waits for one (20 reviewers on SQLAlchemy's default 5 + 10
#: doubled the next-item p99), while connections opened beyond the kept ones are closed
#: again on return, so each costs a new connection next time.
PG_POOL_SIZE = 20
PG_POOL_OVERFLOW = 20
#: A pooled PostgreSQL connection that was in use this recently is handed out without a
#: ping (see :func:`_ping_when_idle`).
PG_PING_AFTER_IDLE_S = 5.0


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _normalise(url: str) -> str:
    # "postgresql://" means psycopg 3 here: it is the driver we install and test.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Database:
    """One database, with read sessions from a pool and write sessions that commit whole."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = _normalise(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise ConfigError(f"database_url {url!r} is not a valid URL") from exc
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            }
        else:
            kwargs["pool_size"] = PG_POOL_SIZE
            kwargs["max_overflow"] = PG_POOL_OVERFLOW
            kwargs["connect_args"] = {"connect_timeout": 5}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(
                f"no driver for database URL {_redact(url)!r}: {exc}",
                hint="for PostgreSQL install the extra: pip install 'mlgrove[postgres]'",
            ) from exc
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        else:
            _ping_when_idle(self.engine)
        # SQLite only (see the module docstring).
        self._write_lock: AbstractContextManager[Any] = (
            FairLock() if self.is_sqlite else nullcontext()
        )
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(grove_write=True), expire_on_commit=False
        )
        self._direct: DirectPool | None = None
        self._direct_lock = threading.Lock()
        # SQLite files only (an in-memory database has no WAL): see sqlite_checkpoint.
        path = parsed.database if self.is_sqlite else None
        self._checkpointer = (
            Checkpointer(path, SQLITE_BUSY_TIMEOUT_MS)
            if path and path != ":memory:" and not path.startswith("file:")
            else None
        )

    @property
    def display_url(self) -> str:
        return _redact(self.url)

    def check(self) -> None:
        """Connect once; raise :class:`DatabaseUnavailable` with a readable reason."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailable(
                f"cannot reach database {self.display_url}: {reason}",
                hint="check database_url (or $MLGROVE_DATABASE_URL) and that the server runs",
            ) from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads, never committed.

        Closing it ends its transaction and detaches the objects it loaded *without*
        expiring them, so rows read inside stay usable as plain values afterwards.
        """
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes commit together at the end, or not at all.

        Raises :class:`Conflict` when a unique constraint fails (on PostgreSQL, typically
        a concurrent transaction that made the same row first).
        """
        try:
            with self._write_lock, self._writer() as session, session.begin():
                yield session
            if self._checkpointer is not None:
                self._checkpointer.written()
        except IntegrityError as exc:
            detail = _unique_violation(exc)
            if detail is None:
                raise
            raise Conflict(
                f"this change collides with one made at the same moment ({detail})",
                hint="try again: you will see the other change",
            ) from exc

    @property
    def direct(self) -> DirectPool:
        """PostgreSQL only: connections for hot paths that are one statement (see
        :mod:`mlgrove.store.direct`), made on first use."""
        if self.is_sqlite:
            raise TypeError("direct connections are for PostgreSQL")
        with self._direct_lock:
            if self._direct is None:
                self._direct = DirectPool(self.engine, PG_POOL_SIZE)
            return self._direct

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._direct_lock:
            direct, self._direct = self._direct, None
        if direct is not None:
            direct.close()
        self.engine.dispose()


class FairLock:
    """A reentrant lock granted in arrival order (a ticket queue with direct hand-over).

    The releasing thread hands the lock to the longest waiter, so nobody can barge in
    ahead of it; each waiter sleeps on a lock of its own.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[tuple[int, threading.Lock]] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> FairLock:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return self
            if self._owner is None:
                self._owner, self._depth = me, 1
                return self
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append((me, gate))
        try:
            gate.acquire()  # released by the thread that hands the lock over to us
        except BaseException:  # e.g. KeyboardInterrupt while waiting: leave the queue
            with self._mutex:
                if (me, gate) in self._waiters:
                    self._waiters.remove((me, gate))
                    raise
            self.__exit__()  # it was handed over meanwhile: pass it on
            raise
        return self

    def __exit__(self, *_: object) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, gate = self._waiters.popleft()
                self._depth = 1
                gate.release()
            else:
                self._owner = None


def _unique_violation(exc: IntegrityError) -> str | None:
    """The constraint (or columns) a unique violation names; None for other integrity
    errors (a foreign key or NOT NULL failing is a bug to see, not a conflict)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        diag = getattr(orig, "diag", None)
        return str(getattr(diag, "constraint_name", None) or "unique constraint")
    message = str(orig)
    if message.startswith("UNIQUE constraint failed"):  # sqlite3
        return message.split(":", 1)[-1].strip()
    return None


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before handing it out only if it sat idle a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip before every
    transaction, which a busy server pays thousands of times a second for connections it
    used a millisecond ago (and which limited the runs pages and the review hot path).
    A connection that dies while idle (a server restart, an idle timeout) is still caught
    here before use; one that dies in the few seconds after its last use fails its next
    statement instead, and SQLAlchemy then drops the pool's connections.
    """

    def now() -> float:
        return time.monotonic()

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_conn: Any, record: Any) -> None:
        record.info["grove_used"] = now()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["grove_used"] = now()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if now() - record.info.get("grove_used", 0.0) < PG_PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out another (or a new one).
            raise DisconnectionError() from exc


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints run in a thread of their own, not inside a writer's commit.
        cur.execute(f"PRAGMA wal_autocheckpoint={AUTO_CHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("grove_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
