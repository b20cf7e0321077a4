"""The programmes in a team's manager view: aggregates only, hidden below the minimum
group size (``growth_policy.may_see_aggregate``); never a figure per person."""

from __future__ import annotations

from sqlalchemy import select

from mlgrove.domain import growth_policy as policy
from mlgrove.domain.mentorship import PairStatus
from mlgrove.domain.programs_team import TeamProgrammes
from mlgrove.errors import PermissionDenied
from mlgrove.services import growth_access, growth_team, help_requests, learning
from mlgrove.services.context import Context
from mlgrove.services.programs import team_row
from mlgrove.store.models import PersonRow, TeamRow
from mlgrove.store.models.growth_programs import DesignReviewRow, MentorshipRow


def team_programmes(ctx: Context, team: str) -> TeamProgrammes:
    """For the team's managers and admins (the same rule as the growth manager view)."""
    with ctx.db.read() as s:
        t = team_row(s, team)
        managed = frozenset(
            s.scalars(select(TeamRow.id).where(TeamRow.name.in_(growth_team.managed_teams(ctx))))
        )
        if not policy.may_view_team(
            growth_access.viewer(ctx), team_id=t.id, managed_team_ids=managed
        ):
            raise PermissionDenied(
                f"the {t.name} team view is for its managers", hint="ask the team's manager"
            )
        members = set(
            s.scalars(
                select(PersonRow.id).where(PersonRow.team_id == t.id, PersonRow.active.is_(True))
            )
        )
        shown = policy.may_see_aggregate(len(members), ctx.settings.min_group_size)
        pairs = attended = None
        if shown:
            pairs = sum(
                1
                for m, e in s.execute(
                    select(MentorshipRow.mentor_id, MentorshipRow.mentee_id).where(
                        MentorshipRow.status == PairStatus.ACTIVE.value
                    )
                )
                if m in members or e in members
            )
            attended = sum(
                len(members.intersection(r.attendees))
                for r in s.scalars(select(DesignReviewRow).where(DesignReviewRow.team_id != t.id))
            )
    return TeamProgrammes(
        team=t.name,
        group_size=len(members),
        min_group_size=ctx.settings.min_group_size,
        shown=shown,
        active_mentorships=pairs,
        cross_team_reviews_attended=attended,
        learning=learning.budget_report(ctx, t.name),
        help=help_requests.team_stats(ctx, t.name),
    )
