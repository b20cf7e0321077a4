"""A file-dataset version's manifest: every file's path, content address, size and
executable bit, in canonical JSON.

Canonical means the same files always give the same bytes, hence the same address:
entries sorted by path (code point order, which is also UTF-8 byte order), keys sorted,
no whitespace, UTF-8 text. The manifest's address is the version's address::

    {"files":[["a/cat.jpg","<64 hex>",1234,false],...],"format":"grove-files/1"}
"""

from __future__ import annotations

import builtins
import itertools
import json
import operator
from collections.abc import Iterable
from operator import attrgetter
from typing import NamedTuple

from mlgrove.errors import InvalidInput

__all__ = ["FORMAT", "FileEntry", "FileManifest", "check_path"]

FORMAT = "grove-files/1"


class FileEntry(NamedTuple):
    # A tuple, not a dataclass: a version can list millions, and tuples build fastest.
    path: str  # relative POSIX path
    address: str
    size: int
    executable: bool = False


class FileManifest:
    """An immutable, sorted list of :class:`FileEntry`, one per path."""

    __slots__ = ("entries",)

    def __init__(self, entries: Iterable[FileEntry]) -> None:
        ordered = tuple(entries)
        # Entries usually come sorted (a walk lists paths in order): check, sort if not.
        paths = list(map(attrgetter("path"), ordered))
        if any(itertools.starmap(operator.ge, itertools.pairwise(paths))):
            ordered = tuple(sorted(ordered, key=attrgetter("path")))
            for before, after in itertools.pairwise(ordered):
                if before.path == after.path:
                    raise ValueError(f"path {before.path!r} is listed twice")
        self.entries: tuple[FileEntry, ...] = ordered

    @property
    def files(self) -> int:
        return len(self.entries)

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self.entries)

    def by_path(self) -> dict[str, FileEntry]:
        return {e.path: e for e in self.entries}

    def to_bytes(self) -> builtins.bytes:
        # FileEntry is a tuple of exactly (path, address, size, executable): JSON writes
        # it as that array, with no list built per entry.
        body = {"format": FORMAT, "files": self.entries}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )

    @classmethod
    def from_bytes(cls, data: builtins.bytes) -> FileManifest:
        """Parse a manifest; :class:`ValueError` when the bytes are not one."""
        try:
            body = json.loads(data)
            found = body.get("format")
            rows = body["files"] if found == FORMAT else None
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a {FORMAT} manifest: {exc}") from None
        if rows is None:
            raise ValueError(f"not a {FORMAT} manifest (format {found!r})")
        manifest = cls.__new__(cls)
        try:
            # Written by to_bytes, so already sorted and unique: skip re-checking.
            manifest.entries = tuple(map(FileEntry._make, rows))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a {FORMAT} manifest: {exc}") from None
        return manifest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileManifest) and self.entries == other.entries

    def __hash__(self) -> int:
        return hash(self.entries)


def check_path(path: str) -> str:
    """A manifest path is safe to write under a folder: relative, no ``..``, no NUL."""
    parts = path.split("/")
    if not path or "\x00" in path or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(
            f"unsafe path {path!r} in a file manifest",
            hint="paths must be relative, without '.', '..' or empty parts",
        )
    return path
