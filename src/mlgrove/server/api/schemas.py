"""Request and response bodies of the REST API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mlgrove.domain.people import AuditEvent, Person, Project, Role, Team, TokenInfo


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None = Field(alias="schema")

    model_config = ConfigDict(populate_by_name=True)


class TeamOut(BaseModel):
    id: int
    name: str
    description: str

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(id=team.id, name=team.name, description=team.description)


class TeamIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""


class PersonOut(BaseModel):
    id: int
    username: str
    display_name: str
    email: str
    role: Role
    team_id: int | None
    manager_id: int | None
    active: bool

    @classmethod
    def of(cls, p: Person) -> PersonOut:
        return cls(
            id=p.id,
            username=p.username,
            display_name=p.display_name,
            email=p.email,
            role=p.role,
            team_id=p.team_id,
            manager_id=p.manager_id,
            active=p.active,
        )


class PersonIn(BaseModel):
    username: str
    role: Role
    password: str | None = None
    display_name: str | None = None
    email: str = ""
    team: str | None = None
    manager: str | None = None


class PersonPatch(BaseModel):
    """Only the fields sent are changed; ``team``/``manager`` null clears the link."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    display_name: str | None = None
    email: str | None = None
    team: str | None = None
    manager: str | None = None
    active: bool | None = None


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str

    @classmethod
    def of(cls, e: AuditEvent) -> AuditEventOut:
        return cls(
            id=e.id, at=e.at, actor=e.actor, action=e.action, subject=e.subject, detail=e.detail
        )


class ProjectOut(BaseModel):
    id: int
    name: str
    team_id: int
    description: str

    @classmethod
    def of(cls, p: Project) -> ProjectOut:
        return cls(id=p.id, name=p.name, team_id=p.team_id, description=p.description)


class ProjectIn(BaseModel):
    name: str
    team: str
    description: str = ""


class TokenOut(BaseModel):
    id: int
    person_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, t: TokenInfo) -> TokenOut:
        return cls(
            id=t.id,
            person_id=t.person_id,
            name=t.name,
            prefix=t.prefix,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )


class TokenIn(BaseModel):
    name: str
    days: int = 90
    username: str | None = Field(
        default=None, description="Administrators: make it for this person."
    )


class NewTokenOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="The token itself. Shown only in this response.")
