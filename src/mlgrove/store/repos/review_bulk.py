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

from collections.abc import Callable, Iterable, Sequence
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

    def value_of(name: str) -> Callable[[dict[str, Any]], Any]:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if name in constants:
            fixed = constants[name] if process is None else process(constants[name])
            return lambda row: fixed
        if process is None:
            return lambda row: row[name]
        seen: dict[int, Any] = {}

        def once(row: dict[str, Any]) -> Any:
            # Keyed by identity: the caller's rows keep every value alive meanwhile.
            value = row[name]
            key = id(value)
            if key not in seen:
                seen[key] = process(value)
            return seen[key]

        return once

    getters = [value_of(n) for n in order]
    if dialect.name == "postgresql":
        # COPY streams the rows in one command; INSERTs would cost a statement each.
        raw = conn.connection.driver_connection
        assert raw is not None
        columns = ", ".join(dialect.identifier_preparer.quote(n) for n in order)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([get(r) for get in getters])
        return
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        if compiled.positional:
            params: list[Any] = [tuple([get(r) for get in getters]) for r in chunk]
        else:
            params = [{n: get(r) for n, get in zip(order, getters, strict=True)} for r in chunk]
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
