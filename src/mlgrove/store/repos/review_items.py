"""Adding many review items at once: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

A queue is filled with hundreds of thousands of model predictions at a time. On
PostgreSQL an ``executemany`` of INSERTs costs the server a statement per row; ``COPY``
streams the rows into the table in one command, several times faster. SQLite's
``executemany`` is already one prepared statement stepped per row, inside the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, Connection, Table, insert

from mlgrove.store.models.review import ReviewItemRow

__all__ = ["insert_items"]

ITEMS = cast(Table, ReviewItemRow.__table__)
#: Rows per executemany call: bounds the memory of one statement's parameters.
CHUNK = 2000


def insert_items(conn: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Insert item rows (all with the same keys, column names), stamped ``created_at``
    ``now``, in the caller's transaction."""
    if not rows:
        return
    stamped = [{"created_at": now, **r} for r in rows]
    if conn.dialect.name == "postgresql":
        _copy(conn, stamped)
        return
    stmt = insert(ITEMS)
    for i in range(0, len(stamped), CHUNK):
        conn.execute(stmt, stamped[i : i + CHUNK])


def _copy(conn: Connection, rows: list[dict[str, Any]]) -> None:
    from psycopg.types.json import Json

    columns = list(rows[0])
    # What the column types do for INSERTs, by hand: JSON values (None included, as a
    # JSON null like SQLAlchemy stores it) and naive UTC datetimes.
    json_at = {i for i, c in enumerate(columns) if isinstance(ITEMS.c[c].type, JSON)}
    time_at = {i for i, c in enumerate(columns) if c == "created_at"}
    names = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {ITEMS.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = [row[c] for c in columns]
            for i in json_at:
                values[i] = Json(values[i])
            for i in time_at:
                values[i] = values[i].astimezone(UTC).replace(tzinfo=None)
            copy.write_row(values)
