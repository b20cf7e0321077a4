"""Review: queues, items, assignments (leases), verdicts, gold answers, ingest keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base, UTCDateTime, utcnow

__all__ = [
    "ReviewCommitRow",
    "ReviewFeedbackRow",
    "ReviewIngestKeyRow",
    "ReviewItemRow",
    "ReviewLeaseRow",
    "ReviewQueueRow",
    "ReviewQueueTallyRow",
    "ReviewSkipRow",
    "ReviewVerdictRow",
    "ReviewerRow",
]


class ReviewQueueRow(Base):
    __tablename__ = "review_queues"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    task_type: Mapped[str] = mapped_column(String(20))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    multi_label: Mapped[bool] = mapped_column(Boolean, default=False)
    rubric: Mapped[list[str]] = mapped_column(JSON, default=list)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    lease_seconds: Mapped[int] = mapped_column(Integer, default=600)
    random_share: Mapped[float] = mapped_column(Float, default=0.05)
    uncertainty: Mapped[str] = mapped_column(String(20), default="confidence")
    consensus: Mapped[str] = mapped_column(String(20), default="majority")
    instructions: Mapped[str] = mapped_column(Text, default="")
    training_dataset: Mapped[str | None] = mapped_column(String(200))
    # Kept current with every insert, so the review screen's progress costs no COUNT
    # over a million items; the resolved count is in ReviewQueueTallyRow.
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewQueueTallyRow(Base):
    """A queue's resolved items, counted in a few rows rather than one: every verdict
    that settles an item adds to the row of its reviewer's shard, so concurrent
    verdicts rarely wait for each other's row lock (one counter on the queue's row made
    every verdict of a queue queue up behind the one before, through its commit). The
    queue's count is the sum of its rows (migration 0012, ADR 0013)."""

    __tablename__ = "review_queue_tallies"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("review_queues.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resolved: Mapped[int] = mapped_column(Integer, default=0)


class ReviewerRow(Base):
    """Who gives verdicts: a Grove person, or an external identity (e.g. an annotator
    from a Label Studio export), named by their id or email."""

    __tablename__ = "review_reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), unique=True
    )


class ReviewItemRow(Base):
    # On PostgreSQL the table keeps 20% of each page free and is vacuumed after 10,000
    # dead rows (migration 0009): the claim and verdict counters update in place.
    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("queue_id", "external_id"),
        # The next-item query: open items with free slots, highest priority first.
        Index("ix_review_items_next", "queue_id", "status", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prediction: Mapped[Any] = mapped_column(JSON, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    uncertainty: Mapped[float] = mapped_column(Float, default=0.5)
    priority: Mapped[float] = mapped_column(Float, default=0.5)
    random_slice: Mapped[bool] = mapped_column(Boolean, default=False)
    gold: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # Verdicts still wanted minus live leases: 0 means nobody else should be offered it.
    slots: Mapped[int] = mapped_column(Integer, default=1)
    verdict_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_feedback: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    source_row_key: Mapped[str | None] = mapped_column(String(500))
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    committed_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewLeaseRow(Base):
    __tablename__ = "review_leases"
    __table_args__ = (
        UniqueConstraint("item_id", "reviewer_id"),
        Index("ix_review_leases_queue_expires", "queue_id", "expires_at"),
        Index("ix_review_leases_reviewer", "queue_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The item's queue, copied for the (queue, ...) indexes. No foreign key: every lease
    # and verdict would share-lock the queue's one row (on PostgreSQL a multixact per
    # insert, which every reader of that row then resolves), and the item's key already
    # ties the row to the queue and deletes it with the queue's items.
    queue_id: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("review_reviewers.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewVerdictRow(Base):
    __tablename__ = "review_verdicts"
    __table_args__ = (
        UniqueConstraint("item_id", "reviewer_id"),
        Index("ix_review_verdicts_queue_reviewer", "queue_id", "reviewer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(Integer)  # no foreign key: see ReviewLeaseRow
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("review_reviewers.id"))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    improve: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    seconds: Mapped[float | None] = mapped_column(Float)
    submit_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewSkipRow(Base):
    __tablename__ = "review_skips"
    __table_args__ = (UniqueConstraint("item_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("review_reviewers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewIngestKeyRow(Base):
    """A write-only key for end-user feedback into one queue (only its hash is kept)."""

    __tablename__ = "review_ingest_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(20), index=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewFeedbackRow(Base):
    __tablename__ = "review_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    prediction_id: Mapped[str] = mapped_column(String(200))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    correction: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewCommitRow(Base):
    """Corrections committed to a training dataset: the lineage from a dataset version
    back to the items, verdicts and reviewers it came from."""

    __tablename__ = "review_commits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE")
    )
    item_ids: Mapped[list[int]] = mapped_column(JSON)
    verdict_ids: Mapped[list[int]] = mapped_column(JSON)
    reviewers: Mapped[list[str]] = mapped_column(JSON)
    model_version_ids: Mapped[list[int]] = mapped_column(JSON)
    corrections: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
