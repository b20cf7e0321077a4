"""The pipelines part of the SDK: ``grove.pipelines``.

Pipelines run where their code is, on the executor you name: with the embedded client
(a local workspace) everything is local; with a remote client the steps still run here,
while the step cache, the dataset inputs and the records are the server's
(``mlgrove/pipelines/remote.py``), so cached outputs are shared by everyone on it.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from mlgrove.domain.pipelines import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    StepStatusInfo,
)


class Pipelines(abc.ABC):
    """``grove.pipelines``: run, explain, register and list pipelines."""

    @abc.abstractmethod
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
        """Run a :class:`~mlgrove.pipelines.Pipeline` (or ``"module:attr"``): cached steps
        are skipped. A failing step does not raise: the run says ``failed`` and carries
        the step's error and traceback."""

    @abc.abstractmethod
    def status(
        self,
        pipeline: Any,
        *,
        project: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> builtins.list[StepStatusInfo]:
        """Each step fresh or stale, and why, without running anything."""

    @abc.abstractmethod
    def register(self, path: str, *, project: str | None = None) -> PipelineInfo:
        """Record the pipeline at ``module:attr`` and its retrain rules by name."""

    @abc.abstractmethod
    def list(self) -> builtins.list[PipelineInfo]: ...

    @abc.abstractmethod
    def get(self, name: str) -> PipelineInfo: ...

    @abc.abstractmethod
    def runs(
        self, name: str, *, limit: int = 50, before_id: int | None = None
    ) -> builtins.list[PipelineRunInfo]: ...

    @abc.abstractmethod
    def get_run(self, run_id: int) -> PipelineRunInfo: ...

    @abc.abstractmethod
    def decisions(self, name: str, *, limit: int = 100) -> builtins.list[DecisionInfo]:
        """Why it ran or was skipped, and every promotion decision: newest first."""

    @abc.abstractmethod
    def request_run(self, name: str, reason: str = "") -> DecisionInfo:
        """Ask the worker to run the pipeline (it runs on the worker's next check)."""
