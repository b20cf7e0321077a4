"""`mlgrove help|learning|mentors|designs`: locally (as --user) and against a server with
--server and MLGROVE_TOKEN; the --json contract and one-line errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.domain import ical
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    code = run([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_the_exact_cli_contract_in_a_local_workspace(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.create_team("Vision")
        grove.create_person("jun", role="engineer", team="Vision")
        grove.create_person("sam", role="engineer", team="Vision")
        grove.create_person("mia", role="manager", team="Vision")

    asked = _json(
        capsys, "--user", "jun", "help", "ask", "--topic", "eval is flaky", "--stuck-since", "2h"
    )
    request = asked["request"]
    assert request["status"] == "open"
    assert request["asker"] == "jun"
    assert request["stuck_since"] is not None  # jun sees their own
    listed = _json(capsys, "--user", "sam", "help", "list")
    assert [r["id"] for r in listed["requests"]] == [request["id"]]
    assert listed["requests"][0]["stuck_since"] is None  # sam does not
    answered = _json(capsys, "--user", "sam", "help", "respond", str(request["id"]), "seed it")
    answer_id = answered["responses"][0]["id"]
    done = _json(
        capsys, "--user", "jun", "help", "resolve", str(request["id"]), "--thank", str(answer_id)
    )
    assert done["status"] == "resolved"
    assert done["responses"][0]["thanked"] is True

    logged = _json(capsys, "--user", "jun", "learning", "log", "1.5", "--topic", "JAX basics")
    assert logged["hours"] == 1.5
    assert logged["topic"] == "JAX basics"
    planned = _json(
        capsys,
        "--user",
        "sam",
        "learning",
        "plan",
        "lunch-and-learn",
        "Polars",
        "--at",
        "2030-01-10T12:00",
        "--topic",
        "dataframes",
        "--presenter",
        "sam",
    )
    assert planned["starts_at"] == "2030-01-10T12:00:00+00:00"
    events = _json(capsys, "--user", "jun", "learning", "events")
    assert [e["title"] for e in events["events"]] == ["Polars"]
    budget = _json(capsys, "--user", "mia", "learning", "budget", "--set-share", "0.1")
    assert budget["budget"]["share"] == 0.1
    assert budget["shown"] is False  # 3 people < 5

    _json(capsys, "--user", "sam", "mentors", "offer", "--strength", "modelling", "--capacity", "1")
    _json(capsys, "--user", "jun", "mentors", "want", "--goal", "modelling")
    matched = _json(capsys, "--user", "mia", "mentors", "match", "--approve")
    assert [(p["mentor"], p["mentee"]) for p in matched["proposal"]] == [("sam", "jun")]
    assert len(matched["approved"]) == 1

    _json(
        capsys,
        "--user",
        "sam",
        "designs",
        "add",
        "Defect detector",
        "--summary",
        "Detect scratches on steel parts from camera images.",
    )
    similar = _json(
        capsys, "--user", "jun", "designs", "similar", "scratches on steel parts detection"
    )
    assert [s["design"]["title"] for s in similar["similar"]] == ["Defect detector"]


def test_cli_errors_are_one_line(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.create_team("Vision")
        grove.create_person("jun", role="engineer", team="Vision")
    cases = [
        (["help", "ask", "--topic", "x"], "--user"),
        (
            ["--user", "jun", "help", "ask", "--topic", "x", "--stuck-since", "soonish"],
            "not a duration",
        ),
        (["--user", "jun", "learning", "log", "30", "--topic", "x"], "24 hours"),
        (["--user", "jun", "mentors", "match"], "may not run growth programmes"),
        (["--user", "jun", "help", "resolve", "42"], "no help request 42"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert run(args) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("mlgrove: error: ")
        assert message in err


def test_the_cli_talks_to_a_server_with_the_token_from_the_environment(
    grove_live_server: str,
    grove_factories: Factories,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = grove_factories.world(
        {"teams": ["Vision"], "people": {"jun": {"role": "engineer", "team": "Vision"}}}
    )
    monkeypatch.setenv("MLGROVE_TOKEN", grove_factories.token(made["jun"]).secret)
    asked = _json(
        capsys,
        "--server",
        grove_live_server,
        "help",
        "ask",
        "--topic",
        "<script>alert(1)</script>",
        "--stuck-since",
        "30m",
    )
    assert asked["request"]["topic"] == "<script>alert(1)</script>"
    logged = _json(
        capsys, "--server", grove_live_server, "learning", "log", "2", "--topic", "papers"
    )
    assert logged["hours"] == 2.0
    with mlgrove.connect(grove_live_server, token=grove_factories.token(made["jun"]).secret) as g:
        assert ical.parse(g.programs.learning_calendar()) == []
