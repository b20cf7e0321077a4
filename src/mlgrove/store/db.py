"""The metadata database: engine set-up, sessions, and the single writer path.

SQLite is tuned for concurrent use the way datasette does it: many readers, one writer.
WAL lets readers proceed while a write is in progress; write transactions start with
``BEGIN IMMEDIATE`` (so two writers never deadlock upgrading a read lock) and, within a
process, pass through one lock, so a burst of writes queues instead of failing with
"database is locked". PostgreSQL needs none of this and gets plain transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from mlgrove.errors import ConfigError, DatabaseUnavailable

__all__ = ["Database"]

SQLITE_BUSY_TIMEOUT_MS = 10_000


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
    """One database, with read sessions from a pool and writes through one path."""

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
            kwargs["pool_pre_ping"] = True
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
        self._write_lock = threading.RLock()
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(grove_write=True), expire_on_commit=False
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
        """A session whose changes commit together at the end, or not at all."""
        with self._write_lock, self._writer() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


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
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("grove_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
