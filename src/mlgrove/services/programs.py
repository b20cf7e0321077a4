"""What the growth programmes' services share: who is acting, finding people and teams,
the relations the privacy policy needs, and audit-logging reads of private data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain import growth_policy as policy
from mlgrove.domain.authz import Action
from mlgrove.domain.mentorship import PairStatus
from mlgrove.domain.people import Person
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import growth_access
from mlgrove.services.context import Context
from mlgrove.store.models import PersonRow, TeamRow
from mlgrove.store.models.growth_programs import MentorshipRow


def participant(ctx: Context) -> Person:
    """The acting person, who must be a real person (programmes are about people)."""
    ctx.require(Action.VIEW_PEOPLE_DIRECTORY)
    if ctx.actor.id == 0:
        raise InvalidInput(
            "growth programmes need a person, not the workspace owner",
            hint="act as someone with --user USERNAME, or use a server with your token",
        )
    return ctx.actor


def person_row(s: Session, who: str) -> PersonRow:
    """A person by username or e-mail address."""
    key = who.strip()
    row = s.scalar(select(PersonRow).where(PersonRow.username == key))
    if row is None and "@" in key:
        row = s.scalar(select(PersonRow).where(PersonRow.email == key))
    if row is None:
        raise NotFound(f"no person {key!r}", hint="`mlgrove people list` shows usernames")
    return row


def usernames(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = s.execute(select(PersonRow.id, PersonRow.username).where(PersonRow.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def team_row(s: Session, name: str) -> TeamRow:
    row = s.scalar(select(TeamRow).where(TeamRow.name == name.strip()))
    if row is None:
        raise NotFound(f"no team {name.strip()!r}", hint="`mlgrove people teams` lists them")
    return row


def team_names(s: Session) -> dict[int, str]:
    return {row[0]: row[1] for row in s.execute(select(TeamRow.id, TeamRow.name))}


def own_team(s: Session, ctx: Context, team: str | None) -> TeamRow:
    """The named team, or the actor's own."""
    if team:
        return team_row(s, team)
    if ctx.actor.team_id is None:
        raise InvalidInput("you are in no team", hint="name one with --team")
    return s.get_one(TeamRow, ctx.actor.team_id)


def active_mentor_ids(s: Session, person_id: int) -> frozenset[int]:
    rows = s.scalars(
        select(MentorshipRow.mentor_id).where(
            MentorshipRow.mentee_id == person_id, MentorshipRow.status == PairStatus.ACTIVE.value
        )
    )
    return frozenset(rows)


def viewer(ctx: Context) -> policy.Viewer:
    return policy.Viewer(id=ctx.actor.id, team_id=ctx.actor.team_id, is_admin=ctx.actor.is_admin)


def subject(s: Session, row: PersonRow, *, shares_stuck: bool = False) -> policy.Subject:
    return policy.Subject(
        id=row.id,
        team_id=row.team_id,
        manager_id=row.manager_id,
        mentor_ids=active_mentor_ids(s, row.id),
        shares_stuck_with_mentor=shares_stuck,
    )


def team_size(s: Session, team_id: int) -> int:
    rows = s.scalars(
        select(PersonRow.id).where(PersonRow.team_id == team_id, PersonRow.active.is_(True))
    )
    return len(list(rows))


def record_private_reads(ctx: Context, kind: policy.DataKind, reads: list[tuple[int, str]]) -> None:
    """Audit-log reads of someone else's private data: ``(owner id, what was read)``.

    The same ``growth.read`` events as feedback and notes, so the person sees these reads
    on their "who read my data" page too."""
    growth_access.log_reads(ctx, [(owner, f"{kind}: {what}") for owner, what in reads])
