"""Help requests ("I'm stuck") as plain values, and the pure rules around them.

Asking early is the point: a request records when the asker got stuck, when they asked,
when someone first answered and when it was resolved. How long someone was stuck before
asking is theirs alone (their mentor sees it only if they choose to share it).
"""

from __future__ import annotations

import enum
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mlgrove.errors import InvalidInput

TOPIC_MAX = 200
TEXT_MAX = 10_000
#: The longest "stuck since" we accept: older than this is a project, not a blocker.
STUCK_MAX = timedelta(days=90)
SUGGESTIONS = 5


class HelpStatus(enum.StrEnum):
    STUCK = "stuck"  # marked stuck, not asked yet (private to the person)
    OPEN = "open"  # asked, waiting for an answer or a resolution
    RESOLVED = "resolved"


@dataclass(frozen=True)
class HelpResponse:
    id: int
    request_id: int
    responder: str
    body: str
    at: datetime
    thanked: bool = False


@dataclass(frozen=True)
class HelpRequest:
    id: int
    asker: str
    team: str | None
    topic: str
    context: str
    competency: str
    dataset: str
    status: HelpStatus
    created_at: datetime
    asked_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    #: None unless the reader may see it (the asker; their mentor if shared).
    stuck_since: datetime | None
    share_stuck_with_mentor: bool
    responses: tuple[HelpResponse, ...] = ()

    @property
    def time_to_first_response(self) -> timedelta | None:
        if self.asked_at is None or self.first_response_at is None:
            return None
        return self.first_response_at - self.asked_at

    @property
    def time_to_resolution(self) -> timedelta | None:
        if self.asked_at is None or self.resolved_at is None:
            return None
        return self.resolved_at - self.asked_at

    @property
    def stuck_before_asking(self) -> timedelta | None:
        if self.stuck_since is None or self.asked_at is None:
            return None
        return self.asked_at - self.stuck_since


@dataclass(frozen=True)
class HelperSuggestion:
    username: str
    display_name: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class HelpStats:
    """Team-level figures. ``shown`` is False when too few people asked to show them."""

    team: str
    group_size: int
    min_group_size: int
    shown: bool
    requests: int = 0
    answered: int = 0
    resolved: int = 0
    median_first_response_minutes: float | None = None
    median_resolution_minutes: float | None = None


@dataclass(frozen=True)
class Candidate:
    """Someone who might help, with what we know of them (facts, not judgements)."""

    username: str
    display_name: str
    strengths: frozenset[str] = frozenset()
    is_askers_mentor: bool = False
    offers_mentoring: bool = False
    owns: tuple[str, ...] = field(default=())  # related datasets/pipelines they created


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(minutes?|mins?|hours?|days?|weeks?|w|d|h|m)", re.I)
_UNIT = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"2h"``, ``"1h30m"``, ``"3d"``, ``"1w"``: a positive span of time."""
    cleaned = text.strip().lower()
    pos, total = 0, timedelta()
    for match in _DURATION.finditer(cleaned):
        if cleaned[pos : match.start()].strip():
            break
        unit = _UNIT[match.group(2)[0]]
        total += timedelta(**{unit: float(match.group(1))})
        pos = match.end()
    if not cleaned or pos != len(cleaned) or total <= timedelta():
        raise InvalidInput(
            f"{text!r} is not a duration",
            hint="write it like 45m, 2h, 1h30m, 3d or 1w",
        )
    return total


def stuck_since(now: datetime, value: datetime | str | None) -> datetime:
    """When the asker got stuck: a time, a duration before ``now``, or ``now``."""
    if value is None:
        return now
    when = now - parse_duration(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        raise InvalidInput("'stuck since' needs a timezone", hint="use UTC, e.g. ...T09:00Z")
    if when > now + timedelta(minutes=1):
        raise InvalidInput("'stuck since' is in the future", hint="give a time that has passed")
    if now - when > STUCK_MAX:
        raise InvalidInput(
            "'stuck since' is more than 90 days ago",
            hint="a blocker that old is better raised with your manager or in a design review",
        )
    return when


def text(value: str, what: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    """Strip a free-text field and check its length (HTML is escaped when shown)."""
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(f"the {what} is empty", hint=f"say in a few words what the {what} is")
    if len(cleaned) > limit:
        raise InvalidInput(
            f"the {what} has {len(cleaned):,} characters, more than {limit:,}",
            hint="shorten it, or link to a document",
        )
    return cleaned


def median_minutes(spans: Iterable[timedelta]) -> float | None:
    values = [s.total_seconds() / 60 for s in spans]
    return round(statistics.median(values), 1) if values else None


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def suggest_helpers(
    topic: str, context: str, competency: str, candidates: Sequence[Candidate]
) -> list[HelperSuggestion]:
    """The best few people to ask, each with the reasons they were suggested.

    Scores add up plain facts: a declared strength in the request's competency (3), in a
    word of its topic (1 each), being the asker's mentor (2), offering mentoring (1),
    having created a dataset or pipeline the request names (2 each).
    """
    words = _words(f"{topic} {context}")
    found = []
    for c in candidates:
        score, reasons = 0.0, []
        if competency and competency in c.strengths:
            score += 3
            reasons.append(f"strength: {competency}")
        topical = sorted(s for s in c.strengths if s != competency and _words(s) & words)
        if topical:
            score += len(topical)
            reasons.append("strengths: " + ", ".join(topical))
        if c.is_askers_mentor:
            score += 2
            reasons.append("your mentor")
        elif c.offers_mentoring and score > 0:
            score += 1
            reasons.append("offers mentoring")
        if c.owns:
            score += 2 * len(c.owns)
            reasons.append("created " + ", ".join(c.owns))
        if score > 0:
            found.append(HelperSuggestion(c.username, c.display_name, score, tuple(reasons)))
    found.sort(key=lambda s: (-s.score, s.username))
    return found[:SUGGESTIONS]
