"""The worker: evaluates retrain rules and requested runs, and runs what is due.

Run it as its own process (``mlgrove worker``) or inside the server
(``mlgrove serve --worker``). One tick at a time: a retrain that takes an hour delays
the next check, never runs twice at once.
"""

from __future__ import annotations

import logging
import threading

from mlgrove.domain.people import LOCAL_ADMIN, Person
from mlgrove.errors import GroveError
from mlgrove.services import retrain
from mlgrove.services.context import Runtime
from mlgrove.services.pipeline_records import DecisionInfo

log = logging.getLogger("mlgrove.worker")


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        executor: str = "local",
        jobs: int | None = None,
        interval: float = 30.0,
        actor: Person = LOCAL_ADMIN,
    ) -> None:
        self.ctx = runtime.as_actor(actor)
        self.executor = executor
        self.jobs = jobs
        self.interval = interval
        self.stopping = threading.Event()

    def tick(self) -> list[DecisionInfo]:
        """Check every rule once and run what is due."""
        return retrain.check(self.ctx, executor=self.executor, jobs=self.jobs)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                for d in self.tick():
                    log.info("%s: %s %s", d.pipeline, d.outcome, d.reason)
            except GroveError as exc:  # a bad rule must not stop the others next time
                log.error("worker tick failed: %s", exc)
            self.stopping.wait(self.interval)

    def start_thread(self) -> threading.Thread:
        """Run in a background thread (``serve --worker``); :meth:`stop` ends it."""
        thread = threading.Thread(target=self.run_forever, name="mlgrove-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
