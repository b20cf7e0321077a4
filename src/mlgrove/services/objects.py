"""Storing blobs so the database knows them, and checking the store against the database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.services.context import Context, Runtime
from mlgrove.store.models import ObjectRow
from mlgrove.store.objects import Stored

BATCH_ROWS = 10_000
_TABLE = cast(Table, ObjectRow.__table__)
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def register_many(session: Session, stored: Iterable[Stored], kind: str) -> None:
    """Record objects the caller's transaction is about to reference.

    Call after the bytes are in the store and inside the same transaction as the rows
    that name the objects: if that transaction fails, they are unreferenced orphans
    (harmless, collectable), never referenced addresses that do not exist. Two commits
    registering the same object do not conflict.
    """
    sizes = {st.address: st.size for st in stored}
    if not sizes:
        return
    conn = session.connection()
    dialect = conn.dialect
    # A file dataset registers one row per file. Through the SQLAlchemy statement every
    # row's parameters were processed one by one, half the time at 100k rows; so the
    # driver gets plain tuples, with the one timestamp converted once by the column's
    # own type (the same value the ORM would store).
    process = _TABLE.c.created_at.type.bind_processor(dialect)
    now = utcnow()
    created = process(now) if process is not None else now
    mark = _PLACEHOLDER[dialect.paramstyle]
    sql = (
        f"INSERT INTO {_TABLE.name} (address, size, kind, created_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}) ON CONFLICT (address) DO NOTHING"
    )
    # In address order: the primary key's B-tree then fills page after page instead of
    # at random (0.38 s -> 0.21 s for 100k rows on SQLite).
    rows = [(address, size, kind, created) for address, size in sorted(sizes.items())]
    for i in range(0, len(rows), BATCH_ROWS):
        conn.exec_driver_sql(sql, rows[i : i + BATCH_ROWS])


def register(session: Session, stored: Stored, kind: str) -> None:
    """:func:`register_many` for one object."""
    register_many(session, [stored], kind)


def put_bytes(ctx: Context, data: bytes, *, kind: str = "blob") -> Stored:
    """Store bytes and record them. Putting content whose stored copy is damaged
    replaces that copy (the repair ``mlgrove fsck`` suggests)."""
    ctx.require(Action.WRITE_DATA)
    stored = _replacing_damage(ctx, lambda: ctx.objects.put_bytes(data))
    with ctx.db.write() as s:
        register(s, stored, kind)
    return stored


def put_file(ctx: Context, path: Path, *, kind: str = "blob") -> Stored:
    """:func:`put_bytes` for a file, streamed."""
    ctx.require(Action.WRITE_DATA)
    stored = _replacing_damage(ctx, lambda: ctx.objects.put_file(path))
    with ctx.db.write() as s:
        register(s, stored, kind)
    return stored


def _replacing_damage(ctx: Context, put: Callable[[], Stored]) -> Stored:
    # A store holding the address answers "not new" without reading its copy; one
    # object put by hand is worth a re-hash, so a corrupt copy (loose or packed, where
    # no file can be deleted by hand) is dropped and stored again.
    stored = put()
    if not stored.new and ctx.objects.verify(stored.address) == "corrupt":
        ctx.objects.delete(stored.address)
        stored = put()
    return stored


def get_bytes(ctx: Context, address: str) -> bytes:
    ctx.require(Action.VIEW_PROJECTS)
    return ctx.objects.get_bytes(address)


@dataclass
class FsckReport:
    checked: int = 0
    ok: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)  # (address, kind)
    corrupt: list[tuple[str, str]] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.missing and not self.corrupt


def count_objects(runtime: Runtime) -> int:
    with runtime.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(ObjectRow)) or 0)


def _iter_rows(runtime: Runtime, page: int = 1000) -> Iterator[tuple[str, str]]:
    last = ""
    while True:
        with runtime.db.read() as s:
            rows = s.execute(
                select(ObjectRow.address, ObjectRow.kind)
                .where(ObjectRow.address > last)
                .order_by(ObjectRow.address)
                .limit(page)
            ).all()
        if not rows:
            return
        yield from ((address, kind) for address, kind in rows)
        last = rows[-1][0]


def fsck(runtime: Runtime, progress: Callable[[int], None] | None = None) -> FsckReport:
    """Re-hash every object the database names; report the missing and corrupt ones."""
    report = FsckReport()
    for address, kind in _iter_rows(runtime):
        state = runtime.objects.verify(address)
        report.checked += 1
        if state == "ok":
            report.ok += 1
        elif state == "missing":
            report.missing.append((address, kind))
        else:
            report.corrupt.append((address, kind))
        if progress is not None:
            progress(1)
    return report
