"""``grove.pipelines`` over HTTP against a real server (SQLite and PostgreSQL): the steps
run in the client, the step cache and the records are the server's, so a step cached by
anyone on the server is a hit for everyone."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import mlgrove
from mlgrove.client.base import Client
from mlgrove.domain.people import LOCAL_ADMIN, Person
from mlgrove.errors import InvalidInput, PermissionDenied
from mlgrove.services import pipelines, splits, table_commit
from mlgrove.services.context import Context, Runtime
from mlgrove.testing.factories import Factories

_counter = itertools.count()

CODE = """
import os
from typing import Any

import pyarrow as pa

from mlgrove.pipelines import Metrics, Pipeline, dataset, on_dataset, step


def tidy(text: str) -> str:
    return text.strip().lower()


@step(datasets={"rows": dataset("reviews", split="train")})
def texts(rows: pa.Table) -> list:
    return [tidy(t) for t in rows["text"].to_pylist()]


@step
def vocabulary(texts: list, minimum: int = 1) -> list:
    if os.environ.get("BREAK_VOCABULARY"):
        raise ValueError("the vocabulary broke")
    return sorted({t for t in texts if len(t) >= minimum})


@step
def size(vocabulary: list) -> int:
    return len(vocabulary)


pipeline = Pipeline(
    "shared",
    [texts, vocabulary, size],
    retrain=[on_dataset("reviews", min_added_rows=10)],
    description="shared over HTTP",
)


@step
def scored(vocabulary: list) -> Metrics:
    return Metrics(words=len(vocabulary))


scoring = Pipeline("scoring", [texts, vocabulary, scored])


@step
def loosely(vocabulary: list) -> Any:
    return Metrics(words=len(vocabulary))


loose = Pipeline("loose", [texts, vocabulary, loosely])
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """The user's module (``module:attr`` for an attribute); the client and the server
    are in this process, so both can import it, as the server's worker would."""
    sys.path.insert(0, str(tmp_path))
    name = f"remoteproj_{next(_counter)}"

    def write(code: str = CODE) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
        sys.modules.pop(name, None)
        return name

    yield write
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


@pytest.fixture
def ctx(grove_runtime: Runtime, grove_factories: Factories) -> Context:
    grove_factories.project("shop")
    c = grove_runtime.as_actor(LOCAL_ADMIN)
    rows = pd.DataFrame({"id": range(40), "text": [f" Word{i % 7} " for i in range(40)]})
    table_commit.commit(c, "reviews", rows, key=["id"], project="shop")
    splits.split(c, "reviews", "v1", ratios={"train": 0.75, "test": 0.25}, project="shop")
    return c


@pytest.fixture
def engineer(grove_factories: Factories) -> Person:
    return grove_factories.person("eve", role="engineer")


@pytest.fixture
def remote(
    grove_live_server: str, grove_factories: Factories, engineer: Person
) -> Iterator[Client]:
    with mlgrove.connect(grove_live_server, token=grove_factories.token(engineer).secret) as c:
        yield c


def test_what_the_server_cached_is_a_hit_for_a_remote_client_and_the_other_way(
    ctx: Context, remote: Client, project: Callable[[str], str]
) -> None:
    module = project()
    path = f"{module}:pipeline"
    first = remote.pipelines.run(path, executor="inline", reason="from my laptop")
    assert [(s.step, s.status) for s in first.steps] == [
        ("texts", "succeeded"),
        ("vocabulary", "succeeded"),
        ("size", "succeeded"),
    ]
    assert (first.status, first.started_by, first.reason) == ("succeeded", "eve", "from my laptop")
    assert set(first.inputs) == {"reviews:train"}
    # Recorded on the server as an embedded run would be, and cached there for everyone.
    assert pipelines.get_run(ctx, first.id) == first
    on_server = pipelines.run(ctx, path, executor="inline")
    assert [s.status for s in on_server.steps] == ["cached"] * 3
    assert [s.cache_key for s in on_server.steps] == [s.cache_key for s in first.steps]

    again = remote.pipelines.run(path, executor="inline")
    assert [s.status for s in again.steps] == ["cached"] * 3
    assert all(s.fresh for s in remote.pipelines.status(path))

    # A changed helper: the steps that reach it are stale, and say why.
    sys.modules.pop(module, None)
    project(CODE.replace("text.strip().lower()", "text.strip()"))
    stale = {s.step: s.reasons for s in remote.pipelines.status(path)}
    assert stale["texts"] == ["code changed"]
    assert stale["vocabulary"] == ["upstream texts stale"]

    # What the server knows, read remotely.
    info = remote.pipelines.get("shared")
    assert info == pipelines.get_pipeline(ctx, "shared")
    assert [r.kind for r in info.rules] == ["dataset"]
    assert [p.name for p in remote.pipelines.list()] == ["shared"]
    assert remote.pipelines.runs("shared", limit=2) == pipelines.list_runs(ctx, "shared", limit=2)
    assert remote.pipelines.get_run(first.id) == first
    assert remote.pipelines.decisions("shared")[0].outcome == "ran"
    asked = remote.pipelines.request_run("shared", reason="new labels")
    assert (asked.outcome, asked.actor) == ("requested", "eve")


def test_a_step_failing_in_the_client_fails_the_run_and_the_next_run_resumes(
    ctx: Context, remote: Client, project: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"{project()}:pipeline"
    monkeypatch.setenv("BREAK_VOCABULARY", "1")
    failed = remote.pipelines.run(path, executor="inline")
    assert failed.status == "failed"
    assert [s.status for s in failed.steps] == ["succeeded", "failed", "skipped"]
    assert "the vocabulary broke" in (failed.error or "")
    assert "ValueError" in (failed.failed_step.traceback or "")  # type: ignore[union-attr]

    monkeypatch.delenv("BREAK_VOCABULARY")
    resumed = remote.pipelines.run(path, executor="inline", force=["size"])
    assert [s.status for s in resumed.steps] == ["cached", "succeeded", "succeeded"]
    assert resumed.forced == ["size"]


def test_what_only_the_server_records_is_refused_before_anything_runs(
    ctx: Context,
    remote: Client,
    project: Callable[[str], str],
    grove_live_server: str,
    grove_factories: Factories,
) -> None:
    module = project()
    with pytest.raises(InvalidInput, match="scored would run and make models, metrics"):
        remote.pipelines.run(f"{module}:scoring", executor="inline")
    assert [p.name for p in pipelines.list_pipelines(ctx)] == []  # nothing recorded

    # Typed loosely, it is found out when it returns: the run stops, nothing is cached.
    with pytest.raises(InvalidInput, match="'loosely' returned a Metrics"):
        remote.pipelines.run(f"{module}:loose", executor="inline")
    (stopped,) = pipelines.list_runs(ctx, "loose")
    assert stopped.status == "failed"
    assert "the run stopped: InvalidInput" in (stopped.error or "")
    fresh = {s.step: s.fresh for s in remote.pipelines.status(f"{module}:loose")}
    assert fresh == {"texts": True, "vocabulary": True, "loosely": False}

    registered = remote.pipelines.register(f"{module}:scoring")
    assert (registered.name, registered.path) == ("scoring", f"{module}:scoring")
    assert remote.pipelines.request_run("scoring").outcome == "requested"

    reviewer = grove_factories.person("rita", role="reviewer")
    token = grove_factories.token(reviewer).secret
    with mlgrove.connect(grove_live_server, token=token) as theirs:
        with pytest.raises(PermissionDenied):
            theirs.pipelines.run(f"{module}:pipeline", executor="inline")
        assert [p.name for p in theirs.pipelines.list()] == ["loose", "scoring"]


def test_a_run_is_written_only_by_whoever_started_it_and_only_cached_outputs_are_served(
    ctx: Context,
    remote: Client,
    project: Callable[[str], str],
    grove_live_server: str,
    grove_factories: Factories,
    engineer: Person,
) -> None:
    run = remote.pipelines.run(f"{project()}:pipeline", executor="inline")
    other = grove_factories.token(grove_factories.person("otto", role="engineer")).secret
    api = httpx.Client(
        base_url=grove_live_server + "/api/v1", headers={"Authorization": f"Bearer {other}"}
    )
    mine = grove_factories.token(engineer).secret
    step = {"steps": [{"step": "size", "status": "cached"}]}
    with api:
        assert api.post(f"/pipeline-runs/{run.id}/steps", json=step).status_code == 403
        ended = httpx.post(
            f"{grove_live_server}/api/v1/pipeline-runs/{run.id}/steps",
            json=step,
            headers={"Authorization": f"Bearer {mine}"},
        )
        assert ended.status_code == 409
        output = run.steps[0].output
        assert output is not None
        assert api.get(f"/pipeline-outputs/{output}").status_code == 200
        stranger = "0" * 64
        assert api.get(f"/pipeline-outputs/{stranger}").status_code == 404
        bad = api.put(f"/pipeline-cache/{'1' * 64}", json={"step": "size", "address": stranger})
        assert bad.status_code == 404
        assert "upload it first" in bad.json()["detail"] + bad.json().get("hint", "")
