"""A pipeline's record and its step records as plain values, without the database layer.

What :mod:`pipeline_sync` writes for a pipeline (its shape, promotion and rule specs)
and what :mod:`pipeline_runs` writes for a step, computed once here so the quick no-op
path (:mod:`pipeline_noop`, which must not import SQLAlchemy) compares and records
exactly the same values as a full run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import blake3

from mlgrove.pipelines.engine import ResolvedInput, StepResult
from mlgrove.pipelines.fingerprint import plain
from mlgrove.pipelines.graph import Pipeline, RetrainRule
from mlgrove.pipelines.record import promotion_spec, rule_spec, shape
from mlgrove.pipelines.step import DatasetInput

__all__ = [
    "PipelineSpec",
    "engine_params",
    "input_label",
    "process_alive",
    "promotion_spec",
    "rule_ident",
    "rule_spec",
    "run_inputs",
    "shape",
    "spec_of",
    "split_address",
    "step_row",
]


@dataclass(frozen=True)
class PipelineSpec:
    """What a pipeline's record keeps of its definition: made from a loaded
    :class:`Pipeline` (:func:`spec_of`) or from a remote client's description of one."""

    name: str
    path: str | None
    description: str
    steps: list[dict[str, Any]]  # :func:`shape`
    promotion: dict[str, Any] | None  # :func:`promotion_spec`
    retrain: tuple[RetrainRule, ...]


def spec_of(p: Pipeline) -> PipelineSpec:
    return PipelineSpec(
        name=p.name,
        path=p.path,
        description=p.description,
        steps=shape(p),
        promotion=promotion_spec(p),
        retrain=tuple(p.retrain),
    )


def rule_ident(kind: str, spec: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """What makes two rules the same rule (a rule still declared keeps its state)."""
    return (kind, tuple(sorted(spec.items())))


def engine_params(given: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in given.items()}


def step_row(run_id: int, r: StepResult) -> dict[str, Any]:
    """A step result as the columns of its ``pipeline_step_runs`` row."""
    return {"run_id": run_id, **r.row()}


def process_alive(pid: int) -> bool:
    """Whether a process of this host still runs (a run whose process is gone is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def split_address(version_address: str, split: str, assignment_address: str) -> str:
    """A split's content address: its rows depend on the version and on the assignment."""
    return blake3.blake3(f"{version_address}:{split}:{assignment_address}".encode()).hexdigest()


def input_label(dataset: str, number: int, split: str | None) -> str:
    return f"{dataset}/v{number}" + (f":{split}" if split else "")


def run_inputs(pins: Mapping[DatasetInput, ResolvedInput]) -> dict[str, Any]:
    """The dataset versions a run read, as its record keeps them."""
    return {
        ref.label: {"version": r.label, "version_id": r.version_id, "address": r.address}
        for ref, r in pins.items()
    }
