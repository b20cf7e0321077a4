"""The quick no-op run (SQLite and PostgreSQL): a fully cached re-run checked and recorded
without SQLAlchemy must leave exactly the records a full run leaves, and must step
aside (writing nothing) whenever the run would be anything more."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.services import lineage, pipeline_noop, pipelines, splits, table_commit
from mlgrove.services.context import Context, Runtime
from mlgrove.store.models import AuditEventRow
from mlgrove.store.models.pipelines import (
    PipelineDecisionRow,
    PipelineRunRow,
    PipelineStepRunRow,
)
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace

_counter = itertools.count()

CODE = """
from mlgrove.pipelines import Pipeline, on_schedule, step


def helper(x: int) -> int:
    return x + 1


@step(env=["blake3"])
def a() -> int:
    return helper(1)


@step
def b(a: int, scale: int = 2) -> int:
    return a * scale


@step
def c(a: int, b: int) -> int:
    return a + b


pipeline = Pipeline(
    "quick",
    [a, b, c],
    retrain=[on_schedule("0 3 * * *")],
    description="DESCRIPTION",
)
"""


DATASETS = """
import pyarrow as pa

from mlgrove.pipelines import Pipeline, dataset, step


@step(datasets={"rows": dataset("reviews", split="train")})
def texts(rows: pa.Table) -> list:
    return rows["text"].to_pylist()


@step(datasets={"test_rows": dataset("reviews", split="test", version="v1")})
def score(texts: list, test_rows: pa.Table) -> int:
    return len(texts) + test_rows.num_rows


pipeline = Pipeline("quick", [texts, score])
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Write the user's pipeline module; returns ``module:pipeline``."""
    sys.path.insert(0, str(tmp_path))
    name = f"quickproj_{next(_counter)}"

    def write(description: str = "three steps", body: str = "return a * scale") -> str:
        code = CODE.replace("DESCRIPTION", description).replace("return a * scale", body)
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
        sys.modules.pop(name, None)
        return f"{name}:pipeline"

    yield write
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


@pytest.fixture
def ctx(grove_runtime: Runtime, grove_factories: Factories) -> Context:
    grove_factories.project("shop")
    return grove_runtime.as_actor(LOCAL_ADMIN)


def _columns(row: Any, skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}


def _records(ctx: Context, run_id: int) -> dict[str, Any]:
    """Everything a run left in the database, without ids, times and the process id."""
    with ctx.db.read() as s:
        run = s.get_one(PipelineRunRow, run_id)
        steps = s.scalars(
            select(PipelineStepRunRow)
            .where(PipelineStepRunRow.run_id == run_id)
            .order_by(PipelineStepRunRow.id)
        )
        decisions = s.scalars(
            select(PipelineDecisionRow).where(PipelineDecisionRow.run_id == run_id)
        )
        audit = s.scalars(
            select(AuditEventRow).where(AuditEventRow.subject == f"pipeline_run:{run_id}")
        )
        assert run.started_at.tzinfo is not None
        assert run.ended_at is not None
        return {
            "run": _columns(run, {"id", "pid", "started_at", "ended_at"}),
            "steps": [_columns(r, {"id", "run_id", "ended_at"}) for r in steps],
            "decisions": [_columns(r, {"id", "run_id", "at"}) for r in decisions],
            "audit": [_columns(r, {"id", "at", "subject"}) for r in audit],
        }


def _info(r: Any) -> dict[str, Any]:
    found = dataclasses.asdict(r)
    for k in ("id", "started_at", "ended_at"):
        found.pop(k)
    return found


def _run_count(ctx: Context) -> int:
    return len(pipelines.list_runs(ctx, "quick", limit=500))


def test_a_quick_run_records_what_a_full_run_records(
    ctx: Context, project: Callable[..., str]
) -> None:
    path = project()
    first = pipelines.run(ctx, path, executor="inline")
    assert [s.status for s in first.steps] == ["succeeded"] * 3

    full = pipelines.run(ctx, path, executor="inline", reason="nightly")
    quick = pipeline_noop.cached_run(ctx.settings, path, executor="inline", reason="nightly")
    assert quick is not None
    assert [s.status for s in quick.steps] == ["cached"] * 3
    assert _info(quick) == _info(full)
    assert _records(ctx, quick.id) == _records(ctx, full.id)
    # Read back through the ORM, the quick run is the run it returned.
    assert pipelines.get_run(ctx, quick.id) == quick
    assert pipelines.get_pipeline(ctx, "quick").last_run == quick
    assert all(st.fresh for st in pipelines.status(ctx, path))

    # By its registered name, as `mlgrove pipeline run quick` does.
    by_name = pipeline_noop.cached_run(ctx.settings, "quick")
    assert by_name is not None
    assert (by_name.executor, by_name.reason) == ("local", "run by hand")


def test_dataset_inputs_are_pinned_and_recorded_as_a_full_run_pins_them(
    ctx: Context, project: Callable[..., str], tmp_path: Path
) -> None:
    rows = pd.DataFrame({"id": range(40), "text": [f"r{i}" for i in range(40)]})
    table_commit.commit(ctx, "reviews", rows, key=["id"])
    splits.split(ctx, "reviews", "v1", ratios={"train": 0.75, "test": 0.25})
    path = project()
    (tmp_path / f"{path.split(':')[0]}.py").write_text(DATASETS)
    sys.modules.pop(path.split(":")[0], None)
    pipelines.run(ctx, path, executor="inline")

    full = pipelines.run(ctx, path, executor="inline")
    quick = pipeline_noop.cached_run(ctx.settings, path)
    assert quick is not None
    assert set(quick.inputs) == {"reviews:train", "reviews:test"}
    assert _info(quick) == {**_info(full), "executor": "local"}
    assert _records(ctx, quick.id) == {
        **_records(ctx, full.id),
        "run": {**_records(ctx, full.id)["run"], "executor": "local"},
    }
    edges = {
        (e.from_kind, e.from_id, e.relation, str(e.detail))
        for e in lineage.edges_of(ctx, "pipeline_run", str(quick.id), depth=1)
    }
    assert edges == {
        (e.from_kind, e.from_id, e.relation, str(e.detail))
        for e in lineage.edges_of(ctx, "pipeline_run", str(full.id), depth=1)
    }
    assert len(edges) == 2

    # A new version of the data: `texts` (latest) is stale, `score` (pinned to v1) not.
    table_commit.commit(ctx, "reviews", rows.assign(text="changed"), key=["id"])
    splits.split(ctx, "reviews", "v2", ratios={"train": 0.75, "test": 0.25})
    runs = _run_count(ctx)
    assert pipeline_noop.cached_run(ctx.settings, path) is None
    assert _run_count(ctx) == runs


def test_status_answers_as_the_full_path_in_every_state(
    ctx: Context, project: Callable[..., str], tmp_path: Path
) -> None:
    rows = pd.DataFrame({"id": range(40), "text": [f"r{i}" for i in range(40)]})
    table_commit.commit(ctx, "reviews", rows, key=["id"])
    splits.split(ctx, "reviews", "v1", ratios={"train": 0.75, "test": 0.25})
    path = project()
    name = path.split(":")[0]

    def write(code: str) -> None:
        (tmp_path / f"{name}.py").write_text(code)
        sys.modules.pop(name, None)

    def same(**params: Any) -> list[tuple[str, bool, list[str]]]:
        quick = pipeline_noop.cached_status(ctx.settings, path, params=params)
        assert quick is not None
        assert quick == pipelines.status(ctx, path, params=params)
        return [(st.step, st.fresh, st.reasons) for st in quick]

    write(DATASETS)
    assert same() == [("texts", False, ["never run"]), ("score", False, ["upstream texts stale"])]
    pipelines.run(ctx, path, executor="inline")
    assert same() == [("texts", True, []), ("score", True, [])]

    table_commit.commit(ctx, "reviews", rows.assign(text="changed"), key=["id"])
    splits.split(ctx, "reviews", "v2", ratios={"train": 0.75, "test": 0.25})
    assert same()[0][2] == ["input reviews/v2:train changed (was reviews/v1:train)"]
    write(DATASETS.replace("to_pylist()", "to_pylist()[:5]"))
    assert same()[0][2] == ["code changed", "input reviews/v2:train changed (was reviews/v1:train)"]
    assert pipeline_noop.cached_status(ctx.settings, "quick") is not None  # by its name


def test_anything_more_than_a_no_op_takes_the_full_path_and_writes_nothing(
    ctx: Context, grove_factories: Factories, project: Callable[..., str]
) -> None:
    path = project()
    assert pipeline_noop.cached_run(ctx.settings, path) is None  # never run: no record yet
    pipelines.run(ctx, path, executor="inline")
    runs = _run_count(ctx)

    reviewer = grove_factories.person("rita", role="reviewer")  # may not write data
    not_quick: list[tuple[str, Callable[[], Any]]] = [
        ("dask", lambda: pipeline_noop.cached_run(ctx.settings, path, executor="dask://x:1")),
        ("reviewer", lambda: pipeline_noop.cached_run(ctx.settings, path, actor=reviewer)),
        ("no project", lambda: pipeline_noop.cached_run(ctx.settings, path, project="nope")),
        ("bad path", lambda: pipeline_noop.cached_run(ctx.settings, "no_such_module:p")),
        ("code", lambda: pipeline_noop.cached_run(ctx.settings, project(body="return a * 3"))),
        ("record", lambda: pipeline_noop.cached_run(ctx.settings, project("new words"))),
    ]
    for why, attempt in not_quick:
        assert attempt() is None, why
    assert _run_count(ctx) == runs

    # The full path runs the edited step; then the quick path answers again.
    pipelines.run(ctx, project("new words"), executor="inline")
    again = pipeline_noop.cached_run(ctx.settings, project("new words"))
    assert again is not None
    assert again.steps_cached == 3
    assert _run_count(ctx) == runs + 2


def test_a_dead_run_is_left_for_the_full_path_to_reap(
    ctx: Context, project: Callable[..., str]
) -> None:
    path = project()
    pipelines.run(ctx, path, executor="inline")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    with ctx.db.write() as s:
        pid = s.scalar(select(PipelineRunRow.pipeline_id).limit(1))
        dead = PipelineRunRow(
            pipeline_id=pid,
            status="running",
            trigger="manual",
            executor="local",
            started_by="local",
            host=socket.gethostname()[:255],
            pid=int(gone.stdout),
        )
        s.add(dead)
        s.flush()
        dead_id = dead.id
    assert pipeline_noop.cached_run(ctx.settings, path) is None
    assert pipelines.get_run(ctx, dead_id).status == "running"
    pipelines.run(ctx, path, executor="inline")
    assert pipelines.get_run(ctx, dead_id).status == "failed"
    assert pipeline_noop.cached_run(ctx.settings, path) is not None


def test_the_command_answers_a_cached_run_without_loading_sqlalchemy(
    grove_workspace: Workspace,
) -> None:
    root = Path(grove_workspace.root)
    (root / "cmdproj.py").write_text(textwrap.dedent(CODE.replace("DESCRIPTION", "cmd")))
    probe = (
        "import json, sys\n"
        "from mlgrove.cli.main import run\n"
        "code = run(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'heavy': sorted({m.split('.')[0] for m in sys.modules}"
        " & {'sqlalchemy', 'typer', 'numpy', 'pyarrow'})}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGROVE_")}

    def mlgrove(*args: str) -> tuple[dict[str, Any], dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        *out, last = done.stdout.strip().splitlines()
        return json.loads(out[-1]), json.loads(last)

    first, how = mlgrove("pipeline", "run", "cmdproj:pipeline", "--executor", "inline", "--json")
    assert [s["status"] for s in first["steps"]] == ["succeeded"] * 3
    assert "sqlalchemy" in how["heavy"]  # steps ran: the full command

    again, how = mlgrove("-w", str(root), "pipeline", "run", "cmdproj:pipeline", "--json")
    assert how == {"code": 0, "heavy": []}
    assert [s["status"] for s in again["steps"]] == ["cached"] * 3
    assert set(again) == set(first)
    assert again["executor"] == "local"
    assert [s["cache_key"] for s in again["steps"]] == [s["cache_key"] for s in first["steps"]]

    status, how = mlgrove("pipeline", "status", "quick", "--param", "scale=3", "--json")
    assert how == {"code": 0, "heavy": []}
    assert [(s["step"], s["fresh"], s["reasons"]) for s in status] == [
        ("a", True, []),
        ("b", False, ["params changed: scale"]),
        ("c", False, ["upstream b stale"]),
    ]

    # A form the quick path does not take (--force) is the full command, as always.
    forced, how = mlgrove("pipeline", "run", "cmdproj:pipeline", "--force", "c", "--json")
    assert [s["status"] for s in forced["steps"]] == ["cached", "cached", "succeeded"]
    assert "sqlalchemy" in how["heavy"]
