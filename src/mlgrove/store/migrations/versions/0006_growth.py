"""growing engineers: feedback, feedback requests, growth plans, 1:1 notes, notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mlgrove.store.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = (
    # Children first, so downgrade drops them before what they point at.
    "growth_evidence",
    "growth_goals",
    "growth_feedback",
    "growth_plans",
    "growth_notifications",
    "growth_notes",
    "growth_feedback_requests",
)


def upgrade() -> None:
    op.create_table(
        "growth_feedback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("about", sa.String(length=500), nullable=False),
        sa.Column("about_kind", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("answered_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["people.id"],
            name=op.f("fk_growth_feedback_requests_peer_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["people.id"],
            name=op.f("fk_growth_feedback_requests_requester_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_feedback_requests")),
    )
    with op.batch_alter_table("growth_feedback_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_growth_feedback_requests_peer_id", ["peer_id", "id"], unique=False
        )

    op.create_table(
        "growth_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("counterpart_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_growth_notes_author_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counterpart_id"],
            ["people.id"],
            name=op.f("fk_growth_notes_counterpart_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_notes")),
    )
    with op.batch_alter_table("growth_notes", schema=None) as batch_op:
        batch_op.create_index("ix_growth_notes_pair", ["author_id", "counterpart_id"], unique=False)

    op.create_table(
        "growth_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("read_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_growth_notifications_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_notifications")),
    )
    with op.batch_alter_table("growth_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_growth_notifications_person_id", ["person_id", "id"], unique=False
        )

    op.create_table(
        "growth_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("closed_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_growth_plans_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_plans")),
    )
    with op.batch_alter_table("growth_plans", schema=None) as batch_op:
        batch_op.create_index("ix_growth_plans_person_id", ["person_id", "id"], unique=False)

    op.create_table(
        "growth_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("technical", sa.Text(), nullable=False),
        sa.Column("collaboration", sa.Text(), nullable=False),
        sa.Column("about", sa.String(length=500), nullable=False),
        sa.Column("about_kind", sa.String(length=30), nullable=False),
        sa.Column("competencies", sa.JSON(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["giver_id"],
            ["people.id"],
            name=op.f("fk_growth_feedback_giver_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"],
            ["people.id"],
            name=op.f("fk_growth_feedback_receiver_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["growth_feedback_requests.id"],
            name=op.f("fk_growth_feedback_request_id_growth_feedback_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_feedback")),
    )
    with op.batch_alter_table("growth_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_growth_feedback_giver_id", ["giver_id", "id"], unique=False)
        batch_op.create_index("ix_growth_feedback_receiver_id", ["receiver_id", "id"], unique=False)

    op.create_table(
        "growth_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("competency", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["growth_plans.id"],
            name=op.f("fk_growth_goals_plan_id_growth_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_goals")),
    )
    op.create_table(
        "growth_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["growth_goals.id"],
            name=op.f("fk_growth_evidence_goal_id_growth_goals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_evidence")),
    )


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)
