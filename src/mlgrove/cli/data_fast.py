"""`mlgrove data status` before Typer and SQLAlchemy load (ADR 0015).

Status on an unchanged folder is mostly listing it: on 100,000 files the walk takes a
quarter of a second, and importing the CLI framework, the ORM and its models took
longer than that. :func:`try_status` is called by ``cli/main.py`` first: it understands
only the plain form ``mlgrove [-w DIR] data status NAME FOLDER [--json] [--project P]``
and hands it to :func:`mlgrove.services.fileset_status.quick_status`, which shares the
comparison with the full command. Anything else (another option, a server URL, another
user, an unknown dataset, any error) returns ``None`` and the full command runs,
reporting as always. The output is the full command's, to the byte.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlgrove.cli.quick_argv import env, scan, split_workspace
from mlgrove.errors import GroveError

__all__ = ["parse", "status_lines", "try_status"]

_PROJECT = {"--project", "-p"}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``data status`` command line, or ``None``."""
    split = split_workspace(argv)
    if split is None:
        return None
    workspace, rest = split
    if rest[:2] != ["data", "status"]:
        return None
    scanned = scan(rest[2:], _PROJECT)
    if scanned is None:
        return None
    options, arguments, as_json = scanned
    if len(arguments) != 2:
        return None
    project = options[-1][1] if options else env("MLGROVE_PROJECT")
    return {
        "workspace": workspace,
        "name": arguments[0],
        "folder": arguments[1],
        "as_json": as_json,
        "project": project,
    }


def try_status(argv: list[str]) -> int | None:
    """Answer a plain ``data status``; the exit code, or ``None`` when the full command
    must run instead."""
    if env("MLGROVE_URL") or env("MLGROVE_USER"):
        return None
    opts = parse(argv)
    if opts is None:
        return None
    folder = Path(opts["folder"])  # as Typer hands it to the full command
    try:
        from mlgrove.services.fileset_status import quick_status
        from mlgrove.workspace import find_workspace

        settings = find_workspace(opts["workspace"]).settings()
        result = quick_status(settings, opts["name"], folder, project=opts["project"])
    except (GroveError, OSError, ImportError):
        return None  # the full command says what is wrong
    except Exception as exc:  # a database error (locked, unreachable...): same
        if type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg"):
            return None
        raise
    if result is None:
        return None
    if opts["as_json"]:
        emit(result)
    else:
        from rich.console import Console

        out = Console(highlight=False, soft_wrap=True, markup=False)  # as cli/common.py's
        for line in status_lines(result, opts["name"], folder):
            out.print(line)
    return 0


# -- output, shared with cli/data_cmds.py ----------------------------------------------


def emit(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False) + "\n")


def status_lines(result: dict[str, Any], name: str, folder: Path) -> Iterator[str]:
    """What ``data status`` prints for ``result`` without ``--json``."""
    changed = len(result["added"]) + len(result["removed"]) + len(result["modified"])
    skipped = result.get("skipped") or []
    if not changed:
        yield f"{folder}: up to date with {name} {result['version']} ({result['unchanged']:,} files)"
    else:
        for kind, sign in (("added", "+"), ("removed", "-"), ("modified", "~")):
            for p in result[kind][:50]:
                yield f"  {sign} {p}"
        yield (
            f"{len(result['added'])} added, {len(result['removed'])} removed, "
            f"{len(result['modified'])} modified since {result['version']}"
        )
    if skipped:
        yield f"{len(skipped)} symlink(s) or special file(s) skipped, e.g. {skipped[0]}"
