"""Pipelines on a real workspace (SQLite and PostgreSQL): runs, cache, lineage, retrain
rules, promotion and the worker."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.errors import InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit, lineage, pipelines, registry, retrain, splits, table_commit
from mlgrove.services.context import Context, Runtime
from mlgrove.services.worker import Worker
from mlgrove.store.models.pipelines import PipelineRuleRow, PipelineStepCacheRow
from mlgrove.testing.factories import Factories

_counter = itertools.count()

PROJECT = """
import os
import pickle

import pyarrow as pa

from mlgrove.pipelines import ModelOutput, Pipeline, Promotion, dataset, on_dataset, step


def normalise(text: str) -> str:
    return text.strip().lower()


@step(datasets={"rows": dataset("reviews", split="train")})
def features(rows: pa.Table) -> list:
    return [normalise(t) for t in rows["text"].to_pylist()]


@step(datasets={"test_rows": dataset("reviews", split="test", version="v1")})
def train(features: list, test_rows: pa.Table, margin: float = 0.0) -> ModelOutput:
    if os.environ.get("BREAK_TRAIN"):
        raise RuntimeError("out of GPU memory")
    accuracy = round(0.5 + len(features) / 1000 + margin, 4)
    return ModelOutput(
        name="sentiment",
        data=pickle.dumps({"vocabulary": sorted(set(features))}),
        metrics={"accuracy": accuracy},
        test_set=dataset("reviews", split="test", version="v1"),
    )


pipeline = Pipeline(
    "sentiment",
    [features, train],
    retrain=[on_dataset("reviews", min_added_rows=50)],
    promotion=Promotion(metric="accuracy", margin=0.01),
)
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Write the user's project module; returns ``module:pipeline``."""
    sys.path.insert(0, str(tmp_path))
    name = f"funcproj_{next(_counter)}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")

    def write(code: str) -> str:
        (tmp_path / name / "pipeline.py").write_text(textwrap.dedent(code))
        for m in [m for m in sys.modules if m.startswith(name + ".")]:
            del sys.modules[m]
        return f"{name}.pipeline:pipeline"

    yield write
    sys.path.remove(str(tmp_path))
    for m in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[m]


def reviews(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": range(start, start + n), "text": [f" Review {i} " for i in range(start, start + n)]}
    )


@pytest.fixture
def ctx(grove_runtime: Runtime, grove_factories: Factories) -> Context:
    grove_factories.project("shop")
    c = grove_runtime.as_actor(LOCAL_ADMIN)
    table_commit.commit(c, "reviews", reviews(100), key=["id"], project="shop")
    splits.split(c, "reviews", "v1", ratios={"train": 0.8, "test": 0.2}, project="shop")
    return c


def test_a_run_records_steps_cache_lineage_and_a_candidate_model(
    ctx: Context, project: Callable[[str], str]
) -> None:
    path = project(PROJECT)
    first = pipelines.run(ctx, path, project="shop", executor="inline")
    assert first.status == "succeeded"
    assert [(s.step, s.status) for s in first.steps] == [
        ("features", "succeeded"),
        ("train", "succeeded"),
    ]
    assert set(first.inputs) == {"reviews:train", "reviews:test"}
    assert first.tracking_run_id is not None

    model = registry.get_model(ctx, "sentiment", "shop")
    assert [v.number for v in model.versions] == [1]
    # No production yet: the policy promotes the first candidate, and says why.
    assert sorted(model.versions[0].aliases) == ["candidate", "production"]
    said = pipelines.decisions(ctx, "sentiment")
    assert [(d.kind, d.outcome) for d in said] == [("promotion", "promoted"), ("trigger", "ran")]
    assert "there was no production version" in said[0].reason

    node = ("pipeline_run", str(first.id))
    edges = lineage.edges_of(ctx, *node, depth=1)
    assert {(e.from_kind, e.relation, e.to_kind) for e in edges} >= {
        ("dataset_version", "input", "pipeline_run"),
        ("pipeline_run", "tracked-as", "run"),
        ("pipeline_run", "output", "model_version"),
    }

    second = pipelines.run(ctx, path, project="shop", executor="inline")
    assert [s.status for s in second.steps] == ["cached", "cached"]
    assert (second.steps_cached, second.steps_total) == (2, 2)
    assert second.tracking_run_id is None  # nothing ran, nothing new was made
    assert [v.number for v in registry.get_model(ctx, "sentiment", "shop").versions] == [1]
    assert any(e.action == "pipeline.run" for e in audit.list_events(ctx))


def test_status_names_the_input_that_changed(ctx: Context, project: Callable[[str], str]) -> None:
    path = project(PROJECT)
    pipelines.run(ctx, path, project="shop", executor="inline")
    assert all(s.fresh for s in pipelines.status(ctx, path, project="shop"))
    table_commit.commit(ctx, "reviews", pd.concat([reviews(100), reviews(5, 100)]), project="shop")
    found = pipelines.status(ctx, path, project="shop")
    assert [(s.step, s.fresh, s.reasons) for s in found] == [
        ("features", False, ["input reviews/v2:train changed (was reviews/v1:train)"]),
        ("train", False, ["upstream features stale"]),
    ]
    changed = pipelines.status(ctx, path, project="shop", params={"margin": 0.5})
    assert changed[1].reasons == ["upstream features stale"]


def test_a_failed_step_keeps_its_traceback_and_the_next_run_resumes(
    ctx: Context, project: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project(PROJECT)
    monkeypatch.setenv("BREAK_TRAIN", "1")
    failed = pipelines.run(ctx, path, project="shop", executor="inline")
    assert failed.status == "failed"
    assert failed.error == "step 'train' raised RuntimeError: out of GPU memory"
    step = failed.failed_step
    assert step is not None
    assert 'raise RuntimeError("out of GPU memory")' in (step.traceback or "")
    assert pipelines.get_run(ctx, failed.id).steps[1].traceback == step.traceback
    with ctx.db.read() as s:
        cached_steps = s.scalars(select(PipelineStepCacheRow.step)).all()
    assert cached_steps == ["features"]  # the failed step wrote nothing
    with pytest.raises(NotFound):
        registry.get_model(ctx, "sentiment", "shop")

    monkeypatch.delenv("BREAK_TRAIN")
    resumed = pipelines.run(ctx, path, project="shop", executor="inline")
    assert [(s.step, s.status) for s in resumed.steps] == [
        ("features", "cached"),
        ("train", "succeeded"),
    ]


def test_the_local_executor_runs_steps_in_worker_processes(
    ctx: Context, project: Callable[[str], str]
) -> None:
    path = project(PROJECT)
    result = pipelines.run(ctx, path, project="shop", executor="local", jobs=2)
    assert result.status == "succeeded"
    assert result.executor == "local"
    forced = pipelines.run(ctx, path, project="shop", executor="local", force=["train"])
    assert [s.status for s in forced.steps] == ["cached", "succeeded"]
    assert forced.forced == ["train"]


def test_dataset_rules_add_up_changes_and_promotion_compares_the_same_test_set(
    ctx: Context, project: Callable[[str], str]
) -> None:
    path = project(PROJECT)
    pipelines.register(ctx, path, project="shop")
    assert retrain.check(ctx, executor="inline") == []  # nothing new since registration

    table_commit.commit(ctx, "reviews", reviews(110), project="shop")
    skipped = retrain.check(ctx, executor="inline")
    assert [(d.outcome, d.reason) for d in skipped] == [
        ("skipped", "not retrained: reviews v1 → v2: 10 rows added (< 50)")
    ]
    assert retrain.check(ctx, executor="inline") == []  # v2 was seen already

    table_commit.commit(ctx, "reviews", reviews(200), project="shop")
    ran = retrain.check(ctx, executor="inline")
    assert [(d.kind, d.outcome) for d in ran] == [("trigger", "ran"), ("promotion", "promoted")]
    assert ran[0].reason == "retrained: reviews v1 → v3: 100 rows added (≥ 50)"
    run = pipelines.get_run(ctx, ran[0].run_id or 0)
    assert (run.trigger, run.status) == ("dataset", "succeeded")

    model = registry.get_model(ctx, "sentiment", "shop")
    assert [(v.number, sorted(v.aliases)) for v in model.versions] == [
        (1, ["candidate", "production"])
    ]
    promotion = pipelines.decisions(ctx, "sentiment")[0]
    assert promotion.kind == "promotion"
    assert promotion.outcome == "promoted"

    # A retrain on more rows scores better on the same frozen test set (reviews/v1:test).
    table_commit.commit(ctx, "reviews", reviews(300), project="shop")
    retrain.check(ctx, executor="inline")
    versions = registry.get_model(ctx, "sentiment", "shop").versions
    by_number = {v.number: sorted(v.aliases) for v in versions}
    assert by_number == {1: [], 2: ["candidate", "production"]}
    promoted = pipelines.decisions(ctx, "sentiment")[0]
    assert promoted.outcome == "promoted"
    assert promoted.reason.startswith("sentiment/v2 replaces sentiment/v1: accuracy ")
    assert "on reviews/v1:test" in promoted.reason
    with ctx.db.read() as s:
        rule = s.scalars(select(PipelineRuleRow)).one()
    assert (rule.trained_version, rule.seen_version) == (4, 4)


def test_a_candidate_that_is_not_better_by_the_margin_stays_a_candidate(
    ctx: Context, project: Callable[[str], str]
) -> None:
    path = project(PROJECT)
    pipelines.run(ctx, path, project="shop", executor="inline")
    pipelines.run(ctx, path, project="shop", executor="inline", params={"margin": 0.005})
    versions = {
        v.number: sorted(v.aliases) for v in registry.get_model(ctx, "sentiment", "shop").versions
    }
    assert versions == {1: ["production"], 2: ["candidate"]}
    kept = pipelines.decisions(ctx, "sentiment")[0]
    assert kept.outcome == "kept"
    assert kept.reason.startswith("sentiment/v1 stays production: accuracy ")
    assert "below the margin 0.01" in kept.reason


def test_schedules_fire_when_due_and_requests_are_run_by_the_worker(
    ctx: Context, project: Callable[[str], str], grove_runtime: Runtime
) -> None:
    code = PROJECT.replace(
        'retrain=[on_dataset("reviews", min_added_rows=50)]',
        'retrain=[on_schedule("*/5 * * * *")]',
    ).replace("on_dataset, step", "on_dataset, on_schedule, step")
    path = project(code)
    pipelines.register(ctx, path, project="shop")
    assert retrain.check(ctx, executor="inline") == []  # not due yet
    later = utcnow() + timedelta(minutes=6)
    fired = retrain.check(ctx, executor="inline", now=later)
    assert next((d.outcome, d.reason[:21]) for d in fired) == ("ran", "schedule */5 * * * *:")
    assert retrain.check(ctx, executor="inline", now=later) == []

    requested = retrain.request_run(ctx, "sentiment", "new labels from the review queue")
    assert requested.outcome == "requested"
    worker = Worker(grove_runtime, executor="inline")
    made = worker.tick()
    assert (made[0].outcome, made[0].reason) == ("ran", "new labels from the review queue")
    assert pipelines.list_runs(ctx, "sentiment")[0].trigger == "manual"


def test_permissions_and_bad_input(
    ctx: Context, project: Callable[[str], str], grove_factories: Factories
) -> None:
    path = project(PROJECT)
    reviewer = grove_factories.ctx(grove_factories.person("rita", role="reviewer"))
    with pytest.raises(PermissionDenied):
        pipelines.run(reviewer, path, project="shop", executor="inline")
    with pytest.raises(InvalidInput, match="has no param 'epochs'"):
        pipelines.run(ctx, path, project="shop", params={"epochs": 3})
    grove_factories.project("default")
    with pytest.raises(NotFound, match="no dataset named 'reviews' in project 'default'"):
        pipelines.run(ctx, path, project="default", executor="inline")
    with pytest.raises(NotFound, match="no pipeline named 'nope'"):
        pipelines.get_pipeline(ctx, "nope")
    assert pipelines.list_pipelines(ctx) == []  # nothing half-made by the failures


CLEANING = """
import pyarrow as pa
import pyarrow.compute as pc

from mlgrove.pipelines import DatasetOutput, Pipeline, dataset, step


@step(datasets={"rows": dataset("reviews")})
def cleaned(rows: pa.Table) -> DatasetOutput:
    text = pc.utf8_lower(pc.utf8_trim_whitespace(rows["text"]))
    return DatasetOutput("reviews-clean", rows.set_column(1, "text", text), key=("id",))


pipeline = Pipeline("cleaning", [cleaned])
"""


def test_a_dataset_output_becomes_a_new_version_with_lineage(
    ctx: Context, project: Callable[[str], str]
) -> None:
    from mlgrove.services import datasets

    path = project(CLEANING)
    run = pipelines.run(ctx, path, project="shop", executor="inline")
    assert run.status == "succeeded"
    version = datasets.show(ctx, "reviews-clean", "latest", "shop")
    assert (version.number, version.source, version.rows) == (1, "pipeline", 100)
    assert version.message == f"pipeline cleaning run #{run.id}, step cleaned"
    assert datasets.read_table(ctx, "reviews-clean", "v1", "shop")["text"][0].as_py() == "review 0"
    edges = lineage.edges_of(ctx, "pipeline_run", str(run.id), depth=1)
    assert ("pipeline_run", "output", "dataset_version") in {
        (e.from_kind, e.relation, e.to_kind) for e in edges
    }
    pipelines.run(ctx, path, project="shop", executor="inline")  # cached: no new version
    assert [v.number for v in datasets.log(ctx, "reviews-clean", "shop")] == [1]


def test_a_rule_whose_pipeline_cannot_load_records_why(
    ctx: Context, project: Callable[[str], str], tmp_path: Path
) -> None:
    path = project(PROJECT)
    pipelines.register(ctx, path, project="shop")
    module = path.split(":")[0]
    (tmp_path / module.split(".")[0] / "pipeline.py").unlink()
    for m in [m for m in sys.modules if m.startswith(module)]:
        del sys.modules[m]
    table_commit.commit(ctx, "reviews", reviews(200), project="shop")
    made = retrain.check(ctx, executor="inline")
    assert [d.outcome for d in made] == ["failed"]
    assert made[0].reason.startswith(
        f"due (reviews v1 → v2: 100 rows added (≥ 50)) but could not run: cannot import '{module}'"
    )
    assert pipelines.list_runs(ctx, "sentiment") == []


def test_a_run_whose_process_died_is_marked_failed_and_keeps_its_steps(
    ctx: Context, project: Callable[[str], str]
) -> None:
    import os
    import socket
    import subprocess

    from mlgrove.store.models.pipelines import PipelineRunRow

    path = project(PROJECT)
    done = pipelines.run(ctx, path, project="shop", executor="inline")
    alive = pipelines.run(ctx, path, project="shop", executor="inline")
    dead_pid = subprocess.Popen(["true"])  # a process that has ended
    dead_pid.wait()
    with ctx.db.write() as s:
        for run_id, pid in ((done.id, dead_pid.pid), (alive.id, os.getpid())):
            row = s.get_one(PipelineRunRow, run_id)
            row.status, row.ended_at, row.pid = "running", None, pid
    assert pipelines.reap_dead_runs(ctx) == [done.id]
    reaped = pipelines.get_run(ctx, done.id)
    assert reaped.status == "failed"
    assert reaped.error == (
        f"the process running it (pid {dead_pid.pid} on {socket.gethostname()}) "
        "stopped before it ended"
    )
    assert [s.status for s in reaped.steps] == ["succeeded", "succeeded"]
    assert pipelines.get_run(ctx, alive.id).status == "running"


LABEL_RULE_PROJECT = """
import pyarrow as pa

from mlgrove.pipelines import Pipeline, dataset, on_dataset, step


@step(datasets={"rows": dataset("tickets")})
def count(rows: pa.Table) -> int:
    return rows.num_rows


pipeline = Pipeline("triage", [count], retrain=[on_dataset("tickets", min_reviewed_labels=3)])
"""


def test_a_rule_on_reviewed_labels_waits_for_enough_of_them(
    ctx: Context, project: Callable[[str], str]
) -> None:
    from mlgrove.domain.review import QueueSpec
    from mlgrove.services import review, review_assign, review_loop

    tickets = pd.DataFrame({"id": range(10), "label": ["bug"] * 10})
    table_commit.commit(ctx, "tickets", tickets, key=["id"], label="label", project="shop")
    pipelines.register(ctx, project(LABEL_RULE_PROJECT), project="shop")
    review.create_queue(
        ctx,
        "tickets-q",
        QueueSpec(labels=["bug", "billing"], training_dataset="tickets"),
        project="shop",
    )

    def review_rows(ids: list[int]) -> None:
        review.add_items(
            ctx,
            "tickets-q",
            [{"id": f"t{i}", "input": {"text": f"ticket {i}"}, "row_key": str(i)} for i in ids],
            project="shop",
        )
        while (got := review_assign.next_item(ctx, "tickets-q", project="shop")) is not None:
            review_assign.submit(ctx, got.item.id, {"label": "billing"})
        assert review_loop.commit_corrections(ctx, "tickets-q", project="shop") is not None

    review_rows([0, 1])
    skipped = retrain.check(ctx, executor="inline")
    assert [(d.outcome, d.reason) for d in skipped] == [
        ("skipped", "not retrained: tickets v1 → v2: 2 reviewed labels committed (< 3)")
    ]
    review_rows([2])  # the count adds up across versions until a retrain
    ran = retrain.check(ctx, executor="inline")
    assert ran[0].outcome == "ran"
    assert "3 reviewed labels committed (≥ 3)" in ran[0].reason


HUMAN_GATE_PROJECT = """
import pickle

import pyarrow as pa

from mlgrove.pipelines import ModelOutput, Pipeline, Promotion, dataset, on_dataset, step


@step(datasets={"rows": dataset("reviews", split="train")})
def train(rows: pa.Table) -> ModelOutput:
    return ModelOutput(
        name="judged",
        data=pickle.dumps(rows.num_rows),
        metrics={"accuracy": round(0.5 + rows.num_rows / 1000, 4)},
        test_set=dataset("reviews", split="test", version="v1"),
    )


pipeline = Pipeline(
    "judged",
    [train],
    retrain=[on_dataset("reviews", min_added_rows=10)],
    promotion=Promotion("accuracy", human_queue="judge-q", human_min_items=3),
)
"""


def test_promotion_waits_for_people_and_keeps_production_when_they_judge_it_worse(
    ctx: Context, project: Callable[[str], str]
) -> None:
    from mlgrove.domain.review import QueueSpec
    from mlgrove.services import review, review_assign

    path = project(HUMAN_GATE_PROJECT)
    pipelines.run(ctx, path, project="shop", executor="inline")  # v1: production at once
    table_commit.commit(ctx, "reviews", pd.concat([reviews(100), reviews(20, 100)]), project="shop")
    decided = retrain.check(ctx, executor="inline")
    waiting = [d for d in decided if d.kind == "promotion"]
    assert [d.outcome for d in waiting] == ["waiting"]
    assert "waiting for people to judge 3 of judged/v2's predictions" in waiting[0].reason
    assert registry.resolve(ctx, "judged@production", "shop").number == 1
    assert retrain.check(ctx, executor="inline") == []  # still waiting: nothing recorded

    review.create_queue(
        ctx, "judge-q", QueueSpec(labels=["pos", "neg"], random_share=1.0), project="shop"
    )
    with ctx.db.read() as s:
        ids = {v: registry.resolve_row(s, ctx, f"judged/v{v}", "shop")[1].id for v in (1, 2)}
    review.add_items(
        ctx,
        "judge-q",
        [
            {
                "id": f"v{v}-{i}",
                "input": {"text": f"text {i}"},
                "prediction": "pos",
                "model_version_id": ids[v],
            }
            for v in (1, 2)
            for i in range(3)
        ],
        project="shop",
    )
    # People accept all of v1's predictions and one of v2's three.
    verdicts = {
        "v1-0": "pos",
        "v1-1": "pos",
        "v1-2": "pos",
        "v2-0": "pos",
        "v2-1": "neg",
        "v2-2": "neg",
    }
    while (got := review_assign.next_item(ctx, "judge-q", project="shop")) is not None:
        review_assign.submit(ctx, got.item.id, {"label": verdicts[str(got.item.external_id)]})

    kept = retrain.check(ctx, executor="inline")
    assert [(d.kind, d.outcome) for d in kept] == [("promotion", "kept")]
    assert "people accepted 33% of its predictions in judge-q against 100%" in kept[0].reason
    assert registry.resolve(ctx, "judged@production", "shop").number == 1
    outcomes = [d.outcome for d in pipelines.decisions(ctx, "judged") if d.kind == "promotion"]
    assert outcomes[:2] == ["kept", "waited"]
