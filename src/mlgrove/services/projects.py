"""Projects: the unit that owns datasets, runs, models, pipelines and review queues."""

from __future__ import annotations

from sqlalchemy import select

from mlgrove.domain import names
from mlgrove.domain.authz import Action
from mlgrove.domain.people import Project
from mlgrove.errors import Conflict
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.store.models import ProjectRow
from mlgrove.store.repos import people as repo


def create_project(ctx: Context, name: str, *, team: str, description: str = "") -> Project:
    ctx.require(Action.CREATE_PROJECT)
    name = names.name(name, "project")
    with ctx.db.write() as s:
        if s.scalar(select(ProjectRow.id).where(ProjectRow.name == name)) is not None:
            raise Conflict(f"a project named {name!r} exists already")
        row = ProjectRow(
            name=name, team_id=repo.team_row_by_name(s, team).id, description=description
        )
        s.add(row)
        s.flush()
        audit.record(s, ctx.actor_label, "project.create", f"project:{row.id}", name)
        return repo.project(row)


def list_projects(ctx: Context) -> list[Project]:
    """Every project: projects are visible across teams so work is not duplicated."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        return [repo.project(r) for r in s.scalars(select(ProjectRow).order_by(ProjectRow.name))]


def get_project(ctx: Context, name: str) -> Project:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        return repo.project(repo.project_row_by_name(s, name))
