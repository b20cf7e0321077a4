"""Datasets over HTTP: the REST API and the remote SDK give what the embedded SDK gives,
and remote commits send only the chunks the server lacks, resumably."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import mlgrove
from mlgrove.client.base import Client
from mlgrove.client.remote_datasets import RemoteDatasets
from mlgrove.domain.people import Person
from mlgrove.errors import NotFound, PermissionDenied, RemoteError
from mlgrove.server.api import objects as objects_api
from mlgrove.services import table_commit
from mlgrove.services.context import Runtime
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace


def tickets(n: int, start: int = 0) -> pd.DataFrame:
    ids = np.arange(start, start + n)
    return pd.DataFrame(
        {
            "id": ids,
            "text": [f"ticket {i} about {('billing', 'login', 'crash')[i % 3]}" for i in ids],
            "label": [("billing", "account", "bug")[i % 3] for i in ids],
            "score": (ids % 100) / 100.0,
        }
    )


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts object uploads, and can fail after ``allow`` of them
    (the network going away in the middle of an upload)."""

    def __init__(self, allow: int | None = None) -> None:
        super().__init__()
        self.allow = allow
        self.puts = 0
        self.put_bytes = 0
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.paths.append(f"{request.method} {request.url.path}")
            if request.method == "PUT" and request.url.path.startswith("/api/v1/objects/"):
                if self.allow is not None and self.puts >= self.allow:
                    raise httpx.ConnectError("the network went away", request=request)
                self.puts += 1
                self.put_bytes += len(request.content)
        return super().handle_request(request)


@pytest.fixture
def admin(grove_factories: Factories) -> Person:
    return grove_factories.person("ana", role="admin")


@pytest.fixture
def remote(grove_live_server: str, grove_factories: Factories, admin: Person) -> Iterator[Client]:
    with mlgrove.connect(grove_live_server, token=grove_factories.token(admin).secret) as client:
        yield client


def connect_counting(url: str, secret: str, transport: CountingTransport) -> Client:
    return mlgrove.connect(url, token=secret, transport=transport)


# -- the same answers in both modes ------------------------------------------------------


def _plain(value: Any, drop: set[str]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if k not in drop}
    return value


def scenario(grove: Client, folder: Path) -> dict[str, Any]:
    """Everything a user does with a dataset, as plain comparable values."""
    drop = {"created_at", "author", "created_by", "id"}
    seen: dict[str, Any] = {}
    base = tickets(5000)
    path = folder / "tickets.csv"
    base.to_csv(path, index=False)
    v1 = grove.datasets.add("tickets", path, key=["id"], label="label", message="first")
    seen["v1"] = _plain(v1, drop)
    back = grove.datasets.read("tickets", "v1")
    pd.testing.assert_frame_equal(back.to_pandas(), base, check_dtype=False)
    seen["v1 schema"] = str(back.schema)

    edited = base.copy()
    edited.loc[edited["id"] == 7, "label"] = "refund"
    edited = edited[edited["id"] != 8]
    copies = base.head(20).assign(id=np.arange(90_000, 90_020))  # same content, new keys
    v2_data = pd.concat([edited, tickets(300, start=10_000), copies], ignore_index=True)
    v2 = grove.datasets.add("tickets", v2_data, message="edits and more rows")
    seen["v2"] = _plain(v2, drop)
    seen["show"] = _plain(grove.datasets.show("tickets", "latest"), drop)
    seen["log"] = [_plain(v, drop) for v in grove.datasets.log("tickets")]
    seen["list"] = [(_plain(d, drop), _plain(v, drop)) for d, v in grove.datasets.list()]
    seen["read v2"] = grove.datasets.read("tickets", "v2").to_pylist()
    seen["diff"] = grove.datasets.diff("tickets", "v1", "v2", limit=5, offset=1)
    seen["split"] = _plain(
        grove.datasets.split("tickets", "v2", ratios={"train": 0.8, "test": 0.2}, seed=7), drop
    )
    seen["test rows"] = grove.datasets.read("tickets", "v2", split="test").to_pylist()
    seen["leakage"] = grove.datasets.leakage("tickets", "v2")
    for call in (
        lambda: grove.datasets.show("tickets", "v9"),
        lambda: grove.datasets.read("nope"),
        lambda: grove.datasets.read("tickets", "v1", split="test"),
        lambda: grove.datasets.add("tickets", tickets(10), key=["ticket_id"]),
        lambda: grove.datasets.add("tickets", tickets(10).drop(columns=["score"])),
    ):
        with pytest.raises(mlgrove.GroveError) as caught:
            call()
        seen.setdefault("errors", []).append(
            (type(caught.value).__name__, caught.value.message, caught.value.hint)
        )
    return seen


def test_embedded_and_remote_give_identical_results(
    grove_workspace: Workspace, remote: Client, tmp_path: Path
) -> None:
    with mlgrove.connect(grove_workspace.root) as embedded:
        expected = scenario(embedded, tmp_path)
    got = scenario(remote, tmp_path)
    assert got["errors"] == expected["errors"]
    assert got == expected
    # What the scenario checks, so a test that cannot fail does not pass by accident:
    assert expected["v2"]["rows"] == 5000 - 1 + 300 + 20
    assert (expected["diff"]["added"], expected["diff"]["removed"]) == (320, 1)
    assert expected["diff"]["changed"] == 1
    assert expected["split"]["counts"]["train"] + expected["split"]["counts"]["test"] == 5319
    assert expected["leakage"]["overlapping_rows"] > 0
    assert [e[0] for e in expected["errors"]] == [
        "NotFound",
        "NotFound",
        "NotFound",
        "InvalidInput",
        "InvalidInput",
    ]
    assert all(hint for _, _, hint in expected["errors"][:4])


# -- dedup over the wire, resumable uploads ----------------------------------------------


def test_appending_one_percent_uploads_only_the_tail(
    grove_live_server: str, grove_factories: Factories, admin: Person
) -> None:
    grove_factories.project("support")
    secret = grove_factories.token(admin).secret
    base = tickets(200_000)
    first = CountingTransport()
    with connect_counting(grove_live_server, secret, first) as grove:
        v1 = grove.datasets.add("big", base, key=["id"])
        assert isinstance(grove.datasets, RemoteDatasets)
        stats1 = grove.datasets.last_upload
    assert stats1 is not None
    assert first.puts == stats1.chunks == stats1.sent >= 4

    second = CountingTransport()
    with connect_counting(grove_live_server, secret, second) as grove:
        v2 = grove.datasets.add("big", pd.concat([base, tickets(2000, start=10**6)]))
        assert isinstance(grove.datasets, RemoteDatasets)
        stats2 = grove.datasets.last_upload
        back = grove.datasets.read("big")
    assert stats2 is not None
    assert 1 <= second.puts <= 2  # the changed tail chunk(s) only
    assert second.put_bytes < first.put_bytes * 0.25
    assert stats2.known + stats2.present + stats2.sent == stats2.chunks
    assert (v2.rows, v2.parent) == (202_000, v1.number)
    assert back.num_rows == 202_000
    assert back.column("id").to_pylist()[-1] == 10**6 + 1999

    third = CountingTransport()
    with connect_counting(grove_live_server, secret, third) as grove:
        same = grove.datasets.add("big", pd.concat([base, tickets(2000, start=10**6)]))
    assert third.puts == 0
    assert (same.name, same.address) == (v2.name, v2.address)  # nothing changed: no new version
    assert "PUT" not in {p.split()[0] for p in third.paths}


def test_an_interrupted_upload_resumes_with_what_is_missing(
    grove_live_server: str, grove_factories: Factories, admin: Person, tmp_path: Path
) -> None:
    grove_factories.project("support")
    secret = grove_factories.token(admin).secret
    data = tickets(200_000)
    path = tmp_path / "t.parquet"
    data.to_parquet(path, index=False)
    broken = CountingTransport(allow=3)
    with connect_counting(grove_live_server, secret, broken) as grove:
        with pytest.raises(RemoteError, match="network went away") as caught:
            grove.datasets.add("big", path, key=["id"])
        assert caught.value.status == 0
        with pytest.raises(NotFound):
            grove.datasets.log("big")  # nothing half-committed
    assert broken.puts == 3

    again = CountingTransport()
    with connect_counting(grove_live_server, secret, again) as grove:
        version = grove.datasets.add("big", path, key=["id"])
        assert isinstance(grove.datasets, RemoteDatasets)
        stats = grove.datasets.last_upload
        back = grove.datasets.read("big")
    assert stats is not None
    assert stats.present == 3
    assert again.puts == stats.sent == stats.chunks - 3
    assert version.rows == 200_000
    pd.testing.assert_frame_equal(back.to_pandas(), data, check_dtype=False)


# -- the protocol's guards ---------------------------------------------------------------


@pytest.fixture
def http(
    grove_live_server: str, grove_factories: Factories, admin: Person
) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {grove_factories.token(admin).secret}"}
    with httpx.Client(base_url=grove_live_server + "/api/v1", headers=headers) as client:
        yield client


def test_a_body_that_does_not_hash_to_its_address_is_refused(
    http: httpx.Client, grove_runtime: Runtime
) -> None:
    address = blake3.blake3(b"the real bytes").hexdigest()
    r = http.put(f"/objects/{address}", content=b"other bytes")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:mlgrove:problem:invalid-input"
    assert "not the address" in r.json()["detail"]
    assert not grove_runtime.objects.exists(address)
    assert http.post("/objects/missing", json={"addresses": [address]}).json() == {
        "missing": [address]
    }

    ok = http.put(f"/objects/{address}", content=b"the real bytes")
    assert (ok.status_code, ok.json()) == (201, {"address": address, "size": 14, "new": True})
    again = http.put(f"/objects/{address}", content=b"the real bytes")
    assert (again.status_code, again.json()["new"]) == (200, False)
    assert http.post("/objects/missing", json={"addresses": [address]}).json() == {"missing": []}

    bad = http.put("/objects/not-an-address", content=b"x")
    assert bad.status_code == 400
    assert "64 hex" in bad.json()["hint"]


def test_an_object_over_the_size_limit_gets_413(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch, grove_runtime: Runtime
) -> None:
    monkeypatch.setattr(objects_api, "MAX_OBJECT_BYTES", 1000)
    data = b"x" * 5000
    address = blake3.blake3(data).hexdigest()
    r = http.put(f"/objects/{address}", content=data)
    assert r.status_code == 413
    assert r.json()["type"] == "urn:mlgrove:problem:too-large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        for _ in range(5):
            yield b"x" * 1000

    r = http.put(f"/objects/{address}", content=chunked())
    assert r.status_code == 413
    assert not grove_runtime.objects.exists(address)


def test_committing_a_chunk_that_was_never_uploaded_says_to_run_again(
    http: httpx.Client, grove_factories: Factories
) -> None:
    grove_factories.project("support")
    ghost = blake3.blake3(b"never sent").hexdigest()
    body = {"chunks": [["c" * 64, ghost]], "source_name": "t.csv"}
    r = http.post("/datasets/t/versions", json=body)
    assert r.status_code == 400
    assert ghost in r.json()["detail"]
    assert "run the same add again" in r.json()["hint"]

    junk = b"not parquet at all"
    address = blake3.blake3(junk).hexdigest()
    assert http.put(f"/objects/{address}", content=junk).status_code == 201
    r = http.post("/datasets/t/versions", json={"chunks": [["c" * 64, address]]})
    assert r.status_code == 400
    assert "is not a table chunk" in r.json()["detail"]

    r = http.post("/datasets/t/versions", json={"chunks": [], "source_name": "empty.csv"})
    assert (r.status_code, r.json()["detail"]) == (400, "empty.csv has no rows")


def test_a_reviewer_may_read_but_not_upload_or_commit(
    grove_live_server: str, grove_factories: Factories, admin: Person
) -> None:
    project = grove_factories.project("support")
    table_commit.commit(grove_factories.admin_ctx, "t", tickets(100), project=project.name)
    reviewer = grove_factories.person("rita", role="reviewer")
    secret = grove_factories.token(reviewer).secret
    with mlgrove.connect(grove_live_server, token=secret) as grove:
        assert grove.datasets.read("t").num_rows == 100
        with pytest.raises(PermissionDenied, match="rita"):
            grove.datasets.add("t", tickets(10))
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=grove_live_server + "/api/v1", headers=headers) as http:
        data = b"bytes"
        address = blake3.blake3(data).hexdigest()
        assert http.put(f"/objects/{address}", content=data).status_code == 403
        assert http.post("/chunks/known", json={"content_ids": []}).status_code == 403
        assert http.post("/objects/missing", json={"addresses": [address]}).status_code == 403
        r = http.post("/datasets/t/versions", json={"chunks": [["c" * 64, address]]})
        assert r.status_code == 403
        assert r.json()["type"] == "urn:mlgrove:problem:permission-denied"
        split = http.post("/datasets/t/versions/v1/split", json={"ratios": {"a": 1.0}})
        assert split.status_code == 403


def test_unknown_datasets_and_versions_are_404_problems_with_a_hint(
    http: httpx.Client, grove_factories: Factories
) -> None:
    project = grove_factories.project("support")
    table_commit.commit(grove_factories.admin_ctx, "t", tickets(100), project=project.name)
    for path in (
        "/datasets/nope/versions",
        "/datasets/nope/versions/latest",
        "/datasets/t/versions/v7",
        "/datasets/t/versions/v7/rows",
        "/datasets/t/versions/v1/leakage",  # no split yet
    ):
        r = http.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["hint"], path
    r = http.get("/datasets", params={"project": "elsewhere"})
    assert (r.status_code, r.json()["detail"]) == (404, "no project named 'elsewhere'")
    r = http.get("/datasets/t/diff", params={"from": "v1", "to": "v3"})
    assert r.status_code == 404
    assert http.get("/datasets/t/versions/v0").status_code == 400


def test_rows_stream_chunk_by_chunk_as_arrow(
    http: httpx.Client, grove_factories: Factories
) -> None:
    project = grove_factories.project("support")
    data = tickets(100_000)
    version = table_commit.commit(grove_factories.admin_ctx, "t", data, project=project.name)
    with http.stream("GET", "/datasets/t/versions/v1/rows") as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.apache.arrow.stream"
        assert "content-length" not in r.headers  # streamed, not built whole first
        body = r.read()
    reader = ipc.open_stream(pa.BufferReader(body))
    batches = list(reader)
    manifest_chunks = len(
        table_commit.ds_service.manifest(grove_factories.admin_ctx, version.address).chunks
    )
    assert len(batches) == manifest_chunks > 1
    assert pa.Table.from_batches(batches).to_pandas().equals(data)
