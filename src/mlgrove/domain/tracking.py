"""Runs, metrics, registered models and evaluations as plain values, and the input rules.

The checks here run before anything is written, in the SDK and again in the services,
so a bad value in a batch rejects the whole batch and nothing is half-stored.
"""

from __future__ import annotations

import enum
import math
import numbers
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlgrove.errors import InvalidInput

KEY_MAX = 250
VALUE_MAX = 5000  # characters of a param or tag value
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,99}$")


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    step: int
    timestamp: datetime


@dataclass(frozen=True)
class RunArtifact:
    path: str
    address: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class RunInput:
    """A dataset version (and split) a run read: a lineage edge into the run."""

    dataset: str
    version: int
    version_id: int
    address: str
    split: str | None


@dataclass(frozen=True)
class Run:
    id: int
    project: str
    name: str
    status: RunStatus
    params: dict[str, str]
    tags: dict[str, str]
    author: str
    started_at: datetime
    ended_at: datetime | None
    git_commit: str | None
    git_dirty: bool | None
    python_version: str
    packages: dict[str, str]
    error: str | None
    #: The last value of each metric (filled by ``get``; empty in listings).
    metrics: dict[str, float] = field(default_factory=dict)
    inputs: list[RunInput] = field(default_factory=list)
    artifacts: list[RunArtifact] = field(default_factory=list)


@dataclass(frozen=True)
class ModelVersion:
    model: str
    number: int
    run_id: int | None
    artifact: str
    address: str
    created_by: str
    created_at: datetime
    aliases: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.model}/v{self.number}"


@dataclass(frozen=True)
class AliasEvent:
    alias: str
    from_version: int | None
    to_version: int | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class Model:
    id: int
    project: str
    name: str
    created_at: datetime
    #: alias -> version number
    aliases: dict[str, int] = field(default_factory=dict)
    versions: list[ModelVersion] = field(default_factory=list)
    alias_history: list[AliasEvent] = field(default_factory=list)


@dataclass(frozen=True)
class TestSet:
    """The exact rows a score was measured on: a dataset version and a split."""

    __test__ = False  # not a pytest class

    dataset: str
    version: int
    version_id: int
    split: str | None

    @property
    def label(self) -> str:
        where = f"{self.dataset}/v{self.version}"
        return f"{where} split {self.split}" if self.split else f"{where} (all rows)"


@dataclass(frozen=True)
class Evaluation:
    id: int
    model: str
    model_version: int
    test_set: TestSet
    metrics: dict[str, float]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Comparison:
    """Evaluations side by side, and whether their scores can be compared at all."""

    evaluations: list[Evaluation]
    test_sets: list[TestSet]
    #: False when the scores come from more than one test set.
    comparable: bool
    #: Loud, human-readable, set whenever ``comparable`` is False.
    warning: str | None


@dataclass(frozen=True)
class ModelRef:
    """What someone typed to name a model version: ``name``, ``name/v3`` or ``name@alias``."""

    model: str
    number: int | None = None
    alias: str | None = None


# -- input rules -------------------------------------------------------------------------


def key(value: Any, what: str = "metric") -> str:
    """A metric, param or tag key: 1-250 characters, no control characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} key must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"empty {what} key", hint="name it, e.g. 'loss' or 'val/accuracy'")
    if len(value) > KEY_MAX:
        raise InvalidInput(
            f"{what} key {value[:40]!r}... is {len(value)} characters long",
            hint=f"use at most {KEY_MAX}",
        )
    if _CONTROL.search(value):
        raise InvalidInput(f"{what} key {value!r} contains control characters")
    return value


def metric_value(k: str, value: Any) -> float:
    """A number as a float; NaN and infinity are kept as they are."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(
            f"metric {k!r}: value {value!r} is not a number ({type(value).__name__})",
            hint="log ints or floats; record text as a tag or param",
        )
    return float(value)


def step(k: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise InvalidInput(f"metric {k!r}: step {value!r} must be a whole number >= 0")
    if int(value) >= 2**63:
        raise InvalidInput(f"metric {k!r}: step {value!r} is too large")
    return int(value)


def text_values(values: dict[str, Any], what: str) -> dict[str, str]:
    """Params and tags: keys checked, values kept as text (as MLflow does)."""
    if not isinstance(values, dict):
        raise InvalidInput(f"{what}s must be a mapping of key to value")
    out: dict[str, str] = {}
    for k, v in values.items():
        key(k, what)
        text = v if isinstance(v, str) else str(v)
        if len(text) > VALUE_MAX:
            raise InvalidInput(
                f"{what} {k!r}: value is {len(text)} characters long",
                hint=f"use at most {VALUE_MAX}; store bigger things as an artifact",
            )
        out[k] = text
    return out


def alias(value: str) -> str:
    if not _ALIAS.match(value) or re.fullmatch(r"v\d+", value):
        raise InvalidInput(
            f"invalid alias {value!r}",
            hint="start with a letter, then letters, digits, '.', '_' or '-' "
            "(and not v<number>, which names a version)",
        )
    return value


def parse_model_ref(text: str) -> ModelRef:
    """``churn``, ``churn/v3``, ``churn/3`` or ``churn@production``."""
    value = text.strip()
    if "@" in value:
        model, _, name = value.partition("@")
        if model and name:
            return ModelRef(model=model, alias=alias(name))
    elif "/" in value:
        model, _, number = value.rpartition("/")
        digits = number[1:] if number.startswith("v") else number
        if model and digits.isdigit() and int(digits) >= 1:
            return ModelRef(model=model, number=int(digits))
    elif value:
        return ModelRef(model=value)
    raise InvalidInput(
        f"{text!r} does not name a model version",
        hint="use NAME (latest version), NAME/v3 or NAME@alias",
    )


def encode_float(value: float) -> float | str:
    """JSON has no NaN or infinity (PostgreSQL's json type rejects them): spell them out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_float(value: float | str) -> float:
    return float(value)


def compare(evaluations: list[Evaluation]) -> Comparison:
    """Group scores by the exact test set; flag loudly when there is more than one."""
    sets: dict[tuple[int, str | None], TestSet] = {}
    for e in evaluations:
        sets.setdefault((e.test_set.version_id, e.test_set.split), e.test_set)
    test_sets = list(sets.values())
    comparable = len(test_sets) <= 1
    warning = None
    if not comparable:
        warning = (
            f"NOT COMPARABLE: these scores come from {len(test_sets)} different test sets ("
            + "; ".join(t.label for t in test_sets)
            + "). Compare scores only on the same dataset version and split."
        )
    return Comparison(
        evaluations=evaluations, test_sets=test_sets, comparable=comparable, warning=warning
    )
