"""A pipeline's record and retrain rules, kept in step with its Python definition."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlgrove.domain.clock import utcnow
from mlgrove.services import audit
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.pipeline_plain import PipelineSpec, rule_ident, rule_spec
from mlgrove.store.models.pipelines import PipelineRow, PipelineRuleRow


def _latest_number(s: Session, project_id: int, dataset: str) -> int | None:
    ds = ds_service.find_dataset_row(s, project_id, dataset)
    if ds is None:
        return None
    latest = ds_service.latest_version_row(s, ds.id)
    return latest.number if latest else None


def sync(s: Session, ctx: Context, p: PipelineSpec, project: str | None) -> PipelineRow:
    """Create or update the pipeline's row and its retrain rules from its definition.

    A rule that is still declared keeps its state; a new dataset rule starts watching
    from the dataset's current latest version (it retrains on what comes next).
    """
    proj = ds_service.resolve_project(s, ctx, project, create=True)
    row = s.scalar(select(PipelineRow).where(PipelineRow.name == p.name))
    if row is None:
        row = PipelineRow(project_id=proj.id, name=p.name, created_by=ctx.actor_label)
        s.add(row)
        audit.record(s, ctx.actor_label, "pipeline.register", f"pipeline:{p.name}", p.path or "")
    wanted = {
        "project_id": proj.id,
        "path": p.path or row.path or "",
        "description": p.description,
        "steps": p.steps,
        "promotion": p.promotion,
    }
    # Only what changed is written: a re-run of an unchanged pipeline writes nothing here.
    changed = {k: v for k, v in wanted.items() if getattr(row, k, None) != v}
    if changed:
        for k, v in changed.items():
            setattr(row, k, v)
        row.updated_at = utcnow()
        s.flush()
    existing = {
        rule_ident(r.kind, r.spec): r
        for r in s.scalars(select(PipelineRuleRow).where(PipelineRuleRow.pipeline_id == row.id))
    }
    declared = set()
    for rule in p.retrain:
        spec = rule_spec(rule)
        ident = rule_ident(rule.kind, spec)
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
