"""Pipelines: definitions, pipeline runs, step runs, the shared step cache, retrain rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base, UTCDateTime, utcnow

__all__ = [
    "PipelineDecisionRow",
    "PipelineRow",
    "PipelineRuleRow",
    "PipelineRunRow",
    "PipelineStepCacheRow",
    "PipelineStepRunRow",
]


class PipelineRow(Base):
    """A pipeline known to the workspace, and the Python path it is loaded from."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    path: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"name": step, "upstream": [...], "datasets": {...}}]: drawn without importing code
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # {"metric": ..., "margin": ..., "higher_is_better": ...} or None
    promotion: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PipelineRunRow(Base):
    __tablename__ = "pipeline_runs"
    __table_args__ = (Index("ix_pipeline_runs_pipeline_id", "pipeline_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | failed
    trigger: Mapped[str] = mapped_column(String(20))  # manual | dataset | schedule | api
    reason: Mapped[str] = mapped_column(Text, default="")
    executor: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    forced: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"reviews:train": {"version": 3, "version_id": 7, "address": ...}}
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    steps_cached: Mapped[int] = mapped_column(Integer, default=0)
    steps_failed: Mapped[int] = mapped_column(Integer, default=0)
    tracking_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which process runs it, so a run whose process died can be told from a slow one.
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None] = mapped_column(Integer)


class PipelineStepRunRow(Base):
    __tablename__ = "pipeline_step_runs"
    __table_args__ = (Index("ix_pipeline_step_runs_run_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # cached | succeeded | failed | skipped
    cache_key: Mapped[str | None] = mapped_column(String(64))
    # the fingerprint's parts, so status can say what changed since
    code_hash: Mapped[str | None] = mapped_column(String(64))
    input_addresses: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    env_hash: Mapped[str | None] = mapped_column(String(64))
    output_address: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PipelineStepCacheRow(Base):
    """The shared step cache: a cache key names the stored output of a successful step."""

    __tablename__ = "pipeline_step_cache"
    # A run reads all of its steps' entries at once (by step name).
    __table_args__ = (Index("ix_pipeline_step_cache_step", "step"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PipelineRuleRow(Base):
    """A retrain rule, and how far the worker has looked (``seen_version``) and trained
    (``trained_version``) on its dataset."""

    __tablename__ = "pipeline_rules"
    __table_args__ = (Index("ix_pipeline_rules_pipeline_id", "pipeline_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # dataset | schedule
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    trained_version: Mapped[int | None] = mapped_column(Integer)
    seen_version: Mapped[int | None] = mapped_column(Integer)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PipelineDecisionRow(Base):
    """Why something ran or did not: every trigger, skip and promotion decision."""

    __tablename__ = "pipeline_decisions"
    __table_args__ = (Index("ix_pipeline_decisions_pipeline_id", "pipeline_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_rules.id", ondelete="SET NULL")
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # trigger | promotion
    # ran | skipped | requested | promoted | kept
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
