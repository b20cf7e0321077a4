"""Entry point of the `mlgrove` command and its error handling.

A mistake the user can fix (any :class:`~mlgrove.errors.GroveError`) prints one line on
stderr and exits 1; usage errors exit 2. Tracebacks are for bugs only.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mlgrove.cli import startup
from mlgrove.errors import GroveError

if TYPE_CHECKING:
    import typer

# Each top-level command and the module that registers it. A run imports only the module
# of the command it runs: `mlgrove pipeline status` need not load pandas, pyarrow and
# MLflow's importer (about a second of start-up). Help and unknown commands load all.
# The order is the order of `mlgrove --help`.
COMMANDS: dict[str, str] = {
    "init": "workspace_cmds",
    "upgrade": "workspace_cmds",
    "fsck": "workspace_cmds",
    "config": "workspace_cmds",
    "object": "workspace_cmds",
    "data": "data_cmds",
    "runs": "tracking_cmds",
    "models": "tracking_cmds",
    "worker": "pipeline_cmds",
    "pipeline": "pipeline_cmds",
    "review": "review_cmds",
    "feedback": "growth_cmds",
    "ladder": "growth_cmds",
    "help": "program_cmds",
    "learning": "program_cmds",
    "mentors": "program_cmds",
    "designs": "program_cmds",
    "import": "import_cmds",
    "audit": "people_cmds",
    "user": "people_cmds",
    "team": "people_cmds",
    "project": "people_cmds",
    "token": "people_cmds",
    "serve": "server_cmds",
    "demo": "server_cmds",
}
# Global options that take a value (so the value is not taken for the command).
_VALUED = {"--workspace", "-w", "--url", "--server", "--token", "--user", "-u"}

_loaded: set[str] = set()


def _root() -> typer.Typer:
    from mlgrove.cli.app import root

    return root


def _register(modules: Iterable[str]) -> typer.Typer:
    for name in modules:
        if name not in _loaded:
            importlib.import_module(f"mlgrove.cli.{name}").register(_root())
            _loaded.add(name)
    return _root()


def full_app() -> typer.Typer:
    """The CLI with every command registered (for help, docs and tests)."""
    return _register(dict.fromkeys(COMMANDS.values()))


def _command(argv: list[str]) -> str | None:
    """The top-level command named in ``argv`` (None: help, version or nothing)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def app_for(argv: list[str]) -> typer.Typer:
    """The CLI with just what ``argv`` needs registered (everything when unsure)."""
    command = _command(argv)
    if command is None and "--version" in argv:
        return _root()  # answered by the eager option, before any command
    module = COMMANDS.get(command or "")
    return _register([module]) if module is not None else full_app()


def __getattr__(name: str) -> typer.Typer:
    # `from mlgrove.cli.main import app`: the whole CLI, as before lazy loading.
    if name == "app":
        return full_app()
    raise AttributeError(name)


def _quick(args: list[str]) -> int | None:
    """A fully cached `pipeline run`, a `pipeline status` or a `data status`, answered
    before Typer, SQLAlchemy and the SDK load (see cli/pipeline_fast.py and
    cli/data_fast.py); ``None`` when the command must run in full."""
    if "pipeline" in args:
        from mlgrove.cli.pipeline_fast import try_run

        return try_run(args)
    if "data" in args and "status" in args:
        from mlgrove.cli.data_fast import try_status

        return try_status(args)
    return None


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    try:
        # Standalone mode: Typer itself prints usage errors (exit 2) and handles --help.
        args = sys.argv[1:] if argv is None else argv
        if argv is None:  # a process of its own (not a caller's, e.g. a test's)
            startup.quiet()
        quick = _quick(args)
        if quick is not None:
            code = quick
        else:
            app_for(args)(args=args, prog_name="mlgrove")
            code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except GroveError as exc:
        sys.stderr.write(f"mlgrove: error: {exc}\n")
        code = 1
    except KeyboardInterrupt:
        sys.stderr.write("mlgrove: interrupted\n")
        code = 130
    if argv is None:
        sys.exit(code)
    return code
