"""Factories: make teams, people, projects and tokens with as little typing as a test needs."""

from __future__ import annotations

import itertools
from typing import Any

from mlgrove.domain.people import LOCAL_ADMIN, NewToken, Person, Project, Role, Team
from mlgrove.services import people, projects, tokens
from mlgrove.services.context import Context, Runtime

DEFAULT_PASSWORD = "correct-horse-battery"


class Factories:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.admin_ctx = runtime.as_actor(LOCAL_ADMIN)
        self._n = itertools.count(1)

    def ctx(self, person: Person) -> Context:
        return self.runtime.as_actor(person)

    def team(self, name: str | None = None, description: str = "") -> Team:
        return people.create_team(self.admin_ctx, name or f"team-{next(self._n)}", description)

    def person(
        self,
        username: str | None = None,
        *,
        role: Role | str = Role.ENGINEER,
        password: str | None = DEFAULT_PASSWORD,
        team: Team | str | None = None,
        manager: Person | str | None = None,
        **kwargs: Any,
    ) -> Person:
        return people.create_person(
            self.admin_ctx,
            username or f"user{next(self._n)}",
            role=role,
            password=password,
            team=team.name if isinstance(team, Team) else team,
            manager=manager.username if isinstance(manager, Person) else manager,
            **kwargs,
        )

    def project(self, name: str | None = None, *, team: Team | str | None = None) -> Project:
        team_name = team.name if isinstance(team, Team) else team or self.team().name
        return projects.create_project(
            self.admin_ctx, name or f"project-{next(self._n)}", team=team_name
        )

    def token(self, person: Person, name: str = "test", days: int = 30) -> NewToken:
        return tokens.create_token(self.ctx(person), name, days=days)

    def world(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Build a small world from a dict, e.g.::

            {"teams": ["Vision"],
             "people": {"ana": {"role": "manager", "team": "Vision"},
                        "bo": {"role": "engineer", "team": "Vision", "manager": "ana"}},
             "projects": {"triage": "Vision"}}

        Returns every made object by name.
        """
        made: dict[str, Any] = {}
        for name in spec.get("teams", []):
            made[name] = self.team(name)
        for username, attrs in spec.get("people", {}).items():
            made[username] = self.person(username, **attrs)
        for name, team in spec.get("projects", {}).items():
            made[name] = self.project(name, team=team)
        return made
