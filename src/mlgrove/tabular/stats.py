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


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
