"""Writing a version's files into a folder (checkout), verifying every byte on the way.

- A folder that does not exist yet, or is empty, is filled all-or-nothing: the files go
  into a hidden sibling folder that is renamed into place at the end (so no file needs a
  temporary name of its own). On any error it is removed and ``out`` is left as it was.
- A folder with files in it is refused unless ``force``: then the version's files are
  written over it, each one atomically (a temporary name, then a rename), and files the
  version does not name are left alone, never deleted.
- Every object is re-hashed while it is copied: a corrupt one raises
  :class:`~mlgrove.errors.ObjectCorrupt`, a missing one :class:`~mlgrove.errors.ObjectMissing`,
  both naming the file.
- Executable files get ``x`` wherever they have ``r`` (as git does); others keep the
  default mode (the umask decides).
- No fsync: a checkout is a copy that can always be made again.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import IO

import blake3

from mlgrove.errors import InvalidInput, ObjectCorrupt, ObjectMissing
from mlgrove.filesets.hashing import DEFAULT_WORKERS
from mlgrove.filesets.manifest import FileEntry, check_path

__all__ = ["Opener", "materialise"]

Opener = Callable[[str], IO[bytes]]
CHUNK = 1 << 20
BATCH = 64
_FSCK_HINT = (
    "run `mlgrove fsck` to find every damaged object, then restore it or add the folder again"
)


def materialise(
    entries: Sequence[FileEntry],
    out: Path,
    open_object: Opener,
    *,
    force: bool = False,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``entries`` under ``out``; returns the number of files written."""
    for entry in entries:
        check_path(entry.path)
    out = Path(out).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise InvalidInput(
            f"{out} exists and is not a folder", hint="give a folder to check out into"
        )
    fresh = not out.exists() or not any(out.iterdir())
    if not fresh and not force:
        raise InvalidInput(
            f"{out} is not empty",
            hint="check out into a new folder, or force it to write this version's files "
            "over the folder (files the version does not name are left alone)",
        )
    if not fresh:
        _write_all(entries, out, open_object, workers, progress, in_place=True)
        return len(entries)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.grove-checkout-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        _write_all(entries, staging, open_object, workers, progress, in_place=False)
        if out.exists():
            out.rmdir()  # was empty
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(entries)


def _write_all(
    entries: Sequence[FileEntry],
    root: Path,
    open_object: Opener,
    workers: int,
    progress: Callable[[int], None] | None,
    *,
    in_place: bool,
) -> None:
    for folder in sorted({posixpath.dirname(e.path) for e in entries} - {""}):
        try:
            (root / folder).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidInput(
                f"cannot make folder {folder!r} in {root}: a file is in the way",
                hint="check out into a new folder",
            ) from None

    def work(batch: Sequence[FileEntry]) -> int:
        for entry in batch:
            _write_one(entry, root, open_object, in_place)
        return len(batch)

    batches = [entries[i : i + BATCH] for i in range(0, len(entries), BATCH)]
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="grove-checkout")
    try:
        futures: list[Future[int]] = [pool.submit(work, b) for b in batches]
        for future in as_completed(futures):
            done = future.result()
            if progress is not None:
                progress(done)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _write_one(entry: FileEntry, root: Path, open_object: Opener, in_place: bool) -> None:
    dest = root / entry.path
    # In place, a short temporary name in the root (next to the file, a long name could
    # overflow); in a staging folder, the file's own name: the folder appears only whole.
    tmp = root / f".grove-tmp-{uuid.uuid4().hex}" if in_place else dest
    hasher = blake3.blake3()
    size = 0
    try:
        with open_object(entry.address) as src, open(tmp, "wb") as dst:
            while block := src.read(CHUNK):
                hasher.update(block)
                dst.write(block)
                size += len(block)
            if entry.executable:
                mode = os.fstat(dst.fileno()).st_mode
                os.fchmod(dst.fileno(), mode | (mode & 0o444) >> 2)
        if size != entry.size or hasher.hexdigest() != entry.address:
            raise ObjectCorrupt(
                f"{entry.path}: stored object {entry.address[:16]}… is corrupt "
                f"(its bytes no longer hash to its address)",
                hint=_FSCK_HINT,
            )
        if in_place:
            os.replace(tmp, dest)
    except ObjectMissing as exc:
        raise ObjectMissing(f"{entry.path}: {exc.message}", hint=_FSCK_HINT) from None
    except IsADirectoryError:
        raise InvalidInput(
            f"cannot write {entry.path!r} in {root}: a folder is in the way",
            hint="check out into a new folder",
        ) from None
    finally:
        if in_place:
            tmp.unlink(missing_ok=True)
