"""Teams, people and projects."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from mlgrove.server.api.schemas import (
    AuditEventOut,
    PersonIn,
    PersonOut,
    PersonPatch,
    ProjectIn,
    ProjectOut,
    TeamIn,
    TeamOut,
)
from mlgrove.server.deps import context
from mlgrove.services import audit, people, projects
from mlgrove.services.context import Context

router = APIRouter(tags=["people"])


@router.get("/teams", response_model=list[TeamOut])
def list_teams(ctx: Context = Depends(context)) -> list[TeamOut]:
    return [TeamOut.of(t) for t in people.list_teams(ctx)]


@router.post("/teams", response_model=TeamOut, status_code=201)
def create_team(body: TeamIn, ctx: Context = Depends(context)) -> TeamOut:
    return TeamOut.of(people.create_team(ctx, body.name, body.description))


@router.get("/people", response_model=list[PersonOut])
def list_people(ctx: Context = Depends(context)) -> list[PersonOut]:
    return [PersonOut.of(p) for p in people.list_people(ctx)]


@router.post("/people", response_model=PersonOut, status_code=201)
def create_person(body: PersonIn, ctx: Context = Depends(context)) -> PersonOut:
    return PersonOut.of(
        people.create_person(
            ctx,
            body.username,
            role=body.role,
            password=body.password,
            display_name=body.display_name,
            email=body.email,
            team=body.team,
            manager=body.manager,
        )
    )


@router.get("/people/{username}", response_model=PersonOut)
def get_person(username: str, ctx: Context = Depends(context)) -> PersonOut:
    return PersonOut.of(people.get_person(ctx, username))


@router.patch("/people/{username}", response_model=PersonOut)
def update_person(username: str, body: PersonPatch, ctx: Context = Depends(context)) -> PersonOut:
    """Change role, names, team, manager or active state (administrators only)."""
    sent = body.model_dump(include=body.model_fields_set)
    return PersonOut.of(people.update_person(ctx, username, **sent))


@router.get("/audit", response_model=list[AuditEventOut], tags=["audit"])
def audit_log(
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = None,
    ctx: Context = Depends(context),
) -> list[AuditEventOut]:
    """Audit events, newest first (administrators only). Page with ``before_id``."""
    return [AuditEventOut.of(e) for e in audit.list_events(ctx, limit=limit, before_id=before_id)]


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(ctx: Context = Depends(context)) -> list[ProjectOut]:
    return [ProjectOut.of(p) for p in projects.list_projects(ctx)]


@router.post("/projects", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectIn, ctx: Context = Depends(context)) -> ProjectOut:
    return ProjectOut.of(
        projects.create_project(ctx, body.name, team=body.team, description=body.description)
    )


@router.get("/projects/{name}", response_model=ProjectOut)
def get_project(name: str, ctx: Context = Depends(context)) -> ProjectOut:
    return ProjectOut.of(projects.get_project(ctx, name))
