"""Local executors: worker processes on this machine (the default), or this process."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool

from mlgrove.pipelines.executors.base import Executor, Outcome, Task, run_task

__all__ = ["InlineExecutor", "LocalExecutor"]


class LocalExecutor(Executor):
    """Independent steps in parallel worker processes (``jobs`` of them; default: CPUs).

    Workers are spawned, not forked: the caller may hold database connections and
    threads that a fork would copy. The pool starts on the first task, so a fully
    cached run starts no process at all.
    """

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._running: dict[Future[Outcome], Task] = {}

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def submit(self, task: Task) -> None:
        self._running[self._get_pool().submit(run_task, task.for_worker())] = task

    def pending(self) -> int:
        return len(self._running)

    def wait(self) -> list[tuple[Task, Outcome]]:
        done, _ = wait_futures(list(self._running), return_when=FIRST_COMPLETED)
        finished = []
        broken = False
        for fut in done:
            task = self._running.pop(fut)
            try:
                finished.append((task, fut.result()))
            except BrokenProcessPool:
                broken = True
                finished.append(
                    (
                        task,
                        Outcome(
                            ok=False,
                            error=f"step {task.step!r}: its worker process died while "
                            "running it (killed, out of memory, or crashed)",
                        ),
                    )
                )
            except Exception as exc:  # the arguments could not be sent to the worker
                finished.append(
                    (
                        task,
                        Outcome(ok=False, error=f"step {task.step!r}: {type(exc).__name__}: {exc}"),
                    )
                )
        if broken and self._pool is not None:
            # A dead worker breaks the whole pool: start a fresh one for what comes next.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        return finished

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class InlineExecutor(Executor):
    """One step at a time in this process: for debugging (breakpoints work) and tests."""

    name = "inline"

    def __init__(self) -> None:
        self._queue: list[Task] = []

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def pending(self) -> int:
        return len(self._queue)

    def wait(self) -> list[tuple[Task, Outcome]]:
        task = self._queue.pop(0)
        return [(task, run_task(task))]
