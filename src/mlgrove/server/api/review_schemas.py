"""Request bodies of the review API, and the domain-to-JSON shapes of its responses."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, Field

from mlgrove.domain.agreement import AgreementReport, Estimate
from mlgrove.domain.review import (
    Assignment,
    Coaching,
    Item,
    ModelQuality,
    Queue,
    QueueSpec,
    ReviewCommit,
    Verdict,
)

#: The largest end-user feedback body accepted (bytes); larger is 413.
MAX_FEEDBACK_BYTES = 16 * 1024
#: The most items one ``POST .../items`` may carry.
MAX_ITEMS = 10_000


class QueueIn(BaseModel):
    name: str
    task_type: str = "label"
    labels: list[str] = Field(default_factory=list)
    multi_label: bool = False
    rubric: list[str] = Field(default_factory=list)
    overlap: int = 1
    lease_seconds: int = 600
    random_share: float = 0.05
    uncertainty: str = "confidence"
    consensus: str = "majority"
    instructions: str = ""
    training_dataset: str | None = None
    project: str | None = None

    def spec(self) -> QueueSpec:
        from mlgrove.domain import review as rules

        return QueueSpec(
            task_type=rules.choice(rules.TaskType, self.task_type, "task type"),
            labels=self.labels,
            multi_label=self.multi_label,
            rubric=self.rubric,
            overlap=self.overlap,
            lease_seconds=self.lease_seconds,
            random_share=self.random_share,
            uncertainty=rules.choice(rules.Uncertainty, self.uncertainty, "uncertainty"),
            consensus=rules.choice(rules.Consensus, self.consensus, "consensus"),
            instructions=self.instructions,
            training_dataset=self.training_dataset,
        )


class ItemsIn(BaseModel):
    items: list[dict[str, Any]] = Field(max_length=MAX_ITEMS)


class PredictionsIn(BaseModel):
    model: str
    dataset: str
    predictions: list[Any]
    confidences: list[float | None] | None = None
    scores: list[dict[str, float]] | None = None
    dataset_version: str = "latest"
    input_column: str | None = None


class VerdictIn(BaseModel):
    answer: dict[str, Any]
    improve: str = ""
    tags: list[str] = Field(default_factory=list)
    seconds: float | None = None
    submit_key: str | None = None


class AnswerIn(BaseModel):
    answer: dict[str, Any]


class GoldIn(BaseModel):
    answer: dict[str, Any] | None


class CommitIn(BaseModel):
    dataset: str | None = None
    message: str | None = None


def queue_out(q: Queue) -> dict[str, Any]:
    out = asdict(q)
    out.update(
        task_type=q.task_type.value,
        uncertainty=q.uncertainty.value,
        consensus=q.consensus.value,
        created_at=q.created_at.isoformat(),
    )
    return out


def item_out(i: Item) -> dict[str, Any]:
    out = asdict(i)
    out["status"] = i.status.value
    return out


def assignment_out(a: Assignment) -> dict[str, Any]:
    return {
        "item": item_out(a.item),
        "expires_at": a.expires_at.isoformat(),
        "done": a.done,
        "total": a.total,
    }


def verdict_out(v: Verdict) -> dict[str, Any]:
    out = asdict(v)
    out["created_at"] = v.created_at.isoformat()
    return out


def _estimate(e: Estimate | None) -> dict[str, Any] | None:
    return None if e is None else e.as_dict()


def agreement_out(r: AgreementReport) -> dict[str, Any]:
    return {
        "items": r.items,
        "raters": r.raters,
        "ratings": r.ratings,
        "level": r.level.value,
        "percent_agreement": _estimate(r.percent_agreement),
        "fleiss_kappa": _estimate(r.fleiss_kappa),
        "krippendorff_alpha": _estimate(r.krippendorff_alpha),
        "cohen_kappa": _estimate(r.cohen_kappa),
        "confidence": r.confidence,
        "resamples": r.resamples,
        "per_label": {k: e.as_dict() for k, e in r.per_label.items()},
    }


def coaching_out(c: Coaching) -> dict[str, Any]:
    return {
        "reviewer": c.reviewer,
        "gold_items": c.gold_items,
        "correct": c.correct,
        "accuracy": c.accuracy.as_dict(),
        "confusion": c.confusion,
    }


def quality_out(q: ModelQuality) -> dict[str, Any]:
    return {
        "model_version_id": q.model_version_id,
        "reviewed_items": q.reviewed_items,
        "accept_rate": q.accept_rate.as_dict(),
        "rubric_means": q.rubric_means,
        "pairwise_win_rate": q.pairwise.as_dict(),
    }


def commit_out(c: ReviewCommit) -> dict[str, Any]:
    out = asdict(c)
    out["created_at"] = c.created_at.isoformat()
    return out
