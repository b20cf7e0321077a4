"""`mlgrove pipeline ...` and `mlgrove worker`: the --json contract, status that
explains, and one readable error line (plus the step's traceback) on failure."""

from __future__ import annotations

import itertools
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.workspace import Workspace

_counter = itertools.count()

CODE = """
import os

import pyarrow as pa

from mlgrove.pipelines import Metrics, Pipeline, dataset, on_dataset, step


def tidy(text: str) -> str:
    return text.strip()


@step(datasets={"rows": dataset("tickets")})
def texts(rows: pa.Table) -> list:
    return [tidy(t) for t in rows["text"].to_pylist()]


@step
def count(texts: list, minimum: int = 1) -> Metrics:
    if os.environ.get("BREAK_COUNT"):
        raise KeyError("minimum")
    return Metrics(rows=sum(len(t) >= minimum for t in texts))


pipeline = Pipeline("tickets", [texts, count], retrain=[on_dataset("tickets", min_added_rows=5)])
"""


@pytest.fixture
def module(grove_workspace: Workspace) -> Iterator[str]:
    """The user's project in the workspace folder (the current folder)."""
    name = f"cliproj_{next(_counter)}"
    root = Path(grove_workspace.root)
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("")
    (root / name / "pipeline.py").write_text(textwrap.dedent(CODE))
    with mlgrove.connect(root) as grove:
        rows = pd.DataFrame({"id": range(20), "text": [f" t{i} " for i in range(20)]})
        grove.datasets.add("tickets", rows, key=["id"])
    yield f"{name}.pipeline:pipeline"
    for m in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[m]
    if str(root) in sys.path:
        sys.path.remove(str(root))


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert run([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_status_list_and_show(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = _json(capsys, "pipeline", "run", module, "--executor", "inline")
    assert first["status"] == "succeeded"
    assert [(s["step"], s["status"]) for s in first["steps"]] == [
        ("texts", "succeeded"),
        ("count", "succeeded"),
    ]
    again = _json(capsys, "pipeline", "run", module)  # local worker processes: none needed
    assert (again["steps_cached"], again["steps_total"], again["executor"]) == (2, 2, "local")

    fresh = _json(capsys, "pipeline", "status", module)
    assert [(s["step"], s["fresh"]) for s in fresh] == [("texts", True), ("count", True)]
    changed = _json(capsys, "pipeline", "status", module, "--param", "minimum=3")
    assert changed[1]["reasons"] == ["params changed: minimum"]
    assert run(["pipeline", "status", module, "--param", "minimum=3"]) == 0
    text = capsys.readouterr().out
    assert "params changed: minimum" in text
    assert "1 of 2 steps are stale" in text

    forced = _json(capsys, "pipeline", "run", module, "--force", "count", "--executor", "inline")
    assert [s["status"] for s in forced["steps"]] == ["cached", "succeeded"]
    listed = _json(capsys, "pipeline", "list")
    assert [(p["name"], p["steps"]) for p in listed] == [("tickets", 2)]
    assert listed[0]["rules"] == ["when tickets gets a new version with >= 5 rows added"]
    shown = _json(capsys, "pipeline", "show", "tickets")
    assert [r["id"] for r in shown["runs"]] == [forced["id"], again["id"], first["id"]]
    assert shown["decisions"][0]["reason"] == "run by hand"
    # Once run (so registered), a pipeline is also addressed by its name.
    by_name = _json(capsys, "pipeline", "status", "tickets", "--param", "minimum=3")
    assert by_name == changed
    rerun = _json(capsys, "pipeline", "run", "tickets", "--executor", "inline")
    assert (rerun["pipeline"], rerun["steps_cached"]) == ("tickets", 2)


def test_a_failing_step_prints_its_traceback_and_one_error_line(
    module: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREAK_COUNT", "1")
    capsys.readouterr()
    assert run(["pipeline", "run", module, "--executor", "inline"]) == 1
    err = capsys.readouterr().err
    assert 'raise KeyError("minimum")' in err
    last = err.strip().splitlines()[-1]
    assert last == (
        "mlgrove: error: step 'count' raised KeyError: 'minimum' "
        "(fix it and run again: the steps that succeeded stay cached)"
    )
    monkeypatch.delenv("BREAK_COUNT")
    resumed = _json(capsys, "pipeline", "run", module, "--executor", "inline")
    assert [s["status"] for s in resumed["steps"]] == ["cached", "succeeded"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["pipeline", "run", "nocolon"],
            "'nocolon' is neither a pipeline path nor a registered pipeline",
        ),
        (["pipeline", "run", "{m}", "--param", "speed"], "--param 'speed' is not KEY=VALUE"),
        (["pipeline", "run", "{m}", "--param", "speed=1"], "has no param 'speed'"),
        (["pipeline", "run", "{m}", "--force", "train"], "has no step 'train'"),
        (["pipeline", "run", "{m}", "--executor", "gpu"], "unknown executor 'gpu'"),
        (["pipeline", "show", "nope"], "no pipeline named 'nope'"),
        (
            ["--url", "http://127.0.0.1:9", "pipeline", "list"],
            "the pipeline commands run on a local workspace",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr(
    module: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    capsys.readouterr()
    assert run([a.replace("{m}", module) for a in args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("mlgrove: error: ")
    assert message in err


def test_worker_once_retrains_when_the_rule_is_met(
    module: str, grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["pipeline", "register", module]) == 0
    assert "retrain when tickets gets a new version" in capsys.readouterr().out
    with mlgrove.connect(grove_workspace.root) as grove:
        rows = pd.DataFrame({"id": range(22), "text": [f" t{i} " for i in range(22)]})
        grove.datasets.add("tickets", rows, key=["id"])
    assert run(["worker", "--once", "--executor", "inline"]) == 0
    assert "tickets: skipped: not retrained: tickets v1 → v2: 2 rows added (< 5)" in (
        capsys.readouterr().out
    )
    with mlgrove.connect(grove_workspace.root) as grove:
        rows = pd.DataFrame({"id": range(30), "text": [f" t{i} " for i in range(30)]})
        grove.datasets.add("tickets", rows, key=["id"])
    assert run(["worker", "--once", "--executor", "inline"]) == 0
    assert "tickets: ran: retrained: tickets v1 → v3: 10 rows added (≥ 5)" in (
        capsys.readouterr().out
    )


def test_serve_with_worker_retrains_in_the_server_process(
    module: str, grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import socket
    import subprocess
    import time

    root = Path(grove_workspace.root)
    assert run(["pipeline", "register", module]) == 0
    with mlgrove.connect(root) as grove:
        rows = pd.DataFrame({"id": range(40), "text": [f" t{i} " for i in range(40)]})
        grove.datasets.add("tickets", rows, key=["id"])  # 20 rows added: the rule is met
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mlgrove_bin = str(Path(sys.executable).with_name("mlgrove"))
    env = {**os.environ, "PYTHONPATH": str(root)}
    server = subprocess.Popen(
        [mlgrove_bin, "serve", "--worker", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        runs: list[Any] = []
        while time.monotonic() < deadline and (not runs or runs[0].status == "running"):
            time.sleep(1)
            with mlgrove.connect(root) as grove:
                runs = grove.pipelines.runs("tickets")
        assert [(r.trigger, r.status) for r in runs] == [("dataset", "succeeded")]
        assert runs[0].reason == "retrained: tickets v1 → v2: 20 rows added (≥ 5)"
    finally:
        server.terminate()
        server.wait(timeout=30)
