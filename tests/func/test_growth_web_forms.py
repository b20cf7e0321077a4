"""The growth pages' forms over plain HTTP (both databases): requests, goals, evidence,
notes, export and delete, with errors shown on the page and CSRF required."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mlgrove.services import growth_feedback, growth_plans
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PR = "https://git.example/org/repo/pull/9"


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "max": {"role": "manager", "team": "Vision"},
                "eli": {"role": "engineer", "team": "Vision", "manager": "max"},
                "bo": {"role": "engineer", "team": "Vision", "manager": "max"},
            },
        }
    )


@pytest.fixture
def eli(grove_live_server: str, world: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grove_live_server, timeout=30) as c:
        token = CSRF.search(c.get("/login").text)
        assert token
        r = c.post(
            "/login",
            data={"csrf_token": token.group(1), "username": "eli", "password": DEFAULT_PASSWORD},
        )
        assert r.status_code == 303
        yield c


def post(c: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = CSRF.search(c.get("/growth").text)
    assert token
    return c.post(path, data={"csrf_token": token.group(1), **data})


def test_request_form_asks_peers_and_shows_errors(eli: httpx.Client) -> None:
    r = post(eli, "/growth/requests", {"peers": "bo max", "about": PR, "message": "evals?"})
    assert r.status_code == 303
    page = eli.get("/growth/requests").text
    assert page.count(PR) == 2
    bad = post(eli, "/growth/requests", {"peers": "bo", "about": ""})
    assert bad.status_code == 400
    assert "names the piece of work it is about" in bad.text
    # Without the CSRF token nothing happens.
    forged = eli.post("/growth/requests", data={"peers": "bo", "about": PR})
    assert forged.status_code == 403


def test_plan_goal_and_evidence_forms(
    eli: httpx.Client, grove_factories: Factories, world: dict[str, Any]
) -> None:
    fb = growth_feedback.give_feedback(grove_factories.ctx(world["bo"]), "eli", technical="ok")
    assert (
        post(
            eli, "/growth/plans", {"title": "Senior", "competency": "help", "goal": "Ask early"}
        ).status_code
        == 303
    )
    plan = growth_plans.plans_of(grove_factories.ctx(world["eli"]))[0]
    r = post(eli, f"/growth/plans/{plan.id}/goals", {"competency": "modelling", "goal": "Evals"})
    assert r.status_code == 303
    goal = growth_plans.plans_of(grove_factories.ctx(world["eli"]))[0].goals[1]
    r = post(eli, f"/growth/goals/{goal.id}/evidence", {"work": f"feedback:{fb.id}", "note": "n"})
    assert r.status_code == 303
    bad = post(eli, f"/growth/plans/{plan.id}/goals", {"competency": "cooking", "goal": "x"})
    assert bad.status_code == 400
    assert "unknown competency &#39;cooking&#39;" in bad.text
    page = eli.get("/growth/plans").text
    assert "feedback from bo" in page


def test_notes_export_and_delete(
    eli: httpx.Client, grove_factories: Factories, world: dict[str, Any]
) -> None:
    assert (
        post(eli, "/growth/notes", {"with_": "max", "body": "<b>1:1</b> notes"}).status_code == 303
    )
    page = eli.get("/growth/notes", params={"with_": "max"}).text
    assert "&lt;b&gt;1:1&lt;/b&gt; notes" in page
    assert eli.get("/growth/notes", params={"with_": "nobody"}).status_code == 404

    growth_feedback.give_feedback(grove_factories.ctx(world["bo"]), "eli", technical="ok")
    export = eli.get("/growth/export.json")
    assert export.headers["content-disposition"].startswith("attachment")
    assert json.loads(export.text)["feedback_received"][0]["technical"] == "ok"

    refused = post(eli, "/growth/delete", {"confirm": "yes"})
    assert refused.status_code == 400
    assert growth_feedback.list_feedback(grove_factories.ctx(world["eli"]))
    assert post(eli, "/growth/delete", {"confirm": "delete"}).status_code == 303
    assert growth_feedback.list_feedback(grove_factories.ctx(world["eli"])) == []
