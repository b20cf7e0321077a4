"""Rows to the pipeline values of :mod:`mlgrove.domain.pipelines` (re-exported here)."""

from __future__ import annotations

from mlgrove.domain.pipelines import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    RuleInfo,
    StepRunInfo,
    StepStatusInfo,
)
from mlgrove.store.models.pipelines import (
    PipelineDecisionRow,
    PipelineRow,
    PipelineRuleRow,
    PipelineRunRow,
    PipelineStepRunRow,
)

__all__ = [
    "DecisionInfo",
    "PipelineInfo",
    "PipelineRunInfo",
    "RuleInfo",
    "StepRunInfo",
    "StepStatusInfo",
    "decision_info",
    "pipeline_info",
    "rule_info",
    "run_info",
    "step_run_info",
]


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
