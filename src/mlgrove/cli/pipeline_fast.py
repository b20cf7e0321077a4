"""`mlgrove pipeline run` when nothing needs to run, before Typer and SQLAlchemy load.

A fully cached re-run is the common case of the command and its whole useful work takes
a few tens of milliseconds; the CLI framework, the ORM and the SDK would take ten times
that to import. :func:`try_run` is called by ``cli/main.py`` first: it understands only
the plain forms of the command (``mlgrove [-w DIR] pipeline run TARGET [--json]
[--reason R] [--executor local|inline] [--jobs N] [--project P]``) and hands the run to
:func:`mlgrove.services.pipeline_noop.cached_run`. Anything else (another option, a
server URL, another user, a step to run, any error) returns ``None`` and the normal
command runs, reporting as always. The output is the normal command's, to the byte.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from mlgrove.errors import GroveError

if TYPE_CHECKING:
    from rich.table import Table

    from mlgrove.domain.pipelines import PipelineRunInfo

__all__ = ["parse", "run_json", "run_summary", "steps_table", "try_run"]

_GLOBAL_VALUED = {"--workspace", "-w"}
_RUN_VALUED = {"--reason", "--executor", "--jobs", "-j", "--project", "-p"}


def _env(name: str) -> str | None:
    return os.environ.get(name) or None  # Click treats an empty variable as unset


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``pipeline run`` command line, or ``None``."""
    found: dict[str, Any] = {"workspace": _env("MLGROVE_WORKSPACE")}
    rest = list(argv)
    while rest and (rest[0] in _GLOBAL_VALUED or rest[0].startswith("--workspace=")):
        arg = rest.pop(0)
        if "=" in arg:
            found["workspace"] = arg.split("=", 1)[1]
        elif rest:
            found["workspace"] = rest.pop(0)
        else:
            return None
    if rest[:2] != ["pipeline", "run"]:
        return None
    rest = rest[2:]
    options: dict[str, str] = {}
    targets: list[str] = []
    as_json = False
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if arg == "--json":
            as_json = True
        elif name in _RUN_VALUED:
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            options[name.lstrip("-")[:1]] = value
        elif arg.startswith("-"):
            return None  # --force, --param, --retries, --help, ...: the full command
        else:
            targets.append(arg)
    if len(targets) != 1:
        return None
    jobs = options.get("j")
    if jobs is not None:
        try:
            int(jobs)
        except ValueError:
            return None  # Click reports it
    found.update(
        target=targets[0],
        as_json=as_json,
        reason=options.get("r", ""),
        executor=options.get("e", "local"),
        project=options.get("p", _env("MLGROVE_PROJECT")),
    )
    return found


def try_run(argv: list[str]) -> int | None:
    """Run a plain ``pipeline run`` that finds every step cached; the exit code, or
    ``None`` when the full command must run instead (nothing was written then)."""
    if _env("MLGROVE_URL") or _env("MLGROVE_USER"):
        return None
    opts = parse(argv)
    if opts is None:
        return None
    try:
        from mlgrove.services.pipeline_noop import cached_run
        from mlgrove.workspace import find_workspace

        settings = find_workspace(opts["workspace"]).settings()
        # As the full command: the current folder first on the path, as `python -m` does.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        r = cached_run(
            settings,
            opts["target"],
            project=opts["project"],
            reason=opts["reason"],
            executor=opts["executor"],
        )
    except (GroveError, OSError, ImportError):
        return None  # the full command says what is wrong
    except Exception as exc:  # a database error (locked, unreachable...): same
        if type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg"):
            return None
        raise
    if r is None:
        return None
    if opts["as_json"]:
        sys.stdout.write(json.dumps(run_json(r), default=str, ensure_ascii=False) + "\n")
    else:
        from rich.console import Console

        out = Console(highlight=False, soft_wrap=True, markup=False)
        out.print(steps_table(r))
        out.print(run_summary(r))
    return 0


# -- output, shared with cli/pipeline_cmds.py ------------------------------------------


def run_json(r: PipelineRunInfo) -> dict[str, Any]:
    return {
        "id": r.id,
        "pipeline": r.pipeline,
        "status": r.status,
        "trigger": r.trigger,
        "reason": r.reason,
        "executor": r.executor,
        "params": r.params,
        "forced": r.forced,
        "inputs": r.inputs,
        "steps_total": r.steps_total,
        "steps_cached": r.steps_cached,
        "steps_failed": r.steps_failed,
        "tracking_run_id": r.tracking_run_id,
        "error": r.error,
        "started_by": r.started_by,
        "started_at": r.started_at.isoformat(),
        "seconds": r.seconds,
        "steps": [
            {
                "step": s.step,
                "status": s.status,
                "cache_key": s.cache_key,
                "output": s.output,
                "attempts": s.attempts,
                "seconds": s.seconds,
                "error": s.error,
                "traceback": s.traceback,
            }
            for s in r.steps
        ],
    }


def steps_table(r: PipelineRunInfo) -> Table:
    from rich.table import Table

    table = Table("step", "status", "attempts", "seconds", "note")
    for s in r.steps:
        table.add_row(
            s.step,
            s.status,
            str(s.attempts or ""),
            f"{s.seconds:.2f}" if s.attempts else "",
            s.error or (s.output[:12] if s.output else ""),
        )
    return table


def run_summary(r: PipelineRunInfo) -> str:
    took = f" in {r.seconds:.2f} s" if r.seconds is not None else ""
    return (
        f"run {r.id} of {r.pipeline}: {r.status}{took} "
        f"({r.steps_cached} of {r.steps_total} steps cached)"
    )
