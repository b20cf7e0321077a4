"""Apply and inspect schema migrations programmatically (Alembic under the hood).

Alembic is imported only to migrate: checking that a database is current happens on
every command and must not cost Alembic's import time. :data:`HEAD` names the newest
migration; a test checks it against the migration scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

    from mlgrove.store.db import Database

__all__ = ["HEAD", "current_revision", "head_revision", "upgrade"]

#: The newest migration. Bump it with every new file in migrations/versions/.
HEAD = "0012"

_SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    return cfg


def head_revision() -> str:
    return HEAD


def scripts_head() -> str:
    """The newest revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    # SQLAlchemy is imported here, not above: HEAD alone must be cheap to read (the
    # quick no-op pipeline run checks it without SQLAlchemy).
    from sqlalchemy import inspect, text

    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction (all or nothing on PostgreSQL)."""
    from alembic import command

    db.check()
    cfg = _config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
