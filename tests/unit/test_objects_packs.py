"""Pack files in the local object store: small objects stored in a batch share a pack.

Real files in a temporary folder; "another process" is a real subprocess.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import blake3
import pytest

from mlgrove.errors import ObjectMissing
from mlgrove.store import objects, packs
from mlgrove.store.objects import PACK_OBJECT_BYTES, LocalObjectStore


def address(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def pack_files(root: Path) -> list[str]:
    folder = root / "packs"
    return sorted(p.name for p in folder.iterdir() if p.name != ".lock") if folder.exists() else []


def loose_files(root: Path) -> list[str]:
    return sorted(
        p.parent.name + p.name for p in root.glob("??/*") if p.parent.name not in ("tmp",)
    )


def packed(store: LocalObjectStore, data: bytes) -> bool:
    return store.packs.locate(bytes.fromhex(address(data))) is not None


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


CONTENTS = [b"", b"a", os.urandom(4096), os.urandom(PACK_OBJECT_BYTES), b"x" * 10_000]


def test_packed_objects_read_back_byte_exact(store: LocalObjectStore) -> None:
    with store.batch():
        stored = [store.put_bytes(c) for c in CONTENTS]
    assert [s.new for s in stored] == [True] * len(CONTENTS)
    assert loose_files(store.root) == []  # every one went into the pack
    assert len(pack_files(store.root)) == 2
    for content, s in zip(CONTENTS, stored, strict=True):
        assert s.address == address(content)
        assert store.exists(s.address)
        assert store.get_bytes(s.address) == content
        with store.open(s.address) as fh:
            assert fh.read() == content
        assert store.size(s.address) == len(content)
        assert store.verify(s.address) == "ok"
    # A fresh store on the same folder (a later command) reads them from the index.
    again = LocalObjectStore(store.root)
    assert [again.get_bytes(s.address) for s in stored] == CONTENTS


def test_big_objects_and_puts_outside_a_batch_stay_loose(store: LocalObjectStore) -> None:
    big = os.urandom(PACK_OBJECT_BYTES + 1)
    with store.batch():
        store.put_bytes(big)
        store.put_bytes(b"small")
    store.put_bytes(b"alone")
    assert loose_files(store.root) == sorted([address(big), address(b"alone")])
    assert packed(store, b"small")
    assert not packed(store, big)
    assert store.get_bytes(address(big)) == big


def test_put_file_in_a_batch_packs_small_files(store: LocalObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "small.bin"
    src.write_bytes(b"file bytes" * 50)
    with store.batch():
        stored = store.put_file(src)
    assert stored.new
    assert stored.size == 500
    assert packed(store, b"file bytes" * 50)
    assert store.get_bytes(stored.address) == b"file bytes" * 50


def test_dedup_across_packs_and_loose(store: LocalObjectStore) -> None:
    loose = store.put_bytes(b"loose first")
    with store.batch():
        first = store.put_bytes(b"packed first")
    assert len(pack_files(store.root)) == 2
    with store.batch():
        again = [store.put_bytes(b"loose first"), store.put_bytes(b"packed first")]
        fresh = store.put_bytes(b"new in batch two")
    assert [s.new for s in again] == [False, False]
    assert (loose.new, first.new, fresh.new) == (True, True, True)
    assert len(pack_files(store.root)) == 4  # batch two's pack holds only the new object
    store.packs.refresh()
    second = [
        p for p in store.packs._packs.values() if bytes.fromhex(fresh.address) in set(p.digests())
    ]
    assert len(second) == 1
    assert second[0].count == 1
    assert not packed(store, b"loose first")
    # Re-storing outside a batch finds the packed copy: no loose duplicate.
    assert store.put_bytes(b"packed first").new is False
    assert loose_files(store.root) == [loose.address]


def test_a_crash_mid_batch_leaves_the_store_as_before(store: LocalObjectStore) -> None:
    with store.batch():
        before = [store.put_bytes(f"old {i}".encode()) for i in range(10)]
    store.put_bytes(b"old loose")
    files_before = pack_files(store.root)
    addresses_before = list(store.iter_addresses())

    def crash() -> None:
        with store.batch():
            for i in range(100):
                store.put_bytes(f"half of a commit {i}".encode())
            store.put_bytes(os.urandom(PACK_OBJECT_BYTES + 5))  # a loose one too
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        crash()
    assert pack_files(store.root) == files_before  # no visible partial pack
    assert list((store.root / "tmp").iterdir()) == []  # and no leftover temporary pack
    assert list(store.iter_addresses()) == addresses_before
    assert not store.exists(address(b"half of a commit 3"))
    assert [store.get_bytes(s.address) for s in before] == [f"old {i}".encode() for i in range(10)]
    with store.batch():  # and the store still works afterwards
        assert store.put_bytes(b"half of a commit 3").new is True
    assert store.get_bytes(address(b"half of a commit 3")) == b"half of a commit 3"


def test_a_crash_while_publishing_shows_no_half_pack(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.batch():
        kept = store.put_bytes(b"published before")
    real_replace = os.replace

    def die_before_the_index(src: object, dst: object) -> None:
        if str(dst).endswith(".idx"):
            raise OSError("killed between the two renames")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", die_before_the_index)
    with pytest.raises(OSError, match="killed"), store.batch():
        store.put_bytes(b"never visible")
    monkeypatch.undo()
    # The pack was renamed, its index was not: a pack without an index is never read.
    names = pack_files(store.root)
    assert sum(n.endswith(".pack") for n in names) == 2
    assert sum(n.endswith(".idx") for n in names) == 1
    fresh = LocalObjectStore(store.root)
    assert not fresh.exists(address(b"never visible"))
    assert fresh.get_bytes(kept.address) == b"published before"
    assert list(fresh.iter_addresses()) == [kept.address]


def test_another_process_pack_is_seen(store: LocalObjectStore) -> None:
    with store.batch():
        store.put_bytes(b"ours")
    assert store.exists(address(b"ours"))  # our packs are loaded now
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from mlgrove.store.objects import LocalObjectStore
        s = LocalObjectStore(Path({str(store.root)!r}))
        with s.batch():
            for i in range(20):
                s.put_bytes(b"theirs %d" % i)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    theirs = address(b"theirs 7")
    assert store.exists(theirs)
    assert store.get_bytes(theirs) == b"theirs 7"
    assert store.size(address(b"theirs 19")) == len(b"theirs 19")
    assert len(list(store.iter_addresses())) == 21


def test_delete_of_a_packed_object(store: LocalObjectStore) -> None:
    with store.batch():
        stored = [store.put_bytes(f"object {i}".encode()) for i in range(30)]
    other_view = LocalObjectStore(store.root)  # another process that loaded the packs
    assert other_view.exists(stored[5].address)
    store.delete(stored[5].address)
    assert not store.exists(stored[5].address)
    with pytest.raises(ObjectMissing):
        store.get_bytes(stored[5].address)
    assert store.verify(stored[5].address) == "missing"
    assert stored[5].address not in set(store.iter_addresses())
    rest = [s for i, s in enumerate(stored) if i != 5]
    assert [store.get_bytes(s.address) for s in rest] == [
        f"object {i}".encode() for i in range(30) if i != 5
    ]
    assert len(pack_files(store.root)) == 2  # rewritten under a new name, the old one gone
    with pytest.raises(ObjectMissing):  # the other view notices the pack was rewritten
        other_view.get_bytes(stored[5].address)
    assert other_view.get_bytes(rest[0].address) == b"object 0"
    # Deleting the last object of a pack removes the pack.
    for s in rest:
        store.delete(s.address)
    assert pack_files(store.root) == []
    assert list(store.iter_addresses()) == []


def test_iter_addresses_lists_loose_and_packed_once(store: LocalObjectStore) -> None:
    loose = store.put_bytes(b"loose")
    with store.batch():
        a = store.put_bytes(b"packed a")
        b = store.put_bytes(b"packed b")
    expected = sorted({loose.address, a.address, b.address})
    assert list(store.iter_addresses()) == expected


def test_a_damaged_index_hides_its_objects_without_breaking_the_store(
    store: LocalObjectStore,
) -> None:
    with store.batch():
        lost = store.put_bytes(b"in the damaged pack")
    with store.batch():
        kept = store.put_bytes(b"in a good pack")
    index = store.packs.locate(bytes.fromhex(lost.address))
    assert index is not None
    idx = index[0].with_suffix(".idx")
    idx.chmod(0o644)
    data = bytearray(idx.read_bytes())
    data[20] ^= 0xFF
    idx.write_bytes(bytes(data))
    fresh = LocalObjectStore(store.root)
    assert fresh.verify(lost.address) == "missing"
    assert fresh.get_bytes(kept.address) == b"in a good pack"
    assert list(fresh.packs.damaged.values()) == [f"{idx.name}: checksum mismatch"]


def test_a_corrupt_packed_object_fails_verification(store: LocalObjectStore) -> None:
    with store.batch():
        s = store.put_bytes(b"precious bytes")
    where = store.packs.locate(bytes.fromhex(s.address))
    assert where is not None
    path, offset, _ = where
    path.chmod(0o644)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"P")
    assert LocalObjectStore(store.root).verify(s.address) == "corrupt"


def test_a_batch_too_big_for_one_pack_makes_several(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(objects, "PACK_MAX_BYTES", 10_000)
    contents = [os.urandom(3000) for _ in range(10)]
    with store.batch():
        for c in contents:
            store.put_bytes(c)
    assert len(pack_files(store.root)) == 2 * 3  # 4 objects fill a pack past 10,000 bytes
    fresh = LocalObjectStore(store.root)
    assert [fresh.get_bytes(address(c)) for c in contents] == contents


def test_concurrent_batches_each_publish_what_they_stored(store: LocalObjectStore) -> None:
    """A batch that ends has its objects durable and visible at once, even while another
    thread's batch is still open (the caller records them in the database next)."""
    inside = threading.Event()
    release = threading.Event()

    def long_batch() -> None:
        with store.batch():
            store.put_bytes(b"slow batch")
            inside.set()
            release.wait(10)

    t = threading.Thread(target=long_batch)
    t.start()
    inside.wait(10)
    with store.batch():
        quick = store.put_bytes(b"quick batch")
    assert store.get_bytes(quick.address) == b"quick batch"  # readable before t ends
    release.set()
    t.join()
    assert store.get_bytes(address(b"slow batch")) == b"slow batch"


def test_threads_storing_the_same_content_store_it_once(store: LocalObjectStore) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def put() -> None:
        barrier.wait()
        results.append(store.put_bytes(b"same content").new)

    with store.batch():
        threads = [threading.Thread(target=put) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == [False] * 7 + [True]
    store.packs.refresh()
    assert sum(p.count for p in store.packs._packs.values()) == 1


def test_the_index_format(store: LocalObjectStore) -> None:
    with store.batch():
        store.put_bytes(b"b")
        store.put_bytes(b"a")
    (idx,) = (store.root / "packs").glob("*.idx")
    entries = packs.read_index(idx)
    digests = [entries[i : i + 32] for i in range(0, len(entries), packs.ENTRY.size)]
    assert digests == sorted(bytes.fromhex(address(c)) for c in (b"a", b"b"))
    pack = idx.with_suffix(".pack").read_bytes()
    assert pack.startswith(packs.PACK_MAGIC)


def test_a_pack_written_on_the_writer_thread_reads_back(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packs, "FLUSH_BYTES", 64 << 10)  # hand blocks to the thread often
    monkeypatch.setattr(packs, "SYNC_BYTES", 256 << 10)  # and flush them to disk on the way
    contents = [os.urandom(4096) for _ in range(500)]
    contents[10:10] = [os.urandom(100_000) for _ in range(3)]  # each bigger than FLUSH_BYTES
    with store.batch():
        for c in contents:
            store.put_bytes(c)
    fresh = LocalObjectStore(store.root)
    assert [fresh.get_bytes(address(c)) for c in contents] == contents


def test_a_write_error_on_the_writer_thread_fails_the_batch_cleanly(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.batch():
        kept = store.put_bytes(b"before the disk filled up")
    monkeypatch.setattr(packs, "FLUSH_BYTES", 16 << 10)
    calls = []
    real_writev = os.writev

    def disk_full(fd: int, buffers: list[bytes]) -> int:
        calls.append(fd)
        if len(calls) > 2:
            raise OSError(28, "No space left on device")
        return real_writev(fd, buffers)

    def add_many() -> None:
        with store.batch():
            for i in range(200):
                store.put_bytes(os.urandom(4096) + bytes([i]))

    monkeypatch.setattr(os, "writev", disk_full)
    with pytest.raises(OSError, match="No space left"):
        add_many()
    monkeypatch.undo()
    assert list((store.root / "tmp").iterdir()) == []
    assert list(LocalObjectStore(store.root).iter_addresses()) == [kept.address]


def test_a_store_that_is_dropped_closes_its_pack_files(tmp_path: Path) -> None:
    first = LocalObjectStore(tmp_path / "objects")
    with first.batch():
        stored = first.put_bytes(b"read through a pack file")
    reader = LocalObjectStore(tmp_path / "objects")
    assert reader.get_bytes(stored.address) == b"read through a pack file"
    (pack,) = reader.packs._packs.values()
    assert pack.fd >= 0  # kept open for the next read
    del reader
    gc.collect()
    assert pack.fd == -1  # closed with the store


# -- a batch shared with a forked child (mlgrove.filesets.forked) -----------------------
# The child's store is a copy of the parent's; here two store objects on one folder
# play the two processes.


def test_objects_handed_over_are_published_with_the_batch(store: LocalObjectStore) -> None:
    child = LocalObjectStore(store.root)
    child.tag_temporaries("w42-")
    small = [os.urandom(100) for _ in range(20)]
    loose = os.urandom(PACK_OBJECT_BYTES + 1)  # too big for a pack: a temporary file
    both = os.urandom(PACK_OBJECT_BYTES + 2)  # stored by both processes
    with child.batch():
        for content in [*small, loose, both]:
            child.put_bytes(content)
        part = child.hand_over()
        assert sorted(p.name[:4] for p in (store.root / "tmp").iterdir()) == ["w42-"] * 4
        with store.batch():
            mine = store.put_bytes(b"the parent's own")
            store.put_bytes(both)
            store.take_over(part)
            assert not LocalObjectStore(store.root).exists(address(small[0]))  # not yet
    fresh = LocalObjectStore(store.root)
    for content in [*small, loose, both, b"the parent's own"]:
        assert fresh.get_bytes(address(content)) == content
    assert mine.new
    assert list((store.root / "tmp").iterdir()) == []
    assert len(pack_files(store.root)) == 4  # the child's pack and the parent's


def test_objects_handed_over_to_a_failed_batch_are_discarded(store: LocalObjectStore) -> None:
    child = LocalObjectStore(store.root)
    with child.batch():
        child.put_bytes(b"from the child")
        child.put_bytes(os.urandom(PACK_OBJECT_BYTES + 1))
        part = child.hand_over()

    def fail_after_taking_over() -> None:
        with store.batch():
            store.take_over(part)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_after_taking_over()
    assert list((store.root / "tmp").iterdir()) == []
    assert list(LocalObjectStore(store.root).iter_addresses()) == []
    with pytest.raises(RuntimeError, match="open batch"):
        store.take_over(part)


def test_a_failed_childs_temporaries_are_removed_and_only_those(
    store: LocalObjectStore,
) -> None:
    child = LocalObjectStore(store.root)
    child.tag_temporaries("w7-")
    with store.batch():
        store.put_bytes(os.urandom(PACK_OBJECT_BYTES + 1))  # the parent's, untagged
        with child.batch():
            child.put_bytes(b"child's")
            child.put_bytes(os.urandom(PACK_OBJECT_BYTES + 1))
            child.hand_over()  # written under tmp/, then the child "dies"
            store.remove_temporaries("w7-")
            left = [p.name for p in (store.root / "tmp").iterdir()]
            assert len(left) == 1
            assert not left[0].startswith("w7-")
    with pytest.raises(ValueError, match="tag"):
        store.remove_temporaries("")


def test_syncing_ahead_mid_batch_keeps_every_object(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packs, "FLUSH_BYTES", 64 << 10)
    first = [os.urandom(5000) for _ in range(40)]
    then = [os.urandom(5000) for _ in range(40)]
    with store.batch():
        for c in first:
            store.put_bytes(c)
        store.sync_ahead()  # a partly filled block goes to the disk now
        store.sync_ahead()  # twice: nothing new, no harm
        for c in then:
            store.put_bytes(c)
    fresh = LocalObjectStore(store.root)
    assert [fresh.get_bytes(address(c)) for c in first + then] == first + then
    store.sync_ahead()  # outside a batch: nothing to do
