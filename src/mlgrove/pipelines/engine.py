"""Running a pipeline: resolve inputs, look each step up in the cache, run what is stale.

The engine knows nothing about databases: a :class:`Backend` resolves dataset inputs
and holds the shared step cache, and ``on_event`` hears about every step. Services
provide both (``services/pipeline_backend.py``).

Rules the engine keeps:

- a step's cache key comes from its code, its inputs' content addresses, its params and
  its declared environment (:mod:`mlgrove.pipelines.fingerprint`);
- a cached step is not loaded unless a step that must run reads it, so a fully cached
  run reads no output at all;
- only a step that succeeded writes to the cache, and steps downstream of a failure do
  not run: the next run resumes from what succeeded;
- ``force`` re-runs the named steps and everything downstream of them.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlgrove.pipelines.executors.base import Executor, Task
from mlgrove.pipelines.fingerprint import Fingerprint, fingerprint
from mlgrove.pipelines.graph import Pipeline
from mlgrove.pipelines.step import DatasetInput

__all__ = [
    "Backend",
    "ResolvedInput",
    "StepResult",
    "StepStatus",
    "execute",
    "status",
]


@dataclass(frozen=True)
class ResolvedInput:
    """A dataset input pinned to one version: its content address and how to read it."""

    address: str
    label: str  # reviews/v3:train
    version_id: int | None = None
    load: Callable[[], Any] | None = None


class Backend(Protocol):
    def resolve(self, ref: DatasetInput) -> ResolvedInput: ...

    def cache_lookup(self, key: str) -> str | None: ...

    def cache_load(self, address: str) -> bytes: ...

    def cache_save(self, step: str, key: str, data: bytes) -> str: ...


@dataclass
class StepResult:
    """What happened to one step in one run."""

    step: str
    status: str  # cached | succeeded | failed | skipped
    fingerprint: Fingerprint | None = None
    output: str | None = None  # the output's content address
    attempts: int = 0
    seconds: float = 0.0
    error: str = ""
    traceback: str = ""
    value: Any = None  # the output, when the step ran in this run

    @property
    def key(self) -> str | None:
        return self.fingerprint.key if self.fingerprint else None

    def row(self) -> dict[str, Any]:
        """The columns of this step's ``pipeline_step_runs`` row (but its run's id)."""
        fp = self.fingerprint
        return {
            "step": self.step,
            "status": self.status,
            "cache_key": fp.key if fp else None,
            "code_hash": fp.code if fp else None,
            "input_addresses": dict(fp.inputs) if fp else {},
            "params": dict(fp.params) if fp else {},
            "env_hash": fp.env if fp else None,
            "output_address": self.output,
            "attempts": self.attempts,
            "seconds": self.seconds,
            "error": self.error or None,
            "traceback": self.traceback or None,
        }


@dataclass(frozen=True)
class StepStatus:
    step: str
    fresh: bool
    reasons: list[str] = field(default_factory=list)
    key: str | None = None


def _step_params(p: Pipeline, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    s = p.by_name[name]
    return {
        k: params.get(k, default)
        for k, default in s.defaults.items()
        if k not in p.by_name and k not in s.datasets
    }


def _fingerprint(
    p: Pipeline,
    name: str,
    outputs: Mapping[str, str],
    resolved: Mapping[DatasetInput, ResolvedInput],
    params: Mapping[str, Any],
) -> Fingerprint:
    s = p.by_name[name]
    inputs = {up: outputs[up] for up in p.upstream[name]}
    inputs.update({pname: resolved[ref].address for pname, ref in s.datasets.items()})
    return fingerprint(s, inputs, _step_params(p, name, params), p.env)


def _prefetch(p: Pipeline, backend: Backend) -> None:
    # Optional on a backend: one read of all the pipeline's cache entries.
    prefetch = getattr(backend, "prefetch", None)
    if prefetch is not None:
        prefetch(p.order)


def resolve_inputs(p: Pipeline, backend: Backend) -> dict[DatasetInput, ResolvedInput]:
    """Pin every dataset input once, so all steps of a run read the same versions."""
    found: dict[DatasetInput, ResolvedInput] = {}
    for s in p.steps:
        for ref in s.datasets.values():
            if ref not in found:
                found[ref] = backend.resolve(ref)
    return found


def _diff_reasons(
    current: Fingerprint,
    last: Fingerprint | None,
    labels: Mapping[str, str],
    known: Mapping[str, str],
) -> list[str]:
    if last is None:
        return ["never run"]
    reasons = []
    if current.code != last.code:
        reasons.append("code changed")
    for pname in sorted(set(current.inputs) | set(last.inputs)):
        if current.inputs.get(pname) != last.inputs.get(pname):
            before = known.get(last.inputs.get(pname, ""))
            was = f" (was {before})" if before else ""
            reasons.append(f"input {labels.get(pname, pname)} changed{was}")
    changed = sorted(
        k
        for k in set(current.params) | set(last.params)
        if current.params.get(k) != last.params.get(k)
    )
    if changed:
        reasons.append("params changed: " + ", ".join(changed))
    if current.env != last.env:
        reasons.append("environment changed")
    return reasons or ["its last run did not finish"]


def status(
    p: Pipeline,
    backend: Backend,
    *,
    params: Mapping[str, Any] | None = None,
    last: Mapping[str, Fingerprint] | None = None,
    known_inputs: Mapping[str, str] | None = None,
) -> list[StepStatus]:
    """Each step, fresh (its key is in the cache) or stale, and why, without running.

    ``last`` holds each step's fingerprint from its last successful run, to say which
    part changed; ``known_inputs`` names dataset content addresses seen before
    (address -> ``reviews/v3:train``), to say what an input was. A step below a stale one is stale too: its input will change.
    """
    given = dict(params or {})
    p.check_params(given)
    resolved = resolve_inputs(p, backend)
    _prefetch(p, backend)
    previous = dict(last or {})
    outputs: dict[str, str] = {}
    stale_upstream: dict[str, list[str]] = {}
    found: list[StepStatus] = []
    for name in p.order:
        s = p.by_name[name]
        ups = [u for u in p.upstream[name] if u not in outputs]
        if ups:
            found.append(StepStatus(name, False, [f"upstream {', '.join(ups)} stale"]))
            stale_upstream[name] = ups
            continue
        fp = _fingerprint(p, name, outputs, resolved, given)
        address = backend.cache_lookup(fp.key)
        if address is not None:
            outputs[name] = address
            found.append(StepStatus(name, True, [], fp.key))
            continue
        labels = {pname: resolved[ref].label for pname, ref in s.datasets.items()}
        found.append(
            StepStatus(
                name,
                False,
                _diff_reasons(fp, previous.get(name), labels, known_inputs or {}),
                fp.key,
            )
        )
    return found


def execute(
    p: Pipeline,
    backend: Backend,
    executor: Executor,
    *,
    params: Mapping[str, Any] | None = None,
    force: Iterable[str] = (),
    retries: int | None = None,
    on_event: Callable[[StepResult], None] | None = None,
    resolved: Mapping[DatasetInput, ResolvedInput] | None = None,
) -> dict[str, StepResult]:
    """Run the pipeline; returns every step's result, in topological order.

    A failed step's result carries its error and traceback; steps that depend on it are
    ``skipped``. Nothing is raised for a failing step: the caller decides.
    """
    given = dict(params or {})
    p.check_params(given)
    forced_names = list(force)
    p.check_steps(forced_names)
    forced = p.downstream(forced_names)
    pins = dict(resolved) if resolved is not None else resolve_inputs(p, backend)
    _prefetch(p, backend)
    default_retries = p.retries if retries is None else retries
    emit = on_event or (lambda _r: None)

    results: dict[str, StepResult] = {}
    outputs: dict[str, str] = {}
    values: dict[str, Any] = {}
    prints: dict[str, Fingerprint] = {}
    waiting = list(p.order)
    tasks: dict[str, Task] = {}

    def value_of(name: str) -> Any:
        if name not in values:
            values[name] = pickle.loads(backend.cache_load(outputs[name]))
        return values[name]

    tables: dict[DatasetInput, Any] = {}

    def dataset_value(ref: DatasetInput) -> Any:
        # Read once per run, however many steps read it.
        if ref not in tables:
            load = pins[ref].load
            tables[ref] = load() if load is not None else None
        return tables[ref]

    def start(name: str, attempt: int) -> None:
        s = p.by_name[name]
        kwargs = {up: value_of(up) for up in p.upstream[name]}
        kwargs.update({pname: dataset_value(ref) for pname, ref in s.datasets.items()})
        kwargs.update(_step_params(p, name, given))
        module, qualname = s.ref
        task = Task(
            step=name,
            module=module,
            qualname=qualname,
            kwargs=kwargs,
            attempt=attempt,
            step_object=s,
        )
        tasks[name] = task
        executor.submit(task)

    def blocked(name: str) -> bool:
        return any(
            results.get(up) and results[up].status in ("failed", "skipped")
            for up in p.upstream[name]
        )

    while waiting or executor.pending():
        progressed = True
        while progressed:
            progressed = False
            for name in list(waiting):
                if blocked(name):
                    failed_up = [
                        u
                        for u in p.upstream[name]
                        if results.get(u)
                        and results[u].status != "succeeded"
                        and results[u].status != "cached"
                    ]
                    results[name] = StepResult(
                        name,
                        "skipped",
                        error=f"not run: upstream {', '.join(failed_up)} did not succeed",
                    )
                    emit(results[name])
                    waiting.remove(name)
                    progressed = True
                    continue
                if any(up not in outputs for up in p.upstream[name]):
                    continue
                waiting.remove(name)
                progressed = True
                fp = _fingerprint(p, name, outputs, pins, given)
                prints[name] = fp
                if name not in forced:
                    address = backend.cache_lookup(fp.key)
                    if address is not None:
                        outputs[name] = address
                        results[name] = StepResult(name, "cached", fp, output=address)
                        emit(results[name])
                        continue
                start(name, 1)
        if not executor.pending():
            break
        for task, outcome in executor.wait():
            name = task.step
            s = p.by_name[name]
            allowed = (s.retries if s.retries is not None else default_retries) + 1
            if not outcome.ok and task.attempt < allowed:
                start(name, task.attempt + 1)
                continue
            if not outcome.ok:
                results[name] = StepResult(
                    name,
                    "failed",
                    prints[name],
                    attempts=task.attempt,
                    seconds=outcome.seconds,
                    error=outcome.error,
                    traceback=outcome.traceback,
                )
                emit(results[name])
                continue
            t0 = time.perf_counter()
            address = backend.cache_save(name, prints[name].key, outcome.data)
            outputs[name] = address
            values[name] = pickle.loads(outcome.data)
            results[name] = StepResult(
                name,
                "succeeded",
                prints[name],
                output=address,
                attempts=task.attempt,
                seconds=outcome.seconds + (time.perf_counter() - t0),
                value=values[name],
            )
            emit(results[name])
    return {n: results[n] for n in p.order if n in results}
