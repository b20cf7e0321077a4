"""`mlgrove pipeline ...` and `mlgrove worker`: run pipelines, explain them, retrain.

Pipelines run on a local workspace (with ``--url`` a server's worker runs them: ask it
through the REST API or the web page). The current folder is put first on the import
path, as ``python -m`` does, so ``myproj.pipeline:train`` is found from the project.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.table import Table

from mlgrove.cli import startup
from mlgrove.cli.common import err, out, state, workspace
from mlgrove.cli.pipeline_fast import (
    emit,
    params_of,
    run_json,
    run_summary,
    status_json,
    status_summary,
    status_table,
    steps_table,
)
from mlgrove.errors import InvalidInput, NotFound, StepFailed

pipeline_app = typer.Typer(
    help="Pipelines: run them (cached by content), see what is stale and why, their history.",
    no_args_is_help=True,
)

ProjectOpt = typer.Option(
    None, "--project", "-p", envvar="MLGROVE_PROJECT", help="Project (default: the only one)."
)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")
ParamOpt = typer.Option(
    None, "--param", help="Override a param: KEY=VALUE (VALUE read as JSON when it parses)."
)


@contextmanager
def _ctx(ctx: typer.Context) -> Iterator[Any]:
    from mlgrove.domain.people import LOCAL_ADMIN
    from mlgrove.services.workspace import opened
    from mlgrove.store.repos import people as people_repo

    st = state(ctx)
    if st.url:
        raise InvalidInput(
            "the pipeline commands run on a local workspace",
            hint="against a server, run it from Python (mlgrove.connect(URL).pipelines.run"
            "(...): the steps run here, the cache is the server's) or ask its worker: "
            "POST /api/v1/pipelines/NAME/runs or the pipeline's web page",
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    with opened(workspace(ctx)) as runtime:
        actor = LOCAL_ADMIN
        if st.user:
            with runtime.db.read() as s:
                actor = people_repo.person(people_repo.person_row_by_username(s, st.user))
        startup.done()
        yield runtime.as_actor(actor)


def _target(c: Any, path: str, project: str | None) -> tuple[str, str | None]:
    """``module:attr``, or the name of a registered pipeline (its recorded path and
    project), so `mlgrove pipeline status digits` works where it was registered."""
    from mlgrove.services import pipelines

    if ":" in path:
        return path, project
    try:
        info = pipelines.get_pipeline(c, path)
    except NotFound:
        raise NotFound(
            f"{path!r} is neither a pipeline path nor a registered pipeline",
            hint="write module.path:attribute, or `mlgrove pipeline list` for the names",
        ) from None
    return info.path, project or info.project


@pipeline_app.command("run")
def run_cmd(
    ctx: typer.Context,
    path: str = typer.Argument(
        ..., help="The pipeline: module.path:attribute, or the name of a registered one."
    ),
    force: list[str] = typer.Option(
        None, "--force", help="Re-run this step and every step after it (repeatable)."
    ),
    param: list[str] = ParamOpt,
    executor: str = typer.Option(
        "local", "--executor", help="local (worker processes), inline, or dask://HOST:PORT."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Local worker processes (0: one per CPU)."),
    retries: int = typer.Option(
        None, "--retries", help="Retries of a failing step (default: the pipeline's)."
    ),
    reason: str = typer.Option("", "--reason", help="Why you run it (kept in its history)."),
    project: str = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Run a pipeline: cached steps are skipped, stale ones run.

    A failing step prints its traceback and the command exits 1; steps that succeeded
    stay cached, so the next run resumes from them.
    """
    from mlgrove.services import pipelines

    with _ctx(ctx) as c:
        target, where = _target(c, path, project)
        r = pipelines.run(
            c,
            target,
            project=where,
            params=params_of(param),
            force=force or [],
            executor=executor,
            jobs=jobs or None,
            retries=retries,
            reason=reason,
        )
    if as_json:
        emit(run_json(r))
    else:
        out.print(steps_table(r))
        out.print(run_summary(r))
    failed = r.failed_step
    if failed is not None:
        if failed.traceback and not as_json:
            err.print(f"step {failed.step!r} traceback (from its worker):")
            err.print(failed.traceback.rstrip())
        raise StepFailed(
            failed.error or f"step {failed.step!r} failed",
            step=failed.step,
            traceback=failed.traceback or "",
            hint="fix it and run again: the steps that succeeded stay cached",
        )


@pipeline_app.command("status")
def status_cmd(
    ctx: typer.Context,
    path: str = typer.Argument(
        ..., help="The pipeline: module.path:attribute, or the name of a registered one."
    ),
    param: list[str] = ParamOpt,
    project: str = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Each step fresh (in the cache) or stale, and why: code, input, params or
    environment changed. Runs nothing."""
    from mlgrove.services import pipelines

    with _ctx(ctx) as c:
        target, where = _target(c, path, project)
        found = pipelines.status(c, target, project=where, params=params_of(param))
    if as_json:
        emit(status_json(found))
        return
    out.print(status_table(found))
    out.print(status_summary(found))


@pipeline_app.command("register")
def register_cmd(
    ctx: typer.Context,
    path: str = typer.Argument(..., help="The pipeline, as module.path:attribute."),
    project: str = ProjectOpt,
) -> None:
    """Record a pipeline and its retrain rules without running it (the worker then
    watches its rules)."""
    from mlgrove.services import pipelines

    with _ctx(ctx) as c:
        info = pipelines.register(c, path, project=project)
    out.print(f"registered pipeline {info.name} ({len(info.steps)} steps) from {info.path}")
    for rule in info.rules:
        out.print(f"  retrain {rule.description}")


@pipeline_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
    """Pipelines of the workspace with their last run."""
    from mlgrove.services import pipelines

    with _ctx(ctx) as c:
        found = pipelines.list_pipelines(c)
    if as_json:
        emit(
            [
                {
                    "name": p.name,
                    "project": p.project,
                    "path": p.path,
                    "steps": len(p.steps),
                    "rules": [r.description for r in p.rules],
                    "last_run": run_json(p.last_run) if p.last_run else None,
                }
                for p in found
            ]
        )
        return
    table = Table("pipeline", "path", "steps", "last run", "status", "cached")
    for p in found:
        last = p.last_run
        table.add_row(
            p.name,
            p.path,
            str(len(p.steps)),
            f"{last.id} ({last.trigger})" if last else "-",
            last.status if last else "",
            f"{last.steps_cached}/{last.steps_total}" if last else "",
        )
    out.print(table)


@pipeline_app.command("show")
def show_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Pipeline name."),
    run: int = typer.Option(None, "--run", help="Show this run's steps (default: the last run)."),
    as_json: bool = JsonOpt,
) -> None:
    """A pipeline's steps, rules, recent runs and decisions (why it ran or not)."""
    from mlgrove.services import pipelines

    with _ctx(ctx) as c:
        info = pipelines.get_pipeline(c, name)
        chosen = pipelines.get_run(c, run) if run is not None else info.last_run
        runs = pipelines.list_runs(c, name, limit=10)
        decided = pipelines.decisions(c, name, limit=10)
    if as_json:
        emit(
            {
                "name": info.name,
                "project": info.project,
                "path": info.path,
                "steps": info.steps,
                "promotion": info.promotion,
                "rules": [r.description for r in info.rules],
                "run": run_json(chosen) if chosen else None,
                "runs": [run_json(r) for r in runs],
                "decisions": [
                    {
                        "at": d.at.isoformat(),
                        "kind": d.kind,
                        "outcome": d.outcome,
                        "reason": d.reason,
                        "run": d.run_id,
                    }
                    for d in decided
                ],
            }
        )
        return
    out.print(f"pipeline {info.name} (project {info.project}) from {info.path}")
    for rule in info.rules:
        out.print(f"  retrain {rule.description}")
    if chosen is not None:
        out.print(f"run {chosen.id}: {chosen.status}, trigger {chosen.trigger}: {chosen.reason}")
        out.print(steps_table(chosen))
    table = Table("run", "status", "trigger", "cached", "started")
    for r in runs:
        table.add_row(
            str(r.id),
            r.status,
            r.trigger,
            f"{r.steps_cached}/{r.steps_total}",
            f"{r.started_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)
    for d in decided:
        out.print(f"{d.at:%Y-%m-%d %H:%M} {d.kind} {d.outcome}: {d.reason}")


def worker(
    ctx: typer.Context,
    executor: str = typer.Option(
        "local", "--executor", help="Where retrains run: local, inline or dask://HOST:PORT."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Local worker processes (0: one per CPU)."),
    interval: float = typer.Option(30.0, "--interval", help="Seconds between rule checks."),
    once: bool = typer.Option(False, "--once", help="Check the rules once and exit."),
) -> None:
    """Evaluate retrain rules (new dataset versions, schedules, requested runs) and run
    the pipelines that are due. Runs until interrupted, unless --once."""
    from mlgrove.services.worker import Worker

    with _ctx(ctx) as c:
        w = Worker(
            c.runtime, executor=executor, jobs=jobs or None, interval=interval, actor=c.actor
        )
        if once:
            for d in w.tick():
                out.print(f"{d.pipeline}: {d.outcome}: {d.reason}")
            return
        out.print(f"worker checking retrain rules every {interval:g} s (Ctrl+C stops it)")
        w.run_forever()


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    app.add_typer(pipeline_app, name="pipeline")
    app.command()(worker)
