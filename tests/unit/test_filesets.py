"""The pure logic of file datasets: walking, hashing, the stat cache, manifests, checkout."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import blake3
import pytest

from mlgrove.errors import InvalidInput, ObjectCorrupt, ObjectMissing
from mlgrove.filesets import hashing
from mlgrove.filesets.compare import compare, compare_folder
from mlgrove.filesets.manifest import FileEntry, FileManifest, check_path
from mlgrove.filesets.materialise import materialise
from mlgrove.filesets.statcache import StatCache
from mlgrove.filesets.walk import FileStat, walk

HOUR_AGO = time.time() - 3600


def make_tree(root: Path, files: dict[str, bytes], *, mtime: float = HOUR_AGO) -> Path:
    """Files with an old mtime, as data folders usually are (so the stat cache trusts them)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (mtime, mtime))
    return root


def address(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


# -- manifest ----------------------------------------------------------------------------


def test_manifest_is_canonical_whatever_the_order_given() -> None:
    a = FileEntry("b/z.txt", address(b"z"), 1)
    b = FileEntry("a.jpg", address(b"a"), 1, executable=True)
    c = FileEntry("b/ä.txt", address(b"u"), 1)
    assert FileManifest([a, b, c]).to_bytes() == FileManifest([c, b, a]).to_bytes()
    body = FileManifest([a, b]).to_bytes()
    assert (
        body
        == (
            '{"files":[["a.jpg","' + address(b"a") + '",1,true],'
            '["b/z.txt","' + address(b"z") + '",1,false]],"format":"grove-files/1"}'
        ).encode()
    )


def test_manifest_round_trips_and_keeps_utf8_paths() -> None:
    m = FileManifest(
        [FileEntry("fotos/café.jpg", address(b"x"), 5), FileEntry("run.sh", "0" * 64, 9, True)]
    )
    data = m.to_bytes()
    assert "café".encode() in data
    again = FileManifest.from_bytes(data)
    assert again == m
    assert again.files == 2
    assert again.bytes == 14


def test_manifest_refuses_a_path_twice_and_foreign_bytes() -> None:
    with pytest.raises(ValueError, match="twice"):
        FileManifest([FileEntry("a", "0" * 64, 1), FileEntry("a", "1" * 64, 1)])
    with pytest.raises(ValueError, match="grove-files/1"):
        FileManifest.from_bytes(json.dumps({"format": "grove-table/1"}).encode())
    with pytest.raises(ValueError, match="not a grove-files/1 manifest"):
        FileManifest.from_bytes(b"not json")
    with pytest.raises(ValueError, match="not a grove-files/1 manifest"):
        FileManifest.from_bytes(b'{"format": "grove-files/1", "files": [["a", "b"]]}')


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/\x00"])
def test_unsafe_paths_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="unsafe path"):
        check_path(bad)


# -- walking -----------------------------------------------------------------------------


def test_walk_lists_regular_files_with_posix_paths_and_exec_bit(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"b.txt": b"bb", "sub/deeper/a.wav": b"aaa", "run.sh": b"#!"})
    (root / "run.sh").chmod(0o755)
    w = walk(root)
    assert [f.path for f in w.files] == ["b.txt", "run.sh", "sub/deeper/a.wav"]
    assert [f.size for f in w.files] == [2, 2, 3]
    assert [f.executable for f in w.files] == [False, True, False]
    assert w.bytes == 7


def test_walk_ignores_grove_and_version_control_folders_at_any_depth(tmp_path: Path) -> None:
    root = make_tree(
        tmp_path / "d",
        {
            "keep.txt": b"k",
            ".git/HEAD": b"ref",
            ".mlgrove/grove.db": b"db",
            "sub/.hg/store": b"x",
            "sub/.svn/entries": b"x",
            "sub/.dvc/config": b"x",
            ".gitignore": b"kept: a file, not a folder",
        },
    )
    assert [f.path for f in walk(root).files] == [".gitignore", "keep.txt"]


def test_walk_never_follows_symlinks_and_lists_them_as_skipped(tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"secret.txt": b"s", "dir/x.txt": b"x"})
    root = make_tree(tmp_path / "d", {"real.txt": b"r"})
    (root / "to_file").symlink_to(outside / "secret.txt")
    (root / "to_dir").symlink_to(outside / "dir")
    (root / "inside_link").symlink_to(root / "real.txt")
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(root / "pipe")
    w = walk(root)
    assert [f.path for f in w.files] == ["real.txt"]
    assert w.skipped == ["dangling", "inside_link", "pipe", "to_dir", "to_file"]


def test_walk_follows_a_symlinked_root(tmp_path: Path) -> None:
    real = make_tree(tmp_path / "real", {"a": b"a"})
    (tmp_path / "link").symlink_to(real)
    w = walk(tmp_path / "link")
    assert w.root == real
    assert [f.path for f in w.files] == ["a"]


def test_walk_says_when_the_folder_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such folder"):
        walk(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="is not a folder"):
        walk(tmp_path / "file")


# -- hashing -----------------------------------------------------------------------------


def test_scan_hashes_every_file_to_its_blake3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "BIG_FILE", 1000)  # exercise the big-file path too
    big = os.urandom(5000)
    files = {f"f{i:03d}": os.urandom(i) for i in range(300)} | {"big.bin": big}
    root = make_tree(tmp_path / "d", files)
    w = walk(root)
    seen: list[int] = []
    result = hashing.scan(root, w.files, workers=4, progress=seen.append)
    assert result.addresses == [address(files[f.path]) for f in w.files]
    assert result.hashed == list(range(len(w.files)))
    assert sum(seen) == len(files)


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="needs Linux preadv2 RWF_NOWAIT")
def test_scan_hashes_cached_files_inline_and_the_others_on_the_pool(tmp_path: Path) -> None:
    files = {f"f{i:02d}": os.urandom(3000 + i) for i in range(40)}
    root = make_tree(tmp_path / "d", files)
    cold = {f"f{i:02d}" for i in range(0, 40, 4)}
    for name in files:  # all written back first: no writeback in flight during the scan
        fd = os.open(root / name, os.O_RDONLY)
        os.fsync(fd)
        if name in cold:  # and these dropped from the page cache
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    threads: dict[str, str] = {}

    def sink(f: FileStat, addr: str, data: bytes | None) -> str:
        threads[f.path] = threading.current_thread().name
        assert data == files[f.path]
        return addr

    w = walk(root)
    result = hashing.scan(root, w.files, sink=sink)
    assert result.addresses == [address(files[f.path]) for f in w.files]
    on_pool = {path for path, name in threads.items() if name.startswith("grove-hash")}
    assert threads.keys() == files.keys()
    assert cold <= on_pool  # a read that would wait for the disk never runs inline
    # Cached files are read inline; the kernel may still refuse a no-wait read now and
    # then on a busy machine (a lock held by other I/O), and such a file goes to the pool.
    assert len(on_pool - cold) <= 3


def test_scan_reads_only_what_the_lookup_cannot_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path / "d", {"known": b"k", "new": b"n"})
    w = walk(root)
    read: list[str] = []
    real = hashing.digest

    def spy(path: Path, expected: FileStat, **kw: Any) -> tuple[str, bytes | None] | None:
        got = real(path, expected, **kw)
        if got is not None:  # None: not read yet (not cached), read again by a thread
            read.append(expected.path)
        return got

    monkeypatch.setattr(hashing, "digest", spy)
    result = hashing.scan(root, w.files, lookup=lambda f: "c" * 64 if f.path == "known" else None)
    assert read == ["new"]
    assert result.addresses == ["c" * 64, address(b"n")]
    assert result.hashed == [1]


def test_scan_hands_the_sink_only_content_not_known_to_be_stored(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"stored": b"s", "cached": b"c", "new": b"n"})
    cached = {"stored": address(b"s"), "cached": address(b"c")}
    sunk: dict[str, bytes | None] = {}

    def sink(f: FileStat, addr: str, data: bytes | None) -> str:
        sunk[f.path] = data
        return addr

    hashing.scan(
        root,
        walk(root).files,
        lookup=lambda f: cached.get(f.path),
        sink=sink,
        stored={address(b"s")},
    )
    assert sunk == {"cached": None, "new": b"n"}


def test_a_file_changing_while_read_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path / "d", {"a.txt": b"a", "grows.log": b"line\n"})
    real = hashing.digest

    def append_while_reading(
        path: Path, expected: FileStat, **kw: Any
    ) -> tuple[str, bytes | None] | None:
        if expected.path == "grows.log":
            with open(path, "ab") as fh:
                fh.write(b"another line\n")
        return real(path, expected, **kw)

    monkeypatch.setattr(hashing, "digest", append_while_reading)
    with pytest.raises(InvalidInput, match=r"grows\.log changed while it was being read"):
        hashing.scan(root, walk(root).files)


def test_a_file_name_that_is_not_utf8_is_refused_with_its_path(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"sub/ok.txt": b"a"})
    bad = os.fsencode(root / "sub") + b"/caf\xe9.txt"
    with open(bad, "wb") as fh:
        fh.write(b"b")
    with pytest.raises(InvalidInput, match=r"not valid UTF-8: .*sub/caf\\xe9\.txt"):
        walk(root)


def test_a_file_shrunk_or_grown_since_the_walk_is_named(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"short.txt": b"0123456789", "long.txt": b"01"})
    files = walk(root).files
    for name, content in (("short.txt", b"0123"), ("long.txt", b"0123456789" * 1000)):
        (root / name).write_bytes(content)
        with pytest.raises(InvalidInput, match=rf"{name} changed while it was being read"):
            hashing.scan(root, [f for f in files if f.path == name])


def test_a_file_removed_before_it_is_read_is_named(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"gone.txt": b"a"})
    files = walk(root).files
    (root / "gone.txt").unlink()
    with pytest.raises(InvalidInput, match=r"gone\.txt disappeared"):
        hashing.scan(root, files)


# -- stat cache --------------------------------------------------------------------------


def stat_of(root: Path, rel: str) -> FileStat:
    return next(f for f in walk(root).files if f.path == rel)


NOW = time.time_ns()


def test_cache_answers_only_for_an_identical_stat(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": b"aaaa"})
    f = stat_of(root, "a")
    cache = StatCache(tmp_path / "cache", root).load()
    cache.record(f, "a" * 64, observed_ns=NOW)
    cache.save()
    again = StatCache(tmp_path / "cache", root).load()
    assert again.lookup(f) == "a" * 64
    assert again.lookup(f._replace(size=5)) is None
    assert again.lookup(f._replace(mtime_ns=f.mtime_ns + 1)) is None
    assert again.lookup(f._replace(inode=f.inode + 1)) is None
    assert again.lookup(f._replace(path="b")) is None


def test_cache_misses_after_a_real_edit_and_a_replace(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": b"aaaa", "b": b"bbbb"})
    cache = StatCache(tmp_path / "cache", root).load()
    for f in walk(root).files:
        cache.record(f, address(f.path.encode()), observed_ns=NOW)
    make_tree(root, {"a": b"AAAA"}, mtime=HOUR_AGO + 10)  # same size, new mtime
    make_tree(tmp_path, {"b.new": b"BBBB"})  # same size and mtime, new inode
    os.replace(tmp_path / "b.new", root / "b")
    assert cache.lookup(stat_of(root, "a")) is None
    assert cache.lookup(stat_of(root, "b")) is None


def test_recently_modified_files_are_not_trusted(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"fresh": b"f"}, mtime=time.time())
    f = stat_of(root, "fresh")
    cache = StatCache(tmp_path / "cache", root).load()
    cache.record(f, "f" * 64, observed_ns=time.time_ns())
    assert cache.lookup(f) is None


def test_cache_forgets_files_no_longer_in_the_folder(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": b"a", "b": b"b"})
    cache = StatCache(tmp_path / "cache", root).load()
    for f in walk(root).files:
        cache.record(f, "a" * 64, observed_ns=NOW)
    cache.save()
    cache = StatCache(tmp_path / "cache", root).load()
    cache.keep_only(["a"])
    cache.save()
    assert len(StatCache(tmp_path / "cache", root).load()) == 1


def test_each_folder_has_its_own_cache(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", {"a": b"a"})
    two = make_tree(tmp_path / "two", {"a": b"a"})
    cache = StatCache(tmp_path / "cache", one).load()
    cache.record(stat_of(one, "a"), "a" * 64, observed_ns=NOW)
    cache.save()
    assert len(StatCache(tmp_path / "cache", two).load()) == 0


@pytest.mark.parametrize(
    "damage",
    [b"this is not a sqlite database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000, b""],
)
def test_a_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path, damage: bytes) -> None:
    root = make_tree(tmp_path / "d", {"a": b"a"})
    f = stat_of(root, "a")
    cache = StatCache(tmp_path / "cache", root).load()
    cache.record(f, "a" * 64, observed_ns=NOW)
    cache.save()
    cache.path.write_bytes(damage)
    broken = StatCache(tmp_path / "cache", root).load()
    assert broken.lookup(f) is None
    broken.record(f, "b" * 64, observed_ns=NOW)
    broken.save()
    assert StatCache(tmp_path / "cache", root).load().lookup(f) == "b" * 64


def test_an_unwritable_cache_dir_costs_speed_not_an_error(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": b"a"})
    blocker = tmp_path / "cache"
    blocker.write_bytes(b"a file where the cache folder should be")
    cache = StatCache(blocker, root).load()
    cache.record(stat_of(root, "a"), "a" * 64, observed_ns=NOW)
    cache.save()  # no exception
    assert len(StatCache(blocker, root).load()) == 0


def test_fingerprint_changes_with_any_file_stat(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": b"a", "sub/b": b"b"})
    before = walk(root).fingerprint
    assert walk(root).fingerprint == before
    os.utime(root / "a", (HOUR_AGO + 1, HOUR_AGO + 1))
    touched = walk(root).fingerprint
    assert touched != before
    (root / "sub/b").chmod(0o755)
    assert walk(root).fingerprint not in (before, touched)
    (root / "sub/b").rename(root / "sub/c")
    assert len({before, touched, walk(root).fingerprint}) == 3


def test_snapshot_remembers_which_version_an_unchanged_folder_holds(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": b"a", "b": b"b"})
    cache = StatCache(tmp_path / "cache", root).load()
    cache.set_snapshot(walk(root), "m" * 64, observed_ns=NOW)
    cache.save()
    again = StatCache(tmp_path / "cache", root).load()
    assert again.clean_manifest(walk(root).fingerprint) == "m" * 64
    make_tree(root, {"c": b"c"})
    assert again.clean_manifest(walk(root).fingerprint) is None


def test_no_snapshot_while_a_file_is_racy(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"old": b"o"})
    make_tree(root, {"fresh": b"f"}, mtime=time.time())
    cache = StatCache(tmp_path / "cache", root).load()
    cache.set_snapshot(walk(root), "m" * 64, observed_ns=time.time_ns())
    assert cache.clean_manifest(walk(root).fingerprint) is None


# -- compare -----------------------------------------------------------------------------


def test_compare_sees_content_size_and_exec_bit_changes() -> None:
    def e(path: str, content: bytes, executable: bool = False) -> FileEntry:
        return FileEntry(path, address(content), len(content), executable)

    old = {x.path: x for x in [e("same", b"s"), e("edit", b"1"), e("gone", b"g"), e("x", b"x")]}
    new = {
        x.path: x for x in [e("same", b"s"), e("edit", b"2"), e("new", b"n"), e("x", b"x", True)]
    }
    changes = compare(old, new)
    assert (changes.added, changes.removed, changes.modified) == (["new"], ["gone"], ["edit", "x"])
    assert changes.unchanged == 1
    assert changes.changed
    assert not compare(old, old).changed


def test_compare_folder_reads_only_same_size_files_the_cache_does_not_know(tmp_path: Path) -> None:
    files = {"same": b"s", "cached": b"c", "edited": b"e", "grown": b"g", "new": b"n"}
    root = make_tree(tmp_path / "d", files | {"edited": b"E", "grown": b"gg"})
    old = {p: FileEntry(p, address(c), len(c)) for p, c in files.items() if p != "new"}
    old["gone"] = FileEntry("gone", address(b"x"), 1)
    asked: list[str] = []

    def hash_files(stats: list[FileStat]) -> list[str]:
        asked.extend(f.path for f in stats)
        return [address((root / f.path).read_bytes()) for f in stats]

    changes = compare_folder(
        old,
        walk(root).files,
        lambda f: address(b"c") if f.path == "cached" else None,
        hash_files,
    )
    assert asked == ["edited", "same"]
    assert (changes.added, changes.removed) == (["new"], ["gone"])
    assert changes.modified == ["edited", "grown"]
    assert changes.unchanged == 2


# -- materialise -------------------------------------------------------------------------


def opener(objects: dict[str, bytes]) -> Callable[[str], IO[bytes]]:
    def open_object(addr: str) -> IO[bytes]:
        if addr not in objects:
            raise ObjectMissing(f"object {addr} is not in the test store")
        return io.BytesIO(objects[addr])

    return open_object


def entries_for(
    files: dict[str, bytes], executable: frozenset[str] = frozenset()
) -> list[FileEntry]:
    return [FileEntry(p, address(c), len(c), p in executable) for p, c in sorted(files.items())]


def test_materialise_writes_exact_bytes_and_exec_bit(tmp_path: Path) -> None:
    files = {"a/b/c.bin": os.urandom(3000), "run.sh": b"#!/bin/sh\n", "empty": b""}
    objects = {address(c): c for c in files.values()}
    out = tmp_path / "new" / "out"
    n = materialise(entries_for(files, frozenset({"run.sh"})), out, opener(objects))
    assert n == 3
    assert {p: (out / p).read_bytes() for p in files} == files
    assert os.access(out / "run.sh", os.X_OK)
    assert not os.access(out / "a/b/c.bin", os.X_OK)
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no staging left


def test_materialise_refuses_a_folder_with_files_unless_forced(tmp_path: Path) -> None:
    files = {"a.txt": b"new"}
    objects = {address(b"new"): b"new"}
    out = make_tree(tmp_path / "out", {"a.txt": b"old", "mine.txt": b"keep me"})
    with pytest.raises(InvalidInput, match="is not empty"):
        materialise(entries_for(files), out, opener(objects))
    assert (out / "a.txt").read_bytes() == b"old"
    materialise(entries_for(files), out, opener(objects), force=True)
    assert (out / "a.txt").read_bytes() == b"new"
    assert (out / "mine.txt").read_bytes() == b"keep me"
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "mine.txt"]


def test_materialise_into_an_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    materialise(entries_for({"a": b"a"}), tmp_path / "out", opener({address(b"a"): b"a"}))
    assert (tmp_path / "out" / "a").read_bytes() == b"a"


def test_a_corrupt_object_fails_the_checkout_and_leaves_nothing(tmp_path: Path) -> None:
    files = {f"f{i}": f"content {i}".encode() for i in range(200)}
    objects = {address(c): c for c in files.values()}
    objects[address(files["f17"])] = b"content 1x"  # bit rot, same size
    out = tmp_path / "out"
    with pytest.raises(ObjectCorrupt, match=r"f17: stored object .* is corrupt"):
        materialise(entries_for(files), out, opener(objects))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_object_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ObjectMissing, match=r"^pics/a\.jpg: object"):
        materialise(entries_for({"pics/a.jpg": b"a"}), tmp_path / "out", opener({}))
    assert list(tmp_path.iterdir()) == []


def test_materialise_refuses_paths_that_escape_the_folder(tmp_path: Path) -> None:
    bad = [FileEntry("../escape.txt", address(b"x"), 1)]
    with pytest.raises(InvalidInput, match="unsafe path"):
        materialise(bad, tmp_path / "out", opener({address(b"x"): b"x"}))
    assert not (tmp_path / "escape.txt").exists()
