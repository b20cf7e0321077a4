"""Writing metric points in bulk, below the ORM.

A run may log hundreds of thousands of points; through the ORM (or even a Core
``insert()`` with its type decorators) every row costs Python calls per column. Here the
rows go to the driver as plain tuples in the caller's transaction: one ``executemany``
on SQLite, one ``COPY ... FROM STDIN`` on PostgreSQL. The values are stored exactly as
``MetricRow``'s column types would store them (NaN as NULL; times as naive UTC, on SQLite
as SQLAlchemy's text form), so reads through the ORM see no difference.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from itertools import repeat
from typing import Any

from sqlalchemy.orm import Session

from mlgrove.domain.metric_batch import MetricBatch

_COLUMNS = "run_id, key, step, value, timestamp"
#: Rows per executemany call on SQLite (bounds the memory of the tuples in flight).
SQLITE_ROWS = 20_000


def _text_times(times_us: list[int]) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS.ffffff``: SQLAlchemy's SQLite DATETIME text, which PostgreSQL's
    COPY reads too. The date and clock part is made once per distinct second."""
    out = []
    seconds: dict[int, str] = {}
    for t in times_us:
        sec, us = divmod(t, 1_000_000)
        prefix = seconds.get(sec)
        if prefix is None:
            prefix = seconds[sec] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
        out.append(f"{prefix}.{us:06d}")
    return out


def _nullable(values: list[float]) -> list[float | None]:
    # NaN is NULL on both backends (see MetricFloat); x != x only for NaN.
    return [None if v != v else v for v in values]


def insert_points(session: Session, run_id: int, batch: MetricBatch) -> None:
    """Append every point of ``batch`` to ``run_metrics`` in the session's transaction
    (the id order is the batch order: later points are newer)."""
    if not len(batch):
        return
    conn = session.connection()
    raw = conn.connection.driver_connection
    times = _text_times(batch.times_us)
    if conn.dialect.name == "postgresql":
        _copy(raw, run_id, batch, times)
        return
    rows = list(zip(repeat(run_id), batch.keys, batch.steps, _nullable(batch.values), times))
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        sql = f"INSERT INTO run_metrics ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
        for i in range(0, len(rows), SQLITE_ROWS):
            cursor.executemany(sql, rows[i : i + SQLITE_ROWS])
    finally:
        cursor.close()


def _copy_value(v: float) -> str:
    if v != v:
        return "\\N"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


def _copy_lines(run_id: int, batch: MetricBatch, times: list[str]) -> Iterator[str]:
    # COPY's text format: tab-separated, \N for NULL, backslash escaped. Keys hold no
    # control characters (tabs and newlines included), so a backslash is all to escape.
    prefix = f"{run_id}\t"
    for k, s, v, t in zip(batch.keys, batch.steps, batch.values, times, strict=True):
        key = k.replace("\\", "\\\\") if "\\" in k else k
        yield f"{prefix}{key}\t{s}\t{_copy_value(v)}\t{t}\n"


def _copy(raw: Any, run_id: int, batch: MetricBatch, times: list[str]) -> None:
    sql = f"COPY run_metrics ({_COLUMNS}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        chunk: list[str] = []
        for line in _copy_lines(run_id, batch, times):
            chunk.append(line)
            if len(chunk) >= 10_000:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))
