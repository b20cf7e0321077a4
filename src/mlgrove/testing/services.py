"""Finding the external services tests need: PostgreSQL and Chromium."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def services_required() -> bool:
    return os.environ.get("MLGROVE_TEST_REQUIRE_SERVICES", "") not in ("", "0", "false")


def unavailable(reason: str) -> None:
    """Skip, or fail when services are required (CI), with how to enable the test."""
    if services_required():
        pytest.fail(f"{reason} (MLGROVE_TEST_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(reason)


def postgres_admin_url() -> str:
    url = os.environ.get("MLGROVE_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class PostgresServer:
    """One database per test run on the configured server, one schema per test."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.admin_url = admin_url
        self.database = f"mlgrove_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._admin = create_engine(
            admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.database}"')
        self.url = make_url(admin_url).set(database=self.database)
        self._db = create_engine(self.url, isolation_level="AUTOCOMMIT")

    @contextmanager
    def schema(self) -> Iterator[str]:
        """A fresh schema; yields a database URL whose search_path points at it."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self._db.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        try:
            yield self.url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
                hide_password=False
            )
        finally:
            with self._db.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')

    def close(self) -> None:
        self._db.dispose()
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._admin.dispose()


def start_postgres() -> PostgresServer | str:
    """A server, or the reason there is none (with how to get one)."""
    url = postgres_admin_url()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "PostgreSQL tests need psycopg: pip install 'mlgrove[postgres]'"
    try:
        return PostgresServer(url)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"no PostgreSQL at {url} ({first}); start one or set "
            "MLGROVE_TEST_POSTGRES_URL=postgresql://user@host:5432/db to run these tests"
        )


def chromium_path() -> Path | str:
    path = Path(os.environ.get("MLGROVE_TEST_CHROMIUM", DEFAULT_CHROMIUM))
    if not path.exists():
        return (
            f"no Chromium at {path}; install Debian's package (apt-get install chromium) "
            "or set MLGROVE_TEST_CHROMIUM to a Chromium binary to run browser tests"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "browser tests need Playwright for Python: pip install 'mlgrove[test]'"
    return path
