"""The stat cache: (size, mtime, inode) → content address for the files of one folder.

A file whose size, modification time (nanoseconds) and inode are what they were when it
was last hashed is taken to hold the same bytes, so ``status`` on an unchanged folder
reads only the directory entries, never the files. This is the trust git and DVC place
in stat data.

On top of the per-file entries the cache keeps one *snapshot*: the fingerprint of the
whole folder's stat list (:attr:`Walk.fingerprint`) when it last matched a version
exactly, and that version's manifest address. When the folder's fingerprint is the same
again, nothing in it changed, and the per-file entries and the manifest need not even be
read: that is what keeps ``status`` on 100,000 unchanged files near the cost of listing
them.

One SQLite file per folder, under ``<cache_dir>/filesets/``, named by a hash of the
folder's absolute path. The cache is only ever a shortcut: deleting it costs one
re-hash, and a cache that cannot be read (corrupt, from another version of Grove,
unwritable) is ignored and rebuilt, never an error.

Racy files: a file modified again within its filesystem's timestamp granularity can
keep its mtime (FAT has 2 s). So a file is trusted only once its mtime is older than
:data:`RACY_NS` before the moment its stat was taken; a recently written file is simply
hashed again next time, by when it is old enough to be trusted.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any

import blake3

from mlgrove.filesets.walk import FileStat, Walk

__all__ = ["RACY_NS", "StatCache"]

RACY_NS = 2_000_000_000
SCHEMA_VERSION = 2
_Row = tuple[str, int, int, int, str]  # path, size, mtime_ns, inode, address


class StatCache:
    """The cache of one folder. Not thread-safe: use it from one thread."""

    def __init__(self, cache_dir: Path, folder: Path) -> None:
        self.folder = str(folder)
        key = blake3.blake3(self.folder.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        self.path = Path(cache_dir).expanduser() / "filesets" / f"{key}.sqlite"
        self._entries: dict[str, _Row] | None = None  # read on first use
        self._snapshot: tuple[str, str] | None = None  # (fingerprint, manifest address)
        self._changed: dict[str, _Row] = {}
        self._pruned: set[str] = set()
        self._snapshot_changed = False
        self._rebuild = False

    def load(self) -> StatCache:
        """Open the cache file (only its snapshot is read now; entries when first needed)."""
        self._entries = None
        self._snapshot = None
        if not self.path.exists():
            self._rebuild = True  # a fresh file: create its tables on save
            self._entries = {}
            return self
        try:
            meta: dict[str, str] = dict(self._query("SELECT key, value FROM meta"))
        except (sqlite3.Error, OSError, ValueError, TypeError):
            meta = {}
        if meta.get("version") != str(SCHEMA_VERSION) or meta.get("folder") != self.folder:
            self._rebuild = True
            self._entries = {}
            return self
        if meta.get("fingerprint") and meta.get("manifest"):
            self._snapshot = (meta["fingerprint"], meta["manifest"])
        return self

    def _query(self, sql: str) -> list[Any]:
        conn = sqlite3.connect(self.path, timeout=5)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def _rows(self) -> dict[str, _Row]:
        if self._entries is None:
            try:
                rows = self._query("SELECT path, size, mtime_ns, inode, address FROM files")
                self._entries = {row[0]: row for row in rows}
            except (sqlite3.Error, OSError):
                self._entries = {}
                self._snapshot = None
                self._rebuild = True
        return self._entries

    def __len__(self) -> int:
        return len(self._rows())

    # -- the whole folder ------------------------------------------------------------

    def clean_manifest(self, fingerprint: str | None) -> str | None:
        """The manifest the folder matched when its stat list last had this fingerprint."""
        if fingerprint is None or self._snapshot is None or self._snapshot[0] != fingerprint:
            return None
        return self._snapshot[1]

    def set_snapshot(self, walked: Walk, manifest: str, *, observed_ns: int) -> None:
        """Remember that the folder, as walked, holds exactly ``manifest``'s files."""
        fingerprint = walked.fingerprint
        newest = max(map(itemgetter(2), walked.files), default=0)  # mtime_ns
        if fingerprint is None or newest >= observed_ns - RACY_NS:
            snapshot = None  # some file could still change without its stat changing
        else:
            snapshot = (fingerprint, manifest)
        if snapshot != self._snapshot:
            self._snapshot = snapshot
            self._snapshot_changed = True

    # -- single files ----------------------------------------------------------------

    def lookup(self, stat: FileStat) -> str | None:
        """The file's address if its stat is exactly what it was when hashed."""
        entries = self._entries if self._entries is not None else self._rows()
        hit = entries.get(stat.path)
        if (
            hit is not None
            and hit[1] == stat.size
            and hit[2] == stat.mtime_ns
            and hit[3] == stat.inode
        ):
            return hit[4]
        return None

    def record(self, stat: FileStat, address: str, *, observed_ns: int) -> None:
        """Remember a file's address; ``observed_ns`` is a time before its stat was taken."""
        if stat.mtime_ns >= observed_ns - RACY_NS:
            return  # racy: could still change without its stat changing
        row = (stat.path, stat.size, stat.mtime_ns, stat.inode, address)
        entries = self._rows()
        if entries.get(stat.path) != row:
            entries[stat.path] = row
            self._changed[stat.path] = row

    def keep_only(self, paths: Iterable[str]) -> None:
        """Forget files that are no longer in the folder."""
        present = set(paths)
        entries = self._rows()
        gone = [p for p in entries if p not in present]
        for path in gone:
            del entries[path]
            self._changed.pop(path, None)
        self._pruned.update(gone)

    # -- writing ---------------------------------------------------------------------

    def save(self) -> None:
        """Write what changed. Failing to write is not an error: the cache is optional."""
        if not (self._changed or self._pruned or self._snapshot_changed or self._rebuild):
            return
        try:
            self._write()
        except (sqlite3.Error, OSError):
            if self._rebuild:
                return
            # Unreadable in a way load() did not see: start a fresh file once.
            self._rows()
            self._rebuild = True
            with contextlib.suppress(sqlite3.Error, OSError):
                self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._rebuild:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            rows: Iterable[_Row]
            if self._rebuild:
                conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                conn.execute(
                    "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
                    "mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, address TEXT NOT NULL) "
                    "WITHOUT ROWID"
                )
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("version", str(SCHEMA_VERSION)), ("folder", self.folder)],
                )
                rows = self._rows().values()
            else:
                conn.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in self._pruned))
                rows = self._changed.values()
            conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)
            fingerprint, manifest = self._snapshot or ("", "")
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("fingerprint", fingerprint), ("manifest", manifest)],
            )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        self._changed.clear()
        self._pruned.clear()
        self._snapshot_changed = False
        self._rebuild = False
