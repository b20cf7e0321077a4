"""Prepared statements (store/prepared.py) give back exactly what SQLAlchemy's own
execution of the same Core statement gives, on SQLite and PostgreSQL: the review hot
path's statements, run both ways from the same state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, select

from mlgrove.domain.clock import utcnow
from mlgrove.domain.review import QueueSpec
from mlgrove.services import review, review_assign
from mlgrove.services.context import Runtime
from mlgrove.store.models.review import (
    ReviewerRow,
    ReviewItemRow,
    ReviewQueueRow,
    ReviewVerdictRow,
)
from mlgrove.store.prepared import Prepared
from mlgrove.store.repos import review_claim as claims
from mlgrove.testing.factories import Factories


def _both_ways(runtime: Runtime, prepared: Prepared, params: dict[str, Any]) -> list[Any]:
    """The statement's rows through SQLAlchemy and through the prepared form, each in a
    transaction rolled back afterwards (so both start from the same state)."""
    got = []
    runs: list[Callable[[Connection], list[Any]]] = [
        lambda c: [tuple(r) for r in c.execute(prepared.statement, params).all()],
        lambda c: [tuple(r) for r in prepared.all(c, params)],
    ]
    for run in runs:
        with runtime.db.engine.connect() as conn:
            conn.begin()
            try:
                got.append(run(conn))
            finally:
                conn.rollback()
    assert got[0] == got[1]
    return got[0]


@pytest.fixture
def queue(grove_factories: Factories, grove_runtime: Runtime) -> dict[str, Any]:
    f = grove_factories
    world = f.world(
        {
            "teams": ["Vision"],
            "people": {
                "ana": {"role": "reviewer", "team": "Vision"},
                "bo": {"role": "reviewer", "team": "Vision"},
            },
            "projects": {"pets": "Vision"},
        }
    )
    review.create_queue(
        f.admin_ctx,
        "q",
        QueueSpec(labels=["cat", "dog"], overlap=2, random_share=0),
        project="pets",
    )
    review.add_items(
        f.admin_ctx,
        "q",
        [
            {
                "id": f"p{i}",
                "input": {"text": f"<b>photo</b> {i}", "n": i},
                "prediction": "cat",
                "confidence": 0.5 + i / 10,
                "scores": {"cat": 0.5 + i / 10},
            }
            for i in range(4)
        ],
        project="pets",
    )
    ana = f.ctx(world["ana"])
    held = review_assign.next_item(ana, "q", project="pets")  # makes ana's identity, a lease
    assert held is not None
    bo = f.ctx(world["bo"])
    bos = review_assign.next_item(bo, "q", project="pets")  # bo: an identity, no lease
    assert bos is not None
    review_assign.skip(bo, bos.item.id)
    with grove_runtime.db.read() as s:
        me = s.scalar(select(ReviewerRow.id).where(ReviewerRow.name == "ana"))
        bo_id = s.scalar(select(ReviewerRow.id).where(ReviewerRow.name == "bo"))
        qid = s.scalar(select(ReviewQueueRow.id).where(ReviewQueueRow.name == "q"))
    return {"ana": ana, "me": me, "bo": bo_id, "queue_id": qid, "item": held.item.id}


def test_prepared_reads_match_sqlalchemy(grove_runtime: Runtime, queue: dict[str, Any]) -> None:
    now = utcnow()
    me = review_assign._me(queue["ana"])
    rows = _both_ways(
        grove_runtime,
        claims._LOOKUP_QUEUE[me.by_person],
        {"b_project": "pets", "b_queue": "q", "b_now": now, **me.params},
    )
    assert len(rows) == 1  # the queue, ana and her lease with its item (JSON, datetimes)
    rows = _both_ways(
        grove_runtime,
        claims._LOOKUP_SUBMIT[me.by_person],
        {"b_item": queue["item"], **me.params},
    )
    assert rows[0][-2] is not None  # her lease's expiry, read back as a datetime
    assert _both_ways(grove_runtime, claims._VERDICTS_OF, {"b_item": queue["item"]}) == []


def test_prepared_writes_match_sqlalchemy(grove_runtime: Runtime, queue: dict[str, Any]) -> None:
    expires = utcnow() + timedelta(minutes=10)
    # bo holds no lease (he skipped his item): the claim leases him the best other one.
    params = {"b_queue": queue["queue_id"], "b_me": queue["bo"], "b_expires": expires}
    if grove_runtime.db.is_sqlite:
        claimed = _both_ways(grove_runtime, claims._CLAIM, params)
    else:
        claimed = _both_ways(grove_runtime, claims._CLAIM_AND_LEASE[True], params)
    assert len(claimed) == 1  # the next best item, its slot taken
    counted = _both_ways(
        grove_runtime, claims._COUNT_VERDICT, {"b_item": queue["item"], "b_delta": 1}
    )
    assert counted[0][0] == 1  # the verdict count, moved
    dropped = _both_ways(
        grove_runtime,
        claims._DROP_LEASE_P,
        {"b_item": queue["item"], "b_me": queue["me"], "b_now": utcnow()},
    )
    assert len(dropped) == 1  # her live lease


def test_a_verdict_through_prepared_statements_reads_back_whole(
    grove_runtime: Runtime, queue: dict[str, Any]
) -> None:
    """What the prepared path wrote (JSON answer, tags, notes with markup, datetimes) reads
    back through the ORM as given."""
    verdict = review_assign.submit(
        queue["ana"], queue["item"], {"labels": ["dog"]}, improve="<i>blurry</i>", tags=["x"]
    )
    with grove_runtime.db.read() as s:
        back = s.get_one(ReviewVerdictRow, verdict.id)
        item = s.get_one(ReviewItemRow, queue["item"])
    assert back.answer == {"labels": ["dog"]}
    assert (back.improve, back.tags, back.reviewer_id) == ("<i>blurry</i>", ["x"], queue["me"])
    assert back.created_at == verdict.created_at
    assert item.verdict_count == 1
    assert item.status == "open"  # overlap 2: one more verdict wanted


def test_a_list_parameter_is_refused(grove_runtime: Runtime) -> None:
    stmt = select(ReviewerRow.id).where(ReviewerRow.id.in_(bindparam("ids", expanding=True)))
    with grove_runtime.db.engine.connect() as conn, pytest.raises(TypeError, match="expand"):
        Prepared(stmt).all(conn, {"ids": [1, 2]})
