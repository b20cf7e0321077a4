"""Splits (train/validation/test as row sets per version) and train/test leakage checks."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import Split
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import audit, objects
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetRow, DatasetVersionRow, SplitRow
from mlgrove.store.objects import Stored
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular import splits as assign
from mlgrove.tabular.manifest import Manifest
from mlgrove.tabular.rowhash import row_hashes

LEAK_EXAMPLES = 5


def _store(ctx: Context, ids: np.ndarray, codes: np.ndarray) -> Stored:
    order = np.argsort(ids, kind="stable")
    table = pa.table(
        {"row_id": pa.array(ids[order], pa.uint64()), "split": pa.array(codes[order], pa.uint8())}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return ctx.objects.put_bytes(sink.getvalue())


def _load(ctx: Context, address: str) -> tuple[np.ndarray, np.ndarray]:
    table = pq.read_table(io.BytesIO(ctx.objects.get_bytes(address)))
    return (
        table.column("row_id").to_numpy().astype(np.uint64),
        table.column("split").to_numpy().astype(np.uint8),
    )


def current(session: Session, version_id: int) -> SplitRow | None:
    return session.scalar(
        select(SplitRow)
        .where(SplitRow.version_id == version_id)
        .order_by(SplitRow.id.desc())
        .limit(1)
    )


def _value(row: SplitRow, version: str) -> Split:
    return Split(
        version=version,
        spec=dict(row.spec),
        counts=dict(row.counts),
        origin=row.origin,
        moved_rows=row.moved_rows,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _row_ids(ctx: Context, m: Manifest, key_columns: list[str]) -> np.ndarray:
    parts = []
    for ref in m.chunks:
        table = chunkio.decode(ctx.objects.get_bytes(ref.address))
        parts.append(row_hashes(table, key_columns) if key_columns else row_hashes(table))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _counts(
    names: list[str], codes: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, int]:
    totals = np.bincount(codes, weights=weights, minlength=len(names))
    return {n: int(totals[i]) for i, n in enumerate(names)}


def inherit_on_commit(
    session: Session,
    ctx: Context,
    parent: DatasetVersionRow,
    new: DatasetVersionRow,
    row_ids: np.ndarray,
) -> None:
    """Give a new version its parent's split: old rows keep theirs, new rows are assigned."""
    previous = current(session, parent.id)
    if previous is None:
        return
    spec = dict(previous.spec)
    names: list[str] = list(spec["names"])
    parent_ids, parent_codes = _load(ctx, previous.address)
    unique_ids, multiplicity = np.unique(row_ids, return_counts=True)
    codes, existed = assign.inherit(parent_ids, parent_codes, unique_ids)
    fresh = ~existed
    if fresh.any():
        ratios = spec.get("ratios") or {n: 1.0 / len(names) for n in names}
        codes[fresh] = assign.assign_by_hash(unique_ids[fresh], ratios, int(spec.get("seed", 0)))
    stored = _store(ctx, unique_ids, codes)
    objects.register(session, stored, "split")
    session.add(
        SplitRow(
            version_id=new.id,
            address=stored.address,
            spec=spec,
            counts=_counts(names, codes, multiplicity.astype(np.float64)),
            origin="inherited",
            moved_rows=0,
            created_by=ctx.actor_label,
        )
    )


def split(
    ctx: Context,
    name: str,
    ref: str,
    *,
    ratios: dict[str, float] | None = None,
    seed: int = 0,
    column: str | None = None,
    project: str | None = None,
) -> Split:
    """Assign every row of a version to a split, on purpose.

    By ``ratios`` (deterministic from each row's identity and ``seed``) or by the values
    of an assignment ``column``. If the version had a split already, the rows that move
    are counted and the change is recorded (audit log and split history).
    """
    ctx.require(Action.WRITE_DATA)
    if (ratios is None) == (column is None):
        raise InvalidInput(
            "give either ratios or an assignment column", hint="e.g. --ratios train=0.8,test=0.2"
        )
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        version = ds_service.version_row(s, ds, ref)
        version_id, version_number, address = version.id, version.number, version.address
        key_columns = list(ds.key_columns)
        before = current(s, version.id)
        before_address = before.address if before else None
        before_names = list(before.spec["names"]) if before else []
    m = ds_service.manifest(ctx, address)
    if column is not None:
        if column not in [c["name"] for c in m.schema]:
            raise InvalidInput(f"assignment column {column!r} is not in the dataset")
        ids_parts, values = [], []
        for chunk in m.chunks:
            table = chunkio.decode(ctx.objects.get_bytes(chunk.address))
            ids_parts.append(row_hashes(table, key_columns) if key_columns else row_hashes(table))
            col = table.column(column)
            if col.null_count:
                raise InvalidInput(
                    f"assignment column {column!r} has empty values",
                    hint="every row needs a split name",
                )
            values.append(col.cast(pa.large_string()).to_numpy(zero_copy_only=False))
        ids = np.concatenate(ids_parts)
        all_values = np.concatenate(values)
        names = sorted(set(all_values.tolist()))
        if len(names) > assign.MAX_SPLITS:
            raise InvalidInput(
                f"assignment column {column!r} has {len(names)} distinct values; at most {assign.MAX_SPLITS} splits"
            )
        lookup = {n: i for i, n in enumerate(names)}
        codes = np.array([lookup[v] for v in all_values.tolist()], dtype=np.uint8)
        spec: dict[str, Any] = {"method": "column", "column": column, "names": names}
    else:
        assert ratios is not None
        checked = assign.check_ratios(ratios)
        names = list(checked)
        ids = _row_ids(ctx, m, key_columns)
        codes = assign.assign_by_hash(ids, checked, seed)
        spec = {"method": "hash", "ratios": checked, "seed": seed, "names": names}
    unique_ids, first, multiplicity = np.unique(ids, return_index=True, return_counts=True)
    unique_codes = codes[first]
    moved = 0
    if before_address is not None:
        old_ids, old_codes = _load(ctx, before_address)
        old_for_new, existed = assign.inherit(old_ids, old_codes, unique_ids)
        old_names = np.array(before_names, dtype=object)[old_for_new[existed]]
        new_names = np.array(names, dtype=object)[unique_codes[existed]]
        moved = int((multiplicity[existed] * (old_names != new_names)).sum())
    stored = _store(ctx, unique_ids, unique_codes)
    with ctx.db.write() as s:
        objects.register(s, stored, "split")
        row = SplitRow(
            version_id=version_id,
            address=stored.address,
            spec=spec,
            counts=_counts(names, unique_codes, multiplicity.astype(np.float64)),
            origin="assigned",
            moved_rows=moved,
            created_by=ctx.actor_label,
        )
        s.add(row)
        s.flush()
        detail = f"{name} v{version_number}: {spec['method']} {row.counts}"
        if before_address is not None:
            detail += f"; {moved} rows moved split"
        audit.record(s, ctx.actor_label, "dataset.split", f"dataset_version:{version_id}", detail)
        return _value(row, f"v{version_number}")


def get_split(ctx: Context, name: str, ref: str, project: str | None = None) -> Split | None:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        version = ds_service.version_row(s, ds, ref)
        row = current(s, version.id)
        return _value(row, f"v{version.number}") if row else None


def history(ctx: Context, name: str, ref: str, project: str | None = None) -> list[Split]:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        version = ds_service.version_row(s, ds, ref)
        rows = s.scalars(
            select(SplitRow).where(SplitRow.version_id == version.id).order_by(SplitRow.id)
        ).all()
        return [_value(r, f"v{version.number}") for r in rows]


def _assignment(
    ctx: Context, name: str, ref: str, project: str | None
) -> tuple[DatasetRow, Manifest, list[str], np.ndarray, np.ndarray, dict[str, Any]]:
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        version = ds_service.version_row(s, ds, ref)
        row = current(s, version.id)
        if row is None:
            raise NotFound(
                f"{name} v{version.number} has no split",
                hint=f"make one: mlgrove data split {name} v{version.number} --ratios train=0.8,test=0.2",
            )
        address, spec = version.address, dict(row.spec)
        ids, codes = _load(ctx, row.address)
    return ds, ds_service.manifest(ctx, address), list(spec["names"]), ids, codes, spec


def split_rows(
    ctx: Context, name: str, ref: str, split_name: str, project: str | None = None
) -> pa.Table:
    """The rows of one split of a version, in version order."""
    ctx.require(Action.VIEW_PROJECTS)
    ds, m, names, ids, codes, _ = _assignment(ctx, name, ref, project)
    if split_name not in names:
        raise NotFound(f"no split named {split_name!r}", hint="splits are: " + ", ".join(names))
    wanted = names.index(split_name)
    parts = []
    for chunk in m.chunks:
        table = chunkio.decode(ctx.objects.get_bytes(chunk.address))
        h = row_hashes(table, list(ds.key_columns)) if ds.key_columns else row_hashes(table)
        row_codes, _ = assign.inherit(ids, codes, h)
        parts.append(table.filter(pa.array(row_codes == wanted)))
    return pa.concat_tables(parts)


def leakage(
    ctx: Context, name: str, ref: str, project: str | None = None, *, examples: int = LEAK_EXAMPLES
) -> dict[str, Any]:
    """Rows whose content (ignoring key columns and the assignment column) appears in
    more than one split: the classic train/test leak. Reports counts and examples."""
    ctx.require(Action.VIEW_PROJECTS)
    ds, m, names, ids, codes, spec = _assignment(ctx, name, ref, project)
    ignore = set(ds.key_columns) | ({spec["column"]} if spec.get("method") == "column" else set())
    content_columns = [c["name"] for c in m.schema if c["name"] not in ignore]
    if not content_columns:
        raise InvalidInput("nothing to compare: every column is a key or the assignment column")
    content_parts, code_parts = [], []
    for chunk in m.chunks:
        table = chunkio.decode(ctx.objects.get_bytes(chunk.address))
        h = row_hashes(table, list(ds.key_columns)) if ds.key_columns else row_hashes(table)
        row_codes, _ = assign.inherit(ids, codes, h)
        content_parts.append(row_hashes(table, content_columns))
        code_parts.append(row_codes)
    content = np.concatenate(content_parts)
    row_codes = np.concatenate(code_parts)
    # A content hash leaks when it occurs with more than one split code.
    pairs = np.unique(np.stack([content, row_codes.astype(np.uint64)], axis=1), axis=0)
    hashes, per_hash = np.unique(pairs[:, 0], return_counts=True)
    leaking = hashes[per_hash > 1]
    leak_mask = np.isin(content, leaking)
    overlapping = int(leak_mask.sum())
    by_pair: dict[str, int] = {}
    found: list[dict[str, Any]] = []
    if overlapping:
        leaking_set = set(leaking.tolist())
        offset = 0
        for chunk in m.chunks:
            if len(found) >= examples:
                break
            n = chunk.rows
            local = np.flatnonzero(leak_mask[offset : offset + n])
            if len(local):
                table = chunkio.decode(ctx.objects.get_bytes(chunk.address))
                for i in local.tolist():
                    h = content[offset + i]
                    if int(h) not in leaking_set:
                        continue
                    leaking_set.discard(int(h))
                    splits_of = sorted({names[c] for c in row_codes[content == h].tolist()})
                    row = {k: _plain(table.column(k)[i].as_py()) for k in table.schema.names}
                    found.append(
                        {"row": row, "splits": splits_of, "copies": int((content == h).sum())}
                    )
                    if len(found) >= examples:
                        break
            offset += n
        # Which combination of splits each leaking content sits in, as a bitmask per hash.
        leak_pairs = pairs[np.isin(pairs[:, 0], leaking)]
        starts = np.r_[0, np.flatnonzero(leak_pairs[1:, 0] != leak_pairs[:-1, 0]) + 1]
        masks = np.bitwise_or.reduceat(np.uint64(1) << leak_pairs[:, 1], starts)
        for mask, count in zip(*np.unique(masks, return_counts=True), strict=True):
            combo = "+".join(n for i, n in enumerate(names) if int(mask) >> i & 1)
            by_pair[combo] = int(count)
    return {
        "dataset": name,
        "compared_columns": content_columns,
        "overlapping_rows": overlapping,
        "overlapping_contents": len(leaking),
        "by_splits": by_pair,
        "examples": found,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
