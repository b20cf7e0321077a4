"""`mlgrove data ...`: versioned datasets from the command line.

The CLI contract (other tools rely on it): every reading command takes ``--json`` and then
prints one JSON document on stdout with at least the documented keys.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mlgrove.cli import startup
from mlgrove.cli.common import client, err, out, state, workspace
from mlgrove.domain.clock import utcnow
from mlgrove.domain.datasets import DatasetKind, Version
from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    from mlgrove.services.context import Context

# Services, the database layer, Arrow and Rich's tables and progress bars are imported by
# the commands that use them: `mlgrove --help` and commands over --url need none of them.

data_app = typer.Typer(
    help="Versioned datasets: add, log, show, diff, split, check for leakage, export.",
    no_args_is_help=True,
)

ProjectOpt = typer.Option(
    None, "--project", "-p", envvar="MLGROVE_PROJECT", help="Project (default: the only one)."
)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")


@contextmanager
def _ctx(ctx: typer.Context) -> Iterator[Context]:
    st = state(ctx)
    if st.url:
        raise InvalidInput(
            "this `mlgrove data` command works on a local workspace only",
            hint="table commands (add FILE, list, log, show, diff, split, leakage, export) "
            "work with --url; file datasets, status, checkout and lineage run on the server's workspace",
        )
    from mlgrove.domain.people import LOCAL_ADMIN
    from mlgrove.services.workspace import opened
    from mlgrove.store.repos import people as people_repo

    with opened(workspace(ctx)) as runtime:
        actor = LOCAL_ADMIN
        if st.user:
            with runtime.db.read() as s:
                actor = people_repo.person(people_repo.person_row_by_username(s, st.user))
        startup.done()
        yield runtime.as_actor(actor)


def _emit(payload: dict[str, Any] | list[Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False) + "\n")


def _version_json(v: Version, project: str | None = None) -> dict[str, Any]:
    return {
        "dataset": v.dataset,
        "version": v.name,
        "address": v.address,
        "parent": f"v{v.parent}" if v.parent else None,
        "rows": v.rows,
        "bytes": v.bytes,
        "new_bytes": v.new_bytes,
        "message": v.message,
        "author": v.author,
        "source": v.source,
        "created_at": v.created_at.isoformat(),
        "columns": v.schema,
    }


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def _progress(label: str, unit: str, quiet: bool) -> Iterator[Any]:
    if quiet or not err.is_terminal:  # no spinner noise in logs and pipes
        yield lambda n: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn(label),
        TextColumn("{task.completed:,} " + unit),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


@data_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset name (made on first add)."),
    path: Path = typer.Argument(
        ..., help="A table file (.csv .tsv .parquet .jsonl) or a folder of files."
    ),
    key: list[str] = typer.Option(
        None, "--key", "-k", help="Key column(s) that identify a row; repeat for several."
    ),
    message: str = typer.Option("", "--message", "-m", help="What changed and why."),
    label: str | None = typer.Option(None, help="The label column, for label distributions."),
    fmt: str | None = typer.Option(
        None, "--format", help="csv, tsv, parquet or jsonl (default: from the extension)."
    ),
    allow_schema_change: bool = typer.Option(
        False, "--allow-schema-change", help="Accept added/removed/retyped columns."
    ),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add a new version of a dataset from a table file or a folder of files.

    Tables are stored in content-defined chunks: only chunks no earlier version had are
    written, so adding a few rows costs a few rows. Without --key a row is identified by
    its content. Folders become file datasets (each file hashed and stored once).
    """
    started = utcnow()
    if path.is_dir():
        from mlgrove.services import filesets

        with _ctx(ctx) as c, _progress(f"hashing {path.name}", "files", as_json) as tick:
            v = filesets.add_folder(c, name, path, project=project, message=message, progress=tick)
    else:
        if not path.is_file():
            raise InvalidInput(f"no such file or folder: {path}")
        options: dict[str, Any] = {
            "project": project,
            "key": key or None,
            "label": label,
            "message": message,
            "fmt": fmt,
            "allow_schema_change": allow_schema_change,
        }
        if state(ctx).url:  # through the client: remotely only unknown chunks are sent
            with client(ctx) as c, _progress(f"reading {path.name}", "rows", as_json) as tick:
                v = c.datasets.add(name, path, progress=tick, **options)
        else:  # straight to the service: the embedded client would load every service
            from mlgrove.services import table_commit

            with _ctx(ctx) as rc, _progress(f"reading {path.name}", "rows", as_json) as tick:
                v = table_commit.commit(rc, name, path, progress=tick, **options)
    if as_json:
        _emit(_version_json(v))
        return
    if v.created_at < started:  # the latest version, returned unchanged
        out.print(f"{v.dataset}: nothing changed since {v.name}; no new version made")
        return
    out.print(
        f"{v.dataset} {v.name}: {v.rows:,} {'files' if not v.schema else 'rows'}, "
        f"{_fmt_bytes(v.bytes)} ({_fmt_bytes(v.new_bytes)} new)  {v.address[:12]}"
    )


@data_app.command("append")
def append(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Table dataset to append to (its latest version)."),
    path: Path = typer.Argument(..., help="A table file (.csv .tsv .parquet .jsonl) of new rows."),
    message: str = typer.Option("", "--message", "-m", help="What was added and why."),
    fmt: str | None = typer.Option(
        None, "--format", help="csv, tsv, parquet or jsonl (default: from the extension)."
    ),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add rows at the end of a table dataset, as a new version.

    Costs the new rows, not the table: only the latest version's last chunk and the new
    rows are read. Columns must match the dataset's; in a keyed dataset, keys that exist
    already are refused (by name).
    """
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    options: dict[str, Any] = {"project": project, "message": message, "fmt": fmt}
    if state(ctx).url:
        with client(ctx) as c, _progress(f"reading {path.name}", "rows", as_json) as tick:
            v = c.datasets.append(name, path, progress=tick, **options)
    else:  # straight to the service (start-up is most of a small append's time)
        from mlgrove.services import table_append

        with _ctx(ctx) as rc, _progress(f"reading {path.name}", "rows", as_json) as tick:
            v = table_append.append(rc, name, path, progress=tick, **options)
    if as_json:
        _emit(_version_json(v))
        return
    out.print(
        f"{v.dataset} {v.name}: {v.rows:,} rows, "
        f"{_fmt_bytes(v.bytes)} ({_fmt_bytes(v.new_bytes)} new)  {v.address[:12]}"
    )


@data_app.command("list")
def list_(ctx: typer.Context, project: str | None = ProjectOpt, as_json: bool = JsonOpt) -> None:
    """Datasets of a project with their latest version."""
    with client(ctx) as c:
        items = c.datasets.list(project)
    if as_json:
        _emit(
            [
                {
                    "dataset": d.name,
                    "kind": d.kind.value,
                    "key": d.key_columns,
                    "latest": _version_json(v) if v else None,
                }
                for d, v in items
            ]
        )
        return
    from rich.table import Table

    table = Table("dataset", "kind", "key", "latest", "rows/files", "size", "updated")
    for d, v in items:
        table.add_row(
            d.name,
            d.kind.value,
            ", ".join(d.key_columns) or "(row content)" if d.kind is DatasetKind.TABLE else "",
            v.name if v else "-",
            f"{v.rows:,}" if v else "",
            _fmt_bytes(v.bytes) if v else "",
            f"{v.created_at:%Y-%m-%d %H:%M}" if v else "",
        )
    out.print(table)


@data_app.command("log")
def log(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    limit: int = typer.Option(50, help="How many versions."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Versions of a dataset, newest first."""
    with client(ctx) as c:
        versions = c.datasets.log(name, project=project, limit=limit)
    if as_json:
        _emit({"dataset": name, "versions": [_version_json(v) for v in versions]})
        return
    from rich.table import Table

    table = Table("version", "address", "rows", "new", "author", "source", "when (UTC)", "message")
    for v in versions:
        table.add_row(
            v.name,
            v.address[:12],
            f"{v.rows:,}",
            _fmt_bytes(v.new_bytes),
            v.author,
            v.source,
            f"{v.created_at:%Y-%m-%d %H:%M}",
            v.message,
        )
    out.print(table)


@data_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    version: str = typer.Argument("latest", help="v1, v2, ..., latest or an address prefix."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One version: columns, statistics and its split."""
    from mlgrove.services import datasets as ds_service
    from mlgrove.services import splits

    with _ctx(ctx) as c:
        v = ds_service.show(c, name, version, project)
        sp = splits.get_split(c, name, version, project) if v.schema else None
    if as_json:
        payload = _version_json(v)
        payload["stats"] = v.stats
        payload["split"] = (
            {"counts": sp.counts, "spec": sp.spec, "origin": sp.origin} if sp else None
        )
        _emit(payload)
        return
    out.print(f"{v.dataset} {v.name}  {v.address}")
    out.print(
        f"  {v.rows:,} {'rows' if v.schema else 'files'}, {_fmt_bytes(v.bytes)}; by {v.author} ({v.source}) {v.created_at:%Y-%m-%d %H:%M}"
    )
    if v.message:
        out.print(f"  {v.message}")
    if v.schema:
        stats = {c["name"]: c for c in v.stats.get("columns", [])}
        from rich.table import Table

        table = Table("column", "type", "nulls", "min", "max", "mean", "top values")
        for col in v.schema:
            s = stats.get(col["name"], {})
            top = ", ".join(f"{t['value']} ({t['count']})" for t in s.get("top", [])[:3])
            mean = s.get("mean")
            table.add_row(
                col["name"],
                col["type"],
                f"{s.get('nulls', 0):,}",
                str(s.get("min", "")),
                str(s.get("max", "")),
                f"{mean:.4g}" if isinstance(mean, float) else "",
                top,
            )
        out.print(table)
    if sp:
        out.print(
            "  split: " + ", ".join(f"{k} {n:,}" for k, n in sp.counts.items()) + f" ({sp.origin})"
        )


@data_app.command("diff")
def diff(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    old: str = typer.Argument(..., help="Older version."),
    new: str = typer.Argument(..., help="Newer version."),
    limit: int = typer.Option(20, help="Rows to list per kind of change."),
    offset: int = typer.Option(0, help="Skip this many rows of each kind (paging)."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Rows added, removed and changed (with the changed columns) between two versions."""

    if state(ctx).url:
        with client(ctx) as remote:
            result = remote.datasets.diff(
                name, old, new, project=project, limit=limit, offset=offset
            )
    else:
        from mlgrove.services import datasets as ds_service

        with _ctx(ctx) as c:
            d = ds_service.get_dataset(c, name, project)
            if d.kind is DatasetKind.FILES:
                from mlgrove.services import filesets

                result = filesets.diff_files(c, name, old, new, project=project)
            else:
                from mlgrove.services import table_diff

                result = table_diff.diff(
                    c, name, old, new, project=project, limit=limit, offset=offset
                )
    if as_json:
        _emit(result)
        return
    out.print(
        f"{name} {result['from']} -> {result['to']}: +{result['added']:,} added, -{result['removed']:,} removed, ~{result['changed'] if 'changed' in result else result.get('modified', 0):,} changed"
    )
    schema = result.get("schema") or {}
    for col in schema.get("added", []):
        out.print(f"  column added:   {col['name']} ({col['type']})")
    for col in schema.get("removed", []):
        out.print(f"  column removed: {col['name']} ({col['type']})")
    for col in schema.get("retyped", []):
        out.print(f"  column retyped: {col['name']} {col['old']} -> {col['new']}")
    rows = result.get("rows") or result.get("files") or {}
    for kind, sign in (("added", "+"), ("removed", "-")):
        for row in rows.get(kind, [])[:limit]:
            out.print(f"  {sign} {row}")
    for row in rows.get("changed", [])[:limit]:
        changes = ", ".join(
            f"{col}: {row['before'][col]!r} -> {row['after'][col]!r}" for col in row["columns"]
        )
        out.print(f"  ~ {row['key']}: {changes}")
    for path in rows.get("modified", [])[:limit]:
        out.print(f"  ~ {path}")


@data_app.command("split")
def split(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    version: str = typer.Argument(..., help="Version to split."),
    ratios: str | None = typer.Option(None, help="e.g. train=0.8,validation=0.1,test=0.1"),
    seed: int = typer.Option(0, help="Seed of the deterministic assignment."),
    column: str | None = typer.Option(None, help="Take each row's split from this column instead."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Assign a version's rows to splits (later versions keep each row's split)."""
    from mlgrove.tabular.splits import parse_ratios

    with client(ctx) as c:
        result = c.datasets.split(
            name,
            version,
            ratios=parse_ratios(ratios) if ratios else None,
            seed=seed,
            column=column,
            project=project,
        )
    if as_json:
        _emit(
            {
                "dataset": name,
                "version": result.version,
                "counts": result.counts,
                "spec": result.spec,
                "moved_rows": result.moved_rows,
            }
        )
        return
    out.print(
        f"{name} {result.version}: " + ", ".join(f"{k} {n:,}" for k, n in result.counts.items())
    )
    if result.moved_rows:
        out.print(f"  {result.moved_rows:,} rows changed split (recorded in the audit log)")


@data_app.command("leakage")
def leakage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    version: str = typer.Argument(..., help="Version."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Find rows whose content sits in more than one split (train/test leakage).

    Exits 1 when there is leakage, so a pipeline can stop on it.
    """
    with client(ctx) as c:
        report = c.datasets.leakage(name, version, project=project)
    if as_json:
        _emit(report)
    else:
        n = report["overlapping_rows"]
        if n == 0:
            out.print(
                f"{name} {version}: no leakage: no row content appears in more than one split"
            )
        else:
            out.print(
                f"{name} {version}: {n:,} rows share their content with a row in another split"
            )
            for combo, count in report["by_splits"].items():
                out.print(f"  {combo}: {count:,} distinct contents")
            for ex in report["examples"]:
                out.print(
                    f"  e.g. {ex['row']} in {', '.join(ex['splits'])} ({ex['copies']} copies)"
                )
    if report["overlapping_rows"]:
        raise typer.Exit(1)


@data_app.command("export")
def export(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    version: str = typer.Argument(..., help="Version."),
    out_path: Path = typer.Argument(..., help="File to write (.csv .tsv .parquet .jsonl)."),
    project: str | None = ProjectOpt,
) -> None:
    """Write a table version to a file."""
    if state(ctx).url:
        with client(ctx) as remote:
            rows = _write_table(remote.datasets.read(name, version, project=project), out_path)
    else:
        from mlgrove.services import datasets as ds_service

        with _ctx(ctx) as c:
            rows = ds_service.export(c, name, version, out_path, project)
    out.print(f"Wrote {rows:,} rows to {out_path}")


def _write_table(table: Any, out_path: Path) -> int:
    """Write an Arrow table fetched from a server, atomically, in the format of its name."""
    import tempfile

    import pyarrow as pa

    from mlgrove.services import datasets as ds_service

    suffix = out_path.suffix.lower()
    fmt = ds_service.EXPORT_FORMATS.get(suffix)
    if fmt is None:
        raise InvalidInput(
            f"cannot tell the format of {out_path.name}",
            hint="name it .csv, .tsv, .parquet or .jsonl",
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        assert isinstance(table, pa.Table)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp, compression="zstd")
        elif fmt in ("csv", "tsv"):
            import pyarrow.csv as pacsv

            pacsv.write_csv(
                table,
                tmp,
                write_options=pacsv.WriteOptions(delimiter="," if fmt == "csv" else "\t"),
            )
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                for record in table.to_pylist():
                    fh.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
        tmp.replace(out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return int(table.num_rows)


@data_app.command("checkout")
def checkout(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="File dataset."),
    version: str = typer.Argument(..., help="Version."),
    folder: Path = typer.Argument(..., help="Folder to fill (new or empty)."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write into a non-empty folder (files the version does not name stay).",
    ),
    project: str | None = ProjectOpt,
) -> None:
    """Write a file dataset's version into a folder, verifying every file's hash."""
    from mlgrove.services import filesets

    with _ctx(ctx) as c, _progress(f"checking out {name} {version}", "files", False) as tick:
        n = filesets.checkout(c, name, version, folder, project=project, progress=tick, force=force)
    out.print(f"Checked out {n:,} files into {folder}")


@data_app.command("status")
def status(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="File dataset."),
    folder: Path = typer.Argument(..., help="Folder to compare."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Compare a folder with the latest version of a file dataset (fast: a stat cache)."""
    from mlgrove.cli.data_fast import status_lines
    from mlgrove.services import filesets

    with _ctx(ctx) as c:
        result = filesets.status(c, name, folder, project=project)
    if as_json:
        _emit(result)
        return
    for line in status_lines(result, name, folder):
        out.print(line)


@data_app.command("lineage")
def lineage_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Dataset."),
    version: str = typer.Argument("latest", help="Version."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Where a version came from and what was made from it."""
    from mlgrove.services import datasets as ds_service
    from mlgrove.services import lineage

    with _ctx(ctx) as c:
        node = ds_service.version_node(c, name, version, project)
        edges = lineage.edges_of(c, "dataset_version", node)
    payload = [
        {
            "from": f"{e.from_kind}:{e.from_id}",
            "relation": e.relation,
            "to": f"{e.to_kind}:{e.to_id}",
            "detail": e.detail,
        }
        for e in edges
    ]
    if as_json:
        _emit({"node": f"dataset_version:{node}", "edges": payload})
        return
    for e in payload:
        out.print(f"{e['from']} -[{e['relation']}]-> {e['to']}")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
