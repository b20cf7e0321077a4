"""Teams, people and projects through the services, with authorisation checked per role."""

from __future__ import annotations

import pytest

from mlgrove.domain.people import Role
from mlgrove.errors import InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit, people, projects
from mlgrove.testing.factories import Factories


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, object]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "ana": {"role": "admin", "team": "Vision"},
                "max": {"role": "manager", "team": "Vision"},
                "eli": {"role": "engineer", "team": "Vision", "manager": "max"},
                "rev": {"role": "reviewer", "team": "Vision", "manager": "max"},
            },
            "projects": {"triage": "Vision"},
        }
    )


@pytest.mark.parametrize(
    ("who", "may_create_person", "may_create_team", "may_create_project"),
    [
        ("ana", True, True, True),
        ("max", False, True, True),
        ("eli", False, False, True),
        ("rev", False, False, False),
    ],
)
def test_what_each_role_may_create(
    grove_factories: Factories,
    world: dict[str, object],
    who: str,
    may_create_person: bool,
    may_create_team: bool,
    may_create_project: bool,
) -> None:
    actor = grove_factories.ctx(world[who])  # type: ignore[arg-type]
    attempts = {
        "person": lambda: people.create_person(actor, f"new-{who}", role="engineer"),
        "team": lambda: people.create_team(actor, f"Team of {who}"),
        "project": lambda: projects.create_project(actor, f"proj-{who}", team="Vision"),
    }
    expected = {"person": may_create_person, "team": may_create_team, "project": may_create_project}
    for kind, attempt in attempts.items():
        if expected[kind]:
            attempt()
        else:
            with pytest.raises(PermissionDenied, match="may not"):
                attempt()


def test_everyone_sees_the_directory_and_all_projects(
    grove_factories: Factories, world: dict[str, object]
) -> None:
    ctx = grove_factories.ctx(world["rev"])  # type: ignore[arg-type]
    assert [p.username for p in people.list_people(ctx)] == ["ana", "eli", "max", "rev"]
    assert [p.name for p in projects.list_projects(ctx)] == ["triage"]
    eli = people.get_person(ctx, "eli")
    assert eli.manager_id == world["max"].id  # type: ignore[attr-defined]
    assert eli.role is Role.ENGINEER


def test_only_admins_read_the_audit_log(
    grove_factories: Factories, world: dict[str, object]
) -> None:
    with pytest.raises(PermissionDenied):
        audit.list_events(grove_factories.ctx(world["max"]))  # type: ignore[arg-type]
    events = audit.list_events(grove_factories.ctx(world["ana"]))  # type: ignore[arg-type]
    actions = [e.action for e in events]
    assert actions.count("person.create") == 4
    assert "project.create" in actions
    assert events[0].id > events[-1].id  # newest first


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"username": "Bad Name", "role": "engineer"}, InvalidInput, "invalid username"),
        ({"username": "ok", "role": "wizard"}, InvalidInput, "unknown role 'wizard'"),
        (
            {"username": "ok", "role": "engineer", "password": "short"},
            InvalidInput,
            "password too short",
        ),
        ({"username": "ok", "role": "engineer", "team": "Nope"}, NotFound, "no team named 'Nope'"),
        (
            {"username": "ok", "role": "engineer", "manager": "ghost"},
            NotFound,
            "no person with username 'ghost'",
        ),
    ],
)
def test_bad_people_input_is_refused_and_nothing_is_written(
    grove_factories: Factories, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    kwargs = dict(kwargs)  # the parameter dict is shared between backends
    username = kwargs.pop("username")
    with pytest.raises(error, match=message):
        people.create_person(grove_factories.admin_ctx, username, **kwargs)  # type: ignore[arg-type]
    assert people.list_people(grove_factories.admin_ctx) == []


def test_admin_changes_role_team_and_manager(
    grove_factories: Factories, world: dict[str, object]
) -> None:
    ctx = grove_factories.ctx(world["ana"])  # type: ignore[arg-type]
    people.create_team(ctx, "Platform")
    eli = people.update_person(
        ctx, "eli", role="manager", team="Platform", manager=None, display_name="Eli M."
    )
    assert (eli.role, eli.manager_id, eli.display_name) == (Role.MANAGER, None, "Eli M.")
    assert eli.team_id != world["max"].team_id  # type: ignore[attr-defined]
    kept = people.update_person(ctx, "eli", email="eli@example.com")
    assert (kept.role, kept.team_id) == (eli.role, eli.team_id)  # untouched fields stay


def test_only_admins_change_people_and_never_themselves_out(
    grove_factories: Factories, world: dict[str, object]
) -> None:
    with pytest.raises(PermissionDenied):
        people.update_person(grove_factories.ctx(world["max"]), "eli", role="admin")  # type: ignore[arg-type]
    ana = grove_factories.ctx(world["ana"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="cannot deactivate or demote yourself"):
        people.update_person(ana, "ana", active=False)
    with pytest.raises(InvalidInput, match="own manager"):
        people.update_person(ana, "eli", manager="eli")


def test_deactivation_ends_sessions_and_tokens(
    grove_factories: Factories, world: dict[str, object]
) -> None:
    from mlgrove.errors import AuthenticationFailed
    from mlgrove.services import sessions, tokens
    from mlgrove.testing.factories import DEFAULT_PASSWORD

    rt = grove_factories.runtime
    token = grove_factories.token(world["eli"])  # type: ignore[arg-type]
    _, session_id = sessions.login(rt, "eli", DEFAULT_PASSWORD, "a")
    people.update_person(grove_factories.ctx(world["ana"]), "eli", active=False)  # type: ignore[arg-type]
    assert sessions.person_for_session(rt, session_id) is None
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(rt, token.secret)
    with pytest.raises(AuthenticationFailed):
        sessions.login(rt, "eli", DEFAULT_PASSWORD, "a")
    people.update_person(grove_factories.ctx(world["ana"]), "eli", active=True)  # type: ignore[arg-type]
    assert tokens.authenticate(rt, token.secret).username == "eli"
