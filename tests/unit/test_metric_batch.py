"""A batch of metric points as columns: the same rules as one point at a time, and the
first bad point named by its index."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from mlgrove.domain.metric_batch import (
    MetricBatch,
    check_columns,
    time_of,
    us_of,
)
from mlgrove.domain.tracking import MetricPoint
from mlgrove.errors import InvalidInput

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds


def test_plain_columns_pass_and_ints_become_floats() -> None:
    batch = check_columns(["a", "b"], [1, math.nan], [0, 7], [T0, T0 + 1])
    assert batch.values[0] == 1.0
    assert type(batch.values[0]) is float
    assert math.isnan(batch.values[1])
    assert (batch.keys, batch.steps, batch.times_us) == (["a", "b"], [0, 7], [T0, T0 + 1])


def test_numpy_numbers_are_taken_as_plain_ones() -> None:
    batch = check_columns(["a"], [np.float32(0.5)], [np.int64(3)], [T0])
    assert (type(batch.values[0]), type(batch.steps[0])) == (float, int)
    assert (batch.values, batch.steps) == ([0.5], [3])


@pytest.mark.parametrize(
    ("keys", "values", "steps", "message"),
    [
        (["a", "a", "a"], [1.0, True, 2.0], [0, 1, 2], "point 1: metric 'a': value True"),
        (["a", "a"], [1.0, "high"], [0, 1], "point 1: metric 'a': value 'high' is not a number"),
        (["a", "a"], [1.0, 10**400], [0, 1], "point 1: metric 'a': value"),
        (["a", "a"], [1.0, 2.0], [0, 1.5], "point 1: metric 'a': step 1.5"),
        (["a", "a"], [1.0, 2.0], [0, 2**63], "point 1: metric 'a': step"),
        (["a", "a"], [1.0, 2.0], [False, 1], "point 0: metric 'a': step False"),
        (["a", "b", ""], [1.0, 2.0, 3.0], [0, 0, 0], "point 2: empty metric key"),
        (["a", 5], [1.0, 2.0], [0, 0], "point 1: metric key must be a string"),
        (["a", "b\n"], [1.0, 2.0], [0, 0], "point 1: metric key 'b\\n' contains control"),
    ],
)
def test_the_first_bad_point_is_named(
    keys: list[object], values: list[object], steps: list[object], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_columns(keys, values, steps, [T0] * len(keys))
    assert caught.value.message.startswith(message)


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(InvalidInput, match="2 keys, 1 values"):
        check_columns(["a", "a"], [1.0], [0, 1], [T0, T0])


def test_unix_seconds_become_exact_microseconds() -> None:
    batch = check_columns(
        ["a", "a"], [1.0, 2.0], [0, 1], [1767225600, 1767225600.500001], seconds=True
    )
    assert batch.times_us == [T0, T0 + 500_001]
    assert time_of(T0 + 500_001) == datetime(2026, 1, 1, 0, 0, 0, 500_001, tzinfo=UTC)
    for bad in (math.nan, math.inf, -1, "now", None, True, 10**20):
        with pytest.raises(InvalidInput, match="point 1: timestamp"):
            check_columns(["a", "a"], [1.0, 2.0], [0, 1], [0, bad], seconds=True)


def test_the_lowest_bad_index_is_named_whichever_column_it_is_in() -> None:
    keys = ["a", "a", "a", "a", "", "b\n"]
    values = [1.0, 2.0, 3.0, "x", 5.0, 6.0]
    with pytest.raises(InvalidInput, match=r"^point 3: metric 'a': value 'x'"):
        check_columns(keys, values, [0] * 6, [T0] * 6)
    with pytest.raises(InvalidInput, match=r"^point 4: empty metric key"):
        check_columns(keys, [1.0] * 6, [0] * 6, [T0] * 6)
    with pytest.raises(InvalidInput, match=r"^point 2: timestamp"):
        check_columns(keys, values, [0] * 6, [T0, T0, -5, T0, T0, T0])


def test_points_with_zoneless_times_are_refused() -> None:
    naive = MetricPoint("a", 1.0, 0, datetime(2026, 1, 1))
    with pytest.raises(InvalidInput, match="point 0: timestamp 2026-01-01T00:00:00 has no time"):
        MetricBatch.of_points([naive])
    aware = MetricPoint("a", 1.0, 0, datetime(2026, 1, 1, tzinfo=UTC))
    assert MetricBatch.of_points([naive, aware][1:]).points() == [aware]
    assert us_of(aware.timestamp) == T0


def test_the_newest_point_of_each_key_is_the_last() -> None:
    batch = check_columns(["a", "b", "a"], [1.0, 2.0, 3.0], [0, 0, 1], [T0] * 3)
    assert batch.newest() == {"a": 2, "b": 1}
