"""`mlgrove review ...` commands: queues, Label Studio import/export, agreement, quality.

The CLI contract: with ``--json`` every command prints one JSON document on stdout with
at least the documented keys. Statistics that are undefined (e.g. no item rated twice)
are ``null``.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mlgrove.cli import common
from mlgrove.cli.common import client, out
from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    # For annotations only: agreement statistics import numpy.
    from mlgrove.domain.agreement import AgreementReport, Estimate
    from mlgrove.domain.review import Queue

review_app = typer.Typer(
    help="Review queues: import, export, agreement, quality, corrections.",
    no_args_is_help=True,
)

ProjectOpt = typer.Option(
    None, "--project", "-p", envvar="MLGROVE_PROJECT", help="Project (default: the only one)."
)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _emit(payload: dict[str, Any] | list[Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False) + "\n")


def queue_json(q: Queue) -> dict[str, Any]:
    return {
        "id": q.id,
        "project": q.project,
        "name": q.name,
        "task_type": q.task_type.value,
        "labels": q.labels,
        "multi_label": q.multi_label,
        "rubric": q.rubric,
        "overlap": q.overlap,
        "lease_seconds": q.lease_seconds,
        "random_share": q.random_share,
        "uncertainty": q.uncertainty.value,
        "consensus": q.consensus.value,
        "instructions": q.instructions,
        "training_dataset": q.training_dataset,
        "created_by": q.created_by,
        "created_at": q.created_at.isoformat(),
    }


def _ci(e: Estimate | None) -> list[float | None] | None:
    return None if e is None or e.low is None else [e.low, e.high]


def agreement_json(queue: str, r: AgreementReport) -> dict[str, Any]:
    cohen = r.cohen_kappa
    return {
        "queue": queue,
        "items": r.items,
        "raters": r.raters,
        "ratings": r.ratings,
        "level": r.level.value,
        "krippendorff_alpha": r.krippendorff_alpha.value,
        "krippendorff_alpha_ci": _ci(r.krippendorff_alpha),
        "fleiss_kappa": r.fleiss_kappa.value,
        "fleiss_kappa_ci": _ci(r.fleiss_kappa),
        "percent_agreement": r.percent_agreement.value,
        "percent_agreement_ci": _ci(r.percent_agreement),
        "cohen_kappa": cohen.value if cohen else None,
        "cohen_kappa_ci": _ci(cohen),
        "confidence": r.confidence,
        "resamples": r.resamples,
        "per_label": {
            label: {"fleiss_kappa": e.value, "ci": _ci(e)} for label, e in r.per_label.items()
        },
    }


def _fmt(e: Estimate | None) -> str:
    if e is None or e.value is None:
        return "-"
    if e.low is None:
        return f"{e.value:.3f}"
    return f"{e.value:.3f}  [{e.low:.3f}, {e.high:.3f}]"


@review_app.command("queues")
def queues(ctx: typer.Context, project: str | None = ProjectOpt, as_json: bool = JsonOpt) -> None:
    """List review queues."""
    with client(ctx) as grove:
        found = grove.review.list_queues(project)
    if as_json:
        _emit({"queues": [queue_json(q) for q in found]})
        return
    table = Table("project", "name", "task", "labels / rubric", "overlap")
    for q in found:
        table.add_row(
            q.project,
            q.name,
            q.task_type.value,
            ", ".join(q.labels or q.rubric)[:60],
            str(q.overlap),
        )
    out.print(table)


@review_app.command("create")
def create(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name (unique in the project)."),
    task: str = typer.Option("label", "--task", help="label, correct, rate or pairwise."),
    labels: str = typer.Option("", "--labels", help="Comma-separated label set."),
    multi_label: bool = typer.Option(False, "--multi-label", help="Allow several labels."),
    rubric: str = typer.Option("", "--rubric", help="Comma-separated criteria (rate queues)."),
    overlap: int = typer.Option(1, "--overlap", help="Reviewers per item (k)."),
    random_share: float = typer.Option(
        0.05, "--random-share", help="Share of items reserved as an unbiased random slice."
    ),
    consensus: str = typer.Option("majority", "--consensus", help="majority or weighted."),
    instructions: str = typer.Option("", "--instructions", help="Shown on the review screen."),
    training_dataset: str | None = typer.Option(
        None, "--training-dataset", help="Dataset that resolved corrections are committed to."
    ),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a review queue."""
    split = [s.strip() for s in labels.split(",") if s.strip()]
    criteria = [s.strip() for s in rubric.split(",") if s.strip()]
    with client(ctx) as grove:
        handle = grove.review.create_queue(
            queue,
            task_type=task,
            labels=split,
            multi_label=multi_label,
            rubric=criteria,
            overlap=overlap,
            random_share=random_share,
            consensus=consensus,
            instructions=instructions,
            training_dataset=training_dataset,
            project=project,
        )
        q = handle.info()
    if as_json:
        _emit(queue_json(q))
        return
    out.print(f"created review queue {q.project}/{q.name} ({q.task_type.value})")


@review_app.command("import")
def import_(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name (created if it does not exist)."),
    file: Path = typer.Argument(..., help="A Label Studio JSON export (a list of tasks)."),
    fmt: str = typer.Option(..., "--format", help="The file's format: label-studio."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Import tasks with their predictions and annotations into a queue."""
    if fmt != "label-studio":
        raise InvalidInput(f"unknown import format {fmt!r}", hint="use --format label-studio")
    if not file.is_file():
        raise InvalidInput(f"{file} is not a file", hint="give the path of a JSON export")
    # The millions of small objects of a large export would make the cyclic GC rescan
    # them on every collection, while parsing and after (100k tasks: parsing 4.9 s ->
    # 0.6 s): parse without it, then freeze them out of its sight (they hold no cycles,
    # and are still freed as usual).
    gc.disable()
    try:
        tasks = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{file} is not valid JSON: {exc}") from None
    finally:
        gc.freeze()
        gc.enable()
    with client(ctx) as grove:
        summary = grove.review.import_label_studio(queue, tasks, project=project)
    if as_json:
        _emit(
            {
                "queue": summary.queue,
                "project": summary.project,
                "created": summary.created,
                "tasks": summary.tasks,
                "items": summary.tasks,
                "predictions": summary.predictions,
                "verdicts": summary.verdicts,
                "external_reviewers": summary.external_reviewers,
            }
        )
        return
    made = "created queue" if summary.created else "queue"
    out.print(
        f"{made} {summary.project}/{summary.queue}: {summary.tasks} tasks, "
        f"{summary.predictions} predictions, {summary.verdicts} verdicts"
    )
    if summary.external_reviewers:
        out.print(f"external reviewers: {', '.join(summary.external_reviewers)}")


@review_app.command("export")
def export(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name."),
    out: Path = typer.Argument(..., help="File to write."),
    fmt: str = typer.Option(
        "label-studio", "--format", help="label-studio (JSON tasks) or jsonl (resolved answers)."
    ),
    project: str | None = ProjectOpt,
) -> None:
    """Write a queue's tasks and verdicts (Label Studio) or its resolved answers (JSONL)."""
    if fmt not in ("label-studio", "jsonl"):
        raise InvalidInput(f"unknown export format {fmt!r}", hint="use label-studio or jsonl")
    out_path = out
    tmp = out_path.with_name(f".{out_path.name}.grove-tmp")
    count = 0
    try:
        with client(ctx) as grove, open(tmp, "w", encoding="utf-8") as fh:
            records = grove.review.export(queue, fmt, project=project)
            if fmt == "jsonl":
                for record in records:
                    fh.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
                    count += 1
            else:
                fh.write("[")
                for record in records:
                    fh.write(("," if count else "") + "\n")
                    fh.write(json.dumps(record, default=str, ensure_ascii=False))
                    count += 1
                fh.write("\n]\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    common.out.print(f"wrote {count} {'records' if fmt == 'jsonl' else 'tasks'} to {out_path}")


@review_app.command("agreement")
def agreement(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name."),
    level: str = typer.Option(
        "nominal", "--level", help="nominal, ordinal, interval or ratio (for alpha)."
    ),
    criterion: str | None = typer.Option(
        None, "--criterion", help="Rubric criterion to compare (rate queues; default the first)."
    ),
    resamples: int = typer.Option(1000, "--resamples", help="Bootstrap resamples for the CIs."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed (same seed, same intervals)."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Agreement between reviewers: percent agreement, Cohen's and Fleiss' kappa,
    Krippendorff's alpha, each with a 95% bootstrap interval."""
    if not 0 <= resamples <= 100_000:
        raise InvalidInput("--resamples must be between 0 and 100000")
    with client(ctx) as grove:
        report = grove.review.agreement(
            queue,
            level=level,
            criterion=criterion,
            resamples=resamples,
            seed=seed,
            project=project,
        )
    if as_json:
        _emit(agreement_json(queue, report))
        return
    out.print(
        f"{queue}: {report.items} items rated twice or more, {report.raters} reviewers, "
        f"{report.ratings} ratings ({report.level.value})"
    )
    table = Table("statistic", "value  [95% CI]")
    table.add_row("Krippendorff's alpha", _fmt(report.krippendorff_alpha))
    table.add_row("Fleiss' kappa", _fmt(report.fleiss_kappa))
    table.add_row("percent agreement", _fmt(report.percent_agreement))
    if report.cohen_kappa is not None:
        table.add_row("Cohen's kappa", _fmt(report.cohen_kappa))
    for label, e in report.per_label.items():
        table.add_row(f"  kappa for {label!r}", _fmt(e))
    out.print(table)


@review_app.command("quality")
def quality(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Human-judged quality per model version: accept rate on the random slice (95% CI),
    rubric means, pairwise win rate."""
    with client(ctx) as grove:
        rows = grove.review.quality(queue, project=project)
    if as_json:
        _emit(
            {
                "models": [
                    {
                        "model_version_id": q.model_version_id,
                        "reviewed_items": q.reviewed_items,
                        "accept_rate": q.accept_rate.as_dict(),
                        "rubric_means": q.rubric_means,
                        "pairwise_win_rate": q.pairwise.as_dict(),
                    }
                    for q in rows
                ]
            }
        )
        return
    table = Table("model version", "items", "accept rate (random slice)", "rubric", "win rate")
    for q in rows:
        a = q.accept_rate
        table.add_row(
            str(q.model_version_id),
            str(q.reviewed_items),
            "-" if a.value is None else f"{a.value:.2f} [{a.low:.2f}, {a.high:.2f}] n={a.n}",
            " ".join(f"{c}={v:.2f}" for c, v in q.rubric_means.items()) or "-",
            "-" if q.pairwise.value is None else f"{q.pairwise.value:.2f} n={q.pairwise.n}",
        )
    out.print(table)


@review_app.command("commit")
def commit(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Training dataset (default: the queue's)."
    ),
    message: str | None = typer.Option(None, "--message", "-m", help="Version message."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Commit resolved corrections as a new version of the training dataset."""
    with client(ctx) as grove:
        version = grove.review.commit_corrections(
            queue, dataset=dataset, message=message, project=project
        )
    if as_json:
        _emit(
            {
                "committed": version is not None,
                "dataset": version.dataset if version else None,
                "version": version.number if version else None,
                "rows": version.rows if version else None,
            }
        )
        return
    if version is None:
        out.print("nothing new to commit: no resolved corrections since the last commit")
        return
    out.print(f"committed {version.dataset} v{version.number}: {version.message}")


@review_app.command("ingest-key")
def ingest_key(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue that end-user feedback lands in."),
    project: str | None = ProjectOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a write-only key for end-user feedback (printed once)."""
    with client(ctx) as grove:
        key = grove.review.create_ingest_key(queue, project=project)
    if as_json:
        _emit({"id": key.id, "queue": key.queue, "prefix": key.prefix, "key": key.secret})
        return
    out.print(f"ingest key for {key.queue} (shown once, store it in your app's secrets):")
    out.print(str(key.secret))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    app.add_typer(review_app, name="review")
