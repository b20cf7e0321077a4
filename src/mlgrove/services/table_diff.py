"""Row-level diff between two versions of a table dataset.

Chunks present in both versions (same content id) hold identical rows and are skipped;
only the rows of the other chunks are read and compared, so the cost follows the size of
the change. This is sound for keyed datasets because keys are unique within a version:
a key inside a shared chunk cannot appear anywhere else on either side.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa

from mlgrove.domain.authz import Action
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular import schema as schemas
from mlgrove.tabular.diff import diff_rows
from mlgrove.tabular.manifest import Manifest

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


def _records(table: pa.Table, limit: int, offset: int) -> list[dict[str, Any]]:
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
    old_rows = _rows_of(ctx, old_m, shared)
    new_rows = _rows_of(ctx, new_m, shared)
    result = diff_rows(old_rows, new_rows, key_columns)
    schema_change = schemas.diff(old_m.schema, new_m.schema)
    changed_rows = []
    before = result.changed_before
    for i, row in enumerate(result.changed.slice(offset, limit).to_pylist()):
        cols = row.pop("_changed")
        old_row = before.slice(offset + i, 1).to_pylist()[0]
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
    counts = result.counts()
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
            "added": _records(result.added, limit, offset),
            "removed": _records(result.removed, limit, offset),
            "changed": changed_rows,
        },
    }
