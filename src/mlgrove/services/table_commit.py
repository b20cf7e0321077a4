"""Committing a table: stream rows in, store only the chunks no version has yet.

The pipeline: read batches → hash rows → cut content-defined chunks → for each chunk
compute its content id; reuse the stored Parquet object if any version already has that
chunk, else encode and store it → check keys → write the manifest → one database
transaction records the version, the chunk index, lineage and inherited splits.
Objects are written before the transaction: if anything fails, the previous versions are
untouched and the new objects are unreferenced orphans (harmless, never half-written).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import DatasetKind, Version, VersionSource
from mlgrove.errors import Conflict, InvalidInput
from mlgrove.services import audit, lineage, objects
from mlgrove.services import datasets as ds_service
from mlgrove.services import splits as split_service
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetVersionRow, TableChunkRow
from mlgrove.store.objects import Stored, hash_bytes
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular import readers
from mlgrove.tabular import schema as schemas
from mlgrove.tabular import sidecar as sidecars
from mlgrove.tabular.chunker import RowChunker
from mlgrove.tabular.manifest import ChunkRef, Manifest
from mlgrove.tabular.rowhash import row_hashes
from mlgrove.tabular.stats import StatsBuilder

Progress = Callable[[int], None]
DUPLICATE_EXAMPLES = 5
ENCODE_THREADS = max(2, min(8, os.cpu_count() or 2))


@dataclass
class _Built:
    manifest: Manifest
    new_chunks: list[tuple[ChunkRef, Stored]]
    sidecars: list[Stored]
    row_ids: np.ndarray  # key hash (keyed) or content hash per row, in row order
    stats: dict[str, Any]
    new_bytes: int


def _build(
    ctx: Context,
    source: readers.Source,
    key_columns: Sequence[str],
    label_column: str | None,
    known: Callable[[str], TableChunkRow | None],
    progress: Progress | None,
    carried: pa.Table | None = None,
    check_keys: bool = True,
) -> _Built:
    """Read, hash, chunk and store ``source``'s rows.

    ``carried`` rows (an append's re-cut last chunk of the parent) go through the
    chunker first but are not new: statistics and ``row_ids`` cover the source only.
    """
    schema = schemas.normalize(source.schema)
    missing = [k for k in key_columns if k not in schema.names]
    if missing:
        raise InvalidInput(
            f"key column {missing[0]!r} is not in {source.name}",
            hint="columns are: " + ", ".join(schema.names[:20]),
        )
    if label_column and label_column not in schema.names:
        raise InvalidInput(f"label column {label_column!r} is not in {source.name}")
    chunker = RowChunker()
    stats = StatsBuilder(schema, label_column)
    refs: list[ChunkRef] = []
    new_chunks: list[tuple[ChunkRef, Stored]] = []
    new_sidecars: list[Stored] = []
    ids: list[np.ndarray] = []
    new_bytes = 0

    # Encoding and writing new chunks runs on worker threads (pyarrow and blake3
    # release the GIL) while this thread reads and hashes the next rows. At most
    # `in_flight` chunks wait, so memory stays bounded on any input size.
    pool = ThreadPoolExecutor(max_workers=ENCODE_THREADS, thread_name_prefix="grove-encode")
    pending: list[Future[tuple[ChunkRef, Stored | None, Stored]]] = []
    in_flight = ENCODE_THREADS * 2

    def encode_and_put(
        table: pa.Table, cid: str, hashes: np.ndarray, keys: np.ndarray | None
    ) -> tuple[ChunkRef, Stored | None, Stored]:
        # The sidecar is stored even for a known chunk: one committed before sidecars
        # existed gets one now (same hashes, same address: idempotent otherwise).
        side = ctx.objects.put_bytes(sidecars.encode(hashes, keys))
        existing = known(cid)
        if existing is not None and ctx.objects.exists(existing.address):
            ref = ChunkRef(cid, existing.address, existing.rows, existing.bytes, side.address)
            return ref, None, side
        stored = ctx.objects.put_bytes(chunkio.encode(table))
        ref = ChunkRef(cid, stored.address, table.num_rows, stored.size, side.address)
        return ref, stored, side

    def collect(future: Future[tuple[ChunkRef, Stored | None, Stored]]) -> None:
        nonlocal new_bytes
        ref, stored, side = future.result()
        refs.append(ref)
        if stored is not None:
            new_chunks.append((ref, stored))
            new_bytes += stored.size
        new_sidecars.append(side)
        if side.new:
            new_bytes += side.size

    carry_left = carried.num_rows if carried is not None else 0

    def store(table: pa.Table, hashes: np.ndarray) -> None:
        nonlocal carry_left
        table = chunkio.contiguous(table)
        keys = row_hashes(table, key_columns) if key_columns else None
        cid = chunkio.content_id(table, hashes)
        pending.append(pool.submit(encode_and_put, table, cid, hashes, keys))
        skip = min(carry_left, table.num_rows)
        carry_left -= skip
        if skip < table.num_rows:
            stats.add(table.slice(skip) if skip else table)
            ids.append((keys if keys is not None else hashes)[skip:])
        while len(pending) > in_flight:
            collect(pending.pop(0))

    # One durability barrier for every chunk and sidecar (a 10M-row table has over a
    # thousand) instead of two fsyncs each; they are on disk, under their addresses,
    # when the block ends, before the manifest and the database refer to them.
    with ctx.objects.batch():
        try:
            if carried is not None and carried.num_rows:
                carried = carried.cast(schema)
                for batch in carried.to_batches():
                    for table, chunk_hashes in chunker.push(batch, row_hashes(batch)):
                        store(table, chunk_hashes)
            for batch in source.batches:
                if batch.num_rows == 0:
                    continue
                if batch.schema != schema:
                    try:
                        batch = batch.cast(schema)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                        raise InvalidInput(
                            f"{source.name}: rows do not fit the columns: {exc}"
                        ) from None
                hashes = row_hashes(batch)
                for table, chunk_hashes in chunker.push(batch, hashes):
                    store(table, chunk_hashes)
                if progress is not None:
                    progress(batch.num_rows)
            for table, chunk_hashes in chunker.finish():
                store(table, chunk_hashes)
            while pending:
                collect(pending.pop(0))
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)
    manifest = Manifest(schema=schemas.to_json(schema), key_columns=list(key_columns), chunks=refs)
    if not ids:
        raise InvalidInput(f"{source.name} has no rows", hint="a version needs at least one row")
    row_ids = np.concatenate(ids)
    if key_columns and check_keys:
        _check_unique_keys(ctx, manifest, row_ids, key_columns, source.name)
    return _Built(manifest, new_chunks, new_sidecars, row_ids, stats.result(), new_bytes)


def _check_unique_keys(
    ctx: Context, manifest: Manifest, row_ids: np.ndarray, keys: Sequence[str], name: str
) -> None:
    ordered = np.sort(row_ids)
    dup_mask = ordered[1:] == ordered[:-1]
    if not dup_mask.any():
        return
    dup_hashes = set(np.unique(ordered[1:][dup_mask])[: DUPLICATE_EXAMPLES * 4].tolist())
    examples: list[str] = []
    total = int(np.unique(ordered[1:][dup_mask]).size)
    for ref in manifest.chunks:
        table = chunkio.decode(ctx.objects.get_bytes(ref.address))
        h = row_hashes(table, keys)
        for i in np.flatnonzero(np.isin(h, list(dup_hashes))):
            value = ", ".join(f"{k}={table.column(k)[int(i)].as_py()!r}" for k in keys)
            if value not in examples:
                examples.append(value)
            if len(examples) >= DUPLICATE_EXAMPLES:
                break
        if len(examples) >= DUPLICATE_EXAMPLES:
            break
    raise InvalidInput(
        f"{name}: {total} key value(s) appear more than once, e.g. " + "; ".join(examples),
        hint="keys must be unique: fix the duplicates or choose other --key columns",
    )


def commit(
    ctx: Context,
    name: str,
    data: Path | Any,
    *,
    project: str | None = None,
    key: Sequence[str] | None = None,
    label: str | None = None,
    message: str = "",
    source: VersionSource = VersionSource.IMPORT,
    fmt: str | None = None,
    allow_schema_change: bool = False,
    progress: Progress | None = None,
    lineage_from: Sequence[tuple[str, str, str]] = (),
) -> Version:
    """Make a new version of table dataset ``name`` from a file, an in-memory table
    (pandas, polars, Arrow) or a :class:`~mlgrove.tabular.readers.Source` of batches.

    The first commit creates the dataset (with ``key`` columns and a ``label`` column
    if given); later commits must use the same key. ``lineage_from`` adds edges
    ``(kind, id, relation)`` from other things (a review batch, a pipeline step).
    """
    ctx.require(Action.WRITE_DATA)
    with ctx.db.read() as s:
        existing = ds_service.existing_dataset_row(s, ctx, project, name)
        if existing is not None and existing.kind != DatasetKind.TABLE:
            raise InvalidInput(f"{name!r} is a file dataset; tables cannot be added to it")
        key_columns = list(existing.key_columns) if existing else list(key or [])
        if existing is not None and key and list(key) != key_columns:
            raise InvalidInput(
                f"dataset {name!r} is keyed by {key_columns or 'row content'}, not {list(key)}",
                hint="keys are fixed when a dataset is created; make a new dataset for another key",
            )
        existing_label = existing.label_column if existing else None
        label_column = label or existing_label
        parent = ds_service.latest_version_row(s, existing.id) if existing else None
        parent_schema = list(parent.schema_json) if parent else None

    known = known_lookup(ctx)

    if isinstance(data, str | os.PathLike):
        path = Path(data)
        built = readers.read_with_retry(
            path, fmt, lambda src: _build(ctx, src, key_columns, label_column, known, progress)
        )
        origin: tuple[str, str] | None = ("file", lineage.node_id(str(path.resolve())))
        st = path.stat()
        origin_detail: dict[str, Any] = {
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "format": readers.detect_format(path, fmt),
            "path": str(path.resolve()),
        }
    elif isinstance(data, readers.Source):
        # Rows already streamed by a caller, e.g. chunks a remote client uploaded.
        built = _build(ctx, data, key_columns, label_column, known, progress)
        origin, origin_detail = ("upload", lineage.node_id(data.name)), {}
    else:
        src = readers.from_object(data)
        built = _build(ctx, src, key_columns, label_column, known, progress)
        # Named by content once the manifest exists (below): one shared "object" node
        # would tie every in-memory commit in the lineage graph to every other.
        origin, origin_detail = None, {"type": type(data).__name__}

    return _finish(
        ctx,
        name,
        project=project,
        parent=parent,
        parent_schema=parent_schema,
        existing_label=existing_label,
        label=label,
        built=built,
        source=source,
        message=message,
        origin=origin,
        origin_detail=origin_detail,
        lineage_from=lineage_from,
        allow_schema_change=allow_schema_change,
        key_columns=key_columns,
    )


def _finish(
    ctx: Context,
    name: str,
    *,
    project: str | None,
    parent: DatasetVersionRow | None,
    parent_schema: list[dict[str, Any]] | None,
    existing_label: str | None,
    label: str | None,
    built: _Built,
    source: VersionSource,
    message: str,
    origin: tuple[str, str] | None,
    origin_detail: dict[str, Any],
    lineage_from: Sequence[tuple[str, str, str]],
    allow_schema_change: bool,
    key_columns: Sequence[str],
) -> Version:
    """Store the manifest and record the version in one transaction (commit and append)."""
    if parent_schema is not None:
        change = schemas.diff(parent_schema, built.manifest.schema)
        if change.changed and not allow_schema_change:
            raise InvalidInput(
                f"the columns changed since the last version: {change.describe()}",
                hint="if this is intended, add again with --allow-schema-change",
            )
    manifest_bytes = built.manifest.to_bytes()
    if (
        parent is not None
        and _same_rows(ctx, parent.address, manifest_bytes, built.manifest)
        and not (label and label != existing_label)
    ):
        # The same rows as the latest version: like `git commit` with nothing staged,
        # no new version (the history stays meaningful); the latest is returned.
        return _unchanged(ctx, name, parent, project)
    manifest_stored = ctx.objects.put_bytes(manifest_bytes)

    with ctx.db.write() as s:
        proj = ds_service.resolve_project(s, ctx, project, create=True)
        ds = ds_service.find_dataset_row(s, proj.id, name)
        if ds is None:
            ds = ds_service.create_dataset_row(
                s, ctx, proj, name, DatasetKind.TABLE, list(key_columns), label or existing_label
            )
        current = ds_service.latest_version_row(s, ds.id)
        if (current.id if current else None) != (parent.id if parent else None):
            raise Conflict(
                f"someone else committed a new version of {name!r} meanwhile",
                hint="add again: your data will be compared with their version",
            )
        if label and ds.label_column != label:
            ds.label_column = label
        number = (
            s.scalar(
                select(func.max(DatasetVersionRow.number)).where(
                    DatasetVersionRow.dataset_id == ds.id
                )
            )
            or 0
        ) + 1
        objects.register_many(s, [stored for _, stored in built.new_chunks], "table-chunk")
        objects.register_many(s, built.sidecars, "table-sidecar")
        _index_chunks(s, [ref for ref, _ in built.new_chunks])
        objects.register(s, manifest_stored, "table-manifest")
        row = DatasetVersionRow(
            dataset_id=ds.id,
            number=number,
            address=manifest_stored.address,
            parent_id=parent.id if parent else None,
            message=message,
            author=ctx.actor_label,
            source=source.value,
            row_count=built.manifest.rows,
            byte_size=built.manifest.size,
            new_bytes=built.new_bytes,
            schema_json=built.manifest.schema,
            stats_json=built.stats,
        )
        s.add(row)
        s.flush()
        node = ("dataset_version", str(row.id))
        if parent is not None:
            lineage.record(s, ("dataset_version", str(parent.id)), "parent", node)
        if origin is None:
            origin = ("object", f"{origin_detail['type']}:{manifest_stored.address[:16]}")
        lineage.record(s, origin, source.value, node, origin_detail)
        for kind, ident, relation in lineage_from:
            lineage.record(s, (kind, ident), relation, node)
        if parent is not None:
            split_service.inherit_on_commit(s, ctx, parent, row, built.row_ids)
        audit.record(
            s,
            ctx.actor_label,
            "dataset.commit",
            f"dataset_version:{row.id}",
            f"{proj.name}/{name} v{number}",
        )
        return ds_service.version_value(
            row, name, parent.number if parent else None, with_stats=True
        )


def _same_rows(ctx: Context, parent_address: str, manifest_bytes: bytes, new: Manifest) -> bool:
    """Whether ``new`` holds the parent's rows: the same manifest, or the same chunks in a
    parent written before sidecars (format 1), whose bytes differ only by them."""
    if hash_bytes(manifest_bytes) == parent_address:
        return True
    old = ds_service.manifest(ctx, parent_address)
    return (
        not old.has_sidecars
        and old.schema == new.schema
        and old.key_columns == new.key_columns
        and [c.content_id for c in old.chunks] == [c.content_id for c in new.chunks]
    )


def known_lookup(ctx: Context) -> Callable[[str], TableChunkRow | None]:
    """A cached lookup of the chunk index by content id, for one commit."""
    cache: dict[str, TableChunkRow | None] = {}

    def known(cid: str) -> TableChunkRow | None:
        if cid not in cache:
            with ctx.db.read() as s:
                cache[cid] = s.get(TableChunkRow, cid)
        return cache[cid]

    return known


def _unchanged(ctx: Context, name: str, parent: DatasetVersionRow, project: str | None) -> Version:
    with ctx.db.read() as s:
        current = ds_service.latest_version_row(s, parent.dataset_id)
        if current is None or current.id != parent.id:
            raise Conflict(
                f"someone else committed a new version of {name!r} meanwhile",
                hint="add again: your data will be compared with their version",
            )
    return ds_service.show(ctx, name, f"v{parent.number}", project)


def _index_chunks(session: Session, refs: Sequence[ChunkRef]) -> None:
    """Add chunks to the content-id index; a concurrent commit of the same chunk wins
    quietly (both point at identical bytes)."""
    rows = list(
        {
            r.content_id: {
                "content_id": r.content_id,
                "address": r.address,
                "rows": r.rows,
                "bytes": r.bytes,
            }
            for r in refs
        }.values()
    )
    # The dialects' modules load here: importing PostgreSQL's costs a SQLite command 20 ms.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    insert = dialect.insert
    for i in range(0, len(rows), 1000):
        session.execute(
            insert(TableChunkRow).on_conflict_do_nothing(index_elements=["content_id"]),
            rows[i : i + 1000],
        )


def known_chunks(ctx: Context, content_ids: Sequence[str]) -> dict[str, str]:
    """Which of these chunk content ids the store has already: id -> object address.

    Remote clients ask this before uploading, so only new chunks cross the wire.
    """
    ctx.require(Action.WRITE_DATA)
    found: dict[str, str] = {}
    ids = list(dict.fromkeys(content_ids))
    with ctx.db.read() as s:
        for start in range(0, len(ids), 500):
            rows = s.scalars(
                select(TableChunkRow).where(TableChunkRow.content_id.in_(ids[start : start + 500]))
            )
            found.update({r.content_id: r.address for r in rows if ctx.objects.exists(r.address)})
    return found
