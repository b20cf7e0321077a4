"""Assignment: hand out the next item under a lease, take verdicts, skip, undo, adjudicate.

Each item keeps ``slots``: the verdicts it still wants minus its live leases. Taking a
lease uses a slot; a verdict keeps it used; a skip, an expired lease or an undo gives it
back. The next-item query is therefore one index range scan (queue, open, priority)
filtered on ``slots > 0`` and on what this reviewer already did, inside the same write
transaction that takes the lease (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so
concurrent reviewers never wait on each other or get the same slot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import Session

from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.review import Assignment, ItemStatus, Queue, Verdict
from mlgrove.errors import Conflict, InvalidInput, NotFound
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.services.review import (
    count_status_change,
    item_value,
    queue_row,
    queue_value,
    reviewer_row,
)
from mlgrove.store.models.review import (
    ReviewerRow,
    ReviewItemRow,
    ReviewLeaseRow,
    ReviewQueueRow,
    ReviewSkipRow,
    ReviewVerdictRow,
)

#: Candidates looked at per next-item call before giving up on this pass.
CANDIDATES = 64


def verdict_value(row: ReviewVerdictRow, reviewer: str) -> Verdict:
    return Verdict(
        id=row.id,
        item_id=row.item_id,
        reviewer=reviewer,
        answer=dict(row.answer),
        improve=row.improve,
        tags=list(row.tags),
        seconds=row.seconds,
        created_at=row.created_at,
    )


def reclaim_expired(s: Session, queue_id: int) -> int:
    """Give the slots of expired leases back (abandoned items come back)."""
    now = utcnow()
    expired = s.execute(
        select(ReviewLeaseRow.id, ReviewLeaseRow.item_id).where(
            ReviewLeaseRow.queue_id == queue_id, ReviewLeaseRow.expires_at <= now
        )
    ).all()
    if not expired:
        return 0
    s.execute(delete(ReviewLeaseRow).where(ReviewLeaseRow.id.in_([e.id for e in expired])))
    for e in expired:
        s.execute(
            update(ReviewItemRow)
            .where(ReviewItemRow.id == e.item_id)
            .values(slots=ReviewItemRow.slots + 1)
        )
    return len(expired)


def _assignment(
    s: Session, item: ReviewItemRow, expires_at: datetime, queue: ReviewQueueRow | None = None
) -> Assignment:
    """``queue``: the queue row read in this transaction, when nothing changed its counters
    since (saves a query on the next-item path)."""
    if queue is not None:
        done, total = queue.items_resolved, queue.items_total
    else:
        done, total = s.execute(
            select(ReviewQueueRow.items_resolved, ReviewQueueRow.items_total).where(
                ReviewQueueRow.id == item.queue_id
            )
        ).one()
    return Assignment(item=item_value(item), expires_at=expires_at, done=done, total=total)


def next_item(ctx: Context, queue: str, *, project: str | None = None) -> Assignment | None:
    """The reviewer's current item, or a new one leased to them; None when nothing is left
    for them (everything done, skipped by them, or leased to others)."""
    ctx.require(Action.REVIEW)
    with ctx.db.write() as s:
        qrow, _ = queue_row(s, ctx, queue, project)
        me = reviewer_row(s, ctx.actor)
        now = utcnow()
        reclaim_expired(s, qrow.id)
        held = s.execute(
            select(ReviewLeaseRow, ReviewItemRow)
            .join(ReviewItemRow, ReviewItemRow.id == ReviewLeaseRow.item_id)
            .where(ReviewLeaseRow.queue_id == qrow.id, ReviewLeaseRow.reviewer_id == me.id)
            .order_by(ReviewLeaseRow.id)
            .limit(1)
        ).first()
        expires = now + timedelta(seconds=qrow.lease_seconds)
        if held is not None:
            lease, item = held
            # Core statements, not the unit of work: this is the hot path.
            s.execute(
                update(ReviewLeaseRow)
                .where(ReviewLeaseRow.id == lease.id)
                .values(expires_at=expires)
            )
            return _assignment(s, item, expires, qrow)
        done_by_me = exists().where(
            ReviewVerdictRow.item_id == ReviewItemRow.id, ReviewVerdictRow.reviewer_id == me.id
        )
        skipped_by_me = exists().where(
            ReviewSkipRow.item_id == ReviewItemRow.id, ReviewSkipRow.reviewer_id == me.id
        )
        query = (
            select(ReviewItemRow)
            .where(
                ReviewItemRow.queue_id == qrow.id,
                ReviewItemRow.status == ItemStatus.OPEN.value,
                ReviewItemRow.slots > 0,
                ~done_by_me,
                ~skipped_by_me,
            )
            # Both descending, so the index is read backwards and never sorted (equal
            # priorities: the newest item first).
            .order_by(ReviewItemRow.priority.desc(), ReviewItemRow.id.desc())
            .limit(1)
        )
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        found = s.scalar(query)
        if found is None:
            return None
        s.execute(
            update(ReviewItemRow)
            .where(ReviewItemRow.id == found.id)
            .values(slots=ReviewItemRow.slots - 1)
            .execution_options(synchronize_session=False)
        )
        s.execute(
            insert(ReviewLeaseRow).values(
                queue_id=qrow.id, item_id=found.id, reviewer_id=me.id, expires_at=expires
            )
        )
        return _assignment(s, found, expires, qrow)


def _reviewer_names(s: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        s.execute(select(ReviewerRow.id, ReviewerRow.name).where(ReviewerRow.id.in_(ids))).all()
    )


def gold_weights(s: Session, queue_id: int, reviewer_ids: Sequence[int]) -> dict[str, float]:
    """Each reviewer's vote weight from their gold results in this queue."""
    rows = s.execute(
        select(ReviewVerdictRow.reviewer_id, ReviewVerdictRow.answer, ReviewItemRow.gold)
        .join(ReviewItemRow, ReviewItemRow.id == ReviewVerdictRow.item_id)
        .where(
            ReviewVerdictRow.queue_id == queue_id,
            ReviewVerdictRow.reviewer_id.in_(reviewer_ids),
            ReviewItemRow.gold.is_not(None),
        )
    ).all()
    tally: dict[int, list[int]] = {r: [0, 0] for r in reviewer_ids}
    for rid, answer, gold in rows:
        if gold is None:
            continue
        tally[rid][1] += 1
        tally[rid][0] += rules.answer_key(answer) == rules.answer_key(gold)
    names = _reviewer_names(s, list(reviewer_ids))
    return {names[r]: rules.gold_weight(c, t) for r, (c, t) in tally.items()}


def settle(s: Session, queue: Queue, item: ReviewItemRow) -> None:
    """Resolve an item that has all its verdicts; bump a disputed one that has not."""
    rows = s.execute(
        select(ReviewVerdictRow.reviewer_id, ReviewVerdictRow.answer).where(
            ReviewVerdictRow.item_id == item.id
        )
    ).all()
    names = _reviewer_names(s, [r.reviewer_id for r in rows])
    answers = [(names[r.reviewer_id], dict(r.answer)) for r in rows]
    disputed = rules.disagree([a for _, a in answers])
    before = item.status
    _settle(s, queue, item, rows, answers, disputed)
    count_status_change(s, queue.id, before, item.status)


def _settle(
    s: Session,
    queue: Queue,
    item: ReviewItemRow,
    rows: Sequence[Any],
    answers: list[tuple[str, dict[str, Any]]],
    disputed: bool,
) -> None:
    if item.verdict_count < queue.overlap:
        item.status = ItemStatus.OPEN.value
        item.answer = None
        item.priority = rules.priority(
            item.uncertainty,
            random_slice=item.random_slice,
            negative_feedback=item.negative_feedback,
            disagreement=disputed,
        )
        return
    weights = None
    if queue.consensus is rules.Consensus.WEIGHTED:
        weights = gold_weights(s, queue.id, [r.reviewer_id for r in rows])
    resolution = rules.resolve(queue, answers, weights)
    item.status = resolution.status.value
    item.answer = resolution.answer
    item.resolved_by = "consensus" if resolution.answer is not None else None


def submit(
    ctx: Context,
    item_id: int,
    answer: Mapping[str, Any],
    *,
    improve: str = "",
    tags: Sequence[str] = (),
    seconds: float | None = None,
    submit_key: str | None = None,
) -> Verdict:
    """Record the reviewer's verdict on an item leased to them.

    Idempotent with ``submit_key``: sending the same key again returns the first verdict
    (a retried request after a lost response); a second verdict without it is a Conflict.
    """
    ctx.require(Action.REVIEW)
    improve, clean_tags = rules.check_notes(improve, tags)
    if seconds is not None and not 0 <= seconds <= 86_400:
        raise InvalidInput("seconds spent must be between 0 and 86400")
    if submit_key is not None and not 1 <= len(submit_key) <= 100:
        raise InvalidInput("a submit key needs 1-100 characters")
    with ctx.db.write() as s:
        item = s.get(ReviewItemRow, item_id, with_for_update=not ctx.db.is_sqlite)
        if item is None:
            raise NotFound(f"no review item {item_id}")
        qrow = s.get_one(ReviewQueueRow, item.queue_id)
        queue = queue_value(qrow, "")
        me = reviewer_row(s, ctx.actor)
        earlier = s.scalar(
            select(ReviewVerdictRow).where(
                ReviewVerdictRow.item_id == item.id, ReviewVerdictRow.reviewer_id == me.id
            )
        )
        if earlier is not None:
            if submit_key is not None and earlier.submit_key == submit_key:
                return verdict_value(earlier, me.name)
            raise Conflict(
                f"you already gave a verdict on item {item_id}",
                hint="undo it first (U on the review screen) to change it",
            )
        lease = s.scalar(
            select(ReviewLeaseRow).where(
                ReviewLeaseRow.item_id == item.id, ReviewLeaseRow.reviewer_id == me.id
            )
        )
        if lease is None or lease.expires_at <= utcnow():
            raise Conflict(
                f"item {item_id} is not leased to you"
                + (" (your lease expired)" if lease is not None else ""),
                hint="take the next item of the queue, then give your verdict on it",
            )
        clean = rules.check_answer(queue, answer)
        s.delete(lease)
        row = ReviewVerdictRow(
            queue_id=queue.id,
            item_id=item.id,
            reviewer_id=me.id,
            answer=clean,
            improve=improve,
            tags=clean_tags,
            seconds=seconds,
            submit_key=submit_key,
        )
        s.add(row)
        item.verdict_count += 1
        s.flush()
        settle(s, queue, item)
        return verdict_value(row, me.name)


def skip(ctx: Context, item_id: int) -> None:
    """Give the item back; it will not be offered to this reviewer again."""
    ctx.require(Action.REVIEW)
    with ctx.db.write() as s:
        item = s.get(ReviewItemRow, item_id)
        if item is None:
            raise NotFound(f"no review item {item_id}")
        me = reviewer_row(s, ctx.actor)
        lease = s.scalar(
            select(ReviewLeaseRow).where(
                ReviewLeaseRow.item_id == item.id, ReviewLeaseRow.reviewer_id == me.id
            )
        )
        if lease is None:
            raise Conflict(f"item {item_id} is not leased to you", hint="nothing to skip")
        s.delete(lease)
        item.slots += 1
        s.add(ReviewSkipRow(item_id=item.id, reviewer_id=me.id))


def undo(ctx: Context, queue: str, *, project: str | None = None) -> Assignment:
    """Take back the reviewer's last verdict in a queue; the item is leased to them again."""
    ctx.require(Action.REVIEW)
    with ctx.db.write() as s:
        qrow, _ = queue_row(s, ctx, queue, project)
        me = reviewer_row(s, ctx.actor)
        last = s.scalar(
            select(ReviewVerdictRow)
            .where(ReviewVerdictRow.queue_id == qrow.id, ReviewVerdictRow.reviewer_id == me.id)
            .order_by(ReviewVerdictRow.id.desc())
            .limit(1)
        )
        if last is None:
            raise NotFound("you have no verdict in this queue to undo")
        item = s.get_one(ReviewItemRow, last.item_id)
        if item.committed_version_id is not None:
            raise Conflict(
                f"item {item.id} was already committed to the training data",
                hint="correct it with a new verdict through an adjudicator instead",
            )
        if item.resolved_by not in (None, "consensus"):
            raise Conflict(f"item {item.id} was decided by an adjudicator")
        # The reviewer's own lease on another item gives its slot back first: one at a time.
        for other in s.scalars(
            select(ReviewLeaseRow).where(
                ReviewLeaseRow.queue_id == qrow.id, ReviewLeaseRow.reviewer_id == me.id
            )
        ):
            s.get_one(ReviewItemRow, other.item_id).slots += 1
            s.delete(other)
        s.delete(last)
        item.verdict_count -= 1
        s.flush()
        settle(s, queue_value(qrow, ""), item)
        lease = ReviewLeaseRow(
            queue_id=qrow.id,
            item_id=item.id,
            reviewer_id=me.id,
            expires_at=utcnow() + timedelta(seconds=qrow.lease_seconds),
        )
        s.add(lease)
        s.flush()
        return _assignment(s, item, lease.expires_at)


def adjudicate(ctx: Context, item_id: int, answer: Mapping[str, Any]) -> None:
    """Decide an item (typically one in conflict). Needs write access to the data."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        item = s.get(ReviewItemRow, item_id)
        if item is None:
            raise NotFound(f"no review item {item_id}")
        queue = queue_value(s.get_one(ReviewQueueRow, item.queue_id), "")
        item.answer = rules.check_answer(queue, answer)
        count_status_change(s, queue.id, item.status, ItemStatus.RESOLVED.value)
        item.status = ItemStatus.RESOLVED.value
        item.resolved_by = ctx.actor_label
        audit.record(s, ctx.actor_label, "review.adjudicate", f"review_item:{item.id}")


def set_gold(ctx: Context, item_id: int, answer: Mapping[str, Any] | None) -> None:
    """Make an item a gold item with a known answer (or clear it with None)."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        item = s.get(ReviewItemRow, item_id)
        if item is None:
            raise NotFound(f"no review item {item_id}")
        queue = queue_value(s.get_one(ReviewQueueRow, item.queue_id), "")
        item.gold = None if answer is None else rules.check_answer(queue, answer)


def my_verdicts(ctx: Context, queue: str, *, project: str | None = None) -> list[Verdict]:
    """The acting reviewer's own verdicts in a queue, newest first."""
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        qrow, _ = queue_row(s, ctx, queue, project)
        me = s.scalar(select(ReviewerRow).where(ReviewerRow.person_id == ctx.actor.id))
        if me is None and ctx.actor.id == 0:
            me = s.scalar(select(ReviewerRow).where(ReviewerRow.name == ctx.actor.username))
        if me is None:
            return []
        rows = s.scalars(
            select(ReviewVerdictRow)
            .where(ReviewVerdictRow.queue_id == qrow.id, ReviewVerdictRow.reviewer_id == me.id)
            .order_by(ReviewVerdictRow.id.desc())
        )
        return [verdict_value(r, me.name) for r in rows]
