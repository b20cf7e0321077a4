"""Request and response bodies of the datasets API and of the chunk upload protocol."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlgrove.domain.datasets import Dataset, DatasetKind, Split, Version

# One request may name at most this many chunks or objects (a 10-million-row table has
# about 300 chunks); the SDK asks in smaller windows.
MAX_IDS = 10_000


class DatasetOut(BaseModel):
    id: int
    project: str
    name: str
    kind: DatasetKind
    key_columns: list[str]
    label_column: str | None
    description: str
    created_at: datetime

    @classmethod
    def of(cls, d: Dataset) -> DatasetOut:
        return cls(
            id=d.id,
            project=d.project,
            name=d.name,
            kind=d.kind,
            key_columns=d.key_columns,
            label_column=d.label_column,
            description=d.description,
            created_at=d.created_at,
        )


class VersionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    dataset: str
    number: int
    name: str = Field(description="`v` and the number, e.g. `v3`.")
    address: str = Field(description="The manifest's object address.")
    parent: int | None
    message: str
    author: str
    source: str
    rows: int
    bytes: int
    new_bytes: int = Field(description="Bytes of chunks no earlier version had.")
    columns: list[dict[str, Any]] = Field(alias="schema")
    created_at: datetime
    stats: dict[str, Any] = Field(description="Empty in lists; filled for one version.")

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls(
            dataset=v.dataset,
            number=v.number,
            name=v.name,
            address=v.address,
            parent=v.parent,
            message=v.message,
            author=v.author,
            source=v.source,
            rows=v.rows,
            bytes=v.bytes,
            new_bytes=v.new_bytes,
            schema=v.schema,
            created_at=v.created_at,
            stats=v.stats,
        )


class DatasetEntryOut(BaseModel):
    dataset: DatasetOut
    latest: VersionOut | None


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ratios: dict[str, float] | None = Field(
        default=None, description='e.g. {"train": 0.8, "test": 0.2}'
    )
    column: str | None = Field(default=None, description="Or: a column naming each row's split.")
    seed: int = 0


class SplitOut(BaseModel):
    version: str
    spec: dict[str, Any]
    counts: dict[str, int]
    origin: str
    moved_rows: int
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, s: Split) -> SplitOut:
        return cls(
            version=s.version,
            spec=s.spec,
            counts=s.counts,
            origin=s.origin,
            moved_rows=s.moved_rows,
            created_by=s.created_by,
            created_at=s.created_at,
        )


class KnownIn(BaseModel):
    content_ids: list[str] = Field(max_length=MAX_IDS)


class KnownOut(BaseModel):
    known: dict[str, str] = Field(description="content id -> object address, for those known.")


class MissingIn(BaseModel):
    addresses: list[str] = Field(max_length=MAX_IDS)


class MissingOut(BaseModel):
    missing: list[str] = Field(description="The addresses asked about that the store lacks.")


class ObjectOut(BaseModel):
    address: str
    size: int
    new: bool = Field(description="False when the store had the object already.")


class AppendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chunks: list[tuple[str, str]] = Field(
        description="[content id, object address] of every chunk of the new rows, in order."
    )
    message: str = ""
    source_name: str = Field(default="upload", max_length=300)
    project: str | None = None


class CommitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chunks: list[tuple[str, str]] = Field(
        description="[content id, object address] of every chunk, in row order."
    )
    key: list[str] | None = None
    label: str | None = None
    message: str = ""
    allow_schema_change: bool = False
    source_name: str = Field(default="upload", max_length=300)
    project: str | None = None
