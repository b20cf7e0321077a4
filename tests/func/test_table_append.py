"""Appending rows: the cost follows the new rows; keys, columns and splits stay right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.client.base import Client
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import datasets as ds
from mlgrove.services import splits, table_append, table_commit
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetVersionRow
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular.manifest import ChunkRef, Manifest
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace


def rows(n: int, start: int = 0) -> pd.DataFrame:
    ids = np.arange(start, start + n)
    return pd.DataFrame(
        {
            "id": ids,
            "text": [f"row {i} {('a', 'b', 'c')[i % 3]}" for i in ids],
            "score": (ids % 100) / 100.0,
        }
    )


@pytest.fixture
def ctx(grove_factories: Factories) -> Context:
    grove_factories.project("support")
    return grove_factories.admin_ctx


def counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    decoded: list[int] = []
    real = chunkio.decode

    def decode(data: bytes) -> Any:
        table = real(data)
        decoded.append(table.num_rows)
        return table

    monkeypatch.setattr(chunkio, "decode", decode)
    return decoded


def test_append_reads_only_the_last_chunk_and_equals_a_whole_commit(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, extra = rows(200_000), rows(2_000, start=10**6)
    v1 = table_commit.commit(ctx, "t", base, key=["id"])
    parent = ds.manifest(ctx, v1.address)
    assert len(parent.chunks) > 3
    assert parent.has_sidecars
    decoded = counting_decodes(monkeypatch)
    v2 = table_append.append(ctx, "t", extra, message="more")
    # Only the parent's last chunk was decoded: the other rows were never read.
    assert decoded == [parent.chunks[-1].rows]
    assert (v2.name, v2.rows, v2.parent) == ("v2", 202_000, 1)
    assert v2.new_bytes < v1.new_bytes * 0.5  # the last chunk again, and the new rows
    whole = table_commit.commit(ctx, "w", pd.concat([base, extra]), key=["id"])
    # The same chunks as committing the whole table: appends are not a second format.
    assert [c.content_id for c in ds.manifest(ctx, v2.address).chunks] == [
        c.content_id for c in ds.manifest(ctx, whole.address).chunks
    ]
    monkeypatch.undo()
    back = ds.read_table(ctx, "t", "v2").to_pandas()
    pd.testing.assert_frame_equal(back, pd.concat([base, extra], ignore_index=True))
    stats = ds.show(ctx, "t", "v2").stats
    assert stats["rows"] == 202_000
    ident = next(c for c in stats["columns"] if c["name"] == "id")
    assert (ident["min"], ident["max"]) == (0, 10**6 + 1999)
    score = next(c for c in stats["columns"] if c["name"] == "score")
    full = pd.concat([base, extra])["score"]
    assert score["mean"] == pytest.approx(full.mean())
    assert score["std"] == pytest.approx(full.std(ddof=0))


def test_an_appended_key_that_exists_is_named(ctx: Context, tmp_path: Path) -> None:
    table_commit.commit(ctx, "t", rows(50_000), key=["id"])
    clash = pd.concat([rows(3, start=60_000), rows(1, start=123)])
    with pytest.raises(InvalidInput) as err:
        table_append.append(ctx, "t", clash)
    assert "1 appended key value(s) already exist in t v1, e.g. id=123" in str(err.value)
    twice = pd.concat([rows(2, start=70_000), rows(1, start=70_000)])
    with pytest.raises(InvalidInput, match=r"appear more than once, e\.g\. id=70000"):
        table_append.append(ctx, "t", twice)
    assert [v.name for v in ds.log(ctx, "t")] == ["v1"]


def test_columns_must_match(ctx: Context) -> None:
    table_commit.commit(ctx, "t", rows(100), key=["id"])
    with pytest.raises(InvalidInput, match=r"the columns differ from t v1: -score \(double\)"):
        table_append.append(ctx, "t", rows(5, start=500).drop(columns=["score"]))
    reordered = rows(5, start=500)[["score", "text", "id"]]
    v2 = table_append.append(ctx, "t", reordered)
    assert [c["name"] for c in v2.schema] == ["id", "text", "score"]
    with pytest.raises(NotFound, match="no dataset named 'nope'"):
        table_append.append(ctx, "nope", rows(1))


def test_unkeyed_append_keeps_the_split_of_old_rows(ctx: Context) -> None:
    table_commit.commit(ctx, "u", rows(20_000))
    made = splits.split(ctx, "u", "v1", ratios={"train": 0.8, "test": 0.2}, seed=1)
    v2 = table_append.append(ctx, "u", rows(500, start=20_000))
    inherited = splits.get_split(ctx, "u", "v2")
    assert inherited is not None
    assert sum(inherited.counts.values()) == v2.rows == 20_500
    assert inherited.counts["train"] >= made.counts["train"]


def test_a_parent_without_sidecars_is_read_once_then_appends_are_cheap(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = table_commit.commit(ctx, "old", rows(100_000), key=["id"])
    m = ds.manifest(ctx, v1.address)
    legacy = Manifest(
        schema=m.schema,
        key_columns=m.key_columns,
        chunks=[ChunkRef(c.content_id, c.address, c.rows, c.bytes) for c in m.chunks],
    )
    body = legacy.to_bytes().replace(b"grove-table/2", b"grove-table/1")
    stored = ctx.objects.put_bytes(body)
    with ctx.db.write() as s:
        row = s.get(DatasetVersionRow, int(ds.version_node(ctx, "old", "v1")))
        assert row is not None
        row.address = stored.address
    assert not ds.manifest(ctx, stored.address).has_sidecars
    with pytest.raises(InvalidInput, match="appear more than once"):
        table_append.append(ctx, "old", rows(1, start=5))
    v2 = table_append.append(ctx, "old", rows(10, start=10**6))
    assert v2.rows == 100_010
    assert ds.manifest(ctx, v2.address).has_sidecars
    decoded = counting_decodes(monkeypatch)
    table_append.append(ctx, "old", rows(10, start=2 * 10**6))
    assert len(decoded) == 1


def test_cli_append(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows(1000).to_csv(tmp_path / "v1.csv", index=False)
    rows(10, start=5000).to_csv(tmp_path / "more.csv", index=False)
    rows(2, start=7).to_csv(tmp_path / "clash.csv", index=False)
    assert run(["data", "add", "t", str(tmp_path / "v1.csv"), "--key", "id"]) == 0
    capsys.readouterr()
    assert run(["data", "append", "t", str(tmp_path / "more.csv"), "-m", "ten", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["version"], out["rows"]) == ("v2", 1010)
    assert run(["data", "append", "t", str(tmp_path / "clash.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "2 appended key value(s) already exist in t v2, e.g. id=7; id=8" in err
    assert run(["data", "append", "t", str(tmp_path / "missing.csv")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.fixture
def remote(grove_live_server: str, grove_factories: Factories) -> Iterator[Client]:
    admin = grove_factories.person("ana", role="admin")
    grove_factories.project("p")
    with mlgrove.connect(grove_live_server, token=grove_factories.token(admin).secret) as client:
        yield client


def test_remote_append(remote: Client) -> None:
    remote.datasets.add("t", rows(30_000), key=["id"], project="p")
    v2 = remote.datasets.append("t", rows(100, start=10**6), project="p", message="m")
    assert (v2.name, v2.rows) == ("v2", 30_100)
    with pytest.raises(InvalidInput, match=r"already exist in t v2, e\.g\. id=3"):
        remote.datasets.append("t", rows(1, start=3), project="p")
