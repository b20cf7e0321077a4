"""The pytest plugin (see the package docstring for what each fixture gives)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlgrove.config import Settings, new_secret_key
from mlgrove.services.context import Runtime
from mlgrove.store import schema
from mlgrove.store.db import Database
from mlgrove.testing import services
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace


@pytest.fixture(scope="session")
def grove_postgres() -> Iterator[services.PostgresServer | str]:
    """The run's PostgreSQL database (or why there is none). Dropped after the run."""
    server = services.start_postgres()
    yield server
    if isinstance(server, services.PostgresServer):
        server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def grove_backend(request: pytest.FixtureRequest) -> str:
    """The backend a test runs on; each test using it runs on both."""
    return str(request.param)


@pytest.fixture
def grove_database_url(
    grove_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    if grove_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'grove.db'}"
        return
    server = request.getfixturevalue("grove_postgres")
    if isinstance(server, str):
        services.unavailable(server)
    assert isinstance(server, services.PostgresServer)
    with server.schema() as url:
        yield url


@pytest.fixture
def grove_settings(grove_database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=grove_database_url,
        object_store_url=str(tmp_path / "objects"),
        secret_key=new_secret_key(),
        cache_dir=str(tmp_path / "cache"),
    )


@pytest.fixture
def grove_runtime(grove_settings: Settings) -> Iterator[Runtime]:
    """A migrated runtime on the test's backend."""
    db = Database(grove_settings.database_url)
    try:
        schema.upgrade(db)
    finally:
        db.dispose()
    runtime = Runtime.open(grove_settings)
    yield runtime
    runtime.close()


@pytest.fixture
def grove_factories(grove_runtime: Runtime) -> Factories:
    return Factories(grove_runtime)


@pytest.fixture
def grove_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh ``mlgrove init`` workspace (SQLite); the current folder is its root."""
    from mlgrove.services.workspace import init_workspace

    for var in (
        "MLGROVE_WORKSPACE",
        "MLGROVE_URL",
        "MLGROVE_TOKEN",
        "MLGROVE_USER",
        "MLGROVE_DATABASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "ws"
    ws = init_workspace(root)
    monkeypatch.chdir(root)
    return ws


@pytest.fixture
def grove_live_server(grove_runtime: Runtime) -> Iterator[str]:
    """Base URL of a real HTTP server for ``grove_runtime``."""
    from mlgrove.testing.live import serve

    with serve(grove_runtime) as url:
        yield url


@pytest.fixture(scope="session")
def grove_browser() -> Iterator[Any]:
    """A headless Chromium shared by the session's browser tests."""
    path = services.chromium_path()
    if isinstance(path, str):
        services.unavailable(path)
        return
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path=str(path), headless=True, args=services.CHROMIUM_ARGS
    )
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def grove_page(grove_browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (no cookies shared between tests)."""
    context = grove_browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
