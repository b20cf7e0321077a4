"""Response and request bodies of the pipelines API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mlgrove.services.pipeline_records import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    RuleInfo,
    StepRunInfo,
)


class StepRunOut(BaseModel):
    step: str
    status: str = Field(description="cached, succeeded, failed or skipped")
    cache_key: str | None
    output: str | None = Field(description="content address of the step's output")
    attempts: int
    seconds: float
    error: str | None
    traceback: str | None

    @classmethod
    def of(cls, s: StepRunInfo) -> StepRunOut:
        return cls(
            step=s.step,
            status=s.status,
            cache_key=s.cache_key,
            output=s.output,
            attempts=s.attempts,
            seconds=s.seconds,
            error=s.error,
            traceback=s.traceback,
        )


class PipelineRunOut(BaseModel):
    id: int
    pipeline: str
    status: str = Field(description="running, succeeded or failed")
    trigger: str = Field(description="manual, dataset or schedule")
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
    steps: list[StepRunOut]

    @classmethod
    def of(cls, r: PipelineRunInfo) -> PipelineRunOut:
        return cls(
            id=r.id,
            pipeline=r.pipeline,
            status=r.status,
            trigger=r.trigger,
            reason=r.reason,
            executor=r.executor,
            params=r.params,
            forced=r.forced,
            inputs=r.inputs,
            steps_total=r.steps_total,
            steps_cached=r.steps_cached,
            steps_failed=r.steps_failed,
            tracking_run_id=r.tracking_run_id,
            error=r.error,
            started_by=r.started_by,
            started_at=r.started_at,
            ended_at=r.ended_at,
            steps=[StepRunOut.of(s) for s in r.steps],
        )


class RuleOut(BaseModel):
    id: int
    kind: str
    description: str
    enabled: bool
    trained_version: int | None
    seen_version: int | None
    last_fired_at: datetime | None

    @classmethod
    def of(cls, r: RuleInfo) -> RuleOut:
        return cls(
            id=r.id,
            kind=r.kind,
            description=r.description,
            enabled=r.enabled,
            trained_version=r.trained_version,
            seen_version=r.seen_version,
            last_fired_at=r.last_fired_at,
        )


class PipelineOut(BaseModel):
    name: str
    project: str
    path: str
    description: str
    steps: list[dict[str, Any]]
    promotion: dict[str, Any] | None
    rules: list[RuleOut]
    last_run: PipelineRunOut | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, p: PipelineInfo) -> PipelineOut:
        return cls(
            name=p.name,
            project=p.project,
            path=p.path,
            description=p.description,
            steps=p.steps,
            promotion=p.promotion,
            rules=[RuleOut.of(r) for r in p.rules],
            last_run=PipelineRunOut.of(p.last_run) if p.last_run else None,
            created_by=p.created_by,
            created_at=p.created_at,
        )


class DecisionOut(BaseModel):
    id: int
    pipeline: str
    kind: str = Field(description="trigger or promotion")
    outcome: str = Field(description="ran, skipped, failed, requested, taken, promoted or kept")
    reason: str
    detail: dict[str, Any]
    rule_id: int | None
    run_id: int | None
    actor: str
    at: datetime

    @classmethod
    def of(cls, d: DecisionInfo) -> DecisionOut:
        return cls(
            id=d.id,
            pipeline=d.pipeline,
            kind=d.kind,
            outcome=d.outcome,
            reason=d.reason,
            detail=d.detail,
            rule_id=d.rule_id,
            run_id=d.run_id,
            actor=d.actor,
            at=d.at,
        )


class RunRequestIn(BaseModel):
    reason: str = Field("", max_length=2000, description="Why (kept in the trigger history).")
