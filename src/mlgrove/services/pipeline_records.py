"""What pipeline services return: plain values, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlgrove.store.models.pipelines import (
    PipelineDecisionRow,
    PipelineRow,
    PipelineRuleRow,
    PipelineRunRow,
    PipelineStepRunRow,
)


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


def rule_info(row: PipelineRuleRow) -> RuleInfo:
    return RuleInfo(
        id=row.id,
        kind=row.kind,
        description=row.description,
        enabled=row.enabled,
        trained_version=row.trained_version,
        seen_version=row.seen_version,
        last_fired_at=row.last_fired_at,
    )


def step_run_info(row: PipelineStepRunRow) -> StepRunInfo:
    return StepRunInfo(
        step=row.step,
        status=row.status,
        cache_key=row.cache_key,
        output=row.output_address,
        attempts=row.attempts,
        seconds=row.seconds,
        error=row.error,
        traceback=row.traceback,
    )


def run_info(
    row: PipelineRunRow, pipeline: str, steps: list[PipelineStepRunRow] | None = None
) -> PipelineRunInfo:
    return PipelineRunInfo(
        id=row.id,
        pipeline=pipeline,
        status=row.status,
        trigger=row.trigger,
        reason=row.reason,
        executor=row.executor,
        params=dict(row.params),
        forced=list(row.forced),
        inputs=dict(row.inputs),
        steps_total=row.steps_total,
        steps_cached=row.steps_cached,
        steps_failed=row.steps_failed,
        tracking_run_id=row.tracking_run_id,
        error=row.error,
        started_by=row.started_by,
        started_at=row.started_at,
        ended_at=row.ended_at,
        steps=[step_run_info(s) for s in steps or []],
    )


def decision_info(row: PipelineDecisionRow, pipeline: str) -> DecisionInfo:
    return DecisionInfo(
        id=row.id,
        pipeline=pipeline,
        kind=row.kind,
        outcome=row.outcome,
        reason=row.reason,
        detail=dict(row.detail),
        rule_id=row.rule_id,
        run_id=row.run_id,
        actor=row.actor,
        at=row.at,
    )


def pipeline_info(
    row: PipelineRow,
    project: str,
    rules: list[PipelineRuleRow] | None = None,
    last_run: PipelineRunInfo | None = None,
) -> PipelineInfo:
    return PipelineInfo(
        id=row.id,
        name=row.name,
        project=project,
        path=row.path,
        description=row.description,
        steps=list(row.steps),
        promotion=dict(row.promotion) if row.promotion else None,
        created_by=row.created_by,
        created_at=row.created_at,
        rules=[rule_info(r) for r in rules or []],
        last_run=last_run,
    )
