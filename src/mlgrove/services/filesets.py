"""File datasets: versions that are folders of files (images, audio, documents).

``add_folder`` walks the folder, asks the stat cache which files it already knows,
BLAKE3-hashes the rest on a thread pool, stores every content not yet in the object
store (once, however many files share it), writes the manifest, and then records the
version in ONE transaction: the objects, the version row, lineage and audit. Objects go
first: if anything fails, earlier versions are untouched and new objects are harmless
orphans.

Decisions (see ``mlgrove.filesets`` for the walking, cache and checkout rules):

- Adding a folder identical to the latest version makes no new version: the latest is
  returned unchanged (like ``git commit`` with nothing to commit), with no audit event.
- Symbolic links, sockets and the like are never followed or stored. ``status`` lists
  them under ``skipped``; ``add_folder`` records them on the lineage edge from the folder.
- ``progress`` callbacks receive increments counted in files.
- ``new_bytes`` counts file contents the store did not hold before (not the manifest).
- ``checkout`` refuses a folder with files in it unless ``force=True``.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain import names
from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import DatasetKind, Version, VersionSource
from mlgrove.errors import Conflict, InvalidInput
from mlgrove.filesets import forked, hashing
from mlgrove.filesets.compare import Changes, compare
from mlgrove.filesets.forked import Split
from mlgrove.filesets.manifest import FileEntry, FileManifest
from mlgrove.filesets.materialise import materialise
from mlgrove.filesets.statcache import StatCache
from mlgrove.filesets.walk import FileStat, Walk, walk
from mlgrove.gcpause import collector_paused
from mlgrove.services import audit, fileset_status, lineage, objects
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetRow, DatasetVersionRow
from mlgrove.store.objects import BatchPart, LocalObjectStore, Stored, hash_bytes

__all__ = ["add_folder", "checkout", "diff_files", "list_files", "status"]

Progress = Callable[[int], None]
LIST_LIMIT = 1000  # most paths per list in a diff (the counts are always complete)
SKIPPED_EXAMPLES = 20


def add_folder(
    ctx: Context,
    name: str,
    folder: Path,
    *,
    project: str | None = None,
    message: str = "",
    progress: Progress | None = None,
) -> Version:
    """Make a new version of file dataset ``name`` from every file under ``folder``.

    The first add creates the dataset. ``progress`` receives increments in files.
    Returns the new version, or the latest one unchanged when the folder equals it.
    """
    ctx.require(Action.WRITE_DATA)
    names.name(name, "dataset")
    # An add makes a few objects per file (stats, addresses, entries, rows) and hardly
    # any cyclic garbage; with the collector on, each of its runs walks every live
    # object again: a third of the time spent outside reading files, at 100k files.
    # It is paused for the add and resumes after it.
    with collector_paused():
        return _add_folder(ctx, name, folder, project, message, progress)


def _add_folder(
    ctx: Context,
    name: str,
    folder: Path,
    project: str | None,
    message: str,
    progress: Progress | None,
) -> Version:
    with ctx.db.read() as s:
        existing = ds_service.existing_dataset_row(s, ctx, project, name)
        if existing is not None and existing.kind != DatasetKind.FILES:
            raise InvalidInput(
                f"{name!r} is a table dataset; a folder of files cannot be added to it",
                hint="give the file dataset another name",
            )
        parent = ds_service.latest_version_row(s, existing.id) if existing else None
        grandparent = _number(s, parent.parent_id) if parent else None

    started = time.time_ns()
    walked = walk(folder)
    if not walked.files:
        raise InvalidInput(
            f"{folder} has no files to add",
            hint=_skipped_hint(walked) or "a version needs at least one file",
        )
    cache = StatCache(_cache_dir(ctx), walked.root).load()
    if parent is not None and cache.clean_manifest(walked.fingerprint) == parent.address:
        if progress is not None:
            progress(len(walked.files))  # no file's stat changed: none needs reading
        return _nothing_to_commit(ctx, name, parent, grandparent)

    # One durability barrier for the whole folder instead of an fsync per file: the
    # objects appear under their addresses when the block ends, before the DB records
    # them. The version's transaction may open earlier (while a second process reads
    # files, see _Recording), but it commits only after the objects are published.
    recording = _Recording(ctx, name, project, message, parent)
    remembered: Callable[[], None] | None = None
    try:
        with contextlib.ExitStack() as commits_last:
            with ctx.objects.batch():
                parent_manifest = _load_manifest(ctx, parent.address) if parent else None
                sink = _StoreSink(ctx, walked.root, parent_manifest)

                def meanwhile() -> None:
                    # The parent's files are done, the child's not yet: record the
                    # parent's objects now instead of after everything.
                    recording.open(commits_last)
                    recording.register(sink.stored())

                scanned = hashing.scan(
                    walked.root,
                    walked.files,
                    lookup=cache.lookup,
                    sink=sink,
                    stored=sink.known,
                    progress=progress,
                    split=sink.split(meanwhile),
                )
                ctx.objects.sync_ahead()  # the pack goes to disk while the manifest is made
                manifest = FileManifest(
                    FileEntry(f.path, address, f.size, f.executable)
                    for f, address in zip(walked.files, scanned.addresses, strict=True)
                )
                manifest_bytes = manifest.to_bytes()
                manifest_address = hash_bytes(manifest_bytes)

                def remember() -> None:
                    """Teach the stat cache every file read and the folder's snapshot."""
                    for i in scanned.hashed:
                        cache.record(walked.files[i], scanned.addresses[i], observed_ns=started)
                    cache.keep_only(f.path for f in walked.files)
                    cache.set_snapshot(walked, manifest_address, observed_ns=started)
                    cache.save()

                unchanged = parent is not None and manifest_address == parent.address
                if unchanged:
                    remember()
                else:
                    # The cache is optional and its own file: for a big folder a thread
                    # writes it (0.3 s at 100k files) while this one publishes the
                    # objects and records the version, both of which wait on the disk
                    # and SQLite with the GIL released. (Not a forked process: SQLite's
                    # process-wide mutexes could be held by another thread at the fork.)
                    if len(scanned.hashed) >= forked.FORK_FILES:
                        remembered = _in_thread(remember)
                    else:
                        remember()
                    manifest_stored = ctx.objects.put_bytes(
                        manifest_bytes, address=manifest_address
                    )
            # The batch is published: the objects are durable.
            if not unchanged:
                recording.open(commits_last)
                version = recording.finish(sink.stored(), manifest, manifest_stored, walked)
        # Committed. (An unchanged folder's transaction, if opened, recorded nothing: every
        # content was the parent's, which the sink never stores.)
        if unchanged:
            assert parent is not None
            return _nothing_to_commit(ctx, name, parent, grandparent)
        return version
    finally:
        if remembered is not None:
            remembered()


def _in_thread(work: Callable[[], None]) -> Callable[[], None]:
    """Run ``work`` on a thread; returns the function that waits for it. Its errors are
    dropped: only optional work (the stat cache) goes there."""

    def run() -> None:
        with contextlib.suppress(Exception):
            work()

    thread = threading.Thread(target=run, name="grove-stat-cache", daemon=True)
    thread.start()
    return thread.join


class _Recording:
    """The version's one transaction: its objects, the version, lineage, audit.

    Opened by :meth:`open` inside an ``ExitStack`` that the caller leaves only after the
    batch is published, so it commits after the objects are durable; :meth:`register`
    may record objects before that (a rollback leaves none recorded)."""

    def __init__(
        self,
        ctx: Context,
        name: str,
        project: str | None,
        message: str,
        parent: DatasetVersionRow | None,
    ) -> None:
        self.ctx, self.name, self.project, self.parent = ctx, name, project, parent
        self.message = message
        self.session: Session | None = None
        self.registered: set[str] = set()

    def open(self, stack: contextlib.ExitStack) -> Session:
        if self.session is None:
            s = self.session = stack.enter_context(self.ctx.db.write())
            proj = ds_service.resolve_project(s, self.ctx, self.project, create=True)
            ds = ds_service.find_dataset_row(s, proj.id, self.name)
            if ds is None:
                ds = ds_service.create_dataset_row(
                    s, self.ctx, proj, self.name, DatasetKind.FILES, [], None
                )
            elif ds.kind != DatasetKind.FILES:
                raise InvalidInput(
                    f"{self.name!r} is a table dataset; a folder cannot be added to it"
                )
            current = ds_service.latest_version_row(s, ds.id)
            _check_no_one_else_committed(self.name, current, self.parent)
            self.proj, self.ds = proj, ds
        return self.session

    def register(self, stored: list[Stored]) -> None:
        assert self.session is not None
        todo = [st for st in stored if st.address not in self.registered]
        objects.register_many(self.session, todo, "file")
        self.registered.update(st.address for st in todo)

    def finish(
        self,
        new_objects: list[Stored],
        manifest: FileManifest,
        manifest_stored: Stored,
        walked: Walk,
    ) -> Version:
        s, ds, proj, parent, name = self.session, self.ds, self.proj, self.parent, self.name
        assert s is not None
        ctx, message = self.ctx, self.message
        new_bytes = sum(st.size for st in new_objects if st.new)
        number = (
            s.scalar(
                select(func.max(DatasetVersionRow.number)).where(
                    DatasetVersionRow.dataset_id == ds.id
                )
            )
            or 0
        ) + 1
        self.register(new_objects)
        objects.register_many(s, [manifest_stored], "files-manifest")
        row = DatasetVersionRow(
            dataset_id=ds.id,
            number=number,
            address=manifest_stored.address,
            parent_id=parent.id if parent else None,
            message=message,
            author=ctx.actor_label,
            source=VersionSource.IMPORT.value,
            row_count=manifest.files,
            byte_size=manifest.bytes,
            new_bytes=new_bytes,
            schema_json=[],
            stats_json=_stats(manifest),
        )
        s.add(row)
        s.flush()
        node = ("dataset_version", str(row.id))
        if parent is not None:
            lineage.record(s, ("dataset_version", str(parent.id)), "parent", node)
        lineage.record(
            s,
            ("folder", lineage.node_id(str(walked.root))),
            VersionSource.IMPORT.value,
            node,
            {
                "path": str(walked.root),
                "files": manifest.files,
                "bytes": manifest.bytes,
                "skipped": walked.skipped[:SKIPPED_EXAMPLES],
                "skipped_count": len(walked.skipped),
            },
        )
        audit.record(
            s,
            ctx.actor_label,
            "dataset.commit",
            f"dataset_version:{row.id}",
            f"{proj.name}/{name} v{number}",
        )
        return ds_service.version_value(
            row, name, parent.number if parent else None, with_stats=True
        )


def status(
    ctx: Context, name: str, folder: Path, *, project: str | None = None, ref: str = "latest"
) -> dict[str, Any]:
    """How ``folder`` differs from a version: which paths were added, removed, modified.

    Only files whose stat changed since they were last hashed are read, and files that
    are new or changed size are not read at all. ``skipped`` lists symlinks and special
    files, which a version never holds.
    """
    ctx.require(Action.VIEW_PROJECTS)
    number, address = _version(ctx, name, ref, project)
    # The rest needs no database; the `mlgrove data status` quick path shares it.
    return fileset_status.compare_with_version(
        lambda: ctx.objects, _cache_dir(ctx), name, number, address, folder
    )


def diff_files(
    ctx: Context, name: str, old_ref: str, new_ref: str, *, project: str | None = None
) -> dict[str, Any]:
    """Paths added, removed and modified from one version to another.

    The counts are complete; each list holds at most the first ``limit`` paths, in order.
    """
    ctx.require(Action.VIEW_PROJECTS)
    old_number, old_address = _version(ctx, name, old_ref, project)
    new_number, new_address = _version(ctx, name, new_ref, project)
    changes = compare(
        _load_manifest(ctx, old_address).by_path(), _load_manifest(ctx, new_address).by_path()
    )
    return _diff_result(name, old_number, new_number, changes)


def checkout(
    ctx: Context,
    name: str,
    ref: str,
    out: Path,
    *,
    project: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> int:
    """Write a version's files into ``out``; returns how many.

    ``out`` must not exist or be empty (then it is filled all-or-nothing), unless
    ``force``: then the version's files are written over it and other files stay. Every
    file's bytes are verified against its address (:class:`ObjectCorrupt` otherwise).
    """
    ctx.require(Action.VIEW_PROJECTS)
    _, address = _version(ctx, name, ref, project)
    manifest = _load_manifest(ctx, address)
    return materialise(manifest.entries, out, ctx.objects.open, force=force, progress=progress)


def list_files(
    ctx: Context,
    name: str,
    ref: str,
    *,
    project: str | None = None,
    prefix: str = "",
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A page of a version's files in path order, optionally only those under ``prefix``."""
    ctx.require(Action.VIEW_PROJECTS)
    if limit < 0 or offset < 0:
        raise InvalidInput("limit and offset must not be negative")
    _, address = _version(ctx, name, ref, project)
    entries = _load_manifest(ctx, address).entries
    start = bisect.bisect_left(entries, prefix, key=lambda e: e.path) + offset
    page: list[dict[str, Any]] = []
    for entry in entries[start : start + min(limit, LIST_LIMIT)]:
        if not entry.path.startswith(prefix):
            break
        page.append(
            {
                "path": entry.path,
                "size": entry.size,
                "address": entry.address,
                "executable": entry.executable,
            }
        )
    return page


# -- storing ---------------------------------------------------------------------------


class _StoreSink:
    """Stores each distinct content once, from the hashing threads.

    Contents the parent version holds are in the store already (``mlgrove fsck`` checks
    that) and are skipped without asking the store.
    """

    def __init__(self, ctx: Context, root: Path, parent: FileManifest | None) -> None:
        self.ctx = ctx
        self.root = root
        self.known = {e.address for e in parent.entries} if parent else set()
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._stored: list[Stored] = []

    def __call__(self, f: FileStat, address: str, data: bytes | None) -> str:
        if address in self.known:
            return address
        store = self.ctx.objects
        if data is not None:
            # Hashed just now from these bytes; the store deduplicates equal contents.
            self._stored.append(store.put_bytes(data, address=address))
            return address
        with self._lock:
            if address in self._claimed:
                return address
            self._claimed.add(address)
        if store.exists(address):
            stored = Stored(address, f.size, new=False)
        else:
            # A big file, or a cached address the store lacks: stream it in and check
            # that what was stored is what the folder holds now.
            path = self.root / f.path
            stored = store.put_file(path)
            hashing.check_unchanged(path, f)
            if stored.address != address:  # the stat cache was wrong about this file
                with self._lock:
                    self._claimed.add(stored.address)
        with self._lock:
            self._stored.append(stored)
        return stored.address

    def split(self, meanwhile: Callable[[], None] | None = None) -> Split | None:
        """How a forked child shares the work (:mod:`mlgrove.filesets.forked`): it stores
        through its copy of the local store and hands over what it stored; None for
        other stores (remote ones: their puts wait on the network, threads suffice)."""
        store = self.ctx.objects
        if not isinstance(store, LocalObjectStore):
            return None

        def hand_over() -> tuple[BatchPart, _Columns]:
            # In columns: pickled and rebuilt in a third of the time tuples take.
            stored = self._stored
            columns = (
                [st.address for st in stored],
                [st.size for st in stored],
                bytes(st.new for st in stored),
            )
            return store.hand_over(), columns

        def take_over(handed: tuple[BatchPart, _Columns]) -> None:
            part, (addresses, sizes, new) = handed
            store.take_over(part)
            self._stored += map(Stored, addresses, sizes, map(bool, new))

        return Split(
            start=lambda: store.tag_temporaries(_child_tag(os.getpid())),
            hand_over=hand_over,
            take_over=take_over,
            abandon=lambda pid: store.remove_temporaries(_child_tag(pid)),
            meanwhile=meanwhile,
        )

    def stored(self) -> list[Stored]:
        """One per distinct content; ``new`` if any put of it stored it (a store without
        batching may answer new to two threads putting equal bytes at once)."""
        distinct: dict[str, Stored] = {}
        for st in self._stored:
            if st.address not in distinct or st.new:
                distinct[st.address] = st
        return list(distinct.values())


_Columns = tuple[list[str], list[int], bytes]  # addresses, sizes, new flags


def _child_tag(pid: int) -> str:
    return f"w{pid}-"


# -- reading ---------------------------------------------------------------------------


def _version(ctx: Context, name: str, ref: str, project: str | None) -> tuple[int, str]:
    with ctx.db.read() as s:
        ds, _ = ds_service.dataset_row(s, ctx, project, name)
        _require_files(ds)
        row = ds_service.version_row(s, ds, ref)
        return row.number, row.address


def _require_files(ds: DatasetRow) -> None:
    if ds.kind != DatasetKind.FILES:
        raise InvalidInput(
            f"{ds.name!r} is a table dataset, not a folder of files",
            hint="use `mlgrove data diff` and `mlgrove data export` for tables",
        )


def _load_manifest(ctx: Context, address: str) -> FileManifest:
    return fileset_status.load_manifest(ctx.objects, address)


def _diff_result(name: str, old: int, new: int, changes: Changes) -> dict[str, Any]:
    lists = {"added": changes.added, "removed": changes.removed, "modified": changes.modified}
    return {
        "dataset": name,
        "from": f"v{old}",
        "to": f"v{new}",
        "added": len(changes.added),
        "removed": len(changes.removed),
        "modified": len(changes.modified),
        "unchanged": changes.unchanged,
        "files": {key: paths[:LIST_LIMIT] for key, paths in lists.items()},
        "limit": LIST_LIMIT,
        "truncated": any(len(paths) > LIST_LIMIT for paths in lists.values()),
    }


# -- helpers ---------------------------------------------------------------------------


def _cache_dir(ctx: Context) -> Path:
    return Path(os.path.expanduser(ctx.settings.cache_dir))


def _stats(manifest: FileManifest) -> dict[str, Any]:
    extensions = Counter(_extension(e.path) for e in manifest.entries)
    return {
        "files": manifest.files,
        "bytes": manifest.bytes,
        "extensions": dict(sorted(extensions.items())),
    }


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _skipped_hint(walked: Walk) -> str | None:
    if not walked.skipped:
        return None
    return (
        f"{len(walked.skipped)} symlink(s) or special file(s) were skipped "
        f"(e.g. {walked.skipped[0]}): versions hold regular files only"
    )


def _nothing_to_commit(
    ctx: Context, name: str, parent: DatasetVersionRow, grandparent: int | None
) -> Version:
    with ctx.db.read() as s:
        current = ds_service.latest_version_row(s, parent.dataset_id)
    _check_no_one_else_committed(name, current, parent)
    return ds_service.version_value(parent, name, grandparent, with_stats=True)


def _number(s: Session, version_id: int | None) -> int | None:
    if version_id is None:
        return None
    row = s.get(DatasetVersionRow, version_id)
    return row.number if row else None


def _check_no_one_else_committed(
    name: str, current: DatasetVersionRow | None, parent: DatasetVersionRow | None
) -> None:
    if (current.id if current else None) != (parent.id if parent else None):
        raise Conflict(
            f"someone else committed a new version of {name!r} meanwhile",
            hint="add again: your folder will be compared with their version",
        )
