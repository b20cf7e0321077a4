"""The review part of the SDK: ``grove.review``.

``grove.review.create_queue("triage", labels=["spam", "ham"])`` makes a queue;
``grove.review.queue("triage")`` gives a :class:`QueueHandle` whose methods
(``add_predictions``, ``next``, ``submit``, ``agreement``, ...) name the queue for you.
The embedded and the remote client implement :class:`Review`; the handle is shared.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlgrove.domain.datasets import Version
from mlgrove.domain.review import (
    Assignment,
    Coaching,
    ImportSummary,
    IngestKey,
    Item,
    ModelQuality,
    Queue,
    ReviewCommit,
    Verdict,
)

if TYPE_CHECKING:
    # NumPy-backed statistics: imported where they are computed, not with the SDK.
    from mlgrove.domain.agreement import AgreementReport


class Review(abc.ABC):
    """Review queues: items to judge, verdicts, agreement, coaching, quality."""

    def queue(self, name: str, project: str | None = None) -> QueueHandle:
        """A handle on an existing queue (nothing is read until you call a method)."""
        return QueueHandle(self, name, project)

    @abc.abstractmethod
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
        """A new queue. ``task_type``: label, correct, rate (with ``rubric``) or pairwise."""

    @abc.abstractmethod
    def get_queue(self, name: str, project: str | None = None) -> Queue: ...

    @abc.abstractmethod
    def list_queues(self, project: str | None = None) -> builtins.list[Queue]: ...

    @abc.abstractmethod
    def add_items(
        self, queue: str, items: Iterable[Mapping[str, Any]], *, project: str | None = None
    ) -> int:
        """Add items ``{"input", "prediction", "confidence", "scores", "id", "gold"}``."""

    @abc.abstractmethod
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
        """Queue a model version's predictions over a dataset version (one per row)."""

    @abc.abstractmethod
    def items(
        self,
        queue: str,
        *,
        status: str | None = None,
        after_id: int = 0,
        limit: int = 100,
        project: str | None = None,
    ) -> builtins.list[Item]: ...

    @abc.abstractmethod
    def next_item(self, queue: str, *, project: str | None = None) -> Assignment | None:
        """Your current item, or a new one leased to you; None when nothing is left."""

    @abc.abstractmethod
    def submit(
        self,
        item_id: int,
        answer: Mapping[str, Any],
        *,
        improve: str = "",
        tags: Sequence[str] = (),
        seconds: float | None = None,
        submit_key: str | None = None,
    ) -> Verdict: ...

    @abc.abstractmethod
    def skip(self, item_id: int) -> None: ...

    @abc.abstractmethod
    def undo(self, queue: str, *, project: str | None = None) -> Assignment: ...

    @abc.abstractmethod
    def adjudicate(self, item_id: int, answer: Mapping[str, Any]) -> None: ...

    @abc.abstractmethod
    def agreement(
        self,
        queue: str,
        *,
        level: str = "nominal",
        criterion: str | None = None,
        resamples: int = 1000,
        seed: int = 0,
        project: str | None = None,
    ) -> AgreementReport: ...

    @abc.abstractmethod
    def coaching(self, queue: str, reviewer: str, *, project: str | None = None) -> Coaching:
        """A reviewer's gold accuracy and confusions (them and their manager only)."""

    @abc.abstractmethod
    def quality(self, queue: str, *, project: str | None = None) -> builtins.list[ModelQuality]:
        """Human-judged quality per model version reviewed in the queue."""

    @abc.abstractmethod
    def commit_corrections(
        self,
        queue: str,
        *,
        dataset: str | None = None,
        message: str | None = None,
        project: str | None = None,
    ) -> Version | None:
        """Resolved answers into a new version of the training dataset (None: nothing new)."""

    @abc.abstractmethod
    def commits(self, queue: str, *, project: str | None = None) -> builtins.list[ReviewCommit]:
        """The queue's commits to training data, newest first."""

    @abc.abstractmethod
    def import_label_studio(
        self, queue: str, tasks: Any, *, project: str | None = None
    ) -> ImportSummary:
        """Label Studio JSON tasks (with predictions and annotations) into a queue."""

    @abc.abstractmethod
    def export(
        self, queue: str, fmt: str = "label-studio", *, project: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Label Studio tasks, or (``jsonl``) one record per resolved item."""

    @abc.abstractmethod
    def create_ingest_key(self, queue: str, *, project: str | None = None) -> IngestKey:
        """A write-only key for end-user feedback into the queue (secret shown once)."""


class QueueHandle:
    """One queue, named once: ``grove.review.queue("triage").add_predictions(...)``."""

    def __init__(self, area: Review, name: str, project: str | None = None) -> None:
        self.area = area
        self.name = name
        self.project = project

    def __repr__(self) -> str:
        return f"QueueHandle({self.name!r}, project={self.project!r})"

    def info(self) -> Queue:
        return self.area.get_queue(self.name, self.project)

    def add_items(self, items: Iterable[Mapping[str, Any]]) -> int:
        return self.area.add_items(self.name, items, project=self.project)

    def add_predictions(
        self,
        *,
        model: str,
        dataset: str,
        predictions: Sequence[Any],
        confidences: Sequence[float | None] | None = None,
        scores: Sequence[Mapping[str, float]] | None = None,
        dataset_version: str = "latest",
        input_column: str | None = None,
    ) -> int:
        return self.area.add_predictions(
            self.name,
            model=model,
            dataset=dataset,
            predictions=predictions,
            confidences=confidences,
            scores=scores,
            dataset_version=dataset_version,
            input_column=input_column,
            project=self.project,
        )

    def items(
        self, *, status: str | None = None, after_id: int = 0, limit: int = 100
    ) -> builtins.list[Item]:
        return self.area.items(
            self.name, status=status, after_id=after_id, limit=limit, project=self.project
        )

    def next(self) -> Assignment | None:
        return self.area.next_item(self.name, project=self.project)

    def submit(self, item_id: int, answer: Mapping[str, Any], **notes: Any) -> Verdict:
        return self.area.submit(item_id, answer, **notes)

    def skip(self, item_id: int) -> None:
        self.area.skip(item_id)

    def undo(self) -> Assignment:
        return self.area.undo(self.name, project=self.project)

    def agreement(self, *, level: str = "nominal", **options: Any) -> AgreementReport:
        return self.area.agreement(self.name, level=level, project=self.project, **options)

    def coaching(self, reviewer: str) -> Coaching:
        return self.area.coaching(self.name, reviewer, project=self.project)

    def quality(self) -> builtins.list[ModelQuality]:
        return self.area.quality(self.name, project=self.project)

    def commit_corrections(
        self, *, dataset: str | None = None, message: str | None = None
    ) -> Version | None:
        return self.area.commit_corrections(
            self.name, dataset=dataset, message=message, project=self.project
        )

    def export(self, fmt: str = "label-studio") -> Iterator[dict[str, Any]]:
        return self.area.export(self.name, fmt, project=self.project)
