"""Per-version statistics: counts, nulls and summaries per column, label distribution.

Exact figures (rows, nulls, min, max, mean) come from every row, accumulated chunk by
chunk; histograms and top values come from a seeded sample of up to ``SAMPLE_ROWS``
rows, and say so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_ROWS = 50_000
TOP_VALUES = 10
BINS = 12


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


class StatsBuilder:
    def __init__(self, schema: pa.Schema, label_column: str | None = None, seed: int = 0) -> None:
        self.schema = schema
        self.label_column = label_column
        self.rows = 0
        self.cols: dict[str, dict[str, Any]] = {
            f.name: {
                "type": str(f.type),
                "nulls": 0,
                "min": None,
                "max": None,
                "sum": 0.0,
                "sumsq": 0.0,
                "count": 0,
            }
            for f in schema
        }
        self.label_counts: dict[str, int] = {}
        self._rng = np.random.default_rng(seed)
        self._sample: list[pa.Table] = []
        self._sample_rows = 0

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        for f in table.schema:
            col = table.column(f.name)
            s = self.cols[f.name]
            s["nulls"] += col.null_count
            if _numeric(f.type) or pa.types.is_temporal(f.type):
                mm = pc.min_max(col)
                lo, hi = mm["min"].as_py(), mm["max"].as_py()
                if lo is not None:
                    s["min"] = lo if s["min"] is None else min(s["min"], lo)
                    s["max"] = hi if s["max"] is None else max(s["max"], hi)
            if _numeric(f.type):
                as_float = col.cast(pa.float64())
                finite = pc.filter(as_float, pc.is_finite(as_float))
                s["count"] += len(finite)
                s["sum"] += float(pc.sum(finite).as_py() or 0.0)
                s["sumsq"] += float(pc.sum(pc.multiply(finite, finite)).as_py() or 0.0)
        if self.label_column and self.label_column in table.schema.names:
            counts = pc.value_counts(table.column(self.label_column))
            for item in counts.to_pylist():
                key = "(null)" if item["values"] is None else str(item["values"])
                self.label_counts[key] = self.label_counts.get(key, 0) + int(item["counts"])
        # Reservoir-style: keep a random share of each chunk, bounded overall.
        keep = min(table.num_rows, max(1, SAMPLE_ROWS * table.num_rows // max(self.rows, 1)))
        if self._sample_rows < SAMPLE_ROWS * 2:
            idx = (
                np.sort(self._rng.choice(table.num_rows, size=keep, replace=False))
                if table.num_rows
                else np.zeros(0, int)
            )
            self._sample.append(table.take(pa.array(idx, type=pa.int64())))
            self._sample_rows += keep

    def result(self) -> dict[str, Any]:
        sample = pa.concat_tables(self._sample) if self._sample else self.schema.empty_table()
        if sample.num_rows > SAMPLE_ROWS:
            idx = np.sort(self._rng.choice(sample.num_rows, size=SAMPLE_ROWS, replace=False))
            sample = sample.take(pa.array(idx, type=pa.int64()))
        columns: list[dict[str, Any]] = []
        for f in self.schema:
            s = self.cols[f.name]
            entry: dict[str, Any] = {"name": f.name, "type": s["type"], "nulls": s["nulls"]}
            if s["min"] is not None:
                entry["min"], entry["max"] = _jsonable(s["min"]), _jsonable(s["max"])
            if _numeric(f.type) and s["count"]:
                mean = s["sum"] / s["count"]
                entry["mean"] = mean
                entry["std"] = math.sqrt(max(s["sumsq"] / s["count"] - mean * mean, 0.0))
                values = sample.column(f.name).cast(pa.float64())
                values = pc.filter(values, pc.is_finite(values)).to_numpy(zero_copy_only=False)
                if len(values):
                    counts, edges = np.histogram(values, bins=BINS)
                    entry["histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
            elif (
                pa.types.is_string(f.type)
                or pa.types.is_large_string(f.type)
                or pa.types.is_boolean(f.type)
            ):
                counts = pc.value_counts(pc.drop_null(sample.column(f.name)))
                items = sorted(counts.to_pylist(), key=lambda d: (-d["counts"], str(d["values"])))
                entry["distinct_in_sample"] = len(items)
                entry["top"] = [
                    {"value": str(d["values"]), "count": int(d["counts"])}
                    for d in items[:TOP_VALUES]
                ]
            columns.append(entry)
        result: dict[str, Any] = {
            "rows": self.rows,
            "columns": columns,
            "sample_rows": sample.num_rows,
        }
        if self.label_column:
            result["label"] = {
                "column": self.label_column,
                "counts": dict(sorted(self.label_counts.items())),
            }
        return result


def merge(old: dict[str, Any], new: dict[str, Any], sampled: str) -> dict[str, Any]:
    """Statistics of ``old``'s rows followed by ``new``'s, without reading ``old`` again.

    Rows, nulls, min, max and label counts combine exactly; mean and std combine
    weighted by non-null rows (exact unless a column holds NaN or infinities, which the
    per-version figures exclude). Histograms and top values stay those of ``old``'s
    sample (named by ``sampled``): an append does not re-sample the table.
    """
    if not old.get("columns"):
        return new
    by_name = {c["name"]: c for c in new.get("columns", [])}
    rows_old, rows_new = int(old.get("rows", 0)), int(new.get("rows", 0))
    columns = []
    for o in old["columns"]:
        n = by_name.get(o["name"])
        if n is None:
            columns.append(o)
            continue
        c = dict(o)
        c["nulls"] = o.get("nulls", 0) + n.get("nulls", 0)
        for bound, pick in (("min", min), ("max", max)):
            values = [x[bound] for x in (o, n) if x.get(bound) is not None]
            if values:
                try:
                    c[bound] = pick(values)
                except TypeError:  # "nan"/"inf" kept as text: keep the old bound
                    c[bound] = values[0]
        w_old, w_new = rows_old - o.get("nulls", 0), rows_new - n.get("nulls", 0)
        if "mean" in n and ("mean" in o or w_old <= 0):
            m_old, s_old = o.get("mean", 0.0), o.get("std", 0.0)
            m_new, s_new = n["mean"], n.get("std", 0.0)
            total = max(w_old, 0) + max(w_new, 0)
            if total > 0:
                mean = (max(w_old, 0) * m_old + max(w_new, 0) * m_new) / total
                sq = (
                    max(w_old, 0) * (s_old**2 + m_old**2) + max(w_new, 0) * (s_new**2 + m_new**2)
                ) / total
                c["mean"], c["std"] = mean, math.sqrt(max(sq - mean * mean, 0.0))
        columns.append(c)
    result = dict(old)
    result["rows"] = rows_old + rows_new
    result["columns"] = columns
    result["sampled"] = old.get("sampled", sampled)
    if "label" in old or "label" in new:
        counts = dict(old.get("label", {}).get("counts", {}))
        for k, v in new.get("label", {}).get("counts", {}).items():
            counts[k] = counts.get(k, 0) + v
        label = old.get("label") or new.get("label") or {}
        result["label"] = {"column": label.get("column"), "counts": dict(sorted(counts.items()))}
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
