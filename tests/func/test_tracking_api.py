"""Runs, metrics, models and evaluations over HTTP: the REST API and the remote SDK give
what the embedded SDK gives, and metrics travel in batches."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import mlgrove
from mlgrove.client.base import Client
from mlgrove.client.tracking import ActiveRun
from mlgrove.domain.people import Person
from mlgrove.errors import Conflict, PermissionDenied
from mlgrove.services import table_commit, tracking
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace

POINTS = 10_000
POINT = {"key": "x", "value": 1.0, "step": 0, "timestamp": "2026-01-01T00:00:00Z"}


def tickets(n: int) -> pd.DataFrame:
    ids = np.arange(n)
    return pd.DataFrame(
        {"id": ids, "text": [f"ticket {i}" for i in ids], "label": [("a", "b")[i % 2] for i in ids]}
    )


class CountingTransport(httpx.HTTPTransport):
    """A real transport that keeps the method, path and (JSON) body of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, bytes]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read() if request.method != "PUT" else b""
        with self._lock:
            self.requests.append((request.method, request.url.path, body))
        return super().handle_request(request)

    def calls(self, method: str, suffix: str) -> list[bytes]:
        return [b for m, p, b in self.requests if m == method and p.endswith(suffix)]


@pytest.fixture
def admin(grove_factories: Factories) -> Person:
    return grove_factories.person("ana", role="admin")


@pytest.fixture
def remote(grove_live_server: str, grove_factories: Factories, admin: Person) -> Iterator[Client]:
    with mlgrove.connect(grove_live_server, token=grove_factories.token(admin).secret) as client:
        yield client


@pytest.fixture
def http(
    grove_live_server: str, grove_factories: Factories, admin: Person
) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {grove_factories.token(admin).secret}"}
    with httpx.Client(base_url=grove_live_server + "/api/v1", headers=headers) as client:
        yield client


# -- the same answers in both modes ------------------------------------------------------

DROP = {
    "created_at",
    "started_at",
    "ended_at",
    "at",
    "timestamp",
    "author",
    "created_by",
    "actor",
    "id",
    "version_id",
}


def plain(value: Any) -> Any:
    """Comparable values: dataclasses as dicts without times and authors, floats as text
    (so NaN equals NaN)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in DROP
        }
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in DROP}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    return value


def scenario(grove: Client, folder: Path) -> dict[str, Any]:
    """A whole run, a model with alias moves, and evaluations, as plain values."""
    seen: dict[str, Any] = {}
    grove.datasets.add("tickets", tickets(200), key=["id"], label="label")
    grove.datasets.split("tickets", "v1", ratios={"train": 0.8, "test": 0.2}, seed=7)
    weights = folder / "model.pkl"
    weights.write_bytes(b"weights " * 1000)

    with grove.runs.start(
        name="baseline",
        params={"lr": 0.1, "depth": 3},
        tags={"team": "ml"},
        capture_environment=False,
    ) as run:
        seen["input"] = plain(run.use_dataset("tickets", 1, split="train"))
        for i in range(POINTS):
            run.log_metric("loss", 1.0 / (i + 1))
        run.log_metrics({"nan": math.nan, "inf": math.inf, "-inf": -math.inf}, step=5)
        run.log_params(seed=1)
        run.set_tags(stage="try")
        seen["artifact"] = plain(run.log_artifact(weights))
    seen["run"] = plain(grove.runs.get(run.id))
    history = grove.runs.metric_history(run.id, "loss")
    seen["loss"] = [(p.step, p.value) for p in history]
    seen["nan"] = plain(grove.runs.metric_history(run.id, "nan"))

    def broken() -> ActiveRun:
        with grove.runs.start(name="broken", capture_environment=False) as failing:
            failing.log_metric("loss", 2.0)
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        broken()
    (failing,) = grove.runs.list(status="failed")
    seen["failed"] = plain(grove.runs.get(failing.id))
    seen["list"] = [r.name for r in grove.runs.list()]
    seen["list team"] = [r.name for r in grove.runs.list(tags={"team": "ml"})]
    seen["list failed"] = [r.name for r in grove.runs.list(status="failed")]
    seen["list lr"] = [r.name for r in grove.runs.list(params={"lr": "0.1"}, limit=1)]

    seen["v1"] = plain(grove.models.register("clf", run.id, "model.pkl"))
    seen["v2"] = plain(grove.models.register("clf", run.id, "model.pkl"))
    moves = [
        grove.models.set_alias("clf", "production", 1),
        grove.models.set_alias("clf", "production", "v2"),
        grove.models.set_alias("clf", "production", 2),  # no change: None
        grove.models.set_alias("clf", "candidate", "@production"),
        grove.models.delete_alias("clf", "candidate"),
    ]
    seen["moves"] = plain(moves)
    seen["model"] = plain(grove.models.get("clf"))
    seen["models"] = plain(grove.models.list())
    seen["resolve"] = [
        plain(grove.models.resolve(ref)) for ref in ("clf", "clf/v1", "clf@production")
    ]

    seen["eval1"] = plain(
        grove.models.evaluate("clf/v1", "tickets", 1, {"f1": 0.8, "odd": math.nan}, split="test")
    )
    grove.models.evaluate("clf@production", "tickets", "v1", {"f1": 0.9}, split="test")
    seen["same"] = plain(grove.models.compare(["clf/v1", "clf/v2"]))
    grove.models.evaluate("clf/v2", "tickets", "latest", {"f1": 0.99}, split="train")
    seen["different"] = plain(grove.models.compare(["clf/v1", "clf/v2"]))
    seen["evaluations"] = plain(grove.models.evaluations("clf/v2"))

    for call in (
        lambda: grove.runs.get(999_999),
        lambda: grove.runs.metric_history(999_999, "loss"),
        lambda: run.log_metric("loss", 1.0),  # the run has ended
        lambda: grove.models.compare(["clf/v1", "clf/v2"], strict=True),
        lambda: grove.models.set_alias("clf", "production", 7),
        lambda: grove.models.set_alias("clf", "v3", 1),
        lambda: grove.models.delete_alias("clf", "nope"),
        lambda: grove.models.resolve("clf@nope"),
        lambda: grove.models.resolve("clf/"),
        lambda: grove.models.get("nope"),
        lambda: grove.models.register("clf", run.id, "missing.pkl"),
        lambda: grove.models.evaluate("clf/v1", "tickets", 1, {}),
        lambda: grove.models.evaluate("clf/v1", "tickets", 1, {"f1": "high"}),
        lambda: grove.models.evaluate("clf/v1", "tickets", 1, {"f1": 1.0}, split="valid"),
    ):
        with pytest.raises(mlgrove.GroveError) as caught:
            call()
        seen.setdefault("errors", []).append(
            (type(caught.value).__name__, caught.value.message, caught.value.hint)
        )

    (folder / "no-files").mkdir(exist_ok=True)  # a folder logs its files; this one has none
    with grove.runs.start(name="checks", capture_environment=False) as open_run:
        for call in (
            lambda: open_run.log_metric("loss", "high"),  # type: ignore[arg-type]
            lambda: open_run.log_metric("", 1.0),
            lambda: open_run.log_artifact(folder / "nowhere.pkl"),
            lambda: open_run.log_artifact(folder / "no-files"),
            lambda: open_run.use_dataset("tickets", 1, split="valid"),
            lambda: open_run.use_dataset("nope"),
            lambda: open_run.log_params(lr=0.1, seed=2) or open_run.log_params(seed=3),
        ):
            with pytest.raises(mlgrove.GroveError) as caught:
                call()
            seen["errors"].append(
                (type(caught.value).__name__, caught.value.message, caught.value.hint)
            )
        open_run.log_metric("ok", 1.0)
    seen["checks"] = plain(grove.runs.get(open_run.id))
    return seen


def test_embedded_and_remote_give_identical_results(
    grove_workspace: Workspace, remote: Client, tmp_path: Path
) -> None:
    with mlgrove.connect(grove_workspace.root) as embedded:
        expected = scenario(embedded, tmp_path)
    got = scenario(remote, tmp_path)
    assert got["errors"] == expected["errors"]
    for key in expected:
        assert got[key] == expected[key], key
    # What the scenario checks, so a test that cannot fail does not pass by accident:
    assert expected["loss"] == [(i, 1.0 / (i + 1)) for i in range(POINTS)]
    run = expected["run"]
    assert run["status"] == "finished"
    assert run["params"] == {"lr": "0.1", "depth": "3", "seed": "1"}
    assert run["tags"] == {"team": "ml", "stage": "try"}
    assert run["metrics"]["nan"] == "nan"
    assert (run["metrics"]["inf"], run["metrics"]["-inf"]) == ("inf", "-inf")
    assert run["inputs"] == [expected["input"]]
    assert expected["input"]["split"] == "train"
    assert run["artifacts"] == [expected["artifact"]]
    assert expected["artifact"]["size"] == 8000
    assert (expected["failed"]["status"], expected["failed"]["error"]) == (
        "failed",
        "ValueError: boom",
    )
    assert expected["failed"]["metrics"] == {"loss": "2.0"}
    assert expected["list"] == ["broken", "baseline"]
    assert expected["list failed"] == ["broken"]
    assert expected["list lr"] == ["baseline"]
    assert expected["moves"][2] is None
    assert [(e["alias"], e["from_version"], e["to_version"]) for e in expected["moves"] if e] == [
        ("production", None, 1),
        ("production", 1, 2),
        ("candidate", None, 2),
        ("candidate", 2, None),
    ]
    assert expected["model"]["aliases"] == {"production": 2}
    assert len(expected["model"]["alias_history"]) == 4
    assert [v["number"] for v in expected["resolve"]] == [2, 1, 2]
    assert expected["eval1"]["metrics"] == {"f1": "0.8", "odd": "nan"}
    assert expected["same"]["comparable"] is True
    assert expected["same"]["warning"] is None
    assert expected["different"]["comparable"] is False
    assert expected["different"]["warning"].startswith("NOT COMPARABLE")
    assert [e[0] for e in expected["errors"]] == [
        "NotFound",
        "NotFound",
        "Conflict",
        "Conflict",
        "NotFound",
        "InvalidInput",
        "NotFound",
        "NotFound",
        "InvalidInput",
        "NotFound",
        "NotFound",
        "InvalidInput",
        "InvalidInput",
        "NotFound",
        "InvalidInput",
        "InvalidInput",
        "InvalidInput",
        "InvalidInput",
        "NotFound",
        "NotFound",
        "Conflict",
    ]
    assert expected["checks"]["metrics"] == {"ok": "1.0"}  # nothing of the bad calls


# -- batching ----------------------------------------------------------------------------


def test_metrics_travel_in_batches_and_artifacts_are_sent_once(
    grove_live_server: str, grove_factories: Factories, admin: Person, tmp_path: Path
) -> None:
    grove_factories.project("churn")
    transport = CountingTransport()
    weights = tmp_path / "model.pkl"
    weights.write_bytes(b"w" * 100_000)
    secret = grove_factories.token(admin).secret
    with mlgrove.connect(grove_live_server, token=secret, transport=transport) as grove:
        with grove.runs.start(flush_points=5000, flush_interval=60) as run:
            for i in range(POINTS):
                run.log_metric("loss", float(i))
            run.log_artifact(weights)
        with grove.runs.start() as again:
            again.log_artifact(weights, name="same.pkl")
        history = grove.runs.metric_history(run.id, "loss")
    # The SDK sends the compact columnar form: four parallel lists.
    batches = [json.loads(b)["keys"] for b in transport.calls("POST", f"/runs/{run.id}/metrics")]
    # At least 5,000 a request (the loop may outrun the writer, which then takes more),
    # and what is left at the end: a few requests, never one per point.
    assert 1 <= len(batches) <= 3
    assert sum(len(b) for b in batches) == POINTS
    assert [p.value for p in history] == [float(i) for i in range(POINTS)]
    # Read back as columns over HTTP: the same points, timestamps to the microsecond.
    assert history == tracking.metric_history(grove_factories.admin_ctx, run.id, "loss")
    assert (
        len(transport.calls("PUT", "/objects/" + run_artifact_address(grove_factories, run.id)))
        == 1
    )
    assert len(transport.calls("POST", "/artifacts")) == 2


def run_artifact_address(factories: Factories, run_id: int) -> str:
    return tracking.get_run(factories.admin_ctx, run_id).artifacts[0].address


def test_nan_and_infinity_travel_as_python_json(
    http: httpx.Client, grove_factories: Factories
) -> None:
    project = grove_factories.project("churn")
    run = tracking.start_run(grove_factories.admin_ctx, project.name)
    body = (
        '{"points":[{"key":"x","value":NaN,"step":0,"timestamp":"2026-01-01T00:00:00Z"},'
        '{"key":"x","value":Infinity,"step":1,"timestamp":"2026-01-01T00:00:00Z"},'
        '{"key":"x","value":-Infinity,"step":2,"timestamp":"2026-01-01T00:00:00Z"}]}'
    )
    r = http.post(
        f"/runs/{run.id}/metrics", content=body, headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()) == (200, {"written": 3})
    r = http.get(f"/runs/{run.id}/metrics", params={"key": "x"})
    assert '"value":NaN' in r.text
    assert '"value":-Infinity' in r.text
    assert [repr(p["value"]) for p in r.json()] == ["nan", "inf", "-inf"]

    bad = {
        "points": [
            {"key": "y", "value": 1.0, "step": 0, "timestamp": "2026-01-01T00:00:00Z"},
            {"key": "y", "value": "high", "step": 1, "timestamp": "2026-01-01T00:00:00Z"},
        ]
    }
    r = http.post(f"/runs/{run.id}/metrics", json=bad)
    assert r.status_code == 400
    assert "is not a number" in r.json()["detail"]
    assert http.get(f"/runs/{run.id}/metrics", params={"key": "y"}).json() == []


def test_a_columnar_batch_is_stored_like_points_and_a_bad_point_is_named(
    http: httpx.Client, grove_factories: Factories
) -> None:
    project = grove_factories.project("churn")
    run = tracking.start_run(grove_factories.admin_ctx, project.name)
    # 2026-01-01T00:00:00Z and half a second (and a microsecond) later.
    body = (
        '{"keys":["loss","loss","acc"],"values":[0.9,NaN,1],"steps":[0,1,0],'
        '"timestamps":[1767225600,1767225600.500001,1767225600.25]}'
    )
    r = http.post(
        f"/runs/{run.id}/metrics", content=body, headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()) == (200, {"written": 3})
    loss = http.get(f"/runs/{run.id}/metrics", params={"key": "loss"}).json()
    assert [(p["step"], repr(p["value"])) for p in loss] == [(0, "0.9"), (1, "nan")]
    assert [p["timestamp"] for p in loss] == [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.500001Z",
    ]
    assert http.get(f"/runs/{run.id}").json()["metrics"]["acc"] == 1.0
    # The same points as columns, NaN and microseconds kept.
    r = http.get(f"/runs/{run.id}/metrics", params={"key": "loss", "columns": "true"})
    assert '"values":[0.9,NaN]' in r.text
    assert json.loads(r.text)["steps"] == [0, 1]
    assert json.loads(r.text)["timestamps"] == [1767225600.0, 1767225600.500001]

    bad = {
        "keys": ["y", "y", "y"],
        "values": [1.0, 2.0, 3.0],
        "steps": [0, 1, -2],
        "timestamps": [1767225600] * 3,
    }
    r = http.post(f"/runs/{run.id}/metrics", json=bad)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("point 2: metric 'y': step -2")
    assert http.get(f"/runs/{run.id}/metrics", params={"key": "y"}).json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"keys": ["y"], "values": [True], "steps": [0], "timestamps": [0]}, "point 0: "),
        ({"keys": ["y", ""], "values": [1, 2], "steps": [0, 1], "timestamps": [0, 0]}, "point 1: "),
        ({"keys": ["y"], "values": [1], "steps": [0], "timestamps": ["now"]}, "point 0: "),
        ({"keys": ["y"], "values": [1, 2], "steps": [0], "timestamps": [0]}, "differ in length"),
        ({"keys": ["y"], "values": [1], "steps": [0]}, "lacks timestamps"),
        ({"points": [POINT], "keys": ["y"]}, "both points and keys"),
    ],
)
def test_a_malformed_columnar_batch_is_refused_whole(
    http: httpx.Client, grove_factories: Factories, body: dict[str, Any], message: str
) -> None:
    project = grove_factories.project("churn")
    run = tracking.start_run(grove_factories.admin_ctx, project.name)
    r = http.post(f"/runs/{run.id}/metrics", json=body)
    assert r.status_code == 400
    assert message in r.json()["detail"]
    assert tracking.metric_keys(grove_factories.admin_ctx, run.id) == []


# -- permissions and unknown things ------------------------------------------------------


def test_a_reviewer_may_read_runs_and_models_but_not_write(
    grove_live_server: str, grove_factories: Factories, tmp_path: Path
) -> None:
    project = grove_factories.project("churn")
    ctx = grove_factories.admin_ctx
    table_commit.commit(ctx, "t", tickets(10), project=project.name)
    run = tracking.start_run(ctx, project.name, "r1")
    reviewer = grove_factories.person("rita", role="reviewer")
    secret = grove_factories.token(reviewer).secret
    with mlgrove.connect(grove_live_server, token=secret) as grove:
        assert grove.runs.get(run.id).name == "r1"
        assert [r.id for r in grove.runs.list("churn")] == [run.id]
        assert grove.models.list("churn") == []
        with pytest.raises(PermissionDenied, match="rita"):
            grove.runs.start("churn")
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=grove_live_server + "/api/v1", headers=headers) as http:
        for method, path, body in (
            ("POST", "/runs", {"project": "churn"}),
            ("POST", f"/runs/{run.id}/metrics", {"points": [POINT]}),
            ("POST", f"/runs/{run.id}/params", {"params": {"a": 1}}),
            ("POST", f"/runs/{run.id}/tags", {"tags": {"a": 1}}),
            ("POST", f"/runs/{run.id}/artifacts", {"name": "m", "address": "a" * 64}),
            ("POST", f"/runs/{run.id}/inputs", {"dataset": "t"}),
            ("POST", f"/runs/{run.id}/end", {"status": "killed"}),
            ("POST", "/models/clf/versions", {"run_id": run.id, "artifact": "m"}),
            ("PUT", "/models/clf/aliases/production", {"version": "1"}),
            (
                "POST",
                "/evaluations",
                {"model": "clf", "dataset": "t", "version": "1", "metrics": {"f1": 1}},
            ),
        ):
            r = http.request(method, path, json=body)
            assert r.status_code == 403, path
            assert r.json()["type"] == "urn:mlgrove:problem:permission-denied"
        assert http.delete("/models/clf/aliases/production").status_code == 403
    assert tracking.get_run(ctx, run.id).status == "running"
    assert tracking.metric_keys(ctx, run.id) == []


def test_unknown_runs_and_models_are_404_problems_with_a_hint(
    http: httpx.Client, grove_factories: Factories
) -> None:
    grove_factories.project("churn")
    for method, path, body in (
        ("GET", "/runs/999", None),
        ("GET", "/runs/999/metrics?key=loss", None),
        ("POST", "/runs/999/metrics", {"points": [POINT]}),
        ("POST", "/runs/999/params", {"params": {"a": 1}}),
        ("POST", "/runs/999/end", {"status": "finished"}),
        ("GET", "/models/nope", None),
        ("GET", "/models/nope/versions/latest", None),
        ("GET", "/evaluations?model=nope", None),
    ):
        r = http.request(method, path, json=body)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "urn:mlgrove:problem:not-found"
        assert r.json()["hint"], path
    assert http.get("/runs/999").json()["detail"] == "no run 999"
    r = http.post("/runs/999/artifacts", json={"name": "m", "address": "a" * 64})
    assert r.status_code == 400
    assert "PUT /api/v1/objects" in r.json()["hint"]
    r = http.get("/runs", params={"tags": "team=ml"})
    assert r.status_code == 400
    assert "JSON object" in r.json()["detail"]


def test_ending_a_run_twice_is_a_conflict(http: httpx.Client, grove_factories: Factories) -> None:
    project = grove_factories.project("churn")
    run = tracking.start_run(grove_factories.admin_ctx, project.name)
    r = http.post(f"/runs/{run.id}/end", json={"status": "failed", "error": "oom"})
    assert (r.status_code, r.json()["status"], r.json()["error"]) == (200, "failed", "oom")
    r = http.post(f"/runs/{run.id}/end", json={})
    assert r.status_code == 409
    with pytest.raises(Conflict):
        tracking.end_run(grove_factories.admin_ctx, run.id)
