"""Pipelines: register them, run them, explain their status, list their history.

``pipeline_sync.py`` keeps a pipeline's record and rules in step with its definition;
``pipeline_runs.py`` records runs as they go.

A run is recorded as it goes: the pipeline run row first (status ``running``), each
successful step's output in the shared cache as soon as it exists (so a crash or a
failure later loses nothing that succeeded), then the step runs and the outcome in one
transaction at the end. Models and metrics the steps return are recorded by
``pipeline_outputs.py``, promotion decisions by ``retrain.py``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.errors import NotFound
from mlgrove.pipelines import engine
from mlgrove.pipelines.engine import ResolvedInput
from mlgrove.pipelines.executors import open_executor
from mlgrove.pipelines.fingerprint import Fingerprint
from mlgrove.pipelines.graph import Pipeline, load
from mlgrove.pipelines.step import DatasetInput
from mlgrove.services import lineage
from mlgrove.services.context import Context
from mlgrove.services.pipeline_backend import WorkspaceBackend
from mlgrove.services.pipeline_plain import PipelineSpec, engine_params, run_inputs, spec_of
from mlgrove.services.pipeline_records import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    StepStatusInfo,
    decision_info,
    pipeline_info,
    run_info,
)
from mlgrove.services.pipeline_runs import StepLog, finish, reap_dead_runs, step_rows
from mlgrove.services.pipeline_sync import sync
from mlgrove.store.models import ProjectRow
from mlgrove.store.models.pipelines import (
    PipelineDecisionRow,
    PipelineRow,
    PipelineRuleRow,
    PipelineRunRow,
    PipelineStepRunRow,
)


def pipeline_node(run_id: int) -> tuple[str, str]:
    return ("pipeline_run", str(run_id))


def register(ctx: Context, path: str, *, project: str | None = None) -> PipelineInfo:
    """Record the pipeline at ``module:attr`` (its shape and retrain rules) by name."""
    ctx.require(Action.WRITE_DATA)
    p = load(path, fresh=True)
    with ctx.db.write() as s:
        row = sync(s, ctx, spec_of(p), project)
        return record_info(s, row)


def _pipeline_row(s: Session, name: str) -> PipelineRow:
    row = s.scalar(select(PipelineRow).where(PipelineRow.name == name))
    if row is None:
        raise NotFound(
            f"no pipeline named {name!r}",
            hint="run it once, or `mlgrove pipeline register module:attr`",
        )
    return row


def record_info(s: Session, row: PipelineRow) -> PipelineInfo:
    """A pipeline's record as a value: its rules and its last run with its steps."""
    rules = list(
        s.scalars(
            select(PipelineRuleRow)
            .where(PipelineRuleRow.pipeline_id == row.id)
            .order_by(PipelineRuleRow.id)
        )
    )
    last = s.scalar(
        select(PipelineRunRow)
        .where(PipelineRunRow.pipeline_id == row.id)
        .order_by(PipelineRunRow.id.desc())
        .limit(1)
    )
    last_info = run_info(last, row.name, step_rows(s, last.id)) if last else None
    project = s.get_one(ProjectRow, row.project_id).name
    return pipeline_info(row, project, rules, last_info)


def last_fingerprints(s: Session, pipeline_id: int) -> dict[str, Fingerprint]:
    """Each step's fingerprint from its newest successful (or cached) run."""
    found: dict[str, Fingerprint] = {}
    rows = s.scalars(
        select(PipelineStepRunRow)
        .join(PipelineRunRow, PipelineRunRow.id == PipelineStepRunRow.run_id)
        .where(
            PipelineRunRow.pipeline_id == pipeline_id,
            PipelineStepRunRow.status.in_(("succeeded", "cached")),
        )
        .order_by(PipelineStepRunRow.id.desc())
        .limit(5000)
    )
    for r in rows:
        if r.step not in found and r.code_hash is not None and r.env_hash is not None:
            found[r.step] = Fingerprint(
                code=r.code_hash,
                inputs=dict(r.input_addresses),
                params=dict(r.params),
                env=r.env_hash,
            )
    return found


def history(ctx: Context, name: str) -> tuple[dict[str, Fingerprint], dict[str, str]]:
    """What status needs to say why a step is stale: each step's last fingerprint, and
    what each dataset input address was in recent runs (``reviews/v3:train``)."""
    known: dict[str, str] = {}
    with ctx.db.read() as s:
        row = s.scalar(select(PipelineRow).where(PipelineRow.name == name))
        if row is None:
            return {}, known
        last = last_fingerprints(s, row.id)
        for inputs in s.scalars(
            select(PipelineRunRow.inputs)
            .where(PipelineRunRow.pipeline_id == row.id)
            .order_by(PipelineRunRow.id.desc())
            .limit(50)
        ):
            for pin in dict(inputs).values():
                known.setdefault(str(pin.get("address")), str(pin.get("version")))
    return last, known


def status(
    ctx: Context,
    pipeline: Pipeline | str,
    *,
    project: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[StepStatusInfo]:
    """Each step fresh or stale, and why (code, input, params or environment changed)."""
    ctx.require(Action.VIEW_PROJECTS)
    p = load(pipeline) if isinstance(pipeline, str) else pipeline
    last, known = history(ctx, p.name)
    found = engine.status(
        p, WorkspaceBackend(ctx, project), params=params, last=last, known_inputs=known
    )
    return [StepStatusInfo(st.step, st.fresh, list(st.reasons), st.key) for st in found]


def start_run(
    ctx: Context,
    spec: PipelineSpec,
    project: str | None,
    pins: Mapping[DatasetInput, ResolvedInput],
    *,
    params: Mapping[str, Any],
    forced: list[str],
    executor: str,
    trigger: str = "manual",
    reason: str = "",
    rule_id: int | None = None,
    host: str | None = None,
    pid: int | None = None,
) -> tuple[int, str, int]:
    """Record a run as started, in one transaction: the pipeline's record brought up to
    date, the run (``running``), its inputs' lineage and the trigger decision. Returns
    the pipeline's id, its project's name and the run's id. ``host`` and ``pid`` name
    the process that runs the steps (default: this one)."""
    with ctx.db.write() as s:
        prow = sync(s, ctx, spec, project)
        pipeline_id, project_name = prow.id, s.get_one(ProjectRow, prow.project_id).name
        rrow = PipelineRunRow(
            pipeline_id=pipeline_id,
            status="running",
            trigger=trigger,
            reason=reason or ("run by hand" if trigger == "manual" else ""),
            executor=executor,
            params=engine_params(params),
            forced=forced,
            inputs=run_inputs(pins),
            steps_total=len(spec.steps),
            started_by=ctx.actor_label,
            host=(host if host is not None else socket.gethostname())[:255],
            pid=pid if host is not None else os.getpid(),
        )
        s.add(rrow)
        s.flush()
        run_id = rrow.id
        for ref, r in pins.items():
            if r.version_id is not None:
                lineage.record(
                    s,
                    ("dataset_version", str(r.version_id)),
                    "input",
                    pipeline_node(run_id),
                    {"dataset": ref.dataset, "split": ref.split},
                )
        s.add(
            PipelineDecisionRow(
                pipeline_id=pipeline_id,
                rule_id=rule_id,
                run_id=run_id,
                kind="trigger",
                outcome="ran",
                reason=rrow.reason,
                detail={"trigger": trigger, "forced": forced},
                actor=ctx.actor_label,
            )
        )
    return pipeline_id, project_name, run_id


def run(
    ctx: Context,
    pipeline: Pipeline | str,
    *,
    project: str | None = None,
    params: Mapping[str, Any] | None = None,
    force: Iterable[str] = (),
    executor: str = "local",
    jobs: int | None = None,
    retries: int | None = None,
    trigger: str = "manual",
    reason: str = "",
    rule_id: int | None = None,
) -> PipelineRunInfo:
    """Run a pipeline (or the one at ``module:attr``): cached steps are skipped, stale
    ones run on ``executor``. A failing step does not raise: the returned run says
    ``failed`` and carries the step's error and traceback."""
    from mlgrove.services import pipeline_outputs, retrain

    ctx.require(Action.WRITE_DATA)
    p = load(pipeline) if isinstance(pipeline, str) else pipeline
    given = dict(params or {})
    forced = list(force)
    p.check_params(given)
    p.check_steps(forced)
    backend = WorkspaceBackend(ctx, project)
    pins = engine.resolve_inputs(p, backend)
    reap_dead_runs(ctx)
    with open_executor(executor, jobs=jobs) as ex:
        pipeline_id, project_name, run_id = start_run(
            ctx,
            spec_of(p),
            project,
            pins,
            params=given,
            forced=forced,
            executor=ex.name,
            trigger=trigger,
            reason=reason,
            rule_id=rule_id,
        )
        log = StepLog(ctx, run_id)
        try:
            results = engine.execute(
                p,
                backend,
                ex,
                params=given,
                force=forced,
                retries=retries,
                resolved=pins,
                on_event=log,
            )
        except BaseException as exc:
            finish(ctx, run_id, log, error=f"the run stopped: {type(exc).__name__}: {exc}")
            raise
    made = pipeline_outputs.record(ctx, p, run_id, project_name, results, pins)
    info = finish(ctx, run_id, log, tracking_run_id=made.tracking_run_id)
    for model_version, test_set in made.models:
        retrain.consider_promotion(
            ctx, p, pipeline_id, run_id, model_version, test_set, project_name
        )
    return info


# -- reading ---------------------------------------------------------------------------


def list_pipelines(ctx: Context) -> list[PipelineInfo]:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        return [
            record_info(s, r) for r in s.scalars(select(PipelineRow).order_by(PipelineRow.name))
        ]


def get_pipeline(ctx: Context, name: str) -> PipelineInfo:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        return record_info(s, _pipeline_row(s, name))


def list_runs(
    ctx: Context, name: str, *, limit: int = 50, before_id: int | None = None
) -> list[PipelineRunInfo]:
    """Runs of a pipeline, newest first, keyset-paged by id (without step details)."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        row = _pipeline_row(s, name)
        query = select(PipelineRunRow).where(PipelineRunRow.pipeline_id == row.id)
        if before_id is not None:
            query = query.where(PipelineRunRow.id < before_id)
        rows = s.scalars(query.order_by(PipelineRunRow.id.desc()).limit(max(1, min(limit, 500))))
        return [run_info(r, row.name) for r in rows]


def get_run(ctx: Context, run_id: int) -> PipelineRunInfo:
    """One pipeline run with every step's outcome."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        rrow = s.get(PipelineRunRow, run_id)
        if rrow is None:
            raise NotFound(
                f"no pipeline run {run_id}", hint="`mlgrove pipeline show NAME` lists runs"
            )
        prow = s.get_one(PipelineRow, rrow.pipeline_id)
        return run_info(rrow, prow.name, step_rows(s, run_id))


def decisions(ctx: Context, name: str, *, limit: int = 100) -> list[DecisionInfo]:
    """Why it ran, did not run, promoted or kept a model: newest first."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        row = _pipeline_row(s, name)
        rows = s.scalars(
            select(PipelineDecisionRow)
            .where(PipelineDecisionRow.pipeline_id == row.id)
            .order_by(PipelineDecisionRow.id.desc())
            .limit(max(1, min(limit, 1000)))
        )
        return [decision_info(r, row.name) for r in rows]


__all__ = [
    "decisions",
    "get_pipeline",
    "get_run",
    "history",
    "last_fingerprints",
    "list_pipelines",
    "list_runs",
    "pipeline_node",
    "reap_dead_runs",
    "record_info",
    "register",
    "run",
    "start_run",
    "status",
    "sync",
]
