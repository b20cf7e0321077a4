"""The manager view of a team's growth: aggregates only, never a per-person figure.

Shown to the team's managers (its manager-role members and anyone managing a member)
and to administrators; every figure is hidden when the team has fewer active people than
``min_group_size``, so no number can be traced back to one person.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain.clock import utcnow
from mlgrove.domain.growth import TeamGrowth
from mlgrove.domain.growth_policy import may_see_aggregate, may_view_team
from mlgrove.domain.people import Role
from mlgrove.errors import NotFound, PermissionDenied
from mlgrove.services import growth_access
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetVersionRow, PersonRow, RunRow, TeamRow
from mlgrove.store.models.growth import (
    GrowthFeedbackRequestRow,
    GrowthFeedbackRow,
    GrowthPlanRow,
)
from mlgrove.store.models.review import ReviewerRow, ReviewVerdictRow

WINDOW_DAYS = 90


def _managed_team_ids(s: Session, ctx: Context) -> set[int]:
    """Teams of the people the caller manages, plus their own team if a manager."""
    ids = set(
        s.scalars(
            select(PersonRow.team_id)
            .where(PersonRow.manager_id == ctx.actor.id)
            .where(PersonRow.team_id.is_not(None))
        )
    )
    if ctx.actor.role is Role.MANAGER and ctx.actor.team_id is not None:
        ids.add(ctx.actor.team_id)
    return {i for i in ids if i is not None}


def managed_teams(ctx: Context) -> list[str]:
    """Names of the teams whose manager view the caller may open."""
    with ctx.db.read() as s:
        query = select(TeamRow.name).order_by(TeamRow.name)
        if not ctx.actor.is_admin:
            query = query.where(TeamRow.id.in_(_managed_team_ids(s, ctx)))
        return list(s.scalars(query))


def reports(ctx: Context) -> list[tuple[str, str]]:
    """(username, display name) of the people the caller manages: links, not figures."""
    with ctx.db.read() as s:
        rows = s.execute(
            select(PersonRow.username, PersonRow.display_name)
            .where(PersonRow.manager_id == ctx.actor.id, PersonRow.active.is_(True))
            .order_by(PersonRow.username)
        )
        return [(u, d) for u, d in rows]


def team_growth(ctx: Context, team: str) -> TeamGrowth:
    """Feedback coverage on both axes, active plans and open requests for ``team``."""
    with ctx.db.read() as s:
        row = s.scalars(select(TeamRow).where(TeamRow.name == team)).first()
        if row is None:
            raise NotFound(f"no team {team!r}")
        managed = frozenset(_managed_team_ids(s, ctx))
    if not may_view_team(growth_access.viewer(ctx), team_id=row.id, managed_team_ids=managed):
        raise PermissionDenied(
            f"the growth view of {team!r} is for its managers",
            hint="it shows team aggregates only; ask the team's manager",
        )
    since = utcnow() - timedelta(days=WINDOW_DAYS)
    minimum = ctx.settings.min_group_size
    with ctx.db.read() as s:
        members = set(
            s.scalars(
                select(PersonRow.id).where(PersonRow.team_id == row.id, PersonRow.active.is_(True))
            )
        )
        if not members or not may_see_aggregate(len(members), minimum):
            return TeamGrowth(team=team, members=len(members), min_group_size=minimum, shown=False)
        recent = select(GrowthFeedbackRow).where(
            GrowthFeedbackRow.receiver_id.in_(members), GrowthFeedbackRow.created_at >= since
        )
        feedback = list(s.scalars(recent))
        tech = {f.receiver_id for f in feedback if f.technical}
        collab = {f.receiver_id for f in feedback if f.collaboration}
        planners = set(
            s.scalars(
                select(GrowthPlanRow.person_id).where(
                    GrowthPlanRow.person_id.in_(members), GrowthPlanRow.status == "active"
                )
            )
        )
        open_requests = s.scalar(
            select(func.count())
            .select_from(GrowthFeedbackRequestRow)
            .where(
                GrowthFeedbackRequestRow.requester_id.in_(members),
                GrowthFeedbackRequestRow.answered_at.is_(None),
            )
        )
        usernames = list(s.scalars(select(PersonRow.username).where(PersonRow.id.in_(members))))
        versions = s.scalar(
            select(func.count())
            .select_from(DatasetVersionRow)
            .where(DatasetVersionRow.author.in_(usernames), DatasetVersionRow.created_at >= since)
        )
        runs = s.scalar(
            select(func.count())
            .select_from(RunRow)
            .where(RunRow.author.in_(usernames), RunRow.started_at >= since)
        )
        verdicts = s.scalar(
            select(func.count())
            .select_from(ReviewVerdictRow)
            .join(ReviewerRow, ReviewerRow.id == ReviewVerdictRow.reviewer_id)
            .where(ReviewerRow.person_id.in_(members), ReviewVerdictRow.created_at >= since)
        )
    n = len(members)
    return TeamGrowth(
        team=team,
        members=n,
        min_group_size=minimum,
        shown=True,
        technical_coverage=len(tech) / n,
        collaboration_coverage=len(collab) / n,
        active_plans=len(planners) / n,
        feedback_given=len(feedback),
        open_requests=int(open_requests or 0),
        dataset_versions=int(versions or 0),
        runs=int(runs or 0),
        review_verdicts=int(verdicts or 0),
        window_days=WINDOW_DAYS,
    )
