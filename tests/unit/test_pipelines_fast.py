"""Which `mlgrove pipeline run` command lines the quick no-op path takes: only plain ones;
every other form goes to the full command, which parses and reports it as always."""

from __future__ import annotations

import pytest

from mlgrove.cli.pipeline_fast import parse


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MLGROVE_WORKSPACE", "MLGROVE_PROJECT"):
        monkeypatch.delenv(var, raising=False)


def test_plain_forms_are_understood(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse(["pipeline", "run", "proj.pipe:pipeline"]) == {
        "command": "run",
        "workspace": None,
        "target": "proj.pipe:pipeline",
        "as_json": False,
        "reason": "",
        "executor": "local",
        "project": None,
    }
    options = ["--reason=nightly", "--executor", "inline", "-j", "4", "--project", "shop"]
    found = parse(["-w", "/ws", "pipeline", "run", "--json", "digits", *options])
    assert found == {
        "command": "run",
        "workspace": "/ws",
        "target": "digits",
        "as_json": True,
        "reason": "nightly",
        "executor": "inline",
        "project": "shop",
    }
    monkeypatch.setenv("MLGROVE_PROJECT", "lab")
    monkeypatch.setenv("MLGROVE_WORKSPACE", "/env-ws")
    assert parse(["pipeline", "run", "x:p"]) == {
        "command": "run",
        "workspace": "/env-ws",
        "target": "x:p",
        "as_json": False,
        "reason": "",
        "executor": "local",
        "project": "lab",
    }
    assert parse(["--workspace=/w", "pipeline", "run", "x:p", "-p", "shop"]) is not None
    status = ["pipeline", "status", "digits", "--param", "epochs=3", "--param=lr=0.1", "--json"]
    assert parse(status) == {
        "command": "status",
        "workspace": "/env-ws",
        "target": "digits",
        "as_json": True,
        "project": "lab",
        "params": ["epochs=3", "lr=0.1"],
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["pipeline", "show", "x:p"],
        ["pipeline", "status", "x:p", "--reason", "why"],
        ["pipeline", "run"],
        ["pipeline", "run", "x:p", "y:q"],
        ["pipeline", "run", "x:p", "--force", "train"],
        ["pipeline", "run", "x:p", "--param", "epochs=3"],
        ["pipeline", "run", "x:p", "--retries", "2"],
        ["pipeline", "run", "x:p", "--help"],
        ["pipeline", "run", "x:p", "--jobs", "many"],
        ["pipeline", "run", "x:p", "--reason"],
        ["pipeline", "run", "x:p", "-j4"],
        ["--url", "http://grove", "pipeline", "run", "x:p"],
        ["-u", "ann", "pipeline", "run", "x:p"],
        ["-w"],
        ["run", "pipeline", "x:p"],
    ],
)
def test_other_forms_go_to_the_full_command(argv: list[str]) -> None:
    assert parse(argv) is None
