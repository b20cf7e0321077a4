"""The statements of the review hot path: take the next item, hand in a verdict, skip.

Each statement is built once, here, with named parameters: building a SQLAlchemy
expression costs about four times as much as running a cached one, and a next-item call
is only three statements (SQLite: find queue, reviewer, held and expired leases in one;
claim; write the lease. PostgreSQL: lock the reviewer; the look-up; claim and lease in
one). They run on a Core ``Connection`` inside the caller's write transaction, so
nothing here commits. On PostgreSQL a next item for a known reviewer and named project
is instead one call of the server-side function ``grove_review_next`` (migration 0012,
ADR 0013), which runs these same steps: :func:`next_direct`. The statements here then
serve the first use and SQLite, and the two are compared by a test.

The claim is one ``UPDATE ... WHERE id = (SELECT ... ORDER BY priority DESC, id DESC
LIMIT 1) RETURNING ...``: the sub-select reads the ``(queue_id, status, priority, id)``
index backwards and stops at the first open item with a free slot that this reviewer has
neither judged nor skipped, so its cost does not grow with the queue. On PostgreSQL it
carries ``FOR NO KEY UPDATE SKIP LOCKED``: concurrent reviewers pass over a row another
transaction is claiming instead of waiting for it (SQLite renders no locking clause; its
writes are serialised anyway).

Locks are taken in one order everywhere (reviewer, lease, item, tally), so two of these
transactions cannot deadlock on PostgreSQL.

The statements a review cycle runs every time are :class:`Prepared`: run on the driver's
connection beneath the caller's, without SQLAlchemy's per-call execution work, which was
a third of the serving process's CPU per item (ADR 0017). Their rows are named tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from mlgrove.store.direct import DirectConnection, DirectPool
from mlgrove.store.models import ProjectRow
from mlgrove.store.models.base import UTCDateTime
from mlgrove.store.models.review import (
    ReviewerRow,
    ReviewItemRow,
    ReviewLeaseRow,
    ReviewQueueRow,
    ReviewQueueTallyRow,
    ReviewSkipRow,
    ReviewVerdictRow,
)
from mlgrove.store.prepared import Prepared

__all__ = [
    "Conn",
    "Me",
    "begin_next",
    "claim",
    "count_resolved",
    "count_verdict",
    "drop_lease",
    "extend_lease",
    "give_back",
    "give_back_slot",
    "hand_in",
    "leases_to_handle",
    "lookup_queue",
    "lookup_submit",
    "next_direct",
    "record_skip",
    "record_verdict",
    "resolved_of",
    "settle",
    "take_lease",
    "verdicts_of",
]

ITEMS = cast(Table, ReviewItemRow.__table__)
QUEUES = cast(Table, ReviewQueueRow.__table__)
LEASES = cast(Table, ReviewLeaseRow.__table__)
VERDICTS = cast(Table, ReviewVerdictRow.__table__)
SKIPS = cast(Table, ReviewSkipRow.__table__)
TALLIES = cast(Table, ReviewQueueTallyRow.__table__)
REVIEWERS = cast(Table, ReviewerRow.__table__)
PROJECTS = cast(Table, ProjectRow.__table__)

OPEN = "open"

#: Where the prepared statements run: a session's connection, or a direct one
#: (:meth:`DirectPool.transaction`, PostgreSQL's verdict path).
Conn = Connection | DirectConnection


class Me:
    """How the acting person is found among reviewers: a Grove person by id; the
    embedded workspace owner (no row of ``people``) by name, as ``reviewer_row`` does."""

    __slots__ = ("by_person", "params")

    def __init__(self, person_id: int, username: str) -> None:
        self.by_person = person_id != 0
        self.params: dict[str, Any] = (
            {"b_person": person_id} if self.by_person else {"b_rname": username}
        )


def _reviewer_is(by_person: bool) -> ColumnElement[bool]:
    if by_person:
        return REVIEWERS.c.person_id == bindparam("b_person")
    return REVIEWERS.c.name == bindparam("b_rname")


# -- next item -------------------------------------------------------------------------------


def _lock_me(by_person: bool) -> Select[Any]:
    # set_config(..., true) is SET LOCAL as a function: one round trip for both.
    return (
        select(REVIEWERS.c.id, func.set_config("synchronous_commit", "off", true()))
        .where(_reviewer_is(by_person))
        .with_for_update(key_share=True)
    )


_LOCK_ME = {flag: _lock_me(flag) for flag in (True, False)}


def begin_next(conn: Connection, me: Me) -> None:
    """Start a next-item transaction on PostgreSQL (nothing to do on SQLite, whose
    writes are serialised):

    - lock the reviewer's row (FOR NO KEY UPDATE: verdict inserts, which take only KEY
      SHARE on it, still pass), so one reviewer's two concurrent calls (two tabs) run one
      after the other and the second finds the item the first leased. It must be its own
      statement: a statement that waits for a lock still reads other tables as of its
      start, and would miss that lease.
    - commit without waiting for the WAL flush (``synchronous_commit = off``, for this
      transaction only): 2-3 ms of a call on a disk with real fsync. A crash can then
      lose the last fraction of a second of claims, whole and in order (any later
      durable commit flushes them first), which costs nothing: the reviewer asks for
      the next item again. Verdicts stay durable.

    A reviewer identity not made yet is neither locked nor relaxed: its first call is an
    ordinary transaction.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_ME[me.by_person], me.params)


def _resolved(queue_id: Any) -> Any:
    return (
        select(func.coalesce(func.sum(TALLIES.c.resolved), 0))
        .where(TALLIES.c.queue_id == queue_id)
        .scalar_subquery()
    )


_RESOLVED = _resolved(QUEUES.c.id)


def _lookup_queue(by_person: bool) -> Select[Any]:
    # The queue, the reviewer, their lease in the queue (with its item's columns) and any
    # expired lease of the queue: one row per (held, expired) pair, usually just one.
    # Two joins rather than one with an OR: each reads its own index, (queue, reviewer)
    # and (queue, expires_at), where an OR made PostgreSQL read every lease of the queue,
    # dead ones included (thousands between two autovacuums at full speed).
    mine = LEASES.alias("mine")
    expired = LEASES.alias("expired")
    return (
        select(
            QUEUES.c.id.label("q_id"),
            QUEUES.c.lease_seconds.label("q_lease_seconds"),
            _RESOLVED.label("q_resolved"),
            QUEUES.c.items_total.label("q_total"),
            REVIEWERS.c.id.label("me"),
            mine.c.id.label("lease_id"),
            mine.c.expires_at.label("lease_expires"),
            expired.c.id.label("expired_id"),
            *ITEMS.c,
        )
        .select_from(
            QUEUES.join(PROJECTS, PROJECTS.c.id == QUEUES.c.project_id)
            .join(REVIEWERS, _reviewer_is(by_person))
            .outerjoin(
                mine, and_(mine.c.queue_id == QUEUES.c.id, mine.c.reviewer_id == REVIEWERS.c.id)
            )
            .outerjoin(ITEMS, ITEMS.c.id == mine.c.item_id)
            .outerjoin(
                expired,
                and_(expired.c.queue_id == QUEUES.c.id, expired.c.expires_at <= bindparam("b_now")),
            )
        )
        .where(PROJECTS.c.name == bindparam("b_project"), QUEUES.c.name == bindparam("b_queue"))
        .order_by(mine.c.id, expired.c.id)
    )


_LOOKUP_QUEUE = {flag: Prepared(_lookup_queue(flag)) for flag in (True, False)}


def lookup_queue(conn: Connection, project: str, queue: str, me: Me, now: datetime) -> list[Any]:
    """Rows of ``(q_id, q_lease_seconds, q_resolved, q_total, me, lease_id,
    lease_expires, expired_id, *item columns)``: the reviewer's lease in the queue with
    its item (or None), and any expired lease of the queue (or None), one row per pair.
    Empty when the queue or the reviewer identity does not exist (the caller's slow path
    explains or makes it)."""
    params = {"b_project": project, "b_queue": queue, "b_now": now, **me.params}
    return _LOOKUP_QUEUE[me.by_person].all(conn, params)


_LEASES_TO_HANDLE = (
    select(
        LEASES.c.id.label("lease_id"),
        LEASES.c.reviewer_id,
        LEASES.c.expires_at,
        *ITEMS.c,
    )
    .join(ITEMS, ITEMS.c.id == LEASES.c.item_id)
    .where(
        LEASES.c.queue_id == bindparam("b_queue"),
        or_(LEASES.c.reviewer_id == bindparam("b_me"), LEASES.c.expires_at <= bindparam("b_now")),
    )
    .order_by(LEASES.c.id)
)


def leases_to_handle(conn: Connection, queue_id: int, me: int, now: datetime) -> list[Row[Any]]:
    """The queue's leases that are this reviewer's or expired, oldest first, each with
    its item's columns. Usually none or one: live leases are about one per reviewer."""
    params = {"b_queue": queue_id, "b_me": me, "b_now": now}
    return list(conn.execute(_LEASES_TO_HANDLE, params))


_DROP_LEASES = (
    delete(LEASES)
    .where(LEASES.c.id.in_(bindparam("b_ids", expanding=True)))
    .returning(LEASES.c.item_id)
)
_GIVE_BACK = update(ITEMS).where(ITEMS.c.id == bindparam("b_item")).values(slots=ITEMS.c.slots + 1)


def give_back(conn: Connection, lease_ids: Sequence[int]) -> int:
    """Delete leases and give their slots back; only the leases this transaction really
    deleted count (a concurrent reclaim of the same lease gives nothing back twice)."""
    if not lease_ids:
        return 0
    items = list(conn.execute(_DROP_LEASES, {"b_ids": list(lease_ids)}).scalars())
    if items:
        conn.execute(_GIVE_BACK, [{"b_item": i} for i in sorted(items)])
    return len(items)


_EXTEND_LEASE = (
    update(LEASES)
    .where(LEASES.c.id == bindparam("b_lease"))
    .values(expires_at=bindparam("b_expires"))
)


def give_back_slot(conn: Connection, item_id: int) -> None:
    conn.execute(_GIVE_BACK, {"b_item": item_id})


def extend_lease(conn: Connection, lease_id: int, expires: datetime) -> None:
    conn.execute(_EXTEND_LEASE, {"b_lease": lease_id, "b_expires": expires})


def _claim(skip_locked: bool) -> Any:
    candidate = ITEMS.alias("candidate")
    pick = (
        select(candidate.c.id)
        .where(
            candidate.c.queue_id == bindparam("b_queue"),
            candidate.c.status == OPEN,
            candidate.c.slots > 0,
            ~exists().where(
                VERDICTS.c.item_id == candidate.c.id, VERDICTS.c.reviewer_id == bindparam("b_me")
            ),
            ~exists().where(
                SKIPS.c.item_id == candidate.c.id, SKIPS.c.reviewer_id == bindparam("b_me")
            ),
        )
        # Both descending, so the index is read backwards and never sorted (equal
        # priorities: the newest item first).
        .order_by(candidate.c.priority.desc(), candidate.c.id.desc())
        .limit(1)
        # NO KEY UPDATE: the claim changes no key, so a verdict's foreign-key check on
        # the row (KEY SHARE) need not wait for it.
        .with_for_update(skip_locked=skip_locked, key_share=True)
        .scalar_subquery()
    )
    return (
        update(ITEMS).where(ITEMS.c.id == pick).values(slots=ITEMS.c.slots - 1).returning(*ITEMS.c)
    )


_CLAIM = Prepared(_claim(skip_locked=True))


_TAKE_LEASE = Prepared(
    insert(LEASES).values(
        queue_id=bindparam("b_queue"),
        item_id=bindparam("b_item"),
        reviewer_id=bindparam("b_me"),
        expires_at=bindparam("b_expires"),
    )
)


def take_lease(conn: Connection, queue_id: int, item_id: int, me: int, expires: datetime) -> None:
    params = {"b_queue": queue_id, "b_item": item_id, "b_me": me, "b_expires": expires}
    _TAKE_LEASE.run(conn, params)


def _claim_and_lease(skip_locked: bool) -> Select[Any]:
    # PostgreSQL runs data-modifying CTEs: claim and lease in one round trip.
    claimed = _claim(skip_locked).cte("claimed")
    leased = insert(LEASES).from_select(
        ["queue_id", "item_id", "reviewer_id", "expires_at"],
        select(
            bindparam("b_queue", type_=Integer()),
            claimed.c.id,
            bindparam("b_me", type_=Integer()),
            bindparam("b_expires", type_=UTCDateTime()),
        ),
    )
    return select(claimed).add_cte(leased.cte("leased"))


_CLAIM_AND_LEASE = {flag: Prepared(_claim_and_lease(flag)) for flag in (True, False)}


def claim(conn: Connection, queue_id: int, me: int, expires: datetime) -> Any | None:
    """Take a slot of the best item for this reviewer and lease it to them until
    ``expires``; the item's row, or None when nothing is left for them."""
    params = {"b_queue": queue_id, "b_me": me, "b_expires": expires}
    if conn.dialect.name == "postgresql":
        item = _CLAIM_AND_LEASE[True].first(conn, params)
        if item is None:
            # Every candidate may just be locked (the last items of a queue, each being
            # claimed or judged this instant): "nothing left" must not be said then, so
            # wait for those locks once. Rare, and short: the holders commit at once.
            item = _CLAIM_AND_LEASE[False].first(conn, params)
        return item
    item = _CLAIM.first(conn, params)
    if item is not None:
        take_lease(conn, queue_id, item.id, me, expires)
    return item


# -- next item on PostgreSQL: one call -----------------------------------------------------

_NEXT_DIRECT = (
    "SELECT r.ok, r.q_resolved, r.q_total, r.lease_expires, (r.item).*"
    " FROM grove_review_next(%s, %s, %s, %s, %s) r"
)


def next_direct(pool: DirectPool, project: str, queue: str, me: Me, now: datetime) -> Any | None:
    """The whole next-item transaction as one call of ``grove_review_next`` (migration
    0012; PostgreSQL only): a row of ``(ok, q_resolved, q_total, lease_expires, *item
    columns)``, the item columns null when nothing is left for the reviewer. None when
    the queue or the reviewer identity does not exist (the caller's ORM path explains
    or makes it). Datetimes are naive UTC, as the columns hold them.

    Safe to repeat (:class:`DirectPool` repeats it after a lost connection): a repeat
    finds the lease the first call took and hands back the same item.
    """
    person = me.params.get("b_person")
    name = me.params.get("b_rname")
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    row = pool.fetch_one(_NEXT_DIRECT, (project, queue, person, name, naive_now))
    return row if row is not None and row.ok else None


# -- verdicts and skips -----------------------------------------------------------------------


def _lookup_submit(by_person: bool) -> Select[Any]:
    mine = LEASES.alias("mine")
    earlier = VERDICTS.alias("earlier")
    return (
        select(
            *QUEUES.c,
            REVIEWERS.c.id.label("me"),
            REVIEWERS.c.name.label("me_name"),
            mine.c.expires_at.label("lease_expires"),
            earlier.c.id.label("earlier_id"),
        )
        .select_from(
            ITEMS.join(QUEUES, QUEUES.c.id == ITEMS.c.queue_id)
            .join(REVIEWERS, _reviewer_is(by_person))
            .outerjoin(
                mine, and_(mine.c.item_id == ITEMS.c.id, mine.c.reviewer_id == REVIEWERS.c.id)
            )
            .outerjoin(
                earlier,
                and_(earlier.c.item_id == ITEMS.c.id, earlier.c.reviewer_id == REVIEWERS.c.id),
            )
        )
        .where(ITEMS.c.id == bindparam("b_item"))
    )


_LOOKUP_SUBMIT = {flag: Prepared(_lookup_submit(flag)) for flag in (True, False)}


def lookup_submit(conn: Conn, item_id: int, me: Me) -> Any | None:
    """The item's queue (all its columns), the reviewer (``me``, ``me_name``), their
    lease's expiry and their earlier verdict's id on the item; None when the item or the
    reviewer identity does not exist."""
    return _LOOKUP_SUBMIT[me.by_person].first(conn, {"b_item": item_id, **me.params})


_DROP_LEASE = (
    delete(LEASES)
    .where(
        LEASES.c.item_id == bindparam("b_item"),
        LEASES.c.reviewer_id == bindparam("b_me"),
        LEASES.c.expires_at > bindparam("b_now"),
    )
    .returning(LEASES.c.id)
)
_DROP_LEASE_ANY = (
    delete(LEASES)
    .where(LEASES.c.item_id == bindparam("b_item"), LEASES.c.reviewer_id == bindparam("b_me"))
    .returning(LEASES.c.id)
)


def drop_lease(conn: Conn, item_id: int, me: int, now: datetime | None) -> bool:
    """Delete the reviewer's lease on the item (only a live one when ``now`` is given);
    whether there was one. Checking and deleting in one statement makes it atomic."""
    params: dict[str, Any] = {"b_item": item_id, "b_me": me}
    if now is None:
        return _DROP_LEASE_ANY_P.first(conn, params) is not None
    return _DROP_LEASE_P.first(conn, {**params, "b_now": now}) is not None


_DROP_LEASE_P = Prepared(_DROP_LEASE)
_DROP_LEASE_ANY_P = Prepared(_DROP_LEASE_ANY)
_RECORD_VERDICT = Prepared(insert(VERDICTS).returning(VERDICTS.c.id))


def record_verdict(conn: Conn, values: dict[str, Any]) -> int:
    row = _RECORD_VERDICT.first(conn, values)
    assert row is not None  # an INSERT ... RETURNING gives its row
    return int(row.id)


#: The item's values that settle it, as a verdict count gives them back.
_COUNTED = (
    ITEMS.c.verdict_count,
    ITEMS.c.status,
    ITEMS.c.uncertainty,
    ITEMS.c.random_slice,
    ITEMS.c.negative_feedback,
    ITEMS.c.priority,
    ITEMS.c.resolved_by,
)
_COUNT_VERDICT = Prepared(
    update(ITEMS)
    .where(ITEMS.c.id == bindparam("b_item"))
    .values(verdict_count=ITEMS.c.verdict_count + bindparam("b_delta"))
    .returning(*_COUNTED)
)


def count_verdict(conn: Conn, item_id: int, delta: int) -> Any:
    """Add ``delta`` to the item's verdict count (this locks the item's row until the
    end of the transaction on PostgreSQL); the item's values that settle it."""
    row = _COUNT_VERDICT.first(conn, {"b_item": item_id, "b_delta": delta})
    assert row is not None, f"review item {item_id} is gone"  # the caller holds its lease
    return row


_VERDICT_COLUMNS = (
    "queue_id",
    "item_id",
    "reviewer_id",
    "answer",
    "improve",
    "tags",
    "seconds",
    "submit_key",
    "created_at",
)


def _hand_in() -> Select[Any]:
    # PostgreSQL runs data-modifying CTEs, each exactly once: the live lease is checked
    # and deleted, the verdict written only if it was, and the item's count moved only
    # if the verdict was: one round trip for what were three (same lock order: lease,
    # item). No row back means the lease was not (or no longer) theirs.
    dropped = _DROP_LEASE.cte("dropped")
    # Parameters named after no column: an UPDATE in the same statement would take a
    # parameter named like one of its columns as a value to set.
    named = {"item_id": "b_item", "reviewer_id": "b_me"}
    values = [
        bindparam(named.get(name, f"v_{name}"), type_=VERDICTS.c[name].type)
        for name in _VERDICT_COLUMNS
    ]
    verdict = (
        insert(VERDICTS)
        .from_select(list(_VERDICT_COLUMNS), select(*values).select_from(dropped))
        .returning(VERDICTS.c.id)
        .cte("verdict")
    )
    counted = (
        update(ITEMS)
        .where(ITEMS.c.id == bindparam("b_item"), exists(select(verdict.c.id)))
        .values(verdict_count=ITEMS.c.verdict_count + 1)
        .returning(*_COUNTED)
        .cte("counted")
    )
    return select(verdict.c.id.label("verdict_id"), *counted.c).select_from(
        verdict.join(counted, true())
    )


_HAND_IN = Prepared(_hand_in())


def hand_in(conn: Conn, values: dict[str, Any], now: datetime) -> tuple[int, Any] | None:
    """Take the reviewer's live lease on the item, record their verdict (``values``:
    the verdict's columns) and count it on the item: the verdict's id and the item's
    values that settle it (as :func:`count_verdict` gives them), or None when they hold
    no live lease on it (and nothing was written)."""
    if conn.dialect.name == "postgresql":
        params = {f"v_{name}": value for name, value in values.items()}
        params.update(b_item=values["item_id"], b_me=values["reviewer_id"], b_now=now)
        row = _HAND_IN.first(conn, params)
        return None if row is None else (int(row.verdict_id), row)
    if not drop_lease(conn, values["item_id"], values["reviewer_id"], now):
        return None
    verdict_id = record_verdict(conn, values)
    return verdict_id, count_verdict(conn, values["item_id"], +1)


_VERDICTS_OF = Prepared(
    select(VERDICTS.c.reviewer_id, REVIEWERS.c.name, VERDICTS.c.answer)
    .join(REVIEWERS, REVIEWERS.c.id == VERDICTS.c.reviewer_id)
    .where(VERDICTS.c.item_id == bindparam("b_item"))
    .order_by(VERDICTS.c.id)
)


def verdicts_of(conn: Conn, item_id: int) -> list[Any]:
    """``(reviewer_id, name, answer)`` of every verdict on the item, oldest first."""
    return _VERDICTS_OF.all(conn, {"b_item": item_id})


_SET_OUTCOME = (
    update(ITEMS)
    .where(ITEMS.c.id == bindparam("b_item"))
    .values(
        status=bindparam("b_status"),
        answer=bindparam("b_answer"),
        priority=bindparam("b_priority"),
        resolved_by=bindparam("b_resolved_by"),
    )
)


#: Rows per queue of its resolved count: verdicts of reviewers in different shards
#: never wait for each other's counter (ReviewQueueTallyRow).
TALLY_SHARDS = 64


def _count_resolved(dialect: str) -> Any:
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(TALLIES).values(
        queue_id=bindparam("b_queue"), shard=bindparam("b_shard"), resolved=bindparam("b_delta")
    )
    return stmt.on_conflict_do_update(
        index_elements=[TALLIES.c.queue_id, TALLIES.c.shard],
        set_={"resolved": TALLIES.c.resolved + stmt.excluded.resolved},
    )


_COUNT_RESOLVED = {name: Prepared(_count_resolved(name)) for name in ("postgresql", "sqlite")}


def count_resolved(conn: Conn, queue_id: int, delta: int, *, reviewer: int = 0) -> None:
    """Add ``delta`` to the queue's resolved count, in the row of ``reviewer``'s shard
    (last in its transaction: that row stays locked until the commit)."""
    if delta:
        params = {"b_queue": queue_id, "b_shard": reviewer % TALLY_SHARDS, "b_delta": delta}
        _COUNT_RESOLVED[conn.dialect.name].run(conn, params)


def _settle_and_count() -> Any:
    # PostgreSQL: the item's outcome and the queue's tally in one round trip (a
    # data-modifying CTE runs exactly once; item before tally, the usual lock order).
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    outcome = _SET_OUTCOME.returning(ITEMS.c.id).cte("outcome")
    stmt = pg_insert(TALLIES).from_select(
        ["queue_id", "shard", "resolved"],
        select(
            bindparam("b_queue", type_=Integer()),
            bindparam("b_shard", type_=Integer()),
            bindparam("b_delta", type_=Integer()),
        ).select_from(outcome),
    )
    return stmt.on_conflict_do_update(
        index_elements=[TALLIES.c.queue_id, TALLIES.c.shard],
        set_={"resolved": TALLIES.c.resolved + stmt.excluded.resolved},
    ).add_cte(outcome)


_SETTLE_AND_COUNT = Prepared(_settle_and_count())
_SET_OUTCOME_P = Prepared(_SET_OUTCOME)


def settle(
    conn: Conn,
    item_id: int,
    *,
    status: str,
    answer: Any,
    priority: float,
    resolved_by: str | None,
    queue_id: int,
    resolved_delta: int,
    reviewer: int,
) -> None:
    """Write the item's outcome (status, answer, priority, who resolved it) and move the
    queue's resolved count by ``resolved_delta`` in ``reviewer``'s shard
    (:func:`count_resolved`)."""
    outcome = {
        "b_item": item_id,
        "b_status": status,
        "b_answer": answer,
        "b_priority": priority,
        "b_resolved_by": resolved_by,
    }
    if resolved_delta and conn.dialect.name == "postgresql":
        tally = {
            "b_queue": queue_id,
            "b_shard": reviewer % TALLY_SHARDS,
            "b_delta": resolved_delta,
        }
        _SETTLE_AND_COUNT.run(conn, {**outcome, **tally})
        return
    _SET_OUTCOME_P.run(conn, outcome)
    count_resolved(conn, queue_id, resolved_delta, reviewer=reviewer)


_RESOLVED_OF = _resolved(bindparam("b_queue"))


def resolved_of(conn: Connection, queue_id: int) -> int:
    """The queue's resolved items."""
    return int(conn.execute(select(_RESOLVED_OF), {"b_queue": queue_id}).scalar_one())


_RECORD_SKIP = insert(SKIPS)


def record_skip(conn: Connection, item_id: int, me: int, now: datetime) -> None:
    conn.execute(_RECORD_SKIP, {"item_id": item_id, "reviewer_id": me, "created_at": now})
