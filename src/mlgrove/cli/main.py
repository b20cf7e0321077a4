"""Entry point of the `mlgrove` command and its error handling.

A mistake the user can fix (any :class:`~mlgrove.errors.GroveError`) prints one line on
stderr and exits 1; usage errors exit 2. Tracebacks are for bugs only.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

import typer

from mlgrove._version import __version__
from mlgrove.cli.common import State
from mlgrove.errors import GroveError

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

_app = typer.Typer(
    name="mlgrove",
    help="Grove: where an ML team's models and its engineers grow together.\n\n"
    "Start with `mlgrove init` in a project folder (or `mlgrove demo` to look around). "
    "Commands find the workspace from the current folder, as git does; "
    "--workspace or $MLGROVE_WORKSPACE override that.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"mlgrove {__version__}")
        raise typer.Exit()


@_app.callback()
def main(
    ctx: typer.Context,
    workspace: str | None = typer.Option(
        None,
        "--workspace",
        "-w",
        envvar="MLGROVE_WORKSPACE",
        help="Workspace folder (default: found from the current folder upwards).",
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        "--server",
        envvar="MLGROVE_URL",
        help="Talk to a Grove server at this URL instead of a local workspace (token in $MLGROVE_TOKEN).",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="MLGROVE_TOKEN",
        help="API token for --url.",
        show_default=False,
    ),
    user: str | None = typer.Option(
        None,
        "--user",
        "-u",
        envvar="MLGROVE_USER",
        help="In a local workspace, act as this person (default: the workspace owner, as admin).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    ctx.obj = State(workspace=workspace, url=url, token=token, user=user)


_loaded: set[str] = set()


def _register(modules: Iterable[str]) -> typer.Typer:
    for name in modules:
        if name not in _loaded:
            importlib.import_module(f"mlgrove.cli.{name}").register(_app)
            _loaded.add(name)
    return _app


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
        return _app  # answered by the eager option, before any command
    module = COMMANDS.get(command or "")
    return _register([module]) if module is not None else full_app()


def __getattr__(name: str) -> typer.Typer:
    # `from mlgrove.cli.main import app`: the whole CLI, as before lazy loading.
    if name == "app":
        return full_app()
    raise AttributeError(name)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    try:
        # Standalone mode: Typer itself prints usage errors (exit 2) and handles --help.
        args = sys.argv[1:] if argv is None else argv
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
