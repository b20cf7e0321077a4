"""Recording a pipeline run: its step results as they come, its end, and runs whose
process died."""

from __future__ import annotations

import socket

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mlgrove.domain.clock import utcnow
from mlgrove.domain.pipelines import PipelineRunInfo
from mlgrove.pipelines.engine import StepResult
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.services.pipeline_plain import process_alive, step_row
from mlgrove.services.pipeline_records import run_info
from mlgrove.store.models.pipelines import PipelineRow, PipelineRunRow, PipelineStepRunRow


def step_rows(s: Session, run_id: int) -> list[PipelineStepRunRow]:
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
    dead = [run_id for run_id, pid in running if pid is not None and not process_alive(pid)]
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


class StepLog:
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
            s.execute(insert(PipelineStepRunRow), [step_row(self.run_id, r) for r in self.pending])
            self.pending = []


def finish(
    ctx: Context,
    run_id: int,
    log: StepLog,
    *,
    error: str | None = None,
    tracking_run_id: int | None = None,
) -> PipelineRunInfo:
    """End a run: its last step rows, its counts and status (from every step recorded,
    wherever the steps ran), the audit event."""
    with ctx.db.write() as s:
        rrow = s.get_one(PipelineRunRow, run_id)
        log.flush(s)
        outcomes = s.execute(
            select(PipelineStepRunRow.status, PipelineStepRunRow.error)
            .where(PipelineStepRunRow.run_id == run_id)
            .order_by(PipelineStepRunRow.id)
        ).all()
        failed = [e for status, e in outcomes if status == "failed"]
        rrow.steps_cached = sum(status == "cached" for status, _ in outcomes)
        rrow.steps_failed = len(failed)
        rrow.tracking_run_id = tracking_run_id
        rrow.ended_at = utcnow()
        if error or failed:
            rrow.status = "failed"
            rrow.error = error or failed[0]
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
        return run_info(rrow, prow.name, step_rows(s, run_id))
