"""REST endpoints for pipelines: definitions, runs with their steps, decisions, and
asking the worker for a run. Pipelines run in the worker (``mlgrove worker`` or
``serve --worker``), never inside a request."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from mlgrove.server.api.pipeline_schemas import (
    DecisionOut,
    PipelineOut,
    PipelineRunOut,
    RunRequestIn,
)
from mlgrove.server.deps import context
from mlgrove.services import pipelines, retrain
from mlgrove.services.context import Context

router = APIRouter(tags=["pipelines"])


@router.get("/pipelines", response_model=list[PipelineOut])
def list_pipelines(ctx: Context = Depends(context)) -> list[PipelineOut]:
    """Every pipeline, with its retrain rules and last run."""
    return [PipelineOut.of(p) for p in pipelines.list_pipelines(ctx)]


@router.get("/pipelines/{name}", response_model=PipelineOut)
def get_pipeline(name: str, ctx: Context = Depends(context)) -> PipelineOut:
    """One pipeline: its steps (DAG), rules, promotion policy and last run with steps."""
    return PipelineOut.of(pipelines.get_pipeline(ctx, name))


@router.get("/pipelines/{name}/runs", response_model=list[PipelineRunOut])
def list_runs(
    name: str,
    limit: int = Query(50, ge=1, le=500),
    before: int | None = Query(None, description="Only runs with a smaller id (paging)."),
    ctx: Context = Depends(context),
) -> list[PipelineRunOut]:
    """Runs newest first (without their steps: see ``/pipeline-runs/{id}``)."""
    return [
        PipelineRunOut.of(r) for r in pipelines.list_runs(ctx, name, limit=limit, before_id=before)
    ]


@router.post("/pipelines/{name}/runs", response_model=DecisionOut, status_code=202)
def request_run(name: str, body: RunRequestIn, ctx: Context = Depends(context)) -> DecisionOut:
    """Ask the worker to run the pipeline; the answer is the recorded request."""
    return DecisionOut.of(retrain.request_run(ctx, name, body.reason))


@router.get("/pipelines/{name}/decisions", response_model=list[DecisionOut])
def decisions(
    name: str, limit: int = Query(100, ge=1, le=1000), ctx: Context = Depends(context)
) -> list[DecisionOut]:
    """Why it ran or was skipped, and every promotion decision: newest first."""
    return [DecisionOut.of(d) for d in pipelines.decisions(ctx, name, limit=limit)]


@router.get("/pipeline-runs/{run_id}", response_model=PipelineRunOut)
def get_run(run_id: int, ctx: Context = Depends(context)) -> PipelineRunOut:
    """One run with every step: status, cache key, output, attempts, error, traceback."""
    return PipelineRunOut.of(pipelines.get_run(ctx, run_id))
