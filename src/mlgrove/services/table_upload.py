"""Committing a table a remote client uploaded as chunks.

The client cuts its table into chunks with the same code a local commit uses, asks
which chunks the server has (:func:`table_commit.known_chunks`, :func:`missing_objects`),
uploads the others (:func:`receive_object`) and then names them all, in order
(:func:`commit_uploaded`). The commit decodes the chunks and runs the ordinary
:func:`table_commit.commit` over their rows, so it cuts, hashes and checks them itself:
content ids, keys, statistics and splits never rest on what the client claims.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import Version
from mlgrove.errors import InvalidInput, ObjectMissing
from mlgrove.services import table_append, table_commit
from mlgrove.services.context import Context
from mlgrove.store.objects import Stored, check_address, hash_file
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular import readers

RUN_AGAIN = "the upload did not finish: run the same add again; it sends only what is missing"


def missing_objects(ctx: Context, addresses: Sequence[str]) -> list[str]:
    """The addresses the object store does not hold, referenced by a version or not:
    what a resumed upload still has to send."""
    ctx.require(Action.WRITE_DATA)
    wanted = [check_address(a) for a in dict.fromkeys(addresses)]
    return [a for a in wanted if not ctx.objects.exists(a)]


def receive_object(ctx: Context, address: str, path: Path) -> Stored:
    """Store the uploaded file ``path`` as object ``address``, which must be the BLAKE3
    hash of its bytes (else nothing is stored). Idempotent."""
    ctx.require(Action.WRITE_DATA)
    check_address(address)
    actual = hash_file(path)
    if actual != address:
        raise InvalidInput(
            f"the body's BLAKE3 hash is {actual}, not the address {address}",
            hint="the upload was damaged or the address is wrong; send it again",
        )
    return ctx.objects.put_file(path)


def _decode(ctx: Context, address: str) -> pa.Table:
    try:
        return chunkio.decode(ctx.objects.get_bytes(address))
    except ObjectMissing:
        raise InvalidInput(
            f"chunk object {address} vanished from the server during the commit", hint=RUN_AGAIN
        ) from None
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(
            f"object {address} is not a table chunk: {str(exc).splitlines()[0]}",
            hint="upload chunks with the Grove SDK or CLI (Parquet, one per chunk)",
        ) from None


def uploaded_source(ctx: Context, chunks: Sequence[tuple[str, str]], name: str) -> readers.Source:
    """The rows of the listed ``(content id, address)`` chunks, decoded one at a time."""
    if not chunks:
        raise InvalidInput(f"{name} has no rows", hint="a version needs at least one row")
    addresses = [check_address(address) for _, address in chunks]
    distinct = list(dict.fromkeys(addresses))
    missing = [a for a in distinct if not ctx.objects.exists(a)]
    if missing:
        raise InvalidInput(
            f"chunk object {missing[0]} is not on the server "
            f"({len(missing)} of {len(distinct)} missing)",
            hint=RUN_AGAIN,
        )
    first = _decode(ctx, addresses[0])

    def batches() -> Iterator[pa.RecordBatch]:
        yield from first.to_batches()
        for address in addresses[1:]:
            yield from _decode(ctx, address).to_batches()

    return readers.Source(name=name, batches=batches(), schema=first.schema)


def commit_uploaded(
    ctx: Context,
    name: str,
    chunks: Sequence[tuple[str, str]],
    *,
    source_name: str = "upload",
    project: str | None = None,
    key: Sequence[str] | None = None,
    label: str | None = None,
    message: str = "",
    allow_schema_change: bool = False,
) -> Version:
    """Commit a new version of ``name`` from uploaded chunks, exactly like a local commit
    of the same rows (``source_name`` stands for the file in messages and lineage)."""
    ctx.require(Action.WRITE_DATA)
    return table_commit.commit(
        ctx,
        name,
        uploaded_source(ctx, chunks, source_name),
        project=project,
        key=key,
        label=label,
        message=message,
        allow_schema_change=allow_schema_change,
    )


def append_uploaded(
    ctx: Context,
    name: str,
    chunks: Sequence[tuple[str, str]],
    *,
    source_name: str = "upload",
    project: str | None = None,
    message: str = "",
) -> Version:
    """Append the rows of uploaded chunks to ``name``'s latest version, exactly like a
    local append of the same rows."""
    ctx.require(Action.WRITE_DATA)
    return table_append.append(
        ctx, name, uploaded_source(ctx, chunks, source_name), project=project, message=message
    )
