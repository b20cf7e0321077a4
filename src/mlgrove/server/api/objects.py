"""The chunk upload protocol: which chunks the server has, and uploading the others.

A remote ``add`` cuts its table into chunks on the client with the same code as the
server, asks ``POST /chunks/known`` which chunks some version has already and
``POST /objects/missing`` which of the rest are not in the store (an interrupted upload
left some there), sends only those with ``PUT /objects/{address}``, then commits the
list (``POST /datasets/{name}/versions``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from mlgrove.domain.authz import Action
from mlgrove.server.api.dataset_schemas import KnownIn, KnownOut, MissingIn, MissingOut, ObjectOut
from mlgrove.server.deps import context
from mlgrove.server.errors import problem
from mlgrove.services import table_commit, table_upload
from mlgrove.services.context import Context
from mlgrove.store.objects import check_address

router = APIRouter(tags=["objects"])

#: The largest object one PUT may carry. A chunk holds at most 262,144 rows as
#: compressed Parquet, so only tables of very wide rows come near it.
MAX_OBJECT_BYTES = 256 << 20


@router.post("/chunks/known", response_model=KnownOut)
def known_chunks(body: KnownIn, ctx: Context = Depends(context)) -> KnownOut:
    """Which of these chunk content ids a version has already, with their object addresses."""
    return KnownOut(known=table_commit.known_chunks(ctx, body.content_ids))


@router.post("/objects/missing", response_model=MissingOut)
def missing_objects(body: MissingIn, ctx: Context = Depends(context)) -> MissingOut:
    """Which of these object addresses the store does not hold (uploaded or not, referenced
    or not): what a resumed upload still has to send."""
    return MissingOut(missing=table_upload.missing_objects(ctx, body.addresses))


def _too_large(size: int | str) -> Response:
    return problem(
        413,
        "too-large",
        "Object too large",
        f"an object may have at most {MAX_OBJECT_BYTES} bytes, this one has {size}",
        hint="split the table into smaller rows or files, or raise the limit on the server",
    )


@router.put(
    "/objects/{address}",
    response_model=ObjectOut,
    status_code=201,
    responses={200: {"model": ObjectOut, "description": "The store had the object already."}},
)
async def put_object(address: str, request: Request, ctx: Context = Depends(context)) -> Response:
    """Store the request body (``application/octet-stream``) under ``address``, which must
    be the BLAKE3 hash of the body. Idempotent: 201 when stored, 200 when it was there."""
    ctx.require(Action.WRITE_DATA)  # before reading a body the service would refuse
    check_address(address)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_OBJECT_BYTES:
        return _too_large(declared)
    # The body streams to a temporary file: memory stays small whatever its size.
    fd, name = tempfile.mkstemp(prefix="grove-upload-", suffix=".part")
    tmp = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for block in request.stream():
                size += len(block)
                if size > MAX_OBJECT_BYTES:
                    return _too_large(f"more than {MAX_OBJECT_BYTES}")
                out.write(block)
        stored = await run_in_threadpool(table_upload.receive_object, ctx, address, tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    body = ObjectOut(address=stored.address, size=stored.size, new=stored.new)
    return Response(
        body.model_dump_json(),
        status_code=201 if stored.new else 200,
        media_type="application/json",
    )
