"""`mlgrove serve` runs with the serving process's settings (server/tuning.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from mlgrove.cli import server_cmds
from mlgrove.config import Settings
from mlgrove.server import app as server_app
from mlgrove.server.tuning import SWITCH_INTERVAL_S
from mlgrove.services.context import Runtime


def test_serve_shortens_the_gil_switch_interval_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads answering short requests must not wait CPython's default 5 ms turns for
    the interpreter lock (ADR 0017): the server starts with the shorter interval."""
    import uvicorn

    seen: dict[str, Any] = {}

    def run(app: Any, **kwargs: Any) -> None:
        seen["interval"] = sys.getswitchinterval()
        seen["port"] = kwargs["port"]

    class NoRuntime:
        def close(self) -> None:
            seen["closed"] = True

    before = sys.getswitchinterval()
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(Runtime, "open", staticmethod(lambda settings: NoRuntime()))
    monkeypatch.setattr(server_app, "create_app", lambda runtime: None)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'grove.db'}",
        object_store_url=str(tmp_path / "objects"),
        secret_key="s" * 32,
    )
    try:
        server_cmds._serve(settings, "127.0.0.1", 8799)
    finally:
        sys.setswitchinterval(before)
    assert seen == {"interval": pytest.approx(SWITCH_INTERVAL_S), "port": 8799, "closed": True}
    assert SWITCH_INTERVAL_S < 0.005  # shorter than CPython's default
