"""The remote implementation of ``grove.review`` (over the REST API's ``/review`` paths)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlgrove.client import wire
from mlgrove.client.review import QueueHandle, Review
from mlgrove.domain.datasets import Version
from mlgrove.domain.review import (
    Assignment,
    Coaching,
    Consensus,
    ImportSummary,
    IngestKey,
    Item,
    ItemStatus,
    ModelQuality,
    Queue,
    Rate,
    ReviewCommit,
    TaskType,
    Uncertainty,
    Verdict,
)

if TYPE_CHECKING:
    from mlgrove.client.http import RemoteClient
    from mlgrove.domain.agreement import AgreementReport, Estimate


def _queue(d: dict[str, Any]) -> Queue:
    return Queue(
        id=d["id"],
        project=d["project"],
        name=d["name"],
        task_type=TaskType(d["task_type"]),
        labels=list(d["labels"]),
        multi_label=d["multi_label"],
        rubric=list(d["rubric"]),
        overlap=d["overlap"],
        lease_seconds=d["lease_seconds"],
        random_share=d["random_share"],
        uncertainty=Uncertainty(d["uncertainty"]),
        consensus=Consensus(d["consensus"]),
        instructions=d["instructions"],
        training_dataset=d["training_dataset"],
        created_by=d["created_by"],
        created_at=wire.parse_time(d["created_at"]),
    )


def _item(d: dict[str, Any]) -> Item:
    return Item(**{**d, "status": ItemStatus(d["status"])})


def _assignment(d: dict[str, Any]) -> Assignment:
    return Assignment(
        item=_item(d["item"]),
        expires_at=wire.parse_time(d["expires_at"]),
        done=d["done"],
        total=d["total"],
    )


def _verdict(d: dict[str, Any]) -> Verdict:
    return Verdict(**{**d, "created_at": wire.parse_time(d["created_at"])})


def _estimate(d: dict[str, Any] | None) -> Estimate | None:
    from mlgrove.domain.agreement import Estimate

    return None if d is None else Estimate(d["value"], d["ci_low"], d["ci_high"])


def _rate(d: dict[str, Any]) -> Rate:
    return Rate(d["value"], d["ci_low"], d["ci_high"], d["n"])


def _report(d: dict[str, Any]) -> AgreementReport:
    # Imported here: the agreement module loads NumPy, which the remote SDK otherwise
    # does not need.
    from mlgrove.domain.agreement import AgreementReport, Estimate, Level

    def est(key: str) -> Estimate:
        return _estimate(d[key]) or Estimate(None)

    return AgreementReport(
        items=d["items"],
        raters=d["raters"],
        ratings=d["ratings"],
        level=Level(d["level"]),
        percent_agreement=est("percent_agreement"),
        fleiss_kappa=est("fleiss_kappa"),
        krippendorff_alpha=est("krippendorff_alpha"),
        cohen_kappa=_estimate(d["cohen_kappa"]),
        confidence=d["confidence"],
        resamples=d["resamples"],
        per_label={k: _estimate(v) or Estimate(None) for k, v in d["per_label"].items()},
    )


class RemoteReview(Review):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._client._call(method, "/review" + path, **kwargs)

    @staticmethod
    def _q(queue: str) -> str:
        return "/queues/" + wire.q(queue)

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
        body = {
            "name": name,
            "task_type": task_type,
            "labels": list(labels),
            "multi_label": multi_label,
            "rubric": list(rubric),
            "overlap": overlap,
            "lease_seconds": lease_seconds,
            "random_share": random_share,
            "uncertainty": uncertainty,
            "consensus": consensus,
            "instructions": instructions,
            "training_dataset": training_dataset,
            "project": project,
        }
        q = _queue(self._call("POST", "/queues", json=body))
        return QueueHandle(self, q.name, q.project)

    def get_queue(self, name: str, project: str | None = None) -> Queue:
        return _queue(self._call("GET", self._q(name), params=wire.params(project=project)))

    def list_queues(self, project: str | None = None) -> builtins.list[Queue]:
        found = self._call("GET", "/queues", params=wire.params(project=project))
        return [_queue(d) for d in found["queues"]]

    def add_items(
        self, queue: str, items: Iterable[Mapping[str, Any]], *, project: str | None = None
    ) -> int:
        body = {"items": [dict(i) for i in items]}
        answer = self._call(
            "POST", self._q(queue) + "/items", json=body, params=wire.params(project=project)
        )
        return int(answer["added"])

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
        body = {
            "model": model,
            "dataset": dataset,
            "predictions": list(predictions),
            "confidences": None if confidences is None else list(confidences),
            "scores": None if scores is None else [dict(s) for s in scores],
            "dataset_version": dataset_version,
            "input_column": input_column,
        }
        answer = self._call(
            "POST", self._q(queue) + "/predictions", json=body, params=wire.params(project=project)
        )
        return int(answer["added"])

    def items(
        self,
        queue: str,
        *,
        status: str | None = None,
        after_id: int = 0,
        limit: int = 100,
        project: str | None = None,
    ) -> builtins.list[Item]:
        params = wire.params(project=project, status=status, after_id=after_id, limit=limit)
        found = self._call("GET", self._q(queue) + "/items", params=params)
        return [_item(d) for d in found["items"]]

    def next_item(self, queue: str, *, project: str | None = None) -> Assignment | None:
        got = self._call("POST", self._q(queue) + "/next", params=wire.params(project=project))
        return None if got is None else _assignment(got)

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
        body = {
            "answer": dict(answer),
            "improve": improve,
            "tags": list(tags),
            "seconds": seconds,
            "submit_key": submit_key,
        }
        return _verdict(self._call("POST", f"/items/{int(item_id)}/verdict", json=body))

    def skip(self, item_id: int) -> None:
        self._call("POST", f"/items/{int(item_id)}/skip")

    def undo(self, queue: str, *, project: str | None = None) -> Assignment:
        got = self._call("POST", self._q(queue) + "/undo", params=wire.params(project=project))
        return _assignment(got)

    def adjudicate(self, item_id: int, answer: Mapping[str, Any]) -> None:
        self._call("POST", f"/items/{int(item_id)}/adjudicate", json={"answer": dict(answer)})

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
        params = wire.params(
            project=project, level=level, criterion=criterion, resamples=resamples, seed=seed
        )
        return _report(self._call("GET", self._q(queue) + "/agreement", params=params))

    def coaching(self, queue: str, reviewer: str, *, project: str | None = None) -> Coaching:
        d = self._call(
            "GET",
            self._q(queue) + "/coaching/" + wire.q(reviewer),
            params=wire.params(project=project),
        )
        return Coaching(
            reviewer=d["reviewer"],
            gold_items=d["gold_items"],
            correct=d["correct"],
            accuracy=_rate(d["accuracy"]),
            confusion=d["confusion"],
        )

    def quality(self, queue: str, *, project: str | None = None) -> builtins.list[ModelQuality]:
        d = self._call("GET", self._q(queue) + "/quality", params=wire.params(project=project))
        return [
            ModelQuality(
                model_version_id=m["model_version_id"],
                accept_rate=_rate(m["accept_rate"]),
                rubric_means=m["rubric_means"],
                pairwise=_rate(m["pairwise_win_rate"]),
                reviewed_items=m["reviewed_items"],
            )
            for m in d["models"]
        ]

    def commit_corrections(
        self,
        queue: str,
        *,
        dataset: str | None = None,
        message: str | None = None,
        project: str | None = None,
    ) -> Version | None:
        d = self._call(
            "POST",
            self._q(queue) + "/commit",
            json={"dataset": dataset, "message": message},
            params=wire.params(project=project),
        )
        if not d["committed"]:
            return None
        return self._client.datasets.show(d["dataset"], f"v{d['version']}", project=project)

    def commits(self, queue: str, *, project: str | None = None) -> builtins.list[ReviewCommit]:
        d = self._call("GET", self._q(queue) + "/commits", params=wire.params(project=project))
        return [
            ReviewCommit(**{**c, "created_at": wire.parse_time(c["created_at"])})
            for c in d["commits"]
        ]

    def import_label_studio(
        self, queue: str, tasks: Any, *, project: str | None = None
    ) -> ImportSummary:
        d = self._call(
            "POST",
            self._q(queue) + "/import",
            content=json.dumps(tasks).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            params=wire.params(project=project),
            timeout=wire.SLOW,
        )
        return ImportSummary(**d)

    def export(
        self, queue: str, fmt: str = "label-studio", *, project: str | None = None
    ) -> Iterator[dict[str, Any]]:
        params = wire.params(project=project, format=fmt)
        with self._client._stream(
            "GET", "/review" + self._q(queue) + "/export", params=params, timeout=wire.SLOW
        ) as response:
            for line in response.iter_lines():
                if line.strip():
                    yield dict(json.loads(line))

    def create_ingest_key(self, queue: str, *, project: str | None = None) -> IngestKey:
        d = self._call("POST", self._q(queue) + "/ingest-keys", params=wire.params(project=project))
        return IngestKey(id=d["id"], queue=d["queue"], prefix=d["prefix"], secret=d["key"])
