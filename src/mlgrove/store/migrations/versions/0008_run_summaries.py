"""runs table summaries: latest metric values per run for filtering and sorting

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 04:00:00.000000

Adds ``run_summary_metrics`` (each run's newest value of each metric) filled from the
points already stored, and indexes for sorting a project's runs by start time, name, author and status.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Indexes for sorting a project's runs by these columns (then by id).
RUN_SORTS = [
    ("ix_runs_project_started", "started_at"),
    ("ix_runs_project_name", "name"),
    ("ix_runs_project_author", "author"),
    ("ix_runs_project_status", "status"),
]


def upgrade() -> None:
    op.create_table(
        "run_summary_metrics",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_summary_metrics_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_summary_metrics")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("run_summary_metrics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_run_summary_metrics_project_key_value",
            ["project_id", "key", "value", "run_id"],
            unique=False,
        )
    op.create_table(
        "run_summary_texts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_summary_texts_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "kind", "key", name=op.f("pk_run_summary_texts")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("run_summary_texts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_run_summary_texts_project_kind_key_value",
            ["project_id", "kind", "key", "value", "run_id"],
            unique=False,
        )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name, column in RUN_SORTS:
            batch_op.create_index(name, ["project_id", column, "id"], unique=False)
    # Runs logged before this table existed: their newest point per metric (NaN is
    # already NULL in run_metrics on SQLite; on PostgreSQL NaN becomes NULL here).
    nan_to_null = (
        "CASE WHEN m.value = 'NaN'::float8 THEN NULL ELSE m.value END"
        if op.get_bind().dialect.name == "postgresql"
        else "m.value"
    )
    op.execute(
        f"""
        INSERT INTO run_summary_metrics (run_id, key, project_id, value, step)
        SELECT m.run_id, m.key, r.project_id, {nan_to_null}, m.step
        FROM run_metrics m
        JOIN (SELECT run_id, key, MAX(id) AS id FROM run_metrics GROUP BY run_id, key) last
          ON last.id = m.id
        JOIN runs r ON r.id = m.run_id
        """
    )
    # Params and tags of existing runs, one row each (values cut as the service cuts them).
    postgres = op.get_bind().dialect.name == "postgresql"
    for kind, column in (("param", "params"), ("tag", "tags")):
        each = f"json_each_text(r.{column})" if postgres else f"json_each(r.{column})"
        op.execute(
            f"""
            INSERT INTO run_summary_texts (run_id, kind, key, project_id, value)
            SELECT r.id, '{kind}', j.key, r.project_id, substr(j.value, 1, 200)
            FROM runs r, {each} AS j
            """
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name, _ in RUN_SORTS:
            batch_op.drop_index(name)
    with op.batch_alter_table("run_summary_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_run_summary_metrics_project_key_value")
    op.drop_table("run_summary_metrics")
    with op.batch_alter_table("run_summary_texts", schema=None) as batch_op:
        batch_op.drop_index("ix_run_summary_texts_project_kind_key_value")
    op.drop_table("run_summary_texts")
