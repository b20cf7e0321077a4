"""Putting objects through the service, on SQLite and PostgreSQL: putting content again
repairs a damaged copy, packed or loose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlgrove.services import objects
from mlgrove.services.context import Runtime
from mlgrove.store.objects import LocalObjectStore
from mlgrove.testing.factories import Factories


def store_of(runtime: Runtime) -> LocalObjectStore:
    assert isinstance(runtime.objects, LocalObjectStore)
    return runtime.objects


@pytest.mark.parametrize("packed", [True, False])
def test_putting_content_again_repairs_its_damaged_copy(
    grove_factories: Factories, tmp_path: Path, packed: bool
) -> None:
    runtime = grove_factories.runtime
    ctx = grove_factories.admin_ctx
    store = store_of(runtime)
    content = b"precious model weights" * 100
    if packed:
        with store.batch():
            stored = store.put_bytes(content)
        where = store.packs.locate(bytes.fromhex(stored.address))
        assert where is not None
        path, offset, _ = where
    else:
        stored = store.put_bytes(content)
        path, offset = store.root / stored.address[:2] / stored.address[2:], 0
    objects.put_bytes(ctx, content, kind="test")  # registered, so fsck checks it
    path.chmod(0o644)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"P")  # bit rot
    report = objects.fsck(runtime)
    assert report.corrupt == [(stored.address, "test")]

    src = tmp_path / "weights.bin"
    src.write_bytes(content)
    again = objects.put_file(ctx, src, kind="test")
    assert again.address == stored.address
    assert store.get_bytes(stored.address) == content
    assert objects.fsck(runtime).healthy


def test_putting_healthy_content_again_stores_nothing(grove_factories: Factories) -> None:
    ctx = grove_factories.admin_ctx
    first = objects.put_bytes(ctx, os.urandom(100), kind="test")
    store = store_of(grove_factories.runtime)
    assert objects.put_bytes(ctx, store.get_bytes(first.address), kind="test").new is False
