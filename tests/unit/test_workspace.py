from __future__ import annotations

from pathlib import Path

import pytest

from mlgrove.errors import WorkspaceNotFound
from mlgrove.workspace import find_workspace


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "proj" / ".mlgrove").mkdir(parents=True)
    (tmp_path / "proj" / "src" / "deep").mkdir(parents=True)
    return tmp_path


def test_found_from_any_subfolder_like_git(tree: Path) -> None:
    ws = find_workspace(start=tree / "proj" / "src" / "deep", environ={})
    assert ws.root == (tree / "proj").resolve()


def test_explicit_path_and_environment_win(tree: Path) -> None:
    assert find_workspace(tree / "proj", environ={}).root == (tree / "proj").resolve()
    ws = find_workspace(start=tree, environ={"MLGROVE_WORKSPACE": str(tree / "proj" / ".mlgrove")})
    assert ws.root == (tree / "proj").resolve()


def test_not_found_says_how_to_make_one(tree: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="no Grove workspace in") as info:
        find_workspace(start=tree, environ={})
    assert "mlgrove init" in (info.value.hint or "")


def test_explicit_path_that_is_not_a_workspace(tree: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="is not a Grove workspace"):
        find_workspace(tree / "proj" / "src", environ={})
