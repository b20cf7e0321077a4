"""A pipeline's record and retrain rules, kept in step with its Python definition."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlgrove.domain.clock import utcnow
from mlgrove.pipelines.graph import Pipeline
from mlgrove.services import audit
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.store.models.pipelines import PipelineRow, PipelineRuleRow


def _shape(p: Pipeline) -> list[dict[str, Any]]:
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


def _latest_number(s: Session, project_id: int, dataset: str) -> int | None:
    ds = ds_service.find_dataset_row(s, project_id, dataset)
    if ds is None:
        return None
    latest = ds_service.latest_version_row(s, ds.id)
    return latest.number if latest else None


def sync(s: Session, ctx: Context, p: Pipeline, project: str | None) -> PipelineRow:
    """Create or update the pipeline's row and its retrain rules from its definition.

    A rule that is still declared keeps its state; a new dataset rule starts watching
    from the dataset's current latest version (it retrains on what comes next).
    """
    proj = ds_service.resolve_project(s, ctx, project, create=True)
    row = s.scalar(select(PipelineRow).where(PipelineRow.name == p.name))
    promotion = (
        {
            "metric": p.promotion.metric,
            "margin": p.promotion.margin,
            "higher_is_better": p.promotion.higher_is_better,
            "human_queue": p.promotion.human_queue,
            "human_min_items": p.promotion.human_min_items,
            "human_max_drop": p.promotion.human_max_drop,
        }
        if p.promotion
        else None
    )
    if row is None:
        row = PipelineRow(project_id=proj.id, name=p.name, created_by=ctx.actor_label)
        s.add(row)
        audit.record(s, ctx.actor_label, "pipeline.register", f"pipeline:{p.name}", p.path or "")
    wanted = {
        "project_id": proj.id,
        "path": p.path or row.path or "",
        "description": p.description,
        "steps": _shape(p),
        "promotion": promotion,
    }
    # Only what changed is written: a re-run of an unchanged pipeline writes nothing here.
    changed = {k: v for k, v in wanted.items() if getattr(row, k, None) != v}
    if changed:
        for k, v in changed.items():
            setattr(row, k, v)
        row.updated_at = utcnow()
        s.flush()
    existing = {
        (r.kind, tuple(sorted(r.spec.items()))): r
        for r in s.scalars(select(PipelineRuleRow).where(PipelineRuleRow.pipeline_id == row.id))
    }
    declared = set()
    for rule in p.retrain:
        spec = {
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
        ident = (rule.kind, tuple(sorted(spec.items())))
        declared.add(ident)
        if ident in existing:
            continue
        baseline = _latest_number(s, proj.id, rule.dataset) if rule.dataset else None
        s.add(
            PipelineRuleRow(
                pipeline_id=row.id,
                kind=rule.kind,
                spec=spec,
                description=rule.describe(),
                trained_version=baseline,
                seen_version=baseline,
                last_fired_at=utcnow() if rule.kind == "schedule" else None,
            )
        )
    gone = [r.id for ident, r in existing.items() if ident not in declared]
    if gone:
        s.execute(delete(PipelineRuleRow).where(PipelineRuleRow.id.in_(gone)))
    s.flush()
    return row
