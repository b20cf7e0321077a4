"""Where a run runs: git commit and dirty flag, Python and key package versions.

Best effort and quick: no git, no checkout or a slow git just leave the fields empty.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

#: Packages whose versions are worth keeping with a run (those installed are recorded).
KEY_PACKAGES = (
    "mlgrove",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "torch",
    "tensorflow",
    "jax",
    "xgboost",
    "lightgbm",
    "catboost",
    "transformers",
)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout around ``cwd``; (None, None) outside one."""
    where = cwd or Path.cwd()
    commit = _git(["rev-parse", "HEAD"], where)
    if not commit:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return commit, (bool(status) if status is not None else None)


def packages() -> dict[str, str]:
    found = {}
    for name in KEY_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def capture(cwd: Path | None = None) -> dict[str, Any]:
    commit, dirty = git_state(cwd)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "python_version": platform.python_version(),
        "packages": packages(),
    }
