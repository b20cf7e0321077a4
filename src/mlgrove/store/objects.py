"""The content-addressed object store.

An object is named by the BLAKE3 hash of its bytes (64 hex characters), so equal content
is stored once and any corruption is detectable. Writes are atomic: bytes go to a
temporary name, are flushed to disk (fsync), and only then renamed to their address. A
crash leaves at worst an orphan temporary file, never a half-written object under its
final name.

The local store keeps small objects stored in a batch in pack files (one file holding
many objects, with a sorted index; :mod:`mlgrove.store.packs`): one write per object
instead of a file created and renamed per object. Readers see no difference.

Two implementations share one interface: :class:`LocalObjectStore` (a folder, the
default) and :class:`FsspecObjectStore` (any fsspec URL: ``s3://``, ``gs://``,
``memory://`` ...). :func:`open_object_store` picks one from a URL.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import io
import os
import re
import threading
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

import blake3

from mlgrove.errors import ConfigError, InvalidInput, ObjectMissing, StorageError
from mlgrove.store.packs import PACK_MAX_BYTES, PackSet, PackWriter
from mlgrove.store.packs import fsync_dir as _fsync_dir

__all__ = [
    "BatchPart",
    "FsspecObjectStore",
    "LocalObjectStore",
    "ObjectStore",
    "Stored",
    "hash_bytes",
    "hash_file",
    "open_object_store",
]

CHUNK = 1 << 20
#: Objects up to this size stored inside a batch go into a pack file; bigger ones (and
#: everything stored outside a batch) are files of their own. Packing wrote 2-6x faster
#: from 4 KB to 1 MB objects and read as fast (docs/adr/0014-pack-files.md); above it a
#: read would hold a whole object in memory, and a delete would rewrite more.
PACK_OBJECT_BYTES = 1 << 20
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_ADDRESS = re.compile(r"^[0-9a-f]{64}$")
Check = Literal["ok", "missing", "corrupt"]


def hash_bytes(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def hash_file(path: Path) -> str:
    # Read in large blocks, each hashed on several threads. (Memory-mapping would be
    # faster still, but a file truncated while mapped kills the process with SIGBUS.)
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as fh:
        while block := fh.read(8 * CHUNK):
            hasher.update(block)
    return str(hasher.hexdigest())


def check_address(address: str) -> str:
    if not _ADDRESS.match(address):
        raise InvalidInput(
            f"{address!r} is not an object address", hint="addresses are 64 hex characters"
        )
    return address


@dataclass(frozen=True)
class BatchPart:
    """Objects a forked child stored in its copy of a batch, durable under ``tmp/``."""

    packs: list[tuple[str, str, str, bytes]]  # pack file, index file, name, digests
    loose: dict[str, str]  # address -> temporary file


class Stored(NamedTuple):
    """The result of a put: where the bytes live now and whether they were new.

    A tuple, not a dataclass: a folder of files makes one per file, in two processes
    (see ``hand_over``), and tuples build and pickle fastest."""

    address: str
    size: int
    new: bool


class ObjectStore(abc.ABC):
    """Put bytes in, get them back by address. Safe to share between threads."""

    url: str

    @abc.abstractmethod
    def put_bytes(self, data: bytes, *, address: str | None = None) -> Stored:
        """Store ``data``. ``address``: its BLAKE3, when the caller has just computed it
        from these very bytes (saves hashing them twice); it is trusted."""

    @abc.abstractmethod
    def put_file(self, path: Path) -> Stored:
        """Store a file's content, streaming it (never read whole into memory)."""

    @abc.abstractmethod
    def exists(self, address: str) -> bool: ...

    @abc.abstractmethod
    def open(self, address: str) -> IO[bytes]:
        """A binary file object for reading; raises :class:`ObjectMissing`."""

    @abc.abstractmethod
    def size(self, address: str) -> int: ...

    @abc.abstractmethod
    def iter_addresses(self) -> Iterator[str]: ...

    @abc.abstractmethod
    def delete(self, address: str) -> None: ...

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Store many objects with one durability barrier instead of one per object.

        Objects put inside the block become visible under their address only when the
        block ends, after all their bytes are on disk; so a crash mid-batch leaves
        temporary files at worst, never a half-written object under its address. The
        caller records the objects in the database after the block. Inside the block an
        object put is found by ``exists`` but cannot be read yet. Stores whose puts
        are atomic on their own (object stores) need no batching: the default is a
        no-op.
        """
        yield

    def sync_ahead(self) -> None:
        """Inside a batch: start making what was stored so far durable, so that the end
        of the batch has less to wait for. A no-op where puts are durable already."""
        return

    def get_bytes(self, address: str) -> bytes:
        with self.open(address) as fh:
            return fh.read()

    def verify(self, address: str) -> Check:
        """Re-hash a stored object: ``ok``, ``missing`` or ``corrupt``."""
        hasher = blake3.blake3()
        try:
            with self.open(address) as fh:
                while block := fh.read(CHUNK):
                    hasher.update(block)
        except ObjectMissing:
            return "missing"
        return "ok" if hasher.hexdigest() == address else "corrupt"


class LocalObjectStore(ObjectStore):
    """Objects as files ``<root>/<aa>/<rest of address>``, read-only once written; small
    objects stored in a batch go into pack files under ``<root>/packs/`` instead
    (:mod:`mlgrove.store.packs`, docs/adr/0014-pack-files.md)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)
        self._tmp = root / "tmp"
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create object store at {root}: {exc.strerror}") from exc
        self._prefix = f"{root}{os.sep}"
        self.packs = PackSet(root / "packs")
        # Pack files kept open for reading are closed with the store (a process that
        # opens many stores, a test suite say, must not run out of descriptors).
        weakref.finalize(self, self.packs.close)
        # Batch mode (see ObjectStore.batch): loose temp files waiting for one sync and a
        # rename, and small objects appended to the batch's pack(s).
        self._lock = threading.Lock()
        self._batch_depth = 0
        self._pending: dict[str, Path] = {}
        self._writer: PackWriter | None = None
        self._full: list[PackWriter] = []  # packs of the batch that reached their size
        self._pending_packed: set[bytes] = set()
        self._publishing: set[bytes] = set()  # between the batch's end and the renames
        self._fanouts: frozenset[str] = frozenset()  # loose fan-out folders as a batch began
        self._tag = ""  # prefix of this process's temporary files (see tag_temporaries)

    # -- batches ---------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with self._lock:
            self._batch_depth += 1
            first = self._batch_depth == 1
        if first:
            # What the store holds as the batch starts, for deduplication without a
            # system call per object: packs published since, and fan-out folders made
            # since, are not searched (a second copy at worst, never a wrong answer).
            self.packs.refresh()
            self._fanouts = _fanouts(self.root)
        ok = False
        try:
            yield
            ok = True
        finally:
            with self._lock:
                self._batch_depth -= 1
                # A batch that ends well publishes everything pending, other threads'
                # objects too: whoever ends a batch may record its objects in the
                # database next, so they must be durable now. A failed batch discards
                # the pending objects only when no other batch is open (they may be its).
                take = ok or self._batch_depth == 0
                if take:
                    pending, writers, packed = self._take_pending()
                    if ok:
                        self._publishing |= packed
            if take:
                if ok:
                    try:
                        self._publish(pending, writers)
                    finally:
                        with self._lock:
                            self._publishing -= packed
                else:
                    self._discard(pending, writers)

    def sync_ahead(self) -> None:
        with self._lock:
            for writer in self._open_writers():
                writer.sync_ahead()

    def _open_writers(self) -> list[PackWriter]:
        """The batch's pack writers, full ones and the one being filled (under _lock)."""
        return [*self._full, *([self._writer] if self._writer else [])]

    def _take_pending(self) -> tuple[dict[str, Path], list[PackWriter], set[bytes]]:
        """Everything the batch holds, taken out of it, which is then empty (under _lock):
        loose temporary files, pack writers, the digests of packed objects."""
        taken = (self._pending, self._open_writers(), self._pending_packed)
        self._pending, self._full, self._writer, self._pending_packed = {}, [], None, set()
        return taken

    def _discard(self, pending: dict[str, Path], writers: list[PackWriter]) -> None:
        for writer in writers:
            writer.discard()
        for tmp in pending.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    # -- a batch shared with a forked process ------------------------------------------
    # (mlgrove.filesets.forked: a child stores half of a folder through its copy of the
    # store; the parent publishes the child's objects with its own when the batch ends.)

    def tag_temporaries(self, tag: str) -> None:
        """In a forked child: name this process's temporary files ``<tag>...``, so that
        the parent can remove them (:meth:`remove_temporaries`) if the child fails."""
        self._tag = tag

    def hand_over(self) -> BatchPart:
        """In a forked child, inside the batch it inherited: make everything it stored
        durable under ``tmp/`` (packs finished and fsynced) and describe it for
        :meth:`take_over`. The child's batch is then empty."""
        with self._lock:
            pending, writers, _ = self._take_pending()
        try:
            for writer in writers:
                writer.finish()
        except BaseException:
            self._discard(pending, writers)
            raise
        packs = [
            (str(w.pack_tmp), str(w.index_tmp), w.name, b"".join(e[0] for e in w.entries))
            for w in writers
        ]
        return BatchPart(packs, {address: str(tmp) for address, tmp in pending.items()})

    def take_over(self, part: BatchPart) -> None:
        """In the parent, inside a batch: publish a child's objects (:meth:`hand_over`)
        with this batch's own, or discard them with it."""
        with self._lock:
            if not self._batch_depth:
                raise RuntimeError("take_over needs an open batch")
            for pack_tmp, index_tmp, name, digests in part.packs:
                self._full.append(PackWriter.finished(Path(pack_tmp), Path(index_tmp), name))
                self._pending_packed.update(digests[i : i + 32] for i in range(0, len(digests), 32))
            for address, tmp in part.loose.items():
                if address in self._pending:  # both processes stored it: keep one
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                else:
                    self._pending[address] = Path(tmp)

    def remove_temporaries(self, tag: str) -> None:
        """Remove the temporary files of a child that failed (see :meth:`tag_temporaries`)."""
        if not tag:
            raise ValueError("a tag is needed: untagged files may be another batch's")
        with os.scandir(self._tmp) as it:
            for entry in it:
                if entry.name.startswith(tag):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def _publish(self, pending: dict[str, Path], writers: list[PackWriter]) -> None:
        if not (pending or writers):
            return
        try:
            for writer in writers:
                writer.finish()  # the pack's bytes and its index are on disk
        except BaseException:
            self._discard(pending, writers)
            raise
        synced = _sync_filesystem(self.root) if pending else True
        if writers:
            try:
                self.packs.folder.mkdir(exist_ok=True)
                for writer in writers:
                    writer.publish(self.packs.folder)  # the pack first, its index after it
            except BaseException:
                self._discard(pending, writers)  # a pack renamed without its index is unread
                raise
            _fsync_dir(self.packs.folder)
            self.packs.published()
        dirs: set[Path] = set()
        for address, tmp in pending.items():
            final = self._path(address)
            if final.parent not in dirs:
                final.parent.mkdir(exist_ok=True)
                dirs.add(final.parent)
            # Temp files are created read-only. Renaming over an equal object another
            # process stored meanwhile is harmless: the bytes are the same.
            os.replace(tmp, final)
        # The renames are durable once the journal holding them is on disk: one more
        # syncfs (cheap: only metadata is dirty) instead of an fsync per fan-out folder.
        if dirs and not (synced and _sync_filesystem(self.root)):
            for folder in dirs:
                _fsync_dir(folder)

    # -- writing ---------------------------------------------------------------------

    def _path(self, address: str) -> Path:
        check_address(address)
        return self.root / address[:2] / address[2:]

    def _loose(self, address: str) -> str:
        return f"{self._prefix}{address[:2]}{os.sep}{address[2:]}"

    def _commit(self, tmp: Path, address: str, size: int, *, checked: bool = False) -> Stored:
        """Publish ``tmp`` as ``address``. ``checked``: the caller has just seen that the
        address is absent (one stat less per object)."""
        final = self._path(address)
        if not checked and final.exists():
            tmp.unlink()
            return Stored(address, size, new=False)
        with self._lock:
            if self._batch_depth:
                if address in self._pending:
                    tmp.unlink()
                    return Stored(address, size, new=False)
                self._pending[address] = tmp
                return Stored(address, size, new=True)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return Stored(address, size, new=True)

    def _write_tmp(
        self, chunks: Iterator[bytes], address: str | None = None
    ) -> tuple[Path, str, int]:
        """Write ``chunks`` to a new temporary file; returns it, the BLAKE3 of the bytes
        (``address`` when the caller already hashed them) and their size."""
        tmp = self._tmp / f"{self._tag}{uuid.uuid4().hex}.part"
        hasher = blake3.blake3() if address is None else None
        size = 0
        try:
            # Created read-only (the descriptor still writes): objects are immutable, and
            # no chmod is needed before publishing. Plain descriptors: no buffering layer.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o444)
            try:
                for block in chunks:
                    if hasher is not None:
                        hasher.update(block)
                    view = memoryview(block)
                    while view:
                        view = view[os.write(fd, view) :]
                    size += len(block)
                if not self._batch_depth:  # in a batch, one sync covers every file
                    os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        if hasher is not None:
            address = str(hasher.hexdigest())
        assert address is not None
        return tmp, address, size

    def _held(self, address: str, digest: bytes) -> bool:
        """Whether the store holds (or is about to publish) the object, for deduplication:
        packs published by other processes since we last looked are not searched (a
        miss costs a second copy, never a wrong answer)."""
        return (
            address in self._pending
            or digest in self._pending_packed
            or digest in self._publishing
            or self.packs.find(digest, fresh=False) is not None
            or (
                (not self._batch_depth or address[:2] in self._fanouts)
                and os.access(self._loose(address), os.F_OK)
            )
        )

    def _put_packed(self, address: str, digest: bytes, data: bytes) -> Stored | None:
        """Append a small object to the batch's pack; None when no batch is open."""
        with self._lock:
            if not self._batch_depth:
                return None
            if digest in self._pending_packed or address in self._pending:
                return Stored(address, len(data), new=False)
            writer = self._writer
            if writer is None:
                writer = self._writer = PackWriter(self._tmp, prefix=self._tag)
            writer.append(digest, data)
            self._pending_packed.add(digest)
            if writer.size >= PACK_MAX_BYTES:
                self._full.append(writer)
                self._writer = None
        return Stored(address, len(data), new=True)

    def put_bytes(self, data: bytes, *, address: str | None = None) -> Stored:
        if address is None:
            address = hash_bytes(data)
        else:
            check_address(address)
        digest = bytes.fromhex(address)
        if self._held(address, digest):
            return Stored(address, len(data), new=False)
        if self._batch_depth and len(data) <= PACK_OBJECT_BYTES:
            stored = self._put_packed(address, digest, data)
            if stored is not None:
                return stored
        tmp, address, size = self._write_tmp(iter((data,)), address)
        return self._commit(tmp, address, size, checked=True)

    def put_file(self, path: Path) -> Stored:
        try:
            if self._batch_depth:
                small = _read_small(path, PACK_OBJECT_BYTES)
                if small is not None:
                    return self.put_bytes(small)
            # Hash first: content we already hold costs one read, not a write + fsync.
            address = hash_file(path)
            if self._held(address, bytes.fromhex(address)):
                return Stored(address, path.stat().st_size, new=False)
            with open(path, "rb") as src:
                tmp, address, size = self._write_tmp(iter(lambda: src.read(CHUNK), b""))
        except FileNotFoundError:
            raise InvalidInput(f"no such file: {path}") from None
        return self._commit(tmp, address, size)

    # -- reading ---------------------------------------------------------------------

    def exists(self, address: str) -> bool:
        digest = bytes.fromhex(check_address(address))
        return (
            self._held(address, digest)
            or self.packs.find(digest) is not None  # packs other processes published
        )

    def open(self, address: str) -> IO[bytes]:
        digest = bytes.fromhex(check_address(address))
        if self.packs.find(digest, fresh=False) is None:
            try:
                return open(self._loose(address), "rb")
            except FileNotFoundError:
                pass
        data = self.packs.read(digest)
        if data is None:
            raise ObjectMissing(f"object {address} is not in {self.url}")
        return io.BytesIO(data)

    def get_bytes(self, address: str) -> bytes:
        digest = bytes.fromhex(check_address(address))
        if self.packs.find(digest, fresh=False) is not None:
            data = self.packs.read(digest)
            if data is not None:
                return data
        return super().get_bytes(address)

    def size(self, address: str) -> int:
        digest = bytes.fromhex(check_address(address))
        if self.packs.find(digest, fresh=False) is None:
            try:
                return os.stat(self._loose(address)).st_size
            except FileNotFoundError:
                pass
        where = self.packs.locate(digest)
        if where is None:
            raise ObjectMissing(f"object {address} is not in {self.url}")
        return where[2]

    def iter_addresses(self) -> Iterator[str]:
        found = {d.hex() for d in self.packs.digests()}
        for sub in self.root.iterdir():
            if len(sub.name) == 2 and sub.is_dir():
                for f in sub.iterdir():
                    if _ADDRESS.match(sub.name + f.name):
                        found.add(sub.name + f.name)
        yield from sorted(found)

    def delete(self, address: str) -> None:
        path = self._path(address)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o644)
            path.unlink()
        self.packs.drop([bytes.fromhex(address)], self._tmp)

    def close(self) -> None:
        """Close the pack files kept open for reading (the store stays usable)."""
        self.packs.close()


def _fanouts(root: Path) -> frozenset[str]:
    with os.scandir(root) as it:
        return frozenset(e.name for e in it if len(e.name) == 2 and e.is_dir())


def _read_small(path: Path, limit: int) -> bytes | None:
    """A file's bytes if it has at most ``limit`` bytes, else None (read whole: one
    read for a small file, no second pass to hash it)."""
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            return None
        data = os.read(fd, size + 1)
        if len(data) == size:
            return data  # all of it, and nothing after it: one read
        parts = [data]  # it grew or shrank since the fstat: read to the end
        total = len(data)
        while total <= limit and (block := os.read(fd, limit + 1 - total)):
            parts.append(block)
            total += len(block)
        return None if total > limit else b"".join(parts)
    finally:
        os.close(fd)


class FsspecObjectStore(ObjectStore):
    """Objects under any fsspec URL, laid out like the local store."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec

        try:
            fs, root = fsspec.core.url_to_fs(url, **storage_options)
        except (ImportError, ValueError) as exc:
            raise ConfigError(
                f"cannot open object store {url!r}: {exc}",
                hint="for s3:// install the extra: pip install 'mlgrove[s3]'",
            ) from exc
        self.fs = fs
        self.url = url
        self.root = root.rstrip("/")
        # On object stores (S3, GCS, Azure...) one PUT is atomic: the key appears only
        # when whole, so a temporary name plus a server-side copy would only add cost.
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        self._direct = not ({"file", "local"} & set(protocols))

    def _key(self, address: str) -> str:
        check_address(address)
        return f"{self.root}/{address[:2]}/{address[2:]}"

    def _upload(self, address: str, write: Any, size: int) -> Stored:
        key = self._key(address)
        if self.fs.exists(key):
            return Stored(address, size, new=False)
        if self._direct:
            with self.fs.open(key, "wb") as out:
                write(out)
            return Stored(address, size, new=True)
        tmp = f"{self.root}/tmp/{uuid.uuid4().hex}.part"
        self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)
        self.fs.makedirs(f"{self.root}/{address[:2]}", exist_ok=True)
        try:
            with self.fs.open(tmp, "wb") as out:
                write(out)
            self.fs.mv(tmp, key)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm(tmp)
            raise
        return Stored(address, size, new=True)

    def put_bytes(self, data: bytes, *, address: str | None = None) -> Stored:
        address = hash_bytes(data) if address is None else check_address(address)
        return self._upload(address, lambda out: out.write(data), len(data))

    def put_file(self, path: Path) -> Stored:
        if not path.is_file():
            raise InvalidInput(f"no such file: {path}")
        address = hash_file(path)  # first pass: the address decides whether to upload

        def write(out: Any) -> None:
            with open(path, "rb") as src:
                while block := src.read(CHUNK):
                    out.write(block)

        return self._upload(address, write, path.stat().st_size)

    def exists(self, address: str) -> bool:
        return bool(self.fs.exists(self._key(address)))

    def open(self, address: str) -> IO[bytes]:
        try:
            fh: IO[bytes] = self.fs.open(self._key(address), "rb")
        except FileNotFoundError:
            raise ObjectMissing(f"object {address} is not in {self.url}") from None
        return fh

    def size(self, address: str) -> int:
        try:
            return int(self.fs.size(self._key(address)))
        except FileNotFoundError:
            raise ObjectMissing(f"object {address} is not in {self.url}") from None

    def iter_addresses(self) -> Iterator[str]:
        if not self.fs.exists(self.root):
            return
        for path in sorted(self.fs.find(self.root)):
            parts = str(path).rstrip("/").split("/")
            candidate = parts[-2] + parts[-1] if len(parts) >= 2 else ""
            if _ADDRESS.match(candidate):
                yield candidate

    def delete(self, address: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._key(address))


def open_object_store(url: str) -> ObjectStore:
    """A local folder path (or ``file://`` URL) gives the local store; else fsspec."""
    if "://" not in url:
        return LocalObjectStore(Path(url))
    if url.startswith("file://"):
        return LocalObjectStore(Path(url.removeprefix("file://")))
    return FsspecObjectStore(url)


def _sync_filesystem(path: Path) -> bool:
    """Flush every dirty page and the journal of the filesystem holding ``path`` (Linux
    syncfs): True. Where syncfs is missing or fails, flush all filesystems (``sync``,
    which need not wait on every platform): False."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        os.sync()
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
            return False
        return True
    finally:
        os.close(fd)
