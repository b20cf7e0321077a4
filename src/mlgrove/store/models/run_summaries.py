"""The runs-table summary: each run's latest value of each metric, for filters and sorts.

``run_metrics`` holds every point; finding "the latest acc of each of 100k runs" there
means grouping millions of rows. This table keeps one row per (run, metric), updated in
the same transaction as the points, so a filter or sort on a metric is an index lookup.
See docs/adr/0008-runs-summary-table.md.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base
from mlgrove.store.models.tracking import RunRow


class RunLatestMetricRow(Base):
    __tablename__ = "run_summary_metrics"
    __table_args__ = (
        # Filter or sort a project's runs by one metric's value.
        Index("ix_run_summary_metrics_project_key_value", "project_id", "key", "value", "run_id"),
        # On SQLite the rows live in the primary key's b-tree: a (run, key) lookup reads
        # the value there, without a second search of a rowid table.
        {"sqlite_with_rowid": False},
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    # Copied from the run so the index above serves one project without a join.
    project_id: Mapped[int] = mapped_column(Integer)
    # NULL is NaN on both backends (PostgreSQL would otherwise sort NaN above every
    # number and SQLite cannot store it): NaN then matches no comparison and sorts last.
    value: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    #: The step of the point this value came from (the newest logged point wins).
    step: Mapped[int] = mapped_column(BigInteger)


# Sorting a project's runs by start time, name, author or status pages through these
# indexes instead of sorting every run (the runs table belongs to tracking.py; the
# indexes to the runs search).
RUNS_BY_START = Index("ix_runs_project_started", RunRow.project_id, RunRow.started_at, RunRow.id)
RUNS_BY_NAME = Index("ix_runs_project_name", RunRow.project_id, RunRow.name, RunRow.id)
RUNS_BY_AUTHOR = Index("ix_runs_project_author", RunRow.project_id, RunRow.author, RunRow.id)
RUNS_BY_STATUS = Index("ix_runs_project_status", RunRow.project_id, RunRow.status, RunRow.id)


class RunTextRow(Base):
    """Each run's params and tags as rows, so a clause or sort on one is an index lookup
    instead of parsing every run's JSON. The value is cut to ``TEXT_PREFIX`` characters
    (an index entry must stay small); a longer value is matched exactly against the
    run's own JSON, and sorts by its first ``TEXT_PREFIX`` characters."""

    __tablename__ = "run_summary_texts"
    __table_args__ = (
        Index(
            "ix_run_summary_texts_project_kind_key_value",
            "project_id",
            "kind",
            "key",
            "value",
            "run_id",
        ),
        {"sqlite_with_rowid": False},
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)  # "param" or "tag"
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(200))


TEXT_PREFIX = 200
