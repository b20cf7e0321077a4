"""Diff from stored row hashes gives exactly what the decoding diff gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgrove.services import table_append, table_commit, table_diff
from mlgrove.services.context import Context
from mlgrove.tabular import chunks as chunkio
from mlgrove.tabular.manifest import Manifest
from mlgrove.testing.factories import Factories


@pytest.fixture
def ctx(grove_factories: Factories) -> Context:
    grove_factories.project("support")
    return grove_factories.admin_ctx


def table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ids = np.arange(n)
    return pd.DataFrame(
        {
            "id": ids,
            "name": [f"n{i % 977}" for i in ids],
            "x": rng.normal(size=n),
            "flag": ids % 3 == 0,
        }
    )


def scattered_change(df: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    out = df.copy()
    picked = rng.choice(len(df), size=600, replace=False)
    out.loc[picked[:200], "x"] = out.loc[picked[:200], "x"] + 1.0
    out.loc[picked[200:250], "name"] = "renamed"
    out.loc[picked[250:260], "x"] = np.nan  # NaN is a changed cell; NaN to NaN is not
    out = out.drop(index=picked[300:450])
    extra = df.head(75).assign(id=np.arange(10**6, 10**6 + 75))
    return pd.concat([out, extra], ignore_index=True)


def both_paths(ctx: Context, monkeypatch: pytest.MonkeyPatch, **page: Any) -> tuple[Any, Any]:
    fast = table_diff.diff(ctx, "t", "v1", "v2", **page)
    with monkeypatch.context() as m:
        m.setattr(Manifest, "has_sidecars", property(lambda self: False))
        slow = table_diff.diff(ctx, "t", "v1", "v2", **page)
    return fast, slow


@pytest.mark.parametrize("keyed", [True, False])
def test_the_hash_diff_equals_the_row_diff(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, keyed: bool
) -> None:
    base = table(120_000)
    changed = scattered_change(base)
    if not keyed:  # unkeyed: duplicates count as a multiset
        changed = pd.concat([changed, base.head(3), base.head(3)], ignore_index=True)
    table_commit.commit(ctx, "t", base, key=["id"] if keyed else None)
    table_commit.commit(ctx, "t", changed)
    for page in ({}, {"limit": 7, "offset": 40}, {"limit": 500, "offset": 0}):
        fast, slow = both_paths(ctx, monkeypatch, **page)
        assert fast == slow
    if keyed:
        assert (fast["added"], fast["removed"], fast["changed"]) == (75, 150, 260)
        cols = {tuple(r["columns"]) for r in fast["rows"]["changed"]}
        assert cols == {("x",), ("name",)}
    else:
        assert (fast["added"], fast["removed"]) == (75 + 260 + 6, 150 + 260)


def test_counts_decode_no_row_and_a_page_decodes_only_its_chunks(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = table(200_000)
    table_commit.commit(ctx, "t", base, key=["id"])
    table_commit.commit(ctx, "t", scattered_change(base))
    decoded: list[int] = []
    real = chunkio.decode

    def decode(data: bytes) -> Any:
        t = real(data)
        decoded.append(t.num_rows)
        return t

    monkeypatch.setattr(chunkio, "decode", decode)
    counts = table_diff.diff(ctx, "t", "v1", "v2", limit=0)
    assert (counts["added"], counts["removed"], counts["changed"]) == (75, 150, 260)
    assert decoded == []
    assert counts["chunks"]["compared"] > 4  # every chunk holds a change
    table_diff.diff(ctx, "t", "v1", "v2", limit=1)
    assert 1 <= len(decoded) <= 4  # one row of each kind: at most one chunk each


def test_an_append_diffs_from_hashes(ctx: Context) -> None:
    table_commit.commit(ctx, "t", table(50_000), key=["id"])
    table_append.append(ctx, "t", table(10).assign(id=np.arange(10**7, 10**7 + 10)))
    d = table_diff.diff(ctx, "t", "v1", "v2")
    assert (d["added"], d["removed"], d["changed"]) == (10, 0, 0)
    assert [r["id"] for r in d["rows"]["added"]] == list(range(10**7, 10**7 + 10))


def test_rows_moved_between_chunks_are_not_changes(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows inserted at the front (every chunk boundary shifts) and a block of rows moved
    from the start to the end (keys change chunks): only the real edits are reported."""
    base = table(60_000)
    moved = pd.concat([base.iloc[20_000:], base.iloc[:20_000]], ignore_index=True)
    moved.loc[moved["id"] == 5, "x"] = 99.0  # a moved row that also changed
    moved.loc[moved["id"] == 40_000, "name"] = "edited"  # a row that stayed
    front = base.head(30).assign(id=np.arange(-30, 0))
    changed = pd.concat([front, moved[moved["id"] != 123]], ignore_index=True)
    table_commit.commit(ctx, "t", base, key=["id"])
    table_commit.commit(ctx, "t", changed)
    fast, slow = both_paths(ctx, monkeypatch, limit=100)
    assert fast == slow
    assert (fast["added"], fast["removed"], fast["changed"]) == (30, 1, 2)
    assert [r["id"] for r in fast["rows"]["removed"]] == [123]
    changes = {r["key"]["id"]: r["columns"] for r in fast["rows"]["changed"]}
    assert changes == {5: ["x"], 40_000: ["name"]}
