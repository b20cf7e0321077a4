"""The remote datasets client over an injected transport: no network, no server."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import blake3
import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from mlgrove.client import remote_datasets
from mlgrove.client.http import RemoteClient
from mlgrove.client.remote_datasets import RemoteDatasets
from mlgrove.domain.datasets import DatasetKind
from mlgrove.errors import InvalidInput, NotFound, RemoteError
from mlgrove.tabular import chunks as chunkio

API = "/api/v1"


def table(n: int, start: int = 0) -> pd.DataFrame:
    ids = np.arange(start, start + n)
    return pd.DataFrame({"id": ids, "text": [f"row {i}" for i in ids], "x": ids % 7 / 7})


def version_json(number: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "dataset": "t",
        "number": number,
        "name": f"v{number}",
        "address": "a" * 64,
        "parent": number - 1 or None,
        "message": "",
        "author": "ana",
        "source": "import",
        "rows": 10,
        "bytes": 100,
        "new_bytes": 100,
        "schema": [{"name": "id", "type": "int64", "nullable": True}],
        "created_at": "2025-03-01T12:00:00Z",
        "stats": {"rows": 10},
        **extra,
    }


def problem(status: int, code: str, detail: str, hint: str | None = None) -> httpx.Response:
    body = {"type": f"urn:mlgrove:problem:{code}", "status": status, "detail": detail}
    if hint:
        body["hint"] = hint
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


class FakeServer:
    """Answers the upload protocol like Grove: remembers objects and committed chunks."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.known: dict[str, str] = {}  # content id -> address, of committed chunks
        self.requests: list[tuple[str, str, Any]] = []
        self.commits: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(API)
        body = json.loads(request.content) if request.method == "POST" else None
        self.requests.append((request.method, path, body))
        if path == "/chunks/known":
            ids = body["content_ids"]
            return httpx.Response(
                200, json={"known": {c: self.known[c] for c in ids if c in self.known}}
            )
        if path == "/objects/missing":
            return httpx.Response(
                200, json={"missing": [a for a in body["addresses"] if a not in self.objects]}
            )
        if request.method == "PUT" and path.startswith("/objects/"):
            address = path.rsplit("/", 1)[1]
            assert blake3.blake3(request.content).hexdigest() == address
            assert request.headers["content-type"] == "application/octet-stream"
            self.objects[address] = request.content
            return httpx.Response(201, json={"address": address, "size": 1, "new": True})
        if path == "/datasets/t/versions" and request.method == "POST":
            self.commits.append(body)
            self.known.update(dict(body["chunks"]))
            return httpx.Response(201, json=version_json(len(self.commits)))
        return problem(404, "http", "Not Found")

    def puts(self) -> int:
        return sum(1 for method, _, _ in self.requests if method == "PUT")

    def rows_of(self, commit: dict[str, Any]) -> pa.Table:
        return pa.concat_tables(chunkio.decode(self.objects[a]) for _, a in commit["chunks"])


def client(handler: Any) -> RemoteClient:
    return RemoteClient(
        "https://grove.test", token="grove_a_b", transport=httpx.MockTransport(handler)
    )


def datasets(c: RemoteClient) -> RemoteDatasets:
    assert isinstance(c.datasets, RemoteDatasets)
    return c.datasets


def test_add_sends_every_new_chunk_once_and_commits_them_in_order() -> None:
    server = FakeServer()
    data = table(150_000)
    rows: list[int] = []
    c = client(server)
    v = c.datasets.add("t", data, key=["id"], label="text", message="m", progress=rows.append)
    assert (v.number, v.created_at) == (1, datetime(2025, 3, 1, 12, tzinfo=UTC))
    (commit,) = server.commits
    assert commit["key"] == ["id"]
    assert (commit["label"], commit["message"], commit["source_name"]) == ("text", "m", "dataframe")
    assert commit["project"] is None
    assert commit["allow_schema_change"] is False
    assert len(commit["chunks"]) == server.puts() > 1
    # What arrived is the table, in order, in the types a commit stores.
    back = server.rows_of(commit)
    assert back.schema.field("text").type == pa.large_string()
    pd.testing.assert_frame_equal(back.to_pandas(), data)
    assert sum(rows) == 150_000
    stats = datasets(c).last_upload
    assert stats is not None
    assert (stats.rows, stats.chunks, stats.sent, stats.known, stats.present) == (
        150_000,
        len(commit["chunks"]),
        len(commit["chunks"]),
        0,
        0,
    )
    assert stats.sent_bytes == sum(len(b) for b in server.objects.values())


def test_chunks_a_version_has_are_not_sent_again() -> None:
    server = FakeServer()
    c = client(server)
    c.datasets.add("t", table(150_000))
    sent = server.puts()
    c.datasets.add("t", pd.concat([table(150_000), table(1000, start=10**6)]))
    assert 1 <= server.puts() - sent <= 2
    first, second = server.commits
    assert second["chunks"][: len(first["chunks"]) - 1] == first["chunks"][:-1]
    stats = datasets(c).last_upload
    assert stats is not None
    assert stats.known == len(first["chunks"]) - 1


def test_objects_left_by_an_interrupted_upload_are_not_sent_again() -> None:
    server = FakeServer()
    c = client(server)
    c.datasets.add("t", table(150_000))
    chunks = server.commits[0]["chunks"]
    server.known.clear()  # as if that commit never happened, its objects uploaded
    for _, address in chunks[2:]:
        del server.objects[address]
    before = server.puts()
    c.datasets.add("t", table(150_000))
    assert server.puts() - before == len(chunks) - 2
    stats = datasets(c).last_upload
    assert stats is not None
    assert (stats.present, stats.sent) == (2, len(chunks) - 2)


def test_chunks_are_decided_a_window_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote_datasets, "WINDOW_CHUNKS", 2)
    server = FakeServer()
    client(server).datasets.add("t", table(150_000))
    asked = [
        body["content_ids"] for method, path, body in server.requests if path == "/chunks/known"
    ]
    n = len(server.commits[0]["chunks"])
    assert len(asked) == (n + 1) // 2 >= 2
    assert all(len(ids) <= 2 for ids in asked)
    # The requests interleave: a window is sent before the next one is read.
    kinds = [path.split("/")[1] for _, path, _ in server.requests]
    assert kinds.index("objects") < len(kinds) - kinds[::-1].index("chunks") - 1


def test_an_empty_table_is_refused_before_any_request() -> None:
    server = FakeServer()
    with pytest.raises(InvalidInput, match="dataframe has no rows") as caught:
        client(server).datasets.add("t", table(0))
    assert caught.value.hint == "a version needs at least one row"
    assert server.requests == []


def test_a_file_is_read_with_its_name_and_format(tmp_path: Any) -> None:
    server = FakeServer()
    path = tmp_path / "rows.data"
    table(5000).to_csv(path, index=False)
    client(server).datasets.add("t", str(path), fmt="csv")
    assert server.commits[0]["source_name"] == "rows.data"
    pd.testing.assert_frame_equal(server.rows_of(server.commits[0]).to_pandas(), table(5000))
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        client(server).datasets.add("t", path)


def test_upload_errors_come_back_as_grove_errors() -> None:
    def too_large(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return problem(413, "too-large", "an object may have at most 1000 bytes", "split it")
        return FakeServer()(request)

    with pytest.raises(RemoteError, match="413") as caught:
        client(too_large).datasets.add("t", table(100))
    assert (caught.value.status, caught.value.hint) == (413, "split it")

    def denied(request: httpx.Request) -> httpx.Response:
        return problem(403, "permission-denied", "rita (reviewer) may not write datasets")

    from mlgrove.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="rita"):
        client(denied).datasets.add("t", table(100))


def arrow_stream(*tables: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, tables[0].schema) as writer:
        for t in tables:
            writer.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def test_read_decodes_the_arrow_stream_and_quotes_the_path() -> None:
    seen: list[httpx.Request] = []
    parts = [pa.table({"a": [1, 2]}), pa.table({"a": [3]})]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            content=arrow_stream(*parts),
            headers={"content-type": "application/vnd.apache.arrow.stream"},
        )

    got = client(handler).datasets.read("my data", "v2", split="test", project="p/q")
    assert got.column("a").to_pylist() == [1, 2, 3]
    assert seen[0].url.raw_path.decode() == (
        "/api/v1/datasets/my%20data/versions/v2/rows?project=p%2Fq&split=test"
    )


def test_read_raises_not_found_with_the_hint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return problem(404, "not-found", "dataset 't' has no version 'v9'", "`mlgrove data log t`")

    with pytest.raises(NotFound, match="has no version") as caught:
        client(handler).datasets.read("t", "v9")
    assert caught.value.hint == "`mlgrove data log t`"


def test_the_other_verbs_send_their_parameters_and_build_domain_values() -> None:
    seen: list[httpx.Request] = []
    dataset = {
        "id": 4,
        "project": "p",
        "name": "t",
        "kind": "table",
        "key_columns": ["id"],
        "label_column": None,
        "description": "",
        "created_at": "2025-03-01T12:00:00Z",
    }
    split = {
        "version": "v2",
        "spec": {"method": "hash", "ratios": {"train": 1.0}, "seed": 3, "names": ["train"]},
        "counts": {"train": 10},
        "origin": "assigned",
        "moved_rows": 0,
        "created_by": "ana",
        "created_at": "2025-03-01T12:00:00Z",
    }
    answers: dict[str, Any] = {
        "/datasets": [{"dataset": dataset, "latest": version_json(2)}],
        "/datasets/t/versions": [version_json(2), version_json(1)],
        "/datasets/t/versions/latest": version_json(2),
        "/datasets/t/diff": {"added": 1, "rows": {"added": [{"x": float("nan")}]}},
        "/datasets/t/versions/v2/split": split,
        "/datasets/t/versions/v2/leakage": {"overlapping_rows": 0},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = answers[request.url.path.removeprefix(API)]
        # As the server writes it: Python's json, NaN kept.
        return httpx.Response(200, content=json.dumps(body).encode())

    ds = client(handler).datasets
    ((d, latest),) = ds.list("p")
    assert (d.kind, d.key_columns, latest and latest.number) == (DatasetKind.TABLE, ["id"], 2)
    assert [v.name for v in ds.log("t", limit=2)] == ["v2", "v1"]
    assert ds.show("t").stats == {"rows": 10}
    diff = ds.diff("t", "v1", "v2", limit=5, offset=10)
    assert np.isnan(diff["rows"]["added"][0]["x"])
    made = ds.split("t", "v2", ratios={"train": 1.0}, seed=3, project="p")
    assert (made.counts, made.spec["seed"]) == ({"train": 10}, 3)
    assert ds.leakage("t", "v2") == {"overlapping_rows": 0}
    queries = [str(r.url.params) for r in seen]
    assert queries[:3] == ["project=p", "limit=2", ""]
    assert queries[3] == "limit=5&offset=10&from=v1&to=v2"
    assert json.loads(seen[4].content) == {"ratios": {"train": 1.0}, "column": None, "seed": 3}


def test_a_remote_client_loads_no_arrow_until_it_handles_a_table() -> None:
    code = (
        "import sys, mlgrove; mlgrove.connect('https://grove.test', token='t'); "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.replace("'", '"')))
    assert loaded & {"pyarrow", "pandas", "numpy"} == set()
