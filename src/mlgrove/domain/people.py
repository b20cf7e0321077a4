"""People, teams and projects as plain values."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Role(enum.StrEnum):
    """What a person does in Grove. Roles grant permissions (see ``domain.authz``)."""

    ADMIN = "admin"
    MANAGER = "manager"
    ENGINEER = "engineer"
    REVIEWER = "reviewer"


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str
    email: str
    role: Role
    team_id: int | None = None
    manager_id: int | None = None
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


#: The actor for embedded use: whoever can open the workspace folder can already read
#: and write its database, so the folder's owner acts as an administrator (as with git).
LOCAL_ADMIN = Person(
    id=0, username="local", display_name="Local workspace owner", email="", role=Role.ADMIN
)


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    team_id: int
    description: str = ""


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: never its secret, which is shown once at creation."""

    id: int
    person_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class NewToken:
    """A freshly created token: the only moment its secret exists in clear."""

    info: TokenInfo
    secret: str


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str = ""
