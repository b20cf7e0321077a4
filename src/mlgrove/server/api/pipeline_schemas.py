"""Response and request bodies of the pipelines API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlgrove.services import pipeline_remote
from mlgrove.services.pipeline_plain import PipelineSpec
from mlgrove.services.pipeline_records import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    RuleInfo,
    StepRunInfo,
)
from mlgrove.services.pipeline_remote import Pin, Plan, Ref


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
    id: int
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
            id=p.id,
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


# -- runs whose steps run on a remote client (services/pipeline_remote.py) -------------

_NAME = r"^[A-Za-z0-9._-]{1,100}$"
_HEX64 = r"^[0-9a-f]{64}$"


class DatasetRefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(max_length=100)
    split: str | None = Field(None, max_length=100)
    version: str = Field("latest", max_length=100, description="latest, vN or an address prefix")

    def ref(self) -> Ref:
        return (self.dataset, self.split, self.version)


class PinOut(BaseModel):
    dataset: str
    split: str | None
    version: str = Field(description="as the step asked for it: latest, vN...")
    address: str = Field(description="the content address the step's key covers")
    label: str = Field(description="the version read, e.g. reviews/v3:train")
    version_id: int | None

    @classmethod
    def of(cls, pin: Pin) -> PinOut:
        return cls(
            dataset=pin.dataset,
            split=pin.split,
            version=pin.version,
            address=pin.address,
            label=pin.label,
            version_id=pin.version_id,
        )


class FingerprintOut(BaseModel):
    code: str
    inputs: dict[str, str]
    params: dict[str, Any]
    env: str


class PipelinePlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[str] = Field(max_length=10_000, description="The pipeline's step names.")
    inputs: list[DatasetRefIn] = Field(default_factory=list, max_length=10_000)
    project: str | None = None


class PipelinePlanOut(BaseModel):
    pins: list[PinOut]
    cache: dict[str, str] = Field(description="cache key -> output address, for these steps")
    last: dict[str, FingerprintOut] = Field(description="each step's last fingerprint")
    known_inputs: dict[str, str] = Field(description="input address -> the version it was")

    @classmethod
    def of(cls, plan: Plan) -> PipelinePlanOut:
        return cls(
            pins=[PinOut.of(pin) for pin in plan.pins],
            cache=plan.cache,
            last={
                k: FingerprintOut(code=f.code, inputs=f.inputs, params=f.params, env=f.env)
                for k, f in plan.last.items()
            },
            known_inputs=plan.known_inputs,
        )


class StepShapeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    upstream: list[str]
    datasets: dict[str, str]
    params: list[str]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["dataset", "schedule"]
    dataset: str | None = None
    min_added_rows: int | None = None
    min_changed_pct: float | None = None
    split_changed: str | None = None
    cron: str | None = None
    min_reviewed_labels: int | None = None


class PromotionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    margin: float = 0.0
    higher_is_better: bool = True
    human_queue: str | None = None
    human_min_items: int = 20
    human_max_drop: float = 0.0


class DefinitionIn(BaseModel):
    """A pipeline as its record keeps it (what a client sends for code the server
    does not have)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    path: str | None = Field(None, max_length=500)
    description: str = Field("", max_length=10_000)
    steps: list[StepShapeIn] = Field(min_length=1, max_length=10_000)
    promotion: PromotionIn | None = None
    retrain: list[RuleIn] = Field(default_factory=list, max_length=100)
    project: str | None = None

    def spec(self) -> PipelineSpec:
        return pipeline_remote.spec(
            name=self.name,
            path=self.path,
            description=self.description,
            steps=[s.model_dump() for s in self.steps],
            promotion=self.promotion.model_dump() if self.promotion else None,
            retrain=[r.model_dump() for r in self.retrain],
        )


class StartIn(DefinitionIn):
    """A run whose steps run on the client: the pipeline, and what the run is asked to do."""

    inputs: list[DatasetRefIn] = Field(default_factory=list, max_length=10_000)
    params: dict[str, Any] = Field(default_factory=dict)
    forced: list[str] = Field(default_factory=list)
    executor: str = Field(max_length=200)
    reason: str = Field("", max_length=2000)
    host: str = Field(max_length=255)
    pid: int | None = None


class StartOut(BaseModel):
    run_id: int
    pins: list[PinOut]
    cache: dict[str, str]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(max_length=200)
    status: Literal["cached", "succeeded", "failed", "skipped"]
    cache_key: str | None = Field(None, pattern=_HEX64)
    code_hash: str | None = Field(None, pattern=_HEX64)
    input_addresses: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    env_hash: str | None = Field(None, pattern=_HEX64)
    output_address: str | None = Field(None, pattern=_HEX64)
    attempts: int = Field(0, ge=0)
    seconds: float = Field(0.0, ge=0)
    error: str | None = None
    traceback: str | None = None


class StepsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[StepIn] = Field(max_length=10_000)


class PipelineRunEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: str | None = Field(None, max_length=10_000)


class CacheEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(max_length=200)
    address: str = Field(pattern=_HEX64, description="An object uploaded with PUT /objects.")
