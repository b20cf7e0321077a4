"""The remote client over an injected transport: no network, no server."""

from __future__ import annotations

import json

import httpx

import mlgrove
from mlgrove.client.http import RemoteClient
from mlgrove.domain.people import Role


def test_connect_picks_remote_for_urls_and_sends_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": 3,
                "username": "eli",
                "display_name": "Eli",
                "email": "",
                "role": "engineer",
                "team_id": 1,
                "manager_id": 2,
                "active": True,
            },
        )

    with mlgrove.connect(
        "https://grove.example/", token="grove_ab_cd", transport=httpx.MockTransport(handler)
    ) as c:
        assert c.mode == "remote"
        me = c.whoami()
    assert me.role is Role.ENGINEER
    assert me.manager_id == 2
    assert seen[0].url == "https://grove.example/api/v1/me"
    assert seen[0].headers["authorization"] == "Bearer grove_ab_cd"


def test_project_names_are_quoted_in_paths() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"id": 1, "name": "a b/c", "team_id": 1, "description": ""})

    RemoteClient("http://g", transport=httpx.MockTransport(handler)).get_project("a b/c")
    assert paths == ["/api/v1/projects/a%20b%2Fc"]


def test_token_creation_posts_the_owner_for_admins() -> None:
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        token = {
            "id": 1,
            "person_id": 4,
            "name": "ci",
            "prefix": "abc",
            "created_at": "2026-01-01T00:00:00Z",
            "expires_at": "2026-02-01T00:00:00Z",
            "revoked_at": None,
            "last_used_at": None,
        }
        return httpx.Response(201, json={"token": token, "secret": "grove_abc_xyz"})

    new = RemoteClient("http://g", transport=httpx.MockTransport(handler)).create_token(
        "ci", days=31, user="eli"
    )
    assert bodies == [{"name": "ci", "days": 31, "username": "eli"}]
    assert new.secret == "grove_abc_xyz"
    assert new.info.expires_at.tzinfo is not None
