"""The run and model pages over real HTTP, on SQLite and PostgreSQL: the runs table
(filter language, sortable columns, pages), a run, runs compared, the models list and a
model (versions, alias history, evaluations on different test sets, lineage)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

from mlgrove.domain.tracking import MetricPoint
from mlgrove.server.web import run_views
from mlgrove.services import evaluations, registry, run_queries, splits, table_commit, tracking
from mlgrove.services.context import Context
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

PROJECT = "defect-finder"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


# -- the world --------------------------------------------------------------------------


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {"bo": {"role": "engineer", "team": "Vision", "display_name": "Bo Berg"}},
            "projects": {PROJECT: "Vision"},
        }
    )


def log_points(ctx: Context, run_id: int, key: str, values: list[float]) -> None:
    now = tracking.utcnow()
    points = [MetricPoint(key, v, step, now) for step, v in enumerate(values)]
    tracking.log_metrics_batch(ctx, run_id, points)


@pytest.fixture
def runs(world: dict[str, Any], grove_factories: Factories, tmp_path: Path) -> dict[str, int]:
    """Dataset "parts" v1 split train/test, then three runs on it:

    - "baseline": lr 0.1, acc 0.70 -> 0.81 over 3 steps, registered as clf v1
    - "wider": lr 0.01, acc 0.80 -> 0.93, loss with a NaN last, registered as clf v2
    - "<b>odd</b>": a name and a param with markup in them, no metrics
    clf v1 and v2 are evaluated on the test split, v2 also on the train split;
    "production" moved v1 -> v2.
    """
    ctx = grove_factories.admin_ctx
    rows = [{"id": i, "width": i * 0.5, "label": "ok" if i % 3 else "defect"} for i in range(40)]
    table_commit.commit(
        ctx, "parts", pa.Table.from_pylist(rows), project=PROJECT, key=["id"], label="label"
    )
    splits.split(ctx, "parts", "v1", ratios={"train": 0.75, "test": 0.25}, project=PROJECT)
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"weights")
    made: dict[str, int] = {}
    for name, lr, acc in (
        ("baseline", "0.1", [0.7, 0.75, 0.81]),
        ("wider", "0.01", [0.8, 0.9, 0.93]),
    ):
        run = tracking.start_run(
            ctx, PROJECT, name, params={"lr": lr, "depth": "3"}, tags={"team": "vision"}
        )
        tracking.use_dataset(ctx, run.id, "parts", "v1", split="train")
        log_points(ctx, run.id, "acc", acc)
        if name == "wider":
            log_points(ctx, run.id, "loss", [0.5, math.nan])
        tracking.log_artifact(ctx, run.id, model_file)
        tracking.end_run(ctx, run.id)
        registry.register(ctx, "clf", run.id, "model.bin", project=PROJECT)
        made[name] = run.id
    odd = tracking.start_run(
        ctx, PROJECT, "<b>odd</b>", params={"note": "<script>alert(1)</script>"}
    )
    made["odd"] = odd.id
    evaluations.record(ctx, "clf/v1", "parts", "v1", {"f1": 0.7}, split="test", project=PROJECT)
    evaluations.record(ctx, "clf/v2", "parts", "v1", {"f1": 0.8}, split="test", project=PROJECT)
    evaluations.record(ctx, "clf/v2", "parts", "v1", {"f1": 0.99}, split="train", project=PROJECT)
    registry.set_alias(ctx, "clf", "production", "1", project=PROJECT)
    registry.set_alias(ctx, "clf", "production", "2", project=PROJECT)
    return made


# -- HTTP helpers -------------------------------------------------------------------------


@pytest.fixture
def client(grove_live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grove_live_server, follow_redirects=False, timeout=30) as c:
        yield c


@pytest.fixture
def as_bo(client: httpx.Client, world: dict[str, Any]) -> httpx.Client:
    form = client.get("/login")
    found = CSRF_FIELD.search(form.text)
    assert found
    resp = client.post(
        "/login",
        data={
            "csrf_token": found.group(1),
            "username": "bo",
            "password": DEFAULT_PASSWORD,
            "next": "/",
        },
    )
    assert resp.status_code == 303, resp.text
    return client


def page(client: httpx.Client, path: str, status: int = 200, **params: Any) -> str:
    # (httpx drops a path's own query string when given params, even empty ones)
    resp = client.get(path, params=params) if params else client.get(path)
    assert resp.status_code == status, (path, resp.status_code, resp.text[:500])
    return resp.text


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def table_html(doc: str, testid: str) -> str:
    found = re.search(rf'<table[^>]*data-testid="{testid}"[^>]*>(.*?)</table>', doc, re.S)
    assert found, f"the page has no table {testid!r}"
    return found.group(1)


def headers(doc: str, testid: str) -> list[str]:
    head = table_html(doc, testid).split("</thead>")[0]
    return [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def rows(doc: str, testid: str) -> list[list[str]]:
    body = table_html(doc, testid).split("<tbody>", 1)[1]
    return [
        [text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def run_names(doc: str) -> list[str]:
    return [r[1] for r in rows(doc, "runs")]


# -- the runs table ---------------------------------------------------------------------


def test_runs_table_shows_params_and_latest_metrics(
    as_bo: httpx.Client, runs: dict[str, int]
) -> None:
    doc = page(as_bo, "/runs")
    assert "<h1>Runs</h1>" in doc
    assert run_names(doc) == ["<b>odd</b>", "wider", "baseline"]  # newest first
    cols = headers(doc, "runs")
    assert cols[:5] == ["Compare", "Run", "Status", "Author", "Started (UTC)"]
    assert {"lr", "depth", "acc", "loss"} <= set(cols)
    wider = next(r for r in rows(doc, "runs") if r[1] == "wider")
    assert wider[cols.index("lr")] == "0.01"
    assert wider[cols.index("acc")] == "0.93"
    assert wider[cols.index("loss")] == "NaN"  # shown faithfully, not hidden


def test_the_filter_language_narrows_the_table(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    doc = page(as_bo, "/runs", filter='metrics.acc > 0.9 and tags.team = "vision"')
    assert run_names(doc) == ["wider"]
    assert (
        'value="metrics.acc &gt; 0.9 and tags.team = &#34;vision&#34;"' in doc
    )  # kept in the form
    assert "No runs match this filter." in page(as_bo, "/runs", filter="params.lr = 5")


def test_a_bad_filter_says_what_to_fix(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    doc = page(as_bo, "/runs", 400, filter="metrics.acc >> 0.9")
    alert = re.search(r'data-testid="filter-error">(.*?)</p>', doc, re.S)
    assert alert
    assert "expected a value" in text(alert.group(1)) or "cannot read" in text(alert.group(1))
    assert "metrics.acc &gt; 0.9" in alert.group(1)  # the hint shows a filter that works


def test_column_headers_sort_and_mark_the_order(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    doc = page(as_bo, "/runs")
    acc_link = re.search(r'<th[^>]*aria-sort="none"><a href="([^"]+)" title="metric acc', doc)
    assert acc_link
    by_acc = page(as_bo, html.unescape(acc_link.group(1)))
    assert run_names(by_acc) == ["wider", "baseline", "<b>odd</b>"]  # best first, none last
    assert re.search(r'aria-sort="descending"><a href="([^"]+)" title="metric acc', by_acc)
    again = re.search(r'aria-sort="descending"><a href="([^"]+)" title="metric acc', by_acc)
    assert again
    assert run_names(page(as_bo, html.unescape(again.group(1)))) == [
        "baseline",
        "wider",
        "<b>odd</b>",
    ]


def test_pages_follow_each_other_without_repeats(
    as_bo: httpx.Client, runs: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_views, "PAGE", 2)
    first = page(as_bo, "/runs", order="name")
    assert run_names(first) == ["<b>odd</b>", "baseline"]
    following = re.search(r'href="([^"]+)" data-testid="next-page"', first)
    assert following
    second = page(as_bo, html.unescape(following.group(1)))
    assert run_names(second) == ["wider"]
    assert 'data-testid="next-page"' not in second
    assert "First page" in second


def test_no_projects_and_no_runs_say_how_to_start(
    as_bo: httpx.Client, world: dict[str, Any]
) -> None:
    doc = page(as_bo, "/runs")
    assert "No runs in defect-finder yet" in doc
    assert 'grove.runs.start("defect-finder")' in doc


# -- one run ----------------------------------------------------------------------------


def test_run_page_shows_what_went_in_and_came_out(
    as_bo: httpx.Client, runs: dict[str, int]
) -> None:
    doc = page(as_bo, f"/runs/{runs['wider']}")
    assert "<h1>wider</h1>" in doc
    assert rows(doc, "params") == [["depth", "3"], ["lr", "0.01"]]
    assert rows(doc, "tags") == [["team", "vision"]]
    assert rows(doc, "metrics") == [["acc", "0.93"], ["loss", "NaN"]]
    (inp,) = rows(doc, "inputs")
    assert inp[:2] == ["parts v1", "train"]
    assert f'href="/data/{PROJECT}/parts/v1"' in doc
    assert rows(doc, "artifacts")[0][:2] == ["model.bin", "7 B"]
    assert 'href="/models/defect-finder/clf"' in doc  # the model version made from it
    download = re.search(r'<a href="([^"]+)" download>model.bin</a>', doc)
    assert download
    assert as_bo.get(html.unescape(download.group(1))).content == b"weights"
    charts = re.findall(r'data-chart-url="([^"]+)"', doc)
    assert [html.unescape(c) for c in charts] == [
        f"/runs/{runs['wider']}/metrics.json?key=acc",
        f"/runs/{runs['wider']}/metrics.json?key=loss",
    ]


def test_metric_json_feeds_the_charts(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    got = as_bo.get(f"/runs/{runs['wider']}/metrics.json", params={"key": "loss"}).json()
    assert got["steps"] == [0, 1]
    assert got["series"][0]["values"] == [0.5, None]  # NaN cannot be drawn: a gap, counted
    assert got["series"][0]["non_finite"] == 1
    assert got["downsampled"] is False


def test_long_series_are_downsampled_keeping_spikes(
    as_bo: httpx.Client,
    grove_factories: Factories,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = grove_factories.admin_ctx
    run = tracking.start_run(ctx, PROJECT, "long")
    values = [0.5] * 5000
    values[1234] = 9.0  # one spike
    values[4321] = -3.0
    log_points(ctx, run.id, "loss", values)
    monkeypatch.setattr(run_queries, "CHART_POINTS", 200)
    got = as_bo.get(f"/runs/{run.id}/metrics.json", params={"key": "loss"}).json()
    series = got["series"][0]
    assert got["downsampled"] is True
    assert series["total"] == 5000
    assert len(got["steps"]) <= 200
    assert max(series["values"]) == 9.0
    assert min(series["values"]) == -3.0
    assert 1234 in got["steps"]
    assert got["steps"] == sorted(got["steps"])
    assert "downsampled on the server" in page(as_bo, f"/runs/{run.id}")


def test_unknown_runs_are_404_pages(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    assert "no run 9999" in page(as_bo, "/runs/9999", 404)


# -- compare ----------------------------------------------------------------------------


def test_compare_marks_the_params_that_differ(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    doc = page(as_bo, f"/runs/compare?run={runs['baseline']}&run={runs['wider']}")
    assert rows(doc, "compare-params") == [["depth", "3", "3"], ["lr differs", "0.1", "0.01"]]
    assert len(re.findall(r'data-differs="true"', doc)) == 1
    assert "1 param differ" in doc
    assert rows(doc, "compare-metrics") == [["acc", "0.81", "0.93"], ["loss", "", "NaN"]]
    overlay = as_bo.get(
        f"/runs/compare/metrics.json?run={runs['baseline']}&run={runs['wider']}&key=acc"
    ).json()
    assert overlay["steps"] == [0, 1, 2]
    assert [s["values"] for s in overlay["series"]] == [[0.7, 0.75, 0.81], [0.8, 0.9, 0.93]]
    assert overlay["series"][1]["label"] == f"wider (#{runs['wider']})"


def test_compare_needs_two_runs(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    assert "2 to 10 different runs" in page(as_bo, f"/runs/compare?run={runs['wider']}", 400)


# -- models -----------------------------------------------------------------------------


def test_models_list_shows_aliases(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    doc = page(as_bo, "/models")
    assert "<h1>Models</h1>" in doc
    assert rows(doc, "models")[0][:2] == ["clf", "production → v2"]


def test_model_page_versions_alias_history_and_evaluations(
    as_bo: httpx.Client, runs: dict[str, int]
) -> None:
    doc = page(as_bo, f"/models/{PROJECT}/clf")
    versions = rows(doc, "versions")
    assert [v[0] for v in versions] == ["v2", "v1"]
    assert versions[0][1] == "production"
    assert versions[0][2] == f"run #{runs['wider']}"
    history = rows(doc, "alias-history")
    assert [h[1:] for h in history] == [
        ["production", "v1 → v2", "local"],
        ["production", "(unset) → v1", "local"],
    ]
    # Scores from two test sets: said loudly, and never in one table.
    warning = re.search(r'data-testid="not-comparable">(.*?)</p>', doc, re.S)
    assert warning
    assert "NOT COMPARABLE" in warning.group(1)
    tables = re.findall(r"<h3>On (.*?)</h3>", doc)
    assert tables == ["parts/v1 split test", "parts/v1 split train"]
    first = doc.split("<h3>On parts/v1 split test</h3>")[1].split("</table>")[0]
    assert [r[:2] for r in rows(first + "</table>", "evaluations")] == [
        ["v1", "0.7"],
        ["v2", "0.8"],
    ]


def test_model_lineage_runs_from_data_to_evaluations(
    as_bo: httpx.Client, runs: dict[str, int]
) -> None:
    doc = page(as_bo, f"/models/{PROJECT}/clf")
    svg = re.search(r'<svg[^>]*data-testid="lineage-graph".*?</svg>', doc, re.S)
    assert svg
    drawn = svg.group(0)
    assert f'href="/runs/{runs["baseline"]}"' in drawn
    assert f'href="/data/{PROJECT}/parts/v1"' in drawn
    labels = [
        text(t) for t in re.findall(r'<text class="grove-node-label"[^>]*>(.*?)</text>', drawn)
    ]
    assert {"parts v1", "baseline", "wider", "clf/v1", "clf/v2", "f1 0.99"} <= set(labels)
    edge_labels = {
        text(t)
        for t in re.findall(r'<text x="[^"]+" y="[^"]+" text-anchor="middle">(.*?)</text>', drawn)
    }
    assert {"input train", "registered", "evaluated", "test set test"} <= edge_labels


def test_unknown_model_is_a_404_page(as_bo: httpx.Client, runs: dict[str, int]) -> None:
    page(as_bo, f"/models/{PROJECT}/nope", 404)


# -- safety -----------------------------------------------------------------------------


def test_user_text_is_escaped_and_pages_keep_the_strict_policy(
    as_bo: httpx.Client, runs: dict[str, int]
) -> None:
    paths = [
        "/runs",
        f"/runs/{runs['odd']}",
        f"/runs/compare?run={runs['odd']}&run={runs['wider']}",
        "/models",
        f"/models/{PROJECT}/clf",
    ]
    for path in paths:
        resp = as_bo.get(path)
        assert resp.status_code == 200, path
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        assert not INLINE_SCRIPT.search(resp.text), path
        assert "<b>odd</b>" not in resp.text, path
        assert "<script>alert(1)</script>" not in resp.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in as_bo.get(f"/runs/{runs['odd']}").text
    for asset in ("/static/runs.js", "/static/vendor/uplot-1.6.32.min.js"):
        assert as_bo.get(asset).status_code == 200


def test_pages_need_a_login(client: httpx.Client, runs: dict[str, int]) -> None:
    for path in (
        "/runs",
        f"/runs/{runs['wider']}",
        f"/runs/{runs['wider']}/metrics.json?key=acc",
        "/models",
    ):
        resp = client.get(path)
        assert resp.status_code in (303, 401), path
