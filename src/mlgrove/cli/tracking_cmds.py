"""`mlgrove runs ...` and `mlgrove models ...`: tracked runs and the model registry.

The CLI contract: with ``--json`` every command prints one JSON document on stdout with
at least the documented keys. NaN and infinity are written as the strings "NaN",
"Infinity" and "-Infinity" (JSON has no such numbers).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.table import Table

from mlgrove.cli.common import client, out
from mlgrove.domain.tracking import (
    AliasEvent,
    Evaluation,
    Model,
    ModelVersion,
    Run,
    encode_float,
)
from mlgrove.errors import InvalidInput

runs_app = typer.Typer(help="Tracked runs: list, show, compare.", no_args_is_help=True)
models_app = typer.Typer(
    help="The model registry: models, versions, aliases.", no_args_is_help=True
)

ProjectOpt = typer.Option(
    None, "--project", "-p", envvar="MLGROVE_PROJECT", help="Project (default: the only one)."
)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _emit(payload: dict[str, Any] | list[Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False) + "\n")


def _num(value: float) -> float | str:
    return encode_float(value)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    found = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{what} filter {item!r} is not KEY=VALUE")
        found[key] = value
    return found


def run_json(r: Run) -> dict[str, Any]:
    return {
        "id": r.id,
        "project": r.project,
        "name": r.name,
        "status": r.status.value,
        "params": r.params,
        "tags": r.tags,
        "author": r.author,
        "started_at": r.started_at.isoformat(),
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "git_commit": r.git_commit,
        "git_dirty": r.git_dirty,
        "python_version": r.python_version,
        "packages": r.packages,
        "error": r.error,
        "metrics": {k: _num(v) for k, v in r.metrics.items()},
        "inputs": [
            {
                "dataset": i.dataset,
                "version": f"v{i.version}",
                "address": i.address,
                "split": i.split,
            }
            for i in r.inputs
        ],
        "artifacts": [{"path": a.path, "address": a.address, "size": a.size} for a in r.artifacts],
    }


@runs_app.command("list")
def runs_list(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help="Only runs in this status (running, finished, failed, killed)."
    ),
    tag: list[str] = typer.Option(None, "--tag", help="KEY=VALUE; repeat to require several."),
    param: list[str] = typer.Option(None, "--param", help="KEY=VALUE; repeat to require several."),
    limit: int = typer.Option(50, "--limit", help="How many runs (at most 1000)."),
    before: int | None = typer.Option(
        None, "--before", help="Only runs older than this run id (the next page)."
    ),
    filter_text: str | None = typer.Option(
        None,
        "--filter",
        help='The runs filter language, e.g. "metrics.acc > 0.9 and params.lr = 0.01".',
    ),
    sort: str | None = typer.Option(
        None, "--sort", help='FIELD [asc|desc], e.g. "metrics.acc desc" (default: started desc).'
    ),
    cursor: str | None = typer.Option(
        None, "--cursor", help="The next page of a --filter/--sort listing (printed after it)."
    ),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Runs of a project, newest first; --filter and --sort search them."""
    searching = filter_text is not None or sort is not None or cursor is not None
    if searching and before is not None:
        raise InvalidInput("--before pages the plain list; with --filter or --sort use --cursor")
    next_cursor: str | None = None
    with client(ctx) as grove:
        if searching:
            text = _search_text(filter_text, status, _pairs(tag, "--tag"), _pairs(param, "--param"))
            page = grove.runs.search(project, text, order_by=sort, limit=limit, cursor=cursor)
            runs, next_cursor = page.runs, page.next_cursor
        else:
            runs = grove.runs.list(
                project,
                status=status,
                tags=_pairs(tag, "--tag"),
                params=_pairs(param, "--param"),
                limit=limit,
                before_id=before,
            )
    if as_json:
        _emit(
            {
                "runs": [run_json(r) for r in runs],
                "next_before": runs[-1].id
                if not searching and len(runs) == limit and runs
                else None,
                "next_cursor": next_cursor,
            }
        )
        return
    table = Table("id", "name", "status", "author", "started", "params")
    if searching:
        table.add_column("metrics")
    for r in runs:
        cells = [
            str(r.id),
            r.name,
            r.status.value,
            r.author,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            " ".join(f"{k}={v}" for k, v in sorted(r.params.items()))[:60],
        ]
        if searching:
            cells.append(" ".join(f"{k}={v:.4g}" for k, v in sorted(r.metrics.items()))[:60])
        table.add_row(*cells)
    out.print(table)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


def _search_text(
    text: str | None, status: str | None, tags: dict[str, str], params: dict[str, str]
) -> str:
    """--filter with the exact-value options added as clauses of the same language."""
    extra = [f"status = {json.dumps(status)}"] if status else []
    extra += [f"tags.`{k}` = {json.dumps(v)}" for k, v in tags.items()]
    extra += [f"params.`{k}` = {json.dumps(v)}" for k, v in params.items()]
    return " and ".join(([text] if text and text.strip() else []) + extra)


@runs_app.command("show")
def runs_show(
    ctx: typer.Context,
    run: int = typer.Argument(..., help="Run id."),
    as_json: bool = JsonOpt,
) -> None:
    """One run: status, params, tags, last metric values, inputs, artifacts, environment."""
    with client(ctx) as grove:
        r = grove.runs.get(run)
    if as_json:
        _emit(run_json(r))
        return
    out.print(f"run {r.id} {r.name} [{r.status.value}] in {r.project} by {r.author}")
    out.print(f"  started {r.started_at.isoformat()}  ended {r.ended_at or '-'}")
    if r.git_commit:
        out.print(f"  git {r.git_commit[:12]}{' (dirty)' if r.git_dirty else ''}")
    out.print(f"  python {r.python_version}")
    if r.error:
        out.print(f"  error: {r.error}")
    for title, values in (("params", r.params), ("tags", r.tags), ("metrics", r.metrics)):
        if values:
            out.print(f"{title}:")
            for k, v in sorted(values.items()):
                out.print(f"  {k} = {v}")
    for i in r.inputs:
        out.print(f"input: {i.dataset}/v{i.version}" + (f" split {i.split}" if i.split else ""))
    for a in r.artifacts:
        out.print(f"artifact: {a.path} {a.address[:12]} {a.size} B")


@runs_app.command("compare")
def runs_compare(
    ctx: typer.Context,
    runs: list[int] = typer.Argument(..., help="Two or more run ids."),
    as_json: bool = JsonOpt,
) -> None:
    """Runs side by side: params that differ, and each metric's last value."""
    if len(runs) < 2:
        raise InvalidInput("compare needs at least two runs")
    with client(ctx) as grove:
        found = [grove.runs.get(i) for i in runs]
    param_keys = sorted({k for r in found for k in r.params})
    differ = [k for k in param_keys if len({r.params.get(k) for r in found}) > 1]
    metric_keys = sorted({k for r in found for k in r.metrics})
    if as_json:
        _emit(
            {
                "runs": [r.id for r in found],
                "params": {k: [r.params.get(k) for r in found] for k in param_keys},
                "params_differ": differ,
                "metrics": {
                    k: [_num(r.metrics[k]) if k in r.metrics else None for r in found]
                    for k in metric_keys
                },
            }
        )
        return
    table = Table("", *[f"{r.id} {r.name}" for r in found])
    for k in param_keys:
        mark = " *" if k in differ else ""
        table.add_row(f"param {k}{mark}", *[r.params.get(k, "-") for r in found])
    for k in metric_keys:
        table.add_row(
            f"metric {k}", *[f"{r.metrics[k]:.6g}" if k in r.metrics else "-" for r in found]
        )
    out.print(table)


def version_json(v: ModelVersion) -> dict[str, Any]:
    return {
        "version": f"v{v.number}",
        "run": v.run_id,
        "artifact": v.artifact,
        "address": v.address,
        "aliases": v.aliases,
        "created_by": v.created_by,
        "created_at": v.created_at.isoformat(),
    }


def event_json(e: AliasEvent) -> dict[str, Any]:
    return {
        "alias": e.alias,
        "from": f"v{e.from_version}" if e.from_version else None,
        "to": f"v{e.to_version}" if e.to_version else None,
        "actor": e.actor,
        "at": e.at.isoformat(),
    }


def evaluation_json(e: Evaluation) -> dict[str, Any]:
    return {
        "id": e.id,
        "model_version": f"v{e.model_version}",
        "dataset": e.test_set.dataset,
        "dataset_version": f"v{e.test_set.version}",
        "split": e.test_set.split,
        "metrics": {k: _num(v) for k, v in e.metrics.items()},
        "created_by": e.created_by,
        "created_at": e.created_at.isoformat(),
    }


def model_json(m: Model) -> dict[str, Any]:
    return {
        "name": m.name,
        "project": m.project,
        "aliases": {a: f"v{n}" for a, n in m.aliases.items()},
        "created_at": m.created_at.isoformat(),
    }


@models_app.command("list")
def models_list(
    ctx: typer.Context, project: str | None = ProjectOpt, as_json: bool = JsonOpt
) -> None:
    """Registered models of a project with their aliases."""
    with client(ctx) as grove:
        models = grove.models.list(project)
    if as_json:
        _emit({"models": [model_json(m) for m in models]})
        return
    table = Table("model", "aliases")
    for m in models:
        table.add_row(m.name, " ".join(f"{a}=v{n}" for a, n in m.aliases.items()))
    out.print(table)


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """A model's versions, aliases, alias history and evaluations.

    Evaluations made on different test sets are flagged: their scores do not compare.
    """
    with client(ctx) as grove:
        m = grove.models.get(name, project=project)
        refs = [f"{m.name}/v{v.number}" for v in m.versions]
        comparison = grove.models.compare(refs, project=m.project) if refs else None
    evaluations = comparison.evaluations if comparison else []
    warning = comparison.warning if comparison else None
    if as_json:
        _emit(
            {
                **model_json(m),
                "versions": [version_json(v) for v in m.versions],
                "alias_history": [event_json(e) for e in m.alias_history],
                "evaluations": [evaluation_json(e) for e in evaluations],
                "comparable": comparison.comparable if comparison else True,
                "warning": warning,
            }
        )
        return
    out.print(f"model {m.name} in {m.project}")
    for v in m.versions:
        tags = f" [{', '.join(v.aliases)}]" if v.aliases else ""
        out.print(f"  v{v.number}{tags} from run {v.run_id} ({v.artifact}) by {v.created_by}")
    for e in m.alias_history:
        was = f"v{e.from_version}" if e.from_version else "-"
        now = f"v{e.to_version}" if e.to_version else "(removed)"
        out.print(f"  {e.at:%Y-%m-%d %H:%M} {e.actor}: {e.alias} {was} -> {now}")
    for ev in evaluations:
        scores = " ".join(f"{k}={v:.6g}" for k, v in ev.metrics.items())
        out.print(f"  eval v{ev.model_version} on {ev.test_set.label}: {scores}")
    if warning:
        out.print(f"WARNING: {warning}")


@models_app.command("alias")
def models_alias(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    alias: str = typer.Argument(..., help="Alias, e.g. production or candidate."),
    version: str | None = typer.Argument(None, help="Version (3 or v3) to point the alias at."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias instead."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Point an alias at a version (or remove it); every move is kept with who and when."""
    if delete == (version is not None):
        raise InvalidInput("give either a VERSION or --delete")
    with client(ctx) as grove:
        if delete:
            event: AliasEvent | None = grove.models.delete_alias(name, alias, project=project)
        else:
            assert version is not None
            event = grove.models.set_alias(name, alias, version, project=project)
    if as_json:
        _emit(
            {
                "model": name,
                "changed": event is not None,
                "event": event_json(event) if event else None,
            }
        )
        return
    if event is None:
        out.print(f"{name}@{alias} already points at {version}")
    elif event.to_version is None:
        out.print(f"removed {name}@{alias} (was v{event.from_version})")
    else:
        out.print(f"{name}@{alias} -> v{event.to_version}")


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
    app.add_typer(models_app, name="models")
