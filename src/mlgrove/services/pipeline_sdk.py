"""``grove.pipelines`` for the embedded client: the pipeline services, in process."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from mlgrove.client.pipelines import Pipelines
from mlgrove.domain.pipelines import DecisionInfo, PipelineInfo, PipelineRunInfo, StepStatusInfo
from mlgrove.services import pipelines, retrain
from mlgrove.services.context import Context


class EmbeddedPipelines(Pipelines):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(
        self,
        pipeline: Any,
        *,
        project: str | None = None,
        params: Mapping[str, Any] | None = None,
        force: Iterable[str] = (),
        executor: str = "local",
        jobs: int | None = None,
        retries: int | None = None,
        reason: str = "",
    ) -> PipelineRunInfo:
        return pipelines.run(
            self.ctx,
            pipeline,
            project=project,
            params=params,
            force=force,
            executor=executor,
            jobs=jobs,
            retries=retries,
            reason=reason,
        )

    def status(
        self,
        pipeline: Any,
        *,
        project: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> builtins.list[StepStatusInfo]:
        return pipelines.status(self.ctx, pipeline, project=project, params=params)

    def register(self, path: str, *, project: str | None = None) -> PipelineInfo:
        return pipelines.register(self.ctx, path, project=project)

    def list(self) -> builtins.list[PipelineInfo]:
        return pipelines.list_pipelines(self.ctx)

    def get(self, name: str) -> PipelineInfo:
        return pipelines.get_pipeline(self.ctx, name)

    def runs(
        self, name: str, *, limit: int = 50, before_id: int | None = None
    ) -> builtins.list[PipelineRunInfo]:
        return pipelines.list_runs(self.ctx, name, limit=limit, before_id=before_id)

    def get_run(self, run_id: int) -> PipelineRunInfo:
        return pipelines.get_run(self.ctx, run_id)

    def decisions(self, name: str, *, limit: int = 100) -> builtins.list[DecisionInfo]:
        return pipelines.decisions(self.ctx, name, limit=limit)

    def request_run(self, name: str, reason: str = "") -> DecisionInfo:
        return retrain.request_run(self.ctx, name, reason)
