"""The remote implementation of ``grove.runs`` and ``grove.models`` (over the REST API).

The :class:`~mlgrove.client.tracking.ActiveRun` buffering is shared with the embedded
client: each flush of the buffer is one ``POST /runs/{id}/metrics`` carrying the whole
batch. Artifacts are hashed here, uploaded with ``PUT /objects/{address}`` only when the
server lacks them, then registered with ``POST /runs/{id}/artifacts``.

Bodies keep ``NaN`` and ``±Infinity`` as Python's ``json`` writes them (httpx's own JSON
encoder refuses them), so metric values survive the round trip.
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgrove.client import artifact_files, run_env, wire
from mlgrove.client.tracking import (
    FLUSH_INTERVAL,
    FLUSH_POINTS,
    ActiveRun,
    Models,
    RunBackend,
    Runs,
    version_text,
)
from mlgrove.domain import tracking as rules
from mlgrove.domain.metric_batch import MetricBatch, time_of
from mlgrove.domain.run_filter import RunPage, parse_filter, parse_order
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
    TestSet,
)
from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    from mlgrove.client.http import RemoteClient

#: A batch of tens of thousands of points, or an artifact upload, may take a while.
BLOCK = 1 << 20


def _json(body: Any) -> dict[str, Any]:
    """Keyword arguments for a JSON body that may hold NaN or infinity."""
    return {
        "content": json.dumps(body, separators=(",", ":")).encode("utf-8"),
        "headers": {"Content-Type": "application/json"},
    }


def _artifact(d: dict[str, Any]) -> RunArtifact:
    return RunArtifact(
        path=d["path"],
        address=d["address"],
        size=d["size"],
        created_at=wire.parse_time(d["created_at"]),
    )


def _input(d: dict[str, Any]) -> RunInput:
    return RunInput(
        dataset=d["dataset"],
        version=d["version"],
        version_id=d["version_id"],
        address=d["address"],
        split=d["split"],
    )


def _run(d: dict[str, Any]) -> Run:
    return Run(
        id=d["id"],
        project=d["project"],
        name=d["name"],
        status=RunStatus(d["status"]),
        params=dict(d["params"]),
        tags=dict(d["tags"]),
        author=d["author"],
        started_at=wire.parse_time(d["started_at"]),
        ended_at=wire.parse_time(d["ended_at"]) if d["ended_at"] else None,
        git_commit=d["git_commit"],
        git_dirty=d["git_dirty"],
        python_version=d["python_version"],
        packages=dict(d["packages"]),
        error=d["error"],
        metrics={k: float(v) for k, v in d["metrics"].items()},
        inputs=[_input(i) for i in d["inputs"]],
        artifacts=[_artifact(a) for a in d["artifacts"]],
    )


def _version(d: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        model=d["model"],
        number=d["number"],
        run_id=d["run_id"],
        artifact=d["artifact"],
        address=d["address"],
        created_by=d["created_by"],
        created_at=wire.parse_time(d["created_at"]),
        aliases=list(d["aliases"]),
    )


def _event(d: dict[str, Any]) -> AliasEvent:
    return AliasEvent(
        alias=d["alias"],
        from_version=d["from_version"],
        to_version=d["to_version"],
        actor=d["actor"],
        at=wire.parse_time(d["at"]),
    )


def _model(d: dict[str, Any]) -> Model:
    return Model(
        id=d["id"],
        project=d["project"],
        name=d["name"],
        created_at=wire.parse_time(d["created_at"]),
        aliases=dict(d["aliases"]),
        versions=[_version(v) for v in d["versions"]],
        alias_history=[_event(e) for e in d["alias_history"]],
    )


def _test_set(d: dict[str, Any]) -> TestSet:
    return TestSet(
        dataset=d["dataset"], version=d["version"], version_id=d["version_id"], split=d["split"]
    )


def _evaluation(d: dict[str, Any]) -> Evaluation:
    return Evaluation(
        id=d["id"],
        model=d["model"],
        model_version=d["model_version"],
        test_set=_test_set(d["test_set"]),
        metrics={k: float(v) for k, v in d["metrics"].items()},
        created_by=d["created_by"],
        created_at=wire.parse_time(d["created_at"]),
    )


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            yield block


def _hash_file(path: Path) -> str:
    import blake3

    hasher = blake3.blake3()
    for block in _blocks(path):
        hasher.update(block)
    return str(hasher.hexdigest())


class RemoteRunBackend(RunBackend):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client

    def _run_path(self, run_id: int, what: str) -> str:
        return f"/runs/{run_id}/{what}"

    def log_metrics(self, run_id: int, batch: MetricBatch) -> None:
        # The compact columnar form; timestamps travel as Unix seconds.
        body = {
            "keys": batch.keys,
            "values": batch.values,
            "steps": batch.steps,
            "timestamps": [t / 1_000_000 for t in batch.times_us],
        }
        self._client._call(
            "POST", self._run_path(run_id, "metrics"), timeout=wire.SLOW, **_json(body)
        )

    def log_params(self, run_id: int, params: dict[str, Any]) -> None:
        body = {"params": rules.text_values(params, "param")}
        self._client._call("POST", self._run_path(run_id, "params"), json=body)

    def set_tags(self, run_id: int, tags: dict[str, Any]) -> None:
        body = {"tags": rules.text_values(tags, "tag")}
        self._client._call("POST", self._run_path(run_id, "tags"), json=body)

    def log_artifact(self, run_id: int, path: str, name: str | None) -> RunArtifact:
        file = Path(path)
        # The same checks, in the same words, as the embedded client.
        if not file.exists():
            raise InvalidInput(f"artifact {file} does not exist", hint="check the path")
        if not file.is_file():
            raise InvalidInput(
                f"artifact {file} is not a file", hint="log the files in it one by one"
            )
        address = _hash_file(file)
        if address in wire.missing_objects(self._client, [address]):
            wire.upload_file(self._client, address, file)
        body = {"name": name or file.name, "address": address}
        return _artifact(
            self._client._call(
                "POST", self._run_path(run_id, "artifacts"), json=body, timeout=wire.SLOW
            )
        )

    def log_artifact_tree(
        self, run_id: int, path: str, name: str | None
    ) -> builtins.list[RunArtifact]:
        folder = Path(path)
        files = artifact_files.tree_files(folder, artifact_files.folder_prefix(folder, name))
        hashed = [(file, label, _hash_file(file)) for file, label in files]
        missing = wire.missing_objects(self._client, [address for _, _, address in hashed])
        for file, _, address in hashed:
            if address in missing:
                wire.upload_file(self._client, address, file)
                missing.discard(address)  # a file twice in the folder is sent once
        body = {"artifacts": [{"name": label, "address": address} for _, label, address in hashed]}
        return [
            _artifact(d)
            for d in self._client._call(
                "POST", self._run_path(run_id, "artifacts/batch"), json=body, timeout=wire.SLOW
            )
        ]

    def use_dataset(
        self, run_id: int, name: str, version: str, split: str | None, project: str | None
    ) -> RunInput:
        body = {"dataset": name, "version": version, "split": split, "project": project}
        return _input(self._client._call("POST", self._run_path(run_id, "inputs"), json=body))

    def end(self, run_id: int, status: RunStatus, error: str | None) -> Run:
        body = {"status": RunStatus(status).value, "error": error}
        return _run(self._client._call("POST", self._run_path(run_id, "end"), json=body))


class RemoteRuns(Runs):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client
        self._backend = RemoteRunBackend(client)

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
        env = run_env.capture() if capture_environment else {}
        body = {
            "project": project,
            "name": name,
            # Checked and made text here, as the embedded client does, so any value fits.
            "params": rules.text_values(params or {}, "param"),
            "tags": rules.text_values(tags or {}, "tag"),
            "environment": {
                "git_commit": env.get("git_commit"),
                "git_dirty": env.get("git_dirty"),
                "python_version": str(env.get("python_version", "")),
                "packages": {str(k): str(v) for k, v in dict(env.get("packages", {})).items()},
            },
        }
        run = _run(self._client._call("POST", "/runs", json=body))
        return ActiveRun(
            self._backend, run, flush_interval=flush_interval, flush_points=flush_points
        )

    def get(self, run_id: int) -> Run:
        return _run(self._client._call("GET", f"/runs/{run_id}"))

    def download_artifacts(
        self, run_id: int, dest: str | os.PathLike[str], path: str | None = None
    ) -> builtins.list[Path]:
        listed = self._client._call(
            "GET", f"/runs/{run_id}/artifacts", params=wire.params(path=path)
        )
        wanted = [_artifact(d) for d in listed]
        targets = [(a, artifact_files.relative_target(Path(dest), a.path)) for a in wanted]
        written = []
        for artifact, target in targets:
            url = f"/runs/{run_id}/artifacts/" + "/".join(
                wire.q(p) for p in artifact.path.split("/")
            )
            with self._client._stream("GET", url, timeout=wire.SLOW) as response:
                wire.download_verified(response.iter_bytes(BLOCK), artifact.address, target)
            written.append(target)
        return written

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
        query = wire.params(
            project=project,
            status=RunStatus(status).value if status is not None else None,
            tags=json.dumps({k: str(v) for k, v in tags.items()}) if tags else None,
            params=json.dumps({k: str(v) for k, v in params.items()}) if params else None,
            limit=max(1, min(limit, 1000)),
            before_id=before_id,
        )
        return [_run(d) for d in self._client._call("GET", "/runs", params=query)]

    def metric_history(self, run_id: int, key: str) -> builtins.list[MetricPoint]:
        # The columnar answer: a fraction of the bytes and no object per point to parse.
        got = self._client._call(
            "GET",
            f"/runs/{run_id}/metrics",
            params={"key": key, "columns": "true"},
            timeout=wire.SLOW,
        )
        return [
            MetricPoint(key=key, value=float(v), step=s, timestamp=time_of(round(t * 1_000_000)))
            for v, s, t in zip(got["values"], got["steps"], got["timestamps"], strict=True)
        ]

    def search(
        self,
        project: str | None = None,
        filter: str | None = None,
        *,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        # Checked here too, so a typo is reported without a round trip.
        flt, order = parse_filter(filter), parse_order(order_by)
        query = wire.params(
            project=project,
            filter=filter or "",
            order_by=order.text,
            limit=max(1, min(limit, 1000)),
            cursor=cursor,
        )
        with self._client._stream("GET", "/runs", params=query) as response:
            body = json.loads(response.read())
            following = response.headers.get("X-Grove-Next-Cursor")
        return RunPage([_run(d) for d in body], following or None, order, flt)


class RemoteModels(Models):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client

    def _path(self, name: str, *rest: str) -> str:
        return "/".join(["/models", wire.q(name), *(wire.q(r) for r in rest)])

    def register(
        self, name: str, run_id: int, artifact: str, *, project: str | None = None
    ) -> ModelVersion:
        body = {"run_id": run_id, "artifact": artifact, "project": project}
        return _version(self._client._call("POST", self._path(name, "versions"), json=body))

    def list(self, project: str | None = None) -> builtins.list[Model]:
        return [
            _model(d)
            for d in self._client._call("GET", "/models", params=wire.params(project=project))
        ]

    def get(self, name: str, *, project: str | None = None) -> Model:
        return _model(
            self._client._call("GET", self._path(name), params=wire.params(project=project))
        )

    def resolve(self, ref: str, *, project: str | None = None) -> ModelVersion:
        parsed = rules.parse_model_ref(ref)  # a malformed ref fails here, as embedded
        if parsed.alias is not None:
            version = f"@{parsed.alias}"
        elif parsed.number is not None:
            version = f"v{parsed.number}"
        else:
            version = "latest"
        path = self._path(parsed.model, "versions", version)
        return _version(self._client._call("GET", path, params=wire.params(project=project)))

    def set_alias(
        self, name: str, alias: str, version: str | int, *, project: str | None = None
    ) -> AliasEvent | None:
        body = {"version": version_text(version), "project": project}
        found = self._client._call("PUT", self._path(name, "aliases", alias), json=body)
        return _event(found) if found is not None else None

    def delete_alias(self, name: str, alias: str, *, project: str | None = None) -> AliasEvent:
        path = self._path(name, "aliases", alias)
        return _event(self._client._call("DELETE", path, params=wire.params(project=project)))

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
        if metrics:  # checked here in the service's words; floats travel as JSON can
            metrics = {rules.key(k): rules.metric_value(k, v) for k, v in metrics.items()}
        body = {
            "model": model,
            "dataset": dataset,
            "version": version_text(version),
            "metrics": metrics,
            "split": split,
            "project": project,
        }
        return _evaluation(self._client._call("POST", "/evaluations", **_json(body)))

    def evaluations(self, model: str, *, project: str | None = None) -> builtins.list[Evaluation]:
        params = wire.params(model=model, project=project)
        return [_evaluation(d) for d in self._client._call("GET", "/evaluations", params=params)]

    def compare(
        self, models: builtins.list[str], *, project: str | None = None, strict: bool = False
    ) -> Comparison:
        params: builtins.list[tuple[str, str]] = [("model", m) for m in models]
        if project is not None:
            params.append(("project", project))
        if strict:
            params.append(("strict", "true"))
        d = self._client._call("GET", "/evaluations/compare", params=params)
        return Comparison(
            evaluations=[_evaluation(e) for e in d["evaluations"]],
            test_sets=[_test_set(t) for t in d["test_sets"]],
            comparable=d["comparable"],
            warning=d["warning"],
        )
