"""Where steps run: in this process, in local worker processes, or on a Dask cluster."""

from __future__ import annotations

from mlgrove.errors import InvalidInput
from mlgrove.pipelines.executors.base import Executor, Outcome, Task, run_task

__all__ = ["Executor", "Outcome", "Task", "open_executor", "run_task"]


def open_executor(spec: str = "local", *, jobs: int | None = None) -> Executor:
    """An executor from its name: ``local`` (worker processes, the default), ``inline``
    (this process, one step at a time) or ``dask://HOST:PORT`` (a Dask scheduler)."""
    if spec == "local":
        from mlgrove.pipelines.executors.local import LocalExecutor

        return LocalExecutor(jobs=jobs)
    if spec == "inline":
        from mlgrove.pipelines.executors.local import InlineExecutor

        return InlineExecutor()
    if spec.startswith(("dask://", "tcp://")):
        from mlgrove.pipelines.executors.dask import DaskExecutor

        return DaskExecutor(spec)
    raise InvalidInput(f"unknown executor {spec!r}", hint="use local, inline or dask://HOST:PORT")
