"""Pipelines run by a remote SDK client: the steps run on the client's machine, where the
code is; the step cache, the dataset inputs and the records are the server's.

So a cached output is shared by everyone on the server, whichever machine made it. The
client asks for a *plan* (inputs pinned, the cache entries of its steps, what status
needs to explain), computes every key with the same engine as an embedded run, then
*starts* a run, sends step results as they come and *finishes* it: the records are
those of an embedded run (``pipelines.start_run`` and ``pipeline_runs.finish`` write
them). Outputs travel as objects (``PUT /objects/{address}``, then :func:`cache_save`);
the server never unpickles them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import insert, select

from mlgrove.domain.authz import Action
from mlgrove.domain.pipelines import PipelineInfo, PipelineRunInfo
from mlgrove.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlgrove.pipelines.engine import ResolvedInput
from mlgrove.pipelines.fingerprint import Fingerprint
from mlgrove.pipelines.graph import RetrainRule
from mlgrove.pipelines.step import DatasetInput
from mlgrove.services import pipelines
from mlgrove.services.context import Context
from mlgrove.services.pipeline_backend import WorkspaceBackend
from mlgrove.services.pipeline_plain import PipelineSpec
from mlgrove.services.pipeline_runs import StepLog, finish, reap_dead_runs
from mlgrove.services.pipeline_sync import sync
from mlgrove.store.models.pipelines import (
    PipelineRow,
    PipelineRunRow,
    PipelineStepCacheRow,
    PipelineStepRunRow,
)
from mlgrove.store.objects import Stored, check_address

__all__ = [
    "Pin",
    "Plan",
    "Ref",
    "add_steps",
    "cache_output",
    "cache_save",
    "end",
    "plan",
    "register",
    "spec",
    "start",
]

STEP_STATUSES = ("cached", "succeeded", "failed", "skipped")


#: A dataset input as a step names it: (dataset, split or None, version: latest, vN...).
Ref = tuple[str, str | None, str]


@dataclass(frozen=True)
class Pin:
    """A dataset input pinned to one version: what the step's key covers."""

    dataset: str
    split: str | None
    version: str  # as the step asked for it
    address: str
    label: str  # the version read: reviews/v3:train
    version_id: int | None

    @property
    def ref(self) -> DatasetInput:
        return DatasetInput(self.dataset, self.split, self.version)

    @property
    def resolved(self) -> ResolvedInput:
        return ResolvedInput(self.address, self.label, self.version_id)


@dataclass(frozen=True)
class Plan:
    """What a client needs to compute its keys and explain its status."""

    pins: list[Pin]
    cache: dict[str, str]  # cache key -> output address, for the pipeline's steps
    last: dict[str, Fingerprint]
    known_inputs: dict[str, str]


def _pins(ctx: Context, project: str | None, refs: Sequence[Ref]) -> list[Pin]:
    backend = WorkspaceBackend(ctx, project)
    found = []
    for dataset, split, version in dict.fromkeys(refs):
        r = backend.resolve(DatasetInput(dataset, split, version))
        # The table reader stays on the server: the client gets the pin only.
        found.append(Pin(dataset, split, version, r.address, r.label, r.version_id))
    return found


def spec(
    *,
    name: str,
    path: str | None,
    description: str,
    steps: list[dict[str, Any]],
    promotion: dict[str, Any] | None,
    retrain: Sequence[Mapping[str, Any]],
) -> PipelineSpec:
    """A pipeline's spec from a client's description of it (checked as a definition is)."""
    if promotion is not None and promotion.get("human_queue") is not None:
        raise InvalidInput(
            "a promotion judged by people needs the pipeline's code on the server",
            hint="run it on the server's worker: grove.pipelines.request_run(name)",
        )
    rules = []
    for rule in retrain:
        try:
            rules.append(RetrainRule(**rule))
        except TypeError as exc:
            raise InvalidInput(f"retrain rule {dict(rule)}: {exc}") from None
    return PipelineSpec(
        name=name,
        path=path,
        description=description,
        steps=steps,
        promotion=promotion,
        retrain=tuple(rules),
    )


def plan(
    ctx: Context,
    name: str,
    steps: Sequence[str],
    refs: Sequence[Ref],
    *,
    project: str | None = None,
) -> Plan:
    """Pin the dataset inputs, read the steps' cache entries and the pipeline's history."""
    ctx.require(Action.VIEW_PROJECTS)
    pins = _pins(ctx, project, refs)
    last, known = pipelines.history(ctx, name)
    cache = WorkspaceBackend(ctx, project).cache_entries(steps)
    return Plan(pins=pins, cache=cache, last=last, known_inputs=known)


def start(
    ctx: Context,
    spec: PipelineSpec,
    refs: Sequence[Ref],
    *,
    project: str | None = None,
    params: Mapping[str, Any] | None = None,
    forced: Sequence[str] = (),
    executor: str,
    reason: str = "",
    host: str,
    pid: int | None,
) -> tuple[int, Plan]:
    """Record the start of a run whose steps run on the client (``host``, ``pid``)."""
    ctx.require(Action.WRITE_DATA)
    steps = [str(s["name"]) for s in spec.steps]
    unknown = sorted(set(forced) - set(steps))
    if unknown:
        raise InvalidInput(f"--force names no step of {spec.name}: {', '.join(unknown)}")
    reap_dead_runs(ctx)
    pins = _pins(ctx, project, refs)
    _, _, run_id = pipelines.start_run(
        ctx,
        spec,
        project,
        {pin.ref: pin.resolved for pin in pins},
        params=dict(params or {}),
        forced=list(forced),
        executor=executor,
        reason=reason,
        host=host,
        pid=pid,
    )
    cache = WorkspaceBackend(ctx, project).cache_entries(steps)
    return run_id, Plan(pins=pins, cache=cache, last={}, known_inputs={})


def register(ctx: Context, spec: PipelineSpec, *, project: str | None = None) -> PipelineInfo:
    """Record the pipeline a client describes (its shape and retrain rules) by name."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        return pipelines.record_info(s, sync(s, ctx, spec, project))


def _running(ctx: Context, run_id: int) -> tuple[PipelineRunRow, list[str]]:
    """The run, if it is still running and this person started it; and its steps."""
    with ctx.db.read() as s:
        run = s.get(PipelineRunRow, run_id)
        if run is None:
            raise NotFound(f"no pipeline run {run_id}")
        if run.started_by != ctx.actor_label:
            raise PermissionDenied(
                f"pipeline run {run_id} was started by {run.started_by}",
                hint="only the person running it records its steps",
            )
        if run.status != "running":
            raise Conflict(f"pipeline run {run_id} has ended ({run.status})")
        shape = s.get_one(PipelineRow, run.pipeline_id).steps
        return run, [str(step["name"]) for step in shape]


def add_steps(ctx: Context, run_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record step results of a running run (each a ``pipeline_step_runs`` row's values
    but ``run_id``), as they come from the client."""
    ctx.require(Action.WRITE_DATA)
    _, steps = _running(ctx, run_id)
    for row in rows:
        if row["step"] not in steps:
            raise InvalidInput(f"pipeline run {run_id} has no step {row['step']!r}")
        if row["status"] not in STEP_STATUSES:
            raise InvalidInput(f"step status {row['status']!r} is not one of {STEP_STATUSES}")
    if rows:
        with ctx.db.write() as s:
            s.execute(insert(PipelineStepRunRow), [{**row, "run_id": run_id} for row in rows])


def end(ctx: Context, run_id: int, *, error: str | None = None) -> PipelineRunInfo:
    """End the run: ``failed`` if a step failed or ``error`` says why it stopped."""
    ctx.require(Action.WRITE_DATA)
    _running(ctx, run_id)
    return finish(ctx, run_id, StepLog(ctx, run_id), error=error)


def cache_output(ctx: Context, address: str) -> IO[bytes]:
    """A cached step output, to read: only addresses the step cache names are served."""
    ctx.require(Action.VIEW_PROJECTS)
    check_address(address)
    with ctx.db.read() as s:
        named = s.scalar(
            select(PipelineStepCacheRow.key).where(PipelineStepCacheRow.address == address).limit(1)
        )
    if named is None:
        raise NotFound(f"no cached step output {address}")
    return ctx.objects.open(address)


def cache_save(ctx: Context, step: str, key: str, address: str) -> None:
    """Name an uploaded object as the output of ``step`` under cache ``key``."""
    ctx.require(Action.WRITE_DATA)
    check_address(key)
    check_address(address)
    if not ctx.objects.exists(address):
        raise NotFound(
            f"object {address} is not on the server", hint="upload it first: PUT /objects/{address}"
        )
    stored = Stored(address=address, size=ctx.objects.size(address), new=False)
    WorkspaceBackend(ctx, None).cache_register(step, key, stored)
