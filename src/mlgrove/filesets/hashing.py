"""Hashing many files at once: BLAKE3 on a pool of threads.

Threads, not processes: opening and reading files and BLAKE3 over big buffers all
release the GIL, and threads share the object store and the results without pickling.

Small files (under :data:`BIG_FILE`) are read whole and handed to the caller's *sink*
with their bytes, so storing them needs no second read. Big files are read in blocks
into one hasher that itself uses several threads. They are read, not memory-mapped:
a file truncated while it is mapped kills the process with SIGBUS, and "a file changed
while we added it" must be an error message, not a crash.

A file whose size, mtime or inode after reading differ from what the walk saw changed
while being read: that raises :class:`~mlgrove.errors.InvalidInput` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import blake3

from mlgrove.errors import InvalidInput
from mlgrove.filesets.walk import FileStat

__all__ = [
    "BIG_FILE",
    "DEFAULT_WORKERS",
    "Lookup",
    "Scan",
    "Sink",
    "check_unchanged",
    "digest",
    "scan",
]

BIG_FILE = 4 << 20
BLOCK = 8 << 20
BATCH_FILES = 128
BATCH_BYTES = 32 << 20
DEFAULT_WORKERS = min(16, (os.cpu_count() or 1) * 4)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

# Called on a worker thread for every file with its address and, for small files just
# hashed, its bytes (else None). Returns the address to record: normally the one given;
# another one when storing the file found its bytes differ (a stale cache entry).
Sink = Callable[[FileStat, str, bytes | None], str]
Lookup = Callable[[FileStat], str | None]
Progress = Callable[[int], None]

_HINT = "add again once nothing is writing to the folder"


def changed(path: str) -> InvalidInput:
    return InvalidInput(f"{path} changed while it was being read", hint=_HINT)


def _same(expected: FileStat, after: os.stat_result) -> bool:
    return (
        after.st_size == expected.size
        and after.st_mtime_ns == expected.mtime_ns
        and after.st_ino == expected.inode
    )


def check_unchanged(path: Path, expected: FileStat) -> None:
    """Raise :class:`InvalidInput` unless the file's stat is still ``expected``."""
    try:
        after = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise InvalidInput(
            f"{expected.path} disappeared while it was being read", hint=_HINT
        ) from None
    if not _same(expected, after):
        raise changed(expected.path)


def _read_small(path: Path, size: int) -> tuple[bytes, os.stat_result]:
    """A small file's bytes and its stat after reading, in four system calls (Python's
    buffered ``open`` adds a stat, two seeks and a terminal check per file). One byte
    more than expected is asked for, so a file that grew shows in the length."""
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    try:
        data = os.read(fd, size + 1)
        if len(data) == size + 1 or (0 < len(data) < size):
            # Grew, or a short read: read the rest the slow way; the checks decide.
            parts = [data]
            while block := os.read(fd, BLOCK):
                parts.append(block)
            data = b"".join(parts)
        return data, os.fstat(fd)
    finally:
        os.close(fd)


def digest(path: Path, expected: FileStat) -> tuple[str, bytes | None]:
    """BLAKE3 of one file: ``(address, its bytes if small else None)``."""
    try:
        data: bytes | None
        if expected.size < BIG_FILE:
            data, after = _read_small(path, expected.size)
            address = blake3.blake3(data).hexdigest()
        else:
            with open(path, "rb") as fh:
                data = None
                hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
                buf = bytearray(BLOCK)
                view = memoryview(buf)
                while n := fh.readinto(buf):
                    hasher.update(view[:n])
                address = hasher.hexdigest()
                after = os.fstat(fh.fileno())
    except FileNotFoundError:
        raise InvalidInput(
            f"{expected.path} disappeared while it was being read", hint=_HINT
        ) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {expected.path}: {exc.strerror}") from None
    if not _same(expected, after) or (data is not None and len(data) != expected.size):
        raise changed(expected.path)
    return str(address), data


@dataclass
class Scan:
    addresses: list[str]  # one per file given, in the same order
    hashed: list[int]  # indexes of the files that were read (not answered by the lookup)


_Task = tuple[int, str | None]  # file index, address known from the lookup (or None)


def scan(
    root: Path,
    files: Sequence[FileStat],
    *,
    lookup: Lookup | None = None,
    sink: Sink | None = None,
    stored: Container[str] = frozenset(),
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
) -> Scan:
    """The address of every file under ``root``, hashing only what ``lookup`` cannot answer.

    ``sink`` sees every file (on a worker thread) except those whose address ``lookup``
    answered and ``stored`` holds: their content is known to be stored already.

    ``progress`` receives increments, in files, from the calling thread. The first error
    stops the scan (files not yet started are not read) and is raised.
    """
    addresses = [""] * len(files)
    hashed: list[int] = []
    batches: list[list[_Task]] = []
    batch: list[_Task] = []
    batch_bytes = 0
    answered = 0
    for i, f in enumerate(files):
        known = lookup(f) if lookup is not None else None
        if known is not None and (sink is None or known in stored):
            addresses[i] = known
            answered += 1
            continue
        if known is None and f.size >= BIG_FILE:
            batches.append([(i, None)])  # alone: it uses several threads by itself
            continue
        batch.append((i, known))
        batch_bytes += f.size if known is None else 0
        if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
            batches.append(batch)
            batch, batch_bytes = [], 0
    if batch:
        batches.append(batch)
    if progress is not None and answered:
        progress(answered)

    def work(tasks: list[_Task]) -> list[tuple[int, str, bool]]:
        out = []
        for i, known in tasks:
            f = files[i]
            if known is None:
                address, data = digest(root / f.path, f)
            else:
                address, data = known, None
            recorded = sink(f, address, data) if sink is not None else address
            out.append((i, recorded, known is None or recorded != known))
        return out

    if not batches:
        return Scan(addresses, hashed)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="grove-hash")
    try:
        futures: list[Future[list[tuple[int, str, bool]]]] = [pool.submit(work, b) for b in batches]
        for future in as_completed(futures):
            results = future.result()
            for i, address, was_read in results:
                addresses[i] = address
                if was_read:
                    hashed.append(i)
            if progress is not None:
                progress(len(results))
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    hashed.sort()
    return Scan(addresses, hashed)
