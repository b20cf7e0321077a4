"""The REST API over a real HTTP server: auth, errors as problem+json, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mlgrove.store import schema
from mlgrove.testing.factories import Factories


@pytest.fixture
def api(grove_live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grove_live_server + "/api/v1", timeout=10) as client:
        yield client


def bearer(grove_factories: Factories, username: str, role: str = "engineer") -> dict[str, str]:
    person = grove_factories.person(username, role=role)
    return {"Authorization": f"Bearer {grove_factories.token(person).secret}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["type"] == f"urn:mlgrove:problem:{code}"
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_health_reports_backend_and_schema(api: httpx.Client, grove_backend: str) -> None:
    body = api.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"] == grove_backend
    assert body["schema"] == schema.head_revision()


def test_unauthenticated_calls_get_401_with_a_hint(api: httpx.Client) -> None:
    response = api.get("/teams")
    body = assert_problem(response, 401, "authentication-failed")
    assert "Bearer" in str(body["hint"])
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_token_authenticates_as_its_owner(api: httpx.Client, grove_factories: Factories) -> None:
    headers = bearer(grove_factories, "eli")
    assert api.get("/me", headers=headers).json()["username"] == "eli"


def test_revoked_and_garbage_tokens_are_refused(
    api: httpx.Client, grove_factories: Factories
) -> None:
    eli = grove_factories.person("eli")
    new = grove_factories.token(eli)
    headers = {"Authorization": f"Bearer {new.secret}"}
    assert api.post(f"/tokens/{new.info.id}/revoke", headers=headers).json()["revoked_at"]
    assert_problem(api.get("/me", headers=headers), 401, "token-revoked")
    assert_problem(
        api.get("/me", headers={"Authorization": "Bearer nonsense"}), 401, "authentication-failed"
    )


def test_roles_are_enforced_over_http(api: httpx.Client, grove_factories: Factories) -> None:
    manager = bearer(grove_factories, "max", role="manager")
    reviewer = bearer(grove_factories, "rev", role="reviewer")
    created = api.post("/teams", json={"name": "Vision", "description": "eyes"}, headers=manager)
    assert created.status_code == 201
    assert created.json()["name"] == "Vision"
    body = assert_problem(
        api.post("/teams", json={"name": "Other"}, headers=reviewer), 403, "permission-denied"
    )
    assert "rev (reviewer) may not manage teams" in str(body["detail"])
    assert [t["name"] for t in api.get("/teams", headers=reviewer).json()] == ["Vision"]


def test_bad_bodies_name_the_field_to_fix(api: httpx.Client, grove_factories: Factories) -> None:
    headers = bearer(grove_factories, "ana", role="admin")
    body = assert_problem(
        api.post("/people", json={"username": "x1"}, headers=headers), 422, "validation"
    )
    assert body["errors"] == [{"field": "role", "message": "Field required"}]
    body = assert_problem(
        api.post("/people", json={"username": "x1", "role": "wizard"}, headers=headers),
        422,
        "validation",
    )
    assert "role" in str(body["detail"])
    assert_problem(
        api.post("/people", json={"username": "No Spaces", "role": "engineer"}, headers=headers),
        400,
        "invalid-input",
    )


def test_conflicts_and_missing_things(api: httpx.Client, grove_factories: Factories) -> None:
    headers = bearer(grove_factories, "ana", role="admin")
    grove_factories.team("Vision")
    assert_problem(api.post("/teams", json={"name": "Vision"}, headers=headers), 409, "conflict")
    body = assert_problem(api.get("/projects/ghost", headers=headers), 404, "not-found")
    assert "project list" in str(body["hint"])
    assert_problem(api.get("/no/such/path", headers=headers), 404, "http")


def test_openapi_document_describes_the_api(grove_live_server: str) -> None:
    doc = httpx.get(grove_live_server + "/api/openapi.json").json()
    assert doc["info"]["title"] == "Grove API"
    for path in (
        "/api/v1/health",
        "/api/v1/me",
        "/api/v1/teams",
        "/api/v1/people",
        "/api/v1/projects",
        "/api/v1/tokens",
    ):
        assert path in doc["paths"], path
    assert "NewTokenOut" in doc["components"]["schemas"]
