"""The same SDK calls give the same results embedded and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mlgrove
from mlgrove.client.base import Client
from mlgrove.errors import Conflict, NotFound, PermissionDenied
from mlgrove.services.embedded import EmbeddedClient
from mlgrove.testing.factories import Factories


@pytest.fixture(params=["embedded", "remote"])
def sdk(request: pytest.FixtureRequest, grove_factories: Factories) -> Iterator[Client]:
    admin = grove_factories.person("ana", role="admin")
    if request.param == "embedded":
        client: Client = EmbeddedClient(grove_factories.runtime, admin, owns_runtime=False)
    else:
        url = request.getfixturevalue("grove_live_server")
        client = mlgrove.connect(url, token=grove_factories.token(admin).secret)
    with client:
        yield client


def test_the_whole_shell_through_the_sdk(sdk: Client) -> None:
    assert sdk.whoami().username == "ana"
    assert sdk.health()["status"] == "ok"
    team = sdk.create_team("Vision", "sees things")
    eli = sdk.create_person(
        "eli", role="engineer", team="Vision", manager="ana", display_name="Eli E."
    )
    assert (eli.team_id, eli.display_name, eli.role) == (team.id, "Eli E.", mlgrove.Role.ENGINEER)
    project = sdk.create_project("defect detection", team="Vision", description="dents")
    assert sdk.get_project("defect detection") == project
    assert sdk.list_projects() == [project]
    assert [p.username for p in sdk.list_people()] == ["ana", "eli"]
    assert sdk.list_teams() == [team]
    new = sdk.create_token("ci", days=7)
    listed = sdk.list_tokens()
    assert [t.prefix for t in listed if t.name == "ci"] == [new.info.prefix]
    revoked = sdk.revoke_token(new.info.id)
    assert revoked.revoked_at is not None
    theirs = sdk.create_token("for-eli", user="eli")
    assert theirs.info.person_id == eli.id


def test_people_changes_and_audit_log(sdk: Client) -> None:
    sdk.create_team("Vision")
    sdk.create_person("eli", role="engineer", team="Vision")
    changed = sdk.update_person("eli", role="reviewer", team=None)
    assert (changed.role, changed.team_id) == (mlgrove.Role.REVIEWER, None)
    off = sdk.update_person("eli", active=False)
    assert off.active is False
    events = sdk.audit_log(limit=2)
    assert [e.action for e in events] == ["person.update", "person.update"]
    assert "active=False" in events[0].detail
    older = sdk.audit_log(before_id=events[-1].id)
    assert all(e.id < events[-1].id for e in older)
    assert "team.create" in [e.action for e in older]


def test_errors_are_the_same_classes(sdk: Client) -> None:
    sdk.create_team("Vision")
    with pytest.raises(Conflict):
        sdk.create_team("Vision")
    with pytest.raises(NotFound, match="no project named 'ghost'"):
        sdk.get_project("ghost")


def test_a_reviewer_is_refused_the_same_way_in_both_modes(
    grove_factories: Factories, request: pytest.FixtureRequest
) -> None:
    rev = grove_factories.person("rev", role="reviewer")
    embedded = EmbeddedClient(grove_factories.runtime, rev, owns_runtime=False)
    remote = mlgrove.connect(
        request.getfixturevalue("grove_live_server"), token=grove_factories.token(rev).secret
    )
    for client in (embedded, remote):
        with client, pytest.raises(PermissionDenied, match="may not manage teams"):
            client.create_team("Nope")
