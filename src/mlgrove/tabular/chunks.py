"""Chunk identity and encoding.

A chunk's *content id* is the BLAKE3 of its Arrow IPC form (columns made contiguous
first), so it depends on the values and schema alone, not on how a Parquet writer of
some version lays out bytes. The stored object is Parquet (zstd), addressed by the hash
of its own bytes like every object.
"""

from __future__ import annotations

import io

import blake3
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq


def contiguous(table: pa.Table) -> pa.Table:
    """One zero-offset chunk per column: the canonical layout we hash."""
    return pa.Table.from_arrays(
        [
            pa.concat_arrays(col.chunks)
            if col.num_chunks != 1 or col.chunks[0].offset
            else col.chunks[0]
            for col in table.columns
        ],
        schema=table.schema,
    )


def content_id(table: pa.Table) -> str:
    hasher = blake3.blake3()

    class _Sink(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
            hasher.update(b)
            return len(b)

    with ipc.new_stream(_Sink(), table.schema) as writer:
        writer.write_table(contiguous(table))
    return str(hasher.hexdigest())


def encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    # zstd level 1: within a few percent of level 3's size at about twice the speed
    # (measured on mixed numeric and text tables). Parquet, so any tool can read a chunk.
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=1,
        write_statistics=False,
        row_group_size=max(table.num_rows, 1),
        store_schema=True,
    )
    return bytes(sink.getvalue().to_pybytes())


def decode(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))
