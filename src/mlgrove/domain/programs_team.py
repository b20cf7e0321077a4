"""A team's programme figures for its manager view: aggregates only."""

from __future__ import annotations

from dataclasses import dataclass

from mlgrove.domain.help_requests import HelpStats
from mlgrove.domain.learning import BudgetReport


@dataclass(frozen=True)
class TeamProgrammes:
    team: str
    group_size: int
    min_group_size: int
    shown: bool  # False below the minimum group size: the counts are then None
    #: Active pairs with a mentor or mentee in the team.
    active_mentorships: int | None
    #: Attendances by the team's people at design reviews of other teams.
    cross_team_reviews_attended: int | None
    learning: BudgetReport
    help: HelpStats
