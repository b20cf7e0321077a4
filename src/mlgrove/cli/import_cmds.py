"""`mlgrove import ...`: bring history over from other tools (MLflow)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from mlgrove.cli import startup
from mlgrove.cli.common import err, out, state, workspace
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    from mlgrove.services.context import Context

import_app = typer.Typer(
    help="Copy history from other tools into this workspace (MLflow).", no_args_is_help=True
)


@contextmanager
def _ctx(ctx: typer.Context) -> Iterator[Context]:
    st = state(ctx)
    if st.url:
        raise InvalidInput(
            "`mlgrove import` writes to a local workspace only",
            hint="run it where the server's workspace (or $MLGROVE_DATABASE_URL) is",
        )
    # Imported here: `mlgrove --help` must not load the services and SQLAlchemy.
    from mlgrove.services.workspace import opened
    from mlgrove.store.repos import people as people_repo

    with opened(workspace(ctx)) as runtime:
        actor = LOCAL_ADMIN
        if st.user:
            with runtime.db.read() as s:
                actor = people_repo.person(people_repo.person_row_by_username(s, st.user))
        startup.done()
        yield runtime.as_actor(actor)


@import_app.command("mlflow")
def mlflow(
    ctx: typer.Context,
    tracking_uri: str = typer.Argument(
        ...,
        help="The MLflow store: sqlite:///mlflow.db, http://host:5000, or a ./mlruns folder.",
    ),
    project: str | None = typer.Option(
        None,
        "--project",
        "-p",
        envvar="MLGROVE_PROJECT",
        help="Project the runs go into (default: the only one).",
    ),
    experiment: list[str] = typer.Option(
        None,
        "--experiment",
        "-e",
        help="Copy only this experiment (repeatable; default: every active one).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Copy experiments, runs, params, metrics (full history) and tags from MLflow.

    Running it again copies only the runs not imported yet (each keeps its MLflow run id
    as the tag mlflow.run_id). Exits 1 when some run could not be copied.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from mlgrove.services import mlflow_import

    with (
        _ctx(ctx) as c,
        Progress(
            TextColumn("importing MLflow runs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=as_json or not err.is_terminal,
        ) as bar,
    ):
        task = bar.add_task("import", total=None)
        report = mlflow_import.import_mlflow(
            c,
            tracking_uri,
            project=project,
            experiments=experiment or [],
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        payload = {
            "tracking_uri": report.tracking_uri,
            "project": report.project,
            "experiments": report.experiments,
            "imported": report.imported,
            "skipped": report.skipped,
            "failed": len(report.failed),
            "metric_points": report.metric_points,
            "runs": [
                {
                    "mlflow_run_id": r.mlflow_run_id,
                    "experiment": r.experiment,
                    "run_id": r.run_id,
                    "outcome": r.outcome,
                    "metric_points": r.metric_points,
                }
                for r in report.runs
            ],
            "warnings": report.warnings,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        runs = "run" if report.imported == 1 else "runs"
        out.print(
            f"{report.imported} {runs} imported into project {report.project} "
            f"({report.metric_points:,} metric points), {report.skipped} skipped, "
            f"{len(report.failed)} failed, from {len(report.experiments)} experiments."
        )
        for w in report.warnings:
            err.print(f"mlgrove: warning: {w}")
    for r in report.failed:
        err.print(f"mlgrove: error: MLflow run {r.mlflow_run_id}: {r.outcome}")
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    app.add_typer(import_app, name="import")
