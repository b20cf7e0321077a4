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


def shape(p: Pipeline) -> list[dict[str, Any]]:
    """The pipeline's steps as stored on its record (drawn without importing its code)."""
    return [
        {
            "name": n,
            "upstream": p.upstream[n],
            "datasets": {k: v.label for k, v in p.by_name[n].datasets.items()},
            "params": sorted(
                k
                for k in p.by_name[n].defaults
                if k not in p.by_name and k not in p.by_name[n].datasets
            ),
        }
        for n in p.order
    ]


def promotion_spec(p: Pipeline) -> dict[str, Any] | None:
    if p.promotion is None:
        return None
    return {
        "metric": p.promotion.metric,
        "margin": p.promotion.margin,
        "higher_is_better": p.promotion.higher_is_better,
        "human_queue": p.promotion.human_queue,
        "human_min_items": p.promotion.human_min_items,
        "human_max_drop": p.promotion.human_max_drop,
    }


def rule_spec(rule: RetrainRule) -> dict[str, Any]:
    """A retrain rule's stored spec: only what it sets."""
    return {
        k: v
        for k, v in {
            "dataset": rule.dataset,
            "min_added_rows": rule.min_added_rows,
            "min_changed_pct": rule.min_changed_pct,
            "split_changed": rule.split_changed,
            "min_reviewed_labels": rule.min_reviewed_labels,
            "cron": rule.cron,
        }.items()
        if v is not None
    }


def rule_ident(kind: str, spec: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """What makes two rules the same rule (a rule still declared keeps its state)."""
    return (kind, tuple(sorted(spec.items())))


def engine_params(given: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in given.items()}


def step_row(run_id: int, r: StepResult) -> dict[str, Any]:
    """A step result as the columns of its ``pipeline_step_runs`` row."""
    fp = r.fingerprint
    return {
        "run_id": run_id,
        "step": r.step,
        "status": r.status,
        "cache_key": fp.key if fp else None,
        "code_hash": fp.code if fp else None,
        "input_addresses": dict(fp.inputs) if fp else {},
        "params": dict(fp.params) if fp else {},
        "env_hash": fp.env if fp else None,
        "output_address": r.output,
        "attempts": r.attempts,
        "seconds": r.seconds,
        "error": r.error or None,
        "traceback": r.traceback or None,
    }


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
