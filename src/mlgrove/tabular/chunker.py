"""Content-defined chunking at row granularity.

Rows stay in their input order; a chunk ends after a row whose hash has its low bits
all zero (on average every ``2**bits`` rows), bounded by a minimum and a maximum size.
Because a boundary depends only on the row itself, inserting, deleting or appending rows
moves boundaries only around the change: every other chunk is byte-for-byte the same
and is neither hashed into a new object nor stored again.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

AVERAGE_BITS = 15  # 32,768 rows on average
MIN_ROWS = 4_096
MAX_ROWS = 262_144


class RowChunker:
    """Feed record batches with their row hashes; get back whole chunks as tables."""

    def __init__(
        self, *, bits: int = AVERAGE_BITS, min_rows: int = MIN_ROWS, max_rows: int = MAX_ROWS
    ) -> None:
        self.mask = np.uint64((1 << bits) - 1)
        self.min_rows = min_rows
        self.max_rows = max_rows
        self._pending: list[pa.RecordBatch] = []
        self._pending_hashes: list[np.ndarray] = []
        self._pending_rows = 0

    def push(
        self, batch: pa.RecordBatch, hashes: np.ndarray
    ) -> Iterator[tuple[pa.Table, np.ndarray]]:
        """Add rows; yields each chunk (table, row hashes) completed by them."""
        # Mix the bits we test so that boundaries do not correlate with the low bits
        # used elsewhere (split assignment uses the hash too).
        candidates = np.flatnonzero(((hashes >> np.uint64(17)) & self.mask) == 0)
        start = 0
        for candidate in candidates.tolist():
            cut = int(candidate)
            while self._pending_rows + (cut + 1 - start) > self.max_rows:
                take = self.max_rows - self._pending_rows
                yield from self._emit(batch, hashes, start, start + take)
                start += take
            if cut < start:
                continue
            if self._pending_rows + (cut + 1 - start) >= self.min_rows:
                yield from self._emit(batch, hashes, start, cut + 1)
                start = cut + 1
        while self._pending_rows + (len(hashes) - start) > self.max_rows:
            take = self.max_rows - self._pending_rows
            yield from self._emit(batch, hashes, start, start + take)
            start += take
        if start < len(hashes):
            self._pending.append(batch.slice(start, len(hashes) - start))
            self._pending_hashes.append(hashes[start:])
            self._pending_rows += len(hashes) - start

    def _emit(
        self, batch: pa.RecordBatch, hashes: np.ndarray, start: int, end: int
    ) -> Iterator[tuple[pa.Table, np.ndarray]]:
        self._pending.append(batch.slice(start, end - start))
        self._pending_hashes.append(hashes[start:end])
        table = pa.Table.from_batches(self._pending)
        all_hashes = np.concatenate(self._pending_hashes)
        self._pending, self._pending_hashes, self._pending_rows = [], [], 0
        yield table, all_hashes

    def finish(self) -> Iterator[tuple[pa.Table, np.ndarray]]:
        """The last, partial chunk (if any rows are left)."""
        if self._pending_rows:
            table = pa.Table.from_batches(self._pending)
            hashes = np.concatenate(self._pending_hashes)
            self._pending, self._pending_hashes, self._pending_rows = [], [], 0
            yield table, hashes
