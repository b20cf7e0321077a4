"""Growing engineers, programmes: mentorship, learning time, help requests, design reviews, rotations.

Every table is prefixed ``programs_``. People are referenced by id; deleting a person
removes their own entries (cascade) but keeps shared records (help answers, feedback on
a design) with the author cleared.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base, UTCDateTime, utcnow

_PERSON = "people.id"


class HelpRequestRow(Base):
    __tablename__ = "programs_help_requests"
    __table_args__ = (Index("ix_programs_help_requests_team_asked", "team_id", "asked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    topic: Mapped[str] = mapped_column(String(200))
    context: Mapped[str] = mapped_column(Text, default="")
    competency: Mapped[str] = mapped_column(String(60), default="")
    dataset: Mapped[str] = mapped_column(String(250), default="")  # "project/dataset"
    status: Mapped[str] = mapped_column(String(10))  # stuck | open | resolved
    stuck_since: Mapped[datetime] = mapped_column(UTCDateTime)
    share_stuck_with_mentor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HelpResponseRow(Base):
    __tablename__ = "programs_help_responses"
    __table_args__ = (Index("ix_programs_help_responses_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("programs_help_requests.id", ondelete="CASCADE")
    )
    responder_id: Mapped[int | None] = mapped_column(ForeignKey(_PERSON, ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    thanked: Mapped[bool] = mapped_column(Boolean, default=False)


class HelpNudgeRow(Base):
    """Opt-in: remind me to ask when something I marked stuck is older than this."""

    __tablename__ = "programs_help_nudges"

    person_id: Mapped[int] = mapped_column(
        ForeignKey(_PERSON, ondelete="CASCADE"), primary_key=True
    )
    after_minutes: Mapped[int] = mapped_column(Integer)


class LearningBudgetRow(Base):
    __tablename__ = "programs_learning_budgets"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    share: Mapped[float] = mapped_column(Float, default=0.0)
    sprint_weeks: Mapped[int] = mapped_column(Integer, default=2)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LearningEventRow(Base):
    __tablename__ = "programs_learning_events"
    __table_args__ = (Index("ix_programs_learning_events_starts", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200), default="")
    presenter: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LearningEntryRow(Base):
    __tablename__ = "programs_learning_entries"
    __table_args__ = (Index("ix_programs_learning_entries_person_day", "person_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    topic: Mapped[str] = mapped_column(String(200))
    competency: Mapped[str] = mapped_column(String(60), default="")
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs_learning_events.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MentorOfferRow(Base):
    __tablename__ = "programs_mentor_offers"

    person_id: Mapped[int] = mapped_column(
        ForeignKey(_PERSON, ondelete="CASCADE"), primary_key=True
    )
    strengths: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer)
    training_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MenteeGoalsRow(Base):
    __tablename__ = "programs_mentee_goals"

    person_id: Mapped[int] = mapped_column(
        ForeignKey(_PERSON, ondelete="CASCADE"), primary_key=True
    )
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MentorshipRow(Base):
    __tablename__ = "programs_mentorships"
    __table_args__ = (Index("ix_programs_mentorships_mentor", "mentor_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))  # active | ended
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    approved_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MentorSessionRow(Base):
    __tablename__ = "programs_mentor_sessions"
    __table_args__ = (Index("ix_programs_mentor_sessions_pair", "pair_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("programs_mentorships.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    logged_by: Mapped[str] = mapped_column(String(100))


class DesignRow(Base):
    __tablename__ = "programs_designs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    doc_url: Mapped[str] = mapped_column(String(2000), default="")
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DesignReviewRow(Base):
    __tablename__ = "programs_design_reviews"
    __table_args__ = (Index("ix_programs_design_reviews_at", "scheduled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str] = mapped_column(Text, default="")
    doc_url: Mapped[str] = mapped_column(String(2000), default="")
    presenter_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    design_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs_designs.id", ondelete="SET NULL")
    )
    invited_teams: Mapped[list[int]] = mapped_column(JSON, default=list)
    attendees: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DesignFeedbackRow(Base):
    __tablename__ = "programs_design_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("programs_design_reviews.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey(_PERSON, ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RotationRow(Base):
    __tablename__ = "programs_rotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey(_PERSON, ondelete="CASCADE"))
    home_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    host_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    reflection: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
