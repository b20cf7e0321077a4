"""Pipelines as values: a pipeline's record, its runs and step runs, the decisions of its
retrain rules, and a step's status. What services return and the SDK hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DecisionInfo",
    "PipelineInfo",
    "PipelineRunInfo",
    "RuleInfo",
    "StepRunInfo",
    "StepStatusInfo",
]


@dataclass(frozen=True)
class RuleInfo:
    id: int
    kind: str
    description: str
    enabled: bool
    trained_version: int | None
    seen_version: int | None
    last_fired_at: datetime | None


@dataclass(frozen=True)
class PipelineInfo:
    id: int
    name: str
    project: str
    path: str
    description: str
    #: [{"name": ..., "upstream": [...], "datasets": {param: "reviews:train"}}]
    steps: list[dict[str, Any]]
    promotion: dict[str, Any] | None
    created_by: str
    created_at: datetime
    rules: list[RuleInfo] = field(default_factory=list)
    last_run: PipelineRunInfo | None = None


@dataclass(frozen=True)
class StepRunInfo:
    step: str
    status: str
    cache_key: str | None
    output: str | None
    attempts: int
    seconds: float
    error: str | None
    traceback: str | None


@dataclass(frozen=True)
class PipelineRunInfo:
    id: int
    pipeline: str
    status: str
    trigger: str
    reason: str
    executor: str
    params: dict[str, Any]
    forced: list[str]
    inputs: dict[str, Any]
    steps_total: int
    steps_cached: int
    steps_failed: int
    tracking_run_id: int | None
    error: str | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    steps: list[StepRunInfo] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def failed_step(self) -> StepRunInfo | None:
        return next((s for s in self.steps if s.status == "failed"), None)


@dataclass(frozen=True)
class DecisionInfo:
    id: int
    pipeline: str
    kind: str
    outcome: str
    reason: str
    detail: dict[str, Any]
    rule_id: int | None
    run_id: int | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class StepStatusInfo:
    step: str
    fresh: bool
    reasons: list[str]
    key: str | None
