"""The embedded implementation of ``grove.runs`` and ``grove.models``."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from mlgrove.client import run_env
from mlgrove.client.tracking import (
    FLUSH_INTERVAL,
    FLUSH_POINTS,
    ActiveRun,
    Models,
    RunBackend,
    Runs,
    version_text,
)
from mlgrove.domain.metric_batch import MetricBatch
from mlgrove.domain.run_filter import RunPage
from mlgrove.domain.tracking import (
    AliasEvent,
    Comparison,
    Evaluation,
    MetricPoint,
    Model,
    ModelVersion,
    Run,
    RunArtifact,
    RunInput,
    RunStatus,
)
from mlgrove.services import evaluations, registry, run_artifacts, run_queries, tracking
from mlgrove.services.context import Context


class EmbeddedRunBackend(RunBackend):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def log_metrics(self, run_id: int, batch: MetricBatch) -> None:
        tracking.log_batch(self.ctx, run_id, batch)

    def log_params(self, run_id: int, params: dict[str, Any]) -> None:
        tracking.log_params(self.ctx, run_id, params)

    def set_tags(self, run_id: int, tags: dict[str, Any]) -> None:
        tracking.set_tags(self.ctx, run_id, tags)

    def log_artifact(self, run_id: int, path: str, name: str | None) -> RunArtifact:
        return tracking.log_artifact(self.ctx, run_id, Path(path), name)

    def log_artifact_tree(
        self, run_id: int, path: str, name: str | None
    ) -> builtins.list[RunArtifact]:
        return run_artifacts.log_tree(self.ctx, run_id, Path(path), name)

    def use_dataset(
        self, run_id: int, name: str, version: str, split: str | None, project: str | None
    ) -> RunInput:
        return tracking.use_dataset(self.ctx, run_id, name, version, split, project)

    def end(self, run_id: int, status: RunStatus, error: str | None) -> Run:
        return tracking.end_run(self.ctx, run_id, status, error)


class EmbeddedRuns(Runs):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._backend = EmbeddedRunBackend(ctx)

    def start(
        self,
        project: str | None = None,
        name: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        capture_environment: bool = True,
        flush_interval: float = FLUSH_INTERVAL,
        flush_points: int = FLUSH_POINTS,
    ) -> ActiveRun:
        env = run_env.capture() if capture_environment else {}
        run = tracking.start_run(self.ctx, project, name, params=params, tags=tags, environment=env)
        return ActiveRun(
            self._backend, run, flush_interval=flush_interval, flush_points=flush_points
        )

    def get(self, run_id: int) -> Run:
        return tracking.get_run(self.ctx, run_id)

    def download_artifacts(
        self, run_id: int, dest: str | os.PathLike[str], path: str | None = None
    ) -> builtins.list[Path]:
        return run_artifacts.download(self.ctx, run_id, Path(dest), path)

    def list(
        self,
        project: str | None = None,
        *,
        status: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> builtins.list[Run]:
        return tracking.list_runs(
            self.ctx,
            project,
            status=status,
            tags=tags,
            params=params,
            limit=limit,
            before_id=before_id,
        )

    def metric_history(self, run_id: int, key: str) -> builtins.list[MetricPoint]:
        return tracking.metric_history(self.ctx, run_id, key)

    def search(
        self,
        project: str | None = None,
        filter: str | None = None,
        *,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        return run_queries.search(
            self.ctx, project, filter, order_by=order_by, limit=limit, cursor=cursor
        )


class EmbeddedModels(Models):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(
        self, name: str, run_id: int, artifact: str, *, project: str | None = None
    ) -> ModelVersion:
        return registry.register(self.ctx, name, run_id, artifact, project=project)

    def list(self, project: str | None = None) -> builtins.list[Model]:
        return registry.list_models(self.ctx, project)

    def get(self, name: str, *, project: str | None = None) -> Model:
        return registry.get_model(self.ctx, name, project)

    def resolve(self, ref: str, *, project: str | None = None) -> ModelVersion:
        return registry.resolve(self.ctx, ref, project)

    def set_alias(
        self, name: str, alias: str, version: str | int, *, project: str | None = None
    ) -> AliasEvent | None:
        return registry.set_alias(self.ctx, name, alias, version_text(version), project=project)

    def delete_alias(self, name: str, alias: str, *, project: str | None = None) -> AliasEvent:
        return registry.delete_alias(self.ctx, name, alias, project=project)

    def evaluate(
        self,
        model: str,
        dataset: str,
        version: str | int,
        metrics: dict[str, float],
        *,
        split: str | None = None,
        project: str | None = None,
    ) -> Evaluation:
        return evaluations.record(
            self.ctx, model, dataset, version_text(version), metrics, split=split, project=project
        )

    def evaluations(self, model: str, *, project: str | None = None) -> builtins.list[Evaluation]:
        return evaluations.list_evaluations(self.ctx, model, project)

    def compare(
        self, models: builtins.list[str], *, project: str | None = None, strict: bool = False
    ) -> Comparison:
        return evaluations.compare(self.ctx, models, project=project, strict=strict)
