"""A re-run with nothing to do, checked and recorded without SQLAlchemy.

Most runs of a pipeline from the command line find every step cached. Such a run still
verifies every step (the engine computes each cache key from code, inputs, params and
environment, and looks it up) and is still recorded (the run, its trigger decision,
every step as ``cached``, the lineage of its dataset inputs, the audit event), but it
needs no object store, no executor and only a dozen plain queries: this module does
exactly that through a bare DBAPI connection (``store/repos/pipeline_noop.py``), in one
transaction, so a fresh ``mlgrove pipeline run`` process does not pay SQLAlchemy's
import and the mapping of every model (about 0.5 s of CPU).

It answers ``None`` whenever the run would be more than that (a stale step, a pipeline
whose record or rules would change, a missing input, params, a dead run to reap,
another database URL...): the caller then takes the full path
(:func:`mlgrove.services.pipelines.run`), which decides and reports as always. Nothing
is written unless the whole run is proven cached.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from mlgrove.config import Settings
from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import LOCAL_ADMIN, Person
from mlgrove.domain.pipelines import PipelineRunInfo, StepRunInfo, StepStatusInfo
from mlgrove.pipelines import engine
from mlgrove.pipelines.engine import ResolvedInput, StepResult
from mlgrove.pipelines.executors.base import Executor, Outcome, Task
from mlgrove.pipelines.fingerprint import Fingerprint, code_hash, env_hash
from mlgrove.pipelines.graph import Pipeline, load
from mlgrove.pipelines.step import DatasetInput
from mlgrove.services.pipeline_plain import (
    engine_params,
    input_label,
    process_alive,
    promotion_spec,
    rule_ident,
    rule_spec,
    run_inputs,
    shape,
    split_address,
    step_row,
)
from mlgrove.store.repos import pipeline_noop as repo
from mlgrove.store.schema import HEAD

__all__ = ["QUICK_EXECUTORS", "cached_run", "cached_status"]

#: Executors whose fully cached run is the same: neither starts anything before a step
#: has to run. (A Dask run connects to its scheduler first: it takes the full path.)
QUICK_EXECUTORS = ("local", "inline")


class _NotNoop(Exception):
    """Some step would have to run: this is no no-op."""


class _QuickBackend:
    """The engine's backend: dataset inputs pinned as ``WorkspaceBackend`` pins them and
    the cache entries read in one query, and nothing else: needing a step's output (to
    run a step below it) or running anything means the run is no no-op."""

    def __init__(self, db: repo.QuickDB, project: int | str | None) -> None:
        self.db = db
        # A project's id, or its name (or None: the only one) to look up when an input
        # needs it, as the full path's backend does.
        self.project = project
        self.known: dict[str, str] = {}

    def _project_id(self) -> int:
        if not isinstance(self.project, int):
            found = repo.project_ids(self.db, self.project)
            if len(found) != 1:
                raise _NotNoop("which project")  # the full path says what is wrong
            self.project = found[0]
        return self.project

    def prefetch(self, steps: Iterable[str]) -> None:
        self.known = repo.cache_addresses(self.db, list(steps))

    def resolve(self, ref: DatasetInput) -> ResolvedInput:
        found = repo.dataset_version(self.db, self._project_id(), ref.dataset, ref.version)
        if found is None:
            raise _NotNoop(f"dataset input {ref.label}")  # the full path says why
        version_id, number, address = found
        if ref.split is not None:
            assignment = repo.split_assignment(self.db, version_id)
            if assignment is None or ref.split not in assignment[1]:
                raise _NotNoop(f"no split {ref.split}")
            address = split_address(address, ref.split, assignment[0])
        return ResolvedInput(
            address=address,
            label=input_label(ref.dataset, number, ref.split),
            version_id=version_id,
        )

    def cache_lookup(self, key: str) -> str | None:
        return self.known.get(key)

    def cache_load(self, address: str) -> bytes:
        raise _NotNoop("a step must run")

    def cache_save(self, step: str, key: str, data: bytes) -> str:
        raise _NotNoop("a step ran")


class _Refuse(Executor):
    def __init__(self, name: str) -> None:
        self.name = name

    def submit(self, task: Task) -> None:
        raise _NotNoop(f"step {task.step} is stale")

    def pending(self) -> int:
        return 0

    def wait(self) -> list[tuple[Task, Outcome]]:
        return []


def cached_run(
    settings: Settings,
    target: str,
    *,
    project: str | None = None,
    reason: str = "",
    executor: str = "local",
    actor: Person = LOCAL_ADMIN,
) -> PipelineRunInfo | None:
    """Run ``target`` (``module:attr`` or a registered pipeline's name) if every step is
    cached, recording it as :func:`~mlgrove.services.pipelines.run` would; ``None`` if
    this cannot be shown here (then nothing was written)."""
    if executor not in QUICK_EXECUTORS or not allowed(actor, Action.WRITE_DATA):
        return None
    db = repo.connect(settings.database_url)
    if db is None:
        return None
    try:
        return _cached_run(db, target, project, reason, executor, actor)
    except _NotNoop:
        return None
    finally:
        db.rollback()  # whatever stopped it, nothing half-written stays (after COMMIT: no-op)
        db.close()


def _load(db: repo.QuickDB, target: str, project: str | None) -> tuple[Pipeline, str | None]:
    if ":" not in target:  # a registered pipeline's name: its recorded path and project
        record = repo.pipeline_record(db, target)
        if record is None or not record["path"]:
            raise _NotNoop("not registered")
        if project is None:
            found = db.rows("SELECT name FROM projects WHERE id = ?", (record["project_id"],))
            project = str(found[0][0]) if found else None
        target = record["path"]
    try:
        p = load(target)
    except Exception as exc:  # the full path reports it, as always
        raise _NotNoop(f"cannot load {target}") from exc
    return p, project


def _record_unchanged(db: repo.QuickDB, p: Pipeline, project: str | None) -> dict[str, Any]:
    """The pipeline's record, if the full path's sync would write nothing to it."""
    record = repo.pipeline_record(db, p.name)
    if record is None:
        raise _NotNoop("first run")
    projects = repo.project_ids(db, project)
    if len(projects) != 1 or projects[0] != record["project_id"]:
        raise _NotNoop("project")
    wanted = {
        "path": p.path or record["path"] or "",
        "description": p.description,
        "steps": shape(p),
        "promotion": promotion_spec(p),
    }
    if any(record[k] != v for k, v in wanted.items()):
        raise _NotNoop("the pipeline's record changes")
    stored = {rule_ident(kind, spec) for kind, spec in repo.rule_specs(db, record["id"])}
    declared = {rule_ident(r.kind, rule_spec(r)) for r in p.retrain}
    if stored != declared:
        raise _NotNoop("retrain rules change")
    return record


def _cached_run(
    db: repo.QuickDB,
    target: str,
    project: str | None,
    reason: str,
    executor: str,
    actor: Person,
) -> PipelineRunInfo:
    if repo.schema_revision(db) != HEAD:
        raise _NotNoop("schema")  # the full path says what to do
    p, project = _load(db, target, project)
    started = utcnow()  # as the full path's clock: from loaded to recorded
    # The parts of every key that need no database, before the write lock is taken.
    for s in p.steps:
        code_hash(s.fn)
        env_hash([*p.env, *s.env])
    host = socket.gethostname()[:255]
    db.begin_write()
    record = _record_unchanged(db, p, project)
    if any(pid is not None and not process_alive(pid) for _, pid in repo.running_runs(db, host)):
        raise _NotNoop("a dead run to reap")
    backend = _QuickBackend(db, int(record["project_id"]))
    pins = engine.resolve_inputs(p, backend)
    results: list[StepResult] = []
    engine.execute(p, backend, _Refuse(executor), resolved=pins, on_event=results.append)
    if len(results) != len(p.order) or any(r.status != "cached" for r in results):
        raise _NotNoop("not every step cached")
    ended = utcnow()
    why = reason or "run by hand"
    run = {
        "pipeline_id": record["id"],
        "status": "succeeded",
        "trigger": "manual",
        "reason": why,
        "executor": executor,
        "params": engine_params({}),
        "forced": [],
        "inputs": run_inputs(pins),
        "steps_total": len(p.order),
        "steps_cached": len(results),
        "steps_failed": 0,
        "error": None,
        "started_by": actor.username,
        "started_at": started,
        "ended_at": ended,
        "host": host,
        "pid": os.getpid(),
    }
    run_id = repo.insert_run(db, run)
    for ref, pin in pins.items():
        if pin.version_id is not None:
            repo.insert_lineage(
                db,
                ("dataset_version", str(pin.version_id)),
                "input",
                ("pipeline_run", str(run_id)),
                {"dataset": ref.dataset, "split": ref.split},
                started,
            )
    repo.insert_decision(
        db,
        {
            "pipeline_id": record["id"],
            "rule_id": None,
            "run_id": run_id,
            "kind": "trigger",
            "outcome": "ran",
            "reason": why,
            "detail": {"trigger": "manual", "forced": []},
            "actor": actor.username,
        },
        started,
    )
    rows = [step_row(run_id, r) for r in results]
    repo.insert_steps(db, rows, ended)
    repo.insert_audit(
        db,
        actor.username,
        "pipeline.run",
        f"pipeline_run:{run_id}",
        f"{p.name}: succeeded, {len(results)}/{len(p.order)} cached",
        ended,
    )
    db.commit()
    return PipelineRunInfo(
        id=run_id,
        pipeline=p.name,
        status="succeeded",
        trigger="manual",
        reason=why,
        executor=executor,
        params=run["params"],
        forced=[],
        inputs=run["inputs"],
        steps_total=len(p.order),
        steps_cached=len(results),
        steps_failed=0,
        tracking_run_id=None,
        error=None,
        started_by=actor.username,
        started_at=started,
        ended_at=ended,
        steps=[
            StepRunInfo(
                step=r["step"],
                status=r["status"],
                cache_key=r["cache_key"],
                output=r["output_address"],
                attempts=r["attempts"],
                seconds=r["seconds"],
                error=r["error"],
                traceback=r["traceback"],
            )
            for r in rows
        ],
    )


def cached_status(
    settings: Settings,
    target: str,
    *,
    project: str | None = None,
    params: Mapping[str, Any] | None = None,
    actor: Person = LOCAL_ADMIN,
) -> list[StepStatusInfo] | None:
    """Each step fresh or stale, and why, as :func:`~mlgrove.services.pipelines.status`
    says it; read only. ``None`` if this cannot be answered here."""
    if not allowed(actor, Action.VIEW_PROJECTS):
        return None
    db = repo.connect(settings.database_url)
    if db is None:
        return None
    try:
        if repo.schema_revision(db) != HEAD:
            return None
        p, project = _load(db, target, project)
        db.begin_read()
        record = repo.pipeline_record(db, p.name)
        last, known = {}, {}
        if record is not None:
            last = {
                step: Fingerprint(code=c, inputs=i, params=pa, env=e)
                for step, (c, i, pa, e) in repo.last_fingerprints(db, record["id"]).items()
            }
            known = repo.known_inputs(db, record["id"])
        found = engine.status(
            p, _QuickBackend(db, project), params=params, last=last, known_inputs=known
        )
        return [StepStatusInfo(st.step, st.fresh, list(st.reasons), st.key) for st in found]
    except _NotNoop:
        return None
    finally:
        db.rollback()
        db.close()
