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
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from mlgrove.domain.authz import Action
from mlgrove.server.api.dataset_schemas import KnownIn, KnownOut, MissingIn, MissingOut, ObjectOut
from mlgrove.server.deps import context
from mlgrove.server.errors import problem
from mlgrove.services import chunked_upload, table_commit, table_upload
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


# -- uploads in parts (objects over MAX_OBJECT_BYTES) -----------------------------------


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(description="The BLAKE3 hash of the whole object.")
    size: int = Field(description="The object's size in bytes.")


class UploadOut(BaseModel):
    address: str
    size: int
    part_size: int = Field(description="Every part but the last has exactly this many bytes.")
    parts: int
    received: list[int] = Field(description="The part numbers (from 1) the server holds.")
    stored: bool = Field(description="True when the store holds the object: send nothing.")

    @classmethod
    def of(cls, u: chunked_upload.Upload) -> UploadOut:
        return cls(
            address=u.address,
            size=u.size,
            part_size=u.part_size,
            parts=u.parts,
            received=sorted(n for n, size in u.received.items() if size == u.part_bytes(n)),
            stored=u.stored,
        )


class PartOut(BaseModel):
    number: int
    size: int


@router.post("/uploads", response_model=UploadOut)
def begin_upload(body: UploadIn, ctx: Context = Depends(context)) -> UploadOut:
    """Open the upload of an object in parts, or resume it: ``received`` lists the parts
    the server has already, so a client sends only the others."""
    return UploadOut.of(chunked_upload.begin(ctx, body.address, body.size))


@router.get("/uploads/{address}", response_model=UploadOut)
def upload_status(address: str, ctx: Context = Depends(context)) -> UploadOut:
    """An upload in progress: its part size and the parts received."""
    return UploadOut.of(chunked_upload.status(ctx, address))


@router.put("/uploads/{address}/parts/{number}", response_model=PartOut)
async def put_part(
    address: str, number: int, request: Request, ctx: Context = Depends(context)
) -> PartOut | Response:
    """Part ``number`` (from 1) of an upload (``application/octet-stream``): exactly
    ``part_size`` bytes, fewer for the last part. Sending a part again replaces it."""
    ctx.require(Action.WRITE_DATA)
    check_address(address)
    limit = ctx.settings.upload_part_bytes
    fd, name = tempfile.mkstemp(prefix="grove-part-", suffix=".part")
    tmp = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for block in request.stream():
                size += len(block)
                if size > limit:
                    return _too_large(f"more than the part size {limit}")
                out.write(block)

        def blocks() -> Iterator[bytes]:
            with tmp.open("rb") as f:
                while block := f.read(1 << 20):
                    yield block

        got = await run_in_threadpool(chunked_upload.put_part, ctx, address, number, blocks())
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return PartOut(number=number, size=got)


@router.post("/uploads/{address}/complete", response_model=ObjectOut)
def complete_upload(address: str, ctx: Context = Depends(context)) -> ObjectOut:
    """Join the parts, check the whole against its BLAKE3 address and store the object.
    A mismatch discards the upload (400) and stores nothing."""
    stored = chunked_upload.complete(ctx, address)
    return ObjectOut(address=stored.address, size=stored.size, new=stored.new)
