"""Growing engineers: feedback, feedback requests, growth plans, 1:1 notes, notifications.

Every table is about people, so every row names the people it concerns by id and is
deleted with them (ON DELETE CASCADE). Who may read a row is decided by
``domain.growth_policy``, never by the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base, UTCDateTime, utcnow

_PERSON = "people.id"


class GrowthFeedbackRow(Base):
    """Feedback from a giver to a receiver on a technical and a collaboration axis."""

    __tablename__ = "growth_feedback"
    __table_args__ = (
        Index("ix_growth_feedback_receiver_id", "receiver_id", "id"),
        Index("ix_growth_feedback_giver_id", "giver_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    technical: Mapped[str] = mapped_column(Text, default="")
    collaboration: Mapped[str] = mapped_column(Text, default="")
    # The piece of work it is about: a URL or a Grove reference such as "run:12".
    about: Mapped[str] = mapped_column(String(500), default="")
    about_kind: Mapped[str] = mapped_column(String(30), default="")
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("growth_feedback_requests.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GrowthFeedbackRequestRow(Base):
    """One person asked one peer for feedback on a piece of work (one row per peer)."""

    __tablename__ = "growth_feedback_requests"
    __table_args__ = (Index("ix_growth_feedback_requests_peer_id", "peer_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    about: Mapped[str] = mapped_column(String(500), default="")
    about_kind: Mapped[str] = mapped_column(String(30), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GrowthPlanRow(Base):
    __tablename__ = "growth_plans"
    __table_args__ = (Index("ix_growth_plans_person_id", "person_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GrowthGoalRow(Base):
    __tablename__ = "growth_goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("growth_plans.id", ondelete="CASCADE"))
    competency: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GrowthEvidenceRow(Base):
    """A piece of real work in Grove picked as evidence for a goal (the brag document)."""

    __tablename__ = "growth_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("growth_goals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(
        String(30)
    )  # dataset-version | run | model-version | feedback
    ref_id: Mapped[int] = mapped_column(Integer)
    # What it was when picked (a dataset version's name and number...), kept so the
    # brag document still reads well if the work is renamed later.
    label: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GrowthNoteRow(Base):
    """A private 1:1 note: readable by its author and counterpart only."""

    __tablename__ = "growth_notes"
    __table_args__ = (Index("ix_growth_notes_pair", "author_id", "counterpart_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    counterpart_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GrowthNotificationRow(Base):
    """An in-app notification for one person."""

    __tablename__ = "growth_notifications"
    __table_args__ = (Index("ix_growth_notifications_person_id", "person_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
