"""Finding a workspace: a folder holding ``.mlgrove/``, found the way git finds a repo.

``--workspace PATH`` or ``$MLGROVE_WORKSPACE`` name one directly; otherwise the current
folder and then each parent is searched for ``.mlgrove/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlgrove.config import Settings, load_settings
from mlgrove.errors import WorkspaceNotFound

__all__ = ["GROVE_DIR", "Workspace", "find_workspace"]

GROVE_DIR = ".mlgrove"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def grove_dir(self) -> Path:
        return self.root / GROVE_DIR

    @property
    def config_path(self) -> Path:
        return self.grove_dir / "config.toml"

    def settings(self, environ: Mapping[str, str] | None = None) -> Settings:
        return load_settings(self.grove_dir, environ)


def find_workspace(
    explicit: str | os.PathLike[str] | None = None,
    *,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Workspace:
    """The workspace named explicitly, by ``$MLGROVE_WORKSPACE``, or found upwards."""
    env = os.environ if environ is None else environ
    named = explicit if explicit is not None else env.get("MLGROVE_WORKSPACE")
    if named:
        root = Path(named).expanduser().resolve()
        if root.name == GROVE_DIR:
            root = root.parent
        if not (root / GROVE_DIR).is_dir():
            raise WorkspaceNotFound(
                f"{root} is not a Grove workspace (no {GROVE_DIR}/ folder)",
                hint=f"run `mlgrove init` in {root} or point --workspace elsewhere",
            )
        return Workspace(root)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / GROVE_DIR).is_dir():
            return Workspace(folder)
    raise WorkspaceNotFound(
        f"no Grove workspace in {here} or any parent folder",
        hint="run `mlgrove init` to make one, or pass --workspace / set $MLGROVE_WORKSPACE",
    )
