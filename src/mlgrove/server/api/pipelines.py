"""REST endpoints for pipelines: definitions, runs with their steps, decisions, and
asking the worker for a run. Pipelines run in the worker (``mlgrove worker`` or
``serve --worker``), never inside a request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from mlgrove.errors import InvalidInput
from mlgrove.server.api.pipeline_schemas import (
    CacheEntryIn,
    DecisionOut,
    DefinitionIn,
    PinOut,
    PipelineOut,
    PipelinePlanIn,
    PipelinePlanOut,
    PipelineRunEndIn,
    PipelineRunOut,
    RunRequestIn,
    StartIn,
    StartOut,
    StepsIn,
)
from mlgrove.server.deps import context
from mlgrove.services import pipeline_remote, pipelines, retrain
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


# -- runs whose steps run on a remote SDK client ------------------------------------------
# The client runs the steps where its code is; keys, cache and records are the server's
# (services/pipeline_remote.py). The server never unpickles an output.


@router.post("/pipelines/{name}/plan", response_model=PipelinePlanOut)
def plan(name: str, body: PipelinePlanIn, ctx: Context = Depends(context)) -> PipelinePlanOut:
    """Dataset inputs pinned, the steps' cache entries and each step's last fingerprint:
    what a client needs to compute every key and say why a step is stale."""
    return PipelinePlanOut.of(
        pipeline_remote.plan(
            ctx, name, body.steps, [r.ref() for r in body.inputs], project=body.project
        )
    )


@router.put("/pipelines/{name}", response_model=PipelineOut)
def register(name: str, body: DefinitionIn, ctx: Context = Depends(context)) -> PipelineOut:
    """Record a pipeline (its shape and retrain rules) by name, from a client's
    description of it: what ``grove.pipelines.register`` does over HTTP."""
    if body.name != name:
        raise InvalidInput(f"the body names pipeline {body.name!r}, the path {name!r}")
    return PipelineOut.of(pipeline_remote.register(ctx, body.spec(), project=body.project))


@router.post("/pipeline-runs", response_model=StartOut, status_code=201)
def start_run(body: StartIn, ctx: Context = Depends(context)) -> StartOut:
    """Record the start of a run whose steps run on the client: the pipeline's record
    brought up to date, its inputs pinned (and returned), the trigger decision."""
    run_id, found = pipeline_remote.start(
        ctx,
        body.spec(),
        [r.ref() for r in body.inputs],
        project=body.project,
        params=body.params,
        forced=body.forced,
        executor=body.executor,
        reason=body.reason,
        host=body.host,
        pid=body.pid,
    )
    return StartOut(run_id=run_id, pins=[PinOut.of(p) for p in found.pins], cache=found.cache)


@router.post("/pipeline-runs/{run_id}/steps", status_code=204)
def add_steps(run_id: int, body: StepsIn, ctx: Context = Depends(context)) -> Response:
    """Record step results of a running run, as they come."""
    pipeline_remote.add_steps(ctx, run_id, [s.model_dump() for s in body.steps])
    return Response(status_code=204)


@router.post("/pipeline-runs/{run_id}/end", response_model=PipelineRunOut)
def end_run(run_id: int, body: PipelineRunEndIn, ctx: Context = Depends(context)) -> PipelineRunOut:
    """End the run (failed if a step failed or ``error`` says why it stopped)."""
    return PipelineRunOut.of(pipeline_remote.end(ctx, run_id, error=body.error))


@router.put("/pipeline-cache/{key}", status_code=204)
def save_cache_entry(key: str, body: CacheEntryIn, ctx: Context = Depends(context)) -> Response:
    """Name an uploaded object (``PUT /objects/{address}``) as a step's output under
    cache ``key``. Saving a key twice is not a conflict: the first one stays."""
    pipeline_remote.cache_save(ctx, body.step, key, body.address)
    return Response(status_code=204)


@router.get(
    "/pipeline-outputs/{address}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def read_output(address: str, ctx: Context = Depends(context)) -> StreamingResponse:
    """A cached step output's bytes (only addresses the step cache names)."""
    fh = pipeline_remote.cache_output(ctx, address)

    def blocks() -> Iterator[bytes]:
        with fh:
            while block := fh.read(1 << 20):
                yield block

    return StreamingResponse(blocks(), media_type="application/octet-stream")
