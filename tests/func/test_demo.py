"""`mlgrove demo`: the whole loop on the embedded default, as a new user runs it.

One build per module (it trains three models and simulates two review rounds); the
tests then read the workspace back through the services, as the UI would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.services import datasets, demo, people, pipelines, registry, review_stats
from mlgrove.services.context import Context, Runtime
from mlgrove.services.demo_pipeline import MODEL
from mlgrove.services.demo_story import PROJECT, QUALITY_QUEUE
from mlgrove.workspace import Workspace


def _demo(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlgrove.cli", "demo", "--path", str(path), "--no-serve", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MLGROVE_WORKSPACE": ""},
    )


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("demo") / "grove-demo"
    return root, _demo(root)


@pytest.fixture
def admin(built: tuple[Path, subprocess.CompletedProcess[str]]) -> Iterator[Context]:
    runtime = Runtime.open(Workspace(built[0]).settings())
    try:
        yield runtime.as_actor(LOCAL_ADMIN)
    finally:
        runtime.close()


def test_demo_json_reports_the_whole_loop(
    built: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = built
    assert result.returncode == 0, result.stderr
    told = json.loads(result.stdout)
    assert told["dataset_versions"] >= 2
    assert told["model_versions"] >= 2
    assert told["retrains"] >= 2
    assert told["reviewed_items"] >= 50
    # Progress is shown as it goes, on stderr, so stdout stays one JSON document.
    assert "corrections committed as digits v2" in result.stderr
    assert "retrained: digits v1 → v2" in result.stderr


def test_reviewed_corrections_became_versions_and_retrained_models(admin: Context) -> None:
    history = datasets.log(admin, "digits", project=PROJECT)
    sources = sorted((v.number, v.source) for v in history)
    assert sources[0] == (1, "import")
    assert [s for _, s in sources[1:]] == ["review"] * (len(sources) - 1)
    assert len(sources) >= 3
    runs = pipelines.list_runs(admin, "digits")
    assert sum(r.trigger == "dataset" and r.status == "succeeded" for r in runs) >= 2
    # Every promotion compared like with like: the frozen v1 test split, said in the reason.
    promotions = [d for d in pipelines.decisions(admin, "digits") if d.kind == "promotion"]
    assert promotions
    assert all("digits/v1:test" in d.reason for d in promotions)
    production = registry.resolve(admin, f"{MODEL}@production", PROJECT)
    assert production.number >= 2


def test_people_judged_every_model_version_on_the_same_images(admin: Context) -> None:
    quality = review_stats.model_quality(admin, QUALITY_QUEUE, project=PROJECT)
    assert len(quality) >= 2
    for q in quality:
        assert q.reviewed_items == 40
        assert q.accept_rate.value is not None
        assert q.accept_rate.low is not None
        assert q.accept_rate.high is not None
        assert q.accept_rate.low <= q.accept_rate.value <= q.accept_rate.high


def test_the_demo_team_has_every_role_in_two_teams(admin: Context) -> None:
    everyone = {p.username: p for p in people.list_people(admin)}
    demo_people = [everyone[d.username] for d in demo.PEOPLE]
    assert len(demo_people) >= 10
    assert {p.role.value for p in demo_people} == {"admin", "manager", "engineer", "reviewer"}
    assert len({p.team_id for p in demo_people}) == 2


def test_running_the_demo_again_reuses_the_workspace(
    built: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, first = built
    again = _demo(root)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert "already here" in again.stderr
