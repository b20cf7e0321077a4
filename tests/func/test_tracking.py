"""Runs, metrics, the model registry and evaluations, through the SDK, on both databases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from mlgrove.client.tracking import ActiveRun
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.domain.tracking import MetricPoint, RunStatus
from mlgrove.errors import Conflict, InvalidInput, NotFound
from mlgrove.services import audit, lineage, objects, splits, table_commit, tracking
from mlgrove.services.context import Runtime
from mlgrove.services.embedded import EmbeddedClient
from mlgrove.testing.factories import Factories


@pytest.fixture
def grove(grove_factories: Factories, grove_runtime: Runtime) -> EmbeddedClient:
    grove_factories.project("churn")
    return EmbeddedClient(grove_runtime, LOCAL_ADMIN, owns_runtime=False)


def test_context_manager_logs_params_metrics_and_environment(grove: EmbeddedClient) -> None:
    with grove.runs.start("churn", "baseline", params={"lr": 0.1}, tags={"team": "a"}) as run:
        run.log_params(depth=3)
        run.log_metric("loss", 0.5)
        run.log_metric("loss", 0.25)
        run.log_metrics({"acc": 0.9, "f1": 0.8}, step=10)
    got = grove.runs.get(run.id)
    assert got.status is RunStatus.FINISHED
    assert got.ended_at is not None
    assert (got.name, got.project, got.author) == ("baseline", "churn", LOCAL_ADMIN.username)
    assert got.params == {"lr": "0.1", "depth": "3"}
    assert got.tags == {"team": "a"}
    assert got.metrics == {"acc": 0.9, "f1": 0.8, "loss": 0.25}
    assert [(p.step, p.value) for p in grove.runs.metric_history(run.id, "loss")] == [
        (0, 0.5),
        (1, 0.25),
    ]
    assert got.python_version
    assert "mlgrove" in got.packages
    assert got.git_commit is None or len(got.git_commit) == 40


def test_100k_points_through_the_buffer_arrive_complete_and_in_order(
    grove: EmbeddedClient,
) -> None:
    with grove.runs.start("churn", flush_points=1000) as run:
        for i in range(100_000):
            run.log_metric("loss", 1.0 / (i + 1))
    history = grove.runs.metric_history(run.id, "loss")
    assert len(history) == 100_000
    assert [p.step for p in history] == list(range(100_000))
    assert history[-1].value == 1.0 / 100_000


def test_a_batch_keeps_odd_keys_exact_times_and_the_newest_value_per_key(
    grove: EmbeddedClient,
) -> None:
    # Written below the ORM (executemany on SQLite, COPY on PostgreSQL): what comes back
    # must be what the ORM would have stored.
    ctx = grove.ctx
    run = tracking.start_run(ctx, "churn")
    t0 = datetime(2026, 1, 1, 12, 0, 0, 1, tzinfo=UTC)
    odd = r'a\b\t"é'  # a backslash, then the two characters \t, a quote, an accent
    points = [
        MetricPoint(odd, 1.0, 0, t0),
        MetricPoint(odd, -math.inf, 1, t0 + timedelta(seconds=1)),
        MetricPoint("loss", 3.0, 5, t0),
        MetricPoint("loss", 1e-300, 2, t0 + timedelta(microseconds=999_999)),
    ]
    assert tracking.log_metrics_batch(ctx, run.id, points) == 4
    assert tracking.metric_history(ctx, run.id, odd) == points[:2]
    assert tracking.metric_history(ctx, run.id, "loss") == [points[3], points[2]]  # by step
    # The newest point of each key (the last logged), not the highest step, is latest.
    assert tracking.get_run(ctx, run.id).metrics == {odd: -math.inf, "loss": 1e-300}
    page = grove.runs.search("churn", "metrics.loss < 1")
    assert [r.id for r in page.runs] == [run.id]


def test_a_run_that_raises_ends_failed_with_the_error_and_keeps_its_points(
    grove: EmbeddedClient,
) -> None:
    def train() -> ActiveRun:
        with grove.runs.start("churn") as run:
            run.log_metric("loss", 1.0)
            _ = 1 / 0
        return run

    started = grove.runs.list("churn")
    with pytest.raises(ZeroDivisionError):
        train()
    (run,) = [r for r in grove.runs.list("churn") if r not in started]
    got = grove.runs.get(run.id)
    assert got.status is RunStatus.FAILED
    assert got.error == "ZeroDivisionError: division by zero"
    assert got.metrics == {"loss": 1.0}


def test_nan_and_infinity_round_trip(grove: EmbeddedClient) -> None:
    with grove.runs.start("churn") as run:
        run.log_metrics({"a": math.nan, "b": math.inf, "c": -math.inf, "d": 0.0})
    got = grove.runs.get(run.id).metrics
    assert math.isnan(got["a"])
    assert got["b"] == math.inf
    assert got["c"] == -math.inf
    assert got["d"] == 0.0


def test_bad_values_reject_the_whole_batch(grove: EmbeddedClient) -> None:
    run = grove.runs.start("churn")
    with pytest.raises(InvalidInput, match="not a number"):
        run.log_metrics({"ok": 1.0, "bad": "high"})
    with pytest.raises(InvalidInput, match="empty metric key"):
        run.log_metric("", 1.0)
    with pytest.raises(InvalidInput, match="characters long"):
        run.log_metric("k" * 251, 1.0)
    with pytest.raises(InvalidInput, match="step"):
        run.log_metric("loss", 1.0, step=-1)
    run.end()
    assert grove.runs.get(run.id).metrics == {}
    # The service checks a batch as a whole too (a remote client may send anything).
    ctx = grove.ctx
    other = tracking.start_run(ctx, "churn")
    now = tracking.utcnow()
    batch = [MetricPoint("x", 1.0, 0, now), MetricPoint("x", "bad", 1, now)]  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        tracking.log_metrics_batch(ctx, other.id, batch)
    assert tracking.metric_history(ctx, other.id, "x") == []


def test_a_finished_run_refuses_more_logging(grove: EmbeddedClient, tmp_path: Path) -> None:
    with grove.runs.start("churn") as run:
        run.log_metric("loss", 1.0)
    with pytest.raises(Conflict, match="has ended"):
        run.log_metric("loss", 2.0)
    ctx = grove.ctx
    now = tracking.utcnow()
    with pytest.raises(Conflict, match="is finished"):
        tracking.log_metrics_batch(ctx, run.id, [MetricPoint("loss", 2.0, 5, now)])
    (tmp_path / "m.bin").write_bytes(b"x")
    with pytest.raises(Conflict):
        tracking.log_artifact(ctx, run.id, tmp_path / "m.bin")
    with pytest.raises(Conflict):
        tracking.end_run(ctx, run.id)
    assert [p.value for p in grove.runs.metric_history(run.id, "loss")] == [1.0]


def test_params_cannot_change_once_logged(grove: EmbeddedClient) -> None:
    with grove.runs.start("churn", params={"lr": 0.1}) as run:
        run.log_params(lr=0.1)  # the same value again is fine
        with pytest.raises(Conflict, match="already has param 'lr'"):
            run.log_params(lr=0.2)
    assert grove.runs.get(run.id).params == {"lr": "0.1"}


def test_artifacts_are_stored_registered_and_fsck_clean(
    grove: EmbeddedClient, tmp_path: Path
) -> None:
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights" * 1000)
    with grove.runs.start("churn") as run:
        art = run.log_artifact(model)
        with pytest.raises(InvalidInput, match="does not exist"):
            run.log_artifact(tmp_path / "nope.pkl")
        with pytest.raises(Conflict, match="already has an artifact"):
            run.log_artifact(model)
    assert (art.path, art.size) == ("model.pkl", 7000)
    assert grove.runtime.objects.get_bytes(art.address) == model.read_bytes()
    assert [a.path for a in grove.runs.get(run.id).artifacts] == ["model.pkl"]
    assert objects.fsck(grove.runtime).healthy


def test_use_dataset_records_lineage_edges_with_the_split(grove: EmbeddedClient) -> None:
    ctx = grove.ctx
    df = pd.DataFrame({"id": range(100), "y": [i % 2 for i in range(100)]})
    table_commit.commit(ctx, "tickets", df, key=["id"], project="churn")
    splits.split(ctx, "tickets", "v1", ratios={"train": 0.8, "test": 0.2}, project="churn")
    with grove.runs.start("churn") as run:
        used = run.use_dataset("tickets", 1, split="train")
        with pytest.raises(NotFound, match="no split 'dev'"):
            run.use_dataset("tickets", "v1", split="dev")
        with pytest.raises(NotFound, match="no version"):
            run.use_dataset("tickets", "v9")
    assert (used.dataset, used.version, used.split) == ("tickets", 1, "train")
    assert grove.runs.get(run.id).inputs == [used]
    edges = lineage.edges_of(ctx, "run", str(run.id), depth=1)
    assert [(e.from_kind, e.relation, e.detail["split"]) for e in edges] == [
        ("dataset_version", "input", "train")
    ]


def test_list_runs_filters_and_pages(grove: EmbeddedClient) -> None:
    ids = []
    for i in range(5):
        with grove.runs.start("churn", params={"lr": i % 2}, tags={"kind": "sweep"}) as run:
            pass
        ids.append(run.id)

    def crash() -> None:
        with grove.runs.start("churn"):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        crash()
    failed = grove.runs.list("churn", limit=1)[0]
    assert [r.id for r in grove.runs.list("churn")] == [failed.id, *reversed(ids)]
    assert [r.id for r in grove.runs.list("churn", status="failed")] == [failed.id]
    assert [r.id for r in grove.runs.list("churn", params={"lr": "1"})] == [ids[3], ids[1]]
    assert len(grove.runs.list("churn", tags={"kind": "sweep"})) == 5
    page1 = grove.runs.list("churn", limit=2)
    page2 = grove.runs.list("churn", limit=2, before_id=page1[-1].id)
    assert [r.id for r in page2] == [ids[3], ids[2]]


def _trained(grove: EmbeddedClient, tmp_path: Path, content: bytes) -> ActiveRun:
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with grove.runs.start("churn") as run:
        run.log_artifact(path)
    return run


def test_model_versions_come_from_run_artifacts(grove: EmbeddedClient, tmp_path: Path) -> None:
    run = _trained(grove, tmp_path, b"v1")
    mv = grove.models.register("churn-clf", run.id, "model.bin")
    assert (mv.name, mv.run_id) == ("churn-clf/v1", run.id)
    assert mv.address == grove.runs.get(run.id).artifacts[0].address
    with pytest.raises(NotFound, match="no artifact"):
        grove.models.register("churn-clf", run.id, "other.bin")
    edges = lineage.edges_of(grove.ctx, "run", str(run.id), depth=1)
    assert ("output", "model_version") in {(e.relation, e.to_kind) for e in edges}
    assert grove.models.resolve("churn-clf").number == 1


def test_alias_moves_are_recorded_with_history_and_audit(
    grove: EmbeddedClient, tmp_path: Path
) -> None:
    for content in (b"one", b"two"):
        run = _trained(grove, tmp_path, content)
        grove.models.register("clf", run.id, "model.bin")
    first = grove.models.set_alias("clf", "production", 1)
    assert first is not None
    assert (first.from_version, first.to_version) == (None, 1)
    assert grove.models.set_alias("clf", "production", "v1") is None  # no move, no event
    grove.models.set_alias("clf", "production", 2)
    assert grove.models.resolve("clf@production").number == 2
    with pytest.raises(NotFound, match="no version v7"):
        grove.models.set_alias("clf", "production", 7)
    with pytest.raises(InvalidInput, match="invalid alias"):
        grove.models.set_alias("clf", "v3", 1)
    grove.models.delete_alias("clf", "production")
    with pytest.raises(NotFound, match="no alias 'production'"):
        grove.models.resolve("clf@production")
    model = grove.models.get("clf")
    assert model.aliases == {}
    assert [(e.from_version, e.to_version) for e in model.alias_history] == [
        (2, None),
        (1, 2),
        (None, 1),
    ]
    assert all(e.actor == LOCAL_ADMIN.username for e in model.alias_history)
    actions = [e.action for e in audit.list_events(grove.ctx)]
    assert actions.count("model.alias.set") == 2
    assert "model.alias.delete" in actions


def test_comparing_evaluations_flags_different_test_sets(
    grove: EmbeddedClient, tmp_path: Path
) -> None:
    ctx = grove.ctx
    df = pd.DataFrame({"id": range(200), "y": [i % 2 for i in range(200)]})
    table_commit.commit(ctx, "tickets", df, key=["id"], project="churn")
    table_commit.commit(ctx, "tickets", df.iloc[:150], project="churn")
    for v in ("v1", "v2"):
        splits.split(ctx, "tickets", v, ratios={"train": 0.8, "test": 0.2}, project="churn")
    for content in (b"a", b"b"):
        grove.models.register("clf", _trained(grove, tmp_path, content).id, "model.bin")
    grove.models.evaluate("clf/v1", "tickets", 1, {"f1": 0.8}, split="test")
    grove.models.evaluate("clf/v2", "tickets", 1, {"f1": 0.85, "loss": math.nan}, split="test")
    same = grove.models.compare(["clf/v1", "clf/v2"])
    assert same.comparable
    assert same.warning is None
    assert len(same.test_sets) == 1
    assert math.isnan(same.evaluations[1].metrics["loss"])
    grove.models.evaluate("clf/v2", "tickets", 2, {"f1": 0.95}, split="test")
    mixed = grove.models.compare(["clf/v1", "clf/v2"])
    assert not mixed.comparable
    assert mixed.warning is not None
    assert mixed.warning.startswith("NOT COMPARABLE")
    assert "tickets/v1 split test" in mixed.warning
    assert "tickets/v2 split test" in mixed.warning
    with pytest.raises(Conflict, match="NOT COMPARABLE"):
        grove.models.compare(["clf/v1", "clf/v2"], strict=True)
    with pytest.raises(NotFound, match="no split"):
        grove.models.evaluate("clf/v1", "tickets", 1, {"f1": 0.5}, split="holdout")
    with pytest.raises(InvalidInput, match="not a number"):
        grove.models.evaluate("clf/v1", "tickets", 1, {"f1": "good"})
    assert len(grove.models.evaluations("clf/v1")) == 1
