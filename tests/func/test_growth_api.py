"""Growth over HTTP: every endpoint, the privacy policy through the API, and the CLI
against a live server (`mlgrove --server URL`, token in $MLGROVE_TOKEN)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mlgrove.cli.main import run
from mlgrove.domain.people import Person
from mlgrove.testing.factories import Factories

PR = "https://git.example/org/repo/pull/42"


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "ana": {"role": "admin", "team": "Vision", "email": "ana@example.com"},
                "max": {"role": "manager", "team": "Vision", "email": "max@example.com"},
                "eli": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "max",
                    "email": "eli@example.com",
                },
                "bo": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "max",
                    "email": "bo@example.com",
                },
            },
        }
    )


@pytest.fixture
def api(
    grove_live_server: str, grove_factories: Factories, world: dict[str, Any]
) -> Iterator[dict[str, httpx.Client]]:
    clients = {}
    for name in ("ana", "max", "eli", "bo"):
        person: Person = world[name]
        headers = {"Authorization": f"Bearer {grove_factories.token(person).secret}"}
        clients[name] = httpx.Client(base_url=grove_live_server + "/api/v1/growth", headers=headers)
    yield clients
    for c in clients.values():
        c.close()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_feedback_and_the_policy_through_every_endpoint(api: dict[str, httpx.Client]) -> None:
    bo, eli, max_, ana = api["bo"], api["eli"], api["max"], api["ana"]
    ladder = ok(eli.get("/ladder"))
    assert {c["axis"] for c in ladder["competencies"]} == {"technical", "collaboration"}

    req = ok(eli.post("/feedback-requests", json={"peers": ["bo@example.com"], "about": PR}), 201)
    waiting = ok(bo.get("/feedback-requests"))
    assert [r["id"] for r in waiting["to_me"]] == [req[0]["id"]]
    assert ok(eli.get("/feedback-requests"))["mine"][0]["peer"]["username"] == "bo"

    private = ok(
        bo.post(
            "/feedback",
            json={
                "to": "eli@example.com",
                "technical": "<script>alert(1)</script> a careful leakage test",
                "competencies": ["software-craft"],
                "request_id": req[0]["id"],
            },
        ),
        201,
    )
    assert private["about"] == PR
    assert private["missing_axis"] == "collaboration"
    shared = ok(
        bo.post(
            "/feedback",
            json={
                "to": "eli",
                "collaboration": "ran a kind review",
                "visibility": "receiver+manager",
            },
        ),
        201,
    )
    assert [f["id"] for f in ok(eli.get("/feedback"))] == [shared["id"], private["id"]]
    assert [f["id"] for f in ok(bo.get("/feedback/given"))] == [shared["id"], private["id"]]
    assert [f["id"] for f in ok(max_.get("/feedback", params={"about": "eli"}))] == [shared["id"]]
    assert ok(ana.get("/feedback", params={"about": "eli"})) == []
    refused = ana.get(f"/feedback/{private['id']}")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "private" in refused.json()["detail"]
    assert ok(max_.get(f"/feedback/{shared['id']}"))["collaboration"] == "ran a kind review"
    balance = ok(eli.get("/feedback/balance"))
    assert [(p["technical"], p["collaboration"]) for p in balance] == [(1, 1)]

    reads = ok(eli.get("/reads"))
    assert {(r["reader"], r["refused"]) for r in reads} >= {("ana", True), ("max", False)}

    notes = ok(eli.get("/notifications", params={"unread": "true"}))
    assert {n["kind"] for n in notes} == {"feedback"}
    assert ok(eli.post("/notifications/read")) == {"marked": 2}
    assert ok(eli.get("/notifications", params={"unread": "true"})) == []


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"to": "bo", "technical": "", "collaboration": " "}, 400, "needs a technical part"),
        ({"to": "bo", "technical": "x" * 6000}, 400, "the limit is 5000"),
        ({"to": "bo", "technical": "ok", "visibility": "all"}, 400, "unknown visibility"),
        ({"to": "nobody@example.com", "technical": "ok"}, 404, "no active person"),
        ({"to": "eli", "technical": "ok"}, 400, "for someone else"),
        ({"technical": "ok"}, 422, "to"),
    ],
)
def test_bad_feedback_gets_a_problem_saying_what_to_fix(
    api: dict[str, httpx.Client], body: dict[str, Any], status: int, fragment: str
) -> None:
    response = api["eli"].post("/feedback", json=body)
    assert response.status_code == status
    assert fragment in response.text
    assert ok(api["bo"].get("/feedback")) == []


def test_plans_evidence_notes_team_export_delete(
    api: dict[str, httpx.Client], grove_factories: Factories
) -> None:
    eli, max_, bo = api["eli"], api["max"], api["bo"]
    fb = ok(bo.post("/feedback", json={"to": "eli", "technical": "good tests"}), 201)
    plan = ok(
        eli.post(
            "/plans",
            json={"title": "Senior", "goals": [{"competency": "modelling", "text": "Own evals"}]},
        ),
        201,
    )
    plan = ok(
        eli.post(f"/plans/{plan['id']}/goals", json={"competency": "help", "text": "Ask early"}),
        201,
    )
    goal = plan["goals"][0]
    work = ok(eli.get("/work"))
    assert [(w["kind"], w["ref_id"]) for w in work] == [("feedback", fb["id"])]
    plan = ok(
        eli.post(f"/goals/{goal['id']}/evidence", json={"kind": "feedback", "ref_id": fb["id"]}),
        201,
    )
    assert plan["goals"][0]["evidence"][0]["label"] == "feedback from bo"
    assert ok(eli.post(f"/goals/{goal['id']}/done", json={"done": True}), 204) is None
    assert ok(max_.get("/plans", params={"person": "eli"}))[0]["goals"][0]["done"] is True
    assert bo.get("/plans", params={"person": "eli"}).status_code == 403
    assert ok(eli.post(f"/plans/{plan['id']}/close"))["status"] == "closed"

    note = ok(max_.post("/notes", json={"with": "eli", "body": "promotion talk"}), 201)
    assert [n["body"] for n in ok(eli.get("/notes", params={"with": "max"}))] == ["promotion talk"]
    assert ok(eli.get(f"/notes/{note['id']}"))["author"]["username"] == "max"
    assert api["ana"].get(f"/notes/{note['id']}").status_code == 403

    team = ok(max_.get("/teams/Vision"))
    assert (team["members"], team["shown"], team["technical_coverage"]) == (4, False, None)
    assert eli.get("/teams/Vision").status_code == 403

    dump = ok(eli.get("/export"))
    assert dump["growth_plans"][0]["title"] == "Senior"
    assert dump["one_on_one_notes"][0]["body"] == "promotion talk"
    deleted = ok(eli.delete("/mine"))
    assert deleted["feedback_received"] == 1
    assert ok(eli.get("/feedback")) == []


def test_cli_contract_against_a_server(
    grove_live_server: str,
    grove_factories: Factories,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def as_(name: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("MLGROVE_TOKEN", grove_factories.token(world[name]).secret)
        capsys.readouterr()
        code = run(["--server", grove_live_server, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, _ = as_(
        "bo", "feedback", "give", "--to", "eli@example.com", "--technical", "clear PR",
        "--collaboration", "patient review", "--about", PR, "--visibility", "receiver+manager",
        "--json",
    )  # fmt: skip
    assert code == 0
    given = json.loads(out)
    assert (given["to"], given["about_kind"], given["visibility"]) == (
        "eli",
        "pull-request",
        "receiver+manager",
    )

    code, out, _ = as_("max", "feedback", "list", "--about", "eli@example.com", "--json")
    assert code == 0
    assert [f["technical"] for f in json.loads(out)["feedback"]] == ["clear PR"]
    code, out, _ = as_("ana", "feedback", "list", "--about", "eli@example.com", "--json")
    assert json.loads(out) == {"feedback": []}

    code, out, err = as_("bo", "feedback", "give", "--to", "eli@example.com", "--technical", "")
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "needs a technical part" in err

    code, out, _ = as_(
        "eli",
        "feedback",
        "request",
        "--peer",
        "bo",
        "--peer",
        "max@example.com",
        "--about",
        PR,
        "--json",
    )
    assert code == 0
    assert [r["peer"] for r in json.loads(out)["requests"]] == ["bo", "max"]

    code, out, _ = as_("bo", "feedback", "requests", "--json")
    assert code == 0
    waiting = json.loads(out)["to_me"]
    assert [(r["from"], r["about"]) for r in waiting] == [("eli", PR)]
    code, out, _ = as_(
        "bo",
        "feedback",
        "give",
        "--to",
        "eli",
        "--technical",
        "answered",
        "--request",
        str(waiting[0]["id"]),
    )
    assert code == 0
    code, out, _ = as_("eli", "feedback", "requests")
    assert "bo about https://git.example/org/repo/pull/42 (answered)" in out

    code, out, _ = as_("eli", "ladder", "show", "--json")
    assert code == 0
    assert len(json.loads(out)["levels"]) == 4


def test_the_sdk_gives_the_same_answers_embedded_and_remote(
    grove_live_server: str, grove_factories: Factories, world: dict[str, Any]
) -> None:
    import mlgrove
    from mlgrove.services.embedded import EmbeddedClient

    remote = mlgrove.connect(grove_live_server, token=grove_factories.token(world["bo"]).secret)
    with remote:
        fb = remote.growth.give_feedback(
            "eli", technical="tidy PR", about=PR, competencies=["software-craft"]
        )
        made = remote.growth.request_feedback(["max"], about=PR)
        assert made[0].peer.username == "max"
        assert remote.growth.ladder().competency("help") is not None
        assert remote.growth.list_feedback("eli")[0].id == fb.id
    embedded = EmbeddedClient(grove_factories.runtime, world["eli"], owns_runtime=False)
    received = embedded.growth.list_feedback()
    assert received == [fb]
    assert [n.kind for n in embedded.growth.notifications()] == ["feedback"]
    assert embedded.growth.export()["feedback_received"][0]["technical"] == "tidy PR"
    to_max, _ = EmbeddedClient(
        grove_factories.runtime, world["max"], owns_runtime=False
    ).growth.feedback_requests()
    assert [r.id for r in to_max] == [made[0].id]
