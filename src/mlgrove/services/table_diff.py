"""Row-level diff between two versions of a table dataset.

Chunks present in both versions (same content id) hold identical rows and are skipped;
only the rows of the other chunks are compared, so the cost follows the size of the
change. This is sound for keyed datasets because keys are unique within a version: a key
inside a shared chunk cannot appear anywhere else on either side.

When both versions have sidecars (manifest format 2) and the same columns, rows are
matched on the stored row and key hashes alone (ADR 0007): the counts never decode a
row, and only the chunks holding the rows of the requested page are decoded, to show
them. Otherwise (a version from before sidecars, or a schema change, where the compared
columns are a subset) the rows are decoded and hashed again, as before.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from mlgrove.domain.authz import Action
from mlgrove.errors import ObjectCorrupt
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular import schema as schemas
from mlgrove.tabular import sidecar as sidecars
from mlgrove.tabular.diff import changed_columns, diff_rows, occurrence_keys
from mlgrove.tabular.keymatch import keyed_changes
from mlgrove.tabular.manifest import ChunkRef, Manifest

PAGE = 50


def _rows_of(ctx: Context, m: Manifest, skip: Counter[str]) -> pa.Table:
    """The rows of ``m``'s chunks, less one occurrence of each chunk id in ``skip``."""
    remaining = Counter(skip)
    parts = []
    for ref in m.chunks:
        if remaining[ref.content_id] > 0:
            remaining[ref.content_id] -= 1
            continue
        parts.append(chunkio.decode(ctx.objects.get_bytes(ref.address)))
    if not parts:  # nothing differs: an empty table with the version's columns
        return chunkio.decode(ctx.objects.get_bytes(m.chunks[0].address)).slice(0, 0)
    return pa.concat_tables(parts)


def _unshared(m: Manifest, skip: Counter[str]) -> list[ChunkRef]:
    remaining = Counter(skip)
    refs = []
    for ref in m.chunks:
        if remaining[ref.content_id] > 0:
            remaining[ref.content_id] -= 1
            continue
        refs.append(ref)
    return refs


class _Side:
    """The unshared chunks of one version: their hashes, and rows fetched on demand."""

    def __init__(self, ctx: Context, refs: list[ChunkRef]) -> None:
        self.ctx, self.refs = ctx, refs
        self.starts = np.cumsum([0] + [r.rows for r in refs])
        total = int(self.starts[-1])
        # Filled chunk by chunk, each sidecar's bytes freed before the next is read:
        # large fresh allocations (a list of every sidecar, then a concatenation) cost
        # more than the copying itself.
        self.rows = np.empty(total, np.uint64)
        self.keys: np.ndarray | None = np.empty(total, np.uint64)
        for ref, start, end in zip(refs, self.starts[:-1], self.starts[1:], strict=True):
            h = sidecars.decode(ctx.objects.get_bytes(str(ref.sidecar)))
            if len(h.rows) != end - start:
                raise ObjectCorrupt(f"sidecar of chunk {ref.content_id} has the wrong length")
            self.rows[start:end] = h.rows
            if h.keys is None:
                self.keys = None
            elif self.keys is not None:
                self.keys[start:end] = h.keys
        self._decoded: dict[int, pa.Table] = {}

    def take(self, idx: np.ndarray) -> pa.Table:
        """Rows at global positions ``idx`` (in that order), decoding each chunk once."""
        chunk_of = np.searchsorted(self.starts, idx, side="right") - 1
        parts = []
        for c, i in zip(chunk_of.tolist(), idx.tolist(), strict=True):
            if c not in self._decoded:
                self._decoded[c] = chunkio.decode(self.ctx.objects.get_bytes(self.refs[c].address))
            parts.append(self._decoded[c].slice(i - int(self.starts[c]), 1))
        return pa.concat_tables(parts)


def _from_hashes(
    ctx: Context,
    old_refs: list[ChunkRef],
    new_refs: list[ChunkRef],
    key_columns: list[str],
    columns: list[str],
    limit: int,
    offset: int,
) -> tuple[dict[str, int], dict[str, pa.Table | None], list[list[str]]]:
    """Counts from the sidecars; the page's rows decoded from their chunks only, and the
    changed columns of each changed row of the page."""
    old, new = _Side(ctx, old_refs), _Side(ctx, new_refs)
    page = slice(offset, offset + limit)
    if key_columns:
        if old.keys is None or new.keys is None:
            raise ObjectCorrupt(f"a keyed version's sidecar lacks key hashes ({key_columns})")
        kc = keyed_changes(old.keys, new.keys, old.rows, new.rows)
        added, removed, ch_new, ch_old = kc.added, kc.removed, kc.changed_new, kc.changed_old
    else:
        k_old, k_new = occurrence_keys(old.rows), occurrence_keys(new.rows)
        added = np.flatnonzero(~np.isin(k_new, k_old))
        removed = np.flatnonzero(~np.isin(k_old, k_new))
        ch_new = ch_old = np.zeros(0, np.int64)
    counts = {"added": len(added), "removed": len(removed), "changed": len(ch_new)}
    tables: dict[str, pa.Table | None] = {
        "added": new.take(added[page]) if len(added[page]) else None,
        "removed": old.take(removed[page]) if len(removed[page]) else None,
        "changed": None,
        "changed_before": None,
    }
    names: list[list[str]] = []
    if len(ch_new[page]):
        after, before = new.take(ch_new[page]), old.take(ch_old[page])
        # The names stay a Python list: building an Arrow array from Python objects
        # makes pyarrow import pandas (0.15 s or more of the command's start-up).
        names = changed_columns(after, before, columns, key_columns)
        tables["changed"], tables["changed_before"] = after, before
    return counts, tables, names


def _records(table: pa.Table | None, limit: int, offset: int) -> list[dict[str, Any]]:
    if table is None:
        return []
    return [
        {k: _plain(v) for k, v in row.items()} for row in table.slice(offset, limit).to_pylist()
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


def diff(
    ctx: Context,
    name: str,
    old_ref: str,
    new_ref: str,
    *,
    project: str | None = None,
    limit: int = PAGE,
    offset: int = 0,
) -> dict[str, Any]:
    """Counts of added, removed and changed rows, schema changes, and a page of each."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        old_v = ds_service.version_row(s, ds, old_ref)
        new_v = ds_service.version_row(s, ds, new_ref)
        key_columns = list(ds.key_columns)
        old_addr, new_addr = old_v.address, new_v.address
        old_name, new_name = f"v{old_v.number}", f"v{new_v.number}"
    old_m, new_m = ds_service.manifest(ctx, old_addr), ds_service.manifest(ctx, new_addr)
    shared = Counter(c.content_id for c in old_m.chunks) & Counter(
        c.content_id for c in new_m.chunks
    )
    schema_change = schemas.diff(old_m.schema, new_m.schema)
    if old_m.has_sidecars and new_m.has_sidecars and old_m.schema == new_m.schema:
        counts, tables, names = _from_hashes(
            ctx,
            _unshared(old_m, shared),
            _unshared(new_m, shared),
            key_columns,
            [c["name"] for c in new_m.schema],
            limit,
            offset,
        )
        page_offset = 0
    else:
        result = diff_rows(_rows_of(ctx, old_m, shared), _rows_of(ctx, new_m, shared), key_columns)
        counts = result.counts()
        tables = {
            "added": result.added,
            "removed": result.removed,
            "changed": result.changed,
            "changed_before": result.changed_before,
        }
        page_offset = offset
        names = []
        if result.changed.num_rows:
            page_rows = result.changed.slice(offset, limit)
            names = page_rows.column("_changed").to_pylist()
            tables["changed"] = result.changed.drop_columns(["_changed"])
    changed_rows = []
    after_rows, before = tables["changed"], tables["changed_before"]
    rows_after = after_rows.slice(page_offset, limit).to_pylist() if after_rows else []
    for i, (row, cols) in enumerate(zip(rows_after, names, strict=True)):
        assert before is not None
        old_row = before.slice(page_offset + i, 1).to_pylist()[0]
        changed_rows.append(
            {
                "key": {k: _plain(row[k]) for k in key_columns},
                "columns": cols,
                "before": {c: _plain(old_row.get(c)) for c in cols},
                "after": {c: _plain(row.get(c)) for c in cols},
                # The whole new row, so a reader sees the changed cells in context.
                "row": {k: _plain(v) for k, v in row.items()},
            }
        )
    skipped = sum(shared.values())
    return {
        "dataset": name,
        "from": old_name,
        "to": new_name,
        **counts,
        "schema": schema_change.to_json(),
        "key": key_columns,
        "chunks": {
            "skipped": skipped,
            "compared": len(old_m.chunks) + len(new_m.chunks) - 2 * skipped,
        },
        "offset": offset,
        "limit": limit,
        "rows": {
            "added": _records(tables["added"], limit, page_offset),
            "removed": _records(tables["removed"], limit, page_offset),
            "changed": changed_rows,
        },
    }
