"""Datasets and their versions as plain values, and how people name versions."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlgrove.errors import InvalidInput


class DatasetKind(enum.StrEnum):
    TABLE = "table"
    FILES = "files"


class VersionSource(enum.StrEnum):
    IMPORT = "import"
    REVIEW = "review"
    PIPELINE = "pipeline"


@dataclass(frozen=True)
class Dataset:
    id: int
    project: str
    name: str
    kind: DatasetKind
    key_columns: list[str]
    label_column: str | None
    description: str
    created_at: datetime


@dataclass(frozen=True)
class Version:
    dataset: str
    number: int
    address: str
    parent: int | None
    message: str
    author: str
    source: str
    rows: int
    bytes: int
    new_bytes: int
    schema: list[dict[str, Any]]
    created_at: datetime
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"v{self.number}"


@dataclass(frozen=True)
class VersionRef:
    """What someone typed to name a version: ``v3``, ``3``, ``latest`` or an address prefix."""

    number: int | None = None
    address_prefix: str | None = None
    latest: bool = False


_HEX = re.compile(r"^[0-9a-f]{8,64}$")


def parse_version_ref(text: str) -> VersionRef:
    value = text.strip().lower()
    if value in ("latest", "head"):
        return VersionRef(latest=True)
    digits = value[1:] if value.startswith("v") else value
    if digits.isdigit() and len(digits) < 8:
        if int(digits) < 1:
            raise InvalidInput(f"no version {text!r}", hint="versions count from v1")
        return VersionRef(number=int(digits))
    if _HEX.match(value):
        return VersionRef(address_prefix=value)
    raise InvalidInput(
        f"{text!r} does not name a version",
        hint="use v1, v2, ..., latest, or at least 8 characters of a version's address",
    )


@dataclass(frozen=True)
class Split:
    version: str
    spec: dict[str, Any]
    counts: dict[str, int]
    origin: str
    moved_rows: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class LineageEdge:
    from_kind: str
    from_id: str
    relation: str
    to_kind: str
    to_id: str
    detail: dict[str, Any]
    created_at: datetime
