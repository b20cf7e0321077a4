"""Who sees a person's time stuck and learning entries, through every way in: each
person of a small organisation (the person, their mentor, their manager, a teammate,
someone in another team, an administrator, a mentor of someone else) reads every help
request over the REST API, the web pages and the SDK, and sees time stuck exactly when
the policy allows: the asker, and their mentor on the requests they chose to share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import mlgrove
from mlgrove.domain import growth_policy as policy
from mlgrove.services import growth_access, help_requests, learning, mentorship
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
VIEWERS = ["jun", "sam", "mia", "tia", "ola", "ada", "max"]


@pytest.fixture
def org(grove_factories: Factories) -> dict[str, Any]:
    made = grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "mia": {"role": "manager", "team": "Vision"},
                "jun": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "sam": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "tia": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "ola": {"role": "engineer", "team": "Speech"},
                "max": {"role": "engineer", "team": "Speech"},
                "ada": {"role": "admin"},
            },
        }
    )
    ctx = grove_factories.ctx
    mentorship.offer(ctx(made["sam"]), ["modelling"], 1)
    mentorship.offer(ctx(made["max"]), ["audio"], 1)
    mentorship.set_goals(ctx(made["jun"]), ["modelling"])
    mentorship.set_goals(ctx(made["ola"]), ["audio"])
    mentorship.approve(ctx(made["mia"]), [("sam", "jun"), ("max", "ola")])
    jun = ctx(made["jun"])
    made["shared"] = help_requests.ask(jun, "shared one", stuck_since="4h", share_with_mentor=True)
    made["private"] = help_requests.ask(jun, "private one", stuck_since="6h")
    made["mark"] = help_requests.ask(jun, "only marked", stuck_since="1h", ask_now=False)
    learning.log(jun, 2.0, "private reading")
    return made


def expected(viewer: str, request: str) -> bool:
    """The rule, written out independently of the code under test."""
    return viewer == "jun" or (viewer == "sam" and request == "shared")


@pytest.fixture
def api(grove_live_server: str, grove_factories: Factories, org: dict[str, Any]) -> Iterator[Any]:
    clients: dict[str, httpx.Client] = {}

    def as_person(name: str) -> httpx.Client:
        if name not in clients:
            token = grove_factories.token(org[name]).secret
            clients[name] = httpx.Client(
                base_url=grove_live_server + "/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        return clients[name]

    yield as_person
    for c in clients.values():
        c.close()


def web_session(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    form = client.get("/login")
    found = CSRF_FIELD.search(form.text)
    assert found
    resp = client.post(
        "/login",
        data={"csrf_token": found.group(1), "username": username, "password": DEFAULT_PASSWORD},
    )
    assert resp.status_code == 303
    return client


@pytest.mark.parametrize("viewer", VIEWERS)
def test_time_stuck_reaches_only_the_asker_and_the_chosen_mentor(
    viewer: str,
    org: dict[str, Any],
    api: Any,
    grove_live_server: str,
    grove_factories: Factories,
) -> None:
    client = api(viewer)
    listed = {r["id"]: r for r in client.get("/help-requests").json()}
    for name in ("shared", "private"):
        rid = org[name].id
        detail = client.get(f"/help-requests/{rid}").json()
        allowed = expected(viewer, name)
        assert (detail["stuck_since"] is not None) is allowed, (viewer, name, "detail")
        assert (listed[rid]["stuck_since"] is not None) is allowed, (viewer, name, "list")
        # The policy module agrees with the rule written out above.
        subject = policy.Subject(
            id=org["jun"].id,
            team_id=org["jun"].team_id,
            manager_id=org["jun"].manager_id,
            mentor_ids=frozenset({org["sam"].id}),
            shares_stuck_with_mentor=name == "shared",
        )
        v = policy.Viewer(org[viewer].id, org[viewer].team_id, org[viewer].is_admin)
        assert policy.may_read(v, subject, policy.Item(policy.DataKind.TIME_STUCK)) is allowed

    # A stuck mark is the asker's alone, listed or fetched.
    mark = org["mark"].id
    assert (mark in listed) is (viewer == "jun")
    assert client.get(f"/help-requests/{mark}").status_code == (200 if viewer == "jun" else 404)
    assert client.get("/help/nudges").status_code == 200  # one's own, always

    # Learning entries are their owner's only.
    entries = client.get("/learning/entries").json()
    assert [e["topic"] for e in entries] == (["private reading"] if viewer == "jun" else [])

    # The web page and the remote SDK say the same.
    web = web_session(grove_live_server, viewer)
    try:
        for name in ("shared", "private"):
            page = web.get(f"/programs/help/{org[name].id}")
            assert page.status_code == 200
            assert ('data-testid="time-stuck"' in page.text) is expected(viewer, name)
        assert web.get(f"/programs/help/{mark}").status_code == (200 if viewer == "jun" else 404)
    finally:
        web.close()
    token = grove_factories.token(org[viewer]).secret
    with mlgrove.connect(grove_live_server, token=token) as grove:
        for name in ("shared", "private"):
            seen = grove.programs.help_request(org[name].id)
            assert (seen.stuck_since is not None) is expected(viewer, name)


def test_every_read_by_the_mentor_is_on_the_askers_read_log(
    org: dict[str, Any], api: Any, grove_factories: Factories
) -> None:
    api("sam").get(f"/help-requests/{org['shared'].id}")
    api("sam").get("/help-requests")
    api("mia").get(f"/help-requests/{org['shared'].id}")  # sees nothing private: not logged
    reads = growth_access.reads_of(grove_factories.ctx(org["jun"]))
    assert [(r.reader, r.what) for r in reads] == [
        ("sam", f"time stuck: help request {org['shared'].id}"),
        ("sam", f"time stuck: help request {org['shared'].id}"),
    ]
    # Stopping the share stops the reads.
    help_requests.share_with_mentor(grove_factories.ctx(org["jun"]), org["shared"].id, False)
    assert api("sam").get(f"/help-requests/{org['shared'].id}").json()["stuck_since"] is None
