"""Runs search over every interface: the REST API (with its Link header), the remote
SDK (the same pages as the embedded one) and `mlgrove runs list --filter --sort`."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import httpx
import pytest

import mlgrove
from mlgrove.cli.main import run as cli
from mlgrove.client.base import Client
from mlgrove.domain.people import Person
from mlgrove.errors import InvalidInput
from mlgrove.services.embedded import EmbeddedClient
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace

PROJECT = "churn"


@pytest.fixture
def admin(grove_factories: Factories) -> Person:
    return grove_factories.person("ana", role="admin")


@pytest.fixture
def sweep(grove_factories: Factories, admin: Person) -> list[int]:
    """Six runs: lr 0.01/0.1 alternating, acc rising, one NaN, one without acc."""
    grove_factories.project(PROJECT)
    grove = EmbeddedClient(grove_factories.runtime, admin, owns_runtime=False)
    ids = []
    for i in range(6):
        with grove.runs.start(PROJECT, f"r{i}", params={"lr": (0.01, 0.1)[i % 2]}) as run:
            if i == 4:
                run.log_metric("acc", math.nan)
            elif i != 5:
                run.log_metric("acc", 0.5 + i / 10)
        ids.append(run.id)
    return ids


@pytest.fixture
def http(
    grove_live_server: str, grove_factories: Factories, admin: Person
) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {grove_factories.token(admin).secret}"}
    with httpx.Client(base_url=grove_live_server + "/api/v1", headers=headers) as client:
        yield client


@pytest.fixture
def remote(grove_live_server: str, grove_factories: Factories, admin: Person) -> Iterator[Client]:
    with mlgrove.connect(grove_live_server, token=grove_factories.token(admin).secret) as client:
        yield client


def test_the_api_filters_sorts_and_links_to_the_next_page(
    http: httpx.Client, sweep: list[int]
) -> None:
    query = {"project": PROJECT, "filter": "metrics.acc > 0.55", "order_by": "metrics.acc desc"}
    first = http.get("/runs", params=query | {"limit": 2})
    assert first.status_code == 200
    assert [r["name"] for r in first.json()] == ["r3", "r2"]
    assert first.json()[0]["metrics"] == {"acc": 0.8}  # searched runs carry their metrics
    assert first.links["next"]["url"]
    second = httpx.get(first.links["next"]["url"], headers=http.headers)
    assert [r["name"] for r in second.json()] == ["r1"]
    assert "link" not in second.headers
    cursor = first.headers["X-Grove-Next-Cursor"]
    again = http.get("/runs", params=query | {"limit": 2, "cursor": cursor})
    assert again.json() == second.json()


def test_the_api_shows_nan_faithfully_and_sorts_it_last(
    http: httpx.Client, sweep: list[int]
) -> None:
    got = http.get("/runs", params={"project": PROJECT, "order_by": "metrics.acc"})
    assert [r["name"] for r in got.json()] == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert "NaN" in got.text  # r4's latest acc, as Python's json writes it
    assert math.isnan(json.loads(got.text)[4]["metrics"]["acc"])


def test_bad_searches_are_400_problems_saying_what_to_fix(
    http: httpx.Client, sweep: list[int]
) -> None:
    bad = http.get("/runs", params={"project": PROJECT, "filter": "metrics.acc >> 1"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert "metrics.acc > 0.9" in bad.text  # the hint shows a filter that works
    first = http.get("/runs", params={"project": PROJECT, "order_by": "name", "limit": 1})
    other = http.get(
        "/runs",
        params={
            "project": PROJECT,
            "order_by": "metrics.acc",
            "cursor": first.headers["X-Grove-Next-Cursor"],
        },
    )
    assert other.status_code == 400
    assert "made for order" in other.json()["detail"]
    mixed = http.get("/runs", params={"project": PROJECT, "filter": "", "before_id": 3})
    assert mixed.status_code == 400


def test_the_plain_list_is_unchanged(http: httpx.Client, sweep: list[int]) -> None:
    got = http.get("/runs", params={"project": PROJECT, "limit": 2})
    assert [r["id"] for r in got.json()] == [sweep[5], sweep[4]]
    assert "link" not in got.headers


def test_remote_search_pages_like_the_embedded_one(
    remote: Client, grove_factories: Factories, admin: Person, sweep: list[int]
) -> None:
    embedded = EmbeddedClient(grove_factories.runtime, admin, owns_runtime=False)
    for client in (remote, embedded):
        seen, cursor = [], None
        while True:
            page = client.runs.search(
                PROJECT, "params.lr = 0.01", order_by="metrics.acc desc", limit=2, cursor=cursor
            )
            seen += [(r.name, r.metrics.get("acc")) for r in page]
            cursor = page.next_cursor
            if cursor is None:
                break
        names = [n for n, _ in seen]
        assert names == ["r2", "r0", "r4"], client.mode
        assert math.isnan(seen[2][1] or 0.0)
    with pytest.raises(InvalidInput, match="expected an operator"):
        remote.runs.search(PROJECT, "metrics.acc 3")


def test_cli_runs_list_filter_and_sort(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlgrove.connect(grove_workspace.root) as grove:
        for i, lr in enumerate((0.01, 0.1, 0.01)):
            with grove.runs.start(name=f"r{i}", params={"lr": lr}, tags={"team": "x"}) as r:
                r.log_metric("acc", (0.7, 0.8, 0.9)[i])
    capsys.readouterr()
    args = ["runs", "list", "--filter", "params.lr = 0.01", "--sort", "metrics.acc desc"]
    assert cli([*args, "--tag", "team=x", "--limit", "1", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in first["runs"]] == ["r2"]
    assert first["runs"][0]["metrics"] == {"acc": 0.9}
    assert cli([*args, "--limit", "1", "--cursor", first["next_cursor"], "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in second["runs"]] == ["r0"]
    assert second["next_cursor"] is None
    assert cli([*args]) == 0
    shown = capsys.readouterr().out
    assert "acc=0.9" in shown
    assert "r1" not in shown

    assert cli(["runs", "list", "--filter", "metrics.acc >"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "expected a value" in err
