"""Datasets and versions: find, list, describe and read back.

Commits live in ``table_commit.py`` (tables) and ``filesets.py`` (folders of files);
diffs in ``table_diff.py``; splits and leakage checks in ``splits.py``.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain import names
from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import Dataset, DatasetKind, Version, parse_version_ref
from mlgrove.errors import Conflict, InvalidInput, NotFound
from mlgrove.services import audit
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetRow, DatasetVersionRow, ProjectRow, TeamRow
from mlgrove.tabular.manifest import Manifest

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_PROJECT = "default"


def resolve_project(
    session: Session, ctx: Context, project: str | None, *, create: bool = False
) -> ProjectRow:
    """The named project; without a name, the only one there is (or, when allowed to
    create, a ``default`` project on a fresh workspace)."""
    if project is not None:
        row = session.scalar(select(ProjectRow).where(ProjectRow.name == project))
        if row is None:
            raise NotFound(
                f"no project named {project!r}", hint="`mlgrove project list` shows them"
            )
        return row
    rows = session.scalars(select(ProjectRow).order_by(ProjectRow.name).limit(3)).all()
    if len(rows) == 1:
        return rows[0]
    if rows:
        raise InvalidInput(
            "several projects exist; say which one",
            hint="pass --project NAME (or set $MLGROVE_PROJECT); `mlgrove project list` shows them",
        )
    if not create:
        raise NotFound(
            "there are no projects yet",
            hint="add data with `mlgrove data add`, or `mlgrove project create`",
        )
    ctx.require(Action.CREATE_PROJECT)
    team = session.scalar(select(TeamRow).where(TeamRow.name == DEFAULT_PROJECT))
    if team is None:
        team = TeamRow(
            name=DEFAULT_PROJECT, description="Made for the first dataset of a new workspace."
        )
        session.add(team)
        session.flush()
    row = ProjectRow(
        name=DEFAULT_PROJECT, team_id=team.id, description="Made for the first dataset."
    )
    session.add(row)
    session.flush()
    audit.record(
        session, ctx.actor_label, "project.create", f"project:{row.id}", "default (automatic)"
    )
    return row


def dataset_value(row: DatasetRow, project: str) -> Dataset:
    return Dataset(
        id=row.id,
        project=project,
        name=row.name,
        kind=DatasetKind(row.kind),
        key_columns=list(row.key_columns),
        label_column=row.label_column,
        description=row.description,
        created_at=row.created_at,
    )


def version_value(
    row: DatasetVersionRow, dataset: str, parent_number: int | None, *, with_stats: bool = False
) -> Version:
    return Version(
        dataset=dataset,
        number=row.number,
        address=row.address,
        parent=parent_number,
        message=row.message,
        author=row.author,
        source=row.source,
        rows=row.row_count,
        bytes=row.byte_size,
        new_bytes=row.new_bytes,
        schema=list(row.schema_json),
        created_at=row.created_at,
        stats=dict(row.stats_json) if with_stats else {},
    )


def existing_dataset_row(
    session: Session, ctx: Context, project: str | None, name: str
) -> DatasetRow | None:
    """The dataset a commit would add to, or None when the commit will create it (also
    when the workspace has no project yet: the commit then makes ``default``)."""
    if project is None and session.scalar(select(ProjectRow.id).limit(1)) is None:
        return None
    return find_dataset_row(session, resolve_project(session, ctx, project).id, name)


def latest_version_row(session: Session, dataset_id: int) -> DatasetVersionRow | None:
    return session.scalar(
        select(DatasetVersionRow)
        .where(DatasetVersionRow.dataset_id == dataset_id)
        .order_by(DatasetVersionRow.number.desc())
        .limit(1)
    )


def find_dataset_row(session: Session, project_id: int, name: str) -> DatasetRow | None:
    return session.scalar(
        select(DatasetRow).where(DatasetRow.project_id == project_id, DatasetRow.name == name)
    )


def dataset_row(
    session: Session, ctx: Context, project: str | None, name: str
) -> tuple[DatasetRow, ProjectRow]:
    proj = resolve_project(session, ctx, project)
    row = find_dataset_row(session, proj.id, name)
    if row is None:
        raise NotFound(
            f"no dataset named {name!r} in project {proj.name!r}",
            hint="`mlgrove data list` shows them",
        )
    return row, proj


def create_dataset_row(
    session: Session,
    ctx: Context,
    project: ProjectRow,
    name: str,
    kind: DatasetKind,
    key_columns: list[str],
    label_column: str | None,
) -> DatasetRow:
    names.name(name, "dataset")
    if find_dataset_row(session, project.id, name) is not None:
        raise Conflict(f"dataset {name!r} exists already in project {project.name!r}")
    row = DatasetRow(
        project_id=project.id,
        name=name,
        kind=kind.value,
        key_columns=key_columns,
        label_column=label_column,
        created_by=ctx.actor.id or None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, ctx.actor_label, "dataset.create", f"dataset:{row.id}", f"{project.name}/{name}"
    )
    return row


def version_row(session: Session, dataset: DatasetRow, ref: str) -> DatasetVersionRow:
    parsed = parse_version_ref(ref)
    query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset.id)
    if parsed.latest:
        row = session.scalar(query.order_by(DatasetVersionRow.number.desc()).limit(1))
    elif parsed.number is not None:
        row = session.scalar(query.where(DatasetVersionRow.number == parsed.number))
    else:
        assert parsed.address_prefix is not None
        rows = session.scalars(
            query.where(DatasetVersionRow.address.startswith(parsed.address_prefix)).limit(2)
        ).all()
        if len(rows) > 1:
            raise InvalidInput(
                f"address prefix {ref!r} matches several versions", hint="give more characters"
            )
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(
            f"dataset {dataset.name!r} has no version {ref!r}",
            hint=f"`mlgrove data log {dataset.name}` lists its versions",
        )
    return row


def _parent_number(session: Session, row: DatasetVersionRow) -> int | None:
    if row.parent_id is None:
        return None
    parent = session.get(DatasetVersionRow, row.parent_id)
    return parent.number if parent else None


def list_datasets(ctx: Context, project: str | None = None) -> list[tuple[Dataset, Version | None]]:
    """Datasets of a project with their latest version."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        proj = resolve_project(s, ctx, project)
        latest = (
            select(DatasetVersionRow.dataset_id, func.max(DatasetVersionRow.number).label("n"))
            .group_by(DatasetVersionRow.dataset_id)
            .subquery()
        )
        rows = s.execute(
            select(DatasetRow, DatasetVersionRow)
            .where(DatasetRow.project_id == proj.id)
            .outerjoin(latest, latest.c.dataset_id == DatasetRow.id)
            .outerjoin(
                DatasetVersionRow,
                (DatasetVersionRow.dataset_id == DatasetRow.id)
                & (DatasetVersionRow.number == latest.c.n),
            )
            .order_by(DatasetRow.name)
        ).all()
        return [
            (
                dataset_value(d, proj.name),
                version_value(v, d.name, _parent_number(s, v)) if v else None,
            )
            for d, v in rows
        ]


def get_dataset(ctx: Context, name: str, project: str | None = None) -> Dataset:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        row, proj = dataset_row(s, ctx, project, name)
        return dataset_value(row, proj.name)


def log(
    ctx: Context,
    name: str,
    project: str | None = None,
    *,
    limit: int = 100,
    before: int | None = None,
) -> list[Version]:
    """Versions newest first, keyset-paged by number."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = dataset_row(s, ctx, project, name)
        query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == ds.id)
        if before is not None:
            query = query.where(DatasetVersionRow.number < before)
        rows = s.scalars(
            query.order_by(DatasetVersionRow.number.desc()).limit(min(limit, 1000))
        ).all()
        by_id = {r.id: r.number for r in rows}
        return [
            version_value(
                r, ds.name, by_id.get(r.parent_id) if r.parent_id in by_id else _parent_number(s, r)
            )
            for r in rows
        ]


def show(ctx: Context, name: str, ref: str, project: str | None = None) -> Version:
    """One version, with its statistics."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = dataset_row(s, ctx, project, name)
        row = version_row(s, ds, ref)
        return version_value(row, ds.name, _parent_number(s, row), with_stats=True)


def version_node(ctx: Context, name: str, ref: str, project: str | None = None) -> str:
    """The lineage node id of a version (its row id)."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = dataset_row(s, ctx, project, name)
        return str(version_row(s, ds, ref).id)


def manifest(ctx: Context, address: str) -> Manifest:
    return Manifest.from_bytes(ctx.objects.get_bytes(address))


def _table_manifest(ctx: Context, name: str, ref: str, project: str | None) -> Manifest:
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        ds, _ = dataset_row(s, ctx, project, name)
        if ds.kind != DatasetKind.TABLE:
            raise InvalidInput(
                f"{name!r} is a file dataset",
                hint="use `mlgrove data checkout` for folders of files",
            )
        address = version_row(s, ds, ref).address
    return manifest(ctx, address)


def iter_tables(
    ctx: Context, name: str, ref: str = "latest", project: str | None = None
) -> Generator[pa.Table, None, None]:
    """A version's rows chunk by chunk, in order (constant memory)."""
    from mlgrove.tabular import chunks as chunkio

    m = _table_manifest(ctx, name, ref, project)
    for chunk in m.chunks:
        yield chunkio.decode(ctx.objects.get_bytes(chunk.address))


def read_table(
    ctx: Context, name: str, ref: str = "latest", project: str | None = None
) -> pa.Table:
    import pyarrow as pa

    from mlgrove.tabular import chunks as chunkio

    m = _table_manifest(ctx, name, ref, project)
    tables = [chunkio.decode(ctx.objects.get_bytes(c.address)) for c in m.chunks]
    if not tables:
        return pa.schema([pa.field(c["name"], pa.large_string()) for c in m.schema]).empty_table()
    return pa.concat_tables(tables)


EXPORT_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def export(ctx: Context, name: str, ref: str, out: Path, project: str | None = None) -> int:
    """Write a version to ``out`` (format from its extension), atomically; returns rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fmt = EXPORT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"cannot tell the format of {out.name}", hint="name it .csv, .tsv, .parquet or .jsonl"
        )
    tmp = out.with_name(f".{out.name}.grove-tmp")
    rows = 0
    try:
        writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        with open(tmp, "wb") as fh:
            for table in iter_tables(ctx, name, ref, project):
                rows += table.num_rows
                if fmt == "parquet":
                    if writer is None:
                        writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
                    writer.write_table(table)
                elif fmt in ("csv", "tsv"):
                    if writer is None:
                        writer = pacsv.CSVWriter(
                            fh,
                            table.schema,
                            write_options=pacsv.WriteOptions(
                                delimiter="," if fmt == "csv" else "\t"
                            ),
                        )
                    writer.write_table(table)
                else:
                    for record in table.to_pylist():
                        import json

                        fh.write(
                            json.dumps(record, default=str, ensure_ascii=False).encode() + b"\n"
                        )
            if writer is not None:
                writer.close()
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows
