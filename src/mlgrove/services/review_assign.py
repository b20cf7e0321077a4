"""Assignment: hand out the next item under a lease, take verdicts, skip, undo, adjudicate.

Each item keeps ``slots``: the verdicts it still wants minus its live leases. Taking a
lease uses a slot; a verdict keeps it used; a skip, an expired lease or an undo gives it
back. So "overlap k distinct reviewers" needs no counting of rows: the next-item claim
is one ``UPDATE ... RETURNING`` over the ``(queue, status, priority)`` index filtered on
``slots > 0`` and on what this reviewer already did (``store/repos/review_claim.py``
holds the statements and why they are shaped so).

The hot paths (next item, verdict, skip) run a handful of prebuilt Core statements in one
short write transaction. On PostgreSQL those transactions run concurrently: the claim
skips rows others have locked (``SKIP LOCKED``), counters move by SQL increments, and a
lease is checked and deleted in one statement, so no read-then-write can race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
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
    ReviewQueueRow,
    ReviewVerdictRow,
)
from mlgrove.store.repos import review_claim as claims
from mlgrove.store.repos.review_claim import Me


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


def _me(ctx: Context) -> Me:
    return Me(ctx.actor.id, ctx.actor.username)


def _lock_item(ctx: Context) -> dict[str, Any] | bool:
    """``with_for_update`` for an ORM load of an item that is changed from Python: a row
    lock on PostgreSQL (NO KEY UPDATE, like the claim); SQLite writes are serialised."""
    return False if ctx.db.is_sqlite else {"key_share": True}


# -- next item -------------------------------------------------------------------------------


def next_item(ctx: Context, queue: str, *, project: str | None = None) -> Assignment | None:
    """The reviewer's current item, or a new one leased to them; None when nothing is left
    for them (everything done, skipped by them, or leased to others).

    Expired leases of the queue are given back first (abandoned items come back)."""
    ctx.require(Action.REVIEW)
    if project is not None and not ctx.db.is_sqlite:
        # PostgreSQL: the whole transaction is one server-side call (migration 0012,
        # ADR 0013); the path below only runs for a first use or to explain a miss.
        row = claims.next_direct(ctx.db.direct, project, queue, _me(ctx), utcnow())
        if row is not None:
            if row.id is None:
                return None
            return Assignment(
                item=item_value(row),
                expires_at=row.lease_expires.replace(tzinfo=UTC),
                done=row.q_resolved,
                total=row.q_total,
            )
    with ctx.db.write() as s:
        conn = s.connection()
        claims.begin_next(conn, _me(ctx))
        now = utcnow()
        rows = _queue_and_me(s, conn, ctx, queue, project, now)
        found = rows[0]
        expires = now + timedelta(seconds=found.q_lease_seconds)
        held = None
        expired = set()
        for row in rows:
            if row.expired_id is not None:
                expired.add(row.expired_id)
            if row.lease_id is not None:
                if row.lease_expires <= now:
                    expired.add(row.lease_id)
                elif held is None:
                    held = row
        if held is not None:
            # A page reload keeps your place (and the lease its full time).
            claims.extend_lease(conn, held.lease_id, expires)
        claims.give_back(conn, sorted(expired))
        if held is not None:
            return _assignment(held, expires, found)
        item = claims.claim(conn, found.q_id, found.me, expires)
        if item is None:
            return None
        return _assignment(item, expires, found)


def _queue_and_me(
    s: Session, conn: Connection, ctx: Context, queue: str, project: str | None, now: datetime
) -> list[Any]:
    """:func:`claims.lookup_queue`: one statement when the project is named and the
    reviewer identity exists; otherwise the ORM path finds the project, explains what is
    missing, or makes the identity (first use)."""
    me = _me(ctx)
    if project is not None:
        rows = claims.lookup_queue(conn, project, queue, me, now)
        if rows:
            return rows
    qrow, project_name = queue_row(s, ctx, queue, project)
    reviewer_row(s, ctx.actor)
    s.flush()
    rows = claims.lookup_queue(conn, project_name, qrow.name, me, now)
    assert rows  # both exist now, in this transaction
    return rows


def _assignment(item: Any, expires_at: datetime, queue: Any) -> Assignment:
    return Assignment(
        item=item_value(item),
        expires_at=expires_at,
        done=queue.q_resolved,
        total=queue.q_total,
    )


# -- verdicts --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Outcome:
    """An item's state once its verdicts are counted."""

    status: str
    answer: Any
    priority: float
    resolved_by: str | None


def outcome(
    s: Session | None,
    queue: Queue,
    item: Any,
    verdicts: Sequence[tuple[int, str, dict[str, Any]]],
) -> Outcome:
    """Resolve an item that has all its verdicts ``(reviewer id, name, answer)``; an item
    still waiting for some goes back to the open items, bumped when its verdicts disagree.

    ``item``: anything with the item's ``verdict_count``, ``uncertainty``,
    ``random_slice``, ``negative_feedback``, ``priority`` and ``resolved_by``.
    """
    answers = [(name, answer) for _, name, answer in verdicts]
    if item.verdict_count < queue.overlap:
        disputed = rules.disagree([a for _, a in answers])
        priority = rules.priority(
            item.uncertainty,
            random_slice=item.random_slice,
            negative_feedback=item.negative_feedback,
            disagreement=disputed,
        )
        return Outcome(ItemStatus.OPEN.value, None, priority, item.resolved_by)
    weights = None
    if queue.consensus is rules.Consensus.WEIGHTED:
        assert s is not None, "gold weights are read through a session"
        weights = gold_weights(s, queue.id, [rid for rid, _, _ in verdicts])
    resolution = rules.resolve(queue, answers, weights)
    return Outcome(
        resolution.status.value,
        resolution.answer,
        item.priority,
        "consensus" if resolution.answer is not None else None,
    )


def _settle(
    s: Session | None,
    conn: claims.Conn,
    queue: Queue,
    item_id: int,
    counted: Any,
    mine: Any,
    reviewer: int,
) -> None:
    """Settle an item after ``reviewer``'s verdict count on it changed (``counted``: the
    item's values the count's ``UPDATE ... RETURNING`` gave, read under its row lock).
    ``mine``: the only verdict, when the count says there is just one (saves reading it
    back)."""
    if counted.verdict_count == 0:
        verdicts: list[tuple[int, str, dict[str, Any]]] = []
    elif counted.verdict_count == 1 and mine is not None:
        verdicts = [mine]
    else:
        verdicts = [
            (r.reviewer_id, r.name, dict(r.answer)) for r in claims.verdicts_of(conn, item_id)
        ]
    new = outcome(s, queue, counted, verdicts)
    resolved = ItemStatus.RESOLVED.value
    claims.settle(
        conn,
        item_id,
        status=new.status,
        answer=new.answer,
        priority=new.priority,
        resolved_by=new.resolved_by,
        queue_id=queue.id,
        resolved_delta=(new.status == resolved) - (counted.status == resolved),
        reviewer=reviewer,
    )


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
    notes = _Notes(improve, clean_tags, seconds, submit_key)
    if not ctx.db.is_sqlite:
        done = _submit_direct(ctx, item_id, answer, notes)
        if done is not None:
            return done
    with ctx.db.write() as s:
        conn = s.connection()
        found = claims.lookup_submit(conn, item_id, _me(ctx))
        if found is None:
            if s.get(ReviewItemRow, item_id) is None:
                raise NotFound(f"no review item {item_id}")
            reviewer_row(s, ctx.actor)  # first use: nothing can be leased to them yet
            s.flush()
            found = claims.lookup_submit(conn, item_id, _me(ctx))
            assert found is not None
        queue = queue_value(found, "")
        if found.earlier_id is not None:
            return _earlier(s, item_id, found.earlier_id, found.me_name, submit_key)
        now = utcnow()
        if found.lease_expires is None or found.lease_expires <= now:
            raise _not_leased(item_id, expired=found.lease_expires is not None)
        verdict = _hand_in(s, conn, queue, item_id, found, answer, notes, now)
        if verdict is None:
            # Lost a race: another request of theirs handed it in (or a reclaim took the
            # lease) between the look-up and here. Nothing was written.
            again = claims.lookup_submit(conn, item_id, _me(ctx))
            if again is not None and again.earlier_id is not None:
                return _earlier(s, item_id, again.earlier_id, found.me_name, submit_key)
            raise _not_leased(item_id, expired=True)
        return verdict


@dataclass(frozen=True)
class _Notes:
    """What a verdict carries besides its answer."""

    improve: str
    tags: list[str]
    seconds: float | None
    submit_key: str | None


def _hand_in(
    s: Session | None,
    conn: claims.Conn,
    queue: Queue,
    item_id: int,
    found: Any,
    answer: Mapping[str, Any],
    notes: _Notes,
    now: datetime,
) -> Verdict | None:
    """Check the answer, hand the verdict in (the live lease taken, the verdict written
    and counted) and settle the item; None, with nothing written, when the reviewer no
    longer holds a live lease on it. ``found``: :func:`claims.lookup_submit`'s row."""
    clean = rules.check_answer(queue, answer)  # a refusal raises before any write
    values = {
        "queue_id": queue.id,
        "item_id": item_id,
        "reviewer_id": found.me,
        "answer": clean,
        "improve": notes.improve,
        "tags": notes.tags,
        "seconds": notes.seconds,
        "submit_key": notes.submit_key,
        "created_at": now,
    }
    handed = claims.hand_in(conn, values, now)
    if handed is None:
        return None
    verdict_id, counted = handed
    mine = (found.me, found.me_name, clean)
    _settle(s, conn, queue, item_id, counted, mine, found.me)
    return Verdict(
        id=verdict_id,
        item_id=item_id,
        reviewer=found.me_name,
        answer=clean,
        improve=notes.improve,
        tags=notes.tags,
        seconds=notes.seconds,
        created_at=now,
    )


def _submit_direct(
    ctx: Context, item_id: int, answer: Mapping[str, Any], notes: _Notes
) -> Verdict | None:
    """PostgreSQL: the usual verdict (a live lease, no earlier verdict, a queue without
    gold-weighted consensus) in one transaction on a direct connection, without an ORM
    session (ADR 0017). The same statements and checks as :func:`submit`'s session
    path, in the same order. None for anything else, with nothing written: that path
    then explains it or handles it."""
    me = _me(ctx)

    def work(conn: claims.Conn) -> Verdict | None:
        found = claims.lookup_submit(conn, item_id, me)
        if found is None or found.earlier_id is not None:
            return None
        now = utcnow()
        if found.lease_expires is None or found.lease_expires <= now:
            return None
        queue = queue_value(found, "")
        if queue.consensus is rules.Consensus.WEIGHTED:
            return None  # gold weights are read through the session
        # None when a race was lost (nothing written): the session path explains it.
        return _hand_in(None, conn, queue, item_id, found, answer, notes, now)

    return ctx.db.direct.transaction(work)


def _earlier(
    s: Session, item_id: int, verdict_id: int, reviewer: str, submit_key: str | None
) -> Verdict:
    """The verdict already given: returned again for the same submit key (a retry),
    otherwise a Conflict."""
    earlier = s.get_one(ReviewVerdictRow, verdict_id)
    if submit_key is not None and earlier.submit_key == submit_key:
        return verdict_value(earlier, reviewer)
    raise Conflict(
        f"you already gave a verdict on item {item_id}",
        hint="undo it first (U on the review screen) to change it",
    )


def _not_leased(item_id: int, *, expired: bool) -> Conflict:
    return Conflict(
        f"item {item_id} is not leased to you" + (" (your lease expired)" if expired else ""),
        hint="take the next item of the queue, then give your verdict on it",
    )


def skip(ctx: Context, item_id: int) -> None:
    """Give the item back; it will not be offered to this reviewer again."""
    ctx.require(Action.REVIEW)
    with ctx.db.write() as s:
        conn = s.connection()
        if s.get(ReviewItemRow, item_id) is None:
            raise NotFound(f"no review item {item_id}")
        me = reviewer_row(s, ctx.actor)
        if not claims.drop_lease(conn, item_id, me.id, None):
            raise Conflict(f"item {item_id} is not leased to you", hint="nothing to skip")
        claims.give_back_slot(conn, item_id)
        claims.record_skip(conn, item_id, me.id, utcnow())


def undo(ctx: Context, queue: str, *, project: str | None = None) -> Assignment:
    """Take back the reviewer's last verdict in a queue; the item is leased to them again."""
    ctx.require(Action.REVIEW)
    with ctx.db.write() as s:
        conn = s.connection()
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
        # The reviewer's own lease on another item gives its slot back first: one at a time.
        now = utcnow()
        held = claims.leases_to_handle(conn, qrow.id, me.id, now)
        claims.give_back(conn, [lease.lease_id for lease in held if lease.reviewer_id == me.id])
        item = s.get_one(ReviewItemRow, last.item_id, with_for_update=_lock_item(ctx))
        if item.committed_version_id is not None:
            raise Conflict(
                f"item {item.id} was already committed to the training data",
                hint="correct it with a new verdict through an adjudicator instead",
            )
        if item.resolved_by not in (None, "consensus"):
            raise Conflict(f"item {item.id} was decided by an adjudicator")
        s.delete(last)
        s.flush()
        counted = claims.count_verdict(conn, item.id, -1)
        _settle(s, conn, queue_value(qrow, ""), item.id, counted, None, me.id)
        expires = now + timedelta(seconds=qrow.lease_seconds)
        claims.take_lease(conn, qrow.id, item.id, me.id, expires)
        s.refresh(item)
        s.refresh(qrow)
        return Assignment(
            item=item_value(item),
            expires_at=expires,
            done=claims.resolved_of(conn, qrow.id),
            total=qrow.items_total,
        )


def adjudicate(ctx: Context, item_id: int, answer: Mapping[str, Any]) -> None:
    """Decide an item (typically one in conflict). Needs write access to the data."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        item = s.get(ReviewItemRow, item_id, with_for_update=_lock_item(ctx))
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
