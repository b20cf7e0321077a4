"""Datasets, their versions, splits, the chunk index and lineage edges.

Chunks and manifests live in the object store; these tables are the index over them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base, UTCDateTime, utcnow


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # "table" | "files"
    key_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    label_column: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetVersionRow(Base):
    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number"),
        Index("ix_dataset_versions_address", "address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # The manifest's object address: the version's content address.
    address: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # import | review | pipeline | split
    row_count: Mapped[int] = mapped_column(BigInteger)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    # Bytes this version added to the store (chunks no earlier version had).
    new_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    schema_json: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    stats_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TableChunkRow(Base):
    """A chunk's logical identity (hash of its Arrow data) to its stored Parquet object.

    Lets a commit skip encoding and writing any chunk some version already has.
    """

    __tablename__ = "table_chunks"

    content_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)


class SplitRow(Base):
    """The split assignment of one version: which rows are train, validation, test..."""

    __tablename__ = "dataset_splits"
    # Every assignment is kept: the newest per version is current, older ones are history.
    __table_args__ = (Index("ix_dataset_splits_version_id", "version_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    # Object holding (row_id, split code) for every row, sorted by row id.
    address: Mapped[str] = mapped_column(String(64))
    # {"method": "hash"|"column", "ratios": {...}, "seed": n, "column": ..., "names": [...]}
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    # How it came about: "assigned" (on purpose) or "inherited" (from the parent version).
    origin: Mapped[str] = mapped_column(String(20))
    # Rows that existed in the parent but now sit in a different split (0 when inherited).
    moved_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LineageEdgeRow(Base):
    """``(from_kind, from_id) -[relation]-> (to_kind, to_id)``: what came from what."""

    __tablename__ = "lineage_edges"
    __table_args__ = (
        Index("ix_lineage_edges_to", "to_kind", "to_id"),
        Index("ix_lineage_edges_from", "from_kind", "from_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_kind: Mapped[str] = mapped_column(String(30))
    from_id: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(30))
    to_kind: Mapped[str] = mapped_column(String(30))
    to_id: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
