"""Review queues as values, and the pure rules of reviewing.

What a verdict must look like for each task type, what "accepted" means, how an item's
priority is made, how several verdicts resolve into one answer (or a conflict for an
adjudicator), and the small statistics of human-judged quality (Wilson intervals).
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from mlgrove.errors import InvalidInput

E = TypeVar("E", bound=enum.StrEnum)

#: Limits on what a verdict and an item may carry.
MAX_TEXT = 10_000
MAX_TAGS = 20
MAX_LABELS = 200
RATING_RANGE = (1, 5)

#: Priority parts. Uncertainty lies in [0, 1]; the rest are added on top of it, so the
#: reserved random slice comes first, then items users complained about, then disputed
#: ones, then the least certain predictions.
RANDOM_SLICE_BOOST = 10.0
NEGATIVE_FEEDBACK_BOOST = 2.0
DISAGREEMENT_BOOST = 1.0


class TaskType(enum.StrEnum):
    LABEL = "label"  # pick one label (or several, with multi_label)
    CORRECT = "correct"  # accept the prediction or write the corrected output
    RATE = "rate"  # score on each rubric criterion, 1-5
    PAIRWISE = "pairwise"  # A, B or tie


class ItemStatus(enum.StrEnum):
    OPEN = "open"  # waiting for verdicts
    CONFLICT = "conflict"  # verdicts disagree: an adjudicator decides
    RESOLVED = "resolved"  # has one answer


class Consensus(enum.StrEnum):
    MAJORITY = "majority"  # more than half the verdicts agree
    WEIGHTED = "weighted"  # votes weighted by each reviewer's gold accuracy


class Uncertainty(enum.StrEnum):
    CONFIDENCE = "confidence"  # 1 - confidence of the predicted label
    MARGIN = "margin"  # 1 - (top score - second score)
    ENTROPY = "entropy"  # entropy of the scores, normalised to [0, 1]


@dataclass(frozen=True)
class Queue:
    id: int
    project: str
    name: str
    task_type: TaskType
    labels: list[str]
    multi_label: bool
    rubric: list[str]
    overlap: int
    lease_seconds: int
    random_share: float
    uncertainty: Uncertainty
    consensus: Consensus
    instructions: str
    training_dataset: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Item:
    id: int
    queue_id: int
    external_id: str | None
    input: dict[str, Any]
    prediction: Any
    confidence: float | None
    scores: dict[str, float]
    priority: float
    random_slice: bool
    gold: Any
    status: ItemStatus
    verdicts: int
    source: str
    model_version_id: int | None
    dataset_version_id: int | None
    source_row_key: str | None
    answer: Any = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class Verdict:
    id: int
    item_id: int
    reviewer: str
    answer: dict[str, Any]
    improve: str
    tags: list[str]
    seconds: float | None
    created_at: datetime


@dataclass(frozen=True)
class Assignment:
    """An item leased to a reviewer until ``expires_at``, with the queue's progress."""

    item: Item
    expires_at: datetime
    done: int  # items with a final answer in the queue
    total: int


@dataclass(frozen=True)
class Rate:
    """A share with its Wilson score interval."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high, "n": self.n}


@dataclass(frozen=True)
class Coaching:
    """One reviewer's gold results: for them and their manager, never ranked."""

    reviewer: str
    gold_items: int
    correct: int
    accuracy: Rate
    confusion: dict[str, dict[str, int]]  # expected -> given -> count (mistakes only)


@dataclass(frozen=True)
class ModelQuality:
    model_version_id: int
    accept_rate: Rate  # on the random slice only: an unbiased estimate
    rubric_means: dict[str, float]
    pairwise: Rate  # win rate, ties counting half
    reviewed_items: int = 0


@dataclass(frozen=True)
class ImportSummary:
    queue: str
    project: str
    created: bool
    tasks: int
    verdicts: int
    predictions: int
    external_reviewers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewCommit:
    id: int
    dataset_version_id: int
    item_ids: list[int]
    verdict_ids: list[int]
    reviewers: list[str]
    model_version_ids: list[int]
    corrections: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class IngestKey:
    id: int
    queue: str
    prefix: str
    secret: str | None  # only when just created


@dataclass(frozen=True)
class FeedbackReceipt:
    item_id: int
    new_item: bool
    negative: bool


@dataclass
class QueueSpec:
    """What a new queue is made with (checked by :func:`check_spec`)."""

    task_type: TaskType = TaskType.LABEL
    labels: list[str] = field(default_factory=list)
    multi_label: bool = False
    rubric: list[str] = field(default_factory=list)
    overlap: int = 1
    lease_seconds: int = 600
    random_share: float = 0.05
    uncertainty: Uncertainty = Uncertainty.CONFIDENCE
    consensus: Consensus = Consensus.MAJORITY
    instructions: str = ""
    training_dataset: str | None = None


def choice(kind: type[E], value: Any, what: str) -> E:
    """``value`` as a member of ``kind``, or InvalidInput listing the choices."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise InvalidInput(f"unknown {what} {value!r}", hint=f"use one of: {choices}") from None


def check_spec(spec: QueueSpec) -> QueueSpec:
    spec.task_type = choice(TaskType, spec.task_type, "task type")
    spec.consensus = choice(Consensus, spec.consensus, "consensus")
    spec.uncertainty = choice(Uncertainty, spec.uncertainty, "uncertainty measure")
    labels = [str(label).strip() for label in spec.labels]
    if any(not label or len(label) > 200 for label in labels):
        raise InvalidInput("labels need 1-200 characters each")
    if len(set(labels)) != len(labels):
        raise InvalidInput("labels must be distinct")
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"a queue takes at most {MAX_LABELS} labels")
    spec.labels = labels
    if spec.task_type is TaskType.LABEL and not labels:
        raise InvalidInput("a label queue needs its label set", hint="pass labels=[...]")
    if spec.task_type is TaskType.RATE and not spec.rubric:
        raise InvalidInput("a rate queue needs rubric criteria", hint="pass rubric=[...]")
    if not 1 <= spec.overlap <= 20:
        raise InvalidInput("overlap must be between 1 and 20 reviewers per item")
    if not 30 <= spec.lease_seconds <= 86_400:
        raise InvalidInput("a lease lasts between 30 seconds and one day")
    if not 0 <= spec.random_share <= 1:
        raise InvalidInput("random_share is a fraction between 0 and 1")
    if len(spec.instructions) > MAX_TEXT:
        raise InvalidInput(f"instructions take at most {MAX_TEXT} characters")
    return spec


# -- verdicts ---------------------------------------------------------------------------------


def check_answer(queue: Queue, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict's answer in its one canonical shape, or InvalidInput saying what to fix.

    - label: ``{"labels": [...]}`` (one, or any number with multi_label); ``{"label": x}``
      is accepted as a shorthand;
    - correct: ``{"accept": true}`` or ``{"correction": ...}``;
    - rate: ``{"ratings": {criterion: 1-5, ...}}`` covering every rubric criterion;
    - pairwise: ``{"choice": "a" | "b" | "tie"}``.
    """
    if not isinstance(answer, Mapping):
        raise InvalidInput("a verdict's answer must be an object")
    tt = queue.task_type
    if tt is TaskType.LABEL:
        raw = answer.get("labels", [answer["label"]] if "label" in answer else None)
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise InvalidInput("a label verdict needs labels: a list of label names")
        unknown = [v for v in raw if v not in queue.labels]
        if unknown:
            raise InvalidInput(
                f"label {unknown[0]!r} is not in this queue's label set",
                hint=f"use one of: {', '.join(queue.labels)}",
            )
        if not queue.multi_label and len(raw) != 1:
            raise InvalidInput("this queue takes exactly one label per item")
        return {"labels": sorted(set(raw), key=queue.labels.index)}
    if tt is TaskType.CORRECT:
        if answer.get("accept") is True:
            return {"accept": True}
        if "correction" not in answer or answer["correction"] in (None, ""):
            raise InvalidInput("a correct verdict needs accept: true or a correction")
        correction = answer["correction"]
        if isinstance(correction, str) and len(correction) > MAX_TEXT:
            raise InvalidInput(f"a correction takes at most {MAX_TEXT} characters")
        if queue.labels and correction not in queue.labels:
            raise InvalidInput(
                f"correction {correction!r} is not in this queue's label set",
                hint=f"use one of: {', '.join(queue.labels)}",
            )
        return {"correction": correction}
    if tt is TaskType.RATE:
        ratings = answer.get("ratings")
        if not isinstance(ratings, Mapping):
            raise InvalidInput("a rate verdict needs ratings: {criterion: 1-5}")
        missing = [c for c in queue.rubric if c not in ratings]
        extra = [c for c in ratings if c not in queue.rubric]
        if missing or extra:
            raise InvalidInput(
                f"ratings must cover exactly the rubric ({', '.join(queue.rubric)})",
                hint=f"missing {missing}" if missing else f"not in the rubric: {extra}",
            )
        clean: dict[str, int] = {}
        for criterion in queue.rubric:
            value = ratings[criterion]
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"rating for {criterion!r} must be a whole number 1-5")
            if not RATING_RANGE[0] <= value <= RATING_RANGE[1]:
                raise InvalidInput(f"rating for {criterion!r} is {value}; use 1-5")
            clean[criterion] = value
        return {"ratings": clean}
    choice = answer.get("choice")
    if choice not in ("a", "b", "tie"):
        raise InvalidInput("a pairwise verdict needs choice: 'a', 'b' or 'tie'")
    return {"choice": choice}


def check_notes(improve: str, tags: Sequence[str]) -> tuple[str, list[str]]:
    if len(improve) > MAX_TEXT:
        raise InvalidInput(f"'what should improve' takes at most {MAX_TEXT} characters")
    clean = [str(t).strip() for t in tags if str(t).strip()]
    if len(clean) > MAX_TAGS or any(len(t) > 100 for t in clean):
        raise InvalidInput(f"at most {MAX_TAGS} tags of up to 100 characters")
    return improve, sorted(set(clean))


def answer_key(answer: Mapping[str, Any]) -> str:
    """A canonical text for an answer, so equal answers compare equal."""
    return json.dumps(answer, sort_keys=True, separators=(",", ":"), default=str)


def rating_value(queue: Queue, answer: Mapping[str, Any], criterion: str | None = None) -> Any:
    """What agreement is measured on: the label (set), the correction, a criterion's
    rating, or the pairwise choice."""
    if "labels" in answer:
        labels = list(answer["labels"])
        return labels[0] if not queue.multi_label else "|".join(labels)
    if "accept" in answer:
        return "accept"
    if "correction" in answer:
        return str(answer["correction"])
    if "ratings" in answer:
        name = criterion or queue.rubric[0]
        if name not in answer["ratings"]:
            raise InvalidInput(
                f"{name!r} is not a rubric criterion", hint=f"use {', '.join(queue.rubric)}"
            )
        return int(answer["ratings"][name])
    return answer.get("choice")


def prediction_labels(prediction: Any) -> list[str]:
    if prediction is None:
        return []
    if isinstance(prediction, list):
        return [str(p) for p in prediction]
    return [str(prediction)]


def accepted(queue: Queue, prediction: Any, answer: Mapping[str, Any]) -> bool | None:
    """Whether a verdict agrees with the model's prediction (None: not that kind of task)."""
    if "accept" in answer:
        return True
    if "correction" in answer:
        return bool(answer["correction"] == prediction)
    if "labels" in answer and prediction is not None:
        return sorted(answer["labels"]) == sorted(prediction_labels(prediction))
    return None


def corrected_value(queue: Queue, prediction: Any, answer: Mapping[str, Any]) -> Any:
    """The output a resolved answer says is right (what goes back into the data)."""
    if "accept" in answer:
        return prediction
    if "correction" in answer:
        return answer["correction"]
    if "labels" in answer:
        labels = list(answer["labels"])
        return labels if queue.multi_label else labels[0]
    return None


# -- priority ---------------------------------------------------------------------------------


def uncertainty(
    measure: Uncertainty, confidence: float | None, scores: Mapping[str, float] | None
) -> float:
    """How unsure the model was, in [0, 1] (0.5 when it said nothing about it)."""
    probs = sorted((float(v) for v in (scores or {}).values()), reverse=True)
    if measure is Uncertainty.MARGIN and len(probs) >= 2:
        return _clip(1.0 - (probs[0] - probs[1]))
    if measure is Uncertainty.ENTROPY and len(probs) >= 2:
        total = sum(probs)
        if total > 0:
            ps = [p / total for p in probs if p > 0]
            return _clip(-sum(p * math.log(p) for p in ps) / math.log(len(probs)))
    if confidence is not None:
        return _clip(1.0 - confidence)
    if probs:
        return _clip(1.0 - probs[0])
    return 0.5


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def check_confidence(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(f"{where}: confidence must be a number between 0 and 1")
    return float(value)


def priority(
    base: float, *, random_slice: bool, negative_feedback: int = 0, disagreement: bool = False
) -> float:
    return (
        base
        + (RANDOM_SLICE_BOOST if random_slice else 0.0)
        + NEGATIVE_FEEDBACK_BOOST * min(negative_feedback, 3)
        + (DISAGREEMENT_BOOST if disagreement else 0.0)
    )


def in_random_slice(item_key: str, share: float, seed: int) -> bool:
    """Whether an item belongs to the reserved random slice: a hash of its key and the
    queue's seed, so the choice is uniform, reproducible and blind to the prediction."""
    import hashlib

    digest = hashlib.blake2b(f"{seed}:{item_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


# -- consensus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    status: ItemStatus
    answer: dict[str, Any] | None


def resolve(
    queue: Queue,
    answers: Sequence[tuple[str, Mapping[str, Any]]],
    weights: Mapping[str, float] | None = None,
) -> Resolution:
    """One answer from the verdicts ``(reviewer, answer)`` once the overlap is reached.

    Ratings are averaged per criterion (a mean is their consensus); other answers need
    more than half the votes (majority) or of the weight (quality-weighted), otherwise
    the item goes to an adjudicator.
    """
    if not answers:
        return Resolution(ItemStatus.OPEN, None)
    if queue.task_type is TaskType.RATE:
        means = {
            c: round(sum(a["ratings"][c] for _, a in answers) / len(answers), 3)
            for c in queue.rubric
        }
        return Resolution(ItemStatus.RESOLVED, {"ratings": means})
    votes: dict[str, float] = {}
    by_key: dict[str, Mapping[str, Any]] = {}
    for reviewer, answer in answers:
        key = answer_key(answer)
        by_key[key] = answer
        weight = 1.0
        if queue.consensus is Consensus.WEIGHTED and weights is not None:
            weight = weights.get(reviewer, 0.5)
        votes[key] = votes.get(key, 0.0) + weight
    total = sum(votes.values())
    key, top = max(votes.items(), key=lambda kv: kv[1])
    if total > 0 and top > total / 2:
        return Resolution(ItemStatus.RESOLVED, dict(by_key[key]))
    return Resolution(ItemStatus.CONFLICT, None)


def disagree(answers: Sequence[Mapping[str, Any]]) -> bool:
    return len({answer_key(a) for a in answers}) > 1


def gold_weight(correct: int, total: int) -> float:
    """A reviewer's vote weight: gold accuracy with a Beta(1, 1) prior, so a new
    reviewer starts at 0.5 and one lucky item does not make anyone an oracle."""
    return (correct + 1) / (total + 2)


# -- quality -------------------------------------------------------------------------------------


def wilson(successes: float, n: int, confidence: float = 0.95) -> Rate:
    """A proportion with its Wilson score interval (good for small n and rates near 0/1)."""
    if n <= 0:
        return Rate(None, None, None, 0)
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Rate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def confusion(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """expected -> given -> count, for the mistakes only."""
    table: dict[str, dict[str, int]] = {}
    for expected, given in pairs:
        if expected != given:
            row = table.setdefault(expected, {})
            row[given] = row.get(given, 0) + 1
    return table
