"""What reviews say: agreement between reviewers, each reviewer's coaching view, and
human-judged quality per model version."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from mlgrove.domain import agreement
from mlgrove.domain import growth_policy as policy
from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.review import Coaching, ModelQuality, TaskType
from mlgrove.errors import NotFound, PermissionDenied
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.services.review import queue_row, queue_value
from mlgrove.store.models import PersonRow
from mlgrove.store.models.review import ReviewerRow, ReviewItemRow, ReviewVerdictRow


def agreement_report(
    ctx: Context,
    queue: str,
    *,
    level: agreement.Level | str = agreement.Level.NOMINAL,
    criterion: str | None = None,
    project: str | None = None,
    resamples: int = agreement.DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> agreement.AgreementReport:
    """Agreement over the queue's items rated by two or more reviewers.

    Labels are coded in the queue's label order, so ``ordinal`` follows it; for rubric
    queues the ratings of ``criterion`` (default: the first) are compared.
    """
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        q = queue_value(qrow, proj)
        rows = s.execute(
            select(ReviewVerdictRow.item_id, ReviewVerdictRow.reviewer_id, ReviewVerdictRow.answer)
            .where(ReviewVerdictRow.queue_id == q.id)
            .order_by(ReviewVerdictRow.item_id)
        ).all()
    units: dict[int, dict[int, Any]] = defaultdict(dict)
    reviewers: dict[int, int] = {}
    for item_id, reviewer_id, answer in rows:
        units[item_id][reviewer_id] = rules.rating_value(q, answer, criterion)
        reviewers.setdefault(reviewer_id, len(reviewers))
    table = [[None] * len(reviewers) for _ in units]
    for i, by_reviewer in enumerate(units.values()):
        for rid, value in by_reviewer.items():
            table[i][reviewers[rid]] = value
    order: list[Any] | None = None
    if q.task_type is TaskType.LABEL and not q.multi_label and _numeric(q.labels):
        # Labels that are numbers ("1".."5") are compared as numbers: interval and ratio
        # distances need the values, not the positions in the label set.
        table = [[None if v is None else float(v) for v in row] for row in table]
    elif q.task_type is TaskType.LABEL and not q.multi_label:
        order = list(q.labels)
    elif q.task_type is TaskType.PAIRWISE:
        order = ["a", "tie", "b"]  # so ordinal treats a tie as between the two
    return agreement.agreement_report(
        table, level=level, order=order, resamples=resamples, confidence=confidence, seed=seed
    )


def coaching(ctx: Context, queue: str, reviewer: str, *, project: str | None = None) -> Coaching:
    """A reviewer's accuracy on gold items and the labels they confuse.

    Only the reviewer and their manager may read it (the growth privacy policy); a
    manager's read is audit-logged. There is deliberately no list over reviewers.
    """
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        person = s.scalar(select(PersonRow).where(PersonRow.username == reviewer))
        if person is None:
            raise NotFound(f"no person {reviewer!r}")
        viewer = policy.Viewer(
            id=ctx.actor.id, team_id=ctx.actor.team_id, is_admin=ctx.actor.is_admin
        )
        subject = policy.Subject(id=person.id, team_id=person.team_id, manager_id=person.manager_id)
        if not policy.may_read(viewer, subject, policy.Item(kind=policy.DataKind.COACHING_FIGURES)):
            raise PermissionDenied(
                f"{reviewer}'s coaching figures are visible to them and their manager only"
            )
        qrow, proj = queue_row(s, ctx, queue, project)
        q = queue_value(qrow, proj)
        rid = s.scalar(select(ReviewerRow.id).where(ReviewerRow.person_id == person.id))
        rows = (
            s.execute(
                select(ReviewVerdictRow.answer, ReviewItemRow.gold)
                .join(ReviewItemRow, ReviewItemRow.id == ReviewVerdictRow.item_id)
                .where(
                    ReviewVerdictRow.queue_id == q.id,
                    ReviewVerdictRow.reviewer_id == rid,
                    ReviewItemRow.gold.is_not(None),
                )
            ).all()
            if rid is not None
            else []
        )
    pairs = [
        (str(rules.rating_value(q, gold)), str(rules.rating_value(q, answer)))
        for answer, gold in rows
        if gold is not None
    ]
    correct = sum(1 for expected, given in pairs if expected == given)
    if person.id != ctx.actor.id:
        with ctx.db.write() as s:
            audit.record(
                s,
                ctx.actor_label,
                "review.coaching.read",
                f"person:{person.id}",
                f"queue {q.project}/{q.name}",
            )
    return Coaching(
        reviewer=reviewer,
        gold_items=len(pairs),
        correct=correct,
        accuracy=rules.wilson(correct, len(pairs)),
        confusion=rules.confusion(pairs),
    )


def model_quality(ctx: Context, queue: str, *, project: str | None = None) -> list[ModelQuality]:
    """Human-judged quality per model version reviewed in the queue.

    The accept rate counts only the reserved random slice, so prioritising uncertain
    items does not bias it; rubric means and pairwise win rates use every verdict.
    """
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        q = queue_value(qrow, proj)
        rows = s.execute(
            select(
                ReviewItemRow.model_version_id,
                ReviewItemRow.random_slice,
                ReviewItemRow.prediction,
                ReviewItemRow.payload,
                ReviewVerdictRow.answer,
                ReviewVerdictRow.item_id,
            )
            .join(ReviewItemRow, ReviewItemRow.id == ReviewVerdictRow.item_id)
            .where(ReviewVerdictRow.queue_id == q.id)
        ).all()
    accept: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    ratings: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    wins: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    items: dict[int, set[int]] = defaultdict(set)
    for mv, in_slice, prediction, payload, answer, item_id in rows:
        if "choice" in answer:
            pair = payload.get("models") or {}
            a, b = pair.get("a"), pair.get("b")
            for side, mv_id in (("a", a), ("b", b)):
                if mv_id is None:
                    continue
                score = 0.5 if answer["choice"] == "tie" else float(answer["choice"] == side)
                wins[int(mv_id)][0] += score
                wins[int(mv_id)][1] += 1
                items[int(mv_id)].add(item_id)
            continue
        if mv is None:
            continue
        items[mv].add(item_id)
        if "ratings" in answer:
            for c, v in answer["ratings"].items():
                ratings[mv][c].append(int(v))
        ok = rules.accepted(q, prediction, answer)
        if ok is not None and in_slice:
            accept[mv][0] += int(ok)
            accept[mv][1] += 1
    out = []
    for mv in sorted(set(items)):
        out.append(
            ModelQuality(
                model_version_id=mv,
                accept_rate=rules.wilson(accept[mv][0], accept[mv][1]),
                rubric_means={c: sum(v) / len(v) for c, v in ratings[mv].items() if v},
                pairwise=rules.wilson(wins[mv][0], int(wins[mv][1])),
                reviewed_items=len(items[mv]),
            )
        )
    return out


def _numeric(labels: list[str]) -> bool:
    try:
        [float(label) for label in labels]
    except ValueError:
        return False
    return bool(labels)
