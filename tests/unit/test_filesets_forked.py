"""Reading a big folder in two processes (mlgrove.filesets.forked): the same result as
one process, every file handed to a sink exactly once, errors from either process
raised in the caller and the child's leftovers abandoned.

Real forks, on small folders: the size from which the work is shared is lowered.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import blake3
import pytest

from mlgrove.errors import InvalidInput, StorageError
from mlgrove.filesets import forked, hashing
from mlgrove.filesets.forked import Split
from mlgrove.filesets.walk import FileStat, walk

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def address(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


@pytest.fixture(autouse=True)
def share_small_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "FORK_FILES", 16)
    monkeypatch.setattr(forked, "cpus", lambda: 2)  # even where the tests get one core


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    files = {f"d{i // 50}/f{i:03d}.bin": os.urandom(i * 7 % 900) for i in range(200)}
    files["d1/same-a"] = files["d3/same-b"] = b"equal bytes in both halves"
    root = tmp_path / "data"
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root, files


class Recorder:
    """A sink and a Split that report what each process saw."""

    def __init__(self) -> None:
        # (path, pid of the process that stored it, whether the bytes came with it)
        self.sunk: list[tuple[str, int, bool]] = []
        self.started: list[int] = []
        self.taken: list[Any] = []
        self.abandoned: list[int] = []
        self.meanwhile: list[int] = []  # how many files this process had sunk by then

    def sink(self, f: FileStat, addr: str, data: bytes | None) -> str:
        assert data is None or address(data) == addr
        self.sunk.append((f.path, os.getpid(), data is not None))
        return addr

    def split(self, **override: Any) -> Split:
        def hand_over() -> list[tuple[str, int, bool]]:
            return self.sunk

        parts: dict[str, Any] = {
            "start": lambda: self.started.append(os.getpid()),
            "hand_over": hand_over,
            "take_over": self.taken.append,
            "abandon": self.abandoned.append,
            "meanwhile": lambda: self.meanwhile.append(len(self.sunk)),
        }
        return Split(**(parts | override))


def test_two_processes_give_what_one_gives(folder: tuple[Path, dict[str, bytes]]) -> None:
    root, files = folder
    w = walk(root)
    one = hashing.scan(root, w.files)
    rec = Recorder()
    seen: list[int] = []
    two = hashing.scan(root, w.files, sink=rec.sink, split=rec.split(), progress=seen.append)
    assert two.addresses == one.addresses == [address(files[f.path]) for f in w.files]
    assert two.hashed == one.hashed == list(range(len(w.files)))
    assert sum(seen) == len(files)  # the child's files are counted too, once
    # Every file reached a sink once: a share in the child (whose record came back
    # through take_over), the rest in this process.
    [handed] = rec.taken
    mine = [path for path, pid, _ in rec.sunk if pid == os.getpid()]
    theirs = [path for path, pid, _ in handed if pid != os.getpid()]
    assert sorted(mine + theirs) == sorted(files)
    assert len(theirs) == int(len(files) * forked.CHILD_SHARE)
    assert rec.started == []  # start ran in the child only
    assert rec.meanwhile == [len(mine)]  # once, in the parent, after its own files
    assert rec.abandoned == []


def test_lookups_and_known_content_are_honoured_in_both_halves(
    folder: tuple[Path, dict[str, bytes]],
) -> None:
    root, files = folder
    w = walk(root)
    cached = {f.path: address(files[f.path]) for f in w.files[::3]}
    stored = {cached[p] for p in list(cached)[::2]}
    rec = Recorder()
    result = hashing.scan(
        root,
        w.files,
        lookup=lambda f: cached.get(f.path),
        sink=rec.sink,
        stored=stored,
        split=rec.split(),
    )
    assert result.addresses == [address(files[f.path]) for f in w.files]
    assert result.hashed == [i for i, f in enumerate(w.files) if f.path not in cached]
    [handed] = rec.taken
    sunk = {path: with_bytes for path, _, with_bytes in rec.sunk + handed}
    # Content the cache knows and the store holds is skipped; content the cache knows
    # but the store may lack reaches a sink without bytes (it reads the file itself).
    assert sunk == {p: p not in cached for p in files if p not in cached or cached[p] not in stored}


def test_small_folders_are_read_in_one_process(
    folder: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = folder
    monkeypatch.setattr(forked, "FORK_FILES", 10_000)

    def no_fork(*args: Any) -> Any:
        raise AssertionError("forked for a small folder")

    monkeypatch.setattr(forked, "scan_in_two", no_fork)
    rec = Recorder()
    hashing.scan(root, walk(root).files, sink=rec.sink, split=rec.split())
    assert {pid for _, pid, _ in rec.sunk} == {os.getpid()}
    assert forked.worth_forking(10_000)
    monkeypatch.setattr(forked, "cpus", lambda: 1)
    assert not forked.worth_forking(10_000)  # no second core, no second process


def test_a_file_changed_in_the_childs_half_is_named_and_the_child_abandoned(
    folder: tuple[Path, dict[str, bytes]],
) -> None:
    root, _ = folder
    w = walk(root)
    last = w.files[-1].path  # the child reads the second half
    (root / last).write_bytes(b"changed after the walk, longer than before" * 40)
    rec = Recorder()
    with pytest.raises(InvalidInput, match=f"{last} changed while it was being read"):
        hashing.scan(root, w.files, sink=rec.sink, split=rec.split())
    [pid] = rec.abandoned
    assert pid != os.getpid()
    assert rec.taken == []
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # reaped: no zombie left behind


def test_an_error_in_the_parents_half_stops_the_child(
    folder: tuple[Path, dict[str, bytes]],
) -> None:
    root, _ = folder
    w = walk(root)
    first = w.files[0].path
    (root / first).unlink()
    rec = Recorder()
    with pytest.raises(InvalidInput, match=f"{first} disappeared"):
        hashing.scan(root, w.files, sink=rec.sink, split=rec.split())
    [pid] = rec.abandoned
    assert rec.taken == []
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_a_child_that_crashes_or_dies_is_an_error(folder: tuple[Path, dict[str, bytes]]) -> None:
    root, _ = folder
    files = walk(root).files

    def crash() -> None:
        raise RuntimeError("a bug in the child")

    rec = Recorder()
    with pytest.raises(StorageError, match="RuntimeError: a bug in the child"):
        hashing.scan(root, files, sink=rec.sink, split=rec.split(hand_over=crash))
    assert len(rec.abandoned) == 1

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    rec = Recorder()
    with pytest.raises(StorageError, match=r"without a result \(signal 9\)"):
        hashing.scan(root, files, sink=rec.sink, split=rec.split(hand_over=die))
    assert len(rec.abandoned) == 1


def test_when_no_process_can_be_made_one_process_does_it_all(
    folder: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, files = folder

    def no_more_processes() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    w = walk(root)
    rec = Recorder()
    result = hashing.scan(root, w.files, sink=rec.sink, split=rec.split())
    assert result.addresses == [address(files[f.path]) for f in w.files]
    assert {pid for _, pid, _ in rec.sunk} == {os.getpid()}
    assert len(rec.sunk) == len(files)
    assert rec.taken == rec.meanwhile == []


def test_the_child_gets_no_file_it_would_hash_on_several_threads(tmp_path: Path) -> None:
    files = {f"f{i:02d}": b"x" * (i + 1) for i in range(40)}
    files["big"] = b"b" * (forked.CHILD_MAX_BYTES + 1)
    root = tmp_path / "data"
    root.mkdir()
    for rel, content in files.items():
        (root / rel).write_bytes(content)
    w = walk(root)
    todo = forked.to_read(w.files, [None] * len(w.files), None, frozenset())
    assert sorted(w.files[i].path for i in todo) == sorted(set(files) - {"big"})
