"""A server whose store holds packed objects still receives only what it lacks.

A real HTTP server on SQLite and PostgreSQL; the objects are packed because the server's
workspace stored them in a batch (a folder add, a table commit).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import blake3
import httpx
import pandas as pd
import pytest

import mlgrove
from mlgrove.domain.people import Person
from mlgrove.services import filesets, table_commit
from mlgrove.services.context import Runtime
from mlgrove.store.objects import LocalObjectStore
from mlgrove.testing.factories import Factories


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts object uploads."""

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path.startswith("/api/v1/objects/"):
            with self._lock:
                self.puts += 1
        return super().handle_request(request)


@pytest.fixture
def admin(grove_factories: Factories) -> Person:
    return grove_factories.person("ana", role="admin")


@pytest.fixture
def http(
    grove_live_server: str, grove_factories: Factories, admin: Person
) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {grove_factories.token(admin).secret}"}
    with httpx.Client(base_url=grove_live_server + "/api/v1", headers=headers) as client:
        yield client


def store_of(runtime: Runtime) -> LocalObjectStore:
    assert isinstance(runtime.objects, LocalObjectStore)
    return runtime.objects


def address(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def test_packed_objects_are_present_to_the_upload_protocol(
    http: httpx.Client,
    grove_runtime: Runtime,
    grove_factories: Factories,
    tmp_path: Path,
) -> None:
    grove_runtime.settings = grove_runtime.settings.with_overrides(
        cache_dir=str(tmp_path / "cache")
    )
    folder = tmp_path / "photos"
    folder.mkdir()
    contents = [f"photo {i}".encode() * 50 for i in range(40)]
    old = time.time() - 3600
    for i, content in enumerate(contents):
        (folder / f"{i:03d}.jpg").write_bytes(content)
        os.utime(folder / f"{i:03d}.jpg", (old, old))
    filesets.add_folder(grove_factories.admin_ctx, "photos", folder)
    store = store_of(grove_runtime)
    packed = [address(c) for c in contents]
    assert all(store.packs.locate(bytes.fromhex(a)) is not None for a in packed)

    absent = address(b"never uploaded")
    got = http.post("/objects/missing", json={"addresses": [*packed, absent]})
    assert got.status_code == 200, got.text
    assert got.json()["missing"] == [absent]

    # Uploading a packed object again stores nothing: 200, not new, no loose copy.
    again = http.put(
        f"/objects/{packed[3]}",
        content=contents[3],
        headers={"Content-Type": "application/octet-stream"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["new"] is False
    assert not (store.root / packed[3][:2] / packed[3][2:]).exists()


def test_a_remote_add_sends_only_chunks_the_packed_store_lacks(
    grove_live_server: str,
    grove_runtime: Runtime,
    grove_factories: Factories,
    admin: Person,
) -> None:
    grove_factories.project("support")
    table = pd.DataFrame({"id": range(3000), "text": [f"ticket {i}" for i in range(3000)]})
    # Committed on the server's own workspace: its chunks are packed there.
    first = table_commit.commit(
        grove_factories.admin_ctx, "local", table, project="support", key=["id"]
    )
    store = store_of(grove_runtime)
    loose = {p.parent.name + p.name for p in store.root.glob("??/*")}
    packed = {d.hex() for d in store.packs.digests()}
    assert packed  # the chunks and their sidecars
    assert set(store.iter_addresses()) == packed | loose
    assert first.rows == 3000

    secret = grove_factories.token(admin).secret
    same = CountingTransport()
    with mlgrove.connect(grove_live_server, token=secret, transport=same) as grove:
        copy = grove.datasets.add("copy", table, project="support", key=["id"])
    assert same.puts == 0  # every chunk is in a pack on the server already
    assert copy.rows == 3000

    more = CountingTransport()
    grown = pd.concat(
        [table, pd.DataFrame({"id": [10**6], "text": ["new ticket"]})], ignore_index=True
    )
    with mlgrove.connect(grove_live_server, token=secret, transport=more) as grove:
        v2 = grove.datasets.add("copy", grown, project="support")
        back = grove.datasets.read("copy", project="support")
    assert 1 <= more.puts <= 2  # only the changed tail
    assert v2.rows == 3001
    assert back.num_rows == 3001
