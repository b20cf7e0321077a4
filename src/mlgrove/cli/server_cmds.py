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
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print what the workspace holds as JSON (dataset_versions, model_versions, "
        "retrains, reviewed_items) instead of the welcome table; progress goes to stderr.",
    ),
) -> None:
    """Build the demo workspace and serve it: the whole loop in a few minutes.

    Two teams with people in every role; scikit-learn's digits imported and split; a
    pipeline that trains and evaluates a classifier; its predictions reviewed by
    simulated reviewers (marked as such); the corrections committed as a new dataset
    version; the retrain rule firing; both models compared on the same test set and by
    human judgement; and the team layer around that work. Running it again reuses the
    workspace. Log in with any of the printed users.
    """
    import json
    import sys
    import time
    from dataclasses import asdict

    from rich.table import Table

    from mlgrove.services.demo import DEMO_PASSWORD, PEOPLE, build_demo

    started = time.monotonic()

    def progress(line: str) -> None:
        # stderr: with --json, stdout carries only the JSON document.
        print(f"[{time.monotonic() - started:5.1f}s] {line}", file=sys.stderr, flush=True)

    ws, told = build_demo(path, progress)
    if as_json:
        print(json.dumps({"workspace": str(ws.root), **asdict(told)}))
    else:
        out.print(f"Demo workspace ready in {ws.root}")
        out.print(
            f"{told.dataset_versions} dataset versions, {told.model_versions} model versions, "
            f"{told.retrains} retrains, {told.reviewed_items} reviewed items"
        )
        table = Table("username", "password", "role", "who")
        for p in PEOPLE:
            table.add_row(p.username, DEMO_PASSWORD, p.role.value, p.display_name)
        out.print(table)
    if serve_:
        out.print(
            f"Open http://{host}:{port}/ and log in (Ctrl+C stops the server). Where to look: "
            "the home page for the loop at a glance, /review to review items with the "
            "keyboard, /pipelines/digits for why it retrained, /models for every version and how people judged it."
        )
        _serve(ws.settings(), host, port, worker=True)
    elif not as_json:
        out.print(f"Serve it with: mlgrove --workspace {ws.root} serve --worker")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
