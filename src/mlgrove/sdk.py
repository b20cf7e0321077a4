"""``mlgrove.connect()``: pick the embedded or the remote client from a target string."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlgrove.client.base import Client


def connect(
    target: str | os.PathLike[str] | None = None,
    *,
    token: str | None = None,
    user: str | None = None,
    transport: Any = None,
) -> Client:
    """Connect to Grove.

    ``target`` is a workspace folder (embedded mode: straight to the services on this
    machine) or an ``http(s)://`` URL (remote mode). Without a target, ``$MLGROVE_URL``
    is used if set, otherwise the workspace found from the current folder.

    In remote mode the API token comes from ``token`` or ``$MLGROVE_TOKEN``;
    ``transport`` (an ``httpx`` transport) lets tests talk to an app without a network.
    In embedded mode ``user`` names the person to act as (default: the workspace owner,
    who acts as an administrator, since they can open the database file anyway).
    """
    if target is None:
        target = os.environ.get("MLGROVE_URL")
    text = os.fspath(target) if target is not None else None
    if text is not None and text.startswith(("http://", "https://")):
        from mlgrove.client.http import RemoteClient
        from mlgrove.pipelines.remote import RemotePipelines

        client = RemoteClient(
            text, token=token or os.environ.get("MLGROVE_TOKEN"), transport=transport
        )
        # Pipelines run their steps here, with the engine (a layer above the client).
        client.pipelines = RemotePipelines(client)
        return client
    # Embedded mode loads the database layer; importing mlgrove alone does not.
    from mlgrove.services.embedded import EmbeddedClient

    return EmbeddedClient.open(Path(text) if text is not None else None, user=user)
