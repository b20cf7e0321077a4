"""Which files were added, removed or modified between two lists of files."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mlgrove.filesets.manifest import FileEntry
from mlgrove.filesets.walk import FileStat

__all__ = ["Changes", "compare", "compare_folder"]


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)  # each list sorted by path
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.modified)


def compare(old: Mapping[str, FileEntry], new: Mapping[str, FileEntry]) -> Changes:
    """A file is modified when its size, content or executable bit differ."""
    changes = Changes()
    for path in sorted(new):
        now = new[path]
        before = old.get(path)
        if before is None:
            changes.added.append(path)
        elif (
            before.size != now.size
            or before.address != now.address
            or before.executable != now.executable
        ):
            changes.modified.append(path)
        else:
            changes.unchanged += 1
    changes.removed = sorted(p for p in old if p not in new)
    return changes


def compare_folder(
    old: Mapping[str, FileEntry],
    files: Sequence[FileStat],
    lookup: Callable[[FileStat], str | None],
    hash_files: Callable[[list[FileStat]], list[str]],
) -> Changes:
    """Compare a walked folder with a version, reading as few files as possible.

    A file the version lacks is added, and one whose size or executable bit differ is
    modified, without reading either. For the rest, ``lookup`` (the stat cache) gives
    the address when it can; only what it cannot answer goes to ``hash_files``, in one
    call, so the caller can hash them in parallel.
    """
    changes = Changes()
    unknown: list[FileStat] = []
    for f in files:
        before = old.get(f.path)
        if before is None:
            changes.added.append(f.path)
        elif before.size != f.size or before.executable != f.executable:
            changes.modified.append(f.path)
        else:
            address = lookup(f)
            if address is None:
                unknown.append(f)
            elif address == before.address:
                changes.unchanged += 1
            else:
                changes.modified.append(f.path)
    if unknown:
        for f, address in zip(unknown, hash_files(unknown), strict=True):
            if address == old[f.path].address:
                changes.unchanged += 1
            else:
                changes.modified.append(f.path)
        changes.modified.sort()
    if len(old) != len(files) - len(changes.added):
        present = {f.path for f in files}
        changes.removed = sorted(p for p in old if p not in present)
    return changes
