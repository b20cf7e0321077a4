"""The Dask executor: steps on a ``distributed`` cluster (``dask://HOST:PORT``).

Workers must be able to import the project's modules (as for any Dask code: run them
from the project folder or put it on their PYTHONPATH). Dask's own retries are not used:
a failing step returns its traceback in an :class:`Outcome`, and the engine retries.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from mlgrove.errors import InvalidInput
from mlgrove.pipelines.executors.base import Executor, Outcome, Task, run_task

__all__ = ["DaskExecutor"]

CONNECT_TIMEOUT = "10s"


def _address(spec: str) -> str:
    rest = spec.removeprefix("dask://").removeprefix("tcp://")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InvalidInput(f"{spec!r} is not a Dask scheduler address", hint="use dask://HOST:PORT")
    return f"tcp://{host}:{port}"


class DaskExecutor(Executor):
    def __init__(self, spec: str, *, timeout: str = CONNECT_TIMEOUT) -> None:
        address = _address(spec)
        self.name = f"dask://{address.removeprefix('tcp://')}"
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise InvalidInput(
                "the Dask executor needs the `distributed` package",
                hint="pip install 'mlgrove[dask]'",
            ) from exc
        try:
            self._client: Any = Client(  # type: ignore[no-untyped-call]
                address, timeout=timeout, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise InvalidInput(
                f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {exc})",
                hint="start one with `dask scheduler` (and `dask worker ADDRESS`), "
                "or check the host and port",
            ) from exc
        self._running: dict[Any, Task] = {}

    def submit(self, task: Task) -> None:
        fut = self._client.submit(
            run_task, task.for_worker(), pure=False, key=f"{task.step}-{uuid.uuid4().hex}"
        )
        self._running[fut] = task

    def pending(self) -> int:
        return len(self._running)

    def wait(self) -> list[tuple[Task, Outcome]]:
        # Poll the futures: distributed.wait() wants a default client, and this one
        # must not become the default of a process that may hold others.
        pause = 0.005
        while True:
            done = [f for f in self._running if f.done()]
            if done:
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        finished = []
        for fut in done:
            task = self._running.pop(fut)
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker died (KilledWorker), the scheduler left...
                outcome = Outcome(
                    ok=False,
                    error=f"step {task.step!r} was lost on the Dask cluster: "
                    f"{type(exc).__name__}: {exc}",
                )
            finished.append((task, outcome))
        return finished

    def close(self) -> None:
        for fut in self._running:
            fut.cancel()
        self._client.close()
