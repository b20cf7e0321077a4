"""serve and demo."""

from __future__ import annotations

from pathlib import Path

import typer

from mlgrove.cli.common import out, settings


def _serve(runtime_settings: object, host: str, port: int, *, worker: bool = False) -> None:
    import uvicorn

    from mlgrove.config import Settings
    from mlgrove.server.app import create_app
    from mlgrove.services.context import Runtime

    assert isinstance(runtime_settings, Settings)
    runtime = Runtime.open(runtime_settings)
    background = None
    if worker:
        from mlgrove.services.worker import Worker

        background = Worker(runtime)
        background.start_thread()
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="info")
    finally:
        if background is not None:
            background.stop()
        runtime.close()


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8765, help="Port to listen on."),
    worker: bool = typer.Option(
        False, "--worker", help="Also run the pipeline worker (retrain rules) in this process."
    ),
) -> None:
    """Serve the web UI and the REST API (/api/v1, docs at /api/docs).

    Runs from the current workspace, or from the environment alone when
    $MLGROVE_DATABASE_URL, $MLGROVE_OBJECT_STORE_URL and $MLGROVE_SECRET_KEY are set.
    """
    s = settings(ctx)
    out.print(
        f"Grove is serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)"
    )
    _serve(s, host, port, worker=worker)


def demo(
    path: Path = typer.Option(Path("grove-demo"), help="Folder for the demo workspace."),
    serve_: bool = typer.Option(True, "--serve/--no-serve", help="Serve it after building."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8765, help="Port to listen on."),
) -> None:
    """Build a demo workspace (a team with people in every role) and serve it.

    Running it again reuses the demo workspace. Log in with any of the printed users.
    """
    from rich.table import Table

    from mlgrove.services.demo import DEMO_PASSWORD, PEOPLE, build_demo

    ws = build_demo(path)
    out.print(f"Demo workspace ready in {ws.root}")
    table = Table("username", "password", "role", "who")
    for p in PEOPLE:
        table.add_row(p.username, DEMO_PASSWORD, p.role.value, p.display_name)
    out.print(table)
    if serve_:
        out.print(f"Open http://{host}:{port}/ and log in (Ctrl+C stops the server).")
        _serve(ws.settings(), host, port)
    else:
        out.print(f"Serve it with: mlgrove --workspace {ws.root} serve")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
