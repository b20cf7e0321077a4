"""Appending rows to a table dataset: the cost follows the new rows, not the table.

A commit of a whole file must read every row to find chunk boundaries. An append knows
the parent's chunks already: only the parent's last chunk (whose end content-defined
chunking may re-cut once rows follow it) and the new rows are decoded, hashed, chunked
and stored; the new manifest reuses every other chunk entry of the parent. Keys and
split identities come from the parent's sidecars (fixed-width hashes stored at commit,
ADR 0007), so no other parent row is decoded.

A parent committed before sidecars existed (manifest format 1) has no hashes to reuse:
its append reads it whole once, as a commit of parent + new rows would, and the version
it makes has sidecars, so the next append is cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import DatasetKind, Version, VersionSource
from mlgrove.errors import InvalidInput
from mlgrove.services import datasets as ds_service
from mlgrove.services import lineage, table_commit
from mlgrove.services.context import Context
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular import readers
from mlgrove.tabular import schema as schemas
from mlgrove.tabular import sidecar as sidecars
from mlgrove.tabular.manifest import Manifest
from mlgrove.tabular.rowhash import row_hashes
from mlgrove.tabular.stats import merge

KEY_EXAMPLES = 5
FILTER_BITS = 22


def _conform(source: readers.Source, schema: pa.Schema, name: str, version: str) -> readers.Source:
    """The source's batches with the parent's columns, in the parent's order and types."""
    change = schemas.diff(
        schemas.to_json(schema), schemas.to_json(schemas.normalize(source.schema))
    )
    if change.added or change.removed:
        raise InvalidInput(
            f"{source.name}: the columns differ from {name} {version}: {change.describe()}",
            hint="appended rows need the same columns; to change them, "
            "use `mlgrove data add --allow-schema-change`",
        )

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in source.batches:
            batch = batch.select(schema.names)
            if batch.schema != schema:
                try:
                    batch = batch.cast(schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                    raise InvalidInput(
                        f"{source.name}: rows do not fit the columns of {name} {version}: {exc}",
                        hint="types must match the dataset's: " + change.describe()
                        if change.retyped
                        else None,
                    ) from None
            yield batch

    return readers.Source(name=source.name, batches=batches(), schema=schema)


def _parent_hashes(ctx: Context, m: Manifest) -> list[sidecars.Hashes]:
    return [sidecars.decode(ctx.objects.get_bytes(str(c.sidecar))) for c in m.chunks]


def _key_collisions(
    ctx: Context,
    parent: list[sidecars.Hashes],
    built: table_commit._Built,
    keys: list[str],
    name: str,
    version: str,
) -> None:
    """Refuse appended keys the parent has already, naming them; the parent is read as
    key hashes only (each parent chunk searched in the sorted new keys)."""
    new_sorted = np.sort(built.row_ids)
    # A table of the new keys' top bits (4 MB) screens the parent's keys first: only the
    # few that share a bucket with a new key are searched (10M parent keys: 1 s -> 0.1 s).
    shift = np.uint64(64 - FILTER_BITS)
    screen = np.zeros(1 << FILTER_BITS, bool)
    screen[new_sorted >> shift] = True
    hits: list[np.ndarray] = []
    for h in parent:
        assert h.keys is not None
        maybe = h.keys[screen[h.keys >> shift]]
        pos = np.minimum(np.searchsorted(new_sorted, maybe), len(new_sorted) - 1)
        hits.append(maybe[new_sorted[pos] == maybe])
    taken = np.concatenate(hits) if hits else np.zeros(0, np.uint64)
    if not len(taken):
        return
    wanted = set(taken[: KEY_EXAMPLES * 4].tolist())
    examples: list[str] = []
    for ref in built.manifest.chunks:
        table = chunkio.decode(ctx.objects.get_bytes(ref.address))
        for i in np.flatnonzero(np.isin(row_hashes(table, keys), list(wanted))):
            value = ", ".join(f"{k}={table.column(k)[int(i)].as_py()!r}" for k in keys)
            if value not in examples:
                examples.append(value)
        if len(examples) >= KEY_EXAMPLES:
            break
    raise InvalidInput(
        f"{len(taken)} appended key value(s) already exist in {name} {version}, e.g. "
        + "; ".join(examples[:KEY_EXAMPLES]),
        hint="append adds new rows only; to change existing rows, `mlgrove data add` "
        "the whole table",
    )


def _by_recommit(
    ctx: Context, name: str, project: str | None, parent_address: str, new: readers.Source
) -> Any:
    """A parent without sidecars: commit parent + new rows (reads the parent once)."""
    m = ds_service.manifest(ctx, parent_address)
    first = chunkio.decode(ctx.objects.get_bytes(m.chunks[0].address))

    def batches() -> Iterator[pa.RecordBatch]:
        yield from first.to_batches()
        for ref in m.chunks[1:]:
            yield from chunkio.decode(ctx.objects.get_bytes(ref.address)).to_batches()
        yield from _conform(new, first.schema, name, "latest").batches

    return readers.Source(name=new.name, batches=batches(), schema=first.schema)


def append(
    ctx: Context,
    name: str,
    data: Path | Any,
    *,
    project: str | None = None,
    message: str = "",
    fmt: str | None = None,
    progress: table_commit.Progress | None = None,
) -> Version:
    """A new version of table dataset ``name``: its latest version plus ``data``'s rows
    at the end (a file, a DataFrame, an Arrow table or a Source of batches)."""
    ctx.require(Action.WRITE_DATA)
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        if ds.kind != DatasetKind.TABLE:
            raise InvalidInput(f"{name!r} is a file dataset; rows can be appended to tables only")
        parent = ds_service.latest_version_row(s, ds.id)
        key_columns, label_column = list(ds.key_columns), ds.label_column
    if parent is None:
        raise InvalidInput(
            f"{name!r} has no version to append to", hint="make the first one with `data add`"
        )
    version = f"v{parent.number}"
    pm = ds_service.manifest(ctx, parent.address)

    if isinstance(data, str | os.PathLike):
        path = Path(data)
        st = path.stat() if path.exists() else None
        origin: tuple[str, str] | None = ("file", lineage.node_id(str(path.resolve())))
        origin_detail: dict[str, Any] = {
            "path": str(path.resolve()),
            "size": st.st_size if st else None,
            "format": readers.detect_format(path, fmt),
            "append": True,
        }
    elif isinstance(data, readers.Source):
        origin, origin_detail = ("upload", lineage.node_id(data.name)), {"append": True}
    else:
        origin, origin_detail = None, {"type": type(data).__name__, "append": True}

    if not pm.has_sidecars:

        def recommit(src: readers.Source) -> Version:
            return table_commit.commit(
                ctx,
                name,
                _by_recommit(ctx, name, project, parent.address, src),
                project=project,
                message=message,
                progress=progress,
            )

        if isinstance(data, str | os.PathLike):
            return readers.read_with_retry(Path(data), fmt, recommit)
        return recommit(data if isinstance(data, readers.Source) else readers.from_object(data))

    last = chunkio.decode(ctx.objects.get_bytes(pm.chunks[-1].address))
    schema = last.schema
    known = table_commit.known_lookup(ctx)

    def build(src: readers.Source) -> table_commit._Built:
        return table_commit._build(
            ctx,
            _conform(src, schema, name, version),
            key_columns,
            label_column,
            known,
            progress,
            carried=last,
        )

    if isinstance(data, str | os.PathLike):
        built = readers.read_with_retry(Path(data), fmt, build)
    else:
        built = build(data if isinstance(data, readers.Source) else readers.from_object(data))

    hashes = _parent_hashes(ctx, pm)
    if key_columns:
        _key_collisions(ctx, hashes, built, key_columns, name, version)
    parent_ids = [h.keys if key_columns and h.keys is not None else h.rows for h in hashes]
    # The re-cut last chunk's rows are the parent's: they are in parent_ids once.
    combined = table_commit._Built(
        manifest=Manifest(
            schema=pm.schema,
            key_columns=key_columns,
            chunks=pm.chunks[:-1] + built.manifest.chunks,
        ),
        new_chunks=built.new_chunks,
        sidecars=built.sidecars,
        row_ids=np.concatenate([*parent_ids, built.row_ids]),
        stats=merge(dict(parent.stats_json or {}), built.stats, f"v{parent.number}"),
        new_bytes=built.new_bytes,
    )
    return table_commit._finish(
        ctx,
        name,
        project=project,
        parent=parent,
        parent_schema=pm.schema,
        existing_label=label_column,
        label=None,
        built=combined,
        source=VersionSource.IMPORT,
        message=message,
        origin=origin,
        origin_detail=origin_detail,
        lineage_from=(),
        allow_schema_change=False,
        key_columns=key_columns,
    )
