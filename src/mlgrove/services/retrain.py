"""Retrain rules and the promotion policy: when a pipeline runs by itself, and whether
its new model replaces ``production``. Every decision is recorded with its reason.

Dataset rules compare the dataset's latest version with the one the pipeline last
trained on, so small changes add up until they meet the rule. "Rows changed" counts
added, removed and changed rows, as a percentage of the trained-on version's rows.

Extension point: a "≥ N new reviewed labels" condition and "not worse in human-judged
quality" for promotion belong to the review area; they plug in as further conditions in
:func:`dataset_conditions` and :func:`consider_promotion`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.tracking import ModelVersion
from mlgrove.errors import GroveError, NotFound
from mlgrove.pipelines.graph import Pipeline, load
from mlgrove.services import datasets as ds_service
from mlgrove.services import evaluations, registry, review_stats, splits, table_diff
from mlgrove.services.context import Context
from mlgrove.services.pipeline_records import DecisionInfo, decision_info
from mlgrove.store.models import DatasetVersionRow, ProjectRow
from mlgrove.store.models.pipelines import (
    PipelineDecisionRow,
    PipelineRow,
    PipelineRuleRow,
)
from mlgrove.store.models.review import ReviewCommitRow

PRODUCTION = "production"


def _decide(
    ctx: Context,
    pipeline_id: int,
    kind: str,
    outcome: str,
    reason: str,
    *,
    rule_id: int | None = None,
    run_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> DecisionInfo:
    with ctx.db.write() as s:
        row = PipelineDecisionRow(
            pipeline_id=pipeline_id,
            rule_id=rule_id,
            run_id=run_id,
            kind=kind,
            outcome=outcome,
            reason=reason,
            detail=detail or {},
            actor=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        return decision_info(row, s.get_one(PipelineRow, pipeline_id).name)


# -- promotion -------------------------------------------------------------------------


def consider_promotion(
    ctx: Context,
    p: Pipeline,
    pipeline_id: int,
    run_id: int,
    candidate: ModelVersion,
    test_set: str | None,
    project: str,
    *,
    record_waiting: bool = True,
) -> DecisionInfo | None:
    """Move ``production`` to the candidate only if it beats production on the same
    test set (dataset version and split) by the policy's margin, and, with a human check
    in the policy, only once people judged it no worse than production. Returns None
    when it is still waiting and ``record_waiting`` is off (the worker's re-checks)."""
    policy = p.promotion

    def decide(outcome: str, reason: str, **detail: Any) -> DecisionInfo | None:
        if outcome == "waiting" and not record_waiting:
            return None
        return _decide(
            ctx,
            pipeline_id,
            "promotion",
            outcome,
            reason,
            run_id=run_id,
            detail={"candidate": candidate.name, "test_set": test_set, **detail},
        )

    if policy is None:
        return decide("kept", f"{candidate.name} is a candidate; no promotion policy is declared")
    metric = policy.metric
    if test_set is None:
        return decide("kept", f"{candidate.name} names no test set, so it cannot be compared")
    dataset, _, rest = test_set.partition("/v")
    number_text, _, split_text = rest.partition(":")
    number, split = int(number_text), split_text or None

    def score(ref: str) -> float | None:
        for e in evaluations.list_evaluations(ctx, ref, project):
            t = e.test_set
            if (t.dataset, t.version, t.split) == (dataset, number, split) and metric in e.metrics:
                return e.metrics[metric]
        return None

    cand = score(candidate.name)
    if cand is None:
        return decide("kept", f"{candidate.name} has no {metric} on {test_set}")
    try:
        prod = registry.resolve(ctx, f"{candidate.model}@{PRODUCTION}", project)
    except NotFound:
        prod = None
    if prod is None:
        registry.set_alias(ctx, candidate.model, PRODUCTION, str(candidate.number), project=project)
        return decide(
            "promoted",
            f"{candidate.name} is production: there was no production version "
            f"({metric} {cand:.4g} on {test_set})",
        )
    if prod.number == candidate.number:
        return decide("kept", f"{candidate.name} already is production")
    base = score(prod.name)
    if base is None:
        return decide(
            "kept",
            f"production {prod.name} has no {metric} on {test_set}: they cannot be compared "
            "on the same test set, so production stays",
            production=prod.name,
        )
    gain = cand - base if policy.higher_is_better else base - cand
    numbers = f"{metric} {cand:.4g} vs {base:.4g} on {test_set}"
    if gain > 0 and gain >= policy.margin:
        held, judged = _human_gate(ctx, policy, candidate, prod, project)
        if held is not None:
            outcome, why = held
            return decide(
                outcome,
                f"{numbers} (better by {gain:.4g}); {why}",
                production=prod.name,
                gain=gain,
            )
        registry.set_alias(ctx, candidate.model, PRODUCTION, str(candidate.number), project=project)
        return decide(
            "promoted",
            f"{candidate.name} replaces {prod.name}: {numbers} "
            f"(better by {gain:.4g}, margin {policy.margin:g}){judged}",
            production=prod.name,
            gain=gain,
        )
    return decide(
        "kept",
        f"{prod.name} stays production: {numbers} "
        + (
            f"(gain {gain:.4g} is below the margin {policy.margin:g})"
            if gain > 0
            else "(the candidate is not better; a tie keeps production)"
        ),
        production=prod.name,
        gain=gain,
    )


def _human_gate(
    ctx: Context, policy: Any, candidate: ModelVersion, prod: ModelVersion, project: str
) -> tuple[tuple[str, str] | None, str]:
    """People's judgement of the candidate against production on the policy's queue:
    ((outcome, reason) when it holds the promotion back, or None; a note for the reason
    when it lets it through)."""
    queue = policy.human_queue
    if queue is None:
        return None, ""
    with ctx.db.read() as s:
        ids = {
            ref: registry.resolve_row(s, ctx, ref, project)[1].id
            for ref in (candidate.name, prod.name)
        }
    try:
        quality = review_stats.model_quality(ctx, queue, project=project)
    except NotFound:  # the queue is not made yet: nobody can have judged anything
        quality = []
    judged = {q.model_version_id: q for q in quality}
    cand, base = judged.get(ids[candidate.name]), judged.get(ids[prod.name])
    seen = cand.reviewed_items if cand is not None else 0
    if cand is None or cand.accept_rate.value is None or seen < policy.human_min_items:
        return (
            "waiting",
            f"waiting for people to judge {policy.human_min_items} of {candidate.name}'s "
            f"predictions in review queue {queue} (so far {seen})",
        ), ""
    mine = cand.accept_rate.value
    if base is None or base.accept_rate.value is None:
        return None, f"; people accepted {mine:.0%} of its predictions in {queue}"
    theirs = base.accept_rate.value
    if theirs - mine > policy.human_max_drop:
        return (
            "kept",
            f"but people accepted {mine:.0%} of its predictions in {queue} against "
            f"{theirs:.0%} of {prod.name}'s (a drop of {theirs - mine:.1%}, allowed "
            f"{policy.human_max_drop:.1%}), so {prod.name} stays production",
        ), ""
    return None, f"; people accepted {mine:.0%} of its predictions vs {theirs:.0%} in {queue}"


def recheck_waiting(ctx: Context) -> list[DecisionInfo]:
    """Decide the promotions that were waiting for people's judgement, where it has
    arrived since (each waiting decision is decided once; until then nothing is
    recorded, so a worker tick adds no noise)."""
    made: list[DecisionInfo] = []
    with ctx.db.read() as s:
        waiting = [
            (
                d.id,
                d.pipeline_id,
                d.run_id,
                dict(d.detail),
                p.path,
                s.get_one(ProjectRow, p.project_id).name,
            )
            for d, p in s.execute(
                select(PipelineDecisionRow, PipelineRow)
                .join(PipelineRow, PipelineRow.id == PipelineDecisionRow.pipeline_id)
                .where(
                    PipelineDecisionRow.kind == "promotion",
                    PipelineDecisionRow.outcome == "waiting",
                )
                .order_by(PipelineDecisionRow.id)
            ).all()
        ]
    for decision_id, pipeline_id, run_id, detail, path, project in waiting:
        with ctx.db.write() as s:
            newer = s.scalar(
                select(PipelineDecisionRow.id).where(
                    PipelineDecisionRow.pipeline_id == pipeline_id,
                    PipelineDecisionRow.kind == "promotion",
                    PipelineDecisionRow.id > decision_id,
                )
            )
            if newer is not None:
                # A newer candidate came: this one is no longer the one to judge.
                s.get_one(PipelineDecisionRow, decision_id).outcome = "superseded"
                continue
        try:
            p = load(path)
            candidate = registry.resolve(ctx, detail["candidate"], project)
        except GroveError:
            continue
        decided = consider_promotion(
            ctx,
            p,
            pipeline_id,
            run_id or 0,
            candidate,
            detail.get("test_set"),
            project,
            record_waiting=False,
        )
        if decided is not None:
            with ctx.db.write() as s:
                s.get_one(PipelineDecisionRow, decision_id).outcome = "waited"
            made.append(decided)
    return made


# -- rules -----------------------------------------------------------------------------


def dataset_conditions(
    ctx: Context, project: str, spec: dict[str, Any], old: int | None, new: int
) -> tuple[bool, str]:
    """Whether the change from version ``old`` to ``new`` meets the rule, and why."""
    name = spec["dataset"]
    if old is None:
        with ctx.db.read() as s:
            ds, _ = ds_service.dataset_row(s, ctx, project, name)
            rows = ds_service.version_row(s, ds, f"v{new}").row_count
        counts = {"added": rows, "removed": 0, "changed": 0}
        old_rows = 0
        what = f"{name} v{new} (new dataset)"
    else:
        d = table_diff.diff(ctx, name, f"v{old}", f"v{new}", project=project, limit=0)
        counts = {k: int(d[k]) for k in ("added", "removed", "changed")}
        with ctx.db.read() as s:
            ds, _ = ds_service.dataset_row(s, ctx, project, name)
            old_rows = ds_service.version_row(s, ds, f"v{old}").row_count
        what = f"{name} v{old} → v{new}"
    touched = counts["added"] + counts["removed"] + counts["changed"]
    pct = 100.0 * touched / old_rows if old_rows else 100.0
    parts: list[str] = []
    met = False
    conditions = 0
    if (n := spec.get("min_added_rows")) is not None:
        conditions += 1
        ok = counts["added"] >= n
        met |= ok
        parts.append(f"{counts['added']} rows added ({'≥' if ok else '<'} {n})")
    if (pmin := spec.get("min_changed_pct")) is not None:
        conditions += 1
        ok = pct >= pmin
        met |= ok
        parts.append(f"{pct:.2f}% rows changed ({'≥' if ok else '<'} {pmin:g}%)")
    if (split := spec.get("split_changed")) is not None:
        conditions += 1
        ok = old is None or _split_changed(ctx, project, name, old, new, split)
        met |= ok
        parts.append(f"split {split!r} {'changed' if ok else 'unchanged'}")
    if (labels := spec.get("min_reviewed_labels")) is not None:
        conditions += 1
        reviewed = _reviewed_labels(ctx, project, name, old, new)
        ok = reviewed >= labels
        met |= ok
        parts.append(f"{reviewed} reviewed labels committed ({'≥' if ok else '<'} {labels})")
    if conditions == 0:
        met = True
        parts.append(
            f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed"
        )
    return met, f"{what}: " + ", ".join(parts)


def _reviewed_labels(ctx: Context, project: str, name: str, old: int | None, new: int) -> int:
    """Review items whose answers were committed to versions after ``old`` up to ``new``
    (each a label a person reviewed, whether it changed the row or confirmed it)."""
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        rows = s.scalars(
            select(ReviewCommitRow.item_ids)
            .join(DatasetVersionRow, DatasetVersionRow.id == ReviewCommitRow.dataset_version_id)
            .where(
                DatasetVersionRow.dataset_id == ds.id,
                DatasetVersionRow.number > (old or 0),
                DatasetVersionRow.number <= new,
            )
        ).all()
    return sum(len(items) for items in rows)


def _split_changed(ctx: Context, project: str, name: str, old: int, new: int, split: str) -> bool:
    def rows(version: int) -> Any:
        try:
            table = splits.split_rows(ctx, name, f"v{version}", split, project)
        except NotFound:
            return None
        return table.sort_by([(c, "ascending") for c in table.column_names])

    before, after = rows(old), rows(new)
    if before is None or after is None:
        return before is not after
    return not before.equals(after)


def _schedule_due(spec: dict[str, Any], last: datetime | None, now: datetime) -> datetime | None:
    from croniter import croniter

    start = last or now
    due: datetime = croniter(spec["cron"], start).get_next(datetime)
    return due if due <= now else None


def request_run(ctx: Context, name: str, reason: str = "") -> DecisionInfo:
    """Ask the worker to run a pipeline (the API's and web's "run now")."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.read() as s:
        row = s.scalar(select(PipelineRow).where(PipelineRow.name == name))
        if row is None:
            raise NotFound(f"no pipeline named {name!r}", hint="`mlgrove pipeline list` shows them")
        pipeline_id = row.id
    return _decide(
        ctx,
        pipeline_id,
        "trigger",
        "requested",
        reason or f"requested by {ctx.actor_label}",
        detail={"trigger": "manual"},
    )


def check(
    ctx: Context, *, executor: str = "local", jobs: int | None = None, now: datetime | None = None
) -> list[DecisionInfo]:
    """Evaluate every rule and pending request once; run what is due. Returns the
    decisions made (ran, skipped, failed to start)."""
    from mlgrove.services import pipelines as pipeline_service

    ctx.require(Action.WRITE_DATA)
    moment = now or utcnow()
    made: list[DecisionInfo] = []
    pipeline_service.reap_dead_runs(ctx)
    with ctx.db.read() as s:
        todo = [
            (
                r.id,
                r.kind,
                dict(r.spec),
                r.trained_version,
                r.seen_version,
                r.last_fired_at,
                p.id,
                p.path,
                s.get_one(ProjectRow, p.project_id).name,
            )
            for r, p in s.execute(
                select(PipelineRuleRow, PipelineRow)
                .join(PipelineRow, PipelineRow.id == PipelineRuleRow.pipeline_id)
                .where(PipelineRuleRow.enabled.is_(True))
                .order_by(PipelineRuleRow.id)
            ).all()
        ]
        requests = [
            (d.id, d.pipeline_id, d.reason, p.path, s.get_one(ProjectRow, p.project_id).name)
            for d, p in s.execute(
                select(PipelineDecisionRow, PipelineRow)
                .join(PipelineRow, PipelineRow.id == PipelineDecisionRow.pipeline_id)
                .where(PipelineDecisionRow.outcome == "requested")
                .order_by(PipelineDecisionRow.id)
            ).all()
        ]

    def fire(
        pipeline_id: int, path: str, project: str, trigger: str, reason: str, rule_id: int | None
    ) -> bool:
        try:
            p = load(path, fresh=True)
            result = pipeline_service.run(
                ctx,
                p,
                project=project,
                executor=executor,
                jobs=jobs,
                trigger=trigger,
                reason=reason,
                rule_id=rule_id,
            )
        except GroveError as exc:
            made.append(
                _decide(
                    ctx,
                    pipeline_id,
                    "trigger",
                    "failed",
                    f"due ({reason.removeprefix('retrained: ')}) but could not run: {exc}",
                    rule_id=rule_id,
                )
            )
            return False
        # What this run decided: its trigger, then any promotion, oldest first.
        recent = pipeline_service.decisions(ctx, result.pipeline, limit=20)
        made.extend(reversed([d for d in recent if d.run_id == result.id]))
        return result.status == "succeeded"

    made.extend(recheck_waiting(ctx))

    for decision_id, pipeline_id, reason, path, project in requests:
        with ctx.db.write() as s:
            s.get_one(PipelineDecisionRow, decision_id).outcome = "taken"
        fire(pipeline_id, path, project, "manual", reason, None)

    for rule_id, kind, spec, trained, seen, last_fired, pipeline_id, path, project in todo:
        if kind == "schedule":
            due = _schedule_due(spec, last_fired, moment)
            if due is None:
                continue
            with ctx.db.write() as s:
                s.get_one(PipelineRuleRow, rule_id).last_fired_at = moment
            fire(
                pipeline_id,
                path,
                project,
                "schedule",
                f"schedule {spec['cron']}: due at {due:%Y-%m-%d %H:%M} UTC",
                rule_id,
            )
            continue
        with ctx.db.read() as s:
            proj = ds_service.resolve_project(s, ctx, project)
            ds = ds_service.find_dataset_row(s, proj.id, spec["dataset"])
            latest_row = ds_service.latest_version_row(s, ds.id) if ds else None
            latest = latest_row.number if latest_row else None
        if latest is None or latest == seen:
            continue
        met, reason = dataset_conditions(ctx, project, spec, trained, latest)
        with ctx.db.write() as s:
            s.get_one(PipelineRuleRow, rule_id).seen_version = latest
        if not met:
            made.append(
                _decide(
                    ctx,
                    pipeline_id,
                    "trigger",
                    "skipped",
                    f"not retrained: {reason}",
                    rule_id=rule_id,
                    detail={"version": latest},
                )
            )
            continue
        if fire(pipeline_id, path, project, "dataset", f"retrained: {reason}", rule_id):
            with ctx.db.write() as s:
                s.get_one(PipelineRuleRow, rule_id).trained_version = latest
    return made
