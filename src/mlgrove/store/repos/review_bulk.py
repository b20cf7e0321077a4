"""Bulk writes for review imports: many items, verdicts and reviewer identities at once.

The ORM's bulk INSERT builds a parameter set per row through the unit of work, and even
Core spends more time per row on its parameter machinery than the database spends
storing it. Here an INSERT is compiled once for the session's dialect and handed to the
driver's ``executemany`` (``COPY`` on PostgreSQL; same connection, same transaction)
with values converted by
the columns' own bind processors (JSON encoding, UTC datetimes), each distinct value
object converted once: an import repeats a few answers hundreds of thousands of times.
The new item ids are read back in one query, so verdicts can point at them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mlgrove.store.models.review import (
    ReviewerRow,
    ReviewItemRow,
    ReviewQueueRow,
    ReviewVerdictRow,
)
from mlgrove.store.repos.review_claim import count_resolved

#: Rows per executemany call: bounds the memory of one statement's parameters.
CHUNK = 5000
#: Values per IN (...) list: under every backend's bound-parameter limit.
IN_CHUNK = 1000

ITEMS = cast(Table, ReviewItemRow.__table__)
VERDICTS = cast(Table, ReviewVerdictRow.__table__)
REVIEWERS = cast(Table, ReviewerRow.__table__)


def _executemany(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` through the driver.

    Columns the rows leave out get their Python-side default, computed once (every row
    of one import gets the same ``created_at``), as Core would.
    """
    if not rows:
        return
    dialect = conn.dialect
    given = list(rows[0])
    constants: dict[str, Any] = {}
    for col in table.columns:
        default = col.default
        if col.name in rows[0] or default is None:
            continue
        if default.is_scalar:
            constants[col.name] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            constants[col.name] = default.arg(None)  # type: ignore[attr-defined]
    names = given + list(constants)
    stmt = insert(table).values({n: bindparam(n, type_=table.c[n].type) for n in names})
    compiled = stmt.compile(dialect=dialect)
    order = list(compiled.positiontup or names) if compiled.positional else names

    processors = {n: table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in order}
    fixed = {
        n: v if (process := processors[n]) is None else process(v) for n, v in constants.items()
    }

    def column(chunk: Sequence[dict[str, Any]], name: str) -> list[Any]:
        """One column of a chunk, as the driver takes it (built column by column: a list
        comprehension per column costs less than a function call per cell)."""
        if name in fixed:
            return [fixed[name]] * len(chunk)
        values = [r[name] for r in chunk]
        process = processors[name]
        if process is None:
            return values
        # Each distinct value object converted once, keyed by identity: the caller's
        # rows keep every value alive meanwhile.
        seen = converted.setdefault(name, {})
        out = []
        for value in values:
            key = id(value)
            done = seen.get(key, seen)
            if done is seen:
                done = seen[key] = process(value)
            out.append(done)
        return out

    converted: dict[str, dict[int, Any]] = {}
    if dialect.name == "postgresql":
        # COPY streams the rows in one command; INSERTs would cost a statement each.
        raw = conn.connection.driver_connection
        assert raw is not None
        columns = ", ".join(dialect.identifier_preparer.quote(n) for n in order)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for i in range(0, len(rows), CHUNK):
                chunk = rows[i : i + CHUNK]
                for row in zip(*(column(chunk, n) for n in order), strict=True):
                    copy.write_row(row)
        return
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        params: list[Any] = list(zip(*(column(chunk, n) for n in order), strict=True))
        if not compiled.positional:
            params = [dict(zip(order, row, strict=True)) for row in params]
        conn.exec_driver_sql(compiled.string, params)


def insert_items(s: Session, queue_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert item rows (all with the same keys, each with a distinct ``external_id``
    new to the queue) and return their new ids, in the rows' order.

    The ids are read back by external id among the rows above the highest id before the
    insert: ``RETURNING`` with ordered parameters would make SQLite insert row by row.
    """
    table = ITEMS
    conn = s.connection()
    floor = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    _executemany(conn, table, rows)
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
    _executemany(s.connection(), VERDICTS, rows)


def add_to_counters(s: Session, queue_id: int, *, total: int, resolved: int) -> None:
    """Keep the queue's item counters (read by the review screen) in step."""
    s.execute(
        update(ReviewQueueRow)
        .where(ReviewQueueRow.id == queue_id)
        .values(items_total=ReviewQueueRow.items_total + total)
    )
    count_resolved(s.connection(), queue_id, resolved)


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
