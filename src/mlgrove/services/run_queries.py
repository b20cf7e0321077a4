"""Runs search: filter by params, tags, status and metric values, sort, page by cursor.

Filters and sorts on metrics read ``run_summary_metrics`` (each run's newest value of
each metric), which :func:`record_latest` keeps current in the same transaction as the
points themselves. Paging is by keyset, never OFFSET or COUNT, so the tenth page of
100k runs costs what the first does. See docs/adr/0008-runs-summary-table.md.

Runs without a value to sort by (no such metric, param or tag, or a NaN metric) come
after every run that has one, in id order, whichever the direction.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from mlgrove.domain.authz import Action
from mlgrove.domain.metric_batch import MetricBatch
from mlgrove.domain.run_filter import (
    Clause,
    Field,
    OrderBy,
    RunFilter,
    RunPage,
    decode_cursor,
    encode_cursor,
    parse_filter,
    parse_order,
)
from mlgrove.domain.tracking import MetricPoint, Run, RunStatus
from mlgrove.services import datasets as ds_service
from mlgrove.services import tracking
from mlgrove.services.context import Context
from mlgrove.store.models import RunRow
from mlgrove.store.models.run_summaries import TEXT_PREFIX, RunLatestMetricRow, RunTextRow

__all__ = [
    "MAX_LIMIT",
    "latest_values",
    "record_batch",
    "record_latest",
    "record_texts",
    "search",
]

MAX_LIMIT = 1000
UPSERT_ROWS = 500
KEY = ["run_id", "key"]
TEXT_KEY = ["run_id", "kind", "key"]
#: A param or tag value fewer runs than this have is looked up from its index entries.
RARE_RUNS = 2000


# -- keeping the summary current -----------------------------------------------------------


def record_latest(session: Session, run: RunRow, points: Sequence[MetricPoint]) -> None:
    """Make the newest of ``points`` for each key the run's latest value (see
    :func:`record_batch`)."""
    newest: dict[str, MetricPoint] = {}
    for p in points:
        newest[p.key] = p
    _upsert_latest(session, run, [(p.key, p.value, p.step) for p in newest.values()])


def record_batch(session: Session, run: RunRow, batch: MetricBatch) -> None:
    """Make the batch's newest point of each key the run's latest value (caller's
    transaction): one upsert row per key, whatever the batch's size. A batch is always
    newer than what is stored, so its last point per key wins, as it does for
    ``tracking.latest_metrics`` (the highest id)."""
    _upsert_latest(
        session,
        run,
        [(k, batch.values[i], batch.steps[i]) for k, i in batch.newest().items()],
    )


def _upsert_latest(session: Session, run: RunRow, latest: list[tuple[str, float, int]]) -> None:
    rows = [
        {
            "run_id": run.id,
            "key": key,
            "project_id": run.project_id,
            "value": None if math.isnan(value) else value,
            "step": step,
        }
        for key, value, step in latest
    ]
    postgres = session.get_bind().dialect.name == "postgresql"
    for i in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[i : i + UPSERT_ROWS]
        if postgres:
            pg = postgresql.insert(RunLatestMetricRow).values(chunk)
            session.execute(
                pg.on_conflict_do_update(
                    index_elements=KEY, set_={"value": pg.excluded.value, "step": pg.excluded.step}
                )
            )
        else:
            lite = sqlite.insert(RunLatestMetricRow).values(chunk)
            session.execute(
                lite.on_conflict_do_update(
                    index_elements=KEY,
                    set_={"value": lite.excluded.value, "step": lite.excluded.step},
                )
            )


def record_texts(session: Session, run: RunRow, kind: str, values: dict[str, str]) -> None:
    """Make the run's params or tags (``kind`` "param" or "tag") searchable: the caller's
    transaction, after it changed them; a changed value replaces the old one."""
    rows = [
        {
            "run_id": run.id,
            "kind": kind,
            "key": k,
            "project_id": run.project_id,
            "value": v[:TEXT_PREFIX],
        }
        for k, v in values.items()
    ]
    postgres = session.get_bind().dialect.name == "postgresql"
    for i in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[i : i + UPSERT_ROWS]
        if postgres:
            pg = postgresql.insert(RunTextRow).values(chunk)
            session.execute(
                pg.on_conflict_do_update(index_elements=TEXT_KEY, set_={"value": pg.excluded.value})
            )
        else:
            lite = sqlite.insert(RunTextRow).values(chunk)
            session.execute(
                lite.on_conflict_do_update(
                    index_elements=TEXT_KEY, set_={"value": lite.excluded.value}
                )
            )


def latest_values(session: Session, run_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Each run's latest metric values, by key (NaN where the newest point was NaN)."""
    found: dict[int, dict[str, float]] = {i: {} for i in run_ids}
    if not run_ids:
        return found
    rows = session.execute(
        select(RunLatestMetricRow.run_id, RunLatestMetricRow.key, RunLatestMetricRow.value)
        .where(RunLatestMetricRow.run_id.in_(list(run_ids)))
        .order_by(RunLatestMetricRow.run_id, RunLatestMetricRow.key)
    ).all()
    for run_id, key, value in rows:
        found[run_id][key] = math.nan if value is None else float(value)
    return found


# -- the search ------------------------------------------------------------------------


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    ops: dict[str, Any] = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }
    result: ColumnElement[bool] = ops[op](value)
    return result


def _text_column(f: Field) -> Any:
    if f.kind == "param":
        return RunRow.params[f.key].as_string()
    if f.kind == "tag":
        return RunRow.tags[f.key].as_string()
    return {
        "status": RunRow.status,
        "name": RunRow.name,
        "author": RunRow.author,
        "started": RunRow.started_at,
    }[f.key]


def _filtered(
    s: Session, query: Select[Any], flt: RunFilter, project_id: int
) -> tuple[Select[Any], dict[tuple[str, str], Any]]:
    """The query narrowed by every clause, and the summary join made for each metric,
    param and tag named (by (kind, key)), so a sort on one of them can reuse it."""
    joined: dict[tuple[str, str], Any] = {}
    for clause in flt.clauses:
        f = clause.field
        if f.kind == "attribute":
            query = query.where(_compare(_text_column(f), clause.op, clause.value))
        elif f.kind == "metric":
            if (f.kind, f.key) not in joined:
                m = aliased(RunLatestMetricRow)
                joined[(f.kind, f.key)] = m
                query = query.join(m, _summary_of(m, f, project_id))
            # A NaN (NULL) value fails every comparison, != included: it equals nothing.
            query = query.where(_compare(joined[(f.kind, f.key)].value, clause.op, clause.value))
        else:
            t = aliased(RunTextRow)
            match = _text_clause(t, f, clause.op, str(clause.value))
            if clause.op == "=" and _rare(s, f, str(clause.value), project_id):
                # Few runs have it: start from them (the value's index entries).
                query = query.join(t, _summary_of(t, f, project_id)).where(match)
            else:
                # Many runs have it: walk the runs in the sort's order and probe each
                # one's row, which stops as soon as the page is full.
                exists = select(t.run_id).where(_summary_of(t, f, project_id), match).exists()
                query = query.where(exists)
    return query, joined


def _rare(s: Session, f: Field, value: str, project_id: int) -> bool:
    """Whether fewer than ``RARE_RUNS`` runs of the project have this param or tag value
    (counted on the index, at most that many entries read): the planners cannot tell.
    Remembered for the session, which asks again when it plans the sort."""
    known: dict[tuple[str, str, str, int], bool] = s.info.setdefault("grove_rare", {})
    if (f.kind, f.key, value, project_id) in known:
        return known[(f.kind, f.key, value, project_id)]
    t = RunTextRow
    some = (
        select(t.run_id)
        .where(
            t.project_id == project_id,
            t.kind == f.kind,
            t.key == f.key,
            t.value == value[:TEXT_PREFIX],
        )
        .limit(RARE_RUNS)
        .subquery()
    )
    rare = int(s.scalar(select(func.count()).select_from(some)) or 0) < RARE_RUNS
    known[(f.kind, f.key, value, project_id)] = rare
    return rare


def _text_clause(t: Any, f: Field, op: str, value: str) -> ColumnElement[bool]:
    """``=`` or ``!=`` on a param or tag through its indexed prefix. A value shorter than
    the prefix decides on the prefix alone (a longer stored value has a longer prefix);
    a longer one is confirmed against the run's JSON."""
    prefix = value[:TEXT_PREFIX]
    if len(value) < TEXT_PREFIX:
        return _compare(t.value, op, prefix)
    exact = _compare(_text_column(f), op, value)
    return and_(t.value == prefix, exact) if op == "=" else or_(t.value != prefix, exact)


def _extra_clauses(
    status: RunStatus | str | None, tags: dict[str, str] | None, params: dict[str, str] | None
) -> tuple[Clause, ...]:
    """The exact-value filters of the older list API, as filter clauses."""
    found: list[Clause] = []
    if status is not None:
        found.append(Clause(Field("attribute", "status"), "=", RunStatus(status).value))
    found += [Clause(Field("tag", k), "=", str(v)) for k, v in (tags or {}).items()]
    found += [Clause(Field("param", k), "=", str(v)) for k, v in (params or {}).items()]
    return tuple(found)


def search(
    ctx: Context,
    project: str | None = None,
    filter: str | RunFilter | None = None,
    *,
    order_by: str | OrderBy | None = None,
    limit: int = 50,
    cursor: str | None = None,
    status: RunStatus | str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> RunPage:
    """A page of a project's runs matching ``filter``, in ``order_by`` order, each with
    its latest metric values. Pass the page's ``next_cursor`` to read the next one."""
    ctx.require(Action.VIEW_PROJECTS)
    flt = filter if isinstance(filter, RunFilter) else parse_filter(filter)
    flt = RunFilter(flt.clauses + _extra_clauses(status, tags, params))
    order = order_by if isinstance(order_by, OrderBy) else parse_order(order_by)
    after = decode_cursor(cursor, order) if cursor else None
    limit = max(1, min(int(limit), MAX_LIMIT))
    with ctx.db.read() as s:
        proj = ds_service.resolve_project(s, ctx, project)
        # Ids and sort values first, whole rows only for the page: the sort never
        # carries params, tags and packages of thousands of runs.
        base, joined = _filtered(
            s, select(RunRow.id).where(RunRow.project_id == proj.id), flt, proj.id
        )
        plan = _plan(s, flt, order, proj.id, joined)
        found = _page(s, base, order, after, limit + 1, proj.id, joined, plan=plan)
        more = len(found) > limit
        found = found[:limit]
        ids = [run_id for run_id, _ in found]
        rows = {r.id: r for r in s.scalars(select(RunRow).where(RunRow.id.in_(ids)))}
        latest = latest_values(s, ids)
        runs: list[Run] = [
            _with_metrics(tracking.run_value(rows[i], proj.name), latest[i]) for i in ids
        ]
    next_cursor = encode_cursor(order, found[-1][1], found[-1][0]) if more and found else None
    return RunPage(runs=runs, next_cursor=next_cursor, order=order, filter=flt)


def _with_metrics(run: Run, metrics: dict[str, float]) -> Run:
    return dataclasses.replace(run, metrics=metrics)


def _summary_of(t: Any, f: Field, project_id: int) -> ColumnElement[bool]:
    # The project condition is implied by the run's, but stated so the planner can walk
    # the (project_id, [kind,] key, value) index in order instead of sorting every run.
    cond = and_(t.run_id == RunRow.id, t.key == f.key, t.project_id == project_id)
    return cond if f.kind == "metric" else and_(cond, t.kind == f.kind)


#: How a page sorted by a metric, param or tag is found (see :func:`_plan`).
WALK, FILTER_FIRST = "walk", "filter-first"


def _plan(
    s: Session, flt: RunFilter, order: OrderBy, project_id: int, joined: dict[tuple[str, str], Any]
) -> str | None:
    """For a sort on a metric, param or tag under a filter, which way round to search;
    the planners cannot tell, as they do not know how many runs a clause keeps.

    - ``WALK``: every clause keeps many runs (``RARE_RUNS`` or more, counted on at most
      that many index entries each), so walk the sort field's index in order and probe
      each run against the filter: a page fills after a few thousand entries at most.
      Left alone, both planners join the filters first and sort all that is left (6,000
      runs for ``tags.team = "vision" and metrics.loss < 0.2``), several times slower.
    - ``FILTER_FIRST``: some clause keeps few runs, so find them and sort those. Left
      alone, SQLite may walk the sort index and probe all 100k runs for none.
    - None: no filter, or the sort is on a field a clause already joined (and no param
      or tag value in the filter is rare): the sort walks that clause's range.
    """
    f = order.field
    if not flt.clauses or f.kind == "attribute":
        return None
    sorted_on_a_clause = (f.kind, f.key) in joined
    for clause in flt.clauses:
        if clause.field.kind in ("param", "tag") and clause.op == "=":
            few = _rare(s, clause.field, str(clause.value), project_id)  # counted already
        elif sorted_on_a_clause:
            # The sort walks that clause's own range of its index: not worth a count.
            continue
        else:
            one, _ = _filtered(
                s,
                select(RunRow.id).where(RunRow.project_id == project_id),
                RunFilter((clause,)),
                project_id,
            )
            some = one.limit(RARE_RUNS).subquery()
            few = int(s.scalar(select(func.count()).select_from(some)) or 0) < RARE_RUNS
        if few:
            return FILTER_FIRST
    return None if sorted_on_a_clause else WALK


def _sort_entries(t: Any, f: Field, project_id: int) -> ColumnElement[bool]:
    cond = and_(t.project_id == project_id, t.key == f.key)
    return cond if f.kind == "metric" else and_(cond, t.kind == f.kind)


def _page(
    s: Session,
    base: Select[Any],
    order: OrderBy,
    after: Any,
    want: int,
    project_id: int,
    joined: dict[tuple[str, str], Any],
    *,
    plan: str | None = None,
) -> list[tuple[int, Any]]:
    """Up to ``want`` (run id, sort value) pairs after the cursor: first the runs that have
    a value to sort by, in order, then (while the page has room) those that have none.
    ``plan`` says which way round to search (see :func:`_plan`)."""
    f, desc = order.field, order.descending
    none: Select[Any] | None
    if f.kind != "attribute" and (f.kind, f.key) in joined:
        # Filtered on this field already: every match has a value; sort on that join.
        t = joined[(f.kind, f.key)]
        have, none = base, None
        column: Any = t.value
        tiebreak: Any = t.run_id
    elif f.kind != "attribute":
        t = aliased(RunLatestMetricRow if f.kind == "metric" else RunTextRow)
        if plan == WALK:
            # OFFSET 0 keeps PostgreSQL from turning the probe into a join (it then
            # evaluates it per index entry, in order, and stops when the page is full).
            probe = base.where(RunRow.id == t.run_id).offset(0).exists()
            have = select(t.run_id).where(_sort_entries(t, f, project_id), probe)
        else:
            have = base.join(t, _summary_of(t, f, project_id))
        have = have.where(t.value.is_not(None))
        # Runs without the field (or, for a metric, whose latest value is NaN).
        none = base.outerjoin(t, _summary_of(t, f, project_id)).where(t.value.is_(None))
        column = t.value
        tiebreak = t.run_id
    else:
        column = _text_column(f)
        tiebreak = RunRow.id
        have, none = base, None  # never empty: one phase
    found: list[tuple[int, Any]] = []
    if after is None or after.value is not None:
        query = have.add_columns(column)
        if after is not None:
            position = tuple_(column, tiebreak)
            # Typed, so a start time goes through the UTC column type like a stored one.
            last = tuple_(literal(after.value, column.type), literal(after.run_id, tiebreak.type))
            query = query.where(position < last if desc else position > last)
        if plan == FILTER_FIRST:
            # Sort by an expression no index holds, so no planner walks an index for it.
            keys = (column + 0 if f.kind == "metric" else column.concat(""), tiebreak + 0)
        else:
            keys = (column, tiebreak)
        ordered = (keys[0].desc(), keys[1].desc()) if desc else (keys[0].asc(), keys[1].asc())
        found = [(i, value) for i, value in s.execute(query.order_by(*ordered).limit(want))]
    if none is not None and len(found) < want:
        query = none.add_columns(column)
        if after is not None and after.value is None:
            query = query.where(RunRow.id < after.run_id if desc else RunRow.id > after.run_id)
        by_id = RunRow.id.desc() if desc else RunRow.id.asc()
        rest = s.execute(query.order_by(by_id).limit(want - len(found))).all()
        found += [(i, None) for i, _ in rest]
    return found


# -- charts --------------------------------------------------------------------------------

#: Points a chart series carries as they are; a longer series is downsampled to this many.
CHART_POINTS = 100_000


@dataclasses.dataclass(frozen=True)
class Series:
    """One metric of one run, ready to draw: steps and values in step order."""

    run_id: int
    key: str
    steps: list[int]
    #: None where the value is NaN or infinite (a chart cannot place it).
    values: list[float | None]
    #: Points the run logged for this key, and how many of them are drawn.
    total: int
    non_finite: int

    @property
    def downsampled(self) -> bool:
        return len(self.steps) < self.total


def metric_series(ctx: Context, run_id: int, key: str, *, max_points: int | None = None) -> Series:
    """A metric's points for a chart; above ``max_points`` it keeps the lowest and the
    highest value of each of ``max_points / 2`` equal runs of points, so spikes stay."""
    ctx.require(Action.VIEW_PROJECTS)
    from mlgrove.store.models import MetricRow

    with ctx.db.read() as s:
        tracking.run_row(s, run_id)
        rows = s.execute(
            select(MetricRow.step, MetricRow.value)
            .where(MetricRow.run_id == run_id, MetricRow.key == key)
            .order_by(MetricRow.step, MetricRow.id)
        ).all()
    import numpy as np

    steps = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    values = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    finite = np.isfinite(values)
    keep = _min_max_buckets(np.where(finite, values, np.nan), max_points or CHART_POINTS)
    shown = values[keep]
    return Series(
        run_id=run_id,
        key=key,
        steps=steps[keep].tolist(),
        values=[float(v) if math.isfinite(v) else None for v in shown.tolist()],
        total=len(rows),
        non_finite=int((~finite).sum()),
    )


def _min_max_buckets(values: Any, max_points: int) -> Any:
    """Indexes of the points to draw: all of them, or each bucket's min and max."""
    import numpy as np

    n = len(values)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 2)
    size = -(-n // buckets)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = values
    grid = padded.reshape(buckets, size)
    empty = np.isnan(grid).all(axis=1)
    filled = np.where(empty[:, None], 0.0, grid)  # all-NaN buckets keep their first point
    safe = np.where(np.isnan(filled), np.inf, filled)
    low = np.argmin(safe, axis=1)
    safe = np.where(np.isnan(filled), -np.inf, filled)
    high = np.argmax(safe, axis=1)
    base = np.arange(buckets) * size
    keep = np.unique(np.concatenate([base + low, base + high]))
    return keep[keep < n]


def models_from_run(ctx: Context, run_id: int) -> list[tuple[str, int]]:
    """(model name, version number) of each model version registered from the run."""
    ctx.require(Action.VIEW_PROJECTS)
    from mlgrove.store.models import ModelRow, ModelVersionRow

    with ctx.db.read() as s:
        rows = s.execute(
            select(ModelRow.name, ModelVersionRow.number)
            .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
            .where(ModelVersionRow.run_id == run_id)
            .order_by(ModelRow.name, ModelVersionRow.number)
        ).all()
    return [(str(name), int(number)) for name, number in rows]
