"""`mlgrove pipeline run` when nothing needs to run, and `mlgrove pipeline status`,
before Typer and SQLAlchemy load.

A fully cached re-run is the common case of the command and its whole useful work takes
a few tens of milliseconds; the CLI framework, the ORM and the SDK would take ten times
that to import. :func:`try_run` is called by ``cli/main.py`` first: it understands only
the plain forms of the commands (``mlgrove [-w DIR] pipeline run TARGET [--json]
[--reason R] [--executor local|inline] [--jobs N] [--project P]`` and ``pipeline status
TARGET [--json] [--param K=V] [--project P]``) and hands them to
:mod:`mlgrove.services.pipeline_noop`. Anything else (another option, a server URL,
another user, a step to run, any error) returns ``None`` and the normal command runs,
reporting as always. The output is the normal command's, to the byte.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from mlgrove.cli.quick_argv import env, scan, split_workspace
from mlgrove.errors import GroveError, InvalidInput

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from mlgrove.domain.pipelines import PipelineRunInfo, StepStatusInfo

__all__ = [
    "emit",
    "params_of",
    "parse",
    "run_json",
    "run_summary",
    "status_json",
    "status_summary",
    "status_table",
    "steps_table",
    "try_run",
]

# The options each quick command understands (and that take a value); any other option
# sends the command line to the full command.
_VALUED = {
    "run": {"--reason", "--executor", "--jobs", "-j", "--project", "-p"},
    "status": {"--project", "-p", "--param"},
}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``pipeline run`` or ``pipeline status`` command line, or
    ``None``."""
    split = split_workspace(argv)
    if split is None:
        return None
    workspace, rest = split
    if len(rest) < 2 or rest[0] != "pipeline" or rest[1] not in _VALUED:
        return None
    command = rest[1]
    scanned = scan(rest[2:], _VALUED[command])
    if scanned is None:
        return None
    given, targets, as_json = scanned
    options: dict[str, str] = {}
    params: list[str] = []
    for name, value in given:
        if name == "--param":
            params.append(value)
        else:
            options[name.lstrip("-")[:1]] = value
    if len(targets) != 1:
        return None
    jobs = options.get("j")
    if jobs is not None:
        try:
            int(jobs)
        except ValueError:
            return None  # Click reports it
    found: dict[str, Any] = {
        "workspace": workspace,
        "command": command,
        "target": targets[0],
        "as_json": as_json,
        "project": options.get("p", env("MLGROVE_PROJECT")),
    }
    if command == "run":
        found.update(reason=options.get("r", ""), executor=options.get("e", "local"))
    else:
        found.update(params=params)
    return found


def try_run(argv: list[str]) -> int | None:
    """Answer a plain ``pipeline run`` that finds every step cached, or a plain
    ``pipeline status``; the exit code, or ``None`` when the full command must run
    instead (nothing was written then)."""
    if env("MLGROVE_URL") or env("MLGROVE_USER"):
        return None
    opts = parse(argv)
    if opts is None:
        return None
    try:
        from mlgrove.services import pipeline_noop
        from mlgrove.workspace import find_workspace

        settings = find_workspace(opts["workspace"]).settings()
        # As the full command: the current folder first on the path, as `python -m` does.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        if opts["command"] == "status":
            found = pipeline_noop.cached_status(
                settings, opts["target"], project=opts["project"], params=params_of(opts["params"])
            )
            if found is None:
                return None
            _print_status(found, as_json=opts["as_json"])
            return 0
        r = pipeline_noop.cached_run(
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
        emit(run_json(r))
    else:
        console().print(steps_table(r))
        console().print(run_summary(r))
    return 0


def _print_status(found: list[StepStatusInfo], *, as_json: bool) -> None:
    if as_json:
        emit(status_json(found))
    else:
        console().print(status_table(found))
        console().print(status_summary(found))


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


def emit(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False) + "\n")


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, markup=False)


def params_of(items: list[str] | None) -> dict[str, Any]:
    """``--param KEY=VALUE`` options (VALUE read as JSON when it parses)."""
    found: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param {item!r} is not KEY=VALUE")
        try:
            found[key] = json.loads(value)
        except ValueError:
            found[key] = value
    return found


def status_json(found: list[StepStatusInfo]) -> list[dict[str, Any]]:
    return [{"step": s.step, "fresh": s.fresh, "reasons": s.reasons, "key": s.key} for s in found]


def status_table(found: list[StepStatusInfo]) -> Table:
    from rich.table import Table

    table = Table("step", "state", "why")
    for s in found:
        table.add_row(s.step, "fresh" if s.fresh else "stale", "; ".join(s.reasons))
    return table


def status_summary(found: list[StepStatusInfo]) -> str:
    stale = sum(not s.fresh for s in found)
    return "everything is fresh" if not stale else f"{stale} of {len(found)} steps are stale"
