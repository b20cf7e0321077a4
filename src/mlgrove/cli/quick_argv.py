"""Reading a command line before Typer loads, for the quick paths (``data_fast``,
``pipeline_fast``).

Each quick path understands one plain form of its command and hands anything else to
the full command: so these helpers answer ``None`` for whatever they do not recognise
(an unknown option, ``--help``, a missing value), never an error of their own.
"""

from __future__ import annotations

import os
from collections.abc import Collection

__all__ = ["env", "scan", "split_workspace"]

_WORKSPACE = {"--workspace", "-w"}


def env(name: str) -> str | None:
    return os.environ.get(name) or None  # Click treats an empty variable as unset


def split_workspace(argv: list[str]) -> tuple[str | None, list[str]] | None:
    """The global ``--workspace``/``-w`` option (else ``$MLGROVE_WORKSPACE``) and the
    rest of the command line; ``None`` when the option has no value."""
    workspace = env("MLGROVE_WORKSPACE")
    rest = list(argv)
    while rest and (rest[0] in _WORKSPACE or rest[0].startswith("--workspace=")):
        arg = rest.pop(0)
        if "=" in arg:
            workspace = arg.split("=", 1)[1]
        elif rest:
            workspace = rest.pop(0)
        else:
            return None
    return workspace, rest


def scan(
    args: list[str], valued: Collection[str]
) -> tuple[list[tuple[str, str]], list[str], bool] | None:
    """A command's own arguments: the ``valued`` options given (name as written, value;
    in order; ``--name=value`` or ``--name value``), the positional arguments, and
    whether ``--json`` was given. ``None`` for any other option or a missing value."""
    rest = list(args)
    options: list[tuple[str, str]] = []
    positional: list[str] = []
    as_json = False
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if arg == "--json":
            as_json = True
        elif name in valued:
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            options.append((name, value))
        elif arg.startswith("-"):
            return None  # --help, "--", an option the quick path does not handle
        else:
            positional.append(arg)
    return options, positional, as_json
