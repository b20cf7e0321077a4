"""Runs search on SQLite and PostgreSQL: filters on metrics, params, tags and status,
sorts, and cursor paging that neither skips nor repeats a run."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from mlgrove.domain.tracking import MetricPoint, RunStatus
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import run_queries, tracking
from mlgrove.services.context import Context
from mlgrove.testing.factories import Factories

PROJECT = "churn"


@pytest.fixture
def ctx(grove_factories: Factories) -> Context:
    grove_factories.project(PROJECT)
    return grove_factories.admin_ctx


def make_run(
    ctx: Context,
    name: str,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    status: RunStatus = RunStatus.FINISHED,
) -> int:
    run = tracking.start_run(ctx, PROJECT, name, params=params, tags=tags)
    if metrics:
        now = tracking.utcnow()
        points = [MetricPoint(k, v, 0, now) for k, v in metrics.items()]
        tracking.log_metrics_batch(ctx, run.id, points)
    if status is not RunStatus.RUNNING:
        tracking.end_run(ctx, run.id, status)
    return run.id


def names(ctx: Context, flt: str | None = None, order: str | None = None, **kw: Any) -> list[str]:
    return [r.name for r in run_queries.search(ctx, PROJECT, flt, order_by=order, **kw).runs]


@pytest.fixture
def sweep(ctx: Context) -> None:
    make_run(ctx, "a", {"acc": 0.95, "loss": 0.2}, {"lr": 0.01, "opt": "adam"}, {"team": "x"})
    make_run(ctx, "b", {"acc": 0.85, "loss": 0.4}, {"lr": 0.1, "opt": "adam"}, {"team": "x"})
    make_run(ctx, "c", {"acc": 0.91}, {"lr": 0.01, "opt": "sgd"}, {"team": "y"})
    make_run(ctx, "d", {}, {"lr": 0.01}, {}, status=RunStatus.FAILED)
    make_run(ctx, "e", {"acc": math.nan}, {"lr": 0.3}, {"team": "x"})


def test_the_documented_filter(ctx: Context, sweep: None) -> None:
    got = names(ctx, 'metrics.acc > 0.9 and params.lr = 0.01 and tags.team = "x"')
    assert got == ["a"]


def test_filters_on_each_kind_of_field(ctx: Context, sweep: None) -> None:
    assert names(ctx, "metrics.acc >= 0.91", "name") == ["a", "c"]
    assert names(ctx, "metrics.loss < 0.3") == ["a"]
    assert names(ctx, "params.opt != adam") == ["c"]  # runs without 'opt' do not match
    assert names(ctx, "tags.team = x", "name") == ["a", "b", "e"]
    assert names(ctx, "status = failed") == ["d"]
    assert names(ctx, "name = b") == ["b"]
    # NaN equals nothing and compares with nothing.
    assert "e" not in names(ctx, "metrics.acc != 0.5")
    assert names(ctx, "metrics.acc < inf", "name") == ["a", "b", "c"]


def test_sorting_by_a_metric_puts_runs_without_a_value_last(ctx: Context, sweep: None) -> None:
    assert names(ctx, order="metrics.acc desc") == ["a", "c", "b", "e", "d"]
    assert names(ctx, order="metrics.acc asc") == ["b", "c", "a", "d", "e"]
    assert names(ctx, order="params.opt", limit=3) == ["a", "b", "c"]


def test_filtering_and_sorting_on_the_same_metric_pages_through_the_matches(
    ctx: Context, sweep: None
) -> None:
    assert names(ctx, "metrics.acc > 0.8", "metrics.acc desc") == ["a", "c", "b"]
    seen, cursor = [], None
    for _ in range(5):
        page = run_queries.search(
            ctx, PROJECT, "metrics.acc > 0.8", order_by="metrics.acc", limit=1, cursor=cursor
        )
        seen += [r.name for r in page.runs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["b", "c", "a"]


def test_runs_carry_their_latest_metric_values(ctx: Context, sweep: None) -> None:
    (a,) = run_queries.search(ctx, PROJECT, "name = a").runs
    assert a.metrics == {"acc": 0.95, "loss": 0.2}
    (e,) = run_queries.search(ctx, PROJECT, "name = e").runs
    assert math.isnan(e.metrics["acc"])


def test_the_newest_logged_point_is_the_one_filtered_on(ctx: Context) -> None:
    run = tracking.start_run(ctx, PROJECT, "long")
    now = tracking.utcnow()
    tracking.log_metrics_batch(ctx, run.id, [MetricPoint("acc", 0.5, 0, now)])
    assert names(ctx, "metrics.acc > 0.9") == []
    batch = [MetricPoint("acc", 0.93, 1, now), MetricPoint("acc", 0.97, 2, now)]
    tracking.log_metrics_batch(ctx, run.id, batch)
    assert names(ctx, "metrics.acc > 0.95") == ["long"]
    # The same answer as the run page's own "latest" (the highest id logged).
    assert tracking.get_run(ctx, run.id).metrics == {"acc": 0.97}


def test_a_rejected_batch_leaves_the_summary_untouched(ctx: Context) -> None:
    run = tracking.start_run(ctx, PROJECT, "r")
    now = tracking.utcnow()
    tracking.log_metrics_batch(ctx, run.id, [MetricPoint("acc", 0.5, 0, now)])
    bad = [MetricPoint("acc", 0.99, 1, now), MetricPoint("acc", "x", 2, now)]  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        tracking.log_metrics_batch(ctx, run.id, bad)
    assert run_queries.search(ctx, PROJECT).runs[0].metrics == {"acc": 0.5}


def test_bad_input_is_a_clear_error(ctx: Context, sweep: None) -> None:
    with pytest.raises(InvalidInput, match="expected an operator"):
        run_queries.search(ctx, PROJECT, "metrics.acc 0.9")
    first = run_queries.search(ctx, PROJECT, order_by="name", limit=2)
    assert first.next_cursor
    with pytest.raises(InvalidInput, match="made for order"):
        run_queries.search(ctx, PROJECT, order_by="metrics.acc", cursor=first.next_cursor)
    with pytest.raises(NotFound):
        run_queries.search(ctx, "no-such-project")


def test_the_older_exact_value_filters_combine_with_the_language(ctx: Context, sweep: None) -> None:
    got = run_queries.search(ctx, PROJECT, "metrics.acc > 0.8", params={"lr": "0.01"})
    assert sorted(r.name for r in got.runs) == ["a", "c"]
    assert names(ctx, status="failed") == ["d"]


ORDERS = [
    "started desc",
    "started asc",
    "name",
    "name desc",
    "metrics.acc desc",
    "metrics.acc asc",
    "params.lr",
    "params.lr desc",
    "tags.team desc",
]


@pytest.mark.parametrize("order", ORDERS)
def test_paging_visits_every_run_once_in_order(ctx: Context, order: str) -> None:
    rnd = random.Random(order)
    expected = []
    for _ in range(23):
        acc = rnd.choice([None, math.nan, 0.5, 0.7, rnd.random()])
        lr = rnd.choice([None, "0.1", "0.01"])
        team = rnd.choice([None, "x", "y"])
        name = f"run-{rnd.randint(0, 5)}"
        run_id = make_run(
            ctx,
            name,
            {"acc": acc} if acc is not None else {},
            {"lr": lr} if lr else {},
            {"team": team} if team else {},
        )
        expected.append((run_id, name, acc, lr, team))
    field, _, direction = order.partition(" ")
    desc = direction == "desc" or (field == "started" and not direction)

    def value(row: tuple[Any, ...]) -> Any:
        run_id, name, acc, lr, team = row
        return {
            "started": run_id,  # made one after another: ids follow start times
            "name": name,
            "metrics.acc": None if acc is None or math.isnan(acc) else acc,
            "params.lr": lr,
            "tags.team": team,
        }[field]

    having = sorted((r for r in expected if value(r) is not None), key=lambda r: (value(r), r[0]))
    without = sorted((r for r in expected if value(r) is None), key=lambda r: r[0])
    if desc:
        having.reverse()
        without.reverse()
    want = [r[0] for r in having + without]

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = run_queries.search(ctx, PROJECT, order_by=order, limit=4, cursor=cursor)
        seen += [r.id for r in page.runs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == want


def test_the_migration_fills_the_summary_from_points_already_stored(
    ctx: Context, grove_runtime: Any
) -> None:
    """Runs logged before 0008 (here: the summary emptied and 0008 undone and redone) are
    found by their latest values, NaN included, the same as runs logged after it."""
    from alembic import command
    from sqlalchemy import delete

    from mlgrove.store import schema
    from mlgrove.store.models.run_summaries import RunLatestMetricRow

    old = make_run(ctx, "old", {"acc": 0.5}, status=RunStatus.RUNNING)
    now = tracking.utcnow()
    batch = [MetricPoint("acc", 0.97, 1, now), MetricPoint("loss", math.nan, 1, now)]
    tracking.log_metrics_batch(ctx, old, batch)
    with grove_runtime.db.write() as s:
        s.execute(delete(RunLatestMetricRow))
    assert names(ctx, "metrics.acc > 0.9") == []
    cfg = schema._config()
    with grove_runtime.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    schema.upgrade(grove_runtime.db)
    (found,) = run_queries.search(ctx, PROJECT, "metrics.acc > 0.9").runs
    assert found.name == "old"
    assert found.metrics["acc"] == 0.97
    assert math.isnan(found.metrics["loss"])
    assert names(ctx, order="metrics.loss") == ["old"]  # NaN: a run without a value


def test_chart_series_downsample_keeps_extremes_and_survives_nan_stretches(ctx: Context) -> None:
    run = tracking.start_run(ctx, PROJECT, "chart")
    now = tracking.utcnow()
    values = [math.sin(i / 50) for i in range(3000)]
    values[100:900] = [math.nan] * 800  # whole buckets of NaN
    values[2000] = math.inf
    values[2500] = 7.5
    points = [MetricPoint("x", v, i, now) for i, v in enumerate(values)]
    tracking.log_metrics_batch(ctx, run.id, points)
    full = run_queries.metric_series(ctx, run.id, "x")
    assert (full.total, len(full.steps), full.non_finite) == (3000, 3000, 801)
    assert not full.downsampled
    small = run_queries.metric_series(ctx, run.id, "x", max_points=100)
    assert small.downsampled
    assert len(small.steps) <= 100
    assert small.steps == sorted(small.steps)
    finite = [v for v in small.values if v is not None]
    assert max(finite) == 7.5
    assert min(finite) == pytest.approx(-1.0, abs=1e-3)


def test_long_param_values_match_exactly_and_tags_follow_their_changes(ctx: Context) -> None:
    long_a, long_b = "x" * 250 + "a", "x" * 250 + "b"
    a = make_run(ctx, "a", params={"prompt": long_a}, tags={"team": "x"})
    make_run(ctx, "b", params={"prompt": long_b}, tags={"team": "x"})
    make_run(ctx, "c", params={"prompt": "x" * 200}, tags={"team": "y"})
    assert names(ctx, f"params.prompt = {long_a}") == ["a"]
    assert names(ctx, f"params.prompt != {long_a}", "name") == ["b", "c"]
    assert names(ctx, f"params.prompt = {'x' * 200}") == ["c"]
    tracking.set_tags(ctx, a, {"team": "y"})  # tags stay editable after a run ends
    assert names(ctx, "tags.team = y", "name") == ["a", "c"]
    assert names(ctx, "tags.team = x") == ["b"]


def test_rare_and_common_param_values_give_the_same_answers(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        make_run(ctx, f"r{i}", params={"lr": "0.1" if i % 3 else "0.01"}, tags={"t": "x"})
    for rare in (0, 10):  # every value common, then every value rare
        monkeypatch.setattr(run_queries, "RARE_RUNS", rare)
        assert names(ctx, "params.lr = 0.01", "name") == ["r0", "r3"]
        assert names(ctx, "params.lr = 0.01 and tags.t = x", "name desc") == ["r3", "r0"]
        assert names(ctx, "params.lr = 0.5") == []


@pytest.mark.parametrize(
    "order", ["metrics.acc desc", "metrics.acc", "params.lr desc", "params.lr"]
)
def test_a_sort_under_a_filter_pages_the_same_whichever_way_it_is_searched(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    # RARE_RUNS 0: every clause keeps "many" runs, so the sort index is walked and each
    # run probed; 1000: every clause keeps "few", so the matches are found, then sorted.
    rnd = random.Random(order)
    rows = []
    for i in range(19):
        acc = rnd.choice([None, math.nan, 0.5, rnd.random()])
        lr = rnd.choice([None, "0.1", "0.01"])
        opt = rnd.choice(["adam", "sgd"])
        params = {"opt": opt, **({"lr": lr} if lr else {})}
        run_id = make_run(ctx, f"r{i}", {"acc": acc} if acc is not None else {}, params)
        rows.append((run_id, acc, lr, opt))
    field, _, direction = order.partition(" ")

    def value(row: tuple[Any, ...]) -> Any:
        _, acc, lr, _ = row
        if field == "metrics.acc":
            return None if acc is None or math.isnan(acc) else acc
        return lr

    adam = [r for r in rows if r[3] == "adam"]
    having = sorted((r for r in adam if value(r) is not None), key=lambda r: (value(r), r[0]))
    without = sorted((r for r in adam if value(r) is None), key=lambda r: r[0])
    if direction == "desc":
        having.reverse()
        without.reverse()
    want = [r[0] for r in having + without]
    for rare in (0, 1000):
        monkeypatch.setattr(run_queries, "RARE_RUNS", rare)
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            page = run_queries.search(
                ctx, PROJECT, "params.opt = adam", order_by=order, limit=4, cursor=cursor
            )
            seen += [r.id for r in page.runs]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == want, f"RARE_RUNS={rare}"
