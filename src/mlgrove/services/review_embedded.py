"""``grove.review`` in process: the :class:`~mlgrove.client.review.Review` area over the
review services."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from mlgrove.client.review import QueueHandle, Review
from mlgrove.domain import review as rules
from mlgrove.domain.agreement import AgreementReport
from mlgrove.domain.datasets import Version
from mlgrove.domain.review import (
    Assignment,
    Coaching,
    Consensus,
    ImportSummary,
    IngestKey,
    Item,
    ModelQuality,
    Queue,
    QueueSpec,
    ReviewCommit,
    TaskType,
    Uncertainty,
    Verdict,
)
from mlgrove.services import (
    review,
    review_assign,
    review_feedback,
    review_io,
    review_loop,
    review_stats,
)
from mlgrove.services.context import Context


class EmbeddedReview(Review):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create_queue(
        self,
        name: str,
        *,
        task_type: str = "label",
        labels: Sequence[str] = (),
        multi_label: bool = False,
        rubric: Sequence[str] = (),
        overlap: int = 1,
        lease_seconds: int = 600,
        random_share: float = 0.05,
        uncertainty: str = "confidence",
        consensus: str = "majority",
        instructions: str = "",
        training_dataset: str | None = None,
        project: str | None = None,
    ) -> QueueHandle:
        spec = QueueSpec(
            task_type=rules.choice(TaskType, task_type, "task type"),
            labels=list(labels),
            multi_label=multi_label,
            rubric=list(rubric),
            overlap=overlap,
            lease_seconds=lease_seconds,
            random_share=random_share,
            uncertainty=rules.choice(Uncertainty, uncertainty, "uncertainty measure"),
            consensus=rules.choice(Consensus, consensus, "consensus"),
            instructions=instructions,
            training_dataset=training_dataset,
        )
        q = review.create_queue(self.ctx, name, spec, project=project)
        return QueueHandle(self, q.name, q.project)

    def get_queue(self, name: str, project: str | None = None) -> Queue:
        return review.get_queue(self.ctx, name, project)

    def list_queues(self, project: str | None = None) -> builtins.list[Queue]:
        return review.list_queues(self.ctx, project)

    def add_items(
        self, queue: str, items: Iterable[Mapping[str, Any]], *, project: str | None = None
    ) -> int:
        return review.add_items(self.ctx, queue, items, project=project)

    def add_predictions(
        self,
        queue: str,
        *,
        model: str,
        dataset: str,
        predictions: Sequence[Any],
        confidences: Sequence[float | None] | None = None,
        scores: Sequence[Mapping[str, float]] | None = None,
        dataset_version: str = "latest",
        input_column: str | None = None,
        project: str | None = None,
    ) -> int:
        return review.add_predictions(
            self.ctx,
            queue,
            model=model,
            dataset=dataset,
            predictions=predictions,
            confidences=confidences,
            scores=scores,
            dataset_version=dataset_version,
            input_column=input_column,
            project=project,
        )

    def items(
        self,
        queue: str,
        *,
        status: str | None = None,
        after_id: int = 0,
        limit: int = 100,
        project: str | None = None,
    ) -> builtins.list[Item]:
        return review.list_items(
            self.ctx, queue, project=project, status=status, after_id=after_id, limit=limit
        )

    def next_item(self, queue: str, *, project: str | None = None) -> Assignment | None:
        return review_assign.next_item(self.ctx, queue, project=project)

    def submit(
        self,
        item_id: int,
        answer: Mapping[str, Any],
        *,
        improve: str = "",
        tags: Sequence[str] = (),
        seconds: float | None = None,
        submit_key: str | None = None,
    ) -> Verdict:
        return review_assign.submit(
            self.ctx,
            item_id,
            answer,
            improve=improve,
            tags=tags,
            seconds=seconds,
            submit_key=submit_key,
        )

    def skip(self, item_id: int) -> None:
        review_assign.skip(self.ctx, item_id)

    def undo(self, queue: str, *, project: str | None = None) -> Assignment:
        return review_assign.undo(self.ctx, queue, project=project)

    def adjudicate(self, item_id: int, answer: Mapping[str, Any]) -> None:
        review_assign.adjudicate(self.ctx, item_id, answer)

    def agreement(
        self,
        queue: str,
        *,
        level: str = "nominal",
        criterion: str | None = None,
        resamples: int = 1000,
        seed: int = 0,
        project: str | None = None,
    ) -> AgreementReport:
        return review_stats.agreement_report(
            self.ctx,
            queue,
            level=level,
            criterion=criterion,
            resamples=resamples,
            seed=seed,
            project=project,
        )

    def coaching(self, queue: str, reviewer: str, *, project: str | None = None) -> Coaching:
        return review_stats.coaching(self.ctx, queue, reviewer, project=project)

    def quality(self, queue: str, *, project: str | None = None) -> builtins.list[ModelQuality]:
        return review_stats.model_quality(self.ctx, queue, project=project)

    def commit_corrections(
        self,
        queue: str,
        *,
        dataset: str | None = None,
        message: str | None = None,
        project: str | None = None,
    ) -> Version | None:
        return review_loop.commit_corrections(
            self.ctx, queue, dataset=dataset, message=message, project=project
        )

    def commits(self, queue: str, *, project: str | None = None) -> builtins.list[ReviewCommit]:
        return review_loop.list_commits(self.ctx, queue, project=project)

    def import_label_studio(
        self, queue: str, tasks: Any, *, project: str | None = None
    ) -> ImportSummary:
        return review_io.import_label_studio(self.ctx, queue, tasks, project=project)

    def export(
        self, queue: str, fmt: str = "label-studio", *, project: str | None = None
    ) -> Iterator[dict[str, Any]]:
        return review_io.export(self.ctx, queue, fmt, project=project)

    def create_ingest_key(self, queue: str, *, project: str | None = None) -> IngestKey:
        return review_feedback.create_ingest_key(self.ctx, queue, project=project)


__all__ = ["EmbeddedReview"]
