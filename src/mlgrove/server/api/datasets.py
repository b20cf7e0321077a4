"""Versioned table datasets: list, log, show, read (as an Arrow stream), commit an
uploaded list of chunks, diff, split and check splits for leakage."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, StreamingResponse

from mlgrove.errors import InvalidInput
from mlgrove.server.api.dataset_schemas import (
    AppendIn,
    CommitIn,
    DatasetEntryOut,
    DatasetOut,
    SplitIn,
    SplitOut,
    VersionOut,
)
from mlgrove.server.deps import context
from mlgrove.services import datasets, splits, table_diff, table_upload
from mlgrove.services.context import Context

router = APIRouter(tags=["datasets"])

ARROW_STREAM = "application/vnd.apache.arrow.stream"
SPLIT_BATCH_ROWS = 65_536


class NaNJSONResponse(JSONResponse):
    """JSON that keeps non-finite floats (``NaN``, ``Infinity``) a table may hold, as
    Python's ``json`` writes and reads them, so diffs round-trip exactly."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@router.get("/datasets", response_model=list[DatasetEntryOut])
def list_datasets(
    project: str | None = None, ctx: Context = Depends(context)
) -> list[DatasetEntryOut]:
    """Datasets of a project, each with its latest version."""
    return [
        DatasetEntryOut(dataset=DatasetOut.of(d), latest=VersionOut.of(v) if v else None)
        for d, v in datasets.list_datasets(ctx, project)
    ]


@router.get("/datasets/{name}/versions", response_model=list[VersionOut])
def log_versions(
    name: str,
    project: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    ctx: Context = Depends(context),
) -> list[VersionOut]:
    """Versions, newest first (without statistics)."""
    return [VersionOut.of(v) for v in datasets.log(ctx, name, project, limit=limit)]


@router.post("/datasets/{name}/versions", response_model=VersionOut, status_code=201)
def commit_version(name: str, body: CommitIn, ctx: Context = Depends(context)) -> VersionOut:
    """Commit a new version from chunks uploaded with ``PUT /objects/{address}``.

    The server decodes the chunks in order and commits their rows exactly like a local
    ``add``: it cuts and hashes the chunks again itself, so statistics, keys, splits and
    content ids never depend on what the client claims.
    """
    version = table_upload.commit_uploaded(
        ctx,
        name,
        body.chunks,
        source_name=body.source_name,
        project=body.project,
        key=body.key,
        label=body.label,
        message=body.message,
        allow_schema_change=body.allow_schema_change,
    )
    return VersionOut.of(version)


@router.post("/datasets/{name}/append", response_model=VersionOut, status_code=201)
def append_rows(name: str, body: AppendIn, ctx: Context = Depends(context)) -> VersionOut:
    """Append rows uploaded as chunks (``PUT /objects/{address}``) to the latest version.

    Like ``mlgrove data append``: only the latest version's last chunk and the new rows
    are read; the columns must match; keys that exist already are refused by name.
    """
    version = table_upload.append_uploaded(
        ctx,
        name,
        body.chunks,
        source_name=body.source_name,
        project=body.project,
        message=body.message,
    )
    return VersionOut.of(version)


@router.get("/datasets/{name}/versions/{ref}", response_model=VersionOut)
def show_version(
    name: str, ref: str, project: str | None = None, ctx: Context = Depends(context)
) -> VersionOut:
    """One version (``v3``, ``3``, ``latest`` or an address prefix) with its statistics."""
    return VersionOut.of(datasets.show(ctx, name, ref, project))


class _Pipe:
    """A write-only file that hands back what was written since the last ``take()``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(self._parts[-1])

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _ipc_stream(schema: pa.Schema, tables: Iterator[pa.Table]) -> Iterator[bytes]:
    pipe = _Pipe()
    writer = ipc.new_stream(pipe, schema)
    for table in tables:
        writer.write_table(table if table.schema == schema else table.cast(schema))
        yield pipe.take()
    writer.close()
    yield pipe.take()


@router.get(
    "/datasets/{name}/versions/{ref}/rows",
    response_class=StreamingResponse,
    responses={200: {"content": {ARROW_STREAM: {}}, "description": "An Arrow IPC stream."}},
)
def read_rows(
    name: str,
    ref: str,
    project: str | None = None,
    split: str | None = None,
    ctx: Context = Depends(context),
) -> StreamingResponse:
    """The rows of a version (or of one ``split``) as an Arrow IPC stream, sent chunk by
    chunk as they are read from the store."""
    if split is not None:
        whole = splits.split_rows(ctx, name, ref, split, project)
        batches = whole.to_batches(max_chunksize=SPLIT_BATCH_ROWS)
        tables = (pa.Table.from_batches([b]) for b in batches)
        return StreamingResponse(_ipc_stream(whole.schema, tables), media_type=ARROW_STREAM)
    tables = datasets.iter_tables(ctx, name, ref, project)
    # The first chunk is read here, so that a missing dataset or version is answered
    # with problem+json rather than with a stream that breaks off.
    first = next(tables, None)
    if first is None:  # not made by commits, which refuse empty tables
        raise InvalidInput(f"{name} {ref} has no rows")
    return StreamingResponse(
        _ipc_stream(first.schema, itertools.chain([first], tables)), media_type=ARROW_STREAM
    )


@router.get("/datasets/{name}/diff", response_class=NaNJSONResponse)
def diff_versions(
    name: str,
    old: str = Query(alias="from"),
    new: str = Query(alias="to"),
    project: str | None = None,
    limit: int = Query(table_diff.PAGE, ge=0, le=10_000),
    offset: int = Query(0, ge=0),
    ctx: Context = Depends(context),
) -> NaNJSONResponse:
    """Rows added, removed and changed from version ``from`` to ``to``: counts, schema
    changes and a page (``limit``, ``offset``) of each kind of row."""
    result = table_diff.diff(ctx, name, old, new, project=project, limit=limit, offset=offset)
    return NaNJSONResponse(result)


@router.post("/datasets/{name}/versions/{ref}/split", response_model=SplitOut, status_code=201)
def split_version(
    name: str, ref: str, body: SplitIn, project: str | None = None, ctx: Context = Depends(context)
) -> SplitOut:
    """Assign the version's rows to splits, by ``ratios`` and ``seed`` or by a ``column``."""
    return SplitOut.of(
        splits.split(
            ctx,
            name,
            ref,
            ratios=body.ratios,
            seed=body.seed,
            column=body.column,
            project=project,
        )
    )


@router.get("/datasets/{name}/versions/{ref}/leakage", response_class=NaNJSONResponse)
def split_leakage(
    name: str, ref: str, project: str | None = None, ctx: Context = Depends(context)
) -> NaNJSONResponse:
    """Rows whose content sits in more than one split of the version, with examples."""
    return NaNJSONResponse(splits.leakage(ctx, name, ref, project))
