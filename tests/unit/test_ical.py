"""The iCal writer: RFC 5545 line endings, folding, escaping, and a faithful read-back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgrove.domain import ical

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def event(**changes: object) -> ical.CalendarEvent:
    values: dict[str, object] = {
        "uid": "learning-event-1@grove.example",
        "starts_at": datetime(2026, 12, 4, 12, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 4, 13, 0, tzinfo=UTC),
        "summary": "Lunch & learn: conformal prediction",
    }
    values.update(changes)
    return ical.CalendarEvent(**values)  # type: ignore[arg-type]


def test_a_feed_has_the_required_properties_and_crlf_lines() -> None:
    text = ical.calendar([event(location="Room 2; 3rd floor")], name="Vision", now=NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261204T120000Z\r\n" in text
    assert "DTSTAMP:20261127T090000Z\r\n" in text
    assert "LOCATION:Room 2\\; 3rd floor\r\n" in text
    [parsed] = ical.parse(text)
    assert parsed["LOCATION"] == "Room 2; 3rd floor"
    assert parsed["UID"] == "learning-event-1@grove.example"


def test_long_and_multibyte_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    summary = "Découvrir l'apprentissage actif — " * 8
    text = ical.calendar([event(summary=summary)], name="x", now=NOW)
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)
    assert ical.parse(text)[0]["SUMMARY"] == summary


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(",;\\\n"),
        max_size=300,
    )
)
def test_any_text_round_trips(description: str) -> None:
    text = ical.calendar([event(description=description or "x")], name="n", now=NOW)
    assert ical.parse(text)[0]["DESCRIPTION"] == (description or "x")


@pytest.mark.parametrize(
    ("feed", "why"),
    [
        ("BEGIN:VCALENDAR\nEND:VCALENDAR\n", "CRLF"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "DTSTAMP"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n", "never ended"),
    ],
)
def test_the_reader_refuses_malformed_feeds(feed: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        ical.parse(feed)


def test_times_are_written_in_utc() -> None:
    cet = datetime(2026, 12, 4, 13, 0, tzinfo=UTC) + timedelta(hours=0)
    text = ical.calendar([event(starts_at=cet.astimezone())], name="n", now=NOW)
    assert ical.parse(text)[0]["DTSTART"] == "20261204T130000Z"
