"""`mlgrove ladder ...` and the local (embedded) feedback commands in a workspace:
the organisation's ladder overrides Grove's, and mistakes name their line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.domain import ladder
from mlgrove.workspace import Workspace

ORG = """\
name: Acme ladder
levels:
  - id: junior
    title: Junior
  - id: senior
    title: Senior
axes:
  technical:
    - id: modelling
      name: Modelling
      expectations:
        junior: trains baselines
        senior: designs evaluations
  collaboration:
    - id: help
      name: Help
      expectations:
        junior: asks early
        senior: answers quickly
"""


def test_validate_names_the_line_of_a_mistake(
    tmp_path: Path, grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "org.yaml"
    good.write_text(ORG)
    assert run(["ladder", "validate", str(good)]) == 0
    assert "ok (2 levels, 2 competencies" in capsys.readouterr().out

    bad = tmp_path / "bad.yaml"
    bad.write_text(ORG.replace("        senior: answers quickly\n", ""))
    assert run(["ladder", "validate", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "mlgrove: error: bad.yaml line 17: 'help' has no expectation for senior "
        "(fix the ladder file and load it again)"
    ]
    assert run(["ladder", "validate", str(tmp_path / "missing.yaml")]) == 1
    assert "no ladder file" in capsys.readouterr().err


def test_the_workspace_ladder_overrides_the_default(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["ladder", "show", "--json"]) == 0
    shipped = json.loads(capsys.readouterr().out)
    assert shipped["name"] == ladder.default().name

    (grove_workspace.grove_dir / "ladder.yaml").write_text(ORG)
    assert run(["ladder", "show", "--json"]) == 0
    org = json.loads(capsys.readouterr().out)
    assert org["name"] == "Acme ladder"
    assert [c["id"] for c in org["competencies"]] == ["modelling", "help"]
    assert run(["ladder", "show", "--level", "senior"]) == 0
    assert "designs evaluations" in capsys.readouterr().out
    assert run(["ladder", "show", "--level", "L9"]) == 1
    assert "no level 'L9'" in capsys.readouterr().err


def test_local_feedback_acts_as_the_named_user(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.create_team("Vision")
        grove.create_person("eli", role="engineer", team="Vision", email="eli@example.com")
        grove.create_person("bo", role="engineer", team="Vision")

    assert run(["feedback", "give", "--to", "eli@example.com", "--technical", "x"]) == 1
    assert "--user" in capsys.readouterr().err  # the workspace owner is not a person

    assert (
        run(["--user", "bo", "feedback", "give", "--to", "eli", "--collaboration", "kind review"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Feedback #1 given to eli (visible to receiver)." in out
    assert "It has no technical part" in out
    assert run(["--user", "eli", "feedback", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["feedback"]
    assert [(f["from"], f["collaboration"]) for f in listed] == [("bo", "kind review")]
    assert run(["--user", "bo", "feedback", "list", "--about", "eli"]) == 0
    assert "collaboration: kind review" in capsys.readouterr().out
