"""Entry point of the `mlgrove` command and its error handling.

A mistake the user can fix (any :class:`~mlgrove.errors.GroveError`) prints one line on
stderr and exits 1; usage errors exit 2. Tracebacks are for bugs only.
"""

from __future__ import annotations

import sys

import typer

from mlgrove._version import __version__
from mlgrove.cli import (
    data_cmds,
    growth_cmds,
    import_cmds,
    people_cmds,
    pipeline_cmds,
    program_cmds,
    review_cmds,
    server_cmds,
    tracking_cmds,
    workspace_cmds,
)
from mlgrove.cli.common import State
from mlgrove.errors import GroveError

app = typer.Typer(
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


@app.callback()
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


workspace_cmds.register(app)
data_cmds.register(app)
tracking_cmds.register(app)
pipeline_cmds.register(app)
review_cmds.register(app)
growth_cmds.register(app)
program_cmds.register(app)
import_cmds.register(app)
people_cmds.register(app)
server_cmds.register(app)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    try:
        # Standalone mode: Typer itself prints usage errors (exit 2) and handles --help.
        app(args=argv, prog_name="mlgrove")
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
