"""The runs filter language: what it accepts, what it means, and how it says no."""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgrove.domain.run_filter import (
    Clause,
    Field,
    OrderBy,
    decode_cursor,
    encode_cursor,
    parse_filter,
    parse_order,
)
from mlgrove.errors import InvalidInput


def test_the_documented_example_parses_into_three_clauses() -> None:
    got = parse_filter('metrics.acc > 0.9 and params.lr = 0.01 and tags.team = "x"')
    assert got.clauses == (
        Clause(Field("metric", "acc"), ">", 0.9),
        Clause(Field("param", "lr"), "=", "0.01"),
        Clause(Field("tag", "team"), "=", "x"),
    )


def test_params_keep_the_number_as_it_was_written() -> None:
    (clause,) = parse_filter("params.lr = 1e-2").clauses
    assert clause.value == "1e-2"


def test_keys_with_slashes_dots_and_spaces() -> None:
    got = parse_filter("metrics.val/acc >= 0.5 and metrics.`f1 score` < 1 and tags.a.b != 'q r'")
    assert [c.field.key for c in got.clauses] == ["val/acc", "f1 score", "a.b"]
    assert got.clauses[2].value == "q r"


def test_status_name_author_and_infinity() -> None:
    got = parse_filter("status = FINISHED and author = ana and metrics.loss < inf")
    assert got.clauses[0].value == "finished"
    assert got.clauses[2].value == math.inf


def test_empty_filter_matches_everything() -> None:
    assert parse_filter("").clauses == ()
    assert parse_filter(None).clauses == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("metrics.acc >", "expected a value"),
        ("metrics.acc 0.9", "expected an operator"),
        ("acc > 0.9", "'acc' is not a field"),
        ("metrics.acc > high", "is not one"),
        ("params.lr > 0.1", "is text: it takes = or !="),
        ("metrics.acc > 1 or metrics.acc < 0", "'or' is not supported"),
        ("metrics.acc > 1 and", "expected a field after 'and'"),
        ("status = done", "status is one of"),
        ("metrics.loss = nan", "NaN equals nothing"),
        ("metrics. > 1", "does not name a key"),
        ('tags.team = "unterminated', "cannot read"),
    ],
)
def test_bad_filters_say_what_is_wrong_and_where(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as info:
        parse_filter(text)
    assert "at character" in str(info.value)
    assert "metrics.acc > 0.9" in (info.value.hint or "")


def test_orders() -> None:
    assert parse_order(None) == OrderBy(Field("attribute", "started"), descending=True)
    assert parse_order("metrics.acc desc") == OrderBy(Field("metric", "acc"), True)
    assert parse_order("metrics.acc") == OrderBy(Field("metric", "acc"), False)
    assert parse_order("-params.lr") == OrderBy(Field("param", "lr"), True)
    assert parse_order("start_time asc") == OrderBy(Field("attribute", "started"), False)
    with pytest.raises(InvalidInput, match="not a field"):
        parse_order("accuracy desc")


def test_a_cursor_round_trips_and_is_bound_to_its_order() -> None:
    order = parse_order("started desc")
    when = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    got = decode_cursor(encode_cursor(order, when, 42), order)
    assert (got.value, got.run_id) == (when, 42)
    with pytest.raises(InvalidInput, match="made for order"):
        decode_cursor(encode_cursor(order, when, 42), parse_order("name"))
    with pytest.raises(InvalidInput, match="damaged"):
        decode_cursor("not a cursor!", order)


@given(st.one_of(st.none(), st.floats(allow_nan=False), st.text()), st.integers(1, 2**40))
def test_any_cursor_value_round_trips(value: float | str | None, run_id: int) -> None:
    order = parse_order("metrics.acc desc")
    got = decode_cursor(encode_cursor(order, value, run_id), order)
    assert (got.value, got.run_id) == (value, run_id)


@given(st.text(max_size=60))
def test_any_text_either_parses_or_raises_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_filter(text)


def test_a_filter_prints_back_as_text_that_parses_to_itself() -> None:
    got = parse_filter('metrics.`f1 score` >= 0.5 and tags.team = "vi\\"sion"')
    assert parse_filter(got.text) == got
