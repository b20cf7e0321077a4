"""Versioned table datasets through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgrove.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit, lineage, splits, table_commit, table_diff
from mlgrove.services import datasets as ds
from mlgrove.services.context import Context
from mlgrove.testing.factories import Factories


def tickets(n: int, start: int = 0) -> pd.DataFrame:
    ids = np.arange(start, start + n)
    return pd.DataFrame(
        {
            "id": ids,
            "text": [f"ticket {i} about {('billing', 'login', 'crash')[i % 3]}" for i in ids],
            "label": [("billing", "account", "bug")[i % 3] for i in ids],
            "score": (ids % 100) / 100.0,
        }
    )


@pytest.fixture
def ctx(grove_factories: Factories) -> Context:
    grove_factories.project("support")
    return grove_factories.admin_ctx


def test_commit_and_read_back_exactly(ctx: Context, tmp_path: Path) -> None:
    df = tickets(5000)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    v1 = table_commit.commit(ctx, "tickets", path, key=["id"], label="label", message="first")
    assert (v1.name, v1.rows, v1.parent, v1.source) == ("v1", 5000, None, "import")
    assert [c["name"] for c in v1.schema] == ["id", "text", "label", "score"]
    back = ds.read_table(ctx, "tickets", "v1").to_pandas()
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    shown = ds.show(ctx, "tickets", "latest")
    assert shown.stats["label"]["counts"] == {"account": 1667, "billing": 1667, "bug": 1666}
    score = next(c for c in shown.stats["columns"] if c["name"] == "score")
    assert (score["min"], score["max"], score["nulls"]) == (0.0, 0.99, 0)
    assert ds.show(ctx, "tickets", v1.address[:10]).number == 1


def test_appending_stores_little_and_diff_skips_identical_chunks(ctx: Context) -> None:
    base = tickets(200_000)
    v1 = table_commit.commit(ctx, "big", base, key=["id"])
    v2 = table_commit.commit(
        ctx, "big", pd.concat([base, tickets(2000, start=10**6)]), message="append 1%"
    )
    assert v2.parent == 1
    assert v2.new_bytes < v1.new_bytes * 0.5  # only the tail chunk(s) are new
    d = table_diff.diff(ctx, "big", "v1", "v2")
    assert (d["added"], d["removed"], d["changed"]) == (2000, 0, 0)
    assert d["chunks"]["skipped"] >= 1
    same = table_commit.commit(
        ctx, "big", pd.concat([base, tickets(2000, start=10**6)]), message="no change"
    )
    assert (same.name, same.address) == ("v2", v2.address)  # nothing changed: no v3
    assert [v.name for v in ds.log(ctx, "big")] == ["v2", "v1"]


def test_diff_reports_changed_cells_and_schema(ctx: Context) -> None:
    df = tickets(1000)
    table_commit.commit(ctx, "t", df, key=["id"])
    edited = df.copy()
    edited.loc[edited["id"] == 7, "label"] = "refund"
    edited = edited[edited["id"] != 8]
    table_commit.commit(ctx, "t", edited)
    d = table_diff.diff(ctx, "t", "v1", "v2")
    assert (d["added"], d["removed"], d["changed"]) == (0, 1, 1)
    changed = d["rows"]["changed"]
    assert [{k: c[k] for k in ("key", "columns", "before", "after")} for c in changed] == [
        {
            "key": {"id": 7},
            "columns": ["label"],
            "before": {"label": "account"},
            "after": {"label": "refund"},
        }
    ]
    assert changed[0]["row"] == {
        "id": 7,
        "text": "ticket 7 about login",
        "label": "refund",
        "score": 0.07,
    }
    assert d["rows"]["removed"][0]["id"] == 8
    widened = edited.assign(lang="en")
    with pytest.raises(InvalidInput, match=r"columns changed since the last version: \+lang"):
        table_commit.commit(ctx, "t", widened)
    table_commit.commit(ctx, "t", widened, allow_schema_change=True)
    d3 = table_diff.diff(ctx, "t", "v2", "v3")
    assert d3["schema"]["added"] == [{"name": "lang", "type": "large_string", "nullable": True}]
    assert (d3["added"], d3["removed"], d3["changed"]) == (0, 0, 0)


def test_bad_input_keeps_the_previous_version(ctx: Context, tmp_path: Path) -> None:
    table_commit.commit(ctx, "t", tickets(100), key=["id"])
    dup = pd.concat([tickets(100), tickets(2, start=5)])
    with pytest.raises(
        InvalidInput, match=r"2 key value\(s\) appear more than once, e.g. id=5; id=6"
    ):
        table_commit.commit(ctx, "t", dup)
    with pytest.raises(InvalidInput, match="has no rows"):
        table_commit.commit(ctx, "t", tickets(0))
    with pytest.raises(InvalidInput, match="keyed by"):
        table_commit.commit(ctx, "t", tickets(10), key=["text"])
    with pytest.raises(InvalidInput, match="key column 'nope' is not in"):
        table_commit.commit(ctx, "other", tickets(10), key=["nope"])
    with pytest.raises(NotFound, match="has no version 'v9'"):
        ds.show(ctx, "t", "v9")
    assert [v.name for v in ds.log(ctx, "t")] == ["v1"]
    assert [d.name for d, _ in ds.list_datasets(ctx)] == ["t"]


def test_someone_elses_commit_in_between_is_a_conflict(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    table_commit.commit(ctx, "t", tickets(100), key=["id"])
    real_put = ctx.objects.put_bytes
    fired = threading.Event()

    def put_and_race(data: bytes):  # type: ignore[no-untyped-def]
        if not fired.is_set():
            fired.set()
            table_commit.commit(ctx, "t", tickets(101), message="the other one")
        return real_put(data)

    monkeypatch.setattr(ctx.objects, "put_bytes", put_and_race)
    with pytest.raises(Conflict, match="committed a new version"):
        table_commit.commit(ctx, "t", tickets(102))
    assert [v.message for v in ds.log(ctx, "t")] == ["the other one", ""]


def test_splits_are_stable_across_versions(ctx: Context) -> None:
    table_commit.commit(ctx, "t", tickets(10_000), key=["id"])
    first = splits.split(ctx, "t", "v1", ratios={"train": 0.8, "test": 0.2}, seed=3)
    assert sum(first.counts.values()) == 10_000
    assert 1800 < first.counts["test"] < 2200
    test_v1 = set(splits.split_rows(ctx, "t", "v1", "test").column("id").to_pylist())
    table_commit.commit(ctx, "t", tickets(12_000))
    inherited = splits.get_split(ctx, "t", "v2")
    assert inherited is not None
    assert inherited.origin == "inherited"
    test_v2 = set(splits.split_rows(ctx, "t", "v2", "test").column("id").to_pylist())
    assert test_v1 <= test_v2  # nobody left the test set
    assert sum(inherited.counts.values()) == 12_000
    # Changing it on purpose is recorded with the number of rows that moved.
    moved = splits.split(ctx, "t", "v2", ratios={"train": 0.5, "test": 0.5}, seed=3)
    assert moved.moved_rows > 2000
    assert [h.origin for h in splits.history(ctx, "t", "v2")] == ["inherited", "assigned"]
    events = [e for e in audit.list_events(ctx) if e.action == "dataset.split"]
    assert "rows moved split" in events[0].detail


def test_split_by_column_and_leakage(ctx: Context) -> None:
    df = tickets(300).assign(part=lambda d: np.where(d["id"] < 200, "train", "test"))
    # Row 250 (test) repeats the content of row 10 (train): a leak.
    df.loc[df["id"] == 250, ["text", "label", "score"]] = df.loc[
        df["id"] == 10, ["text", "label", "score"]
    ].to_numpy()
    table_commit.commit(ctx, "t", df, key=["id"])
    result = splits.split(ctx, "t", "v1", column="part")
    assert result.counts == {"test": 100, "train": 200}
    report = splits.leakage(ctx, "t", "v1")
    assert report["overlapping_rows"] == 2
    assert report["by_splits"] == {"test+train": 1}
    assert report["examples"][0]["splits"] == ["test", "train"]
    assert "part" not in report["compared_columns"]
    table_commit.commit(ctx, "u", tickets(5))
    with pytest.raises(NotFound, match="has no split"):
        splits.leakage(ctx, "u", "v1")


def test_export_round_trips(ctx: Context, tmp_path: Path) -> None:
    df = tickets(777)
    table_commit.commit(ctx, "t", df, key=["id"])
    for suffix in (".parquet", ".csv", ".jsonl"):
        out = tmp_path / f"out{suffix}"
        assert ds.export(ctx, "t", "v1", out) == 777
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 777
    assert pd.read_csv(tmp_path / "out.csv")["text"].tolist() == df["text"].tolist()
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        ds.export(ctx, "t", "v1", tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_lineage_records_parent_and_source(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pandas(tickets(50)), path)
    table_commit.commit(ctx, "t", path, key=["id"])
    table_commit.commit(ctx, "t", tickets(60), lineage_from=[("review_batch", "17", "review")])
    node = ds.version_node(ctx, "t", "v2")
    edges = {
        (e.from_kind, e.relation, e.to_kind) for e in lineage.edges_of(ctx, "dataset_version", node)
    }
    assert ("dataset_version", "parent", "dataset_version") in edges
    assert ("review_batch", "review", "dataset_version") in edges
    assert ("file", "import", "dataset_version") in edges  # v1's source, two steps away


def test_reviewers_read_but_do_not_write(grove_factories: Factories) -> None:
    grove_factories.project("support")
    rev = grove_factories.ctx(grove_factories.person("rev", role="reviewer"))
    table_commit.commit(grove_factories.admin_ctx, "t", tickets(10))
    assert ds.read_table(rev, "t").num_rows == 10
    with pytest.raises(PermissionDenied):
        table_commit.commit(rev, "t", tickets(11))
    with pytest.raises(PermissionDenied):
        splits.split(rev, "t", "v1", ratios={"a": 0.5, "b": 0.5})


def test_several_projects_need_a_name(grove_factories: Factories) -> None:
    grove_factories.project("a")
    grove_factories.project("b")
    with pytest.raises(InvalidInput, match="several projects exist"):
        table_commit.commit(grove_factories.admin_ctx, "t", tickets(3))
    v = table_commit.commit(grove_factories.admin_ctx, "t", tickets(3), project="b")
    assert v.rows == 3
    assert [d.project for d, _ in ds.list_datasets(grove_factories.admin_ctx, "b")] == ["b"]


def test_polars_and_arrow_inputs_hash_like_pandas(ctx: Context) -> None:
    polars = pytest.importorskip("polars", reason="polars is an optional extra")
    df = tickets(3000)
    v_pandas = table_commit.commit(ctx, "a", df, key=["id"])
    v_polars = table_commit.commit(ctx, "b", polars.from_pandas(df), key=["id"])
    v_arrow = table_commit.commit(
        ctx, "c", pa.Table.from_pandas(df, preserve_index=False), key=["id"]
    )
    # Same rows, same chunks: the content address does not depend on the library.
    assert v_pandas.address == v_polars.address == v_arrow.address
    assert v_polars.new_bytes == 0


def test_a_commit_that_fails_midway_leaves_no_objects(ctx: Context) -> None:
    """Chunks stored before the failure are discarded with it: no object, no temp file."""
    from mlgrove.tabular.readers import Source

    table_commit.commit(ctx, "t", tickets(10), key=["id"])
    before = set(ctx.objects.iter_addresses())
    rows = pa.Table.from_pandas(tickets(200_000), preserve_index=False)

    def failing() -> Iterator[pa.RecordBatch]:
        yield from rows.slice(0, 150_000).to_batches(max_chunksize=10_000)
        raise OSError("the disk holding the input went away")

    with pytest.raises(OSError, match="went away"):
        table_commit.commit(ctx, "t", Source("t.parquet", failing(), rows.schema))
    assert set(ctx.objects.iter_addresses()) == before
    tmp = Path(ctx.objects.url) / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    assert ds.show(ctx, "t", "latest").number == 1
