"""The object store contract, on the local folder and on an fsspec filesystem."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from mlgrove.errors import InvalidInput, ObjectMissing
from mlgrove.store.objects import (
    FsspecObjectStore,
    LocalObjectStore,
    ObjectStore,
    hash_file,
    open_object_store,
)


@pytest.fixture(params=["local", "fsspec-memory", "fsspec-file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
    elif request.param == "fsspec-memory":
        yield FsspecObjectStore(f"memory://grove-{uuid.uuid4().hex}")
    else:
        yield FsspecObjectStore(f"file://{tmp_path / 'fs-objects'}")


def test_address_is_the_blake3_of_the_content(store: ObjectStore) -> None:
    stored = store.put_bytes(b"hello grove")
    assert stored.address == blake3.blake3(b"hello grove").hexdigest()
    assert store.get_bytes(stored.address) == b"hello grove"
    assert store.size(stored.address) == len(b"hello grove")


def test_same_content_is_stored_once(store: ObjectStore, tmp_path: Path) -> None:
    first = store.put_bytes(b"x" * 1000)
    src = tmp_path / "same.bin"
    src.write_bytes(b"x" * 1000)
    second = store.put_file(src)
    assert (first.new, second.new) == (True, False)
    assert first.address == second.address
    assert list(store.iter_addresses()) == [first.address]


def test_large_file_streams_and_matches_hash_file(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * (1 << 20) + 17))
    stored = store.put_file(src)
    assert stored.address == hash_file(src)
    assert store.verify(stored.address) == "ok"


def test_missing_and_bad_addresses(store: ObjectStore) -> None:
    absent = blake3.blake3(b"never stored").hexdigest()
    with pytest.raises(ObjectMissing):
        store.get_bytes(absent)
    assert store.verify(absent) == "missing"
    with pytest.raises(InvalidInput, match="not an object address"):
        store.get_bytes("../../etc/passwd")


def test_put_of_a_missing_file_is_invalid_input(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        store.put_file(tmp_path / "nope.txt")


def test_corruption_is_detected(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    stored = store.put_bytes(b"precious")
    path = tmp_path / "objects" / stored.address[:2] / stored.address[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    assert store.verify(stored.address) == "corrupt"


def test_stored_objects_are_read_only(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    stored = store.put_bytes(b"immutable")
    path = tmp_path / "objects" / stored.address[:2] / stored.address[2:]
    assert path.stat().st_mode & 0o222 == 0


def test_crash_mid_write_leaves_no_object_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    src = tmp_path / "f.bin"
    src.write_bytes(b"a" * 5000)

    def crash(fd: int) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk unplugged"):
        store.put_file(src)
    monkeypatch.undo()
    assert list(store.iter_addresses()) == []
    assert list((tmp_path / "objects" / "tmp").iterdir()) == []
    # and the store still works afterwards
    assert store.put_file(src).new is True


def test_open_object_store_picks_by_url(tmp_path: Path) -> None:
    assert isinstance(open_object_store(str(tmp_path / "a")), LocalObjectStore)
    assert isinstance(open_object_store(f"file://{tmp_path / 'b'}"), LocalObjectStore)
    assert isinstance(open_object_store("memory://x"), FsspecObjectStore)


def test_a_batch_publishes_objects_only_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    with store.batch():
        stored = [store.put_bytes(f"object {i}".encode()) for i in range(50)]
        again = store.put_bytes(b"object 7")
        assert again.new is False  # deduplicated against the pending one
        assert store.exists(stored[0].address)
        with pytest.raises(ObjectMissing):  # not under its address yet
            store.get_bytes(stored[0].address)
        assert fsyncs == []  # no fsync per object inside a batch
    assert [store.get_bytes(s.address) for s in stored[:2]] == [b"object 0", b"object 1"]
    assert all(store.verify(s.address) == "ok" for s in stored)
    assert list((tmp_path / "objects" / "tmp").iterdir()) == []
    # Small objects of a batch share one pack (its bytes, then its index), read-only.
    packs = sorted(p.name for p in (tmp_path / "objects" / "packs").iterdir())
    assert [p.rsplit(".", 1)[1] for p in packs] == ["idx", "pack"]
    assert len(fsyncs) <= 3  # the pack, its index, the packs folder: not one per object
    for name in packs:
        assert (tmp_path / "objects" / "packs" / name).stat().st_mode & 0o222 == 0


def test_a_failed_batch_leaves_nothing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")

    def crash_mid_batch() -> None:
        with store.batch():
            store.put_bytes(b"half of a commit")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash_mid_batch()
    assert list(store.iter_addresses()) == []
    assert list((tmp_path / "objects" / "tmp").iterdir()) == []


def test_putting_a_file_we_hold_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 10_000)
    store.put_file(src)
    opened: list[str] = []
    real_open = open

    def spy(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode:
            opened.append(str(file))
        return real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spy)
    assert store.put_file(src).new is False
    assert opened == []
