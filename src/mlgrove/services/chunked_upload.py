"""Uploading one large object in parts that survive a broken connection.

A single ``PUT /objects/{address}`` carries at most 256 MiB. A bigger object (a model
artifact) goes in parts: the client opens an upload for its address and size
(:func:`begin`), the server says its part size and which parts it has already (so a
client that lost its connection sends only the rest), the client sends the missing
parts (:func:`put_part`), and :func:`complete` joins them, checks that the whole hashes
to the address (BLAKE3) and only then stores the object.

Parts wait under ``<cache_dir>/uploads/<address>/``, one file each, written to a
temporary name and renamed, so a part on disk is always whole. The upload is keyed by
the content address: two clients sending the same bytes share it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import blake3

from mlgrove.domain.authz import Action
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services.context import Context
from mlgrove.store.objects import Stored, check_address

#: The largest object Grove takes at all (uploaded in parts): 1 TiB.
MAX_TOTAL_BYTES = 1 << 40

#: An upload that received nothing for this long is abandoned: its parts are deleted
#: when the next upload begins. A week lets a laptop resume after a long weekend.
ABANDONED_AFTER_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Upload:
    address: str
    size: int
    part_size: int
    #: Part number (from 1) -> bytes received, for the parts the server holds.
    received: dict[int, int]
    #: True when the store holds the object already: nothing to send.
    stored: bool = False

    @property
    def parts(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_bytes(self, number: int) -> int:
        """How many bytes part ``number`` must have."""
        if number == self.parts:
            return self.size - (self.parts - 1) * self.part_size
        return self.part_size


def _root(ctx: Context) -> Path:
    return Path(ctx.settings.cache_dir).expanduser() / "uploads"


def _folder(ctx: Context, address: str) -> Path:
    return _root(ctx) / check_address(address)


def _part(folder: Path, number: int) -> Path:
    return folder / f"part-{number:06d}"


def _state(ctx: Context, address: str) -> Upload:
    folder = _folder(ctx, address)
    try:
        meta = json.loads((folder / "upload.json").read_text())
    except (FileNotFoundError, ValueError):
        raise NotFound(
            f"no upload in progress for {address}", hint="start one with POST /uploads"
        ) from None
    received = {}
    for p in folder.glob("part-*"):
        if p.name[5:].isdigit():
            received[int(p.name[5:])] = p.stat().st_size
    return Upload(
        address, int(meta["size"]), int(meta["part_size"]), dict(sorted(received.items()))
    )


def begin(ctx: Context, address: str, size: int) -> Upload:
    """Open (or resume) the upload of object ``address`` of ``size`` bytes."""
    ctx.require(Action.WRITE_DATA)
    check_address(address)
    if not 0 < size <= MAX_TOTAL_BYTES:
        raise InvalidInput(f"an upload has 1 to {MAX_TOTAL_BYTES} bytes, not {size}")
    part_size = ctx.settings.upload_part_bytes
    if ctx.objects.exists(address):
        return Upload(address, size, part_size, {}, stored=True)
    folder = _folder(ctx, address)
    prune_abandoned(ctx, keep=address)
    with contextlib.suppress(NotFound):
        current = _state(ctx, address)
        if (current.size, current.part_size) == (size, part_size):
            return current
        # Same content, other size or part size: the old parts cannot be reused.
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / "upload.json"
    meta.write_text(json.dumps({"size": size, "part_size": part_size}))
    return Upload(address, size, part_size, {})


def prune_abandoned(ctx: Context, keep: str = "", now: float | None = None) -> list[str]:
    """Delete the parts of uploads that received nothing for ``ABANDONED_AFTER_SECONDS``.

    Without this, a client that gives up mid-upload leaves its parts on the server's disk
    for good. Run whenever an upload begins (a scan of one folder per open upload, so
    cheap); returns the addresses whose parts were deleted.
    """
    root = _root(ctx)
    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER_SECONDS
    pruned = []
    try:
        folders = [f for f in root.iterdir() if f.is_dir() and f.name != keep]
    except FileNotFoundError:
        return []
    for folder in folders:
        try:
            newest = max(p.stat().st_mtime for p in [folder, *folder.iterdir()])
        except (FileNotFoundError, ValueError):
            continue  # finished (and removed) by another request while we looked
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            pruned.append(folder.name)
    return pruned


def put_part(ctx: Context, address: str, number: int, blocks: Iterable[bytes]) -> int:
    """Keep part ``number`` (from 1) of an open upload; returns its size. Sending a part
    again replaces it. A part of the wrong size is refused and nothing is kept."""
    ctx.require(Action.WRITE_DATA)
    upload = _state(ctx, address)
    if not 1 <= number <= upload.parts:
        raise InvalidInput(f"part {number} is out of range: this upload has {upload.parts} parts")
    wanted = upload.part_bytes(number)
    folder = _folder(ctx, address)
    fd, name = tempfile.mkstemp(prefix=".part-", dir=folder)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for block in blocks:
                size += len(block)
                if size > wanted:
                    break
                out.write(block)
        if size != wanted:
            raise InvalidInput(
                f"part {number} must have {wanted} bytes, this one has "
                f"{'more' if size > wanted else size}",
                hint=f"cut the object into parts of {upload.part_size} bytes",
            )
        os.replace(name, _part(folder, number))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    return size


def status(ctx: Context, address: str) -> Upload:
    ctx.require(Action.WRITE_DATA)
    return _state(ctx, address)


def complete(ctx: Context, address: str) -> Stored:
    """Join the parts, check the BLAKE3 hash of the whole and store the object. A hash
    that does not match discards the upload (its parts cannot be trusted)."""
    ctx.require(Action.WRITE_DATA)
    try:
        upload = _state(ctx, address)
    except NotFound:
        if ctx.objects.exists(address):  # another client sending the same bytes finished
            return Stored(address=address, size=ctx.objects.size(address), new=False)
        raise
    missing = [
        n for n in range(1, upload.parts + 1) if upload.received.get(n) != upload.part_bytes(n)
    ]
    if missing:
        raise InvalidInput(
            f"the upload of {address} lacks {len(missing)} of {upload.parts} parts "
            f"(first: part {missing[0]})",
            hint="send the missing parts, then complete it again",
        )
    folder = _folder(ctx, address)
    joined = folder / ".joined"
    hasher = blake3.blake3()
    with joined.open("wb") as out:
        for n in range(1, upload.parts + 1):
            with _part(folder, n).open("rb") as part:
                while block := part.read(1 << 20):
                    hasher.update(block)
                    out.write(block)
    actual = str(hasher.hexdigest())
    if actual != address:
        shutil.rmtree(folder, ignore_errors=True)
        raise InvalidInput(
            f"the joined parts hash to {actual}, not the address {address}",
            hint="the upload was damaged or the address is wrong; upload it again",
        )
    stored = ctx.objects.put_file(joined)
    shutil.rmtree(folder, ignore_errors=True)
    return stored
