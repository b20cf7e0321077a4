"""Artifact folders as files on disk, shared by the embedded and the remote client.

A folder logged as artifacts becomes one artifact per file, named ``<prefix>/<relative
path>`` with ``/`` on every system; downloading writes each name back as a relative path
under a destination folder, never outside it, and never as a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO

from mlgrove.errors import InvalidInput

NAME_MAX = 500


def folder_prefix(folder: Path, name: str | None) -> str:
    if not folder.is_dir():
        raise InvalidInput(f"artifact folder {folder} does not exist", hint="check the path")
    prefix = (name or folder.resolve().name).strip("/")
    if not prefix:
        raise InvalidInput("an artifact folder needs a name", hint="pass name=...")
    return prefix


def tree_files(folder: Path, prefix: str) -> list[tuple[Path, str]]:
    """Every regular file under ``folder`` (sorted) with its artifact name."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            path = Path(root) / f
            if path.is_file():
                found.append((path, f"{prefix}/{path.relative_to(folder).as_posix()}"))
    if not found:
        raise InvalidInput(f"artifact folder {folder} has no files", hint="check the path")
    long = [name for _, name in found if len(name) > NAME_MAX]
    if long:
        raise InvalidInput(
            f"artifact name {long[0][:60]!r}... is longer than {NAME_MAX} characters",
            hint="log the folder under a shorter name, or from nearer its files",
        )
    return found


def relative_target(dest: Path, name: str) -> Path:
    """Where artifact ``name`` goes under ``dest``; a name that would leave it is refused."""
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(
            f"artifact name {name!r} cannot be written as a path under {dest}",
            hint="download it on its own, by its name",
        )
    return dest.joinpath(*parts)


def write_file(target: Path, source: IO[bytes]) -> None:
    """Write to a temporary name beside ``target``, then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
