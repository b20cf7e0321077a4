"""Pipelines over real HTTP: the REST API (with a token) and the web pages in Chromium,
against a live server on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

import mlgrove
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.services import pipelines, splits, table_commit
from mlgrove.services.context import Runtime
from mlgrove.services.worker import Worker
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

_counter = itertools.count()

CODE = """
import os

import pyarrow as pa

from mlgrove.pipelines import Metrics, Pipeline, dataset, on_dataset, step


@step(datasets={"rows": dataset("tickets", split="train")})
def features(rows: pa.Table) -> list:
    return rows["text"].to_pylist()


@step
def train(features: list) -> Metrics:
    if os.environ.get("BREAK_TRAIN"):
        raise ValueError("label column has <b>nulls</b>")
    return Metrics(rows=len(features))


pipeline = Pipeline("triage", [features, train], retrain=[on_dataset("tickets", min_added_rows=10)])
"""


@pytest.fixture
def world(
    grove_factories: Factories,
    grove_runtime: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, Any]]:
    made = grove_factories.world(
        {
            "teams": ["Support"],
            "people": {
                "bo": {"role": "engineer", "team": "Support"},
                "cy": {"role": "reviewer", "team": "Support"},
            },
            "projects": {"helpdesk": "Support"},
        }
    )
    module = f"webproj_{next(_counter)}"
    (tmp_path / module).mkdir()
    (tmp_path / module / "__init__.py").write_text("")
    (tmp_path / module / "pipeline.py").write_text(textwrap.dedent(CODE))
    sys.path.insert(0, str(tmp_path))
    ctx = grove_runtime.as_actor(LOCAL_ADMIN)
    rows = pd.DataFrame({"id": range(50), "text": [f"ticket {i}" for i in range(50)]})
    table_commit.commit(ctx, "tickets", rows, key=["id"], project="helpdesk")
    splits.split(ctx, "tickets", "v1", ratios={"train": 0.8, "test": 0.2}, project="helpdesk")
    path = f"{module}.pipeline:pipeline"
    made["ok"] = pipelines.run(ctx, path, project="helpdesk", executor="inline")
    made["cached"] = pipelines.run(ctx, path, project="helpdesk", executor="inline")
    monkeypatch.setenv("BREAK_TRAIN", "1")
    made["failed"] = pipelines.run(
        ctx, path, project="helpdesk", executor="inline", force=["train"]
    )
    monkeypatch.delenv("BREAK_TRAIN")
    yield made
    sys.path.remove(str(tmp_path))
    for m in [m for m in sys.modules if m.startswith(module)]:
        del sys.modules[m]


def test_the_api_lists_pipelines_runs_steps_and_decisions(
    world: dict[str, Any],
    grove_live_server: str,
    grove_factories: Factories,
    grove_runtime: Runtime,
) -> None:
    token = grove_factories.token(world["bo"]).secret
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{grove_live_server}/api/v1", headers=headers) as api:
        listed = api.get("/pipelines").json()
        assert [(p["name"], p["project"], len(p["steps"])) for p in listed] == [
            ("triage", "helpdesk", 2)
        ]
        assert listed[0]["rules"][0]["description"] == (
            "when tickets gets a new version with >= 10 rows added"
        )
        one = api.get("/pipelines/triage").json()
        assert one["last_run"]["status"] == "failed"
        assert [s["upstream"] for s in one["steps"]] == [[], ["features"]]

        runs = api.get("/pipelines/triage/runs", params={"limit": 2}).json()
        assert [r["id"] for r in runs] == [world["failed"].id, world["cached"].id]
        assert runs[1]["steps_cached"] == 2
        older = api.get("/pipelines/triage/runs", params={"before": runs[1]["id"]}).json()
        assert [r["id"] for r in older] == [world["ok"].id]

        failed = api.get(f"/pipeline-runs/{world['failed'].id}").json()
        train = failed["steps"][1]
        assert train["status"] == "failed"
        assert train["error"] == "step 'train' raised ValueError: label column has <b>nulls</b>"
        assert "raise ValueError" in train["traceback"]

        asked = api.post("/pipelines/triage/runs", json={"reason": "labels fixed"})
        assert asked.status_code == 202
        assert (asked.json()["outcome"], asked.json()["reason"]) == ("requested", "labels fixed")
        Worker(grove_runtime, executor="inline").tick()
        decided = api.get("/pipelines/triage/decisions").json()
        assert [(d["kind"], d["outcome"], d["reason"]) for d in decided[:2]] == [
            ("trigger", "ran", "labels fixed"),
            ("trigger", "taken", "labels fixed"),
        ]

        missing = api.get("/pipelines/nope")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert "no pipeline named 'nope'" in missing.json()["detail"]

    # The SDK over HTTP reads the same (test_pipelines_remote.py runs pipelines with it).
    with mlgrove.connect(grove_live_server, token=token) as remote:
        assert [p.name for p in remote.pipelines.list()] == ["triage"]

    reviewer = grove_factories.token(world["cy"]).secret
    denied = httpx.post(
        f"{grove_live_server}/api/v1/pipelines/triage/runs",
        json={},
        headers={"Authorization": f"Bearer {reviewer}"},
    )
    assert denied.status_code == 403


@pytest.mark.browser
def test_the_pipeline_page_shows_the_dag_runs_cache_hits_and_why_it_ran(
    world: dict[str, Any], grove_live_server: str, grove_page: Page
) -> None:
    page = grove_page
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{grove_live_server}/login?next=/pipelines")
    page.get_by_label("Username").fill("bo")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Pipelines")).to_be_visible()
    table = page.get_by_test_id("pipelines")
    expect(table).to_contain_text("when tickets gets a new version with >= 10 rows added")
    expect(table).to_contain_text("1 of 2")  # the last (forced) run hit the cache once
    table.get_by_role("link", name="triage").click()

    expect(page.get_by_role("heading", name="triage")).to_be_visible()
    graph = page.get_by_test_id("lineage-graph")
    expect(graph).to_contain_text("features")
    expect(graph).to_contain_text("tickets/v1:train")
    expect(graph.locator(".grove-node-current")).to_contain_text("failed")
    steps = page.get_by_test_id("steps")
    expect(steps.locator('tr[data-step="features"]')).to_contain_text("cached")
    # User text is escaped: the error's <b> shows as text, not as bold.
    expect(steps.locator('tr[data-step="train"]')).to_contain_text("<b>nulls</b>")
    runs = page.get_by_test_id("runs")
    expect(runs.locator("tbody tr")).to_have_count(3)
    expect(runs.locator("tbody tr").nth(1)).to_contain_text("2 of 2")
    expect(page.get_by_test_id("decisions")).to_contain_text("trigger: ran")

    form = page.get_by_test_id("run-now")
    form.get_by_label("Reason").fill("<script>alert(1)</script> fixed labels")
    form.get_by_role("button", name="Run now").click()
    decisions = page.get_by_test_id("decisions")
    expect(decisions.locator("tbody tr").first).to_contain_text("trigger: requested")
    expect(decisions.locator("tbody tr").first).to_contain_text(
        "<script>alert(1)</script> fixed labels"
    )

    runs = page.get_by_test_id("runs")
    runs.get_by_role("link", name=f"#{world['failed'].id}").click()
    expect(page.get_by_test_id("run-status")).to_have_text("failed")
    expect(page.get_by_test_id("traceback-train")).to_contain_text('raise ValueError("label')
    assert errors == []


def test_only_people_who_may_run_pipelines_see_run_now(
    world: dict[str, Any], grove_live_server: str
) -> None:
    import re

    def page_as(username: str) -> str:
        with httpx.Client(base_url=grove_live_server, timeout=30) as web:
            form = web.get("/login")
            found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert found
            web.post(
                "/login",
                data={
                    "csrf_token": found.group(1),
                    "username": username,
                    "password": DEFAULT_PASSWORD,
                    "next": "/pipelines/triage",
                },
                follow_redirects=True,
            )
            page = web.get("/pipelines/triage")
            assert page.status_code == 200
            return page.text

    assert "Run now" in page_as("bo")
    reviewer_sees = page_as("cy")
    assert "Run now" not in reviewer_sees
    assert "Why did it run?" in reviewer_sees
