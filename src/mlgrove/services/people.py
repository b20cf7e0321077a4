"""Teams and people: create, list, change roles."""

from __future__ import annotations

import enum

from sqlalchemy import select

from mlgrove.domain import names
from mlgrove.domain.authz import Action
from mlgrove.domain.people import Person, Role, Team
from mlgrove.errors import Conflict, InvalidInput
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.services.passwords import hash_password
from mlgrove.services.sessions import end_all_sessions
from mlgrove.store.models import PersonRow, TeamRow
from mlgrove.store.repos import people as repo


def parse_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            f"unknown role {value!r}", hint="roles: " + ", ".join(r.value for r in Role)
        ) from None


def create_team(ctx: Context, name: str, description: str = "") -> Team:
    ctx.require(Action.MANAGE_TEAMS)
    name = names.name(name, "team")
    with ctx.db.write() as s:
        if s.scalar(select(TeamRow.id).where(TeamRow.name == name)) is not None:
            raise Conflict(f"a team named {name!r} exists already")
        row = TeamRow(name=name, description=description)
        s.add(row)
        s.flush()
        audit.record(s, ctx.actor_label, "team.create", f"team:{row.id}", name)
        return repo.team(row)


def list_teams(ctx: Context) -> list[Team]:
    ctx.require(Action.VIEW_PEOPLE_DIRECTORY)
    with ctx.db.read() as s:
        return [repo.team(r) for r in s.scalars(select(TeamRow).order_by(TeamRow.name))]


def create_person(
    ctx: Context,
    username: str,
    *,
    role: Role | str,
    password: str | None = None,
    display_name: str | None = None,
    email: str = "",
    team: str | None = None,
    manager: str | None = None,
) -> Person:
    """Add a person. Without a password they can use API tokens but not the web login."""
    ctx.require(Action.MANAGE_PEOPLE)
    username = names.username(username)
    parsed_role = parse_role(role)
    password_hash = hash_password(password) if password is not None else None
    with ctx.db.write() as s:
        if s.scalar(select(PersonRow.id).where(PersonRow.username == username)) is not None:
            raise Conflict(f"a person with username {username!r} exists already")
        row = PersonRow(
            username=username,
            display_name=(display_name or username).strip(),
            email=email.strip(),
            role=parsed_role.value,
            password_hash=password_hash,
            team_id=repo.team_row_by_name(s, team).id if team else None,
            manager_id=repo.person_row_by_username(s, manager).id if manager else None,
        )
        s.add(row)
        s.flush()
        audit.record(
            s, ctx.actor_label, "person.create", f"person:{row.id}", f"{username} as {parsed_role}"
        )
        return repo.person(row)


def list_people(ctx: Context) -> list[Person]:
    """The directory: names, roles and teams. No activity figures, ever."""
    ctx.require(Action.VIEW_PEOPLE_DIRECTORY)
    with ctx.db.read() as s:
        return [repo.person(r) for r in s.scalars(select(PersonRow).order_by(PersonRow.username))]


def get_person(ctx: Context, username: str) -> Person:
    ctx.require(Action.VIEW_PEOPLE_DIRECTORY)
    with ctx.db.read() as s:
        return repo.person(repo.person_row_by_username(s, username))


def set_password(ctx: Context, username: str, password: str) -> None:
    """Change a password (one's own, or anyone's as an administrator); ends their logins."""
    if ctx.actor.username != username:
        ctx.require(Action.MANAGE_PEOPLE)
    password_hash = hash_password(password)
    with ctx.db.write() as s:
        row = repo.person_row_by_username(s, username)
        row.password_hash = password_hash
        end_all_sessions(s, row.id)
        audit.record(s, ctx.actor_label, "person.password", f"person:{row.id}")


class Unset(enum.Enum):
    """Marks an argument that was not given (``None`` means "clear it")."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


UPDATABLE = ("role", "display_name", "email", "team", "manager", "active")


def check_update_fields(changes: dict[str, object]) -> None:
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInput(
            f"cannot change {unknown[0]!r}", hint="changeable: " + ", ".join(UPDATABLE)
        )
    if not changes:
        raise InvalidInput(
            "nothing to change", hint="give at least one of: " + ", ".join(UPDATABLE)
        )


def update_person(
    ctx: Context,
    username: str,
    *,
    role: Role | str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    team: str | Unset | None = UNSET,
    manager: str | Unset | None = UNSET,
    active: bool | None = None,
) -> Person:
    """Change someone's role, team, manager, name or whether they may log in.

    ``team`` and ``manager`` take a name, or ``None`` to clear the link. Deactivating a
    person ends their web sessions at once; their API tokens stop working too (token
    checks refuse inactive owners). Administrators cannot deactivate or demote
    themselves, so a workspace always keeps the admin who is making changes.
    """
    ctx.require(Action.MANAGE_PEOPLE)
    changes: list[str] = []
    with ctx.db.write() as s:
        row = repo.person_row_by_username(s, username)
        if row.id == ctx.actor.id and (
            active is False or (role is not None and parse_role(role) is not Role.ADMIN)
        ):
            raise InvalidInput(
                "you cannot deactivate or demote yourself", hint="ask another administrator"
            )
        if role is not None:
            row.role = parse_role(role).value
            changes.append(f"role={row.role}")
        if display_name is not None:
            if not display_name.strip():
                raise InvalidInput("display name cannot be empty")
            row.display_name = display_name.strip()
            changes.append("display_name")
        if email is not None:
            row.email = email.strip()
            changes.append("email")
        if team is not UNSET:
            row.team_id = repo.team_row_by_name(s, team).id if isinstance(team, str) else None
            changes.append(f"team={team}")
        if manager is not UNSET:
            if manager == username:
                raise InvalidInput("a person cannot be their own manager")
            row.manager_id = (
                repo.person_row_by_username(s, manager).id if isinstance(manager, str) else None
            )
            changes.append(f"manager={manager}")
        if active is not None:
            row.active = active
            changes.append(f"active={active}")
            if not active:
                end_all_sessions(s, row.id)
        if not changes:
            raise InvalidInput(
                "nothing to change", hint="give at least one of: " + ", ".join(UPDATABLE)
            )
        audit.record(s, ctx.actor_label, "person.update", f"person:{row.id}", ", ".join(changes))
        return repo.person(row)
