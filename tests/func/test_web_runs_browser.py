"""The run pages in a real headless Chromium: the filter form, sortable headers, ticking
runs to compare, and uPlot drawing the metric charts from their JSON (CSP intact)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mlgrove.domain.tracking import MetricPoint
from mlgrove.services import evaluations, registry, run_queries, splits, table_commit, tracking
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

pytestmark = pytest.mark.browser

PROJECT = "defect-finder"


@pytest.fixture(params=["sqlite"])
def grove_backend(request: pytest.FixtureRequest) -> str:
    """Browser tests run on one backend (the HTTP tests cover both)."""
    return str(request.param)


@pytest.fixture
def console_errors(grove_page: Page) -> list[str]:
    errors: list[str] = []
    grove_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    grove_page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.fixture
def world(grove_factories: Factories, tmp_path: Path) -> dict[str, int]:
    grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {"bo": {"role": "engineer", "team": "Vision", "display_name": "Bo Berg"}},
            "projects": {PROJECT: "Vision"},
        }
    )
    ctx = grove_factories.admin_ctx
    rows = [{"id": i, "label": "ok" if i % 3 else "defect"} for i in range(40)]
    table_commit.commit(ctx, "parts", pa_table(rows), project=PROJECT, key=["id"], label="label")
    splits.split(ctx, "parts", "v1", ratios={"train": 0.75, "test": 0.25}, project=PROJECT)
    (tmp_path / "m.bin").write_bytes(b"w")
    made = {}
    now = tracking.utcnow()
    for name, lr, top in (
        ("baseline", "0.1", 0.81),
        ("wider", "0.01", 0.93),
        ("deep", "0.01", 0.6),
    ):
        run = tracking.start_run(ctx, PROJECT, name, params={"lr": lr})
        tracking.use_dataset(ctx, run.id, "parts", "v1", split="train")
        curve = [top * (1 - math.exp(-s / 50)) for s in range(500)]
        points = [MetricPoint("acc", v, s, now) for s, v in enumerate(curve)]
        points += [MetricPoint("loss", 1 - v, s, now) for s, v in enumerate(curve)]
        tracking.log_metrics_batch(ctx, run.id, points)
        tracking.log_artifact(ctx, run.id, tmp_path / "m.bin")
        tracking.end_run(ctx, run.id)
        made[name] = run.id
    registry.register(ctx, "clf", made["baseline"], "m.bin", project=PROJECT)
    registry.register(ctx, "clf", made["wider"], "m.bin", project=PROJECT)
    evaluations.record(ctx, "clf/v1", "parts", "v1", {"f1": 0.7}, split="test", project=PROJECT)
    evaluations.record(ctx, "clf/v2", "parts", "v1", {"f1": 0.9}, split="train", project=PROJECT)
    return made


def pa_table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist(rows)


def log_in(page: Page, base: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.get_by_label("Username").fill("bo")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def run_column(page: Page) -> list[str]:
    return page.get_by_test_id("runs").locator("tbody tr td:nth-child(2)").all_inner_texts()


def test_filter_sort_and_compare_in_the_browser(
    grove_page: Page, grove_live_server: str, world: dict[str, int], console_errors: list[str]
) -> None:
    page, base = grove_page, grove_live_server
    log_in(page, base, "/runs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs")
    assert run_column(page) == ["deep", "wider", "baseline"]

    page.get_by_label("Filter").fill("metrics.acc > 0.5 and params.lr = 0.01")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("runs").locator("tbody tr")).to_have_count(2)
    assert sorted(run_column(page)) == ["deep", "wider"]

    page.get_by_role("link", name="acc", exact=True).click()  # best first
    expect(page.locator('th[aria-sort="descending"]')).to_have_text("acc")
    assert run_column(page) == ["wider", "deep"]

    page.get_by_label("Filter").fill("metrics.acc >> 1")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("metrics.acc > 0.9")

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Compare baseline").check()
    page.get_by_label("Compare wider").check()
    page.get_by_role("button", name="Compare ticked runs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare 2 runs")
    differs = page.locator('tr[data-differs="true"]')
    expect(differs).to_have_count(1)
    expect(differs).to_contain_text("lr")
    # One overlay chart per metric, both runs drawn by uPlot in each.
    charts = page.locator('figure[data-chart-state="drawn"]')
    expect(charts).to_have_count(2)
    expect(charts.first.locator("canvas")).to_have_count(1)
    expect(charts.first.locator(".u-legend")).to_contain_text("wider")
    expect(charts.first.locator(".u-legend")).to_contain_text("baseline")
    # The one error is the bad filter's own answer (a 400 page), nothing else.
    assert [e for e in console_errors if "status of 400" not in e] == []


def test_run_page_charts_and_the_downsampling_note(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, int],
    console_errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page, base = grove_page, grove_live_server
    log_in(page, base, f"/runs/{world['wider']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("wider")
    charts = page.locator('figure[data-chart-state="drawn"]')
    expect(charts).to_have_count(2)
    assert charts.first.get_attribute("data-points") == "500"
    page.get_by_role("link", name="parts v1").click()
    expect(page).to_have_url(re.compile(rf"/data/{PROJECT}/parts/v1$"))

    monkeypatch.setattr(run_queries, "CHART_POINTS", 100)
    page.goto(f"{base}/runs/{world['wider']}")
    shrunk = page.locator('figure[data-chart-state="downsampled"]')
    expect(shrunk).to_have_count(2)
    expect(shrunk.first).to_contain_text("downsampled on the server: 100 of 500 points drawn")
    assert console_errors == []


def test_model_page_warns_about_different_test_sets(
    grove_page: Page, grove_live_server: str, world: dict[str, int], console_errors: list[str]
) -> None:
    page, base = grove_page, grove_live_server
    log_in(page, base, "/models")
    page.get_by_role("link", name="clf").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("clf")
    expect(page.get_by_role("alert")).to_contain_text("NOT COMPARABLE")
    graph = page.get_by_test_id("lineage-graph")
    expect(graph).to_be_visible()
    graph.locator("a", has_text="baseline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("baseline")
    assert console_errors == []
