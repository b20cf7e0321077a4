"""Outputs with a meaning beyond their bytes: a model to register, metrics to record.

A step that returns one of these is cached like any other; when it actually runs (not
on a cache hit), the run records it: a :class:`ModelOutput` becomes a new version of the
named model with the alias ``candidate`` (and an evaluation on its test set),
:class:`Metrics` are logged to the pipeline run's tracked run, and a
:class:`DatasetOutput` becomes a new version of the named dataset (source ``pipeline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgrove.pipelines.step import DatasetInput

__all__ = ["DatasetOutput", "Metrics", "ModelOutput"]


class Metrics(dict[str, float]):
    """Named numbers a step measured: ``return Metrics(accuracy=0.91)``."""


@dataclass(frozen=True)
class ModelOutput:
    """A trained model: its serialised bytes, its scores and the test set they come from.

    ``test_set`` names the dataset (and split) the metrics were measured on; the run
    resolves it to the exact version it read, so promotion compares like with like.
    """

    name: str
    data: bytes
    metrics: dict[str, float] = field(default_factory=dict)
    test_set: DatasetInput | None = None
    filename: str = "model.bin"


@dataclass(frozen=True)
class DatasetOutput:
    """A table to commit as a new version of dataset ``name`` (made on first use, with
    ``key`` columns). ``table`` is anything ``grove.datasets.add`` takes in memory:
    an Arrow table, a pandas or polars data frame."""

    name: str
    table: Any
    key: tuple[str, ...] | None = None
    message: str = ""
