"""Row-level differences between two sets of rows.

The service passes only the rows of chunks that differ between two versions (identical
chunks are skipped), so the cost follows the size of the change. With key columns a row
is added, removed or changed (same key, other content, with the changed columns named);
without a key a row is its content, so rows are only added or removed (as multisets:
a duplicated row added once more counts once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlgrove.tabular.keymatch import match_keys
from mlgrove.tabular.rowhash import row_hashes, splitmix64


@dataclass
class RowDiff:
    added: pa.Table
    removed: pa.Table
    # The new rows that changed, with a list<string> column "_changed" naming columns.
    changed: pa.Table
    # The same rows as they were before, aligned with ``changed``.
    changed_before: pa.Table
    compared_columns: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added.num_rows,
            "removed": self.removed.num_rows,
            "changed": self.changed.num_rows,
        }


def _take(table: pa.Table, idx: np.ndarray) -> pa.Table:
    return table.take(pa.array(idx, type=pa.int64()))


def _unkeyed(old: pa.Table, new: pa.Table, columns: list[str]) -> RowDiff:
    h_old = row_hashes(old, columns)
    h_new = row_hashes(new, columns)

    # Multiset difference: the k-th copy of a row in one side matches the k-th in the other.
    k_old, k_new = occurrence_keys(h_old), occurrence_keys(h_new)
    in_old = np.isin(k_new, k_old)
    in_new = np.isin(k_old, k_new)
    empty = new.schema.empty_table()
    return RowDiff(
        added=_take(new, np.flatnonzero(~in_old)),
        removed=_take(old, np.flatnonzero(~in_new)),
        changed=empty.append_column("_changed", pa.array([], type=pa.list_(pa.string()))),
        changed_before=old.schema.empty_table(),
        compared_columns=columns,
    )


def _keys_equal(a: pa.Table, b: pa.Table, keys: Sequence[str]) -> np.ndarray:
    eq = np.ones(a.num_rows, dtype=bool)
    for k in keys:
        same = pc.fill_null(pc.equal(a.column(k), b.column(k).cast(a.schema.field(k).type)), False)
        both_null = pc.and_(pc.is_null(a.column(k)), pc.is_null(b.column(k)))
        eq &= pc.or_(same, both_null).to_numpy(zero_copy_only=False)
    return eq


def _true(mask: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Null as false. (Not ``fill_null(mask, False)``: a scalar made from a Python value
    makes pyarrow import pandas, a noticeable part of a diff command's start-up.)"""
    return pc.and_kleene(mask, pc.is_valid(mask))


def changed_columns(
    after: pa.Table, before: pa.Table, columns: Sequence[str], keys: Sequence[str]
) -> list[list[str]]:
    """For aligned rows ``after``/``before``, the non-key columns whose values differ
    (null equals null and NaN equals NaN)."""
    changed_names: list[list[str]] = [[] for _ in range(after.num_rows)]
    for name in columns:
        if name in keys:
            continue
        a, b = after.column(name), before.column(name)
        same = _true(pc.equal(a, b))
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        if pa.types.is_floating(a.type):
            both_nan = _true(pc.and_(pc.is_nan(a), pc.is_nan(b)))
            both_null = pc.or_(both_null, both_nan)
        # to_pylist, not to_numpy: a chunked array's to_numpy imports pandas.
        for i, kept in enumerate(pc.or_(same, both_null).to_pylist()):
            if not kept:
                changed_names[i].append(name)
    return changed_names


def occurrence_keys(h: np.ndarray) -> np.ndarray:
    """Each hash folded with its occurrence number (the k-th copy of a row gets k), so
    multisets of rows compare with numpy's set operations."""
    order = np.argsort(h, kind="stable")
    sorted_h = h[order]
    starts = np.r_[0, np.flatnonzero(sorted_h[1:] != sorted_h[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(h)])
    occ_sorted = np.arange(len(h)) - np.repeat(starts, counts)
    occ = np.empty(len(h), dtype=np.int64)
    occ[order] = occ_sorted
    return splitmix64(h ^ splitmix64(occ.astype(np.uint64)))


def diff_rows(old: pa.Table, new: pa.Table, key_columns: Sequence[str]) -> RowDiff:
    """Differences between ``old`` and ``new``, compared on the columns both have with
    the same type (schema changes are reported separately)."""
    columns = [
        f.name
        for f in new.schema
        if f.name in old.schema.names and old.schema.field(f.name).type == f.type
    ]
    if not key_columns:
        return _unkeyed(old, new, columns)
    keys = list(key_columns)
    k_old, k_new = row_hashes(old, keys), row_hashes(new, keys)
    c_old, c_new = row_hashes(old, columns), row_hashes(new, columns)
    found, new_idx, old_idx = match_keys(k_old, k_new)
    # Guard against a 64-bit key-hash collision: keys must really be equal.
    if len(new_idx):
        real = _keys_equal(_take(new, new_idx).select(keys), _take(old, old_idx).select(keys), keys)
        found[new_idx[~real]] = False
        new_idx, old_idx = new_idx[real], old_idx[real]
    matched_old = np.zeros(len(k_old), dtype=bool)
    matched_old[old_idx] = True
    differs = c_new[new_idx] != c_old[old_idx]
    ch_new, ch_old = new_idx[differs], old_idx[differs]
    after = _take(new, ch_new)
    before = _take(old, ch_old)
    changed_names = changed_columns(after, before, columns, keys)
    return RowDiff(
        added=_take(new, np.flatnonzero(~found)),
        removed=_take(old, np.flatnonzero(~matched_old)),
        changed=after.append_column(
            "_changed", pa.array(changed_names, type=pa.list_(pa.string()))
        ),
        changed_before=before,
        compared_columns=columns,
    )
