"""``grove.pipelines`` against a Grove server: the steps run here, where their code is;
the step cache, the dataset inputs and the run records are the server's.

So a step someone cached on the server (or its worker) is a cache hit here, and what
runs here is cached for everyone. The engine is the embedded one: the server sends a
*plan* (inputs pinned to versions, the cache entries of the pipeline's steps), every key
is computed here, outputs go to the server as objects (``PUT /objects/{address}``) and
are never unpickled there. Steps that make models, metrics or dataset versions are
recorded by the server's own run path, which a remote client cannot drive: a run that
would run one is refused before anything runs (run it on the server's worker with
:meth:`request_run`, or embedded).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import pickle
import socket
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import blake3

from mlgrove.client import wire
from mlgrove.client.pipelines import Pipelines
from mlgrove.domain.pipelines import (
    DecisionInfo,
    PipelineInfo,
    PipelineRunInfo,
    RuleInfo,
    StepRunInfo,
    StepStatusInfo,
)
from mlgrove.errors import GroveError, InvalidInput, ObjectCorrupt
from mlgrove.pipelines import engine
from mlgrove.pipelines.engine import ResolvedInput, StepResult
from mlgrove.pipelines.executors import open_executor
from mlgrove.pipelines.fingerprint import Fingerprint, plain
from mlgrove.pipelines.graph import Pipeline, load
from mlgrove.pipelines.outputs import DatasetOutput, Metrics, ModelOutput
from mlgrove.pipelines.record import promotion_spec, rule_spec, shape
from mlgrove.pipelines.step import DatasetInput, Step

if TYPE_CHECKING:
    from mlgrove.client.http import RemoteClient

__all__ = ["RemotePipelines"]

#: Outputs only the server's run path records (a tracked run, a model version, a
#: dataset version): a remote run does not run the steps that return them.
RECORDED = (Metrics, ModelOutput, DatasetOutput)


def _records(output_type: Any) -> bool:
    if isinstance(output_type, type) and issubclass(output_type, RECORDED):
        return True
    return any(_records(a) for a in typing.get_args(output_type))


# -- values from the wire --------------------------------------------------------------


def _step_run(d: dict[str, Any]) -> StepRunInfo:
    return StepRunInfo(
        step=d["step"],
        status=d["status"],
        cache_key=d["cache_key"],
        output=d["output"],
        attempts=d["attempts"],
        seconds=d["seconds"],
        error=d["error"],
        traceback=d["traceback"],
    )


def _run(d: dict[str, Any]) -> PipelineRunInfo:
    return PipelineRunInfo(
        id=d["id"],
        pipeline=d["pipeline"],
        status=d["status"],
        trigger=d["trigger"],
        reason=d["reason"],
        executor=d["executor"],
        params=d["params"],
        forced=d["forced"],
        inputs=d["inputs"],
        steps_total=d["steps_total"],
        steps_cached=d["steps_cached"],
        steps_failed=d["steps_failed"],
        tracking_run_id=d["tracking_run_id"],
        error=d["error"],
        started_by=d["started_by"],
        started_at=wire.parse_time(d["started_at"]),
        ended_at=wire.parse_time(d["ended_at"]) if d["ended_at"] else None,
        steps=[_step_run(s) for s in d["steps"]],
    )


def _pipeline(d: dict[str, Any]) -> PipelineInfo:
    return PipelineInfo(
        id=d["id"],
        name=d["name"],
        project=d["project"],
        path=d["path"],
        description=d["description"],
        steps=d["steps"],
        promotion=d["promotion"],
        created_by=d["created_by"],
        created_at=wire.parse_time(d["created_at"]),
        rules=[
            RuleInfo(
                id=r["id"],
                kind=r["kind"],
                description=r["description"],
                enabled=r["enabled"],
                trained_version=r["trained_version"],
                seen_version=r["seen_version"],
                last_fired_at=wire.parse_time(r["last_fired_at"]) if r["last_fired_at"] else None,
            )
            for r in d["rules"]
        ],
        last_run=_run(d["last_run"]) if d["last_run"] else None,
    )


def _decision(d: dict[str, Any]) -> DecisionInfo:
    return DecisionInfo(
        id=d["id"],
        pipeline=d["pipeline"],
        kind=d["kind"],
        outcome=d["outcome"],
        reason=d["reason"],
        detail=d["detail"],
        rule_id=d["rule_id"],
        run_id=d["run_id"],
        actor=d["actor"],
        at=wire.parse_time(d["at"]),
    )


# -- the pipeline as the server's record keeps it --------------------------------------


def _refs(p: Pipeline) -> list[DatasetInput]:
    return list(dict.fromkeys(ref for s in p.steps for ref in s.datasets.values()))


def _ref(ref: DatasetInput) -> dict[str, Any]:
    return {"dataset": ref.dataset, "split": ref.split, "version": ref.version}


def _definition(p: Pipeline, project: str | None) -> dict[str, Any]:
    return {
        "name": p.name,
        "path": p.path,
        "description": p.description,
        "steps": shape(p),
        "promotion": promotion_spec(p),
        "retrain": [{"kind": r.kind, **rule_spec(r)} for r in p.retrain],
        "project": project,
    }


def _pins(
    client: RemoteClient, found: list[dict[str, Any]], project: str | None
) -> dict[DatasetInput, ResolvedInput]:
    """The server's pins; a step that runs here reads its rows from the server."""

    def reader(d: dict[str, Any]) -> Callable[[], Any]:
        version = d["label"].split(":")[0].rsplit("/v", 1)[1]  # reviews/v3:train
        return lambda: client.datasets.read(
            d["dataset"], f"v{version}", split=d["split"], project=project
        )

    return {
        DatasetInput(d["dataset"], d["split"], d["version"]): ResolvedInput(
            address=d["address"], label=d["label"], version_id=d["version_id"], load=reader(d)
        )
        for d in found
    }


class _ServerBackend:
    """The engine's backend over HTTP: pins and cache entries from the server's plan;
    outputs read from and saved to the server."""

    def __init__(
        self,
        client: RemoteClient,
        p: Pipeline,
        pins: dict[DatasetInput, ResolvedInput],
        cache: dict[str, str],
    ) -> None:
        self.client = client
        self.pins = pins
        self.known = dict(cache)
        self.loose = {n: s.output_type in (Any, object) for n, s in p.by_name.items()}

    def resolve(self, ref: DatasetInput) -> ResolvedInput:
        return self.pins[ref]

    def cache_lookup(self, key: str) -> str | None:
        return self.known.get(key)

    def cache_load(self, address: str) -> bytes:
        with self.client._stream("GET", f"/pipeline-outputs/{address}", timeout=wire.SLOW) as r:
            data = r.read()
        if blake3.blake3(data).hexdigest() != address:
            raise ObjectCorrupt(f"the cached step output {address} does not hash to its address")
        return data

    def cache_save(self, step: str, key: str, data: bytes) -> str:
        # A step typed loosely (Any, object) may still return what only the server
        # records: look before caching it (declared types were refused before the run).
        if self.loose.get(step) and isinstance(value := pickle.loads(data), RECORDED):
            raise InvalidInput(
                f"step {step!r} returned a {type(value).__name__}, which only a run on the "
                "server records",
                hint="run it on the server's worker: grove.pipelines.request_run(name)",
            )
        address = blake3.blake3(data).hexdigest()
        wire.put_object(self.client, address, data, len(data))
        self.client._call("PUT", f"/pipeline-cache/{key}", json={"step": step, "address": address})
        self.known[key] = address
        return address


class _StepLog:
    """Step results sent as they come: a step that ran at once, cache hits and skips
    with the next one (as the embedded run records them)."""

    def __init__(self, client: RemoteClient, run_id: int) -> None:
        self.client = client
        self.run_id = run_id
        self.pending: list[StepResult] = []

    def __call__(self, result: StepResult) -> None:
        self.pending.append(result)
        if result.status in ("succeeded", "failed"):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            rows = [r.row() for r in self.pending]
            self.client._call("POST", f"/pipeline-runs/{self.run_id}/steps", json={"steps": rows})
            self.pending = []


class RemotePipelines(Pipelines):
    def __init__(self, client: RemoteClient) -> None:
        self.client = client

    @staticmethod
    def _load(pipeline: Any) -> Pipeline:
        return load(pipeline) if isinstance(pipeline, str) else pipeline

    def _plan(
        self, p: Pipeline, project: str | None
    ) -> tuple[dict[DatasetInput, ResolvedInput], dict[str, Any]]:
        body = {"steps": p.order, "inputs": [_ref(r) for r in _refs(p)], "project": project}
        found = self.client._call("POST", f"/pipelines/{wire.q(p.name)}/plan", json=body)
        return _pins(self.client, found["pins"], project), found

    def status(
        self,
        pipeline: Any,
        *,
        project: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> builtins.list[StepStatusInfo]:
        p = self._load(pipeline)
        pins, found = self._plan(p, project)
        last = {k: Fingerprint(**v) for k, v in found["last"].items()}
        statuses = engine.status(
            p,
            _ServerBackend(self.client, p, pins, found["cache"]),
            params=params,
            last=last,
            known_inputs=found["known_inputs"],
        )
        return [StepStatusInfo(s.step, s.fresh, list(s.reasons), s.key) for s in statuses]

    def run(
        self,
        pipeline: Any,
        *,
        project: str | None = None,
        params: Mapping[str, Any] | None = None,
        force: Iterable[str] = (),
        executor: str = "local",
        jobs: int | None = None,
        retries: int | None = None,
        reason: str = "",
    ) -> PipelineRunInfo:
        p = self._load(pipeline)
        given = dict(params or {})
        forced = builtins.list(force)
        p.check_params(given)
        p.check_steps(forced)
        will_run = {s.step for s in self.status(p, project=project, params=given) if not s.fresh}
        will_run |= p.downstream(forced)
        _refuse_recorded([p.by_name[n] for n in p.order if n in will_run])
        with open_executor(executor, jobs=jobs) as ex:
            started = self.client._call(
                "POST",
                "/pipeline-runs",
                json={
                    **_definition(p, project),
                    "inputs": [_ref(r) for r in _refs(p)],
                    "params": {k: plain(v) for k, v in given.items()},
                    "forced": forced,
                    "executor": ex.name,
                    "reason": reason,
                    "host": socket.gethostname()[:255],
                    "pid": os.getpid(),
                },
            )
            run_id = started["run_id"]
            pins = _pins(self.client, started["pins"], project)
            backend = _ServerBackend(self.client, p, pins, started["cache"])
            log = _StepLog(self.client, run_id)
            try:
                engine.execute(
                    p,
                    backend,
                    ex,
                    params=given,
                    force=forced,
                    retries=retries,
                    resolved=backend.pins,
                    on_event=log,
                )
                log.flush()
            except BaseException as exc:
                with contextlib.suppress(GroveError):
                    log.flush()  # what was decided before it stopped, as embedded runs keep
                self.client._call(
                    "POST",
                    f"/pipeline-runs/{run_id}/end",
                    json={"error": f"the run stopped: {type(exc).__name__}: {exc}"},
                )
                raise
        return _run(self.client._call("POST", f"/pipeline-runs/{run_id}/end", json={}))

    def register(self, path: str, *, project: str | None = None) -> PipelineInfo:
        p = load(path, fresh=True)
        found = self.client._call(
            "PUT", f"/pipelines/{wire.q(p.name)}", json=_definition(p, project)
        )
        return _pipeline(found)

    def list(self) -> builtins.list[PipelineInfo]:
        return [_pipeline(d) for d in self.client._call("GET", "/pipelines")]

    def get(self, name: str) -> PipelineInfo:
        return _pipeline(self.client._call("GET", f"/pipelines/{wire.q(name)}"))

    def runs(
        self, name: str, *, limit: int = 50, before_id: int | None = None
    ) -> builtins.list[PipelineRunInfo]:
        found = self.client._call(
            "GET",
            f"/pipelines/{wire.q(name)}/runs",
            params=wire.params(limit=limit, before=before_id),
        )
        return [_run(d) for d in found]

    def get_run(self, run_id: int) -> PipelineRunInfo:
        return _run(self.client._call("GET", f"/pipeline-runs/{run_id}"))

    def decisions(self, name: str, *, limit: int = 100) -> builtins.list[DecisionInfo]:
        found = self.client._call(
            "GET", f"/pipelines/{wire.q(name)}/decisions", params={"limit": limit}
        )
        return [_decision(d) for d in found]

    def request_run(self, name: str, reason: str = "") -> DecisionInfo:
        return _decision(
            self.client._call("POST", f"/pipelines/{wire.q(name)}/runs", json={"reason": reason})
        )


def _refuse_recorded(steps: Iterable[Step]) -> None:
    making = [s.name for s in steps if _records(s.output_type)]
    if making:
        raise InvalidInput(
            f"steps {', '.join(making)} would run and make models, metrics or datasets, "
            "which only a run on the server records",
            hint="run it on the server's worker (grove.pipelines.request_run(name)) "
            "or on the workspace itself",
        )
