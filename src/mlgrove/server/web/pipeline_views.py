"""Web pages: pipelines, one pipeline (its DAG with step states, runs, cache hits and
the trigger history answering "why did this retrain?"), one run's steps."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlgrove.domain.authz import Action, allowed
from mlgrove.server.deps import context
from mlgrove.server.web import charts
from mlgrove.server.web.formatting import urlpart
from mlgrove.server.web.pages import render
from mlgrove.services import pipelines, retrain
from mlgrove.services.context import Context
from mlgrove.services.pipeline_records import PipelineInfo, PipelineRunInfo

router = APIRouter(include_in_schema=False)


def pipeline_url(name: str) -> str:
    return f"/pipelines/{urlpart(name)}"


def run_url(name: str, run_id: int) -> str:
    return f"{pipeline_url(name)}/runs/{run_id}"


def _dag(p: PipelineInfo, run: PipelineRunInfo | None) -> charts.Graph | None:
    """The steps (and the datasets they read) as a graph, each step with its state in
    ``run``."""
    states = {s.step: s.status for s in run.steps} if run else {}
    # The exact versions the run read (tickets/v3:train), when there is a run.
    pinned = {k: str(v.get("version", k)) for k, v in run.inputs.items()} if run else {}
    nodes: dict[str, charts.GraphNode] = {}
    edges: list[tuple[str, str, str]] = []
    for s in p.steps:
        for param, label in s["datasets"].items():
            key = f"dataset:{label}"
            shown = pinned.get(label, label)
            nodes.setdefault(key, charts.GraphNode(key, shown, "dataset", title=shown))
            edges.append((key, param, f"step:{s['name']}"))
    for s in p.steps:
        state = states.get(s["name"], "not run")
        nodes[f"step:{s['name']}"] = charts.GraphNode(
            f"step:{s['name']}",
            s["name"],
            state,
            title=f"step {s['name']}: {state}",
            current=state == "failed",
        )
        edges += [(f"step:{up}", "", f"step:{s['name']}") for up in s["upstream"]]
    return charts.lineage_graph(
        list(nodes.values()),
        edges,
        description=f"Steps of pipeline {p.name} and their state in its last run",
    )


@router.get("/pipelines", response_class=HTMLResponse)
def pipeline_list(request: Request, ctx: Context = Depends(context)) -> Response:
    return render(
        request,
        "pipelines.html",
        {"pipelines": pipelines.list_pipelines(ctx), "pipeline_url": pipeline_url},
    )


@router.get("/pipelines/{name}", response_class=HTMLResponse)
def pipeline_page(request: Request, name: str, ctx: Context = Depends(context)) -> Response:
    p = pipelines.get_pipeline(ctx, name)
    return render(
        request,
        "pipeline.html",
        {
            "p": p,
            "graph": _dag(p, p.last_run),
            "states": {s.step: s for s in p.last_run.steps} if p.last_run else {},
            "can_run": allowed(ctx.actor, Action.WRITE_DATA),
            "runs": pipelines.list_runs(ctx, name, limit=50),
            "decisions": pipelines.decisions(ctx, name, limit=100),
            "pipeline_url": pipeline_url,
            "run_url": run_url,
        },
    )


@router.post("/pipelines/{name}/run")
def pipeline_run_now(
    name: str, reason: str = Form(""), ctx: Context = Depends(context)
) -> Response:
    # `context` checked CSRF: this is a cookie-authenticated POST.
    retrain.request_run(ctx, name, reason.strip())
    return RedirectResponse(pipeline_url(name) + "#history", status_code=303)


@router.get("/pipelines/{name}/runs/{run_id}", response_class=HTMLResponse)
def pipeline_run_page(
    request: Request, name: str, run_id: int, ctx: Context = Depends(context)
) -> Response:
    run = pipelines.get_run(ctx, run_id)
    p = pipelines.get_pipeline(ctx, run.pipeline)
    return render(
        request,
        "pipeline_run.html",
        {"p": p, "run": run, "graph": _dag(p, run), "pipeline_url": pipeline_url},
    )
