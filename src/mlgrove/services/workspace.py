"""Making, upgrading and opening workspaces."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mlgrove.config import load_settings, new_secret_key, write_config
from mlgrove.errors import WorkspaceExists
from mlgrove.services.context import Runtime
from mlgrove.store import schema
from mlgrove.store.db import Database
from mlgrove.workspace import GROVE_DIR, Workspace


def init_workspace(
    root: Path,
    *,
    database_url: str | None = None,
    object_store_url: str | None = None,
) -> Workspace:
    """Make ``root/.mlgrove`` with a config, an object store and a migrated database.

    Everything is built in a temporary folder beside it and renamed into place at the
    end, so a failure (say, an unreachable database) leaves no half-made workspace.
    """
    root = root.resolve()
    target = root / GROVE_DIR
    if target.exists():
        raise WorkspaceExists(
            f"{root} is already a Grove workspace", hint="use `mlgrove upgrade` to migrate it"
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mlgrove-init-", dir=root))
    try:
        values: dict[str, str] = {"secret_key": new_secret_key()}
        if database_url:
            values["database_url"] = database_url
        if object_store_url:
            values["object_store_url"] = object_store_url
        write_config(staging / "config.toml", values)
        (staging / "objects").mkdir()
        (staging / ".gitignore").write_text("*\n")
        settings = load_settings(staging)
        db = Database(settings.database_url)
        try:
            schema.upgrade(db)
        finally:
            db.dispose()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Workspace(root)


def upgrade_workspace(ws: Workspace) -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after)."""
    return upgrade_database(ws.settings().database_url)


def upgrade_database(database_url: str) -> tuple[str | None, str]:
    """Apply pending migrations to any Grove database (a workspace's or a server's)."""
    db = Database(database_url)
    try:
        db.check()
        before = schema.current_revision(db)
        schema.upgrade(db)
        return before, schema.head_revision()
    finally:
        db.dispose()


def open_runtime(ws: Workspace) -> Runtime:
    return Runtime.open(ws.settings())


@contextlib.contextmanager
def opened(ws: Workspace) -> Iterator[Runtime]:
    runtime = open_runtime(ws)
    try:
        yield runtime
    finally:
        runtime.close()
