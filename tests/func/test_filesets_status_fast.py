"""The quick `data status` (SQLite and PostgreSQL): answered without SQLAlchemy, it must
say exactly what the full service and command say, and step aside whenever it cannot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlgrove.cli.data_fast import parse
from mlgrove.services import filesets, table_commit
from mlgrove.services.context import Context, Runtime
from mlgrove.services.fileset_status import quick_status
from mlgrove.services.workspace import init_workspace
from mlgrove.testing.factories import Factories

HOUR_AGO = time.time() - 3600


def write(root: Path, files: dict[str, bytes], *, mtime: float = HOUR_AGO) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (mtime, mtime))
    return root


FILES = {
    "cats/1.jpg": b"cat one" * 100,
    "cats/2.jpg": b"cat two" * 100,
    "dogs/1.jpg": b"dog one" * 100,
    "labels.csv": b"file,label\n",
}


@pytest.fixture
def ctx(grove_runtime: Runtime, grove_factories: Factories, tmp_path: Path) -> Context:
    grove_runtime.settings = grove_runtime.settings.with_overrides(
        cache_dir=str(tmp_path / "cache")
    )
    return grove_factories.admin_ctx


def test_the_quick_status_answers_as_the_service_in_every_state(
    ctx: Context, tmp_path: Path
) -> None:
    folder = write(tmp_path / "photos", FILES)
    filesets.add_folder(ctx, "photos", folder)

    def same(project: str | None = None) -> dict[str, Any]:
        quick = quick_status(ctx.settings, "photos", folder, project=project)
        assert quick is not None
        assert quick == filesets.status(ctx, "photos", folder, project=project)
        # And again, now that the stat cache holds what either run learnt.
        assert quick_status(ctx.settings, "photos", folder, project=project) == quick
        return quick

    assert same() == {
        "dataset": "photos",
        "version": "v1",
        "added": [],
        "removed": [],
        "modified": [],
        "unchanged": 4,
        "skipped": [],
    }
    # Same size, another mtime: read and hashed.
    write(folder, {"cats/1.jpg": b"CAT ONE" * 100, "new/x.bin": b"x"}, mtime=HOUR_AGO + 60)
    (folder / "labels.csv").unlink()
    (folder / "dogs/2.jpg").symlink_to(folder / "dogs/1.jpg")
    changed = same()
    assert (changed["added"], changed["removed"], changed["modified"]) == (
        ["new/x.bin"],
        ["labels.csv"],
        ["cats/1.jpg"],
    )
    assert (changed["unchanged"], changed["skipped"]) == (2, ["dogs/2.jpg"])

    filesets.add_folder(ctx, "photos", folder)
    assert same()["version"] == "v2"
    assert same()["unchanged"] == 4
    assert same(project=_only_project(ctx))["unchanged"] == 4


def _only_project(ctx: Context) -> str:
    from mlgrove.services import projects

    (project,) = projects.list_projects(ctx)
    return project.name


def test_what_the_quick_status_cannot_answer_is_left_to_the_full_path(
    ctx: Context, grove_factories: Factories, tmp_path: Path
) -> None:
    folder = write(tmp_path / "photos", FILES)
    filesets.add_folder(ctx, "photos", folder)
    table_commit.commit(ctx, "table", pd.DataFrame({"id": [1, 2]}), key=["id"])
    project = _only_project(ctx)
    settings = ctx.settings
    assert quick_status(settings, "nothing", folder) is None  # no such dataset
    assert quick_status(settings, "table", folder) is None  # a table dataset
    assert quick_status(settings, "photos", folder, project="elsewhere") is None
    grove_factories.project("second")
    assert quick_status(settings, "photos", folder) is None  # which project?
    assert quick_status(settings, "photos", folder, project=project) is not None
    outdated = settings.with_overrides(database_url="sqlite+pysqlite:///elsewhere.db")
    assert quick_status(outdated, "photos", folder, project=project) is None


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (["data", "status", "p", "f"], {"name": "p", "folder": "f", "as_json": False}),
        (
            ["-w", "W", "data", "status", "--json", "p", "-p", "P", "f"],
            {"name": "p", "folder": "f", "as_json": True, "project": "P", "workspace": "W"},
        ),
        (
            ["--workspace=W", "data", "status", "p", "f", "--project=P"],
            {"project": "P", "workspace": "W"},
        ),
        (["data", "status", "p"], None),
        (["data", "status", "p", "f", "g"], None),
        (["data", "status", "p", "f", "--help"], None),
        (["data", "status", "p", "f", "-pP"], None),
        (["data", "status", "p", "f", "--project"], None),
        (["--url", "http://x", "data", "status", "p", "f"], None),
        (["-u", "ana", "data", "status", "p", "f"], None),
        (["data", "add", "p", "f"], None),
    ],
)
def test_only_plain_command_lines_are_parsed(
    argv: list[str], found: dict[str, Any] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLGROVE_WORKSPACE", raising=False)
    monkeypatch.delenv("MLGROVE_PROJECT", raising=False)
    parsed = parse(argv)
    if found is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert {k: parsed[k] for k in found} == found


# A subprocess per command: the quick path (``run``, as the console script) or the full
# Typer command (``app_for``, skipping the quick path); with the heavy modules it loaded.
PROBE = """
import json, sys
from mlgrove.cli import main
mode, args = sys.argv[1], sys.argv[2:]
if mode == "quick":
    code = main.run(args)
else:
    try:
        main.app_for(args)(args=args, prog_name="mlgrove")
        code = 0
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        sys.stderr.write(f"mlgrove: error: {exc}\\n")
        code = 1
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "typer", "pyarrow"})
sys.stderr.write("\\n" + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


def test_the_command_prints_what_the_full_command_prints(
    grove_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    init_workspace(root, database_url=grove_database_url)
    folder = write(tmp_path / "photos", FILES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGROVE_")}
    env["COLUMNS"] = "60"  # a narrow terminal must not wrap the full command's lines either

    def mlgrove(mode: str, *args: str) -> tuple[str, str, dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, mode, *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        err, _, last = done.stderr.rstrip("\n").rpartition("\n")
        return done.stdout, err, json.loads(last)

    def both(*args: str, quick: bool = True) -> str:
        full_out, full_err, full_how = mlgrove("full", *args)
        quick_out, quick_err, quick_how = mlgrove("quick", *args)
        assert (quick_out, quick_err, quick_how["code"]) == (full_out, full_err, full_how["code"])
        assert "sqlalchemy" in full_how["heavy"]
        # The quick path loads neither Typer nor SQLAlchemy; a command it steps aside
        # from runs in full.
        assert ("sqlalchemy" not in quick_how["heavy"]) is quick
        return quick_out or quick_err

    added, how = mlgrove("quick", "data", "add", "photos", str(folder), "--json")[0::2]
    assert json.loads(added)["rows"] == 4
    assert how["code"] == 0

    assert both("data", "status", "photos", str(folder)) == (
        f"{folder}: up to date with photos v1 (4 files)\n"
    )
    assert json.loads(both("data", "status", "photos", str(folder), "--json"))["unchanged"] == 4
    write(folder, {"cats/1.jpg": b"CAT ONE" * 100, "a long name " * 9: b"x"}, mtime=HOUR_AGO + 60)
    (folder / "labels.csv").unlink()
    os.symlink(folder / "dogs/1.jpg", folder / "link.jpg")
    text = both("data", "status", "photos", f"{folder}/", "-p", "default")
    assert text.splitlines()[-1] == ("1 symlink(s) or special file(s) skipped, e.g. link.jpg")
    assert "1 added, 1 removed, 1 modified since v1" in text
    both("-w", str(root), "data", "status", "--json", "photos", str(folder))
    # What the quick path leaves to the full command: errors, other users, options.
    assert "no dataset named 'nothing'" in both(
        "data", "status", "nothing", str(folder), quick=False
    )
    assert "no such folder" in both("data", "status", "photos", "/no/such", quick=False)
    both("data", "status", "photos", str(folder), "--project", "nope", quick=False)
    both("-u", "local", "data", "status", "photos", str(folder), quick=False)
