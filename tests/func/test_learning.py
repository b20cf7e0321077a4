"""Learning time through the services, on SQLite and PostgreSQL: budgets, the weekly
report (team sums only, hidden for small teams), events and their checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mlgrove.domain.learning import BudgetKind
from mlgrove.errors import InvalidInput, PermissionDenied
from mlgrove.services import learning
from mlgrove.testing.factories import Factories

TODAY = date(2026, 11, 27)  # a Friday


@pytest.fixture
def team(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "mia": {"role": "manager", "team": "Vision"},
                "jun": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "sam": {"role": "engineer", "team": "Vision", "manager": "mia"},
            },
        }
    )


def test_the_weekly_report_sums_the_team_against_its_budget(
    team: dict[str, Any], grove_factories: Factories, grove_runtime: Any
) -> None:
    grove_runtime.settings = grove_runtime.settings.with_overrides(min_group_size=3)
    mia, jun, sam = (grove_factories.ctx(team[n]) for n in ("mia", "jun", "sam"))
    budget = learning.set_budget(mia, "Vision", "sprint-day", sprint_weeks=2)
    assert budget.kind is BudgetKind.SPRINT_DAY
    assert budget.hours_per_person_per_week() == 4.0
    learning.log(jun, 3, "papers", day=TODAY)
    learning.log(sam, 1.5, "course", day=TODAY - timedelta(days=7))
    learning.log(sam, 8, "too old", day=TODAY - timedelta(weeks=5))

    report = learning.budget_report(jun, "Vision", weeks=2, today=TODAY)
    assert report.shown
    assert report.group_size == 3
    # Two whole weeks (Mon 16 Nov to Sun 29 Nov) of 3 people x 4 h, Friday's week cut at
    # Saturday (the report ends tomorrow, exclusive): 12 h + 12 h * 5/7.
    assert [w.week_start for w in report.weeks] == [date(2026, 11, 16), date(2026, 11, 23)]
    assert [w.actual_hours for w in report.weeks] == [1.5, 3.0]
    assert report.weeks[0].budget_hours == 12.0
    assert report.weeks[1].budget_hours == round(12 * 5 / 7, 2)
    assert report.actual_hours == 4.5

    learning.set_budget(mia, "Vision", "share", share=0.1)
    assert learning.budget_report(jun, "Vision", weeks=1, today=TODAY).budget_hours == round(
        12 * 5 / 7, 2
    )


def test_small_teams_see_no_sum_and_entries_stay_private(
    team: dict[str, Any], grove_factories: Factories
) -> None:
    jun, sam = grove_factories.ctx(team["jun"]), grove_factories.ctx(team["sam"])
    learning.log(jun, 2, "papers")
    report = learning.budget_report(sam, "Vision")
    assert report.shown is False
    assert report.actual_hours == 0.0
    assert report.weeks == ()
    assert learning.my_entries(sam) == []
    assert [e.topic for e in learning.my_entries(jun)] == ["papers"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "share", "share": 0.9}, "between 0 and 0.5"),
        ({"kind": "share"}, "between 0 and 0.5"),
        ({"kind": "sprint-day", "sprint_weeks": 12}, "1 to 8 weeks"),
        ({"kind": "monthly"}, "unknown budget kind"),
    ],
)
def test_bad_budgets_are_refused(
    team: dict[str, Any], grove_factories: Factories, kwargs: dict[str, Any], message: str
) -> None:
    kwargs = dict(kwargs)
    kind = kwargs.pop("kind")
    with pytest.raises(InvalidInput, match=message):
        learning.set_budget(grove_factories.ctx(team["mia"]), "Vision", kind, **kwargs)


def test_engineers_may_not_set_budgets(team: dict[str, Any], grove_factories: Factories) -> None:
    with pytest.raises(PermissionDenied, match="run growth programmes"):
        learning.set_budget(grove_factories.ctx(team["jun"]), "Vision", "share", share=0.1)


def test_events_are_checked(team: dict[str, Any], grove_factories: Factories) -> None:
    jun = grove_factories.ctx(team["jun"])
    start = datetime.now(UTC) + timedelta(days=3)
    with pytest.raises(InvalidInput, match="topic is empty"):
        learning.add_event(jun, "lunch-and-learn", "Polars", start, presenter="jun")
    with pytest.raises(InvalidInput, match="end after it starts"):
        learning.add_event(jun, "course", "MLOps", start, ends_at=start - timedelta(hours=1))
    with pytest.raises(InvalidInput, match="unknown event kind"):
        learning.add_event(jun, "party", "Fun", start)
    with pytest.raises(InvalidInput, match="timezone"):
        learning.add_event(jun, "course", "MLOps", start.replace(tzinfo=None))
    hack = learning.add_event(jun, "hackathon", "Winter", start, ends_at=start + timedelta(days=2))
    past = learning.add_event(
        jun, "course", "Done", start - timedelta(days=10), ends_at=start - timedelta(days=9)
    )
    assert [e.id for e in learning.list_events(jun)] == [hack.id]
    assert [e.id for e in learning.list_events(jun, upcoming=False)] == [past.id, hack.id]
    with pytest.raises(InvalidInput, match="in the future"):
        learning.log(jun, 1, "later", day=date.today() + timedelta(days=3))
