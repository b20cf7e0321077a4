"""Pipelines: register them, run them, explain their status, list their history.

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

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.errors import NotFound
from mlgrove.pipelines import engine
from mlgrove.pipelines.engine import StepResult
from mlgrove.pipelines.executors import open_executor
from mlgrove.pipelines.fingerprint import Fingerprint, plain
from mlgrove.pipelines.graph import Pipeline, load
from mlgrove.services import audit, lineage
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.pipeline_backend import WorkspaceBackend
from mlgrove.services.pipeline_records import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    StepStatusInfo,
    decision_info,
    pipeline_info,
    run_info,
)
from mlgrove.store.models import DatasetRow, DatasetVersionRow, ProjectRow
from mlgrove.store.models.pipelines import (
    PipelineDecisionRow,
    PipelineRow,
    PipelineRuleRow,
    PipelineRunRow,
    PipelineStepRunRow,
)


def pipeline_node(run_id: int) -> tuple[str, str]:
    return ("pipeline_run", str(run_id))


def _shape(p: Pipeline) -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "upstream": p.upstream[n],
            "datasets": {k: v.label for k, v in p.by_name[n].datasets.items()},
            "params": sorted(
                k
                for k in p.by_name[n].defaults
                if k not in p.by_name and k not in p.by_name[n].datasets
            ),
        }
        for n in p.order
    ]


def _latest_number(s: Session, project_id: int, dataset: str) -> int | None:
    ds = ds_service.find_dataset_row(s, project_id, dataset)
    if ds is None:
        return None
    latest = ds_service.latest_version_row(s, ds.id)
    return latest.number if latest else None


def sync(s: Session, ctx: Context, p: Pipeline, project: str | None) -> PipelineRow:
    """Create or update the pipeline's row and its retrain rules from its definition.

    A rule that is still declared keeps its state; a new dataset rule starts watching
    from the dataset's current latest version (it retrains on what comes next).
    """
    proj = ds_service.resolve_project(s, ctx, project, create=True)
    row = s.scalar(select(PipelineRow).where(PipelineRow.name == p.name))
    promotion = (
        {
            "metric": p.promotion.metric,
            "margin": p.promotion.margin,
            "higher_is_better": p.promotion.higher_is_better,
        }
        if p.promotion
        else None
    )
    if row is None:
        row = PipelineRow(project_id=proj.id, name=p.name, created_by=ctx.actor_label)
        s.add(row)
        audit.record(s, ctx.actor_label, "pipeline.register", f"pipeline:{p.name}", p.path or "")
    row.project_id = proj.id
    row.path = p.path or row.path or ""
    row.description = p.description
    row.steps = _shape(p)
    row.promotion = promotion
    row.updated_at = utcnow()
    s.flush()
    existing = {
        (r.kind, tuple(sorted(r.spec.items()))): r
        for r in s.scalars(select(PipelineRuleRow).where(PipelineRuleRow.pipeline_id == row.id))
    }
    declared = set()
    for rule in p.retrain:
        spec = {
            k: v
            for k, v in {
                "dataset": rule.dataset,
                "min_added_rows": rule.min_added_rows,
                "min_changed_pct": rule.min_changed_pct,
                "split_changed": rule.split_changed,
                "cron": rule.cron,
            }.items()
            if v is not None
        }
        ident = (rule.kind, tuple(sorted(spec.items())))
        declared.add(ident)
        if ident in existing:
            continue
        baseline = _latest_number(s, proj.id, rule.dataset) if rule.dataset else None
        s.add(
            PipelineRuleRow(
                pipeline_id=row.id,
                kind=rule.kind,
                spec=spec,
                description=rule.describe(),
                trained_version=baseline,
                seen_version=baseline,
                last_fired_at=utcnow() if rule.kind == "schedule" else None,
            )
        )
    gone = [r.id for ident, r in existing.items() if ident not in declared]
    if gone:
        s.execute(delete(PipelineRuleRow).where(PipelineRuleRow.id.in_(gone)))
    s.flush()
    return row


def register(ctx: Context, path: str, *, project: str | None = None) -> PipelineInfo:
    """Record the pipeline at ``module:attr`` (its shape and retrain rules) by name."""
    ctx.require(Action.WRITE_DATA)
    p = load(path, fresh=True)
    with ctx.db.write() as s:
        row = sync(s, ctx, p, project)
        return _info(s, row)


def _pipeline_row(s: Session, name: str) -> PipelineRow:
    row = s.scalar(select(PipelineRow).where(PipelineRow.name == name))
    if row is None:
        raise NotFound(
            f"no pipeline named {name!r}",
            hint="run it once, or `mlgrove pipeline register module:attr`",
        )
    return row


def _info(s: Session, row: PipelineRow) -> PipelineInfo:
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
    last_info = run_info(last, row.name, _step_rows(s, last.id)) if last else None
    project = s.get_one(ProjectRow, row.project_id).name
    return pipeline_info(row, project, rules, last_info)


def _step_rows(s: Session, run_id: int) -> list[PipelineStepRunRow]:
    """A run's steps in the pipeline's order (they are written in the order they end)."""
    rows = list(
        s.scalars(
            select(PipelineStepRunRow)
            .where(PipelineStepRunRow.run_id == run_id)
            .order_by(PipelineStepRunRow.id)
        )
    )
    run = s.get_one(PipelineRunRow, run_id)
    shape = s.get_one(PipelineRow, run.pipeline_id).steps
    position = {step["name"]: i for i, step in enumerate(shape)}
    return sorted(rows, key=lambda r: position.get(r.step, len(position)))


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
    known: dict[str, str] = {}
    with ctx.db.read() as s:
        row = s.scalar(select(PipelineRow).where(PipelineRow.name == p.name))
        last = last_fingerprints(s, row.id) if row else {}
        if row is not None:
            # What each dataset input was in recent runs, to say "(was reviews/v3:train)".
            for inputs in s.scalars(
                select(PipelineRunRow.inputs)
                .where(PipelineRunRow.pipeline_id == row.id)
                .order_by(PipelineRunRow.id.desc())
                .limit(50)
            ):
                for pin in dict(inputs).values():
                    known.setdefault(str(pin.get("address")), str(pin.get("version")))
    found = engine.status(
        p, WorkspaceBackend(ctx, project), params=params, last=last, known_inputs=known
    )
    return [StepStatusInfo(st.step, st.fresh, list(st.reasons), st.key) for st in found]


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
    with ctx.db.write() as s:
        prow = sync(s, ctx, p, project)
        pipeline_id, project_name = prow.id, s.get_one(ProjectRow, prow.project_id).name
    with open_executor(executor, jobs=jobs) as ex:
        with ctx.db.write() as s:
            rrow = PipelineRunRow(
                pipeline_id=pipeline_id,
                status="running",
                trigger=trigger,
                reason=reason or ("run by hand" if trigger == "manual" else ""),
                executor=ex.name,
                params=engine_params(given),
                forced=forced,
                inputs={
                    ref.label: {
                        "version": r.label,
                        "version_id": r.version_id,
                        "address": r.address,
                    }
                    for ref, r in pins.items()
                },
                steps_total=len(p.order),
                started_by=ctx.actor_label,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
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
        log = _StepLog(ctx, run_id)
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
            _finish(ctx, run_id, log, error=f"the run stopped: {type(exc).__name__}: {exc}")
            raise
    made = pipeline_outputs.record(ctx, p, run_id, project_name, results, pins)
    info = _finish(ctx, run_id, log, tracking_run_id=made.tracking_run_id)
    for model_version, test_set in made.models:
        retrain.consider_promotion(
            ctx, p, pipeline_id, run_id, model_version, test_set, project_name
        )
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def reap_dead_runs(ctx: Context) -> list[int]:
    """Mark ``failed`` the runs still ``running`` whose process on this host is gone
    (killed, out of memory, power loss): their finished steps stay recorded and cached.
    Runs on other hosts are left alone: only their own host can tell."""
    host = socket.gethostname()[:255]
    with ctx.db.read() as s:
        running = s.execute(
            select(PipelineRunRow.id, PipelineRunRow.pid).where(
                PipelineRunRow.status == "running", PipelineRunRow.host == host
            )
        ).all()
    dead = [run_id for run_id, pid in running if pid is not None and not _alive(pid)]
    if not dead:
        return []
    with ctx.db.write() as s:
        for run_id in dead:
            row = s.get_one(PipelineRunRow, run_id)
            if row.status != "running":
                continue
            row.status = "failed"
            row.ended_at = utcnow()
            row.error = f"the process running it (pid {row.pid} on {host}) stopped before it ended"
            row.steps_failed = sum(
                1
                for status in s.scalars(
                    select(PipelineStepRunRow.status).where(PipelineStepRunRow.run_id == run_id)
                )
                if status == "failed"
            )
    return dead


def engine_params(given: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in given.items()}


def _step_row(run_id: int, r: StepResult) -> dict[str, Any]:
    fp = r.fingerprint
    return {
        "run_id": run_id,
        "step": r.step,
        "status": r.status,
        "cache_key": fp.key if fp else None,
        "code_hash": fp.code if fp else None,
        "input_addresses": dict(fp.inputs) if fp else {},
        "params": dict(fp.params) if fp else {},
        "env_hash": fp.env if fp else None,
        "output_address": r.output,
        "attempts": r.attempts,
        "seconds": r.seconds,
        "error": r.error or None,
        "traceback": r.traceback or None,
    }


class _StepLog:
    """Step results, recorded as they come: a step that ran is written at once (a long
    run shows its progress, and a run that dies keeps what it did); cache hits and skips
    wait for the next write, so a cached run writes all its steps in one INSERT."""

    def __init__(self, ctx: Context, run_id: int) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self.pending: list[StepResult] = []
        self.seen: dict[str, StepResult] = {}

    def __call__(self, result: StepResult) -> None:
        self.pending.append(result)
        self.seen[result.step] = result
        if result.status in ("succeeded", "failed"):
            with self.ctx.db.write() as s:
                self.flush(s)

    def flush(self, s: Session) -> None:
        if self.pending:
            s.execute(insert(PipelineStepRunRow), [_step_row(self.run_id, r) for r in self.pending])
            self.pending = []


def _finish(
    ctx: Context,
    run_id: int,
    log: _StepLog,
    *,
    error: str | None = None,
    tracking_run_id: int | None = None,
) -> PipelineRunInfo:
    results = log.seen
    failed = [r for r in results.values() if r.status == "failed"]
    with ctx.db.write() as s:
        rrow = s.get_one(PipelineRunRow, run_id)
        log.flush(s)
        rrow.steps_cached = sum(r.status == "cached" for r in results.values())
        rrow.steps_failed = len(failed)
        rrow.tracking_run_id = tracking_run_id
        rrow.ended_at = utcnow()
        if error or failed:
            rrow.status = "failed"
            rrow.error = error or failed[0].error
        else:
            rrow.status = "succeeded"
        prow = s.get_one(PipelineRow, rrow.pipeline_id)
        audit.record(
            s,
            ctx.actor_label,
            "pipeline.run",
            f"pipeline_run:{run_id}",
            f"{prow.name}: {rrow.status}, {rrow.steps_cached}/{rrow.steps_total} cached",
        )
        s.flush()
        return run_info(rrow, prow.name, _step_rows(s, run_id))


# -- reading ---------------------------------------------------------------------------


def list_pipelines(ctx: Context) -> list[PipelineInfo]:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        return [_info(s, r) for r in s.scalars(select(PipelineRow).order_by(PipelineRow.name))]


def get_pipeline(ctx: Context, name: str) -> PipelineInfo:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        return _info(s, _pipeline_row(s, name))


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
        return run_info(rrow, prow.name, _step_rows(s, run_id))


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


def dataset_label(s: Session, version_id: int) -> str:
    v = s.get_one(DatasetVersionRow, version_id)
    return f"{s.get_one(DatasetRow, v.dataset_id).name}/v{v.number}"
