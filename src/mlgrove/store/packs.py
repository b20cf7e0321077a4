"""Pack files: many small objects in one file, as git and restic keep them.

Storing 100,000 small files as 100,000 object files costs a create, a write and a rename
each in the kernel, and that, not hashing or fsync, is what made adding a folder of
small files slow (docs/adr/0014-pack-files.md). Inside a batch the local store appends
small objects to one open pack instead, and publishes the pack with its index when the
batch ends.

On disk, under ``<store>/packs/``::

    pack-<name>.pack   b"GRVPACK1", then per object: BLAKE3 digest (32 bytes),
                       length (u64 little-endian), the object's bytes
    pack-<name>.idx    b"GRVIDX01", count (u64), then per object, sorted by digest:
                       digest (32), offset of its bytes in the pack (u64), length (u64);
                       then the BLAKE3 of everything before (32 bytes)

A pack is visible only through its index. Both are written under ``tmp/``, fsynced, then
the pack is renamed into ``packs/`` and the index after it: a crash at any point leaves
no index naming bytes that are not on disk, and a pack without an index is never read.
The pack repeats each object's digest and length so that an index could be rebuilt from
its pack alone. Packs and indexes are immutable: deleting an object rewrites its pack
under a new name (see :meth:`PackSet.drop`).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import queue
import struct
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import blake3

__all__ = ["PACK_MAX_BYTES", "PackSet", "PackWriter", "fsync_dir"]

PACK_MAGIC = b"GRVPACK1"
INDEX_MAGIC = b"GRVIDX01"
RECORD = struct.Struct("<32sQ")  # before each object in a pack: digest, length
ENTRY = struct.Struct("<32sQQ")  # one index entry: digest, offset of the bytes, length
HEADER = struct.Struct("<8sQ")  # index header: magic, count
TRAILER = 32  # BLAKE3 of the index before it

#: A pack is closed and another started past this size: a delete rewrites one pack,
#: so this bounds its cost.
PACK_MAX_BYTES = 256 << 20
#: Appends are buffered and written in blocks of this size (one write per block, not
#: one per object).
FLUSH_BYTES = 4 << 20
IOV_MAX = min(1024, os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024)
#: Blocks handed to the writing thread and not yet written, at most.
QUEUED_BLOCKS = 4
#: The writing thread flushes the pack to the disk after this many bytes.
SYNC_BYTES = 64 << 20
#: A folder changed less than this long before it was listed may change again without
#: its mtime changing (coarse timestamps): it is listed again on the next miss.
RACY_NS = 1_000_000_000
#: Most pack files kept open for reading at once.
MAX_OPEN = 128
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


_SYNC: list[bytes] = []  # queued after parts: flush them to the disk (compared by identity)


class DamagedIndex(ValueError):
    """A pack index that is truncated, of another format, or fails its checksum."""


# -- writing ----------------------------------------------------------------------------


class PackWriter:
    """One pack being written under ``tmp/``. Not thread-safe: the store serialises
    :meth:`append` under its lock.

    The bytes go to disk on a thread of their own, a few MB at a time, and are flushed
    to the disk (``fdatasync``) every :data:`SYNC_BYTES` while the caller goes on
    hashing: the system calls run on the other core, and when the batch ends only the
    last few MB are left to wait for.
    """

    def __init__(self, tmp_dir: Path, *, prefix: str = "") -> None:
        stem = tmp_dir / f"{prefix}{uuid.uuid4().hex}"
        self.pack_tmp = Path(f"{stem}.pack.part")
        self.index_tmp = Path(f"{stem}.idx.part")
        # Read-only from birth, like loose objects: the descriptor still writes.
        self._fd = os.open(self.pack_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o444)
        # Parts waiting for one writev: no copying into a buffer, one call per ~4 MB.
        # (Copying each object into reused 4 MB blocks instead, written with one write
        # each, was measured slower: 0.79 s against 0.52 s for 100k objects of 4 KB,
        # twice the system time.)
        self._parts: list[bytes] = [PACK_MAGIC]
        self._buffered = len(PACK_MAGIC)
        self.size = len(PACK_MAGIC)  # bytes appended, written or waiting
        self.entries: list[tuple[bytes, int, int]] = []
        self.name = ""
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=QUEUED_BLOCKS)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._unsynced = 0
        self._finished = False

    @classmethod
    def finished(cls, pack_tmp: Path, index_tmp: Path, name: str) -> PackWriter:
        """A pack another process wrote and finished (its bytes and index fsynced under
        ``tmp/``), to publish or discard as if it were ours."""
        self = cls.__new__(cls)
        self.pack_tmp, self.index_tmp, self.name = pack_tmp, index_tmp, name
        self._fd, self._thread, self._finished = -1, None, True
        self.entries, self._parts = [], []
        return self

    def append(self, digest: bytes, data: bytes) -> None:
        n = len(data)
        offset = self.size + RECORD.size
        self._parts += (RECORD.pack(digest, n), data)
        self.entries.append((digest, offset, n))
        self.size = offset + n
        self._buffered += RECORD.size + n
        if self._buffered >= FLUSH_BYTES or len(self._parts) >= IOV_MAX - 1:
            self._hand_off()

    def _hand_off(self) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._drain, name="grove-pack-writer", daemon=True
            )
            self._thread.start()
        self._queue.put(self._parts)  # waits when the disk is behind: memory stays bounded
        self._parts = []
        self._buffered = 0

    def sync_ahead(self) -> None:
        """Have the writing thread write what was appended so far and flush it to the
        disk now, while the caller does other work: :meth:`finish` is then left with
        little to wait for."""
        if self._finished or self._error is not None:
            return
        self._hand_off()
        self._queue.put(_SYNC)

    def _drain(self) -> None:
        while (parts := self._queue.get()) is not None:
            if self._error is None:  # after an error, keep taking blocks: nobody waits
                try:
                    if parts is _SYNC:
                        _datasync(self._fd)
                        self._unsynced = 0
                    else:
                        self._write(parts)
                except BaseException as exc:  # raised to the caller on its next call
                    self._error = exc

    def _write(self, parts: list[bytes]) -> None:
        total = 0
        start = 0
        while start < len(parts):
            chunk = parts[start : start + IOV_MAX]
            written = os.writev(self._fd, chunk)
            total += written
            if written == sum(map(len, chunk)):
                start += len(chunk)
                continue
            # A short write (rare): skip what was written, go on from there.
            while written >= len(parts[start]):
                written -= len(parts[start])
                start += 1
            parts[start] = parts[start][written:]
        self._unsynced += total
        if self._unsynced >= SYNC_BYTES:
            _datasync(self._fd)
            self._unsynced = 0

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def finish(self) -> None:
        """Write what is left, the index next to the pack, and fsync both."""
        if self._finished:
            return
        try:
            self._stop()
            if self._error is not None:
                raise self._error
            self._write(self._parts)
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = -1
        self.entries.sort()
        body = bytearray(HEADER.pack(INDEX_MAGIC, len(self.entries)))
        body += b"".join(itertools.starmap(ENTRY.pack, self.entries))
        checksum = blake3.blake3(body).digest()
        # Named by its content, as git names packs: equal packs, one name.
        self.name = blake3.blake3(checksum).hexdigest()[:32]
        body += checksum
        fd = os.open(self.index_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o444)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._finished = True

    def publish(self, folder: Path) -> tuple[Path, Path]:
        """Rename the finished pack, then its index, into ``folder`` (the caller makes the
        renames durable)."""
        pack = folder / f"pack-{self.name}.pack"
        index = folder / f"pack-{self.name}.idx"
        os.replace(self.pack_tmp, pack)
        os.replace(self.index_tmp, index)
        return pack, index

    def discard(self) -> None:
        self._stop()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        for path in (self.pack_tmp, self.index_tmp):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


# -- reading ----------------------------------------------------------------------------


def read_index(path: Path) -> bytes:
    """The entries of an index file (``count * ENTRY.size`` bytes), checked."""
    data = path.read_bytes()
    if len(data) < HEADER.size + TRAILER:
        raise DamagedIndex(f"{path.name}: truncated ({len(data)} bytes)")
    magic, count = HEADER.unpack_from(data)
    if magic != INDEX_MAGIC:
        raise DamagedIndex(f"{path.name}: not a Grove pack index")
    end = HEADER.size + count * ENTRY.size
    if len(data) != end + TRAILER:
        raise DamagedIndex(f"{path.name}: {len(data)} bytes, expected {end + TRAILER}")
    if blake3.blake3(data[:end]).digest() != data[end:]:
        raise DamagedIndex(f"{path.name}: checksum mismatch")
    return data[HEADER.size : end]


@dataclass(eq=False)
class Pack:
    name: str
    path: Path  # the .pack file
    entries: bytes  # sorted index entries
    fd: int = -1
    users: int = 0  # readers between acquire and release
    last_used: int = 0

    @property
    def count(self) -> int:
        return len(self.entries) // ENTRY.size

    def entry(self, i: int) -> tuple[bytes, int, int]:
        digest, offset, length = ENTRY.unpack_from(self.entries, i * ENTRY.size)
        return digest, offset, length

    def digests(self) -> Iterator[bytes]:
        step = ENTRY.size
        data = self.entries
        return (data[o : o + 32] for o in range(0, len(data), step))


@dataclass
class _Scan:
    state: tuple[int, int] | None = None  # (mtime_ns, inode) of the folder when listed
    racy: bool = True


@dataclass
class PackSet:
    """The published packs of one store, with one lookup table over all of them.

    Indexes are read lazily (on the first lookup) and cached. A lookup that misses
    re-lists the folder only when its mtime changed since the last listing, so packs
    that other processes publish are found, at the cost of one ``stat`` per miss.
    Thread-safe.
    """

    folder: Path
    _packs: dict[str, Pack] = field(default_factory=dict)
    # digest -> (pack, entry number); one table, so a miss costs one lookup however
    # many packs there are.
    _where: dict[bytes, tuple[Pack, int]] = field(default_factory=dict)
    _scan: _Scan = field(default_factory=_Scan)
    _loaded: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _clock: int = 0
    damaged: dict[str, str] = field(default_factory=dict)  # index name -> what is wrong

    # -- the table ---------------------------------------------------------------------

    def _ensure(self) -> None:
        if not self._loaded:
            self.refresh()

    def find(self, digest: bytes, *, fresh: bool = True) -> tuple[Pack, int] | None:
        """Where an object is packed, or None. ``fresh``: on a miss, look for packs
        published since the last look (one ``stat``)."""
        self._ensure()
        hit = self._where.get(digest)
        if hit is None and fresh and self.refresh():
            hit = self._where.get(digest)
        return hit

    def __contains__(self, digest: bytes) -> bool:
        return self.find(digest) is not None

    def refresh(self, *, force: bool = False) -> bool:
        """Load packs published since the last listing and forget removed ones; True
        when anything changed."""
        try:
            st = os.stat(self.folder)
        except FileNotFoundError:
            with self._lock:
                self._loaded = True
                return False
        state = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            if self._loaded and not force and state == self._scan.state and not self._scan.racy:
                return False
            listed_at = time.time_ns()
            names = set()
            with os.scandir(self.folder) as it:
                for item in it:
                    if item.name.startswith("pack-") and item.name.endswith(".idx"):
                        names.add(item.name[5:-4])
            gone = [n for n in self._packs if n not in names]
            for name in gone:
                self._forget(self._packs[name])
            changed = bool(gone)
            for name in sorted(names - self._packs.keys()):
                if name in self.damaged:
                    continue
                try:
                    entries = read_index(self.folder / f"pack-{name}.idx")
                except FileNotFoundError:
                    continue  # removed while we listed
                except (DamagedIndex, OSError) as exc:
                    self.damaged[name] = str(exc)
                    continue
                pack = Pack(name, self.folder / f"pack-{name}.pack", entries)
                if gone:
                    self._packs[name] = pack
                else:
                    self._add(pack)
                changed = True
            if gone:
                self._rebuild()
            self._scan = _Scan(state, racy=listed_at - st.st_mtime_ns < RACY_NS)
            self._loaded = True
            return changed

    def _add(self, pack: Pack) -> None:
        self._packs[pack.name] = pack
        where = self._where
        for i, digest in enumerate(pack.digests()):
            where.setdefault(digest, (pack, i))

    def _forget(self, pack: Pack) -> None:
        # The caller rebuilds the table: an object packed twice keeps its other copy.
        del self._packs[pack.name]
        if pack.users == 0:
            self._close(pack)

    def _rebuild(self) -> None:
        where: dict[bytes, tuple[Pack, int]] = {}
        for pack in self._packs.values():
            for i, digest in enumerate(pack.digests()):
                where.setdefault(digest, (pack, i))
        self._where = where  # one assignment: readers without the lock see old or new

    def published(self) -> None:
        """This process just published a pack: list the folder again on the next look.

        (Lazily: a command that stores and exits never pays for reading the index back.)
        """
        with self._lock:
            self._scan.racy = True

    def digests(self) -> list[bytes]:
        self.refresh()
        with self._lock:
            return list(self._where)

    # -- reading bytes -----------------------------------------------------------------

    def read(self, digest: bytes) -> bytes | None:
        """An object's bytes, or None when it is not packed."""
        for _ in range(3):
            hit = self.find(digest)
            if hit is None:
                return None
            pack, i = hit
            _, offset, length = pack.entry(i)
            try:
                fd = self._acquire(pack)
            except FileNotFoundError:
                self.refresh(force=True)  # rewritten by a delete meanwhile: look again
                continue
            try:
                return os.pread(fd, length, offset)
            finally:
                self._release(pack)
        return None

    def locate(self, digest: bytes) -> tuple[Path, int, int] | None:
        """(pack file, offset, length) of a packed object: for tests and tools."""
        hit = self.find(digest)
        if hit is None:
            return None
        pack, i = hit
        _, offset, length = pack.entry(i)
        return pack.path, offset, length

    def _acquire(self, pack: Pack) -> int:
        with self._lock:
            if pack.fd < 0:
                pack.fd = os.open(pack.path, os.O_RDONLY | _O_CLOEXEC)
                self._evict()
            pack.users += 1
            self._clock += 1
            pack.last_used = self._clock
            return pack.fd

    def _release(self, pack: Pack) -> None:
        with self._lock:
            pack.users -= 1
            if pack.users == 0 and self._packs.get(pack.name) is not pack:
                self._close(pack)

    def _evict(self) -> None:
        # A descriptor is closed only while nobody reads through it: closing one in use
        # could let the number be reused for another file under a reader's feet.
        open_packs = [p for p in self._packs.values() if p.fd >= 0 and p.users == 0]
        for pack in sorted(open_packs, key=lambda p: p.last_used)[
            : max(0, len(open_packs) - MAX_OPEN)
        ]:
            self._close(pack)

    @staticmethod
    def _close(pack: Pack) -> None:
        if pack.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(pack.fd)
            pack.fd = -1

    def close(self) -> None:
        with self._lock:
            for pack in self._packs.values():
                if pack.users == 0:
                    self._close(pack)

    # -- deleting ----------------------------------------------------------------------

    def drop(self, digests: Iterable[bytes], tmp_dir: Path) -> int:
        """Remove objects from the packs that hold them; returns how many were packed.

        Each pack holding one is rewritten without it under a new name (published as
        any pack is), then the old index and pack are removed: readers see the object
        twice for a moment, never a pack without its objects. One process at a time
        rewrites (a lock file), so two deletes cannot resurrect each other's objects.
        """
        wanted = set(digests)
        if not wanted or not self.folder.is_dir():
            return 0
        with _locked(self.folder / ".lock"):
            self.refresh(force=True)
            with self._lock:
                victims = {
                    pack.name: pack
                    for d in wanted
                    for pack in self._packs.values()
                    if _search(pack, d) is not None
                }
            dropped = {
                d for d in wanted if any(_search(p, d) is not None for p in victims.values())
            }
            for pack in victims.values():
                self._rewrite(pack, wanted, tmp_dir)
            self.refresh(force=True)
            return len(dropped)

    def _rewrite(self, pack: Pack, drop: set[bytes], tmp_dir: Path) -> None:
        keep = [pack.entry(i) for i in range(pack.count) if pack.entry(i)[0] not in drop]
        if keep:
            writer = PackWriter(tmp_dir)
            try:
                with open(pack.path, "rb") as src:
                    for digest, offset, length in keep:
                        src.seek(offset)
                        writer.append(digest, src.read(length))
                writer.finish()
                writer.publish(self.folder)
            except BaseException:
                writer.discard()
                raise
            fsync_dir(self.folder)
        # The index first: from then on the old pack is invisible, so removing it is safe.
        for suffix in (".idx", ".pack"):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / f"pack-{pack.name}{suffix}").unlink()
        fsync_dir(self.folder)


def _search(pack: Pack, digest: bytes) -> int | None:
    """Binary search of one pack's sorted entries."""
    lo, hi = 0, pack.count
    data = pack.entries
    step = ENTRY.size
    while lo < hi:
        mid = (lo + hi) // 2
        here = data[mid * step : mid * step + 32]
        if here < digest:
            lo = mid + 1
        elif here > digest:
            hi = mid
        else:
            return mid
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _datasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable; a no-op where the platform or filesystem
    cannot sync a folder."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
