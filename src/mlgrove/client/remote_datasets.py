"""The remote implementation of :class:`mlgrove.client.datasets.Datasets`.

``add`` cuts the table into chunks here, with the same code the server uses (read →
row hashes → content-defined chunks → content ids), and sends only what the server
lacks, window by window, never holding more than a window of chunks in memory:

1. ``POST /chunks/known``: which content ids some version has already;
2. the others are encoded (Parquet) and addressed by the BLAKE3 of their bytes;
   ``POST /objects/missing``: which of those addresses the store lacks (an interrupted
   upload may have left some there);
3. ``PUT /objects/{address}`` for each missing one, a few at a time;
4. ``POST /datasets/{name}/versions`` with the ordered list of ``[content id, address]``.

So adding a few rows to a big table sends a chunk or two, and running an interrupted
``add`` again sends only what did not arrive. The pure Arrow code (``mlgrove.tabular``)
is imported on first use, so a remote client that never touches tables stays light.
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgrove.client import wire
from mlgrove.client.datasets import Datasets
from mlgrove.domain.datasets import Dataset, DatasetKind, Split, Version
from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgrove.client.http import RemoteClient
    from mlgrove.tabular.readers import Source

#: Chunks decided together: one ``/chunks/known`` and one ``/objects/missing`` request
#: per window. Memory holds at most one window of chunks (and their encoded bytes).
WINDOW_CHUNKS = 16
WINDOW_ROWS = 1 << 20
UPLOAD_THREADS = 4
#: Committing re-reads every chunk on the server; big tables take a while.

Progress = Callable[[int], None]


@dataclass
class UploadStats:
    """What the last remote ``add`` sent (``RemoteDatasets.last_upload``)."""

    rows: int = 0
    chunks: int = 0  #: chunks in the table
    known: int = 0  #: chunks some version had already: nothing sent
    present: int = 0  #: new chunks whose object the store had (an earlier, interrupted add)
    sent: int = 0  #: objects uploaded by this add
    sent_bytes: int = 0


def _dataset(d: dict[str, Any]) -> Dataset:
    return Dataset(
        id=d["id"],
        project=d["project"],
        name=d["name"],
        kind=DatasetKind(d["kind"]),
        key_columns=list(d["key_columns"]),
        label_column=d["label_column"],
        description=d["description"],
        created_at=wire.parse_time(d["created_at"]),
    )


def _version(d: dict[str, Any]) -> Version:
    return Version(
        dataset=d["dataset"],
        number=d["number"],
        address=d["address"],
        parent=d["parent"],
        message=d["message"],
        author=d["author"],
        source=d["source"],
        rows=d["rows"],
        bytes=d["bytes"],
        new_bytes=d["new_bytes"],
        schema=list(d["schema"]),
        created_at=wire.parse_time(d["created_at"]),
        stats=dict(d["stats"]),
    )


def _split(d: dict[str, Any]) -> Split:
    return Split(
        version=d["version"],
        spec=dict(d["spec"]),
        counts=dict(d["counts"]),
        origin=d["origin"],
        moved_rows=d["moved_rows"],
        created_by=d["created_by"],
        created_at=wire.parse_time(d["created_at"]),
    )


class _BodyReader(io.RawIOBase):
    """A file over a streamed response body, for ``pyarrow.ipc.open_stream``."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self._parts = parts
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not len(self._buffer):
            part = next(self._parts, None)
            if part is None:
                return 0
            self._buffer = memoryview(part)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


class _Uploader:
    """Takes chunks in row order; sends the ones the server lacks, a window at a time."""

    def __init__(self, client: RemoteClient, pool: ThreadPoolExecutor, stats: UploadStats):
        self.client = client
        self.pool = pool
        self.stats = stats
        self.listed: list[tuple[str, str]] = []  # (content id, address) in row order
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._resolved: dict[str, str] = {}  # content id -> address, for repeated chunks

    def push(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if len(self._pending) >= WINDOW_CHUNKS or self._pending_rows >= WINDOW_ROWS:
            self.flush()

    def flush(self) -> None:
        from mlgrove.tabular import chunks as chunkio

        tables, self._pending, self._pending_rows = self._pending, [], 0
        if not tables:
            return
        self.stats.chunks += len(tables)
        cids = list(self.pool.map(chunkio.content_id, tables))
        asking = [c for c in dict.fromkeys(cids) if c not in self._resolved]
        known: dict[str, str] = {}
        if asking:
            known = self.client._call("POST", "/chunks/known", json={"content_ids": asking})[
                "known"
            ]
        self._resolved.update(known)
        self.stats.known += sum(1 for c in cids if c in known)
        # The rest: encode (in parallel; Arrow and zstd release the GIL) to learn their
        # addresses, then send the objects the store does not hold.
        new = {c: t for c, t in zip(cids, tables, strict=True) if c not in self._resolved}
        encoded = dict(zip(new, self.pool.map(chunkio.encode, new.values()), strict=True))
        addresses = {c: _address(data) for c, data in encoded.items()}
        missing = wire.missing_objects(self.client, addresses.values())
        self.stats.present += sum(1 for c in new if addresses[c] not in missing)
        sends = {addresses[c]: encoded[c] for c in new if addresses[c] in missing}
        for size in self.pool.map(lambda item: self._put(*item), sends.items()):
            self.stats.sent += 1
            self.stats.sent_bytes += size
        self._resolved.update(addresses)
        self.listed.extend((c, self._resolved[c]) for c in cids)

    def _put(self, address: str, data: bytes) -> int:
        wire.put_object(self.client, address, data, len(data))
        return len(data)


def _address(data: bytes) -> str:
    import blake3

    return str(blake3.blake3(data).hexdigest())


def _chunks(source: Source, progress: Progress | None, stats: UploadStats) -> Iterator[pa.Table]:
    """The source's rows cut into chunks exactly as the server's commit cuts them.

    Keys and labels are checked by the server only, so that every message is the one a
    local commit gives; the chunks do not depend on them, so after a refused commit the
    corrected ``add`` sends nothing again.
    """
    import pyarrow as pa

    from mlgrove.tabular import chunks as chunkio
    from mlgrove.tabular import schema as schemas
    from mlgrove.tabular.chunker import RowChunker
    from mlgrove.tabular.rowhash import row_hashes

    schema = schemas.normalize(source.schema)
    chunker = RowChunker()
    for batch in source.batches:
        if batch.num_rows == 0:
            continue
        if batch.schema != schema:
            try:
                batch = batch.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise InvalidInput(f"{source.name}: rows do not fit the columns: {exc}") from None
        for table, _ in chunker.push(batch, row_hashes(batch)):
            yield chunkio.contiguous(table)
        stats.rows += batch.num_rows
        if progress is not None:
            progress(batch.num_rows)
    for table, _ in chunker.finish():
        yield chunkio.contiguous(table)


class RemoteDatasets(Datasets):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client
        #: What the last ``add`` read and sent.
        self.last_upload: UploadStats | None = None

    def _path(self, name: str, *rest: str) -> str:
        return "/".join(["/datasets", wire.q(name), *(wire.q(r) for r in rest)])

    def add(
        self,
        name: str,
        data: str | os.PathLike[str] | Any,
        *,
        key: Sequence[str] | None = None,
        label: str | None = None,
        message: str = "",
        project: str | None = None,
        allow_schema_change: bool = False,
        fmt: str | None = None,
        progress: Progress | None = None,
    ) -> Version:
        """Commit a new version, sending only the chunks the server lacks.

        Remote-only extras: ``fmt`` names a file's format (default: from its extension)
        and ``progress`` is called with the number of rows read, batch by batch.
        ``last_upload`` says afterwards how many chunks were sent.
        """
        listed, source_name = self._upload(data, fmt, progress)
        body = {
            "chunks": listed,
            "key": list(key) if key is not None else None,
            "label": label,
            "message": message,
            "allow_schema_change": allow_schema_change,
            "source_name": source_name,
            "project": project,
        }
        return _version(
            self._client._call("POST", self._path(name, "versions"), json=body, timeout=wire.SLOW)
        )

    def _upload(
        self, data: str | os.PathLike[str] | Any, fmt: str | None, progress: Progress | None
    ) -> tuple[builtins.list[tuple[str, str]], str]:
        """Cut ``data`` into chunks and send the ones the server lacks; their list."""
        from mlgrove.tabular import readers

        def upload(source: Source) -> tuple[list[tuple[str, str]], str]:
            stats = self.last_upload = UploadStats()
            pool = ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="grove-upload")
            try:
                uploader = _Uploader(self._client, pool, stats)
                for table in _chunks(source, progress, stats):
                    uploader.push(table)
                uploader.flush()
            finally:
                # After a failure, uploads not yet started are dropped, not attempted.
                pool.shutdown(wait=True, cancel_futures=True)
            return uploader.listed, source.name

        if isinstance(data, str | os.PathLike):
            listed, source_name = readers.read_with_retry(Path(data), fmt, upload)
        else:
            listed, source_name = upload(readers.from_object(data))
        if not listed:
            raise InvalidInput(
                f"{source_name} has no rows", hint="a version needs at least one row"
            )
        return listed, source_name

    def append(
        self,
        name: str,
        rows: str | os.PathLike[str] | Any,
        *,
        message: str = "",
        project: str | None = None,
        fmt: str | None = None,
        progress: Progress | None = None,
    ) -> Version:
        """Append rows, sending only the chunks of the new rows the server lacks."""
        listed, source_name = self._upload(rows, fmt, progress)
        body = {
            "chunks": listed,
            "message": message,
            "source_name": source_name,
            "project": project,
        }
        return _version(
            self._client._call("POST", self._path(name, "append"), json=body, timeout=wire.SLOW)
        )

    def list(self, project: str | None = None) -> builtins.list[tuple[Dataset, Version | None]]:
        return [
            (_dataset(d["dataset"]), _version(d["latest"]) if d["latest"] else None)
            for d in self._client._call("GET", "/datasets", params=wire.params(project=project))
        ]

    def log(
        self, name: str, *, project: str | None = None, limit: int = 100
    ) -> builtins.list[Version]:
        params = wire.params(project=project, limit=limit)
        return [
            _version(d)
            for d in self._client._call("GET", self._path(name, "versions"), params=params)
        ]

    def show(self, name: str, version: str = "latest", *, project: str | None = None) -> Version:
        path = self._path(name, "versions", version)
        return _version(self._client._call("GET", path, params=wire.params(project=project)))

    def read(
        self,
        name: str,
        version: str = "latest",
        *,
        split: str | None = None,
        project: str | None = None,
    ) -> pa.Table:
        import pyarrow.ipc as ipc

        path = self._path(name, "versions", version, "rows")
        params = wire.params(project=project, split=split)
        with self._client._stream("GET", path, params=params, timeout=wire.SLOW) as response:
            # Buffered: Arrow expects read(n) to give n bytes unless the stream ends.
            body = io.BufferedReader(_BodyReader(response.iter_bytes()), 1 << 20)
            reader = ipc.open_stream(body)
            return reader.read_all()

    def diff(
        self,
        name: str,
        old: str,
        new: str,
        *,
        project: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        params = wire.params(
            project=project, limit=limit, offset=offset, **{"from": old, "to": new}
        )
        result: dict[str, Any] = self._client._call(
            "GET", self._path(name, "diff"), params=params, timeout=wire.SLOW
        )
        return result

    def split(
        self,
        name: str,
        version: str,
        *,
        ratios: dict[str, float] | None = None,
        seed: int = 0,
        column: str | None = None,
        project: str | None = None,
    ) -> Split:
        body = {"ratios": ratios, "column": column, "seed": seed}
        path = self._path(name, "versions", version, "split")
        return _split(
            self._client._call(
                "POST", path, json=body, params=wire.params(project=project), timeout=wire.SLOW
            )
        )

    def leakage(self, name: str, version: str, *, project: str | None = None) -> dict[str, Any]:
        path = self._path(name, "versions", version, "leakage")
        result: dict[str, Any] = self._client._call(
            "GET", path, params=wire.params(project=project), timeout=wire.SLOW
        )
        return result
