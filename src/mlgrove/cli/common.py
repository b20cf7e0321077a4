"""What every command shares: the workspace option, consoles, output helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from mlgrove.cli import startup
from mlgrove.config import Settings, load_settings
from mlgrove.errors import WorkspaceNotFound
from mlgrove.workspace import Workspace, find_workspace

if TYPE_CHECKING:
    from mlgrove.client.base import Client

out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


@dataclass
class State:
    workspace: str | None = None
    url: str | None = None
    token: str | None = None
    user: str | None = None


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def workspace(ctx: typer.Context) -> Workspace:
    return find_workspace(state(ctx).workspace)


def settings(ctx: typer.Context) -> Settings:
    """The workspace's settings, or (for servers in containers) the environment's alone."""
    st = state(ctx)
    try:
        return find_workspace(st.workspace).settings()
    except WorkspaceNotFound:
        if st.workspace is None and os.environ.get("MLGROVE_DATABASE_URL"):
            return load_settings(None)
        raise


def client(ctx: typer.Context) -> Client:
    """A client for the workspace (embedded) or for ``--url`` / ``$MLGROVE_URL`` (remote)."""
    from mlgrove.sdk import connect

    st = state(ctx)
    if st.url:
        grove = connect(st.url, token=st.token)
    else:
        grove = connect(Path(find_workspace(st.workspace).root), user=st.user)
    startup.done()
    return grove
