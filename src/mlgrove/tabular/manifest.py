"""A table version's manifest: its schema, key and ordered list of chunks."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "grove-table/1"


@dataclass(frozen=True)
class ChunkRef:
    content_id: str
    address: str
    rows: int
    bytes: int


@dataclass
class Manifest:
    schema: list[dict[str, Any]]
    key_columns: list[str]
    chunks: list[ChunkRef] = field(default_factory=list)
    rowhash: str = "rowhash-v1"

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.chunks)

    @property
    def size(self) -> int:
        return sum(c.bytes for c in self.chunks)

    def to_bytes(self) -> builtins.bytes:
        body = {
            "format": FORMAT,
            "schema": self.schema,
            "key": self.key_columns,
            "rowhash": self.rowhash,
            "rows": self.rows,
            "chunks": [[c.content_id, c.address, c.rows, c.bytes] for c in self.chunks],
        }
        # Canonical JSON: the same version always has the same address.
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: builtins.bytes) -> Manifest:
        body = json.loads(data)
        if body.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest")
        return cls(
            schema=body["schema"],
            key_columns=body["key"],
            rowhash=body["rowhash"],
            chunks=[ChunkRef(*c) for c in body["chunks"]],
        )
