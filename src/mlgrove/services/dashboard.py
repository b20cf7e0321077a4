"""The home dashboard: the loop at a glance, and the viewer's team at team level.

Each section is read through the service that owns it, with the viewer's own rights: a
section the viewer may not see is left out (``None``), never filled with someone else's
view. Team figures come from services that already hide them below ``min_group_size``;
nothing here is per person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from mlgrove.domain.help_requests import HelpStats
from mlgrove.domain.learning import BudgetReport
from mlgrove.domain.review import Rate
from mlgrove.domain.tracking import Evaluation
from mlgrove.errors import PermissionDenied
from mlgrove.services import (
    datasets,
    evaluations,
    help_requests,
    learning,
    pipelines,
    projects,
    registry,
    review,
    review_stats,
)
from mlgrove.services.context import Context
from mlgrove.store.models import ModelRow, ModelVersionRow

__all__ = ["Dashboard", "build"]

T = TypeVar("T")

DATASETS = 8
MODEL_VERSIONS = 3  # newest versions shown per model
RETRAINS = 8


@dataclass(frozen=True)
class DatasetLine:
    project: str
    name: str
    kind: str
    version: int
    rows: int | None
    source: str
    message: str
    created_at: datetime


@dataclass(frozen=True)
class ModelVersionLine:
    project: str
    model: str
    number: int
    aliases: list[str]
    created_at: datetime
    #: automatic scores: metric -> value, with the test set they were measured on
    metrics: dict[str, float] = field(default_factory=dict)
    test_set: str | None = None
    #: human-judged: accept rate on a review queue's random slice (an unbiased sample)
    accept_rate: Rate | None = None
    judged_items: int = 0
    judged_in: str | None = None


@dataclass(frozen=True)
class QueueLine:
    project: str
    name: str
    total: int
    resolved: int
    open: int
    conflict: int

    @property
    def done_share(self) -> float:
        return self.resolved / self.total if self.total else 0.0


@dataclass(frozen=True)
class RetrainLine:
    pipeline: str
    kind: str
    outcome: str
    reason: str
    at: datetime
    run_id: int | None


@dataclass(frozen=True)
class Dashboard:
    datasets: list[DatasetLine] | None
    models: list[ModelVersionLine] | None
    queues: list[QueueLine] | None
    retrains: list[RetrainLine] | None
    help: HelpStats | None
    learning: BudgetReport | None


def _allowed(read: Callable[[], T]) -> T | None:
    """A section the viewer may read, or None when the policy says no."""
    try:
        return read()
    except PermissionDenied:
        return None


def _datasets(ctx: Context) -> list[DatasetLine]:
    found = [
        DatasetLine(
            project=d.project,
            name=d.name,
            kind=d.kind.value,
            version=v.number,
            rows=v.rows,
            source=v.source,
            message=v.message,
            created_at=v.created_at,
        )
        for project in projects.list_projects(ctx)
        for d, v in datasets.list_datasets(ctx, project.name)
        if v is not None
    ]
    found.sort(key=lambda line: line.created_at, reverse=True)
    return found[:DATASETS]


def _width(rate: Rate) -> float:
    if rate.low is None or rate.high is None:
        return 1.0
    return rate.high - rate.low


def _human_quality(ctx: Context) -> dict[int, tuple[Rate, int, str]]:
    """model version id -> (accept rate, items judged, queue) from every queue the viewer
    may see; where several queues judged a version, the tightest estimate wins (a queue
    whose random slice is small gives a wide interval)."""
    best: dict[int, tuple[Rate, int, str]] = {}
    for q in _allowed(lambda: review.list_queues(ctx)) or []:
        judged = _allowed(lambda q=q: review_stats.model_quality(ctx, q.name, project=q.project))  # type: ignore[misc]
        for mq in judged or []:
            if mq.accept_rate.value is None:
                continue
            seen = best.get(mq.model_version_id)
            if seen is None or _width(mq.accept_rate) < _width(seen[0]):
                best[mq.model_version_id] = (mq.accept_rate, mq.reviewed_items, q.name)
    return best


def _models(ctx: Context) -> list[ModelVersionLine]:
    human = _human_quality(ctx)
    lines: list[ModelVersionLine] = []
    every = [m for p in projects.list_projects(ctx) for m in registry.list_models(ctx, p.name)]
    for m in every:
        model = registry.get_model(ctx, m.name, m.project)
        with ctx.db.read() as s:
            ids = dict(
                s.execute(
                    select(ModelVersionRow.number, ModelVersionRow.id)
                    .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
                    .where(ModelRow.id == m.id)
                ).all()
            )
        # The first evaluation recorded for a version is the one its run made on its own
        # test set; later ones (other test sets) are on the model page.
        scores: dict[int, Evaluation] = {}
        for ev in evaluations.model_evaluations(ctx, m.id):  # oldest first
            scores.setdefault(ev.model_version, ev)
        newest = sorted(model.versions, key=lambda v: v.number, reverse=True)[:MODEL_VERSIONS]
        for v in newest:
            e = scores.get(v.number)
            judged = human.get(ids.get(v.number, -1))
            lines.append(
                ModelVersionLine(
                    project=m.project,
                    model=m.name,
                    number=v.number,
                    aliases=sorted(v.aliases),
                    created_at=v.created_at,
                    metrics=dict(e.metrics) if e else {},
                    test_set=e.test_set.label if e else None,
                    accept_rate=judged[0] if judged else None,
                    judged_items=judged[1] if judged else 0,
                    judged_in=judged[2] if judged else None,
                )
            )
    return lines


def _queues(ctx: Context) -> list[QueueLine]:
    lines = []
    for q in review.list_queues(ctx):
        p = review.progress(ctx, q.name, q.project)
        lines.append(QueueLine(q.project, q.name, p.total, p.resolved, p.open, p.conflict))
    return lines


def _retrains(ctx: Context) -> list[RetrainLine]:
    found = [
        RetrainLine(p.name, d.kind, d.outcome, d.reason, d.at, d.run_id)
        for p in pipelines.list_pipelines(ctx)
        for d in pipelines.decisions(ctx, p.name, limit=RETRAINS)
    ]
    found.sort(key=lambda line: line.at, reverse=True)
    return found[:RETRAINS]


def build(ctx: Context) -> Dashboard:
    """Everything on the home page the viewer may see."""
    in_team = ctx.actor.team_id is not None
    return Dashboard(
        datasets=_allowed(lambda: _datasets(ctx)),
        models=_allowed(lambda: _models(ctx)),
        queues=_allowed(lambda: _queues(ctx)),
        retrains=_allowed(lambda: _retrains(ctx)),
        help=_allowed(lambda: help_requests.team_stats(ctx)) if in_team else None,
        learning=_allowed(lambda: learning.budget_report(ctx)) if in_team else None,
    )


@dataclass(frozen=True)
class HumanJudgement:
    """One version's human-judged quality on one review queue."""

    version: int
    queue: str
    project: str
    accept_rate: Rate
    reviewed_items: int
    rubric_means: dict[str, float]
    pairwise: Rate


def model_judgements(ctx: Context, model_id: int) -> list[HumanJudgement]:
    """Every review queue's judgement of this model's versions (the model page shows
    them beside the automatic scores), newest version first. Queues the viewer may not
    read are left out."""
    with ctx.db.read() as s:
        numbers = dict(
            s.execute(
                select(ModelVersionRow.id, ModelVersionRow.number).where(
                    ModelVersionRow.model_id == model_id
                )
            ).all()
        )
    found = []
    for q in _allowed(lambda: review.list_queues(ctx)) or []:
        judged = _allowed(lambda q=q: review_stats.model_quality(ctx, q.name, project=q.project))  # type: ignore[misc]
        for mq in judged or []:
            if mq.model_version_id in numbers:
                found.append(
                    HumanJudgement(
                        numbers[mq.model_version_id],
                        q.name,
                        q.project,
                        mq.accept_rate,
                        mq.reviewed_items,
                        dict(mq.rubric_means),
                        mq.pairwise,
                    )
                )
    found.sort(key=lambda j: (-j.version, j.queue))
    return found
