"""The tracking part of the SDK: ``grove.runs`` (runs and metrics) and ``grove.models``.

``with grove.runs.start("churn", params={...}) as run:`` gives an :class:`ActiveRun`.
Its metric calls only append to a buffer; a background thread writes the buffer in
batches (every ``flush_interval`` seconds, or sooner once ``flush_points`` points wait),
and leaving the block writes what is left. A process that dies without leaving the block
(``kill -9``, power loss) loses at most the points of the last flush interval.

The buffering lives here, over a small :class:`RunBackend`, so the embedded and the
remote client share it and differ only in how a batch is sent.
"""

from __future__ import annotations

import abc
import builtins
import contextlib
import os
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from mlgrove.domain import tracking as rules
from mlgrove.domain.metric_batch import STEP_MAX, MetricBatch
from mlgrove.domain.run_filter import RunPage
from mlgrove.domain.tracking import (
    AliasEvent,
    Comparison,
    Evaluation,
    MetricPoint,
    Model,
    ModelVersion,
    Run,
    RunArtifact,
    RunInput,
    RunStatus,
)
from mlgrove.errors import Conflict

FLUSH_INTERVAL = 1.0  # seconds
FLUSH_POINTS = 1000
#: Waiting points at which a logging call writes a batch itself instead of leaving it
#: to the thread, so a tight loop cannot grow the buffer without bound.
MAX_BUFFERED = 50_000


class RunBackend(abc.ABC):
    """How an :class:`ActiveRun` reaches the store (in process, or over HTTP)."""

    @abc.abstractmethod
    def log_metrics(self, run_id: int, batch: MetricBatch) -> None:
        """Store a batch of points; the whole batch or nothing."""

    @abc.abstractmethod
    def log_params(self, run_id: int, params: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def set_tags(self, run_id: int, tags: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def log_artifact(self, run_id: int, path: str, name: str | None) -> RunArtifact: ...

    @abc.abstractmethod
    def log_artifact_tree(
        self, run_id: int, path: str, name: str | None
    ) -> builtins.list[RunArtifact]: ...

    @abc.abstractmethod
    def use_dataset(
        self, run_id: int, name: str, version: str, split: str | None, project: str | None
    ) -> RunInput: ...

    @abc.abstractmethod
    def end(self, run_id: int, status: RunStatus, error: str | None) -> Run: ...


class ActiveRun:
    """A running run. Use it as a context manager; see the module docstring for buffering."""

    def __init__(
        self,
        backend: RunBackend,
        run: Run,
        *,
        flush_interval: float = FLUSH_INTERVAL,
        flush_points: int = FLUSH_POINTS,
    ) -> None:
        self._backend = backend
        self.run = run
        self.flush_interval = flush_interval
        self.flush_points = max(1, flush_points)
        #: Points waiting to be written: (key, value, step, microseconds since 1970).
        self._buffer: list[tuple[str, float, int, int]] = []
        self._keys_seen: set[str] = set()  # keys that passed the key rule
        self._lock = threading.Lock()  # guards the buffer and the step counters
        self._flush_lock = threading.Lock()  # one batch in flight: batches stay in order
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._next_step: dict[str, int] = {}
        self._ended = False

    @property
    def id(self) -> int:
        return self.run.id

    # -- metrics ----------------------------------------------------------------------
    # A training loop calls these per step, so they do as little as they can: a key is
    # checked once per run, a plain float or int value and step need no more than a type
    # test, and the point is appended to the buffer as a tuple. The service checks every
    # batch again as columns (domain/metric_batch.py), which costs little.
    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Log one point. Without ``step``, the key's previous step plus one (from 0)."""
        if self._ended or self._error is not None:
            self._check_open()
        now = time.time_ns() // 1000
        if type(key) is not str or key not in self._keys_seen:
            rules.key(key)
        if type(value) is not float:
            value = rules.metric_value(key, value)
        if step is not None and (type(step) is not int or not 0 <= step < STEP_MAX):
            step = rules.step(key, step)
        with self._lock:
            s = self._next_step.get(key, 0) if step is None else step
            self._next_step[key] = s + 1
            self._buffer.append((key, value, s, now))
            waiting = len(self._buffer)
        self._keys_seen.add(key)
        self._after_append(waiting)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Log several points at one step. Values are checked now (NaN and infinity are
        fine; text is not), so a bad value fails here and logs none of ``metrics``."""
        self._check_open()
        now = time.time_ns() // 1000
        checked = [
            (rules.key(k), rules.metric_value(k, v)) for k, v in metrics.items()
        ]  # all or nothing
        if step is not None:
            step = rules.step(checked[0][0] if checked else "?", step)
        with self._lock:
            for k, v in checked:
                s = step if step is not None else self._next_step.get(k, 0)
                self._next_step[k] = s + 1
                self._buffer.append((k, v, s, now))
            waiting = len(self._buffer)
        self._keys_seen.update(k for k, _ in checked)
        self._after_append(waiting)

    def _after_append(self, waiting: int) -> None:
        if waiting >= MAX_BUFFERED:
            self.flush()
        elif self._thread is None:
            self._ensure_thread()
        elif waiting >= self.flush_points and not self._wake.is_set():
            self._wake.set()

    def _write(self) -> None:
        """Take the buffer and send it as one batch (holding the flush lock)."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch:
            keys, values, steps, times = map(list, zip(*batch, strict=True))
            self._backend.log_metrics(self.run.id, MetricBatch(keys, values, steps, times))

    def flush(self) -> None:
        """Write every buffered point now (in the calling thread)."""
        with self._flush_lock:
            self._write()
        self._raise_background_error()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name=f"mlgrove-run-{self.run.id}-metrics", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                with self._flush_lock:
                    self._write()
            except BaseException as exc:  # kept and raised in the caller's thread
                self._error = exc
                return

    def _raise_background_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join()
            self._thread = None

    # -- everything else goes straight through ----------------------------------------
    def log_params(self, params: dict[str, Any] | None = None, **more: Any) -> None:
        """Record params (kept as text). A param cannot change once logged."""
        self._check_open()
        self._backend.log_params(self.run.id, {**(params or {}), **more})

    def set_tags(self, tags: dict[str, Any] | None = None, **more: Any) -> None:
        self._check_open()
        self._backend.set_tags(self.run.id, {**(tags or {}), **more})

    def log_artifact(
        self, path: str | os.PathLike[str], name: str | None = None
    ) -> RunArtifact | builtins.list[RunArtifact]:
        """Store a file (content-addressed, deduplicated) as an artifact of the run.

        A folder logs every file under it, named ``<name or folder name>/<relative
        path>``, all or none, and returns the list (see :meth:`log_artifacts`)."""
        self._check_open()
        if os.path.isdir(path):
            return self._backend.log_artifact_tree(self.run.id, os.fspath(path), name)
        return self._backend.log_artifact(self.run.id, os.fspath(path), name)

    def log_artifacts(
        self, folder: str | os.PathLike[str], name: str | None = None
    ) -> builtins.list[RunArtifact]:
        """Every file under ``folder`` as an artifact ``<name or folder name>/<relative
        path>``, recorded together: the folder is logged whole or not at all."""
        self._check_open()
        return self._backend.log_artifact_tree(self.run.id, os.fspath(folder), name)

    def use_dataset(
        self,
        name: str,
        version: str | int = "latest",
        split: str | None = None,
        *,
        project: str | None = None,
    ) -> RunInput:
        """Record that this run reads a dataset version (and one split of it)."""
        self._check_open()
        ref = f"v{version}" if isinstance(version, int) else version
        return self._backend.use_dataset(self.run.id, name, ref, split, project)

    # -- ending -----------------------------------------------------------------------
    def end(self, status: RunStatus | str = RunStatus.FINISHED, error: str | None = None) -> Run:
        """Write the buffer, then end the run. A failed flush makes the run ``failed``."""
        if self._ended:
            return self.run
        final = RunStatus(status)
        try:
            self._stop_thread()
            self.flush()
        except BaseException as exc:
            self._ended = True
            message = f"metrics could not be written: {type(exc).__name__}: {exc}"
            self.run = self._backend.end(self.run.id, RunStatus.FAILED, message)
            raise
        self._ended = True
        self.run = self._backend.end(self.run.id, final, error)
        return self.run

    def _check_open(self) -> None:
        if self._ended:
            raise Conflict(
                f"run {self.run.id} has ended ({self.run.status}): it takes no more logging",
                hint="start a new run",
            )
        self._raise_background_error()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end(RunStatus.FINISHED)
            return
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        text = "".join(traceback.format_exception_only(exc)).strip()
        # The user's exception is what matters; one of ours from ending must not hide it.
        with contextlib.suppress(Exception):
            self.end(status, text)


class Runs(abc.ABC):
    """``grove.runs``: start runs, read them back."""

    @abc.abstractmethod
    def start(
        self,
        project: str | None = None,
        name: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        capture_environment: bool = True,
        flush_interval: float = FLUSH_INTERVAL,
        flush_points: int = FLUSH_POINTS,
    ) -> ActiveRun:
        """Start a run; use the result as a context manager.

        With ``capture_environment`` the run records the git commit and dirty flag (when
        started in a git checkout), the Python version and the versions of key packages.
        """

    @abc.abstractmethod
    def get(self, run_id: int) -> Run:
        """One run with its last metric values, inputs and artifacts."""

    @abc.abstractmethod
    def download_artifacts(
        self, run_id: int, dest: str | os.PathLike[str], path: str | None = None
    ) -> builtins.list[Path]:
        """Write a run's artifacts (all, or artifact ``path`` and everything under
        ``path/``) below folder ``dest`` with their names as relative paths, so a logged
        folder comes back as it was. Returns the files written."""

    @abc.abstractmethod
    def list(
        self,
        project: str | None = None,
        *,
        status: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> builtins.list[Run]:
        """Runs newest first; page with ``before_id`` (the last id of the previous page)."""

    @abc.abstractmethod
    def metric_history(self, run_id: int, key: str) -> builtins.list[MetricPoint]:
        """Every point of one metric, by step."""

    @abc.abstractmethod
    def search(
        self,
        project: str | None = None,
        filter: str | None = None,
        *,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """A page of runs matching ``filter`` in ``order_by`` order, each with its latest
        metric values, e.g. ``search("churn", "metrics.acc > 0.9 and params.lr = 0.01",
        order_by="metrics.acc desc")``. Pass ``page.next_cursor`` as ``cursor`` for the
        next page (None: there is none). The language is in docs/tracking.md."""


class Models(abc.ABC):
    """``grove.models``: the model registry, aliases and evaluations."""

    @abc.abstractmethod
    def register(
        self, name: str, run_id: int, artifact: str, *, project: str | None = None
    ) -> ModelVersion:
        """A new version of model ``name`` from artifact ``artifact`` of run ``run_id``."""

    @abc.abstractmethod
    def list(self, project: str | None = None) -> builtins.list[Model]: ...

    @abc.abstractmethod
    def get(self, name: str, *, project: str | None = None) -> Model:
        """A model with its versions, aliases and alias history."""

    @abc.abstractmethod
    def resolve(self, ref: str, *, project: str | None = None) -> ModelVersion:
        """``name`` (latest), ``name/v3`` or ``name@alias`` to a version."""

    @abc.abstractmethod
    def set_alias(
        self, name: str, alias: str, version: str | int, *, project: str | None = None
    ) -> AliasEvent | None:
        """Point ``alias`` at a version; returns the recorded move (None: no change)."""

    @abc.abstractmethod
    def delete_alias(self, name: str, alias: str, *, project: str | None = None) -> AliasEvent:
        """Remove an alias; the removal is recorded like a move."""

    @abc.abstractmethod
    def evaluate(
        self,
        model: str,
        dataset: str,
        version: str | int,
        metrics: dict[str, float],
        *,
        split: str | None = None,
        project: str | None = None,
    ) -> Evaluation:
        """Record a model version's scores on one dataset version and split."""

    @abc.abstractmethod
    def evaluations(self, model: str, *, project: str | None = None) -> builtins.list[Evaluation]:
        """The evaluations of one model version."""

    @abc.abstractmethod
    def compare(
        self, models: builtins.list[str], *, project: str | None = None, strict: bool = False
    ) -> Comparison:
        """Evaluations side by side; ``comparable`` is False (and ``warning`` loud) when
        the scores come from different test sets, or ``strict`` raises Conflict."""


def version_text(version: str | int) -> str:
    return f"v{version}" if isinstance(version, int) else version
