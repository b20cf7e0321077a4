"""growing engineers: mentorship, learning time, help requests, design reviews, rotations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 04:00:00.000000

Tables prefixed ``programs_`` (store/models/growth_programs.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mlgrove.store.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programs_designs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("doc_url", sa.String(length=2000), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_programs_designs_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_designs")),
    )
    op.create_table(
        "programs_learning_budgets",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("sprint_weeks", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_programs_learning_budgets_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_programs_learning_budgets")),
    )
    op.create_table(
        "programs_learning_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("presenter", sa.String(length=200), nullable=False),
        sa.Column("starts_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_programs_learning_events_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_learning_events")),
    )
    with op.batch_alter_table("programs_learning_events", schema=None) as batch_op:
        batch_op.create_index("ix_programs_learning_events_starts", ["starts_at"], unique=False)

    op.create_table(
        "programs_design_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("doc_url", sa.String(length=2000), nullable=False),
        sa.Column("presenter_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("design_id", sa.Integer(), nullable=True),
        sa.Column("invited_teams", sa.JSON(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["design_id"],
            ["programs_designs.id"],
            name=op.f("fk_programs_design_reviews_design_id_programs_designs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["presenter_id"],
            ["people.id"],
            name=op.f("fk_programs_design_reviews_presenter_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_programs_design_reviews_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_design_reviews")),
    )
    with op.batch_alter_table("programs_design_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_programs_design_reviews_at", ["scheduled_at"], unique=False)

    op.create_table(
        "programs_help_nudges",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("after_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_programs_help_nudges_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_programs_help_nudges")),
    )
    op.create_table(
        "programs_help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("competency", sa.String(length=60), nullable=False),
        sa.Column("dataset", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stuck_since", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("share_stuck_with_mentor", sa.Boolean(), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("asked_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.Column("first_response_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asker_id"],
            ["people.id"],
            name=op.f("fk_programs_help_requests_asker_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_programs_help_requests_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_help_requests")),
    )
    with op.batch_alter_table("programs_help_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programs_help_requests_team_asked", ["team_id", "asked_at"], unique=False
        )

    op.create_table(
        "programs_learning_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("competency", sa.String(length=60), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["programs_learning_events.id"],
            name=op.f("fk_programs_learning_entries_event_id_programs_learning_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_programs_learning_entries_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_learning_entries")),
    )
    with op.batch_alter_table("programs_learning_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programs_learning_entries_person_day", ["person_id", "day"], unique=False
        )

    op.create_table(
        "programs_mentee_goals",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_programs_mentee_goals_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_programs_mentee_goals")),
    )
    op.create_table(
        "programs_mentor_offers",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("strengths", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("training_done", sa.JSON(), nullable=False),
        sa.Column("updated_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_programs_mentor_offers_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_programs_mentor_offers")),
    )
    op.create_table(
        "programs_mentorships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["people.id"],
            name=op.f("fk_programs_mentorships_mentee_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["people.id"],
            name=op.f("fk_programs_mentorships_mentor_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_mentorships")),
    )
    with op.batch_alter_table("programs_mentorships", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programs_mentorships_mentor", ["mentor_id", "status"], unique=False
        )

    op.create_table(
        "programs_rotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("home_team_id", sa.Integer(), nullable=True),
        sa.Column("host_team_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("reflection", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_team_id"],
            ["teams.id"],
            name=op.f("fk_programs_rotations_home_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["host_team_id"],
            ["teams.id"],
            name=op.f("fk_programs_rotations_host_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_programs_rotations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_rotations")),
    )
    op.create_table(
        "programs_design_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_programs_design_feedback_author_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["programs_design_reviews.id"],
            name=op.f("fk_programs_design_feedback_review_id_programs_design_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_design_feedback")),
    )
    op.create_table(
        "programs_help_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("responder_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("thanked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["programs_help_requests.id"],
            name=op.f("fk_programs_help_responses_request_id_programs_help_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responder_id"],
            ["people.id"],
            name=op.f("fk_programs_help_responses_responder_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_help_responses")),
    )
    with op.batch_alter_table("programs_help_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programs_help_responses_request", ["request_id", "id"], unique=False
        )

    op.create_table(
        "programs_mentor_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("logged_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["programs_mentorships.id"],
            name=op.f("fk_programs_mentor_sessions_pair_id_programs_mentorships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs_mentor_sessions")),
    )
    with op.batch_alter_table("programs_mentor_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_programs_mentor_sessions_pair", ["pair_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("programs_mentor_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_mentor_sessions_pair")

    op.drop_table("programs_mentor_sessions")
    with op.batch_alter_table("programs_help_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_help_responses_request")

    op.drop_table("programs_help_responses")
    op.drop_table("programs_design_feedback")
    op.drop_table("programs_rotations")
    with op.batch_alter_table("programs_mentorships", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_mentorships_mentor")

    op.drop_table("programs_mentorships")
    op.drop_table("programs_mentor_offers")
    op.drop_table("programs_mentee_goals")
    with op.batch_alter_table("programs_learning_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_learning_entries_person_day")

    op.drop_table("programs_learning_entries")
    with op.batch_alter_table("programs_help_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_help_requests_team_asked")

    op.drop_table("programs_help_requests")
    op.drop_table("programs_help_nudges")
    with op.batch_alter_table("programs_design_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_design_reviews_at")

    op.drop_table("programs_design_reviews")
    with op.batch_alter_table("programs_learning_events", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_learning_events_starts")

    op.drop_table("programs_learning_events")
    op.drop_table("programs_learning_budgets")
    op.drop_table("programs_designs")
