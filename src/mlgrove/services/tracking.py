"""Runs: start and end them, log params, tags, metric batches and artifacts, list them.

The SDK buffers metric points and hands them here in batches of columns
(``domain/metric_batch.py``): each batch is checked as a whole, so a bad value rejects
it before anything is stored, and then written below the ORM (``store/repos/metrics.py``). Registered models live in ``registry.py``, evaluations in
``evaluations.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain import tracking as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.metric_batch import MetricBatch, check_columns
from mlgrove.domain.tracking import MetricPoint, Run, RunArtifact, RunInput, RunStatus
from mlgrove.errors import Conflict, InvalidInput, NotFound
from mlgrove.services import audit, lineage, objects, run_queries, splits
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.store.models import (
    DatasetRow,
    DatasetVersionRow,
    LineageEdgeRow,
    MetricRow,
    ProjectRow,
    RunArtifactRow,
    RunRow,
)
from mlgrove.store.repos import metrics as metric_rows

#: Rows per ORM INSERT for callers that still write ``MetricRow`` dicts (the MLflow import).
INSERT_ROWS = 5000


def run_node(run_id: int) -> tuple[str, str]:
    return ("run", str(run_id))


def run_value(row: RunRow, project: str) -> Run:
    return Run(
        id=row.id,
        project=project,
        name=row.name,
        status=RunStatus(row.status),
        params=dict(row.params),
        tags=dict(row.tags),
        author=row.author,
        started_at=row.started_at,
        ended_at=row.ended_at,
        git_commit=row.git_commit,
        git_dirty=row.git_dirty,
        python_version=row.python_version,
        packages=dict(row.packages),
        error=row.error,
    )


def run_row(session: Session, run_id: int) -> RunRow:
    row = session.get(RunRow, run_id)
    if row is None:
        raise NotFound(f"no run {run_id}", hint="`mlgrove runs list` shows them")
    return row


def _running(session: Session, run_id: int) -> RunRow:
    row = run_row(session, run_id)
    if row.status != RunStatus.RUNNING:
        raise Conflict(
            f"run {run_id} is {row.status}: it takes no more params, metrics or artifacts",
            hint="start a new run",
        )
    return row


def _project_name(session: Session, project_id: int) -> str:
    return session.get_one(ProjectRow, project_id).name


def start_run(
    ctx: Context,
    project: str | None = None,
    name: str | None = None,
    *,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
) -> Run:
    """A new run in status ``running``. ``environment`` holds what the SDK found about
    where it runs: ``git_commit``, ``git_dirty``, ``python_version``, ``packages``."""
    ctx.require(Action.WRITE_DATA)
    clean_params = rules.text_values(params or {}, "param")
    clean_tags = rules.text_values(tags or {}, "tag")
    if name is not None and (not name.strip() or len(name) > 200):
        raise InvalidInput("a run name needs 1-200 characters")
    env = environment or {}
    with ctx.db.write() as s:
        proj = ds_service.resolve_project(s, ctx, project, create=True)
        row = RunRow(
            project_id=proj.id,
            name=name or "",
            status=RunStatus.RUNNING.value,
            params=clean_params,
            tags=clean_tags,
            author=ctx.actor_label,
            started_at=utcnow(),
            git_commit=env.get("git_commit"),
            git_dirty=env.get("git_dirty"),
            python_version=str(env.get("python_version", ""))[:40],
            packages={str(k): str(v) for k, v in dict(env.get("packages", {})).items()},
        )
        s.add(row)
        s.flush()
        if not row.name:
            row.name = f"run-{row.id}"
        # Searchable params and tags (run_queries.py), in the same transaction.
        run_queries.record_texts(s, row, "param", clean_params)
        run_queries.record_texts(s, row, "tag", clean_tags)
        return run_value(row, proj.name)


def log_metrics_batch(ctx: Context, run_id: int, points: Sequence[MetricPoint]) -> int:
    """Store a batch of points in one transaction (see :func:`log_batch`)."""
    ctx.require(Action.WRITE_DATA)
    return log_batch(ctx, run_id, MetricBatch.of_points(points))


def log_batch(ctx: Context, run_id: int, batch: MetricBatch) -> int:
    """Store a batch of points (as columns) in one transaction: checked first as a whole
    (the first bad point, by index, rejects it all), then appended below the ORM, and
    each key's newest point made the run's latest value for the runs search."""
    ctx.require(Action.WRITE_DATA)
    # Checked again even when it comes from the SDK, which checked it: it is a few
    # C-speed passes over the columns, and a hand-made batch gets the same rules.
    batch = check_columns(batch.keys, batch.values, batch.steps, batch.times_us)
    if not len(batch):
        return 0
    with ctx.db.write() as s:
        run = _running(s, run_id)
        metric_rows.insert_points(s, run_id, batch)
        # The runs table filters and sorts on each run's latest values (run_queries.py).
        run_queries.record_batch(s, run, batch)
    return len(batch)


def _merge(
    current: dict[str, str], new: dict[str, str], what: str, run_id: int, *, overwrite: bool
) -> dict[str, str]:
    if not overwrite:
        changed = [k for k, v in new.items() if k in current and current[k] != v]
        if changed:
            raise Conflict(
                f"run {run_id} already has {what} {changed[0]!r} = {current[changed[0]]!r}",
                hint=f"a run's {what}s are fixed once logged; start a new run to change one",
            )
    return {**current, **new}


def log_params(ctx: Context, run_id: int, params: dict[str, Any]) -> Run:
    """Add params; logging a param again with a different value is refused."""
    ctx.require(Action.WRITE_DATA)
    clean = rules.text_values(params, "param")
    with ctx.db.write() as s:
        row = _running(s, run_id)
        row.params = _merge(dict(row.params), clean, "param", run_id, overwrite=False)
        run_queries.record_texts(s, row, "param", clean)
        return run_value(row, _project_name(s, row.project_id))


def set_tags(ctx: Context, run_id: int, tags: dict[str, Any]) -> Run:
    """Add or change tags. Tags stay editable after the run ends (they describe it)."""
    ctx.require(Action.WRITE_DATA)
    clean = rules.text_values(tags, "tag")
    with ctx.db.write() as s:
        row = run_row(s, run_id)
        row.tags = _merge(dict(row.tags), clean, "tag", run_id, overwrite=True)
        run_queries.record_texts(s, row, "tag", clean)
        return run_value(row, _project_name(s, row.project_id))


def log_artifact(ctx: Context, run_id: int, path: Path, name: str | None = None) -> RunArtifact:
    """Store a file in the object store and record it as the run's artifact ``name``."""
    ctx.require(Action.WRITE_DATA)
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"artifact {path} does not exist", hint="check the path")
    if not path.is_file():
        raise InvalidInput(f"artifact {path} is not a file", hint="log the files in it one by one")
    label = name or path.name
    if not label or len(label) > 500:
        raise InvalidInput("an artifact name needs 1-500 characters")
    with ctx.db.read() as s:
        _running(s, run_id)  # fail before copying bytes
    stored = ctx.objects.put_file(path)
    with ctx.db.write() as s:
        _running(s, run_id)
        existing = s.scalar(
            select(RunArtifactRow).where(
                RunArtifactRow.run_id == run_id, RunArtifactRow.path == label
            )
        )
        if existing is not None:
            raise Conflict(
                f"run {run_id} already has an artifact named {label!r}",
                hint="give this one another name",
            )
        objects.register(s, stored, "artifact")
        row = RunArtifactRow(run_id=run_id, path=label, address=stored.address, size=stored.size)
        s.add(row)
        lineage.record(
            s, run_node(run_id), "output", ("object", stored.address), {"artifact": label}
        )
        s.flush()
        return RunArtifact(
            path=label, address=stored.address, size=stored.size, created_at=row.created_at
        )


def use_dataset(
    ctx: Context,
    run_id: int,
    name: str,
    version: str = "latest",
    split: str | None = None,
    project: str | None = None,
) -> RunInput:
    """Record that the run read a dataset version (one split of it, if named)."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        run = _running(s, run_id)
        proj_name = project or _project_name(s, run.project_id)
        ds, _ = ds_service.dataset_row(s, ctx, proj_name, name)
        v = ds_service.version_row(s, ds, version)
        if split is not None:
            check_split(s, v, split)
        detail: dict[str, Any] = {"dataset": ds.name, "version": v.number, "split": split}
        lineage.record(s, ("dataset_version", str(v.id)), "input", run_node(run_id), detail)
        return RunInput(
            dataset=ds.name, version=v.number, version_id=v.id, address=v.address, split=split
        )


def check_split(session: Session, version: DatasetVersionRow, split: str) -> None:
    current = splits.current(session, version.id)
    names = sorted((current.counts if current else {}).keys())
    if split not in names:
        dataset = session.get_one(DatasetRow, version.dataset_id)
        where = f"{dataset.name}/v{version.number}"
        raise NotFound(
            f"{where} has no split {split!r}"
            + (f" (it has {', '.join(names)})" if names else " (it is not split)"),
            hint=f"`mlgrove data split {dataset.name} v{version.number}` assigns splits",
        )


def end_run(
    ctx: Context,
    run_id: int,
    status: RunStatus | str = RunStatus.FINISHED,
    error: str | None = None,
) -> Run:
    """Mark a running run finished, failed or killed; ending it twice is refused."""
    ctx.require(Action.WRITE_DATA)
    final = RunStatus(status)
    if final is RunStatus.RUNNING:
        raise InvalidInput("a run ends as finished, failed or killed")
    with ctx.db.write() as s:
        row = _running(s, run_id)
        row.status = final.value
        row.ended_at = utcnow()
        row.error = error[:10_000] if error else None
        if final is not RunStatus.FINISHED:
            audit.record(s, ctx.actor_label, "run.end", f"run:{run_id}", final.value)
        return run_value(row, _project_name(s, row.project_id))


def _inputs(session: Session, run_id: int) -> list[RunInput]:
    edges = session.scalars(
        select(LineageEdgeRow)
        .where(
            LineageEdgeRow.to_kind == "run",
            LineageEdgeRow.to_id == str(run_id),
            LineageEdgeRow.relation == "input",
            LineageEdgeRow.from_kind == "dataset_version",
        )
        .order_by(LineageEdgeRow.id)
    ).all()
    found = []
    for e in edges:
        v = session.get(DatasetVersionRow, int(e.from_id))
        if v is None:
            continue
        ds = session.get_one(DatasetRow, v.dataset_id)
        found.append(
            RunInput(
                dataset=ds.name,
                version=v.number,
                version_id=v.id,
                address=v.address,
                split=e.detail.get("split"),
            )
        )
    return found


def latest_metrics(session: Session, run_id: int) -> dict[str, float]:
    newest = (
        select(MetricRow.key, func.max(MetricRow.id).label("id"))
        .where(MetricRow.run_id == run_id)
        .group_by(MetricRow.key)
        .subquery()
    )
    rows = session.execute(
        select(MetricRow.key, MetricRow.value)
        .join(newest, newest.c.id == MetricRow.id)
        .order_by(MetricRow.key)
    ).all()
    return {str(k): float(v) for k, v in rows}


def get_run(ctx: Context, run_id: int) -> Run:
    """One run with its last metric values, inputs and artifacts."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        row = run_row(s, run_id)
        base = run_value(row, _project_name(s, row.project_id))
        artifacts = [
            RunArtifact(path=a.path, address=a.address, size=a.size, created_at=a.created_at)
            for a in s.scalars(
                select(RunArtifactRow)
                .where(RunArtifactRow.run_id == run_id)
                .order_by(RunArtifactRow.id)
            )
        ]
        return dataclasses.replace(
            base, metrics=latest_metrics(s, run_id), inputs=_inputs(s, run_id), artifacts=artifacts
        )


def list_runs(
    ctx: Context,
    project: str | None = None,
    *,
    status: RunStatus | str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Run]:
    """Runs newest first, keyset-paged by id (pass the last id as ``before_id``).

    ``tags`` and ``params`` filter on exact (text) values.
    """
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        proj = ds_service.resolve_project(s, ctx, project)
        query = select(RunRow).where(RunRow.project_id == proj.id)
        if status is not None:
            query = query.where(RunRow.status == RunStatus(status).value)
        for k, v in (tags or {}).items():
            query = query.where(RunRow.tags[k].as_string() == str(v))
        for k, v in (params or {}).items():
            query = query.where(RunRow.params[k].as_string() == str(v))
        if before_id is not None:
            query = query.where(RunRow.id < before_id)
        rows = s.scalars(query.order_by(RunRow.id.desc()).limit(max(1, min(limit, 1000)))).all()
        return [run_value(r, proj.name) for r in rows]


def metric_history(ctx: Context, run_id: int, key: str) -> list[MetricPoint]:
    """Every point of one metric of a run, by step (then by the order they were logged)."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        run_row(s, run_id)
        rows = s.execute(
            select(MetricRow.key, MetricRow.value, MetricRow.step, MetricRow.timestamp)
            .where(MetricRow.run_id == run_id, MetricRow.key == key)
            .order_by(MetricRow.step, MetricRow.id)
        ).all()
    return [MetricPoint(key=k, value=v, step=st, timestamp=ts) for k, v, st, ts in rows]


def metric_keys(ctx: Context, run_id: int) -> list[str]:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        run_row(s, run_id)
        return list(
            s.scalars(
                select(MetricRow.key)
                .where(MetricRow.run_id == run_id)
                .distinct()
                .order_by(MetricRow.key)
            )
        )
