"""Runs, metric batches, artifacts, the model registry and evaluations.

The remote SDK's ``grove.runs`` and ``grove.models`` use only these endpoints. Metric
points arrive in batches (one ``POST /runs/{id}/metrics`` per flush of the SDK's buffer),
as columns (see ``MetricBatchIn``), checked as a whole and written in bulk. Artifacts are uploaded as
objects (``PUT /objects/{address}``) and then registered with the run.

Bodies keep ``NaN`` and ``±Infinity`` as Python's ``json`` writes them, both ways.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from mlgrove.domain.authz import Action
from mlgrove.domain.tracking import RunStatus
from mlgrove.errors import InvalidInput, ObjectMissing
from mlgrove.server.api.datasets import NaNJSONResponse
from mlgrove.server.api.tracking_schemas import (
    AliasEventOut,
    AliasIn,
    ArtifactBatchIn,
    ArtifactIn,
    ComparisonOut,
    EndIn,
    EvaluationIn,
    EvaluationOut,
    InputIn,
    MetricBatchIn,
    MetricBatchOut,
    MetricColumnsOut,
    MetricPointOut,
    ModelOut,
    ModelVersionOut,
    ParamsIn,
    RegisterIn,
    RunArtifactOut,
    RunIn,
    RunInputOut,
    RunOut,
    TagsIn,
)
from mlgrove.server.deps import context
from mlgrove.services import evaluations, registry, run_artifacts, run_queries, tracking
from mlgrove.services.context import Context
from mlgrove.store.objects import check_address

router = APIRouter(tags=["tracking"], default_response_class=NaNJSONResponse)


def _filters(text: str | None, what: str) -> dict[str, str] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(
            f"?{what}= must be a JSON object of exact values",
            hint=f'e.g. ?{what}={{"lr": "0.1"}}',
        )
    return {str(k): str(v) for k, v in value.items()}


# -- runs --------------------------------------------------------------------------------


@router.post("/runs", response_model=RunOut, status_code=201)
def start_run(body: RunIn, ctx: Context = Depends(context)) -> RunOut:
    """Start a run (status ``running``) with its params, tags and environment."""
    run = tracking.start_run(
        ctx,
        body.project,
        body.name,
        params=body.params,
        tags=body.tags,
        environment=body.environment.model_dump(),
    )
    return RunOut.of(run)


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    request: Request,
    response: Response,
    project: str | None = None,
    status: RunStatus | None = None,
    tags: str | None = Query(None, description='Exact tag values as JSON: {"team": "ml"}.'),
    params: str | None = Query(None, description='Exact param values as JSON: {"lr": "0.1"}.'),
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = None,
    filter: str | None = Query(
        None,
        description='The runs filter language: metrics.acc > 0.9 and params.lr = 0.01 and tags.team = "x".',
    ),
    order_by: str | None = Query(
        None, description="FIELD [asc|desc], e.g. metrics.acc desc (default: started desc)."
    ),
    cursor: str | None = Query(None, description="The next page: a previous page's cursor."),
    ctx: Context = Depends(context),
) -> list[RunOut]:
    """Runs newest first, keyset-paged with ``before_id`` (the last id of the page).

    With ``filter``, ``order_by`` or ``cursor`` the runs are searched instead: each carries
    its latest metric values, and when there are more the response has a
    ``Link: <...>; rel="next"`` header and the cursor alone in ``X-Grove-Next-Cursor``.
    """
    if filter is None and order_by is None and cursor is None:
        runs = tracking.list_runs(
            ctx,
            project,
            status=status,
            tags=_filters(tags, "tags"),
            params=_filters(params, "params"),
            limit=limit,
            before_id=before_id,
        )
        return [RunOut.of(r) for r in runs]
    if before_id is not None:
        raise InvalidInput("?before_id= pages the plain list; a search pages with ?cursor=")
    page = run_queries.search(
        ctx,
        project,
        filter,
        order_by=order_by,
        limit=limit,
        cursor=cursor,
        status=status,
        tags=_filters(tags, "tags"),
        params=_filters(params, "params"),
    )
    if page.next_cursor:
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
        response.headers["X-Grove-Next-Cursor"] = page.next_cursor
    return [RunOut.of(r) for r in page.runs]


@router.get("/runs/{run_id}", response_model=RunOut)
def get_run(run_id: int, ctx: Context = Depends(context)) -> RunOut:
    """One run with its last metric values, inputs and artifacts."""
    return RunOut.of(tracking.get_run(ctx, run_id))


@router.post("/runs/{run_id}/metrics", response_model=MetricBatchOut)
def log_metrics(
    run_id: int, body: MetricBatchIn, ctx: Context = Depends(context)
) -> MetricBatchOut:
    """Store a batch of points in one transaction; one bad point rejects the batch (the
    problem's detail names it: ``point 41: ...``). Send either ``points`` (objects) or
    the columns ``keys``, ``values``, ``steps`` and ``timestamps`` (Unix seconds), e.g.
    ``{"keys": ["loss", "loss"], "values": [0.9, 0.8], "steps": [0, 1], "timestamps":
    [1767225600.0, 1767225600.5]}``; at most 100,000 points a request."""
    ctx.require(Action.WRITE_DATA)  # before checking points the service would refuse
    return MetricBatchOut(written=tracking.log_batch(ctx, run_id, body.batch()))


@router.get("/runs/{run_id}/metrics", response_model=list[MetricPointOut] | MetricColumnsOut)
def metric_history(
    run_id: int,
    key: str,
    columns: bool = Query(False, description="answer as columns (values, steps, timestamps)"),
    ctx: Context = Depends(context),
) -> list[MetricPointOut] | Response:
    """Every point of metric ``?key=``, by step: one object per point, or with
    ``?columns=true`` ``{"key", "values", "steps", "timestamps"}`` (Unix seconds), the
    compact form the SDK reads."""
    points = tracking.metric_history(ctx, run_id, key)
    if columns:
        return NaNJSONResponse(MetricColumnsOut.body(key, points))
    return [MetricPointOut.of(p) for p in points]


@router.post("/runs/{run_id}/params", response_model=RunOut)
def log_params(run_id: int, body: ParamsIn, ctx: Context = Depends(context)) -> RunOut:
    """Add params; a param logged again with another value is a 409."""
    return RunOut.of(tracking.log_params(ctx, run_id, body.params))


@router.post("/runs/{run_id}/tags", response_model=RunOut)
def set_tags(run_id: int, body: TagsIn, ctx: Context = Depends(context)) -> RunOut:
    """Add or change tags (also after the run ended)."""
    return RunOut.of(tracking.set_tags(ctx, run_id, body.tags))


@router.post("/runs/{run_id}/artifacts", response_model=RunArtifactOut, status_code=201)
def log_artifact(run_id: int, body: ArtifactIn, ctx: Context = Depends(context)) -> RunArtifactOut:
    """Record an object uploaded with ``PUT /objects/{address}`` as artifact ``name``."""
    ctx.require(Action.WRITE_DATA)  # before copying an object the service would refuse
    check_address(body.address)
    fd, name = tempfile.mkstemp(prefix="grove-artifact-", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with ctx.objects.open(body.address) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            except ObjectMissing:
                raise InvalidInput(
                    f"object {body.address} is not in the store",
                    hint="upload it first with PUT /api/v1/objects/{address}",
                ) from None
        return RunArtifactOut.of(tracking.log_artifact(ctx, run_id, tmp, body.name))
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@router.post("/runs/{run_id}/artifacts/batch", response_model=list[RunArtifactOut], status_code=201)
def log_artifact_batch(
    run_id: int, body: ArtifactBatchIn, ctx: Context = Depends(context)
) -> list[RunArtifactOut]:
    """Record several uploaded objects as artifacts of the run in one transaction: all
    or none (how the SDK logs a folder)."""
    items = [(a.name, a.address) for a in body.artifacts]
    return [RunArtifactOut.of(a) for a in run_artifacts.log_uploaded(ctx, run_id, items)]


@router.get("/runs/{run_id}/artifacts", response_model=list[RunArtifactOut])
def list_artifacts(
    run_id: int, path: str | None = None, ctx: Context = Depends(context)
) -> list[RunArtifactOut]:
    """The run's artifacts: all, or artifact ``path`` and those under ``path/``."""
    return [RunArtifactOut.of(a) for a in run_artifacts.list_artifacts(ctx, run_id, path)]


@router.get(
    "/runs/{run_id}/artifacts/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_artifact(run_id: int, path: str, ctx: Context = Depends(context)) -> Response:
    """The bytes of one artifact file; the ``ETag`` is its BLAKE3 address."""
    artifact, stream = run_artifacts.open_artifact(ctx, run_id, path)

    def blocks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(1 << 20):
                yield block

    return StreamingResponse(
        blocks(),
        media_type="application/octet-stream",
        headers={"Content-Length": str(artifact.size), "ETag": f'"{artifact.address}"'},
    )


@router.post("/runs/{run_id}/inputs", response_model=RunInputOut, status_code=201)
def use_dataset(run_id: int, body: InputIn, ctx: Context = Depends(context)) -> RunInputOut:
    """Record that the run reads a dataset version (and one split of it)."""
    found = tracking.use_dataset(ctx, run_id, body.dataset, body.version, body.split, body.project)
    return RunInputOut.of(found)


@router.post("/runs/{run_id}/end", response_model=RunOut)
def end_run(run_id: int, body: EndIn, ctx: Context = Depends(context)) -> RunOut:
    """End a running run as ``finished``, ``failed`` or ``killed`` (with ``error``)."""
    return RunOut.of(tracking.end_run(ctx, run_id, body.status, body.error))


# -- models ------------------------------------------------------------------------------


@router.get("/models", response_model=list[ModelOut])
def list_models(project: str | None = None, ctx: Context = Depends(context)) -> list[ModelOut]:
    """The project's models with their aliases."""
    return [ModelOut.of(m) for m in registry.list_models(ctx, project)]


@router.get("/models/{name}", response_model=ModelOut)
def get_model(name: str, project: str | None = None, ctx: Context = Depends(context)) -> ModelOut:
    """A model with its versions, aliases and alias history (newest first)."""
    return ModelOut.of(registry.get_model(ctx, name, project))


@router.post("/models/{name}/versions", response_model=ModelVersionOut, status_code=201)
def register_version(
    name: str, body: RegisterIn, ctx: Context = Depends(context)
) -> ModelVersionOut:
    """A new version of model ``name`` (made on first use) from a run's artifact."""
    version = registry.register(ctx, name, body.run_id, body.artifact, project=body.project)
    return ModelVersionOut.of(version)


@router.get("/models/{name}/versions/{version}", response_model=ModelVersionOut)
def resolve_version(
    name: str, version: str, project: str | None = None, ctx: Context = Depends(context)
) -> ModelVersionOut:
    """One version: ``3``, ``v3``, ``latest`` or an alias as ``@production``."""
    if version == "latest":
        ref = name
    elif version.startswith("@"):
        ref = f"{name}{version}"
    else:
        ref = f"{name}/{version}"
    return ModelVersionOut.of(registry.resolve(ctx, ref, project))


@router.put("/models/{name}/aliases/{alias}", response_model=AliasEventOut | None)
def set_alias(
    name: str, alias: str, body: AliasIn, ctx: Context = Depends(context)
) -> AliasEventOut | None:
    """Point ``alias`` at a version; the recorded move, or null when it pointed there."""
    event = registry.set_alias(ctx, name, alias, body.version, project=body.project)
    return AliasEventOut.of(event) if event is not None else None


@router.delete("/models/{name}/aliases/{alias}", response_model=AliasEventOut)
def delete_alias(
    name: str, alias: str, project: str | None = None, ctx: Context = Depends(context)
) -> AliasEventOut:
    """Remove an alias; the removal is recorded like a move."""
    return AliasEventOut.of(registry.delete_alias(ctx, name, alias, project=project))


# -- evaluations -------------------------------------------------------------------------


@router.post("/evaluations", response_model=EvaluationOut, status_code=201)
def record_evaluation(body: EvaluationIn, ctx: Context = Depends(context)) -> EvaluationOut:
    """Record a model version's scores on one dataset version and split."""
    evaluation = evaluations.record(
        ctx,
        body.model,
        body.dataset,
        body.version,
        body.metrics,
        split=body.split,
        project=body.project,
    )
    return EvaluationOut.of(evaluation)


@router.get("/evaluations", response_model=list[EvaluationOut])
def list_evaluations(
    model: str, project: str | None = None, ctx: Context = Depends(context)
) -> list[EvaluationOut]:
    """The evaluations of one model version (``?model=name/v3``), oldest first."""
    return [EvaluationOut.of(e) for e in evaluations.list_evaluations(ctx, model, project)]


@router.get("/evaluations/compare", response_model=ComparisonOut)
def compare(
    model: list[str] = Query(description="Model versions, repeated: ?model=a/v1&model=a/v2"),
    project: str | None = None,
    strict: bool = False,
    ctx: Context = Depends(context),
) -> ComparisonOut:
    """Evaluations side by side, grouped by test set: ``comparable`` false and a
    ``NOT COMPARABLE`` warning when they differ (``strict``: 409 instead)."""
    return ComparisonOut.of(evaluations.compare(ctx, model, project=project, strict=strict))
