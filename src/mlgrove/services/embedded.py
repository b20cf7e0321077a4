"""The embedded SDK client: the :class:`~mlgrove.client.base.Client` interface, in process."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgrove._version import __version__
from mlgrove.client.base import Client
from mlgrove.domain.people import (
    LOCAL_ADMIN,
    AuditEvent,
    NewToken,
    Person,
    Project,
    Role,
    Team,
    TokenInfo,
)
from mlgrove.services import audit, people, projects, tokens
from mlgrove.services.context import Context, Runtime
from mlgrove.store import schema
from mlgrove.store.repos import people as repo
from mlgrove.workspace import find_workspace

if TYPE_CHECKING:
    from mlgrove.services.embedded_datasets import EmbeddedDatasets
    from mlgrove.services.embedded_tracking import EmbeddedModels, EmbeddedRuns
    from mlgrove.services.growth_embedded import EmbeddedGrowth
    from mlgrove.services.pipeline_sdk import EmbeddedPipelines
    from mlgrove.services.programs_embedded import EmbeddedPrograms
    from mlgrove.services.review_embedded import EmbeddedReview


class EmbeddedClient(Client):
    mode = "embedded"

    def __init__(self, runtime: Runtime, actor: Person, *, owns_runtime: bool = True) -> None:
        self.runtime = runtime
        self.ctx: Context = runtime.as_actor(actor)
        self._owns_runtime = owns_runtime

    # Each feature area is made (and its services imported) on first use: a command or
    # a script that touches one area does not pay for loading the others (together
    # about 0.4 s: pyarrow and numpy for datasets, the growth and review services...).
    # (mypy takes a cached_property for a read-only one, hence the ignores: it can be
    # assigned, as the attributes it replaces could.)

    @cached_property
    def datasets(self) -> EmbeddedDatasets:  # type: ignore[override]
        from mlgrove.services.embedded_datasets import EmbeddedDatasets

        return EmbeddedDatasets(self.ctx)

    @cached_property
    def runs(self) -> EmbeddedRuns:  # type: ignore[override]
        from mlgrove.services.embedded_tracking import EmbeddedRuns

        return EmbeddedRuns(self.ctx)

    @cached_property
    def models(self) -> EmbeddedModels:  # type: ignore[override]
        from mlgrove.services.embedded_tracking import EmbeddedModels

        return EmbeddedModels(self.ctx)

    @cached_property
    def pipelines(self) -> EmbeddedPipelines:  # type: ignore[override]
        from mlgrove.services.pipeline_sdk import EmbeddedPipelines

        return EmbeddedPipelines(self.ctx)

    @cached_property
    def review(self) -> EmbeddedReview:  # type: ignore[override]
        from mlgrove.services.review_embedded import EmbeddedReview

        return EmbeddedReview(self.ctx)

    @cached_property
    def programs(self) -> EmbeddedPrograms:  # type: ignore[override]
        from mlgrove.services.programs_embedded import EmbeddedPrograms

        return EmbeddedPrograms(self.ctx)

    @cached_property
    def growth(self) -> EmbeddedGrowth:  # type: ignore[override]
        from mlgrove.services.growth_embedded import EmbeddedGrowth

        return EmbeddedGrowth(self.ctx)

    @classmethod
    def open(cls, path: Path | None, *, user: str | None = None) -> EmbeddedClient:
        ws = find_workspace(path) if path is not None else find_workspace()
        runtime = Runtime.open(ws.settings())
        try:
            actor = LOCAL_ADMIN
            if user is not None:
                with runtime.db.read() as s:
                    actor = repo.person(repo.person_row_by_username(s, user))
        except BaseException:
            runtime.close()
            raise
        return cls(runtime, actor)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "database": self.runtime.db.engine.dialect.name,
            "schema": schema.current_revision(self.runtime.db),
        }

    def whoami(self) -> Person:
        return self.ctx.actor

    def list_teams(self) -> list[Team]:
        return people.list_teams(self.ctx)

    def create_team(self, name: str, description: str = "") -> Team:
        return people.create_team(self.ctx, name, description)

    def list_people(self) -> list[Person]:
        return people.list_people(self.ctx)

    def create_person(
        self,
        username: str,
        *,
        role: Role | str,
        password: str | None = None,
        display_name: str | None = None,
        email: str = "",
        team: str | None = None,
        manager: str | None = None,
    ) -> Person:
        return people.create_person(
            self.ctx,
            username,
            role=role,
            password=password,
            display_name=display_name,
            email=email,
            team=team,
            manager=manager,
        )

    def update_person(self, username: str, **changes: Any) -> Person:
        people.check_update_fields(changes)
        return people.update_person(self.ctx, username, **changes)

    def audit_log(self, *, limit: int = 100, before_id: int | None = None) -> list[AuditEvent]:
        return audit.list_events(self.ctx, limit=limit, before_id=before_id)

    def list_projects(self) -> list[Project]:
        return projects.list_projects(self.ctx)

    def create_project(self, name: str, *, team: str, description: str = "") -> Project:
        return projects.create_project(self.ctx, name, team=team, description=description)

    def get_project(self, name: str) -> Project:
        return projects.get_project(self.ctx, name)

    def create_token(self, name: str, *, days: int = 90, user: str | None = None) -> NewToken:
        return tokens.create_token(self.ctx, name, days=days, username=user)

    def list_tokens(self, *, user: str | None = None) -> list[TokenInfo]:
        return tokens.list_tokens(self.ctx, username=user)

    def revoke_token(self, token_id: int) -> TokenInfo:
        return tokens.revoke_token(self.ctx, token_id)

    def close(self) -> None:
        if self._owns_runtime:
            self.runtime.close()
