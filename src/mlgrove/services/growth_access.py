"""Applying the growth privacy policy: who is asking, about whom, and the read log.

Every growth service turns the caller and the person the data is about into the
policy's ``Viewer`` and ``Subject`` here, filters with ``growth_policy.may_read``, and
logs each read of someone else's data (and each refused attempt) in the audit log, where
the person can see it (:func:`reads_of`). The mentorship programme passes its mentor ids
and the person's time-stuck opt-in to :func:`subject_of`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mlgrove.domain.growth import DataRead, PersonRef
from mlgrove.domain.growth_policy import Subject, Viewer
from mlgrove.domain.people import Person
from mlgrove.errors import InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.store.models import AuditEventRow, PersonRow

READ = "growth.read"
REFUSED = "growth.read_refused"


def require_person(ctx: Context) -> Person:
    """Growth data belongs to people: the embedded workspace owner is not one."""
    if ctx.actor.id <= 0:
        raise InvalidInput(
            "growth features need a person, not the workspace owner",
            hint="act as someone with --user NAME (or $MLGROVE_USER), or use --server",
        )
    return ctx.actor


def viewer(ctx: Context) -> Viewer:
    return Viewer(id=ctx.actor.id, team_id=ctx.actor.team_id, is_admin=ctx.actor.is_admin)


def subject_of(
    row: PersonRow,
    *,
    mentor_ids: frozenset[int] = frozenset(),
    shares_stuck_with_mentor: bool = False,
) -> Subject:
    return Subject(
        id=row.id,
        team_id=row.team_id,
        manager_id=row.manager_id,
        mentor_ids=mentor_ids,
        shares_stuck_with_mentor=shares_stuck_with_mentor,
    )


def ref(row: PersonRow) -> PersonRef:
    return PersonRef(id=row.id, username=row.username, display_name=row.display_name)


def find_person(session: Session, who: str) -> PersonRow:
    """A person by e-mail address (case-insensitive) or username."""
    who = who.strip()
    if not who:
        raise InvalidInput("name a person by e-mail address or username")
    if "@" in who:
        query = select(PersonRow).where(func.lower(PersonRow.email) == who.lower())
    else:
        query = select(PersonRow).where(PersonRow.username == who)
    row = session.scalars(query.where(PersonRow.active.is_(True))).first()
    if row is None:
        raise NotFound(f"no active person {who!r}", hint="`mlgrove people list` shows them")
    return row


def person_row(session: Session, person_id: int) -> PersonRow:
    return session.get_one(PersonRow, person_id)


def _subject_label(person_id: int) -> str:
    return f"person:{person_id}"


def log_reads(ctx: Context, reads: Iterable[tuple[int, str]]) -> None:
    """Record reads of others' data: (whose person id, what) pairs; one's own are skipped."""
    others = [(pid, what) for pid, what in reads if pid != ctx.actor.id]
    if not others:
        return
    with ctx.db.write() as s:
        for pid, what in others:
            audit.record(s, ctx.actor_label, "growth.read", _subject_label(pid), what)


def refuse(ctx: Context, person_id: int, what: str) -> PermissionDenied:
    """Log a refused read in its own transaction and return the error to raise."""
    with ctx.db.write() as s:
        audit.record(s, ctx.actor_label, "growth.read_refused", _subject_label(person_id), what)
    return PermissionDenied(
        f"{what} is private to the people the growth policy allows",
        hint="ask the person to share it with you; this attempt was logged",
    )


def reads_of(ctx: Context, *, limit: int = 200) -> list[DataRead]:
    """Who read (or tried to read) the caller's growth data, newest first."""
    me = require_person(ctx)
    query = (
        select(AuditEventRow)
        .where(AuditEventRow.subject == _subject_label(me.id))
        .where(or_(AuditEventRow.action == READ, AuditEventRow.action == REFUSED))
        .order_by(AuditEventRow.id.desc())
        .limit(min(max(limit, 1), 1000))
    )
    with ctx.db.read() as s:
        return [
            DataRead(at=r.at, reader=r.actor, what=r.detail, refused=r.action == REFUSED)
            for r in s.scalars(query)
        ]
