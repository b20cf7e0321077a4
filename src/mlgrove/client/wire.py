"""Small pieces every remote area of the SDK shares: path quoting, query parameters,
timestamps, and storing an object on the server (``PUT /objects/{address}``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

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
