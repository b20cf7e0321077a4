"""End-user feedback: a write-only ingest key per queue, and the feedback it lets in.

An ingest key reads ``grove_ingest_<prefix>_<secret>``: it can add feedback to one queue
and nothing else (it is not a person and opens no other endpoint), so it is safe to ship
inside a deployed application. Feedback on a prediction the queue already holds (matched
by the item's id) raises that item's priority when negative; feedback on an unknown
prediction becomes a new item. Rate limiting is per key, in process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.review import FeedbackReceipt, IngestKey
from mlgrove.errors import AuthenticationFailed, InvalidInput
from mlgrove.services import audit
from mlgrove.services.context import Context, Runtime
from mlgrove.services.review import (
    check_input,
    insert_items,
    prepare_item,
    queue_row,
    queue_value,
)
from mlgrove.store.models.review import (
    ReviewFeedbackRow,
    ReviewIngestKeyRow,
    ReviewItemRow,
    ReviewQueueRow,
)

KEY_PREFIX = "grove_ingest_"
#: Requests per key per minute, with bursts up to the same number.
RATE_PER_MINUTE = 120
MAX_COMMENT = 5000


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_ingest_key(ctx: Context, queue: str, *, project: str | None = None) -> IngestKey:
    """A new write-only key for end-user feedback into ``queue``; its secret is shown once."""
    ctx.require(Action.WRITE_DATA)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with ctx.db.write() as s:
        qrow, _ = queue_row(s, ctx, queue, project)
        row = ReviewIngestKeyRow(
            queue_id=qrow.id, prefix=prefix, secret_hash=_digest(secret), created_by=ctx.actor_label
        )
        s.add(row)
        s.flush()
        audit.record(s, ctx.actor_label, "review.ingest_key.create", f"review_queue:{qrow.id}")
        return IngestKey(row.id, qrow.name, prefix, f"{KEY_PREFIX}{prefix}_{secret}")


def revoke_ingest_key(ctx: Context, key_id: int) -> None:
    ctx.require(Action.WRITE_DATA)
    with ctx.db.write() as s:
        row = s.get(ReviewIngestKeyRow, key_id)
        if row is None:
            raise InvalidInput(f"no ingest key {key_id}")
        row.revoked_at = utcnow()
        audit.record(s, ctx.actor_label, "review.ingest_key.revoke", f"review_queue:{row.queue_id}")


class RateLimiter:
    """A token bucket per key: ``rate`` requests per minute, bursts up to ``rate``."""

    def __init__(self, rate: int | None = None) -> None:
        self.rate = rate or RATE_PER_MINUTE
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * self.rate / 60.0)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True


def _key_row(runtime: Runtime, key: str) -> ReviewIngestKeyRow:
    bad = AuthenticationFailed(
        "the ingest key is not valid", hint="use the key `mlgrove review ingest-key` printed"
    )
    if not key.startswith(KEY_PREFIX):
        raise bad
    prefix, _, secret = key[len(KEY_PREFIX) :].partition("_")
    with runtime.db.read() as s:
        row = s.scalar(select(ReviewIngestKeyRow).where(ReviewIngestKeyRow.prefix == prefix))
    if row is None or row.revoked_at is not None:
        raise bad
    if not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise bad
    return row


def check_key(runtime: Runtime, key: str) -> int:
    """The key's id (to rate-limit by), or AuthenticationFailed."""
    return _key_row(runtime, key).id


def ingest(runtime: Runtime, key: str, feedback: Mapping[str, Any]) -> FeedbackReceipt:
    """Record one piece of end-user feedback: ``prediction_id`` plus any of ``rating``
    (1-5, or thumbs: ``"up"``/``"down"``), ``comment``, ``correction``, and ``input``
    (shown to reviewers when the prediction is new to the queue)."""
    keyrow = _key_row(runtime, key)
    pid = feedback.get("prediction_id")
    if not isinstance(pid, str | int) or isinstance(pid, bool) or not str(pid).strip():
        raise InvalidInput("prediction_id is required (the id your app gave the prediction)")
    pid = str(pid)[:200]
    rating = feedback.get("rating")
    if rating == "up":
        rating = 5
    elif rating == "down":
        rating = 1
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise InvalidInput("rating must be 1-5, 'up' or 'down'")
    comment = feedback.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment must be a text of at most {MAX_COMMENT} characters")
    correction = feedback.get("correction")
    if rating is None and not comment and correction is None:
        raise InvalidInput("send at least one of rating, comment or correction")
    negative = (rating is not None and rating <= 2) or correction is not None
    with runtime.db.write() as s:
        qrow = s.get_one(ReviewQueueRow, keyrow.queue_id)
        # Locked (on PostgreSQL; SQLite writes are serial anyway) because the count and
        # the priority are read, changed and written back: two reports at once must both
        # count.
        item = s.scalar(
            select(ReviewItemRow)
            .where(ReviewItemRow.queue_id == qrow.id, ReviewItemRow.external_id == pid)
            .with_for_update()
        )
        new = item is None
        if item is None:
            q = queue_value(qrow, "")
            raw_input = feedback.get("input")
            payload = (
                check_input(raw_input, "input")
                if raw_input is not None
                else {"text": comment or f"(feedback on prediction {pid})"}
            )
            row = prepare_item(
                q,
                {
                    "id": pid,
                    "input": payload,
                    "prediction": feedback.get("prediction"),
                    "source": "feedback",
                },
                0,
            )
            insert_items(s, q, [row])
            item = s.scalar(
                select(ReviewItemRow).where(
                    ReviewItemRow.queue_id == qrow.id, ReviewItemRow.external_id == pid
                )
            )
            assert item is not None
        if negative:
            item.negative_feedback += 1
            item.priority = rules.priority(
                item.uncertainty,
                random_slice=item.random_slice,
                negative_feedback=item.negative_feedback,
            )
        s.add(
            ReviewFeedbackRow(
                queue_id=qrow.id,
                item_id=item.id,
                prediction_id=pid,
                rating=rating,
                comment=comment,
                correction=correction,
            )
        )
        s.flush()
        return FeedbackReceipt(item_id=item.id, new_item=new, negative=negative)


def feedback_for(ctx: Context, item_id: int) -> list[dict[str, Any]]:
    """End-user feedback on an item, oldest first (shown to its reviewers)."""
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        rows = s.scalars(
            select(ReviewFeedbackRow)
            .where(ReviewFeedbackRow.item_id == item_id)
            .order_by(ReviewFeedbackRow.id)
        )
        return [
            {
                "rating": r.rating,
                "comment": r.comment,
                "correction": r.correction,
                "at": r.created_at.isoformat(),
            }
            for r in rows
        ]
