"""What a pipeline run made, recorded where the rest of Grove looks for it.

Steps that ran in this run (not cache hits) and returned :class:`Metrics` or a
:class:`ModelOutput` get one tracked run for the pipeline run: metrics are logged to
it, each model becomes a new registered version with the alias ``candidate`` and, when
it names its test set, an evaluation on the exact version the run read. A
:class:`DatasetOutput` is committed as a new dataset version (source ``pipeline``) with
an ``output`` lineage edge from the pipeline run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlgrove.domain.clock import utcnow
from mlgrove.domain.datasets import VersionSource
from mlgrove.domain.tracking import MetricPoint, ModelVersion, RunStatus
from mlgrove.pipelines.engine import ResolvedInput, StepResult
from mlgrove.pipelines.graph import Pipeline
from mlgrove.pipelines.outputs import DatasetOutput, Metrics, ModelOutput
from mlgrove.pipelines.step import DatasetInput
from mlgrove.services import evaluations, lineage, registry, table_commit, tracking
from mlgrove.services.context import Context
from mlgrove.services.pipeline_backend import WorkspaceBackend

CANDIDATE = "candidate"


@dataclass
class Made:
    tracking_run_id: int | None = None
    #: (model version, its test set as "dataset/vN:split" or None)
    models: list[tuple[ModelVersion, str | None]] = field(default_factory=list)
    #: dataset versions committed from DatasetOutput values ("name/vN")
    datasets: list[str] = field(default_factory=list)


def _commit(
    ctx: Context, p: Pipeline, run_id: int, project: str, step: str, out: DatasetOutput
) -> str:
    version = table_commit.commit(
        ctx,
        out.name,
        out.table,
        project=project,
        key=list(out.key) if out.key else None,
        message=out.message or f"pipeline {p.name} run #{run_id}, step {step}",
        source=VersionSource.PIPELINE,
        lineage_from=[("pipeline_run", str(run_id), "output")],
    )
    return f"{out.name}/v{version.number}"


def _test_set(
    ctx: Context, project: str, ref: DatasetInput, pins: Mapping[DatasetInput, ResolvedInput]
) -> ResolvedInput:
    pinned = next(
        (r for d, r in pins.items() if d.dataset == ref.dataset and d.split == ref.split), None
    )
    return pinned or WorkspaceBackend(ctx, project).resolve(ref)


def record(
    ctx: Context,
    p: Pipeline,
    run_id: int,
    project: str,
    results: Mapping[str, StepResult],
    pins: Mapping[DatasetInput, ResolvedInput],
) -> Made:
    made = Made()
    ran = [r for r in results.values() if r.status == "succeeded"]
    for r in ran:
        if isinstance(r.value, DatasetOutput):
            made.datasets.append(_commit(ctx, p, run_id, project, r.step, r.value))
    wanted = [r for r in ran if isinstance(r.value, Metrics | ModelOutput)]
    if not wanted:
        return made
    run = tracking.start_run(
        ctx,
        project,
        f"{p.name} #{run_id}",
        tags={"pipeline": p.name, "pipeline_run": str(run_id)},
    )
    made.tracking_run_id = run.id
    with ctx.db.write() as s:
        lineage.record(s, ("pipeline_run", str(run_id)), "tracked-as", tracking.run_node(run.id))
    for ref, pin in pins.items():
        version = pin.label.split(":")[0].rsplit("/v", 1)[-1]
        tracking.use_dataset(ctx, run.id, ref.dataset, f"v{version}", ref.split, project)
    now = utcnow()
    for r in wanted:
        value = r.value
        scores = dict(value) if isinstance(value, Metrics) else dict(value.metrics)
        if scores:
            points = [
                MetricPoint(
                    key=f"{r.step}.{k}" if isinstance(value, Metrics) else k,
                    value=v,
                    step=0,
                    timestamp=now,
                )
                for k, v in scores.items()
            ]
            tracking.log_metrics_batch(ctx, run.id, points)
        if isinstance(value, ModelOutput):
            artifact = f"{r.step}/{value.filename}"
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / value.filename
                path.write_bytes(value.data)
                tracking.log_artifact(ctx, run.id, path, artifact)
            mv = registry.register(ctx, value.name, run.id, artifact, project=project)
            registry.set_alias(ctx, value.name, CANDIDATE, str(mv.number), project=project)
            with ctx.db.write() as s:
                lineage.record(
                    s,
                    ("pipeline_run", str(run_id)),
                    "output",
                    ("model_version", str(_version_id(ctx, value.name, mv.number, project))),
                    {"model": value.name, "version": mv.number, "step": r.step},
                )
            test_label = None
            if value.test_set is not None and value.metrics:
                pinned = _test_set(ctx, project, value.test_set, pins)
                number = pinned.label.split(":")[0].rsplit("/v", 1)[-1]
                evaluations.record(
                    ctx,
                    mv.name,
                    value.test_set.dataset,
                    f"v{number}",
                    value.metrics,
                    split=value.test_set.split,
                    project=project,
                )
                test_label = pinned.label
            made.models.append((mv, test_label))
    tracking.end_run(ctx, run.id, RunStatus.FINISHED)
    return made


def _version_id(ctx: Context, model: str, number: int, project: str) -> int:
    with ctx.db.read() as s:
        _, row = registry.resolve_row(s, ctx, f"{model}/v{number}", project)
        return row.id
