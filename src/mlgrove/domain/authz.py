"""Who may do what: the role policy, as pure functions.

Services ask :func:`allowed` before every change; the server and CLI never decide on
their own, so every interface gets the same answer.
"""

from __future__ import annotations

import enum

from mlgrove.domain.people import Person, Role


class Action(enum.StrEnum):
    MANAGE_PEOPLE = "manage people"  # create users, change roles, teams
    MANAGE_TEAMS = "manage teams"
    CREATE_PROJECT = "create projects"
    VIEW_PROJECTS = "view projects"
    MANAGE_OWN_TOKENS = "manage own API tokens"
    MANAGE_ANY_TOKENS = "manage anyone's API tokens"
    VIEW_AUDIT_LOG = "view the audit log"
    VIEW_PEOPLE_DIRECTORY = "view the people directory"
    WRITE_DATA = "write datasets, runs and models"
    REVIEW = "review model output"
    RUN_PROGRAMMES = "run growth programmes"  # approve mentor pairs, set learning budgets


_GRANTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.MANAGER: frozenset(
        {
            Action.MANAGE_TEAMS,
            Action.CREATE_PROJECT,
            Action.VIEW_PROJECTS,
            Action.MANAGE_OWN_TOKENS,
            Action.VIEW_PEOPLE_DIRECTORY,
            Action.WRITE_DATA,
            Action.REVIEW,
            Action.RUN_PROGRAMMES,
        }
    ),
    Role.ENGINEER: frozenset(
        {
            Action.CREATE_PROJECT,
            Action.VIEW_PROJECTS,
            Action.MANAGE_OWN_TOKENS,
            Action.VIEW_PEOPLE_DIRECTORY,
            Action.WRITE_DATA,
            Action.REVIEW,
        }
    ),
    Role.REVIEWER: frozenset(
        {
            Action.VIEW_PROJECTS,
            Action.MANAGE_OWN_TOKENS,
            Action.VIEW_PEOPLE_DIRECTORY,
            Action.REVIEW,
        }
    ),
}


def allowed(actor: Person, action: Action) -> bool:
    """Whether ``actor`` may perform ``action``. Inactive people may do nothing."""
    return actor.active and action in _GRANTS[actor.role]


def grants(role: Role) -> frozenset[Action]:
    return _GRANTS[role]
