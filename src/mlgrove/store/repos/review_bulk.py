"""Bulk writes for review imports: many items, verdicts and reviewer identities at once.

The ORM's bulk INSERT builds a parameter set per row through the unit of work; a
100k-task import spent most of its time there. These functions go through SQLAlchemy
Core on the session's connection (same transaction): one ``executemany`` per chunk of
rows, and one read of the new ids where they are needed, so the
caller can link verdicts to the items it just wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from mlgrove.store.models.review import (
    ReviewerRow,
    ReviewItemRow,
    ReviewQueueRow,
    ReviewVerdictRow,
)

#: Rows per executemany call: bounds the memory of one statement's parameters.
CHUNK = 5000
#: Values per IN (...) list: under every backend's bound-parameter limit.
IN_CHUNK = 1000

ITEMS = cast(Table, ReviewItemRow.__table__)
VERDICTS = cast(Table, ReviewVerdictRow.__table__)
REVIEWERS = cast(Table, ReviewerRow.__table__)


def insert_items(s: Session, queue_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert item rows (all with the same keys, each with a distinct ``external_id``
    new to the queue) and return their new ids, in the rows' order.

    The ids are read back by external id among the rows above the highest id before the
    insert: ``RETURNING`` with ordered parameters would make SQLite insert row by row.
    """
    table = ITEMS
    conn = s.connection()
    floor = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    stmt = insert(table)
    for i in range(0, len(rows), CHUNK):
        conn.execute(stmt, list(rows[i : i + CHUNK]))
    found = dict(
        conn.execute(
            select(table.c.external_id, table.c.id).where(
                table.c.queue_id == queue_id, table.c.id > floor
            )
        ).all()
    )
    return [found[r["external_id"]] for r in rows]


def insert_verdicts(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert verdict rows (all with the same keys); nobody needs their ids back."""
    conn = s.connection()
    stmt = insert(VERDICTS)
    for i in range(0, len(rows), CHUNK):
        conn.execute(stmt, list(rows[i : i + CHUNK]))


def add_to_counters(s: Session, queue_id: int, *, total: int, resolved: int) -> None:
    """Keep the queue's item counters (read by the review screen) in step."""
    s.execute(
        update(ReviewQueueRow)
        .where(ReviewQueueRow.id == queue_id)
        .values(
            items_total=ReviewQueueRow.items_total + total,
            items_resolved=ReviewQueueRow.items_resolved + resolved,
        )
    )


def reviewers_by_name(s: Session, names: Iterable[str]) -> dict[str, tuple[int, int | None]]:
    """``{name: (reviewer id, person id or None)}`` for the names that have a reviewer."""
    wanted = sorted(set(names))
    found: dict[str, tuple[int, int | None]] = {}
    for i in range(0, len(wanted), IN_CHUNK):
        found.update(
            (name, (rid, pid))
            for rid, name, pid in s.execute(
                select(ReviewerRow.id, ReviewerRow.name, ReviewerRow.person_id).where(
                    ReviewerRow.name.in_(wanted[i : i + IN_CHUNK])
                )
            ).all()
        )
    return found


def add_external_reviewers(s: Session, names: Iterable[str]) -> dict[str, int]:
    """Make external identities (no person) for names not known yet; ``{name: id}``."""
    new = sorted(set(names))
    if not new:
        return {}
    table = REVIEWERS
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    conn = s.connection()
    made: dict[str, int] = {}
    for i in range(0, len(new), CHUNK):
        chunk = new[i : i + CHUNK]
        ids = conn.execute(stmt, [{"name": n, "person_id": None} for n in chunk]).scalars()
        made.update(zip(chunk, ids, strict=True))
    return made
