"""The remote client: the SDK interface over Grove's REST API (httpx).

Errors come back as problem+json and are raised as the same :mod:`mlgrove.errors`
classes the embedded client raises, found by the problem's ``type`` code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from mlgrove import errors
from mlgrove.client.base import Client
from mlgrove.client.growth_remote import RemoteGrowth
from mlgrove.client.programs_remote import RemotePrograms
from mlgrove.client.remote_datasets import RemoteDatasets
from mlgrove.client.remote_tracking import RemoteModels, RemoteRuns
from mlgrove.client.review_remote import RemoteReview
from mlgrove.domain.people import AuditEvent, NewToken, Person, Project, Role, Team, TokenInfo

API = "/api/v1"
_PROBLEM_PREFIX = "urn:mlgrove:problem:"


def _error_classes() -> dict[str, type[errors.GroveError]]:
    found: dict[str, type[errors.GroveError]] = {}
    stack: list[type[errors.GroveError]] = [errors.GroveError]
    while stack:
        cls = stack.pop()
        found[cls.code] = cls
        stack.extend(cls.__subclasses__())
    return found


_BY_CODE = _error_classes()


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    hint = body.get("hint") if isinstance(body, dict) else None
    type_ = str(body.get("type", "")) if isinstance(body, dict) else ""
    message = str(detail or f"{response.status_code} {response.reason_phrase}")
    cls = (
        _BY_CODE.get(type_.removeprefix(_PROBLEM_PREFIX))
        if type_.startswith(_PROBLEM_PREFIX)
        else None
    )
    if cls is errors.RateLimited:
        raise errors.RateLimited(
            message, retry_after=int(response.headers.get("Retry-After", "60")), hint=hint
        )
    if cls is not None and cls not in (errors.RemoteError,):
        raise cls(message, hint=hint)
    raise errors.RemoteError(
        f"server answered {response.status_code}: {message}", status=response.status_code, hint=hint
    )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _person(d: dict[str, Any]) -> Person:
    return Person(
        id=d["id"],
        username=d["username"],
        display_name=d["display_name"],
        email=d["email"],
        role=Role(d["role"]),
        team_id=d["team_id"],
        manager_id=d["manager_id"],
        active=d["active"],
    )


def _team(d: dict[str, Any]) -> Team:
    return Team(id=d["id"], name=d["name"], description=d["description"])


def _project(d: dict[str, Any]) -> Project:
    return Project(id=d["id"], name=d["name"], team_id=d["team_id"], description=d["description"])


def _token(d: dict[str, Any]) -> TokenInfo:
    created, expires = _dt(d["created_at"]), _dt(d["expires_at"])
    assert created is not None
    assert expires is not None
    return TokenInfo(
        id=d["id"],
        person_id=d["person_id"],
        name=d["name"],
        prefix=d["prefix"],
        created_at=created,
        expires_at=expires,
        revoked_at=_dt(d["revoked_at"]),
        last_used_at=_dt(d["last_used_at"]),
    )


class RemoteClient(Client):
    mode = "remote"

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"User-Agent": "mlgrove-sdk", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, transport=transport, timeout=timeout
        )
        self.datasets = RemoteDatasets(self)
        self.runs = RemoteRuns(self)
        self.models = RemoteModels(self)
        self.review = RemoteReview(self)
        self.programs = RemotePrograms(self)
        self.growth = RemoteGrowth(self)

    def _unreachable(self, exc: httpx.TransportError) -> errors.RemoteError:
        return errors.RemoteError(
            f"cannot reach Grove at {self.base_url}: {exc}",
            status=0,
            hint="check the URL and that `mlgrove serve` is running",
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, API + path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        _raise_for(response)
        return response.json() if response.content else None

    @contextlib.contextmanager
    def _stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A response whose body is read as it arrives; errors are raised before it is."""
        try:
            with self._http.stream(method, API + path, **kwargs) as response:
                if not response.is_success:
                    response.read()
                    _raise_for(response)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def whoami(self) -> Person:
        return _person(self._call("GET", "/me"))

    def list_teams(self) -> list[Team]:
        return [_team(d) for d in self._call("GET", "/teams")]

    def create_team(self, name: str, description: str = "") -> Team:
        return _team(self._call("POST", "/teams", json={"name": name, "description": description}))

    def list_people(self) -> list[Person]:
        return [_person(d) for d in self._call("GET", "/people")]

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
        body = {
            "username": username,
            "role": str(role),
            "password": password,
            "display_name": display_name,
            "email": email,
            "team": team,
            "manager": manager,
        }
        return _person(self._call("POST", "/people", json=body))

    def update_person(self, username: str, **changes: Any) -> Person:
        if "role" in changes and changes["role"] is not None:
            changes["role"] = str(changes["role"])
        return _person(self._call("PATCH", f"/people/{quote(username, safe='')}", json=changes))

    def audit_log(self, *, limit: int = 100, before_id: int | None = None) -> list[AuditEvent]:
        params: dict[str, int] = {"limit": limit}
        if before_id is not None:
            params["before_id"] = before_id
        return [
            AuditEvent(
                id=d["id"],
                at=datetime.fromisoformat(d["at"]),
                actor=d["actor"],
                action=d["action"],
                subject=d["subject"],
                detail=d["detail"],
            )
            for d in self._call("GET", "/audit", params=params)
        ]

    def list_projects(self) -> list[Project]:
        return [_project(d) for d in self._call("GET", "/projects")]

    def create_project(self, name: str, *, team: str, description: str = "") -> Project:
        body = {"name": name, "team": team, "description": description}
        return _project(self._call("POST", "/projects", json=body))

    def get_project(self, name: str) -> Project:
        return _project(self._call("GET", f"/projects/{quote(name, safe='')}"))

    def create_token(self, name: str, *, days: int = 90, user: str | None = None) -> NewToken:
        d = self._call("POST", "/tokens", json={"name": name, "days": days, "username": user})
        return NewToken(info=_token(d["token"]), secret=d["secret"])

    def list_tokens(self, *, user: str | None = None) -> list[TokenInfo]:
        params = {"username": user} if user else None
        return [_token(d) for d in self._call("GET", "/tokens", params=params)]

    def revoke_token(self, token_id: int) -> TokenInfo:
        return _token(self._call("POST", f"/tokens/{token_id}/revoke"))

    def close(self) -> None:
        self._http.close()
