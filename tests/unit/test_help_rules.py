"""Pure rules of help requests and design similarity: durations, 'stuck since',
helper scoring, and TF-IDF matches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgrove.domain import help_requests as rules
from mlgrove.domain import similarity
from mlgrove.errors import InvalidInput

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("45m", timedelta(minutes=45)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("2 hours", timedelta(hours=2)),
        (" 1d 2h ", timedelta(days=1, hours=2)),
    ],
)
def test_durations_people_write(text: str, span: timedelta) -> None:
    assert rules.parse_duration(text) == span


@pytest.mark.parametrize("text", ["", "soon", "2", "h", "2x", "0m", "2h and a bit", "-1h"])
def test_anything_else_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a duration") as err:
        rules.parse_duration(text)
    assert err.value.hint is not None
    assert "2h" in err.value.hint


@given(st.integers(1, 10_000))
def test_minutes_round_trip(n: int) -> None:
    assert rules.parse_duration(f"{n}m") == timedelta(minutes=n)


def test_stuck_since_is_checked() -> None:
    assert rules.stuck_since(NOW, None) == NOW
    assert rules.stuck_since(NOW, "2h") == NOW - timedelta(hours=2)
    with pytest.raises(InvalidInput, match="in the future"):
        rules.stuck_since(NOW, NOW + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="timezone"):
        rules.stuck_since(NOW, datetime(2026, 11, 27, 9, 0))
    with pytest.raises(InvalidInput, match="90 days"):
        rules.stuck_since(NOW, "13w")


def test_helpers_are_ranked_by_the_facts_with_reasons() -> None:
    candidates = [
        rules.Candidate("ana", "Ana", frozenset({"evaluation"}), offers_mentoring=True),
        rules.Candidate("bo", "Bo", frozenset({"deep learning"}), is_askers_mentor=True),
        rules.Candidate("cy", "Cy", owns=("dataset vision/parts",)),
        rules.Candidate("di", "Di", frozenset({"frontend"})),
    ]
    found = rules.suggest_helpers("eval of the parts model", "", "evaluation", candidates)
    assert [(h.username, h.score) for h in found] == [("ana", 4.0), ("bo", 2.0), ("cy", 2.0)]
    assert found[0].reasons == ("strength: evaluation", "offers mentoring")
    assert found[1].reasons == ("your mentor",)


def test_similar_texts_are_found_and_unrelated_ones_are_not() -> None:
    corpus = [
        (1, "Churn prediction for telecom customers from billing and call records"),
        (2, "Image segmentation of steel parts for defect detection"),
        (3, "Speech diarisation of call centre audio"),
    ]
    found = similarity.similar("predict which telecom customers will churn", corpus)
    assert [m.key for m in found] == [1]
    assert 0 < found[0].score <= 1
    assert similarity.similar("the and of", corpus) == []
    assert similarity.similar("anything", []) == []
