"""review queues, items, leases, verdicts, gold, feedback ingest

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:00:00.000000

Reserved so that work on several areas can proceed in parallel without forking the
revision chain; the area's tables are added here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mlgrove.store.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("task_type", sa.String(length=20), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("multi_label", sa.Boolean(), nullable=False),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("random_share", sa.Float(), nullable=False),
        sa.Column("uncertainty", sa.String(length=20), nullable=False),
        sa.Column("consensus", sa.String(length=20), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("training_dataset", sa.String(length=200), nullable=True),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("items_resolved", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_review_queues_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_queues")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_review_queues_project_id")),
    )
    op.create_table(
        "review_reviewers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_review_reviewers_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_reviewers")),
        sa.UniqueConstraint("name", name=op.f("uq_review_reviewers_name")),
        sa.UniqueConstraint("person_id", name=op.f("uq_review_reviewers_person_id")),
    )
    op.create_table(
        "review_ingest_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_ingest_keys_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_ingest_keys")),
    )
    with op.batch_alter_table("review_ingest_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_ingest_keys_prefix"), ["prefix"], unique=False)

    op.create_table(
        "review_commits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.Column("verdict_ids", sa.JSON(), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("model_version_ids", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_review_commits_dataset_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_commits_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_commits")),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prediction", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("uncertainty", sa.Float(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("random_slice", sa.Boolean(), nullable=False),
        sa.Column("gold", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("verdict_count", sa.Integer(), nullable=False),
        sa.Column("negative_feedback", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("dataset_version_id", sa.Integer(), nullable=True),
        sa.Column("source_row_key", sa.String(length=500), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("committed_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committed_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_review_items_committed_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_review_items_dataset_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_review_items_model_version_id_model_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_items_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("queue_id", "external_id", name=op.f("uq_review_items_queue_id")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_items_next", ["queue_id", "status", "priority", "id"], unique=False
        )

    op.create_table(
        "review_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("prediction_id", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("correction", sa.JSON(), nullable=True),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_feedback_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_feedback_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_feedback")),
    )
    op.create_table(
        "review_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_leases_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_leases_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["review_reviewers.id"],
            name=op.f("fk_review_leases_reviewer_id_review_reviewers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_leases")),
        sa.UniqueConstraint("item_id", "reviewer_id", name=op.f("uq_review_leases_item_id")),
    )
    with op.batch_alter_table("review_leases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_leases_queue_expires", ["queue_id", "expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_review_leases_reviewer", ["queue_id", "reviewer_id"], unique=False
        )

    op.create_table(
        "review_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_skips_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["review_reviewers.id"],
            name=op.f("fk_review_skips_reviewer_id_review_reviewers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_skips")),
        sa.UniqueConstraint("item_id", "reviewer_id", name=op.f("uq_review_skips_item_id")),
    )
    op.create_table(
        "review_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("improve", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("submit_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_verdicts_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_verdicts_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["review_reviewers.id"],
            name=op.f("fk_review_verdicts_reviewer_id_review_reviewers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_verdicts")),
        sa.UniqueConstraint("item_id", "reviewer_id", name=op.f("uq_review_verdicts_item_id")),
    )
    with op.batch_alter_table("review_verdicts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_verdicts_queue_reviewer", ["queue_id", "reviewer_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_verdicts", schema=None) as batch_op:
        batch_op.drop_index("ix_review_verdicts_queue_reviewer")

    op.drop_table("review_verdicts")
    op.drop_table("review_skips")
    with op.batch_alter_table("review_leases", schema=None) as batch_op:
        batch_op.drop_index("ix_review_leases_reviewer")
        batch_op.drop_index("ix_review_leases_queue_expires")

    op.drop_table("review_leases")
    op.drop_table("review_feedback")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index("ix_review_items_next")

    op.drop_table("review_items")
    op.drop_table("review_commits")
    with op.batch_alter_table("review_ingest_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_ingest_keys_prefix"))

    op.drop_table("review_ingest_keys")
    op.drop_table("review_reviewers")
    op.drop_table("review_queues")
