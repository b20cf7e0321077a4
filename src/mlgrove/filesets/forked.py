"""Reading and hashing a big folder on two cores: part of the files in a forked child.

Reading, hashing and storing 100,000 small files is Python work on one core (the GIL),
about 1.3 s of a 3.3 s ``mlgrove data add`` (docs/adr/0016-two-processes-for-big-folders.md).
Above :data:`FORK_FILES` files to read, and when a second core is free, the caller's
process forks once: the child reads, hashes and stores the last :data:`CHILD_SHARE` of
the files (into its own pack, through the store it inherited) while the parent does the
rest; then the child sends back its addresses and what it stored, and the parent takes
its stored objects over (:class:`Split`), to publish them with its own when the batch
ends. The result is the same as one process reading everything.

Why fork, not a pool of fresh interpreters: the child inherits the file list, the stat
cache, the store's view of what it holds and the caller's sink without pickling any of
it, and starts in milliseconds. What a forked child must not do, it does not:

- It never touches the database: the parent's connections (SQLite files, PostgreSQL
  sockets) are shared with it, so it leaves every one alone, runs no garbage collection
  (a collected connection could close the parent's socket) and ends with ``os._exit``
  (no ``atexit``, no finalisers, no flush of the parent's buffered output).
- It takes no lock another thread of the parent might have held at the fork (a
  progress bar's thread, say): it writes nothing to stdout or stderr, and reports its
  progress through a shared memory counter and its result through a pipe. It makes no
  SQLite call (SQLite's process-wide mutexes may be held by the parent's WAL
  checkpoint thread at the fork), and uses no thread pool the parent may have started
  (files over :data:`CHILD_MAX_BYTES`, hashed by BLAKE3's pool, stay with the parent).

Errors: whichever process fails first stops the other (the parent kills the child; a
child that fails sets a flag the parent sees at its next progress step), the child's
temporary files are removed (:attr:`Split.abandon`), and the error is raised in the
parent as it would have been raised by one process.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import select
import signal
import struct
import warnings
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from mlgrove.errors import GroveError, StorageError
from mlgrove.filesets.hashing import Progress, Scan, Sink, scan_range
from mlgrove.filesets.walk import FileStat

__all__ = ["CHILD_MAX_BYTES", "FORK_FILES", "Split", "scan_in_two", "to_read", "worth_forking"]

#: Fork only when at least this many files must be read. Below it the one-core scan
#: takes under ~0.1 s, and a fork, the hand-over and the pickling would eat the gain.
FORK_FILES = 8192
#: The child's part of the files to read. After its files the child still finishes its
#: pack and sends its result (about a tenth of its time); the parent, its ``meanwhile``
#: work (for an add, recording its objects in the database: about a fifth). Measured
#: at 100k files, half each kept either from waiting long for the other.
CHILD_SHARE = 0.5
#: The child reads only files up to this size: it reads them whole and hashes them on its
#: own thread. Bigger ones are hashed on several threads (BLAKE3's Rayon pool), and a
#: thread pool the parent started before the fork does not exist in the child: waiting
#: on it would hang. They stay with the parent.
CHILD_MAX_BYTES = 1 << 20
_COUNTER = struct.Struct("<qq")  # files the child has done, 1 once it failed
_WAIT_S = 0.1  # how often the parent reports the child's progress while it waits


@dataclass(frozen=True)
class Split:
    """What the caller does around the child's share (``take_over`` receives what
    ``hand_over`` returned)."""

    start: Callable[[], None]  # in the child, first (e.g. tag its temporary files)
    hand_over: Callable[[], Any]  # in the child, after its files: a picklable value
    take_over: Callable[[Any], None]  # in the parent, with that value
    abandon: Callable[[int], None]  # in the parent, given the child's pid, if it failed
    # In the parent, once its own files are done and before it waits for the child's:
    # work that needs only the parent's results (an error in it stops the child).
    meanwhile: Callable[[], None] | None = None


def cpus() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worth_forking(files_to_read: int) -> bool:
    return hasattr(os, "fork") and files_to_read >= FORK_FILES and cpus() >= 2


def to_read(
    files: Sequence[FileStat],
    known: Sequence[str | None],
    sink: Sink | None,
    stored: Container[str],
) -> list[int]:
    """Indexes of the small files that will be read (or handed to ``sink``): the work to
    share. Files over :data:`CHILD_MAX_BYTES` and files answered without the sink stay
    with the parent."""
    return [
        i
        for i, (f, address) in enumerate(zip(files, known, strict=True))
        if f.size <= CHILD_MAX_BYTES
        and (address is None or (sink is not None and address not in stored))
    ]


class _ChildFailed(Exception):
    """The child set its failure flag: stop the parent's half and fetch its error."""


def scan_in_two(
    root: Path,
    files: Sequence[FileStat],
    known: Sequence[str | None],
    todo: list[int],
    sink: Sink | None,
    stored: Container[str],
    workers: int,
    progress: Progress | None,
    split: Split,
) -> Scan:
    """:func:`~mlgrove.filesets.hashing.scan` with the end of ``todo`` in a child."""
    import pickle  # noqa: F401  (for the child: imported before the fork)

    theirs = todo[len(todo) - int(len(todo) * CHILD_SHARE) :]
    given = set(theirs)
    mine = [i for i in range(len(files)) if i not in given]
    addresses = [""] * len(files)
    hashed: list[int] = []
    shared = mmap.mmap(-1, _COUNTER.size)  # anonymous and MAP_SHARED: seen by both
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process with threads; the child keeps
            # clear of every lock another thread could hold (see the module's docstring).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:  # no process to spare (EAGAIN, ENOMEM): one process reads it all
        os.close(read_end)
        os.close(write_end)
        shared.close()
        scan_range(
            root,
            files,
            range(len(files)),
            known,
            sink,
            stored,
            workers,
            progress,
            addresses,
            hashed,
        )
        hashed.sort()
        return Scan(addresses, hashed)
    if pid == 0:  # the child
        os.close(read_end)
        _child(write_end, shared, split, root, files, theirs, known, sink, stored, workers)
    os.close(write_end)
    seen = 0

    def report(n: int) -> None:
        nonlocal seen
        done, failed = _COUNTER.unpack_from(shared)
        if failed:
            raise _ChildFailed
        if progress is not None:
            progress(n + done - seen)
        seen = done

    try:
        try:
            scan_range(root, files, mine, known, sink, stored, workers, report, addresses, hashed)
            if split.meanwhile is not None:
                split.meanwhile()
            payload = _receive(read_end, lambda: report(0))
        except _ChildFailed:
            payload = _receive(read_end, lambda: None)
        status = _reap(pid)
    except BaseException:
        _stop(pid)
        split.abandon(pid)
        raise
    finally:
        os.close(read_end)
        shared.close()
    if not (isinstance(payload, tuple) and payload[0] == "ok" and status == 0):
        split.abandon(pid)
        raise _error(payload, status)
    _, their_addresses, their_hashed, handed = payload
    for i, address in zip(theirs, their_addresses, strict=True):
        addresses[i] = address
    hashed += their_hashed
    if progress is not None and len(theirs) > seen:
        progress(len(theirs) - seen)  # the child's last files
    split.take_over(handed)
    hashed.sort()
    return Scan(addresses, hashed)


def _child(
    out: int,
    shared: mmap.mmap,
    split: Split,
    root: Path,
    files: Sequence[FileStat],
    theirs: list[int],
    known: Sequence[str | None],
    sink: Sink | None,
    stored: Container[str],
    workers: int,
) -> NoReturn:
    import pickle  # loaded by scan_in_two already: no import work in the child

    status = 1
    try:
        gc.disable()  # never again in this process: see the module's docstring
        # Ctrl-C reaches the whole process group: the parent stops the child itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n
            _COUNTER.pack_into(shared, 0, done, 0)

        try:
            split.start()
            addresses = [""] * len(files)
            hashed: list[int] = []
            scan_range(root, files, theirs, known, sink, stored, workers, count, addresses, hashed)
            handed = split.hand_over()
            data = pickle.dumps(
                ("ok", [addresses[i] for i in theirs], hashed, handed),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            ok = True
        except BaseException as exc:  # everything goes to the parent
            _COUNTER.pack_into(shared, 0, done, 1)
            data = pickle.dumps(_failure(exc), protocol=pickle.HIGHEST_PROTOCOL)
            ok = False
        view = memoryview(data)
        while view:
            view = view[os.write(out, view) :]
        status = 0 if ok else 1
    finally:
        os._exit(status)


def _failure(exc: BaseException) -> tuple[Any, ...]:
    import traceback

    if isinstance(exc, GroveError):
        return ("error", type(exc), exc.message, exc.hint)
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return ("crash", text, "".join(traceback.format_exception(exc)))


def _error(payload: Any, status: int) -> GroveError:
    if isinstance(payload, tuple) and payload[0] == "error":
        _, cls, message, hint = payload
        try:
            return cls(message, hint=hint)  # type: ignore[no-any-return]
        except TypeError:  # an error class with other arguments
            return StorageError(message, hint=hint)
    if isinstance(payload, tuple) and payload[0] == "crash":
        return StorageError(f"reading the files failed in the helper process: {payload[1]}")
    how = f"signal {-status}" if status < 0 else f"exit status {status}"
    return StorageError(
        f"the helper process reading the files ended without a result ({how})",
        hint="try again; if it keeps failing, report it",
    )


def _receive(fd: int, tick: Callable[[], None]) -> Any:
    """The child's pickled message (None if it ended without one), calling ``tick``
    every :data:`_WAIT_S` while waiting for it."""
    import pickle

    while not select.select([fd], [], [], _WAIT_S)[0]:
        tick()
    parts = []
    while block := os.read(fd, 1 << 20):
        parts.append(block)
    if not parts:
        return None
    try:
        return pickle.loads(b"".join(parts))
    except Exception:  # a child killed mid-write
        return None


def _reap(pid: int) -> int:
    """Wait for the child; its exit status, or minus the signal that ended it."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
