"""Queries over teams, people, projects and tokens, returning domain objects."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain.people import Person, Project, Role, Team, TokenInfo
from mlgrove.errors import NotFound
from mlgrove.store.models import ApiTokenRow, PersonRow, ProjectRow, TeamRow


def team(row: TeamRow) -> Team:
    return Team(id=row.id, name=row.name, description=row.description)


def person(row: PersonRow) -> Person:
    return Person(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        role=Role(row.role),
        team_id=row.team_id,
        manager_id=row.manager_id,
        active=row.active,
    )


def project(row: ProjectRow) -> Project:
    return Project(id=row.id, name=row.name, team_id=row.team_id, description=row.description)


def token(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        person_id=row.person_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def team_row_by_name(session: Session, name: str) -> TeamRow:
    row = session.scalar(select(TeamRow).where(TeamRow.name == name))
    if row is None:
        raise NotFound(f"no team named {name!r}", hint="`mlgrove team list` shows the teams")
    return row


def person_row_by_username(session: Session, username: str) -> PersonRow:
    row = session.scalar(select(PersonRow).where(PersonRow.username == username))
    if row is None:
        raise NotFound(
            f"no person with username {username!r}", hint="`mlgrove user list` shows them"
        )
    return row


def person_by_id(session: Session, person_id: int) -> Person:
    row = session.get(PersonRow, person_id)
    if row is None:
        raise NotFound(f"no person with id {person_id}")
    return person(row)


def project_row_by_name(session: Session, name: str) -> ProjectRow:
    row = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
    if row is None:
        raise NotFound(f"no project named {name!r}", hint="`mlgrove project list` shows them")
    return row
