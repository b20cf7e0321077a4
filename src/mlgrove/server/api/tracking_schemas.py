"""Request and response bodies of the runs, models and evaluations API.

Metric values and evaluation scores may be ``NaN``, ``Infinity`` or ``-Infinity``: they
travel as Python's ``json`` writes them (as the datasets API does for table values).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlgrove.domain.metric_batch import MetricBatch, check_columns, us_of
from mlgrove.domain.tracking import (
    AliasEvent,
    Comparison,
    Evaluation,
    MetricPoint,
    Model,
    ModelVersion,
    Run,
    RunArtifact,
    RunInput,
    RunStatus,
    TestSet,
)
from mlgrove.errors import InvalidInput

#: The most points one ``POST /runs/{id}/metrics`` may carry (the SDK's buffer writes at
#: most 50,000 at a time).
MAX_POINTS = 100_000


class RunArtifactOut(BaseModel):
    path: str
    address: str
    size: int
    created_at: datetime

    @classmethod
    def of(cls, a: RunArtifact) -> RunArtifactOut:
        return cls(path=a.path, address=a.address, size=a.size, created_at=a.created_at)


class RunInputOut(BaseModel):
    dataset: str
    version: int
    version_id: int
    address: str
    split: str | None

    @classmethod
    def of(cls, i: RunInput) -> RunInputOut:
        return cls(
            dataset=i.dataset,
            version=i.version,
            version_id=i.version_id,
            address=i.address,
            split=i.split,
        )


class RunOut(BaseModel):
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
    metrics: dict[str, float] = Field(description="Last value of each metric (empty in lists).")
    inputs: list[RunInputOut]
    artifacts: list[RunArtifactOut]

    @classmethod
    def of(cls, r: Run) -> RunOut:
        return cls(
            id=r.id,
            project=r.project,
            name=r.name,
            status=r.status,
            params=r.params,
            tags=r.tags,
            author=r.author,
            started_at=r.started_at,
            ended_at=r.ended_at,
            git_commit=r.git_commit,
            git_dirty=r.git_dirty,
            python_version=r.python_version,
            packages=r.packages,
            error=r.error,
            metrics=r.metrics,
            inputs=[RunInputOut.of(i) for i in r.inputs],
            artifacts=[RunArtifactOut.of(a) for a in r.artifacts],
        )


class EnvironmentIn(BaseModel):
    git_commit: str | None = None
    git_dirty: bool | None = None
    python_version: str = ""
    packages: dict[str, str] = Field(default_factory=dict)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str | None = None
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, Any] = Field(default_factory=dict)
    environment: EnvironmentIn = Field(
        default_factory=EnvironmentIn, description="Where the run runs, as the SDK found it."
    )


class MetricPointIn(BaseModel):
    # Key, value and step are checked by the service, so a bad one gets the same
    # InvalidInput (400) as in embedded mode and rejects the whole batch.
    key: Any
    value: Any
    step: Any
    timestamp: datetime


_COLUMNS = ("keys", "values", "steps", "timestamps")


class MetricBatchIn(BaseModel):
    """A batch of points, as ``points`` (one object each) or as four parallel columns
    (``keys``, ``values``, ``steps``, ``timestamps``): the columns are the compact form
    the SDK sends, about half the bytes and much less to parse."""

    points: list[MetricPointIn] | None = Field(
        None,
        max_length=MAX_POINTS,
        description="One object per point: key, value, step, timestamp (ISO 8601 with a zone).",
    )
    # Column items are checked by the service (domain/metric_batch.py) rather than here,
    # in one pass per column, and a bad one is named by its index.
    keys: list[Any] | None = Field(None, max_length=MAX_POINTS, description="Point i's key.")
    values: list[Any] | None = Field(
        None,
        max_length=MAX_POINTS,
        description="Point i's value: a number; NaN, Infinity and -Infinity are kept.",
    )
    steps: list[Any] | None = Field(
        None, max_length=MAX_POINTS, description="Point i's step: a whole number >= 0."
    )
    timestamps: list[Any] | None = Field(
        None,
        max_length=MAX_POINTS,
        description="Point i's time in seconds since 1970-01-01 UTC (fractions kept to "
        "the microsecond).",
    )

    def batch(self) -> MetricBatch:
        """The points as a (checked) batch, whichever form they came in."""
        columns = [getattr(self, c) for c in _COLUMNS]
        given = [c for c, v in zip(_COLUMNS, columns, strict=True) if v is not None]
        if self.points is not None:
            if given:
                raise InvalidInput(
                    f"the batch has both points and {', '.join(given)}",
                    hint="send either points or the four columns keys, values, steps, timestamps",
                )
            return MetricBatch.of_points(
                [MetricPoint(p.key, p.value, p.step, p.timestamp) for p in self.points]
            )
        keys, values, steps, seconds = self.keys, self.values, self.steps, self.timestamps
        if keys is None or values is None or steps is None or seconds is None:
            missing = [c for c in _COLUMNS if c not in given]
            raise InvalidInput(
                f"the batch lacks {', '.join(missing)}",
                hint="send either points or the four columns keys, values, steps, timestamps",
            )
        return check_columns(keys, values, steps, seconds, seconds=True)


class MetricBatchOut(BaseModel):
    written: int


class MetricPointOut(BaseModel):
    key: str
    value: float
    step: int
    timestamp: datetime

    @classmethod
    def of(cls, p: MetricPoint) -> MetricPointOut:
        return cls(key=p.key, value=p.value, step=p.step, timestamp=p.timestamp)


class MetricColumnsOut(BaseModel):
    """Every point of one metric as columns (``?columns=true``): point i is
    ``(values[i], steps[i], timestamps[i])``, by step."""

    key: str
    values: list[float]
    steps: list[int]
    timestamps: list[float] = Field(description="Unix seconds, to the microsecond.")

    @staticmethod
    def body(key: str, points: list[MetricPoint]) -> dict[str, Any]:
        # A plain dict, rendered without a model per point (100k points a response).
        return {
            "key": key,
            "values": [p.value for p in points],
            "steps": [p.step for p in points],
            "timestamps": [us_of(p.timestamp) / 1_000_000 for p in points],
        }


class ParamsIn(BaseModel):
    params: dict[str, Any]


class TagsIn(BaseModel):
    tags: dict[str, Any]


class ArtifactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The artifact's name within the run (e.g. `model.pkl`).")
    address: str = Field(description="The object uploaded with `PUT /objects/{address}`.")


class ArtifactBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    artifacts: list[ArtifactIn] = Field(
        description="Objects uploaded with `PUT /objects/{address}`, recorded together "
        "(a logged folder: `folder/relative/path` names)."
    )


class InputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    version: str = "latest"
    split: str | None = None
    project: str | None = None


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: RunStatus = RunStatus.FINISHED
    error: str | None = None


class ModelVersionOut(BaseModel):
    model: str
    number: int
    name: str = Field(description="`model/v3`.")
    run_id: int | None
    artifact: str
    address: str
    created_by: str
    created_at: datetime
    aliases: list[str]

    @classmethod
    def of(cls, v: ModelVersion) -> ModelVersionOut:
        return cls(
            model=v.model,
            number=v.number,
            name=v.name,
            run_id=v.run_id,
            artifact=v.artifact,
            address=v.address,
            created_by=v.created_by,
            created_at=v.created_at,
            aliases=v.aliases,
        )


class AliasEventOut(BaseModel):
    alias: str
    from_version: int | None
    to_version: int | None = Field(description="null when the alias was deleted.")
    actor: str
    at: datetime

    @classmethod
    def of(cls, e: AliasEvent) -> AliasEventOut:
        return cls(
            alias=e.alias,
            from_version=e.from_version,
            to_version=e.to_version,
            actor=e.actor,
            at=e.at,
        )


class ModelOut(BaseModel):
    id: int
    project: str
    name: str
    created_at: datetime
    aliases: dict[str, int] = Field(description="alias -> version number")
    versions: list[ModelVersionOut] = Field(description="Newest first; empty in lists.")
    alias_history: list[AliasEventOut] = Field(description="Newest first; empty in lists.")

    @classmethod
    def of(cls, m: Model) -> ModelOut:
        return cls(
            id=m.id,
            project=m.project,
            name=m.name,
            created_at=m.created_at,
            aliases=m.aliases,
            versions=[ModelVersionOut.of(v) for v in m.versions],
            alias_history=[AliasEventOut.of(e) for e in m.alias_history],
        )


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int
    artifact: str
    project: str | None = None


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(description="`3`, `v3` or another alias as `@production`.")
    project: str | None = None


class TestSetOut(BaseModel):
    __test__ = False  # not a pytest class

    dataset: str
    version: int
    version_id: int
    split: str | None
    label: str

    @classmethod
    def of(cls, t: TestSet) -> TestSetOut:
        return cls(
            dataset=t.dataset,
            version=t.version,
            version_id=t.version_id,
            split=t.split,
            label=t.label,
        )


class EvaluationOut(BaseModel):
    id: int
    model: str
    model_version: int
    test_set: TestSetOut
    metrics: dict[str, float]
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, e: Evaluation) -> EvaluationOut:
        return cls(
            id=e.id,
            model=e.model,
            model_version=e.model_version,
            test_set=TestSetOut.of(e.test_set),
            metrics=e.metrics,
            created_by=e.created_by,
            created_at=e.created_at,
        )


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="`name`, `name/v3` or `name@alias`.")
    dataset: str
    version: str
    metrics: dict[str, Any]
    split: str | None = None
    project: str | None = None


class ComparisonOut(BaseModel):
    evaluations: list[EvaluationOut]
    test_sets: list[TestSetOut]
    comparable: bool = Field(description="False when the scores come from different test sets.")
    warning: str | None = Field(description="Starts with `NOT COMPARABLE` when not comparable.")

    @classmethod
    def of(cls, c: Comparison) -> ComparisonOut:
        return cls(
            evaluations=[EvaluationOut.of(e) for e in c.evaluations],
            test_sets=[TestSetOut.of(t) for t in c.test_sets],
            comparable=c.comparable,
            warning=c.warning,
        )
