"""Copying an MLflow tracking store into Grove: experiments, runs, params, metrics, tags.

MLflow is read with its own client (the optional extra ``mlgrove[mlflow]``), so any
store it can open works: a ``sqlite://`` or other database URI, an ``http(s)://``
tracking server, or an old ``./mlruns`` folder. MLflow is imported lazily, here only.

Each MLflow run becomes one Grove run, written in one transaction with its whole metric
history (steps and timestamps kept), its status, start and end times and its user as
the author. The MLflow run id is kept as the tag ``mlflow.run_id``: importing again
skips the runs already there, so an interrupted import is finished by running it again.
Runs still running in MLflow are skipped until they end. Artifacts are not copied.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from mlgrove.domain import tracking as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.tracking import MetricPoint, RunStatus
from mlgrove.errors import GroveError, InvalidInput, NotFound
from mlgrove.services import audit, run_queries
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.tracking import INSERT_ROWS
from mlgrove.store.models import MetricRow, RunRow

if TYPE_CHECKING:
    from mlflow.entities import Run as MlflowRun
    from mlflow.tracking import MlflowClient

#: The tag that links a Grove run to the MLflow run it was copied from.
RUN_ID_TAG = "mlflow.run_id"
INSTALL_HINT = "install the extra: pip install 'mlgrove[mlflow]'"

_STATUS = {
    "FINISHED": RunStatus.FINISHED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.KILLED,
}


@dataclass(frozen=True)
class ImportedRun:
    mlflow_run_id: str
    experiment: str
    #: The Grove run id (None when the run was skipped).
    run_id: int | None
    #: "imported", "already imported", "still running" or "failed: <why>".
    outcome: str
    metric_points: int = 0


@dataclass
class ImportReport:
    tracking_uri: str
    project: str
    experiments: list[str] = field(default_factory=list)
    runs: list[ImportedRun] = field(default_factory=list)
    #: Values Grove could not keep whole (e.g. a tag longer than it stores), per run.
    warnings: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.runs if r.outcome.split(":")[0] == outcome)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def skipped(self) -> int:
        return self.count("already imported") + self.count("still running")

    @property
    def failed(self) -> list[ImportedRun]:
        return [r for r in self.runs if r.outcome.startswith("failed")]

    @property
    def metric_points(self) -> int:
        return sum(r.metric_points for r in self.runs)


def _client(uri: str) -> MlflowClient:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise InvalidInput(
            "importing from MLflow needs the mlflow package, which is not installed",
            hint=INSTALL_HINT,
        ) from None
    _check_reachable(uri)
    if uri.startswith("file:") or "://" not in uri:
        # MLflow 3 refuses its folder store unless told to; reading one to migrate away
        # from it is exactly what that store is kept for.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=uri)


def _check_reachable(uri: str) -> None:
    """Fail fast and clearly, before MLflow retries for minutes or creates an empty store."""
    scheme = uri.split("://", 1)[0] if "://" in uri else "file"
    if scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=10):
                pass
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InvalidInput(
                f"cannot reach the MLflow tracking server at {_safe(uri)}: {reason}",
                hint="check the URL and that `mlflow server` is running",
            ) from None
    elif scheme == "sqlite":
        path = uri.split("://", 1)[1].removeprefix("/")
        # sqlite:///rel.db and sqlite:////abs.db; opening a missing file would make one.
        if path and path != ":memory:" and not Path(path).exists():
            raise InvalidInput(
                f"there is no MLflow database at {path}",
                hint="check the path: sqlite:///relative.db or sqlite:////absolute.db",
            )
    elif scheme == "file":
        folder = Path(uri.removeprefix("file://")) if uri.startswith("file:") else Path(uri)
        if not folder.is_dir():
            raise InvalidInput(
                f"there is no MLflow folder store at {folder}", hint="check the path"
            )


def _safe(uri: str) -> str:
    """The URI without a password, for messages."""
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri


def _mlflow_call(uri: str, what: str, call: Callable[..., Any], *args: Any) -> Any:
    """Run an MLflow client call; its failures become one readable InvalidInput."""
    try:
        return call(*args)
    except GroveError:
        raise
    except Exception as exc:  # MlflowException, requests errors, database errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInput(
            f"cannot {what} from MLflow at {_safe(uri)}: {first[:300]}",
            hint="check the tracking URI and that this is an MLflow store",
        ) from None


def _experiments(client: MlflowClient, uri: str, names: Sequence[str]) -> list[tuple[str, str]]:
    """(id, name) of the experiments to copy: the named ones, or every active one."""
    found: list[tuple[str, str]] = _mlflow_call(uri, "list experiments", _all_experiments, client)
    if not names:
        return found
    by_name = {name: eid for eid, name in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFound(
            f"MLflow has no experiment named {missing[0]!r}",
            hint="it has: " + (", ".join(sorted(by_name)) or "no experiments"),
        )
    return [(by_name[n], n) for n in dict.fromkeys(names)]


def _all_experiments(client: MlflowClient) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    token = None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        out.extend((e.experiment_id, e.name) for e in page)
        token = page.token
        if not token:
            return out


def _runs(client: MlflowClient, experiment_id: str) -> Iterator[MlflowRun]:
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], max_results=1000, page_token=token, order_by=["attributes.start_time"]
        )
        yield from page
        token = page.token
        if not token:
            return


def _all_runs(client: MlflowClient, experiment_id: str) -> list[MlflowRun]:
    return list(_runs(client, experiment_id))


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _imported_ids(ctx: Context, project_id: int) -> dict[str, int]:
    with ctx.db.read() as s:
        rows = s.execute(
            select(RunRow.tags[RUN_ID_TAG].as_string(), RunRow.id).where(
                RunRow.project_id == project_id, RunRow.tags[RUN_ID_TAG].as_string().is_not(None)
            )
        ).all()
    return {str(mlflow_id): int(run_id) for mlflow_id, run_id in rows}


def _texts(values: dict[str, str], what: str, label: str, warnings: list[str]) -> dict[str, str]:
    """Keys checked as Grove checks them; a value longer than Grove keeps is cut (and said)."""
    out = {}
    for k, v in values.items():
        rules.key(k, what)
        text = "" if v is None else str(v)
        if len(text) > rules.VALUE_MAX:
            warnings.append(
                f"{label}: {what} {k!r} cut from {len(text)} to {rules.VALUE_MAX} characters"
            )
            text = text[: rules.VALUE_MAX]
        out[k] = text
    return out


def _copy_run(
    ctx: Context,
    client: MlflowClient,
    uri: str,
    run: MlflowRun,
    experiment: tuple[str, str],
    project_id: int,
    warnings: list[str],
) -> ImportedRun:
    info = run.info
    label = f"MLflow run {info.run_id}"
    status = _STATUS[info.status]
    points: list[dict[str, Any]] = []
    for key in sorted(run.data.metrics):
        rules.key(key)
        history = _mlflow_call(
            uri,
            f"read metric {key!r} of {label}",
            client.get_metric_history,
            info.run_id,
            key,
        )
        for m in history:
            points.append(
                {
                    "key": key,
                    "step": rules.step(key, m.step),
                    "value": rules.metric_value(key, m.value),
                    "timestamp": _time(m.timestamp),
                }
            )
    params = _texts(dict(run.data.params), "param", label, warnings)
    tags = _texts(dict(run.data.tags), "tag", label, warnings)
    tags.update(
        {
            RUN_ID_TAG: info.run_id,
            "mlflow.experiment_id": experiment[0],
            "mlflow.experiment_name": experiment[1],
        }
    )
    started = _time(info.start_time) or datetime.now(UTC)
    author = (info.user_id or tags.get("mlflow.user") or "mlflow")[:100]
    with ctx.db.write() as s:
        row = RunRow(
            project_id=project_id,
            name=(info.run_name or f"mlflow-{info.run_id[:8]}")[:200],
            status=status.value,
            params=params,
            tags=tags,
            author=author,
            started_at=started,
            ended_at=_time(info.end_time),
            git_commit=(tags.get("mlflow.source.git.commit") or None),
            git_dirty=None,
            python_version="",
            packages={},
        )
        s.add(row)
        s.flush()
        # Insertion order decides "latest" in Grove (the highest id); MLflow's latest is
        # the highest step, then the newest timestamp: insert in that order.
        points.sort(key=lambda p: (p["key"], p["step"], p["timestamp"]))
        for p in points:
            p["run_id"] = row.id
        for i in range(0, len(points), INSERT_ROWS):
            s.execute(insert(MetricRow), points[i : i + INSERT_ROWS])
        # The runs search reads these summaries: imported runs filter and sort like others.
        run_queries.record_latest(
            s,
            row,
            [MetricPoint(p["key"], p["value"], p["step"], p["timestamp"]) for p in points],
        )
        run_queries.record_texts(s, row, "param", params)
        run_queries.record_texts(s, row, "tag", tags)
        audit.record(s, ctx.actor_label, "run.import", f"run:{row.id}", f"mlflow {info.run_id}")
        run_id = row.id
    return ImportedRun(info.run_id, experiment[1], run_id, "imported", len(points))


def import_mlflow(
    ctx: Context,
    tracking_uri: str,
    *,
    project: str | None = None,
    experiments: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Copy the runs of an MLflow store (every active experiment, or the named ones) into
    ``project``. ``progress(done, total)`` is called as runs are handled.

    Each run is written in its own transaction, so a failure leaves whole runs only; a
    run MLflow cannot give us whole is reported as failed and the import goes on.
    """
    ctx.require(Action.WRITE_DATA)
    uri = tracking_uri.strip()
    if not uri:
        raise InvalidInput("the MLflow tracking URI is empty", hint="e.g. sqlite:///mlflow.db")
    client = _client(uri)
    chosen = _experiments(client, uri, experiments)
    with ctx.db.write() as s:
        proj = ds_service.resolve_project(s, ctx, project, create=True)
        project_id, project_name = proj.id, proj.name
    report = ImportReport(_safe(uri), project_name, [name for _, name in chosen])
    done_before = _imported_ids(ctx, project_id)
    todo: list[tuple[MlflowRun, tuple[str, str]]] = []
    for exp in chosen:
        runs = _mlflow_call(uri, f"list the runs of {exp[1]!r}", _all_runs, client, exp[0])
        todo.extend((r, exp) for r in runs)
    total = len(todo)
    for n, (run, exp) in enumerate(todo, 1):
        mlflow_id = run.info.run_id
        if mlflow_id in done_before:
            outcome = ImportedRun(mlflow_id, exp[1], done_before[mlflow_id], "already imported")
        elif run.info.status not in _STATUS:
            outcome = ImportedRun(mlflow_id, exp[1], None, "still running")
        else:
            try:
                outcome = _copy_run(ctx, client, uri, run, exp, project_id, report.warnings)
            except (InvalidInput, NotFound) as exc:
                outcome = ImportedRun(mlflow_id, exp[1], None, f"failed: {exc}")
        report.runs.append(outcome)
        if progress is not None:
            progress(n, total)
    return report
