"""The root of the `mlgrove` command: its global options, before any command registers.

Kept apart from ``cli/main.py`` so that the entry point can answer a fully cached
``pipeline run`` (``cli/pipeline_fast.py``) before Typer is even imported.
"""

from __future__ import annotations

import typer

from mlgrove.cli.common import State

__all__ = ["root"]

root = typer.Typer(
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
        from mlgrove._version import __version__  # reads the package metadata: ~10 ms

        print(f"mlgrove {__version__}")
        raise typer.Exit()


@root.callback()
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
