"""The object store on S3 (through fsspec/s3fs) against a real S3-compatible server.

moto's server mode runs on loopback, speaking the S3 protocol over HTTP, so these tests
exercise the same code path a team uses against AWS S3 or MinIO.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlgrove.config import Settings, new_secret_key
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.services import datasets, objects, table_commit
from mlgrove.services.context import Runtime
from mlgrove.store import schema
from mlgrove.store.db import Database
from mlgrove.store.objects import FsspecObjectStore, open_object_store

pytest.importorskip("s3fs", reason="S3 tests need the s3 extra: pip install 'mlgrove[s3]'")
moto_server = pytest.importorskip(
    "moto.server", reason="S3 tests need moto[server] (the test extra)"
)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    import fsspec.config
    import s3fs

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "grove-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "grove-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # What FSSPEC_S3_ENDPOINT_URL=... does for a user, set for this test only.
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_endpoint})
    name = f"grove-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(endpoint_url=s3_endpoint).mkdir(name)
    s3fs.S3FileSystem.clear_instance_cache()
    return name


def test_object_store_contract_on_s3(bucket: str) -> None:
    store = open_object_store(f"s3://{bucket}/objects")
    assert isinstance(store, FsspecObjectStore)
    first = store.put_bytes(b"hello grove")
    assert store.put_bytes(b"hello grove").new is False
    assert store.get_bytes(first.address) == b"hello grove"
    assert store.verify(first.address) == "ok"
    assert list(store.iter_addresses()) == [first.address]
    # Someone overwrites the object behind our back: re-hashing notices.
    with store.fs.open(f"{bucket}/objects/{first.address[:2]}/{first.address[2:]}", "wb") as fh:
        fh.write(b"tampered")
    assert store.verify(first.address) == "corrupt"


def test_datasets_and_fsck_with_objects_on_s3(bucket: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'grove.db'}",
        object_store_url=f"s3://{bucket}/grove",
        secret_key=new_secret_key(),
    )
    db = Database(settings.database_url)
    schema.upgrade(db)
    db.dispose()
    runtime = Runtime.open(settings)
    try:
        ctx = runtime.as_actor(LOCAL_ADMIN)
        n = 150_000
        df = pd.DataFrame({"id": range(n), "text": [f"row {i}" for i in range(n)]})
        v1 = table_commit.commit(ctx, "rows", df, key=["id"])
        v2 = table_commit.commit(
            ctx, "rows", pd.concat([df, pd.DataFrame({"id": [10**6], "text": ["new"]})])
        )
        assert v2.new_bytes < v1.new_bytes / 2  # the unchanged chunks were not uploaded again
        back = datasets.read_table(ctx, "rows", "v2").to_pandas()
        assert back["id"].tolist() == [*range(n), 10**6]
        report = objects.fsck(runtime)
        assert report.healthy
        assert report.checked >= 3
    finally:
        runtime.close()
