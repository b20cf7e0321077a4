"""`mlgrove runs ...` and `mlgrove models ...`: the --json contract and one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.workspace import Workspace


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    assert run([*args, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_runs_and_models_cli_contract(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    rows = pd.DataFrame({"id": range(100), "y": [i % 2 for i in range(100)]})
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.datasets.add("tickets", rows, key=["id"])
        grove.datasets.split("tickets", "v1", ratios={"train": 0.8, "test": 0.2})
        ids = []
        for lr in (0.1, 0.2):
            with grove.runs.start(name=f"lr{lr}", params={"lr": lr, "depth": 3}) as r:
                r.use_dataset("tickets", 1, split="train")
                r.log_metrics({"loss": 1.0, "odd": math.nan})
                r.log_metric("loss", lr)
                r.log_artifact(tmp_path / "model.bin")
            ids.append(r.id)
            grove.models.register("clf", r.id, "model.bin")
        grove.models.evaluate("clf/v1", "tickets", 1, {"f1": 0.7}, split="test")
        grove.models.evaluate("clf/v2", "tickets", 1, {"f1": 0.8}, split="train")

    listed = _json(capsys, "runs", "list", "--param", "lr=0.1")
    assert [r["id"] for r in listed["runs"]] == [ids[0]]
    assert listed["runs"][0]["status"] == "finished"
    shown = _json(capsys, "runs", "show", str(ids[1]))
    assert shown["metrics"] == {"loss": 0.2, "odd": "NaN"}
    assert shown["inputs"] == [
        {
            "dataset": "tickets",
            "version": "v1",
            "address": shown["inputs"][0]["address"],
            "split": "train",
        }
    ]
    assert shown["artifacts"][0]["path"] == "model.bin"
    compared = _json(capsys, "runs", "compare", str(ids[0]), str(ids[1]))
    assert compared["params_differ"] == ["lr"]
    assert compared["metrics"]["loss"] == [0.1, 0.2]

    moved = _json(capsys, "models", "alias", "clf", "production", "2")
    assert moved["event"]["to"] == "v2"
    assert moved["changed"] is True
    assert _json(capsys, "models", "list")["models"][0]["aliases"] == {"production": "v2"}
    model = _json(capsys, "models", "show", "clf")
    assert [v["version"] for v in model["versions"]] == ["v2", "v1"]
    assert [e["to"] for e in model["alias_history"]] == ["v2"]
    assert model["comparable"] is False
    assert model["warning"].startswith("NOT COMPARABLE")
    removed = _json(capsys, "models", "alias", "clf", "production", "--delete")
    assert removed["event"]["from"] == "v2"
    assert removed["event"]["to"] is None


def test_tracking_cli_errors_are_one_line(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlgrove.connect(grove_workspace.root) as grove, grove.runs.start():
        pass
    capsys.readouterr()
    assert run(["runs", "show", "999"]) == 1
    assert (
        capsys.readouterr().err == "mlgrove: error: no run 999 (`mlgrove runs list` shows them)\n"
    )
    assert run(["models", "alias", "clf", "production", "1"]) == 1
    assert "no model named 'clf'" in capsys.readouterr().err
    assert run(["models", "alias", "clf", "production"]) == 1
    assert "give either a VERSION or --delete" in capsys.readouterr().err
    assert run(["runs", "list", "--tag", "oops"]) == 1
    assert "not KEY=VALUE" in capsys.readouterr().err
