"""A chunk's sidecar: its row hashes, and key hashes for a keyed dataset (ADR 0007).

Stored at commit as one small object per chunk and named in the manifest (format 2), so
that append checks keys and diff matches rows from fixed-width hashes, decoding only the
chunks whose rows it has to show. Layout: one ASCII header line, then ``rows`` row hashes
and (if keyed) ``rows`` key hashes, each little-endian uint64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAGIC = b"grove-sidecar/1"


@dataclass(frozen=True)
class Hashes:
    rows: np.ndarray  # rowhash-v1 over every column, one per row
    keys: np.ndarray | None  # rowhash-v1 over the key columns; None when unkeyed


def encode(row_hashes: np.ndarray, key_hashes: np.ndarray | None) -> bytes:
    n = len(row_hashes)
    if key_hashes is not None and len(key_hashes) != n:
        raise ValueError("row and key hashes differ in length")
    header = MAGIC + f" rows={n} keyed={int(key_hashes is not None)}\n".encode()
    parts = [header, np.ascontiguousarray(row_hashes, dtype="<u8").tobytes()]
    if key_hashes is not None:
        parts.append(np.ascontiguousarray(key_hashes, dtype="<u8").tobytes())
    return b"".join(parts)


def decode(data: bytes) -> Hashes:
    end = data.index(b"\n")
    fields = data[:end].split()
    if fields[0] != MAGIC:
        raise ValueError("not a grove sidecar")
    values = dict(f.decode().split("=") for f in fields[1:])
    n, keyed = int(values["rows"]), values["keyed"] == "1"
    start = end + 1
    rows = np.frombuffer(data, dtype="<u8", count=n, offset=start).astype(np.uint64, copy=False)
    keys = (
        np.frombuffer(data, dtype="<u8", count=n, offset=start + 8 * n).astype(
            np.uint64, copy=False
        )
        if keyed
        else None
    )
    return Hashes(rows, keys)
