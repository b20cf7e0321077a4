"""Evaluations: a model version's scores on one exact dataset version and split.

Scores are only comparable on the same rows. :func:`compare` groups evaluations by
their test set and says loudly (``comparable=False`` and a ``warning``) when they were
measured on different ones; ``strict=True`` refuses instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain import tracking as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.tracking import Comparison, Evaluation, TestSet
from mlgrove.errors import Conflict, InvalidInput
from mlgrove.services import audit, lineage
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.registry import resolve_row
from mlgrove.services.tracking import check_split
from mlgrove.store.models import (
    DatasetRow,
    DatasetVersionRow,
    EvaluationRow,
    ModelRow,
    ModelVersionRow,
    ProjectRow,
)


def _value(s: Session, row: EvaluationRow) -> Evaluation:
    mv = s.get_one(ModelVersionRow, row.model_version_id)
    model = s.get_one(ModelRow, mv.model_id)
    dv = s.get_one(DatasetVersionRow, row.dataset_version_id)
    ds = s.get_one(DatasetRow, dv.dataset_id)
    return Evaluation(
        id=row.id,
        model=model.name,
        model_version=mv.number,
        test_set=TestSet(dataset=ds.name, version=dv.number, version_id=dv.id, split=row.split),
        metrics={k: rules.decode_float(v) for k, v in row.metrics.items()},
        created_by=row.created_by,
        created_at=row.created_at,
    )


def record(
    ctx: Context,
    model: str,
    dataset: str,
    version: str,
    metrics: dict[str, Any],
    *,
    split: str | None = None,
    project: str | None = None,
) -> Evaluation:
    """Record ``model``'s (``name/v3``, ``name@alias``) scores on a dataset version/split."""
    ctx.require(Action.WRITE_DATA)
    if not metrics:
        raise InvalidInput("an evaluation needs at least one metric")
    clean = {rules.key(k): rules.metric_value(k, v) for k, v in metrics.items()}
    with ctx.db.write() as s:
        model_row, mv = resolve_row(s, ctx, model, project)
        proj = project or s.get_one(ProjectRow, model_row.project_id).name
        ds, _ = ds_service.dataset_row(s, ctx, proj, dataset)
        dv = ds_service.version_row(s, ds, version)
        if split is not None:
            check_split(s, dv, split)
        row = EvaluationRow(
            model_version_id=mv.id,
            dataset_version_id=dv.id,
            split=split,
            metrics={k: rules.encode_float(v) for k, v in clean.items()},
            created_by=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        node = ("evaluation", str(row.id))
        lineage.record(s, ("model_version", str(mv.id)), "evaluated", node)
        lineage.record(s, ("dataset_version", str(dv.id)), "test-set", node, {"split": split})
        audit.record(
            s,
            ctx.actor_label,
            "evaluation.record",
            f"evaluation:{row.id}",
            f"{model_row.name}/v{mv.number} on {ds.name}/v{dv.number}"
            + (f" split {split}" if split else ""),
        )
        return _value(s, row)


def list_evaluations(ctx: Context, model: str, project: str | None = None) -> list[Evaluation]:
    """Evaluations of one model version (``name``, ``name/v3``, ``name@alias``), oldest first."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        _, mv = resolve_row(s, ctx, model, project)
        rows = s.scalars(
            select(EvaluationRow)
            .where(EvaluationRow.model_version_id == mv.id)
            .order_by(EvaluationRow.id)
        ).all()
        return [_value(s, r) for r in rows]


def model_evaluations(ctx: Context, model_id: int) -> list[Evaluation]:
    """Every evaluation of every version of a model, oldest first."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        rows = s.scalars(
            select(EvaluationRow)
            .join(ModelVersionRow, ModelVersionRow.id == EvaluationRow.model_version_id)
            .where(ModelVersionRow.model_id == model_id)
            .order_by(EvaluationRow.id)
        ).all()
        return [_value(s, r) for r in rows]


def compare(
    ctx: Context, models: list[str], *, project: str | None = None, strict: bool = False
) -> Comparison:
    """The evaluations of several model versions side by side, grouped by test set.

    When they come from different test sets the result says so (``comparable`` False,
    ``warning`` set); with ``strict`` that is a :class:`~mlgrove.errors.Conflict`.
    """
    found: list[Evaluation] = []
    for ref in models:
        found += list_evaluations(ctx, ref, project)
    result = rules.compare(found)
    if strict and not result.comparable:
        raise Conflict(result.warning or "different test sets", hint="evaluate on one test set")
    return result
