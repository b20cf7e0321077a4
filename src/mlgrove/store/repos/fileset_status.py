"""Finding a file dataset's latest version through a bare DBAPI connection, for the
quick ``data status`` (``services/fileset_status.py``, ADR 0015).

The same connection (``sqlite3`` or ``psycopg``, ``?`` placeholders on both) as the
quick pipeline run's (``store/repos/pipeline_noop.py``). Read only.
"""

from __future__ import annotations

from mlgrove.domain.datasets import DatasetKind
from mlgrove.store.repos.pipeline_noop import QuickDB, connect, project_ids, schema_revision

__all__ = ["QuickDB", "connect", "latest_file_version", "schema_revision"]


def latest_file_version(db: QuickDB, project: str | None, name: str) -> tuple[int, str] | None:
    """``(number, manifest address)`` of file dataset ``name``'s latest version, found as
    ``services/datasets.py`` finds it (the named project; without a name, the only one),
    or ``None`` whenever that would not find one (the full path then says why)."""
    projects = project_ids(db, project)
    if len(projects) != 1:
        return None
    found = db.rows(
        "SELECT id, kind FROM datasets WHERE project_id = ? AND name = ?", (projects[0], name)
    )
    if not found or found[0][1] != DatasetKind.FILES.value:
        return None
    rows = db.rows(
        "SELECT number, address FROM dataset_versions WHERE dataset_id = ? "
        "ORDER BY number DESC LIMIT 1",
        (found[0][0],),
    )
    return (int(rows[0][0]), str(rows[0][1])) if rows else None
