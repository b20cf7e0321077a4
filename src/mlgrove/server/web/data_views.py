"""Dataset pages: every project's datasets, a dataset's history, one version (schema,
statistics with charts, splits, sample rows, lineage), a leakage check and a row diff.

Pages stay fast on big datasets: statistics are precomputed at commit, sample rows come
from the first chunk only, and the diff page asks for one page of rows at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from mlgrove.domain.datasets import Dataset, DatasetKind, LineageEdge, Version
from mlgrove.domain.people import Project
from mlgrove.server.deps import context
from mlgrove.server.web import charts
from mlgrove.server.web.pages import render
from mlgrove.server.web.urls import version_url
from mlgrove.services import datasets, lineage, people, projects, splits, table_diff
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetRow, DatasetVersionRow, ProjectRow

router = APIRouter(include_in_schema=False)

HISTORY_PAGE = 50
DIFF_PAGE = 50
FILES_PAGE = 100
EXTENSION_BARS = 15
SAMPLE_ROWS = 50
VERSION_CHOICES = 200  # versions offered in the diff page's pickers
CHART_COLUMNS = 60  # per-column charts drawn before the page asks to show all
LABEL_BARS = 20
LINEAGE_DEPTH = 3
LINEAGE_EDGES = 100  # edges listed; a source shared by many versions can link hundreds


# -- the list --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectDatasets:
    project: Project
    team: str
    datasets: list[tuple[Dataset, Version | None]]


def _project_datasets(ctx: Context, chosen: list[Project]) -> list[ProjectDatasets]:
    teams = {t.id: t.name for t in people.list_teams(ctx)}
    return [
        ProjectDatasets(p, teams.get(p.team_id, ""), datasets.list_datasets(ctx, project=p.name))
        for p in chosen
    ]


@router.get("/data", response_class=HTMLResponse)
def data_list(request: Request, ctx: Context = Depends(context)) -> Response:
    """Every project with its datasets and their latest versions."""
    groups = _project_datasets(ctx, projects.list_projects(ctx))
    return render(request, "data_list.html", {"groups": groups, "one_project": None})


# -- one dataset -------------------------------------------------------------------------


@router.get("/data/{project}", response_class=HTMLResponse)
def project_data(request: Request, project: str, ctx: Context = Depends(context)) -> Response:
    """One project's datasets (the list, narrowed)."""
    groups = _project_datasets(ctx, [projects.get_project(ctx, project)])
    return render(request, "data_list.html", {"groups": groups, "one_project": project})


@router.get("/data/{project}/{dataset}", response_class=HTMLResponse)
def dataset_history(
    request: Request,
    project: str,
    dataset: str,
    before: int | None = Query(None, ge=2, description="show versions older than this number"),
    ctx: Context = Depends(context),
) -> Response:
    """A dataset's versions, newest first, a page at a time."""
    ds = datasets.get_dataset(ctx, dataset, project)
    versions = datasets.log(ctx, dataset, project, limit=HISTORY_PAGE + 1, before=before)
    older = versions[HISTORY_PAGE - 1].number if len(versions) > HISTORY_PAGE else None
    versions = versions[:HISTORY_PAGE]
    oldest_first = list(reversed(versions))
    growth = (
        charts.columns(
            [(float(v.rows), f"{v.name}: {v.rows:,} {_unit(ds)}") for v in oldest_first],
            description=f"{_unit(ds).capitalize()} per version, {oldest_first[0].name} to {oldest_first[-1].name}",
            axis_left=oldest_first[0].name,
            axis_right=oldest_first[-1].name,
        )
        if len(versions) > 1
        else None
    )
    return render(
        request,
        "dataset.html",
        {
            "ds": ds,
            "versions": versions,
            "before": before,
            "older": older,
            "growth": growth,
            "unit": _unit(ds),
        },
    )


def _unit(ds: Dataset) -> str:
    return "files" if ds.kind is DatasetKind.FILES else "rows"


# -- the diff --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangedRow:
    key: list[Any]
    # Per changed-column on the page: (before, after), or None where this row kept its value.
    cells: list[tuple[Any, Any] | None]


def _changed_table(
    result: dict[str, Any], column_order: list[str]
) -> tuple[list[str], list[ChangedRow]]:
    """The changed rows as one table: key columns, then every column that changed in any
    row of this page (in schema order), with the cells that changed marked."""
    touched = {c for row in result["rows"]["changed"] for c in row["columns"]}
    columns = [c for c in column_order if c in touched]
    columns += sorted(touched - set(columns))
    rows = [
        ChangedRow(
            key=[row["key"].get(k) for k in result["key"]],
            cells=[
                (row["before"].get(c), row["after"].get(c)) if c in row["columns"] else None
                for c in columns
            ],
        )
        for row in result["rows"]["changed"]
    ]
    return columns, rows


@router.get("/data/{project}/{dataset}/diff", response_class=HTMLResponse)
def dataset_diff(
    request: Request,
    project: str,
    dataset: str,
    old: str | None = Query(None, alias="from", description="the older version, e.g. v1"),
    new: str | None = Query(None, alias="to", description="the newer version (default: latest)"),
    offset: int = Query(0, ge=0, description="skip this many rows of each kind"),
    ctx: Context = Depends(context),
) -> Response:
    """Rows added, removed and changed between two versions, a page at a time."""
    ds = datasets.get_dataset(ctx, dataset, project)
    choices = datasets.log(ctx, dataset, project, limit=VERSION_CHOICES)
    page: dict[str, Any] = {"ds": ds, "choices": choices, "result": None, "offset": offset}
    if not choices:
        return render(request, "diff.html", page)
    newer = datasets.show(ctx, dataset, new or "latest", project)
    if old is None and newer.parent is None:
        page.update(
            newer=newer,
            older=None,
            note=f"{newer.name} is the first version: there is nothing before it to compare with.",
        )
        return render(request, "diff.html", page)
    older = datasets.show(ctx, dataset, old or f"v{newer.parent}", project)
    page.update(newer=newer, older=older)
    if ds.kind is DatasetKind.FILES:
        return render(request, "diff.html", page | _files_diff(ctx, ds, older, newer, offset))
    result = table_diff.diff(
        ctx, dataset, older.name, newer.name, project=project, limit=DIFF_PAGE, offset=offset
    )
    changed_columns, changed_rows = _changed_table(result, [c["name"] for c in newer.schema])
    most = max(result["added"], result["removed"], result["changed"])
    page.update(
        result=result,
        changed_columns=changed_columns,
        changed_rows=changed_rows,
        limit=DIFF_PAGE,
        previous_offset=max(offset - DIFF_PAGE, 0) if offset else None,
        next_offset=offset + DIFF_PAGE if offset + DIFF_PAGE < most else None,
        most=most,
    )
    return render(request, "diff.html", page)


def _files_diff(
    ctx: Context, ds: Dataset, older: Version, newer: Version, offset: int
) -> dict[str, Any]:
    """Paths added, removed and modified, a page of each (the counts are complete)."""
    from mlgrove.services import filesets  # only file datasets need it

    result = filesets.diff_files(ctx, ds.name, older.name, newer.name, project=ds.project)
    listed = result["files"]
    longest = max((len(paths) for paths in listed.values()), default=0)
    return {
        "files_result": result,
        "files_page": {kind: paths[offset : offset + DIFF_PAGE] for kind, paths in listed.items()},
        "limit": DIFF_PAGE,
        "previous_offset": max(offset - DIFF_PAGE, 0) if offset else None,
        "next_offset": offset + DIFF_PAGE if offset + DIFF_PAGE < longest else None,
        "most": max(result["added"], result["removed"], result["modified"]),
    }


# -- one version -----------------------------------------------------------------------


@dataclass(frozen=True)
class FilesView:
    chart: charts.Chart | None
    files: list[dict[str, Any]]
    prefix: str
    previous_offset: int | None
    next_offset: int | None


def _files_view(ctx: Context, ds: Dataset, v: Version, prefix: str, offset: int) -> FilesView:
    """A page of a file version's paths (under ``prefix``) and its files per extension."""
    from mlgrove.services import filesets  # only file datasets need it

    found = filesets.list_files(
        ctx, ds.name, v.name, project=ds.project, prefix=prefix, limit=FILES_PAGE + 1, offset=offset
    )
    extensions = sorted(
        v.stats.get("extensions", {}).items(), key=lambda kv: (-int(kv[1]), str(kv[0]))
    )
    shown = [(ext or "(none)", int(n)) for ext, n in extensions[:EXTENSION_BARS]]
    rest = sum(int(n) for _, n in extensions[EXTENSION_BARS:])
    if rest:
        shown.append((f"{len(extensions) - EXTENSION_BARS} others", rest))
    chart = (
        charts.bars(
            shown,
            description=f"Files per extension in {ds.name} {v.name}",
            total=sum(int(n) for _, n in extensions),
        )
        if shown
        else None
    )
    return FilesView(
        chart,
        found[:FILES_PAGE],
        prefix,
        max(offset - FILES_PAGE, 0) if offset else None,
        offset + FILES_PAGE if len(found) > FILES_PAGE else None,
    )


@dataclass(frozen=True)
class ColumnView:
    name: str
    type: str
    role: str  # "key", "label" or ""
    stats: dict[str, Any]
    chart: charts.Chart | None
    chart_note: str


def _column_views(ds: Dataset, v: Version) -> list[ColumnView]:
    by_name = {c["name"]: c for c in v.stats.get("columns", [])}
    sampled = v.stats.get("sample_rows")
    sample_note = (
        f"from a sample of {sampled:,} rows" if sampled and sampled < v.rows else "from every row"
    )
    views = []
    for col in v.schema:
        name = col["name"]
        st = by_name.get(name, {})
        chart: charts.Chart | None = None
        note = ""
        hist = st.get("histogram")
        top = st.get("top")
        if hist and hist.get("counts"):
            chart = charts.histogram(hist["counts"], hist["edges"], column=name)
            note = f"distribution, {sample_note}"
        elif top:
            chart = charts.bars(
                [(t["value"], int(t["count"])) for t in top],
                description=f"Most frequent values of {name}",
            )
            distinct = st.get("distinct_in_sample")
            note = (
                f"top {len(top)} of {distinct:,} distinct values, {sample_note}"
                if distinct
                else f"top values, {sample_note}"
            )
        role = "key" if name in ds.key_columns else "label" if name == ds.label_column else ""
        views.append(ColumnView(name, col.get("type", st.get("type", "")), role, st, chart, note))
    return views


def _label_chart(v: Version) -> charts.Chart | None:
    label = v.stats.get("label")
    if not label or not label.get("counts"):
        return None
    items = sorted(label["counts"].items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [(str(k), int(n)) for k, n in items[:LABEL_BARS]]
    rest = sum(int(n) for _, n in items[LABEL_BARS:])
    if rest:
        shown.append((f"{len(items) - LABEL_BARS} others", rest))
    return charts.bars(
        shown,
        description=f"Rows per value of the label column {label['column']}",
        total=sum(int(n) for _, n in items),
    )


def _sample(ctx: Context, ds: Dataset, v: Version) -> tuple[list[str], list[dict[str, Any]]]:
    """The first rows of the version's first chunk: never more is read."""
    # The generator reads a chunk only when asked; the rest are never fetched.
    first = next(iter(datasets.iter_tables(ctx, ds.name, v.name, ds.project)), None)
    if first is None:
        return [c["name"] for c in v.schema], []
    return list(first.schema.names), first.slice(0, SAMPLE_ROWS).to_pylist()


def _version_names(ctx: Context, ids: set[str]) -> dict[str, tuple[str, str, int]]:
    """(project, dataset, number) of each dataset-version lineage node id (a read-only
    lookup: no service names lineage nodes yet)."""
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    with ctx.db.read() as s:
        rows = s.execute(
            select(DatasetVersionRow.id, ProjectRow.name, DatasetRow.name, DatasetVersionRow.number)
            .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
            .join(ProjectRow, ProjectRow.id == DatasetRow.project_id)
            .where(DatasetVersionRow.id.in_(numeric))
        ).all()
    return {str(r[0]): (r[1], r[2], int(r[3])) for r in rows}


@dataclass(frozen=True)
class EdgeView:
    source: charts.GraphNode
    relation: str
    target: charts.GraphNode
    edge: LineageEdge


def _lineage(
    ctx: Context, ds: Dataset, v: Version
) -> tuple[list[EdgeView], int, charts.Graph | None]:
    """The edges around a version (the first ``LINEAGE_EDGES``), how many there are in
    all, and a picture of them when they are few enough to draw."""
    me = datasets.version_node(ctx, ds.name, v.name, ds.project)
    edges = lineage.edges_of(ctx, "dataset_version", me, depth=LINEAGE_DEPTH)
    version_ids = {
        node_id
        for e in edges
        for kind, node_id in ((e.from_kind, e.from_id), (e.to_kind, e.to_id))
        if kind == "dataset_version"
    }
    names = _version_names(ctx, version_ids | {me})
    nodes: dict[str, charts.GraphNode] = {}

    def node(kind: str, node_id: str) -> charts.GraphNode:
        key = f"{kind}:{node_id}"
        if key not in nodes:
            nodes[key] = _graph_node(
                kind, node_id, names, current=kind == "dataset_version" and node_id == me
            )
        return nodes[key]

    node("dataset_version", me)
    views = [
        EdgeView(node(e.from_kind, e.from_id), e.relation, node(e.to_kind, e.to_id), e)
        for e in edges
    ]
    graph = charts.lineage_graph(
        list(nodes.values()),
        [(f"{e.from_kind}:{e.from_id}", e.relation, f"{e.to_kind}:{e.to_id}") for e in edges],
        description=f"Lineage of {ds.name} {v.name}: where it came from and what was made from it",
    )
    return views[:LINEAGE_EDGES], len(views), graph


def _graph_node(
    kind: str, node_id: str, names: dict[str, tuple[str, str, int]], *, current: bool
) -> charts.GraphNode:
    key = f"{kind}:{node_id}"
    if kind == "dataset_version" and node_id in names:
        project, dataset, number = names[node_id]
        return charts.GraphNode(
            key,
            f"{dataset} v{number}",
            f"dataset in {project}",
            href=None if current else version_url(project, dataset, number),
            title=f"{project} / {dataset} v{number}",
            current=current,
        )
    if kind == "file":
        return charts.GraphNode(key, os.path.basename(node_id) or node_id, "file", title=node_id)
    if kind == "object":
        # Ids read "Table:<content prefix>": show the type, keep the whole id as the title.
        type_name = node_id.split(":", 1)[0]
        return charts.GraphNode(key, type_name, "in-memory object", title=f"an in-memory {node_id}")
    return charts.GraphNode(key, node_id, kind.replace("_", " "), title=key)


@router.get("/data/{project}/{dataset}/{version}", response_class=HTMLResponse)
def version_page(
    request: Request,
    project: str,
    dataset: str,
    version: str,
    all_columns: bool = Query(False, description="draw every column's chart"),
    prefix: str = Query("", description="file datasets: list only paths starting with this"),
    offset: int = Query(0, ge=0, description="file datasets: skip this many paths"),
    ctx: Context = Depends(context),
) -> Response:
    """One version: what it holds, how its values are spread, its split and lineage."""
    ds = datasets.get_dataset(ctx, dataset, project)
    v = datasets.show(ctx, dataset, version, project)
    table = ds.kind is DatasetKind.TABLE
    files = None if table else _files_view(ctx, ds, v, prefix, offset)
    columns = _column_views(ds, v) if table else []
    split = splits.get_split(ctx, dataset, v.name, project) if table else None
    split_history = splits.history(ctx, dataset, v.name, project) if split else []
    split_chart = (
        charts.bars(
            list(split.counts.items()),
            description=f"Rows per split of {ds.name} {v.name}",
            total=sum(split.counts.values()),
            tones=True,
        )
        if split
        else None
    )
    sample_columns, sample = _sample(ctx, ds, v) if table else ([], [])
    edges, edge_count, graph = _lineage(ctx, ds, v)
    return render(
        request,
        "version.html",
        {
            "ds": ds,
            "v": v,
            "columns": columns,
            "charted": columns if all_columns else columns[:CHART_COLUMNS],
            "label_chart": _label_chart(v) if table else None,
            "split": split,
            "split_chart": split_chart,
            "split_history": split_history,
            "sample_columns": sample_columns,
            "sample": sample,
            "edges": edges,
            "edge_count": edge_count,
            "graph": graph,
            "unit": _unit(ds),
            "files": files,
        },
    )


@router.get("/data/{project}/{dataset}/{version}/leakage", response_class=HTMLResponse)
def leakage_check(
    request: Request, project: str, dataset: str, version: str, ctx: Context = Depends(context)
) -> Response:
    """Rows whose content sits in more than one split. The version page loads this into
    itself (htmx); opened directly it is a page of its own."""
    ds = datasets.get_dataset(ctx, dataset, project)
    v = datasets.show(ctx, dataset, version, project)
    report = splits.leakage(ctx, dataset, v.name, project)
    fragment = request.headers.get("HX-Request") == "true"
    return render(
        request,
        "_leakage.html" if fragment else "leakage.html",
        {"ds": ds, "v": v, "report": report},
        # One address, two answers: a cache (or the back button) must not mix them up.
        headers={"Vary": "HX-Request"},
    )
