"""What every executor shares: the task shipped to a worker, its outcome, the interface.

A worker runs :func:`run_task`, which never raises: a failing step comes back as an
:class:`Outcome` carrying the step's own traceback, and the output is pickled *in the
worker*, so an unpicklable value is reported as the step's failure, not the executor's.
"""

from __future__ import annotations

import abc
import importlib
import pickle
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any

from mlgrove.pipelines.step import Step, check_output

__all__ = ["Executor", "Outcome", "Task", "run_task"]


@dataclass(frozen=True)
class Task:
    """One attempt at one step: where its function lives, and its arguments."""

    step: str
    module: str
    qualname: str
    kwargs: dict[str, Any]
    attempt: int = 1
    #: the step itself, for executors in this process (never sent to a worker: steps
    #: defined in a notebook or REPL cannot be imported, but run inline)
    step_object: Step | None = None

    def for_worker(self) -> Task:
        return replace(self, step_object=None)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    data: bytes = b""
    error: str = ""
    traceback: str = ""
    seconds: float = 0.0


def _find(module: str, qualname: str) -> Step:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, Step):
        return obj
    from mlgrove.pipelines.step import make_step

    return make_step(obj)


def run_task(task: Task) -> Outcome:
    """Run one step in this process (the worker side). Never raises."""
    start = time.perf_counter()
    try:
        s = task.step_object or _find(task.module, task.qualname)
    except Exception as exc:
        return Outcome(
            ok=False,
            error=f"step {task.step!r}: the worker cannot import "
            f"{task.module}:{task.qualname} ({type(exc).__name__}: {exc})",
            traceback=traceback.format_exc(),
        )
    try:
        value = s.fn(**task.kwargs)
    except Exception as exc:
        return Outcome(
            ok=False,
            error=f"step {task.step!r} raised {type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - start,
        )
    seconds = time.perf_counter() - start
    wrong = check_output(task.step, s.output_type, value)
    if wrong:
        return Outcome(ok=False, error=wrong, seconds=seconds)
    try:
        data = pickle.dumps(value, protocol=5)
    except Exception as exc:
        return Outcome(
            ok=False,
            error=f"step {task.step!r} returned a {type(value).__name__} that cannot be "
            f"stored: {type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            seconds=seconds,
        )
    return Outcome(ok=True, data=data, seconds=seconds)


class Executor(abc.ABC):
    """Runs tasks somewhere and hands back outcomes as they finish."""

    #: how it is named in run records: local, inline, dask://...
    name: str = "executor"

    @abc.abstractmethod
    def submit(self, task: Task) -> None:
        """Start a task (it may wait for a free worker)."""

    @abc.abstractmethod
    def wait(self) -> list[tuple[Task, Outcome]]:
        """Block until at least one submitted task ends; return those that did."""

    @abc.abstractmethod
    def pending(self) -> int:
        """Tasks submitted and not yet returned by :meth:`wait`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free workers and connections."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
