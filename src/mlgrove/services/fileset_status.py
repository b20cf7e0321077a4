"""``data status``: how a folder differs from a version of a file dataset.

Once the version is known (its number and its manifest's address), the comparison needs
no database: walk the folder, ask the stat cache, read and hash only the files the cache
cannot vouch for. :func:`compare_with_version` is that part. Two callers find the
version and hand it over:

- the service, :func:`mlgrove.services.filesets.status`, through the ORM;
- :func:`quick_status`, which the ``mlgrove`` command calls before Typer, SQLAlchemy and
  the SDK load (``cli/data_fast.py``, ADR 0015): one bare query
  (``store/repos/fileset_status.py``). On 100,000 unchanged files the walk itself takes
  about a quarter of a second and those imports took more than half a second again.

Both produce the same result because they share everything after finding the version.
This module imports no SQLAlchemy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgrove.errors import ObjectCorrupt
from mlgrove.filesets.compare import Changes, compare_folder
from mlgrove.filesets.manifest import FileManifest
from mlgrove.filesets.statcache import StatCache
from mlgrove.filesets.walk import FileStat, walk

if TYPE_CHECKING:
    from mlgrove.config import Settings
    from mlgrove.store.objects import ObjectStore

__all__ = ["compare_with_version", "load_manifest", "quick_status"]


def compare_with_version(
    store: Callable[[], ObjectStore],
    cache_dir: Path,
    name: str,
    number: int,
    address: str,
    folder: Path,
) -> dict[str, Any]:
    """How ``folder`` differs from version ``number`` (manifest ``address``) of ``name``.

    ``store`` gives the object store, asked for only when the folder is not known to be
    clean (opening a remote store costs its client library's import).
    """
    started = time.time_ns()
    walked = walk(folder)
    cache = StatCache(cache_dir, walked.root).load()
    if cache.clean_manifest(walked.fingerprint) == address:
        changes = Changes(unchanged=len(walked.files))  # no file's stat changed
    else:
        from mlgrove.filesets import hashing  # a thread pool: only when files are read

        old = load_manifest(store(), address).by_path()

        def hash_files(files: list[FileStat]) -> list[str]:
            addresses = hashing.scan(walked.root, files).addresses
            for f, a in zip(files, addresses, strict=True):
                cache.record(f, a, observed_ns=started)
            return addresses

        changes = compare_folder(old, walked.files, cache.lookup, hash_files)
        cache.keep_only(f.path for f in walked.files)
        if not changes.changed:
            cache.set_snapshot(walked, address, observed_ns=started)
        cache.save()
    return {
        "dataset": name,
        "version": f"v{number}",
        "added": changes.added,
        "removed": changes.removed,
        "modified": changes.modified,
        "unchanged": changes.unchanged,
        "skipped": walked.skipped,
    }


def load_manifest(store: ObjectStore, address: str) -> FileManifest:
    """A version's file manifest, checked against its address."""
    from mlgrove.store.objects import hash_bytes

    data = store.get_bytes(address)
    if hash_bytes(data) != address:
        raise ObjectCorrupt(
            f"the manifest {address[:16]}… is corrupt (its bytes no longer hash to its address)",
            hint="run `mlgrove fsck`, then restore the object or add the folder again",
        )
    try:
        return FileManifest.from_bytes(data)
    except ValueError as exc:
        raise ObjectCorrupt(f"object {address[:16]}… is not a file manifest: {exc}") from None


def cache_dir(settings: Settings) -> Path:
    return Path(os.path.expanduser(settings.cache_dir))


def quick_status(
    settings: Settings, name: str, folder: Path, *, project: str | None = None
) -> dict[str, Any] | None:
    """:func:`mlgrove.services.filesets.status` of the latest version for the workspace
    owner, without SQLAlchemy; ``None`` when it cannot be answered here (an unknown
    project or dataset, a table dataset, an outdated schema, a database URL this path
    does not handle): the full service then runs and reports.

    The owner acts as an administrator, who may view every project, so no permission
    is checked here; the CLI takes this path only when acting as the owner.
    """
    from mlgrove.store.repos import fileset_status as repo
    from mlgrove.store.schema import HEAD

    db = repo.connect(settings.database_url)
    if db is None:
        return None
    try:
        db.begin_read()
        if repo.schema_revision(db) != HEAD:
            return None
        found = repo.latest_file_version(db, project, name)
    finally:
        db.rollback()
        db.close()
    if found is None:
        return None
    number, address = found

    def store() -> ObjectStore:
        from mlgrove.store.objects import open_object_store

        return open_object_store(settings.object_store_url)

    return compare_with_version(store, cache_dir(settings), name, number, address, folder)
