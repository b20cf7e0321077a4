"""A table version's manifest: its schema, key and ordered list of chunks.

Format 2 adds, per chunk, the address of its *sidecar*: the chunk's row hashes (and key
hashes for a keyed dataset) as fixed-width little-endian uint64 arrays, so that append
and diff work from hashes without decoding rows (ADR 0007). Format 1 manifests (no
sidecars) still load; code that needs hashes recomputes them from the rows.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "grove-table/2"
FORMATS = ("grove-table/1", FORMAT)


@dataclass(frozen=True)
class ChunkRef:
    content_id: str
    address: str
    rows: int
    bytes: int
    sidecar: str | None = None  # address of the row/key hashes; None in format 1


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
    def has_sidecars(self) -> bool:
        return all(c.sidecar for c in self.chunks)

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
            "chunks": [
                [c.content_id, c.address, c.rows, c.bytes]
                + ([c.sidecar] if c.sidecar is not None else [])
                for c in self.chunks
            ],
        }
        # Canonical JSON: the same version always has the same address.
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: builtins.bytes) -> Manifest:
        body = json.loads(data)
        if body.get("format") not in FORMATS:
            raise ValueError(f"not a {FORMAT} manifest")
        return cls(
            schema=body["schema"],
            key_columns=body["key"],
            rowhash=body["rowhash"],
            chunks=[ChunkRef(*c) for c in body["chunks"]],
        )
