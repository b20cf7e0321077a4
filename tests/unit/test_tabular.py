"""The Arrow-level dataset engine: row hashes, chunking, diffs, split assignment, readers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mlgrove.errors import InvalidInput
from mlgrove.tabular import readers
from mlgrove.tabular.chunker import RowChunker
from mlgrove.tabular.chunks import content_id, decode, encode
from mlgrove.tabular.diff import diff_rows
from mlgrove.tabular.rowhash import row_hashes
from mlgrove.tabular.splits import assign_by_hash, inherit, parse_ratios


def table(n: int, start: int = 0, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(start, start + n)
    return pa.table(
        {
            "id": ids,
            "x": rng.random(n),
            "text": pa.array([f"row {i % 977}" for i in ids], pa.large_string()),
            "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(i % 30)) for i in ids]),
        }
    )


def test_row_hash_is_a_fixed_function_of_the_values() -> None:
    # If this value changes, every stored dataset's row identity changes: never do that.
    t = pa.table({"a": [1, None], "b": pa.array(["x", "y"], pa.large_string()), "c": [0.5, -0.0]})
    assert row_hashes(t).tolist() == row_hashes(t).tolist()
    assert row_hashes(t)[0] == np.uint64(EXPECTED_FIRST_ROW_HASH)


# rowhash-v1 of (1, "x", 0.5), recorded when the algorithm was fixed.
EXPECTED_FIRST_ROW_HASH = 11743164373903500020


def test_row_hash_ignores_representation_but_not_values() -> None:
    small = pa.table({"s": pa.array(["a", "b", None], pa.string()), "f": [0.0, float("nan"), 1.0]})
    large = pa.table(
        {"s": pa.array(["a", "b", None], pa.large_string()), "f": [-0.0, float("nan"), 1.0]}
    )
    assert row_hashes(small).tolist() == row_hashes(large).tolist()
    swapped = pa.table(
        {"s": pa.array(["b", "a", None], pa.large_string()), "f": [0.0, float("nan"), 1.0]}
    )
    assert row_hashes(swapped)[:2].tolist() != row_hashes(large)[:2].tolist()
    # Column order matters: (1, 2) is not (2, 1).
    assert (
        row_hashes(pa.table({"a": [1], "b": [2]}))[0]
        != row_hashes(pa.table({"a": [2], "b": [1]}))[0]
    )


def chunk_ids(t: pa.Table, batch_rows: int = 20_000) -> list[str]:
    chunker = RowChunker(bits=12, min_rows=512, max_rows=20_000)
    hashes = row_hashes(t)
    ids: list[str] = []
    for start in range(0, t.num_rows, batch_rows):
        batch = t.slice(start, batch_rows).combine_chunks().to_batches()[0]
        ids += [content_id(c) for c, _ in chunker.push(batch, hashes[start : start + batch_rows])]
    return ids + [content_id(c) for c, _ in chunker.finish()]


def test_chunk_boundaries_survive_appends_and_inserts() -> None:
    base = table(60_000)
    before = chunk_ids(base)
    assert len(before) > 8
    appended = chunk_ids(pa.concat_tables([base, table(600, start=10**6)]))
    assert len(set(before) - set(appended)) <= 1  # only the last chunk changes
    inserted = chunk_ids(
        pa.concat_tables([base.slice(0, 30_000), table(50, start=10**7), base.slice(30_000)])
    )
    assert len(set(before) - set(inserted)) <= 2  # only the chunk around the insert
    # Boundaries do not depend on how the input was cut into batches.
    assert chunk_ids(base, batch_rows=7_001) == before


def test_chunks_round_trip_through_parquet() -> None:
    t = table(1000)
    assert decode(encode(t)).equals(t)
    assert content_id(t) == content_id(pa.concat_tables([t.slice(0, 10), t.slice(10)]))


def test_keyed_diff_names_changed_columns() -> None:
    old = table(100)
    new_x = old.column("x").to_numpy().copy()
    new_x[5] = 42.0
    new = old.set_column(1, "x", pa.array(new_x)).slice(10)  # rows 0-9 removed
    new = pa.concat_tables([new, table(3, start=500)])
    d = diff_rows(old, new, ["id"])
    assert d.counts() == {"added": 3, "removed": 10, "changed": 0}
    new2 = old.set_column(1, "x", pa.array(new_x))
    d2 = diff_rows(old, new2, ["id"])
    assert d2.counts() == {"added": 0, "removed": 0, "changed": 1}
    assert d2.changed.column("id").to_pylist() == [5]
    assert d2.changed.column("_changed").to_pylist() == [["x"]]
    assert d2.changed_before.column("x")[0].as_py() == old.column("x")[5].as_py()


def test_unkeyed_diff_counts_duplicates_as_a_multiset() -> None:
    old = pa.table({"t": ["a", "a", "b"]})
    new = pa.table({"t": ["a", "b", "b", "c"]})
    d = diff_rows(old, new, [])
    assert sorted(d.added.column("t").to_pylist()) == ["b", "c"]
    assert d.removed.column("t").to_pylist() == ["a"]


def test_split_assignment_is_deterministic_and_follows_ratios() -> None:
    ids = row_hashes(table(50_000), ["id"])
    codes = assign_by_hash(ids, {"train": 0.8, "test": 0.2}, seed=7)
    assert abs((codes == 1).mean() - 0.2) < 0.01
    assert (assign_by_hash(ids, {"train": 0.8, "test": 0.2}, seed=7) == codes).all()
    assert (assign_by_hash(ids, {"train": 0.8, "test": 0.2}, seed=8) != codes).any()
    sorted_ids = np.sort(ids)
    got, existed = inherit(
        sorted_ids, np.ones(len(ids), np.uint8), np.r_[ids[:3], np.array([1, 2], np.uint64)]
    )
    assert existed.tolist() == [True, True, True, False, False]
    assert got[:3].tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train=0.8,test=0.3", "add up to 1.1"),
        ("train=0.8,test", "bad split ratio"),
        ("train=x", "not a number"),
        ("a=0,b=1", "above 0"),
    ],
)
def test_bad_ratios(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_ratios(text)


def test_csv_reader_widens_a_column_that_turns_into_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # many small blocks
    lines = ["id,code"] + [f"{i},{i}" for i in range(200)] + ["200,A-17"]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    result = readers.read_with_retry(
        path, None, lambda src: pa.Table.from_batches(list(src.batches))
    )
    assert result.num_rows == 201
    assert result.column("code").to_pylist()[-1] == "A-17"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", "a,b\n1,2\n3,4,5\n", "bad.csv line 3: expected 2 fields, found 3"),
        ("empty.csv", "", "empty"),
        ("x.xlsx", "nope", "cannot tell the format"),
        ("bad.jsonl", '{"a": 1}\n{"a": 2\n', "bad.jsonl line 2"),
    ],
)
def test_unreadable_inputs_say_where(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        readers.read_with_retry(path, None, lambda src: list(src.batches))


def test_a_file_that_changes_while_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n2\n")

    def consume(src: readers.Source) -> None:
        next(src.batches)
        path.write_text("a\n1\n2\n3\n")
        list(src.batches)

    with pytest.raises(InvalidInput, match="changed while it was being read"):
        readers.read_with_retry(path, None, consume)
