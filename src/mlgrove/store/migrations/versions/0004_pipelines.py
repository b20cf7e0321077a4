"""pipelines, steps, step cache, retrain rules and triggers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 04:00:00.000000

Reserved so that work on several areas can proceed in parallel without forking the
revision chain; the area's tables are added here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mlgrove.store.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_step_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pipeline_step_cache")),
    )
    with op.batch_alter_table("pipeline_step_cache", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_step_cache_step", ["step"], unique=False)

    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("promotion", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pipelines_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("name", name=op.f("uq_pipelines_name")),
    )
    op.create_table(
        "pipeline_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trained_version", sa.Integer(), nullable=True),
        sa.Column("seen_version", sa.Integer(), nullable=True),
        sa.Column("last_fired_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_rules_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_rules")),
    )
    with op.batch_alter_table("pipeline_rules", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_rules_pipeline_id", ["pipeline_id"], unique=False)

    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("executor", sa.String(length=200), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("forced", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("steps_total", sa.Integer(), nullable=False),
        sa.Column("steps_cached", sa.Integer(), nullable=False),
        sa.Column("steps_failed", sa.Integer(), nullable=False),
        sa.Column("tracking_run_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", mlgrove.store.models.base.UTCDateTime(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_runs_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tracking_run_id"],
            ["runs.id"],
            name=op.f("fk_pipeline_runs_tracking_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_runs_pipeline_id", ["pipeline_id", "id"], unique=False)

    op.create_table(
        "pipeline_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_decisions_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["pipeline_rules.id"],
            name=op.f("fk_pipeline_decisions_rule_id_pipeline_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_pipeline_decisions_run_id_pipeline_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_decisions")),
    )
    with op.batch_alter_table("pipeline_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pipeline_decisions_pipeline_id", ["pipeline_id", "id"], unique=False
        )

    op.create_table(
        "pipeline_step_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("input_addresses", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("env_hash", sa.String(length=64), nullable=True),
        sa.Column("output_address", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("ended_at", mlgrove.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_pipeline_step_runs_run_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_step_runs")),
    )
    with op.batch_alter_table("pipeline_step_runs", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_step_runs_run_id", ["run_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pipeline_step_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_step_runs_run_id")

    op.drop_table("pipeline_step_runs")
    with op.batch_alter_table("pipeline_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_decisions_pipeline_id")

    op.drop_table("pipeline_decisions")
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_runs_pipeline_id")

    op.drop_table("pipeline_runs")
    with op.batch_alter_table("pipeline_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_rules_pipeline_id")

    op.drop_table("pipeline_rules")
    op.drop_table("pipelines")
    with op.batch_alter_table("pipeline_step_cache", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_step_cache_step")

    op.drop_table("pipeline_step_cache")
