"""Rotations: an engineer spends weeks in another team or project, with goals, and writes
a reflection at the end. Career discovery, planned with their manager.

A rotation is seen by the person, their manager and programme leads; the reflection is
written by the person alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain import help_requests as text_rules
from mlgrove.domain import mentorship as tag_rules
from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.rotations import Rotation
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import audit, growth_access
from mlgrove.services.context import Context
from mlgrove.services.programs import participant, person_row, team_names, team_row
from mlgrove.store.models import PersonRow
from mlgrove.store.models.growth_programs import RotationRow


def _value(s: Session, row: RotationRow) -> Rotation:
    teams = team_names(s)
    person = s.get_one(PersonRow, row.person_id)
    return Rotation(
        id=row.id,
        person=person.username,
        home_team=teams.get(row.home_team_id) if row.home_team_id else None,
        host_team=teams.get(row.host_team_id, ""),
        project=row.project,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        goals=tuple(row.goals),
        reflection=row.reflection,
        created_by=row.created_by,
    )


def _may_see(ctx: Context, person: PersonRow) -> bool:
    return (
        person.id == ctx.actor.id
        or person.manager_id == ctx.actor.id
        or allowed(ctx.actor, Action.RUN_PROGRAMMES)
    )


def plan(
    ctx: Context,
    person: str,
    host_team: str,
    starts_on: date,
    ends_on: date,
    goals: Sequence[str],
    *,
    project: str = "",
) -> Rotation:
    """Plan a rotation (programme leads: managers and admins)."""
    ctx.require(Action.RUN_PROGRAMMES)
    if ends_on <= starts_on:
        raise InvalidInput("a rotation must end after it starts", hint="check the dates")
    if ends_on - starts_on > timedelta(days=366):
        raise InvalidInput("a rotation lasts at most a year", hint="that is a move, not a rotation")
    clean_goals = tag_rules.tags(goals, "goals")
    clean_project = text_rules.text(project, "project", required=False, limit=200)
    with ctx.db.write() as s:
        who = person_row(s, person)
        host = team_row(s, host_team)
        if host.id == who.team_id:
            raise InvalidInput(
                f"{who.username} is already in {host.name}", hint="rotate into another team"
            )
        row = RotationRow(
            person_id=who.id,
            home_team_id=who.team_id,
            host_team_id=host.id,
            project=clean_project,
            starts_on=starts_on,
            ends_on=ends_on,
            goals=list(clean_goals),
            created_by=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        audit.record(s, ctx.actor_label, "rotation.plan", f"person:{who.id}", host.name)
        return _value(s, row)


def list_rotations(ctx: Context, *, person: str | None = None) -> list[Rotation]:
    """One's own rotations, or (manager, programme lead) someone's or everyone's."""
    participant(ctx)
    if person:
        with ctx.db.read() as s:
            who = person_row(s, person)
            refused = not _may_see(ctx, who)
        if refused:
            # Logged for the person, like any refused read of their growth data.
            raise growth_access.refuse(ctx, who.id, f"rotations of {who.username}")
    with ctx.db.read() as s:
        query = select(RotationRow).order_by(RotationRow.starts_on.desc())
        if person:
            query = query.where(RotationRow.person_id == who.id)
        elif not allowed(ctx.actor, Action.RUN_PROGRAMMES):
            query = query.where(RotationRow.person_id == ctx.actor.id)
        return [
            _value(s, r)
            for r in s.scalars(query)
            if _may_see(ctx, s.get_one(PersonRow, r.person_id))
        ]


def reflect(ctx: Context, rotation_id: int, reflection: str) -> Rotation:
    """The person's reflection on their rotation (written by them alone)."""
    participant(ctx)
    clean = text_rules.text(reflection, "reflection")
    with ctx.db.write() as s:
        row = s.get(RotationRow, rotation_id)
        if row is None or row.person_id != ctx.actor.id:
            raise NotFound(
                f"no rotation {rotation_id} of yours", hint="the rotations page lists yours"
            )
        row.reflection = clean
        return _value(s, row)
