"""PostgreSQL's next-item call in one round trip (``grove_review_next``, migration 0012,
ADR 0013) against the ORM path it replaces, and the connections that carry it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from mlgrove.domain.review import Assignment, QueueSpec
from mlgrove.errors import Conflict, InvalidInput
from mlgrove.services import review, review_assign
from mlgrove.services.context import Context, Runtime
from mlgrove.store import db as db_module
from mlgrove.store.models.review import ReviewLeaseRow, ReviewQueueRow
from mlgrove.store.repos import review_claim
from mlgrove.testing.factories import Factories

LABELS = ["cat", "dog"]


@pytest.fixture
def world(grove_factories: Factories, grove_runtime: Runtime) -> dict[str, Any]:
    if grove_runtime.db.is_sqlite:
        pytest.skip("the one-call next item is PostgreSQL's (SQLite serialises writes)")
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "ana": {"role": "reviewer", "team": "Vision"},
                "bo": {"role": "reviewer", "team": "Vision"},
            },
            "projects": {"pets": "Vision"},
        }
    )


def _queue(f: Factories, name: str, n: int = 4) -> None:
    review.create_queue(
        f.admin_ctx, name, QueueSpec(labels=LABELS, overlap=2, random_share=0), project="pets"
    )
    review.add_items(
        f.admin_ctx,
        name,
        [
            {
                "id": f"p{i}",
                "input": {"text": f"photo {i}"},
                "prediction": "cat",
                "confidence": round(0.5 + i / 10, 2),
            }
            for i in range(n)
        ],
        project="pets",
    )


def _comparable(got: Assignment | None) -> Any:
    if got is None:
        return None
    item = dataclasses.replace(got.item, id=0, queue_id=0)
    return (item, got.expires_at, got.done, got.total)


def test_the_one_call_hands_out_what_the_orm_path_would(
    grove_factories: Factories,
    grove_runtime: Runtime,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same steps on two equal queues, one through ``grove_review_next`` and one
    through the ORM path: every assignment is the same (held leases, expired leases given
    back, skips and verdicts honoured, nothing left at the end)."""
    f = grove_factories
    _queue(f, "direct")
    _queue(f, "orm")
    ana, bo = f.ctx(world["ana"]), f.ctx(world["bo"])
    clock = [datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(review_assign, "utcnow", lambda: clock[0])
    direct_calls = []
    real = review_claim.next_direct

    def counted(*args: Any) -> Any:
        direct_calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(review_claim, "next_direct", counted)

    def step(who: Context, queue: str) -> Any:
        if queue == "orm":
            with monkeypatch.context() as m:
                m.setattr(review_claim, "next_direct", lambda *a: None)
                return review_assign.next_item(who, queue, project="pets")
        return review_assign.next_item(who, queue, project="pets")

    def both(who: Context) -> tuple[Any, Any]:
        a, b = step(who, "direct"), step(who, "orm")
        assert _comparable(a) == _comparable(b)
        return a, b

    # First use makes the reviewer identity on the ORM path; from then on, one call.
    first = both(ana)
    again = both(ana)  # a reload: the same item, the lease extended from now
    assert again[0].item.id == first[0].item.id
    for got in first:
        review_assign.skip(ana, got.item.id)
    skipped_next = both(ana)
    assert skipped_next[0].item.id != first[0].item.id
    for got in skipped_next:
        review_assign.submit(ana, got.item.id, {"labels": ["dog"]})
    clock[0] += timedelta(seconds=1)
    both(bo)
    # bo walks away; his lease expires and the item comes back to ana's next call.
    with grove_runtime.db.write() as s:
        s.execute(update(ReviewLeaseRow).values(expires_at=clock[0] - timedelta(seconds=1)))
    clock[0] += timedelta(seconds=1)
    both(ana)  # gives back both expired leases, on each queue its own
    with grove_runtime.db.read() as s:
        left = s.scalar(
            text(
                "SELECT count(*) FROM review_leases WHERE reviewer_id IN "
                "(SELECT id FROM review_reviewers WHERE name = 'bo')"
            )
        )
    assert left == 0  # both of bo's expired leases were given back
    for who in (ana, bo):  # both judge what is left: items with two verdicts resolve
        while True:
            a, b = both(who)
            if a is None:
                break
            review_assign.submit(who, a.item.id, {"labels": ["cat"]})
            review_assign.submit(who, b.item.id, {"labels": ["cat"]})
    with grove_runtime.db.read() as s:
        rows = s.execute(text("SELECT id, name FROM review_queues")).all()
        done = {str(name): review_claim.resolved_of(s.connection(), qid) for qid, name in rows}
    assert done["direct"] == done["orm"] > 0
    assert direct_calls.count("direct") >= 6  # the direct queue really took the one call


def test_a_connection_that_died_while_idle_is_replaced(
    grove_factories: Factories,
    grove_runtime: Runtime,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server restart or an idle timeout kills pooled connections: the next call
    still works, on the direct pool (repeated on a new connection) and on the
    SQLAlchemy pool (pinged when it sat idle)."""
    f = grove_factories
    _queue(f, "direct")
    ana = f.ctx(world["ana"])
    review_assign.next_item(ana, "direct", project="pets")  # identity made (ORM path)
    held = review_assign.next_item(ana, "direct", project="pets")  # the one call
    assert held is not None
    pool = grove_runtime.db.direct
    pids = [conn.info.backend_pid for conn in pool._idle]
    assert pids
    grove_runtime.db.engine.dispose()  # the SQLAlchemy pool: one connection, known
    with grove_runtime.db.engine.connect() as conn:
        orm_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(grove_runtime, [*pids, orm_pid])

    again = review_assign.next_item(ana, "direct", project="pets")
    assert again is not None
    assert again.item.id == held.item.id
    # The verdict's transaction on the direct pool recovers the same way.
    pids = [conn.info.backend_pid for conn in pool._idle]
    _terminate(grove_runtime, pids)
    verdict = review_assign.submit(ana, again.item.id, {"labels": ["cat"]})
    assert verdict.item_id == again.item.id
    # ...on a new connection the retry made (the dead one is gone from the pool).
    assert pool._idle
    assert all(conn.info.backend_pid not in pids for conn in pool._idle)

    monkeypatch.setattr(db_module, "PG_PING_AFTER_IDLE_S", 0.0)
    with grove_runtime.db.read() as s:
        assert s.scalar(text("SELECT count(*) FROM review_queues")) == 1
        assert s.get(ReviewQueueRow, again.item.queue_id) is not None


def _terminate(runtime: Runtime, pids: list[int]) -> None:
    # A connection of its own (not from the pools under test), ended before returning.
    admin = db_module.Database(runtime.db.url)
    try:
        with admin.engine.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                # Wait until it is gone: termination is asynchronous.
                for _ in range(100):
                    alive = conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": pid},
                    ).scalar_one()
                    if not alive:
                        break
                    conn.execute(text("SELECT pg_sleep(0.02)"))
    finally:
        admin.dispose()


def _item_states(runtime: Runtime, queue: str) -> list[tuple[Any, ...]]:
    with runtime.db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                text(
                    "SELECT i.external_id, i.status, i.verdict_count, i.slots, i.priority,"
                    " CAST(i.answer AS TEXT), i.resolved_by FROM review_items i"
                    " JOIN review_queues q ON q.id = i.queue_id WHERE q.name = :q"
                    " ORDER BY i.external_id"
                ),
                {"q": queue},
            )
        ]


def test_the_direct_verdict_writes_what_the_session_path_would(
    grove_factories: Factories,
    grove_runtime: Runtime,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same verdicts on two equal queues (overlap 2), one through the direct
    transaction and one through the ORM session: the same verdicts back, the same item
    states (disagreement bumps, resolutions, conflicts), the same resolved counts; and
    the refusals (a label outside the set, a double submit, a retried submit key) are
    the same, with nothing written by a refused one."""
    f = grove_factories
    _queue(f, "direct")
    _queue(f, "orm")
    ana, bo = f.ctx(world["ana"]), f.ctx(world["bo"])
    direct_done = []
    real = review_assign._submit_direct

    def counted(*args: Any) -> Any:
        got = real(*args)
        direct_done.append(got is not None)
        return got

    monkeypatch.setattr(review_assign, "_submit_direct", counted)

    def submit(who: Context, queue: str, item: int, labels: list[str], **kw: Any) -> Any:
        if queue == "orm":
            with monkeypatch.context() as m:
                m.setattr(review_assign, "_submit_direct", lambda *a: None)
                return review_assign.submit(who, item, {"labels": labels}, **kw)
        return review_assign.submit(who, item, {"labels": labels}, **kw)

    def both(who: Context, labels: list[str], **kw: Any) -> list[Any]:
        out = []
        for queue in ("direct", "orm"):
            got = review_assign.next_item(who, queue, project="pets")
            assert got is not None
            v = submit(who, queue, got.item.id, labels, **kw)
            out.append((got.item.external_id, v.reviewer, v.answer, v.improve, v.tags))
        assert out[0] == out[1]
        return out

    both(ana, ["cat"], improve="<b>blurry</b>", tags=["light"])
    both(bo, ["dog"])  # bo's first item is ana's (disagreement: bumped, not resolved)
    both(ana, ["dog"], submit_key="k1")
    both(bo, ["dog"])
    for queue in ("direct", "orm"):
        got = review_assign.next_item(ana, queue, project="pets")
        assert got is not None
        before = _item_states(grove_runtime, queue)
        with pytest.raises(InvalidInput, match="bird"):
            submit(ana, queue, got.item.id, ["bird"])
        assert _item_states(grove_runtime, queue) == before  # nothing written
        first = submit(ana, queue, got.item.id, ["cat"], submit_key="k2")
        again = submit(ana, queue, got.item.id, ["cat"], submit_key="k2")
        assert again.id == first.id  # a retried request gets the first verdict back
        with pytest.raises(Conflict, match="already gave a verdict"):
            submit(ana, queue, got.item.id, ["cat"])
    assert _item_states(grove_runtime, "direct") == _item_states(grove_runtime, "orm")
    with grove_runtime.db.read() as s:
        rows = s.execute(text("SELECT id, name FROM review_queues")).all()
        done = {str(name): review_claim.resolved_of(s.connection(), qid) for qid, name in rows}
    assert done["direct"] == done["orm"] > 0
    assert direct_done.count(True) >= 5  # the direct queue's verdicts really went direct


def test_a_statement_the_server_refuses_is_not_a_lost_connection(
    grove_runtime: Runtime, world: dict[str, Any]
) -> None:
    """psycopg files a timeout or a deadlock under OperationalError, as it does a lost
    connection: the direct pool tells them apart. The caller gets the server's own error
    (not "lost the connection", and not run twice), and the connection, still sound,
    serves the next call."""
    import psycopg

    pool = grove_runtime.db.direct
    runs = []

    def slow(conn: Any) -> None:
        runs.append(1)
        conn.driver.execute("SET LOCAL statement_timeout = 50")
        conn.driver.execute("SELECT pg_sleep(2)")

    with pytest.raises(psycopg.errors.QueryCanceled):
        pool.transaction(slow)
    assert runs == [1]
    [conn] = pool._idle
    assert pool.fetch_one("SELECT pg_backend_pid() AS pid", ()).pid == conn.info.backend_pid
