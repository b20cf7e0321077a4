"""Small pieces every remote area of the SDK shares: path quoting, query parameters,
timestamps, and storing an object on the server (``PUT /objects/{address}``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from mlgrove.errors import ObjectCorrupt

if TYPE_CHECKING:
    from mlgrove.client.http import RemoteClient

#: For uploads and long reads: connecting stays quick, moving data may take a while.
SLOW = httpx.Timeout(30.0, read=3600.0, write=600.0)


def q(text: str) -> str:
    """One path segment, quoted (names may hold spaces or slashes)."""
    return quote(text, safe="")


def params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left unset."""
    return {k: v for k, v in values.items() if v is not None}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def missing_objects(client: RemoteClient, addresses: Iterable[str]) -> set[str]:
    """Which of these object addresses the server's store lacks."""
    wanted = sorted(set(addresses))
    if not wanted:
        return set()
    answer = client._call("POST", "/objects/missing", json={"addresses": wanted})
    return set(answer["missing"])


def put_object(client: RemoteClient, address: str, content: Any, size: int) -> None:
    """Upload bytes (or an iterator of blocks) as the object ``address``; the server
    checks that they hash to it."""
    client._call(
        "PUT",
        f"/objects/{address}",
        content=content,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        timeout=SLOW,
    )


#: The largest object one ``PUT /objects/{address}`` may carry; bigger ones go in parts.
SINGLE_PUT_MAX = 256 << 20


def _file_blocks(path: Path, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    left = path.stat().st_size - start if length is None else length
    with path.open("rb") as f:
        f.seek(start)
        while left > 0 and (block := f.read(min(1 << 20, left))):
            left -= len(block)
            yield block


def upload_file(client: RemoteClient, address: str, path: Path) -> None:
    """Upload a file as object ``address``: in one request, or, above
    :data:`SINGLE_PUT_MAX`, in parts that resume where a broken upload stopped (the
    server checks the BLAKE3 hash of the whole at the end)."""
    size = path.stat().st_size
    if size <= SINGLE_PUT_MAX:
        put_object(client, address, _file_blocks(path), size)
        return
    upload = client._call("POST", "/uploads", json={"address": address, "size": size})
    if upload["stored"]:
        return
    have = set(upload["received"])
    part_size = int(upload["part_size"])
    for number in range(1, int(upload["parts"]) + 1):
        if number in have:
            continue
        start = (number - 1) * part_size
        length = min(part_size, size - start)
        client._call(
            "PUT",
            f"/uploads/{address}/parts/{number}",
            content=_file_blocks(path, start, length),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(length)},
            timeout=SLOW,
        )
    client._call("POST", f"/uploads/{address}/complete", timeout=SLOW)


def download_verified(blocks: Iterable[bytes], address: str, target: Path) -> None:
    """Write downloaded bytes to ``target`` only if they hash to ``address`` (BLAKE3);
    otherwise nothing is written and :class:`ObjectCorrupt` is raised."""
    import blake3

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        hasher = blake3.blake3()
        with os.fdopen(fd, "wb") as out:
            for block in blocks:
                hasher.update(block)
                out.write(block)
        if hasher.hexdigest() != address:
            raise ObjectCorrupt(
                f"{target.name}: the downloaded bytes do not hash to {address}",
                hint="download it again; if it persists, run `mlgrove fsck` on the server",
            )
        os.replace(name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
