"""The role policy, as users would describe it."""

from __future__ import annotations

import dataclasses

import pytest

from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.people import Person, Role


def person(role: Role, active: bool = True) -> Person:
    return Person(id=1, username="p", display_name="P", email="", role=role, active=active)


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    [
        (Role.ADMIN, Action.MANAGE_PEOPLE, True),
        (Role.MANAGER, Action.MANAGE_PEOPLE, False),
        (Role.MANAGER, Action.MANAGE_TEAMS, True),
        (Role.ENGINEER, Action.MANAGE_TEAMS, False),
        (Role.ENGINEER, Action.CREATE_PROJECT, True),
        (Role.REVIEWER, Action.CREATE_PROJECT, False),
        (Role.REVIEWER, Action.REVIEW, True),
        (Role.REVIEWER, Action.WRITE_DATA, False),
        (Role.ENGINEER, Action.VIEW_AUDIT_LOG, False),
        (Role.ADMIN, Action.MANAGE_ANY_TOKENS, True),
        (Role.MANAGER, Action.MANAGE_ANY_TOKENS, False),
    ],
)
def test_role_grants(role: Role, action: Action, expected: bool) -> None:
    assert allowed(person(role), action) is expected


def test_everyone_may_manage_their_own_tokens() -> None:
    assert all(allowed(person(r), Action.MANAGE_OWN_TOKENS) for r in Role)


def test_deactivated_people_may_do_nothing() -> None:
    admin = dataclasses.replace(person(Role.ADMIN), active=False)
    assert not any(allowed(admin, a) for a in Action)
