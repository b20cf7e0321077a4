"""What the web's adjudication page and the end of a review session show.

- :func:`conflicts`: a queue's items in conflict, each with every reviewer's verdict, for
  the person who decides them (deciding is ``review_assign.adjudicate``). Only people who
  may change data see them: a reviewer who saw the others' answers would be swayed.
- :func:`my_progress`: how many items the acting reviewer judged in a queue and what is
  left in it, for the "queue done" state of the review screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from mlgrove.domain.authz import Action
from mlgrove.domain.review import Item, ItemStatus, Queue
from mlgrove.services.context import Context
from mlgrove.services.review import item_value, queue_progress, queue_row, queue_value
from mlgrove.store.models.review import ReviewerRow, ReviewItemRow, ReviewVerdictRow

#: Conflicts shown on one page.
PAGE = 50


@dataclass(frozen=True)
class ReviewerVerdict:
    reviewer: str
    answer: dict[str, Any]
    improve: str
    seconds: float | None


@dataclass(frozen=True)
class Conflict:
    item: Item
    verdicts: list[ReviewerVerdict]


@dataclass(frozen=True)
class ConflictPage:
    queue: Queue
    conflicts: list[Conflict]
    remaining: int  # items in conflict in the queue, this page included


def conflicts(
    ctx: Context, queue: str, *, project: str | None = None, after_id: int = 0, limit: int = PAGE
) -> ConflictPage:
    """The queue's items in conflict (oldest first, keyset-paged), with their verdicts."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        rows = s.scalars(
            select(ReviewItemRow)
            .where(
                ReviewItemRow.queue_id == qrow.id,
                ReviewItemRow.status == ItemStatus.CONFLICT.value,
                ReviewItemRow.id > after_id,
            )
            .order_by(ReviewItemRow.id)
            .limit(min(max(limit, 1), 500))
        ).all()
        verdicts: dict[int, list[ReviewerVerdict]] = {}
        if rows:
            for v, name in s.execute(
                select(ReviewVerdictRow, ReviewerRow.name)
                .join(ReviewerRow, ReviewerRow.id == ReviewVerdictRow.reviewer_id)
                .where(ReviewVerdictRow.item_id.in_([r.id for r in rows]))
                .order_by(ReviewVerdictRow.id)
            ).all():
                verdicts.setdefault(v.item_id, []).append(
                    ReviewerVerdict(name, dict(v.answer), v.improve, v.seconds)
                )
        return ConflictPage(
            queue=queue_value(qrow, proj),
            conflicts=[Conflict(item_value(r), verdicts.get(r.id, [])) for r in rows],
            remaining=queue_progress(s, qrow.id).conflict,
        )


@dataclass(frozen=True)
class MyProgress:
    queue: Queue
    reviewed_by_me: int  # items the acting person gave a verdict on
    open: int  # items still waiting for verdicts (from others, or after a skip)
    conflict: int  # items waiting for an adjudicator
    resolved: int
    total: int


def my_progress(ctx: Context, queue: str, *, project: str | None = None) -> MyProgress:
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        me = s.scalar(select(ReviewerRow.id).where(ReviewerRow.person_id == ctx.actor.id))
        if me is None and ctx.actor.id == 0:  # the embedded owner's identity goes by name
            me = s.scalar(select(ReviewerRow.id).where(ReviewerRow.name == ctx.actor.username))
        mine: int | None = None
        if me is not None:
            mine = s.scalar(
                select(func.count())
                .select_from(ReviewVerdictRow)
                .where(ReviewVerdictRow.queue_id == qrow.id, ReviewVerdictRow.reviewer_id == me)
            )
        counts = queue_progress(s, qrow.id)
        return MyProgress(
            queue=queue_value(qrow, proj),
            reviewed_by_me=int(mine or 0),
            open=counts.open,
            conflict=counts.conflict,
            resolved=counts.resolved,
            total=counts.total,
        )
