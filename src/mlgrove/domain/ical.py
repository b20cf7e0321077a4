"""iCalendar (RFC 5545) feeds, written by hand: the format is small and exact.

Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); text
values escape backslash, semicolon, comma and newlines; times are UTC (``...Z``).
:func:`parse` reads a feed back (unfolding and unescaping), for checks and tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//Grove//mlgrove learning events//EN"
LINE_OCTETS = 75


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str = ""
    location: str = ""
    categories: str = ""
    organizer: str = ""


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> list[str]:
    """One content line as physical lines of at most 75 octets (continuations start with a space)."""
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append("".join(current))
            current, size, limit = [" "], 1, LINE_OCTETS
        current.append(ch)
        size += n
    parts.append("".join(current))
    return parts


def calendar(events: Sequence[CalendarEvent], *, name: str, now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for e in events:
        lines += ["BEGIN:VEVENT", f"UID:{e.uid}", f"DTSTAMP:{stamp(now)}"]
        lines += [f"DTSTART:{stamp(e.starts_at)}", f"DTEND:{stamp(e.ends_at)}"]
        lines.append(f"SUMMARY:{escape(e.summary)}")
        if e.description:
            lines.append(f"DESCRIPTION:{escape(e.description)}")
        if e.location:
            lines.append(f"LOCATION:{escape(e.location)}")
        if e.categories:
            lines.append(f"CATEGORIES:{escape(e.categories)}")
        if e.organizer:
            lines.append(f"X-GROVE-PRESENTER:{escape(e.organizer)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(p + "\r\n" for line in lines for p in fold(line))


def parse(text: str) -> list[dict[str, str]]:
    """The VEVENTs of a feed as {property: unescaped value}; raises ValueError if malformed."""
    if not text.endswith("\r\n") or "\n" in text.replace("\r\n", ""):
        raise ValueError("lines must end in CRLF")
    physical = text[:-2].split("\r\n")
    logical: list[str] = []
    for line in physical:
        if len(line.encode("utf-8")) > LINE_OCTETS:
            raise ValueError(f"line longer than 75 octets: {line[:20]!r}")
        if line.startswith((" ", "\t")):
            if not logical:
                raise ValueError("continuation before any line")
            logical[-1] += line[1:]
        else:
            logical.append(line)
    if logical[:1] != ["BEGIN:VCALENDAR"] or logical[-1:] != ["END:VCALENDAR"]:
        raise ValueError("not a VCALENDAR")
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in logical[1:-1]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"no ':' in {line!r}")
        if line == "BEGIN:VEVENT":
            if current is not None:
                raise ValueError("nested VEVENT")
            current = {}
        elif line == "END:VEVENT":
            if current is None:
                raise ValueError("END:VEVENT without BEGIN")
            for required in ("UID", "DTSTAMP", "DTSTART"):
                if required not in current:
                    raise ValueError(f"VEVENT without {required}")
            events.append(current)
            current = None
        elif current is not None:
            current[name.split(";")[0]] = unescape(value)
    if current is not None:
        raise ValueError("VEVENT never ended")
    return events
