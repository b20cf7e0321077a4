"""Learning time: a team's budget, events, personal entries, and budget against actual.

A budget is either a share of working time (e.g. 10%) or one learning day at the end of
each sprint. Personal entries are private to the person; a team sees only the sum, and
only when the team is big enough that the sum does not reveal one person.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mlgrove.errors import InvalidInput

HOURS_PER_WEEK = 40.0
HOURS_PER_DAY = 8.0
SHARE_MAX = 0.5
ENTRY_HOURS_MAX = 24.0


class EventKind(enum.StrEnum):
    HACKATHON = "hackathon"
    LEARNING_DAY = "learning-day"
    LUNCH_AND_LEARN = "lunch-and-learn"
    COURSE = "course"


class BudgetKind(enum.StrEnum):
    SHARE = "share"  # a share of working time, every week
    SPRINT_DAY = "sprint-day"  # one learning day at the end of each sprint


@dataclass(frozen=True)
class LearningBudget:
    team: str
    kind: BudgetKind
    share: float = 0.0  # SHARE: 0 < share <= 0.5
    sprint_weeks: int = 2  # SPRINT_DAY: sprint length

    def hours_per_person_per_week(self) -> float:
        if self.kind is BudgetKind.SHARE:
            return self.share * HOURS_PER_WEEK
        return HOURS_PER_DAY / self.sprint_weeks

    def describe(self) -> str:
        if self.kind is BudgetKind.SHARE:
            return f"{self.share:.0%} of working time"
        weeks = "week" if self.sprint_weeks == 1 else f"{self.sprint_weeks} weeks"
        return f"a learning day at the end of each sprint ({weeks})"


def check_budget(
    kind: str, share: float | None, sprint_weeks: int | None
) -> tuple[BudgetKind, float, int]:
    try:
        k = BudgetKind(kind)
    except ValueError:
        raise InvalidInput(
            f"unknown budget kind {kind!r}", hint="use 'share' or 'sprint-day'"
        ) from None
    if k is BudgetKind.SHARE:
        if share is None or not 0 < share <= SHARE_MAX:
            raise InvalidInput(
                "a share budget needs a share between 0 and 0.5",
                hint="e.g. --share 0.1 for 10% of working time",
            )
        return k, float(share), 2
    weeks = 2 if sprint_weeks is None else sprint_weeks
    if not 1 <= weeks <= 8:
        raise InvalidInput("a sprint is 1 to 8 weeks long", hint="e.g. --sprint-weeks 2")
    return k, 0.0, weeks


@dataclass(frozen=True)
class LearningEvent:
    id: int
    team: str
    kind: EventKind
    title: str
    topic: str
    presenter: str
    starts_at: datetime
    ends_at: datetime
    location: str
    description: str
    created_by: str


@dataclass(frozen=True)
class LearningEntry:
    id: int
    person: str
    day: date
    hours: float
    topic: str
    competency: str
    event_id: int | None = None


@dataclass(frozen=True)
class WeekFigures:
    week_start: date
    budget_hours: float
    actual_hours: float


@dataclass(frozen=True)
class BudgetReport:
    """A team's budget against what its people logged, summed (never per person)."""

    team: str
    budget: LearningBudget | None
    start: date
    end: date  # exclusive
    group_size: int
    min_group_size: int
    shown: bool
    budget_hours: float = 0.0
    actual_hours: float = 0.0
    weeks: tuple[WeekFigures, ...] = ()


def check_hours(hours: float) -> float:
    if not 0 < hours <= ENTRY_HOURS_MAX:
        raise InvalidInput(
            f"{hours:g} hours is not a day's learning",
            hint="log more than 0 and at most 24 hours per entry",
        )
    return round(float(hours), 2)


def check_event_kind(kind: str) -> EventKind:
    try:
        return EventKind(kind)
    except ValueError:
        raise InvalidInput(
            f"unknown event kind {kind!r}",
            hint="use " + ", ".join(k.value for k in EventKind),
        ) from None


def check_times(starts_at: datetime, ends_at: datetime | None) -> tuple[datetime, datetime]:
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        raise InvalidInput("event times need a timezone", hint="e.g. 2026-12-04T12:00Z")
    end = ends_at or starts_at + timedelta(hours=1)
    if end <= starts_at:
        raise InvalidInput("an event must end after it starts", hint="check the end time")
    if end - starts_at > timedelta(days=14):
        raise InvalidInput("an event lasts at most 14 days", hint="split a longer course")
    return starts_at, end


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def report(
    budget: LearningBudget | None,
    team: str,
    start: date,
    end: date,
    group_size: int,
    min_group_size: int,
    entries: list[tuple[date, float]],
) -> BudgetReport:
    """Budget against actual per week over ``[start, end)``, for ``group_size`` people.

    ``entries`` are (day, hours) of the team's people, with no names: the report is an
    aggregate by construction. Hidden below ``min_group_size``."""
    shown = group_size >= min_group_size
    if not shown:
        return BudgetReport(team, budget, start, end, group_size, min_group_size, False)
    per_week = budget.hours_per_person_per_week() * group_size if budget else 0.0
    actual: dict[date, float] = {}
    for day, hours in entries:
        if start <= day < end:
            actual[week_start(day)] = actual.get(week_start(day), 0.0) + hours
    weeks = []
    w = week_start(start)
    while w < end:
        # A partial first or last week gets its share of the weekly budget.
        days = (min(w + timedelta(days=7), end) - max(w, start)).days
        weeks.append(WeekFigures(w, round(per_week * days / 7, 2), round(actual.get(w, 0.0), 2)))
        w += timedelta(days=7)
    return BudgetReport(
        team,
        budget,
        start,
        end,
        group_size,
        min_group_size,
        True,
        round(sum(x.budget_hours for x in weeks), 2),
        round(sum(x.actual_hours for x in weeks), 2),
        tuple(weeks),
    )
