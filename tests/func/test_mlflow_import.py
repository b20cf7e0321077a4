"""`mlgrove import mlflow`: a real MLflow store, written with MLflow's own client, copied
into Grove on both databases; importing again copies nothing twice."""

from __future__ import annotations

import json
import math
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.domain.tracking import RunStatus
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import audit, mlflow_import
from mlgrove.services.context import Runtime
from mlgrove.services.embedded import EmbeddedClient
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace

mlflow_tracking = pytest.importorskip("mlflow.tracking")

# MLflow's own SQL store uses SQLAlchemy APIs that SQLAlchemy 2.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")

T0 = 1_790_000_000_000  # ms since the epoch: 2026-09-21


def _ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A SQLite MLflow store with two experiments, made once (MLflow's schema set-up is
    slow) and only read by the tests."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    from mlflow.entities import Metric, Param, RunTag

    client = mlflow_tracking.MlflowClient(tracking_uri=uri)
    churn = client.create_experiment("churn", artifact_location=str(folder / "artifacts"))
    other = client.create_experiment("other", artifact_location=str(folder / "artifacts"))
    ids: dict[str, str] = {}

    r = client.create_run(churn, start_time=T0, tags={"mlflow.user": "ana"}, run_name="baseline")
    ids["baseline"] = r.info.run_id
    client.log_batch(
        r.info.run_id,
        metrics=[Metric("loss", 1.0 / (s + 1), T0 + 1000 * s, s) for s in range(300)]
        + [Metric("acc", math.nan, T0 + 5, 0), Metric("acc", 0.75, T0 + 6, 1)],
        params=[Param("lr", "0.1"), Param("depth", "3")],
        tags=[RunTag("team", "vision"), RunTag("mlflow.note.content", "x" * 6000)],
    )
    client.set_terminated(r.info.run_id, "FINISHED", end_time=T0 + 400_000)

    r = client.create_run(churn, start_time=T0 + 1, tags={"mlflow.user": "bo"}, run_name="broken")
    ids["broken"] = r.info.run_id
    client.log_metric(r.info.run_id, "loss", 2.5, timestamp=T0 + 10, step=0)
    client.set_terminated(r.info.run_id, "FAILED", end_time=T0 + 20)

    r = client.create_run(churn, start_time=T0 + 2, run_name="still going")
    ids["running"] = r.info.run_id

    r = client.create_run(other, start_time=T0 + 3, run_name="elsewhere")
    ids["elsewhere"] = r.info.run_id
    client.log_param(r.info.run_id, "seed", "7")
    client.set_terminated(r.info.run_id, "KILLED", end_time=T0 + 30)
    return {"uri": uri, "ids": ids, "folder": folder}


@pytest.fixture
def grove(grove_factories: Factories, grove_runtime: Runtime) -> EmbeddedClient:
    grove_factories.project("churn")
    return EmbeddedClient(grove_runtime, LOCAL_ADMIN, owns_runtime=False)


def test_runs_params_full_metric_history_and_tags_arrive(
    grove: EmbeddedClient, mlflow_store: dict[str, Any]
) -> None:
    ids = mlflow_store["ids"]
    report = mlflow_import.import_mlflow(grove.ctx, mlflow_store["uri"], project="churn")
    assert sorted(report.experiments) == ["Default", "churn", "other"]
    outcomes = {r.mlflow_run_id: r.outcome for r in report.runs}
    assert outcomes == {
        ids["baseline"]: "imported",
        ids["broken"]: "imported",
        ids["running"]: "still running",
        ids["elsewhere"]: "imported",
    }
    assert report.metric_points == 303
    # A tag longer than Grove keeps is cut, and the report says so.
    assert report.warnings == [
        f"MLflow run {ids['baseline']}: tag 'mlflow.note.content' cut from 6000 to 5000 characters"
    ]

    by_mlflow = {r.tags["mlflow.run_id"]: r for r in grove.runs.list("churn")}
    assert set(by_mlflow) == {ids["baseline"], ids["broken"], ids["elsewhere"]}
    base = grove.runs.get(by_mlflow[ids["baseline"]].id)
    assert (base.name, base.status, base.author) == ("baseline", RunStatus.FINISHED, "ana")
    assert base.started_at == _ms(T0)
    assert base.ended_at == _ms(T0 + 400_000)
    assert base.params == {"lr": "0.1", "depth": "3"}
    assert base.tags["team"] == "vision"
    assert base.tags["mlflow.experiment_name"] == "churn"
    assert len(base.tags["mlflow.note.content"]) == 5000
    loss = grove.runs.metric_history(base.id, "loss")
    assert [(p.step, p.value, p.timestamp) for p in loss] == [
        (s, 1.0 / (s + 1), _ms(T0 + 1000 * s)) for s in range(300)
    ]
    acc = grove.runs.metric_history(base.id, "acc")
    assert math.isnan(acc[0].value)
    assert acc[1].value == 0.75

    broken = grove.runs.get(by_mlflow[ids["broken"]].id)
    assert (broken.status, broken.author, broken.metrics) == (
        RunStatus.FAILED,
        "bo",
        {"loss": 2.5},
    )
    elsewhere = grove.runs.get(by_mlflow[ids["elsewhere"]].id)
    assert (elsewhere.status, elsewhere.params) == (RunStatus.KILLED, {"seed": "7"})
    assert elsewhere.tags["mlflow.experiment_name"] == "other"
    events = [e for e in audit.list_events(grove.ctx) if e.action == "run.import"]
    assert sorted(e.detail for e in events) == sorted(
        f"mlflow {ids[k]}" for k in ("baseline", "broken", "elsewhere")
    )


def test_imported_runs_are_found_by_metric_param_and_tag_filters(
    grove: EmbeddedClient, mlflow_store: dict[str, Any]
) -> None:
    ids = mlflow_store["ids"]
    mlflow_import.import_mlflow(grove.ctx, mlflow_store["uri"], project="churn")
    found = grove.runs.search(
        "churn", "metrics.loss < 0.01 and params.lr = 0.1 and tags.team = vision"
    )
    # MLflow's latest loss of the baseline is at its highest step: 1/300.
    assert [r.tags["mlflow.run_id"] for r in found.runs] == [ids["baseline"]]
    by_loss = grove.runs.search("churn", order_by="metrics.loss desc")
    assert [r.tags["mlflow.run_id"] for r in by_loss.runs][:2] == [ids["broken"], ids["baseline"]]


def test_importing_again_skips_what_is_there(
    grove: EmbeddedClient, mlflow_store: dict[str, Any]
) -> None:
    first = mlflow_import.import_mlflow(
        grove.ctx, mlflow_store["uri"], project="churn", experiments=["churn"]
    )
    assert (first.imported, first.skipped, first.experiments) == (2, 1, ["churn"])
    before = grove.runs.list("churn")
    again = mlflow_import.import_mlflow(grove.ctx, mlflow_store["uri"], project="churn")
    assert again.imported == 1  # only the other experiment's run is new
    assert {r.outcome for r in again.runs if r.experiment == "churn"} == {
        "already imported",
        "still running",
    }
    after = grove.runs.list("churn")
    assert len(after) == len(before) + 1
    baseline = next(r for r in after if r.name == "baseline")
    assert len(grove.runs.metric_history(baseline.id, "loss")) == 300  # not doubled


def test_bad_sources_are_refused_with_a_clear_message(
    grove: EmbeddedClient, mlflow_store: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="no experiment named 'nope'") as found:
        mlflow_import.import_mlflow(grove.ctx, mlflow_store["uri"], experiments=["nope"])
    assert "churn" in (found.value.hint or "")
    missing = tmp_path / "typo.db"
    with pytest.raises(InvalidInput, match="no MLflow database at"):
        mlflow_import.import_mlflow(grove.ctx, f"sqlite:///{missing}")
    assert not missing.exists()  # MLflow would have made an empty store there
    with pytest.raises(InvalidInput, match="cannot reach the MLflow tracking server"):
        mlflow_import.import_mlflow(grove.ctx, "http://127.0.0.1:9/")
    assert grove.runs.list("churn") == []


def test_without_mlflow_installed_the_error_says_how_to_get_it(
    grove: EmbeddedClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes `import mlflow...` raise ImportError, as if it were not installed.
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InvalidInput, match="needs the mlflow package") as raised:
        mlflow_import.import_mlflow(grove.ctx, "sqlite:///mlflow.db")
    assert raised.value.hint == "install the extra: pip install 'mlgrove[mlflow]'"


def test_cli_imports_with_json_and_one_line_errors(
    grove_workspace: Workspace,
    mlflow_store: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(mlflow_store["folder"] / "mlflow.db", tmp_path / "copy.db")
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.runs.start(capture_environment=False).end()  # makes the project
    capsys.readouterr()
    assert run(["import", "mlflow", uri, "--experiment", "churn", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["project"], doc["imported"], doc["skipped"], doc["failed"]) == (
        "default",
        2,
        1,
        0,
    )
    assert doc["metric_points"] == 303
    assert run(["import", "mlflow", uri]) == 0
    text = capsys.readouterr()
    assert text.out.startswith("1 run imported into project default (0 metric points), 3 skipped")
    assert run(["import", "mlflow", "sqlite:///nowhere/mlflow.db"]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        "mlgrove: error: there is no MLflow database at nowhere/mlflow.db "
        "(check the path: sqlite:///relative.db or sqlite:////absolute.db)"
    ]
