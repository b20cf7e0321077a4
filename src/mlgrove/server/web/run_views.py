"""Run and model pages: the runs table (filter language, sortable columns, keyset pages),
a run (params, tags, inputs, artifacts, metric charts), runs compared side by side, the
models of each project and a model (versions, aliases and their history, evaluations
grouped by test set, lineage from data to evaluations).

Metric charts are drawn in the browser by the vendored uPlot from JSON endpoints here
(``static/runs.js``; the CSP allows no inline script). A series longer than
``run_queries.CHART_POINTS`` is downsampled on the server and the page says so.
"""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from mlgrove.domain import tracking as rules
from mlgrove.domain.people import Project
from mlgrove.domain.run_filter import Field, OrderBy, RunPage, parse_order
from mlgrove.domain.tracking import Evaluation, Model, Run, TestSet
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.server.deps import context
from mlgrove.server.web import charts
from mlgrove.server.web.formatting import urlpart
from mlgrove.server.web.pages import render, templates
from mlgrove.server.web.urls import version_url
from mlgrove.services import dashboard, evaluations, projects, registry, run_queries, tracking
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)

PAGE = 50
PARAM_COLUMNS = 8  # param and metric columns shown in the runs table (the most common)
METRIC_COLUMNS = 8
COMPARE_MAX = 10
CHARTS_MAX = 24  # metric charts on a run page before it asks to show all


# -- addresses -----------------------------------------------------------------------------


def run_url(run_id: int) -> str:
    return f"/runs/{run_id}"


def runs_url(project: str, **query: str | None) -> str:
    clean = {k: v for k, v in query.items() if v}
    return "/runs?" + urllib.parse.urlencode({"project": project, **clean})


def model_url(project: str, name: str) -> str:
    return f"/models/{urlpart(project)}/{urlpart(name)}"


def compare_url(run_ids: list[int]) -> str:
    return "/runs/compare?" + urllib.parse.urlencode([("run", i) for i in run_ids])


def metric_text(value: float | None) -> str:
    """A metric as the page shows it: NaN and infinity spelled out, never hidden."""
    if value is None:
        return ""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.6g}"


# -- the runs table ------------------------------------------------------------------------


@dataclass(frozen=True)
class SortColumn:
    label: str
    field: Field
    #: Where clicking the header goes (the other direction when already sorted by it).
    href: str
    #: "ascending" / "descending" when the table is sorted by this column, else "none".
    sorted: str


def _columns(runs: list[Run], attr: str, limit: int) -> list[str]:
    counts: dict[str, int] = {}
    for r in runs:
        for key in getattr(r, attr):
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))[:limit]


def _sort_column(
    label: str, f: Field, order: OrderBy, project: str, filter_text: str
) -> SortColumn:
    current = order.field == f
    if current:
        descending = not order.descending
    else:
        descending = f.kind == "metric" or f == Field("attribute", "started")
    target = OrderBy(f, descending)
    return SortColumn(
        label,
        f,
        runs_url(project, filter=filter_text, order=target.text),
        ("descending" if order.descending else "ascending") if current else "none",
    )


def _choose_project(ctx: Context, name: str | None) -> tuple[list[Project], Project | None]:
    every = projects.list_projects(ctx)
    if name is not None:
        # Found in the list when it exists (one query less per page); otherwise
        # get_project says it does not, in its words.
        known = next((p for p in every if p.name == name), None)
        return every, known if known is not None else projects.get_project(ctx, name)
    return every, every[0] if every else None


@router.get("/runs", response_class=HTMLResponse)
def runs(
    request: Request,
    project: str | None = Query(None, description="the project (default: the first)"),
    filter: str = Query("", description="the runs filter language"),
    order: str = Query("", description="FIELD [asc|desc]"),
    cursor: str | None = Query(None, description="where the previous page ended"),
    ctx: Context = Depends(context),
) -> Response:
    """A project's runs, filtered, sorted and a page at a time."""
    every, chosen = _choose_project(ctx, project)
    page_data: dict[str, Any] = {
        "projects": every,
        "project": chosen,
        "filter_text": filter,
        "order_text": order,
        "error": None,
        "page": None,
    }
    if chosen is None:
        return render(request, "runs.html", page_data)
    status = 200
    try:
        result = run_queries.search(
            ctx, chosen.name, filter, order_by=order or None, limit=PAGE, cursor=cursor
        )
    except InvalidInput as exc:
        status = 400
        page_data["error"] = exc
        # The form keeps what was typed, so it can be corrected where it stands.
        result = RunPage([], None, parse_order(None))
    sort = result.order
    params = _columns(result.runs, "params", PARAM_COLUMNS)
    metrics = _columns(result.runs, "metrics", METRIC_COLUMNS)
    fixed = [
        _sort_column("Run", Field("attribute", "name"), sort, chosen.name, filter),
        _sort_column("Status", Field("attribute", "status"), sort, chosen.name, filter),
        _sort_column("Author", Field("attribute", "author"), sort, chosen.name, filter),
        _sort_column("Started (UTC)", Field("attribute", "started"), sort, chosen.name, filter),
    ]
    page_data.update(
        page=result,
        sort=sort,
        fixed_columns=fixed,
        param_columns=[
            _sort_column(k, Field("param", k), sort, chosen.name, filter) for k in params
        ],
        metric_columns=[
            _sort_column(k, Field("metric", k), sort, chosen.name, filter) for k in metrics
        ],
        next_url=runs_url(chosen.name, filter=filter, order=order, cursor=result.next_cursor)
        if result.next_cursor
        else None,
        first_url=runs_url(chosen.name, filter=filter, order=order) if cursor else None,
    )
    return render(request, "runs.html", page_data, status_code=status)


# -- one run -------------------------------------------------------------------------------


@router.get("/runs/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    run: list[int] = Query([], description="the runs to compare (2 to 10)"),
    ctx: Context = Depends(context),
) -> Response:
    """Runs side by side: params (differences marked), latest metrics, overlaid charts."""
    ids = list(dict.fromkeys(run))
    if not 2 <= len(ids) <= COMPARE_MAX:
        raise InvalidInput(
            f"compare needs 2 to {COMPARE_MAX} different runs, got {len(ids)}",
            hint="tick the runs to compare in the runs table",
        )
    found = [tracking.get_run(ctx, i) for i in ids]
    param_keys = sorted({k for r in found for k in r.params})
    metric_keys = sorted({k for r in found for k in r.metrics})
    params = [
        (k, [r.params.get(k) for r in found], len({r.params.get(k) for r in found}) > 1)
        for k in param_keys
    ]
    metrics = [(k, [metric_text(r.metrics.get(k)) for r in found]) for k in metric_keys]
    return render(
        request,
        "compare.html",
        {
            "runs": found,
            "params": params,
            "differ": sum(1 for *_, d in params if d),
            "metrics": metrics,
            "chart_keys": metric_keys,
            "ids_query": urllib.parse.urlencode([("run", i) for i in ids]),
        },
    )


@router.get("/runs/compare/metrics.json")
def compare_series(
    run: list[int] = Query([], description="the runs"),
    key: str = Query(..., description="the metric"),
    ctx: Context = Depends(context),
) -> Response:
    """One metric of several runs on one step axis (uPlot's aligned columns)."""
    ids = list(dict.fromkeys(run))[:COMPARE_MAX]
    series = [run_queries.metric_series(ctx, i, key) for i in ids]
    steps = sorted({s for one in series for s in one.steps})
    columns: list[list[float | None]] = []
    for one in series:
        at = dict(zip(one.steps, one.values, strict=True))
        columns.append([at.get(s) for s in steps])
    names = {r: tracking.get_run(ctx, r).name for r in ids}
    return JSONResponse(
        {
            "key": key,
            "steps": steps,
            "series": [
                {
                    "run": one.run_id,
                    "label": f"{names[one.run_id]} (#{one.run_id})",
                    "values": col,
                    "total": one.total,
                    "shown": len(one.steps),
                    "non_finite": one.non_finite,
                }
                for one, col in zip(series, columns, strict=True)
            ],
            "downsampled": any(one.downsampled for one in series),
        }
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: int,
    all_charts: bool = Query(False, description="draw every metric's chart"),
    ctx: Context = Depends(context),
) -> Response:
    """One run: what it was given, what it read, what it made, how its metrics moved."""
    r = tracking.get_run(ctx, run_id)
    keys = tracking.metric_keys(ctx, run_id)
    made = run_queries.models_from_run(ctx, run_id)
    return render(
        request,
        "run.html",
        {
            "run": r,
            "metric_keys": keys if all_charts else keys[:CHARTS_MAX],
            "hidden_charts": 0 if all_charts else max(0, len(keys) - CHARTS_MAX),
            "metric_rows": [(k, metric_text(v)) for k, v in r.metrics.items()],
            "models_made": made,
            "chart_points": run_queries.CHART_POINTS,
        },
    )


@router.get("/runs/{run_id}/metrics.json")
def run_series(
    run_id: int, key: str = Query(..., description="the metric"), ctx: Context = Depends(context)
) -> Response:
    """One metric of a run, for its chart: steps and values (null: NaN or infinite)."""
    one = run_queries.metric_series(ctx, run_id, key)
    return JSONResponse(
        {
            "key": key,
            "steps": one.steps,
            "series": [
                {
                    "run": run_id,
                    "label": key,
                    "values": one.values,
                    "total": one.total,
                    "shown": len(one.steps),
                    "non_finite": one.non_finite,
                }
            ],
            "downsampled": one.downsampled,
        }
    )


# -- models --------------------------------------------------------------------------------


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, ctx: Context = Depends(context)) -> Response:
    """Every project's registered models with their aliases."""
    groups = [(p, registry.list_models(ctx, p.name)) for p in projects.list_projects(ctx)]
    return render(request, "models.html", {"groups": groups})


@dataclass(frozen=True)
class TestSetGroup:
    __test__ = False  # not a pytest class

    test_set: TestSet
    metric_keys: list[str]
    rows: list[tuple[Evaluation, list[str]]]


def _evaluation_groups(found: list[Evaluation]) -> list[TestSetGroup]:
    """Evaluations grouped by their exact test set (scores compare only within one)."""
    by_set: dict[tuple[int, str | None], list[Evaluation]] = {}
    for e in found:
        by_set.setdefault((e.test_set.version_id, e.test_set.split), []).append(e)
    groups = []
    for members in by_set.values():
        keys = sorted({k for e in members for k in e.metrics})
        rows = [(e, [metric_text(e.metrics.get(k)) for k in keys]) for e in members]
        groups.append(TestSetGroup(members[0].test_set, keys, rows))
    return groups


def _model_lineage(
    ctx: Context, model: Model, found: list[Evaluation]
) -> tuple[charts.Graph | None, int]:
    """Data -> run -> model version -> evaluation (and the test set it used)."""
    nodes: dict[str, charts.GraphNode] = {}
    edges: list[tuple[str, str, str]] = []

    def data_node(project: str, dataset: str, version: int, version_id: int) -> str:
        key = f"dataset_version:{version_id}"
        nodes.setdefault(
            key,
            charts.GraphNode(
                key,
                f"{dataset} v{version}",
                f"dataset in {project}",
                href=version_url(project, dataset, version),
                title=f"{project} / {dataset} v{version}",
            ),
        )
        return key

    for v in model.versions:
        mv = f"model_version:{v.number}"
        nodes[mv] = charts.GraphNode(
            mv, v.name, "model version", title=f"{model.name} v{v.number} ({v.artifact})"
        )
        if v.run_id is not None:
            rk = f"run:{v.run_id}"
            if rk not in nodes:
                try:
                    r = tracking.get_run(ctx, v.run_id)
                except NotFound:
                    continue
                nodes[rk] = charts.GraphNode(rk, r.name, "run", href=run_url(r.id), title=r.name)
                for i in r.inputs:
                    dk = data_node(r.project, i.dataset, i.version, i.version_id)
                    edges.append((dk, f"input{' ' + i.split if i.split else ''}", rk))
            edges.append((rk, "registered", mv))
    for e in found:
        ek = f"evaluation:{e.id}"
        scores = ", ".join(f"{k} {metric_text(v)}" for k, v in sorted(e.metrics.items()))
        nodes[ek] = charts.GraphNode(
            ek, scores or "no scores", f"evaluation #{e.id}", title=e.test_set.label
        )
        edges.append((f"model_version:{e.model_version}", "evaluated", ek))
        dk = data_node(model.project, e.test_set.dataset, e.test_set.version, e.test_set.version_id)
        edges.append((dk, f"test set{' ' + e.test_set.split if e.test_set.split else ''}", ek))
    graph = charts.lineage_graph(
        list(nodes.values()),
        edges,
        description=f"Lineage of model {model.name}: data, runs, versions, evaluations",
    )
    return graph, len(nodes)


@router.get("/models/{project}/{name}", response_class=HTMLResponse)
def model_page(
    request: Request, project: str, name: str, ctx: Context = Depends(context)
) -> Response:
    """A model: versions, aliases and every move of them, evaluations, lineage."""
    model = registry.get_model(ctx, name, project)
    found = evaluations.model_evaluations(ctx, model.id)
    comparison = rules.compare(found)
    graph, node_count = _model_lineage(ctx, model, found)
    return render(
        request,
        "model.html",
        {
            "model": model,
            "judgements": dashboard.model_judgements(ctx, model.id),
            "groups": _evaluation_groups(found),
            "comparison": comparison,
            "graph": graph,
            "node_count": node_count,
        },
    )


GLOBALS = {
    "run_url": run_url,
    "runs_url": runs_url,
    "model_url": model_url,
    "compare_url": compare_url,
    "metric_text": metric_text,
}

templates.env.globals.update(GLOBALS)
