"""The embedded implementation of ``grove.programs``: the services, in process."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mlgrove.client.programs import Programs
from mlgrove.domain.designs import Design, DesignMatches, DesignReview, SimilarDesign
from mlgrove.domain.help_requests import HelperSuggestion, HelpRequest, HelpStats
from mlgrove.domain.learning import BudgetReport, LearningBudget, LearningEntry, LearningEvent
from mlgrove.domain.mentorship import MenteeGoals, MentorOffer, Mentorship, Proposal
from mlgrove.domain.programs_team import TeamProgrammes
from mlgrove.domain.rotations import Rotation
from mlgrove.services import (
    design_reviews,
    help_requests,
    learning,
    mentorship,
    programs_data,
    programs_team,
    rotations,
)
from mlgrove.services.context import Context


class EmbeddedPrograms(Programs):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- help requests ----------------------------------------------------------------
    def ask_for_help(
        self,
        topic: str,
        *,
        context: str = "",
        competency: str = "",
        dataset: str = "",
        stuck_since: datetime | str | None = None,
        share_with_mentor: bool = False,
        ask_now: bool = True,
    ) -> HelpRequest:
        return help_requests.ask(
            self.ctx,
            topic,
            context=context,
            competency=competency,
            dataset=dataset,
            stuck_since=stuck_since,
            share_with_mentor=share_with_mentor,
            ask_now=ask_now,
        )

    def help_requests(
        self,
        *,
        status: str | None = None,
        mine: bool = False,
        team: str | None = None,
        limit: int = 100,
    ) -> builtins.list[HelpRequest]:
        return help_requests.list_requests(
            self.ctx, status=status, mine=mine, team=team, limit=limit
        )

    def help_request(self, request_id: int) -> HelpRequest:
        return help_requests.get_request(self.ctx, request_id)

    def ask_marked(self, request_id: int) -> HelpRequest:
        return help_requests.ask_marked(self.ctx, request_id)

    def respond(self, request_id: int, body: str) -> HelpRequest:
        return help_requests.respond(self.ctx, request_id, body)

    def resolve(self, request_id: int, *, thank: Sequence[int] = ()) -> HelpRequest:
        return help_requests.resolve(self.ctx, request_id, thank=list(thank))

    def thank(self, request_id: int, response_id: int) -> HelpRequest:
        return help_requests.thank(self.ctx, request_id, response_id)

    def share_stuck_with_mentor(self, request_id: int, share: bool = True) -> HelpRequest:
        return help_requests.share_with_mentor(self.ctx, request_id, share)

    def suggest_helpers(self, request_id: int) -> builtins.list[HelperSuggestion]:
        return help_requests.suggest_helpers(self.ctx, request_id)

    def set_help_nudge(self, after: str | None) -> int | None:
        return help_requests.set_nudge(self.ctx, after)

    def help_nudges(self) -> builtins.list[HelpRequest]:
        return help_requests.nudges(self.ctx)

    def help_stats(self, team: str) -> HelpStats:
        return help_requests.team_stats(self.ctx, team)

    # -- learning time ----------------------------------------------------------------
    def set_learning_budget(
        self, team: str, kind: str, *, share: float | None = None, sprint_weeks: int | None = None
    ) -> LearningBudget:
        return learning.set_budget(self.ctx, team, kind, share=share, sprint_weeks=sprint_weeks)

    def learning_budget(self, team: str) -> LearningBudget | None:
        return learning.get_budget(self.ctx, team)

    def learning_report(self, team: str, *, weeks: int = 12) -> BudgetReport:
        return learning.budget_report(self.ctx, team, weeks=weeks)

    def add_learning_event(
        self,
        kind: str,
        title: str,
        starts_at: datetime,
        *,
        ends_at: datetime | None = None,
        team: str | None = None,
        topic: str = "",
        presenter: str = "",
        location: str = "",
        description: str = "",
    ) -> LearningEvent:
        return learning.add_event(
            self.ctx,
            kind,
            title,
            starts_at,
            ends_at=ends_at,
            team=team,
            topic=topic,
            presenter=presenter,
            location=location,
            description=description,
        )

    def learning_events(
        self, *, team: str | None = None, upcoming: bool = True
    ) -> builtins.list[LearningEvent]:
        return learning.list_events(self.ctx, team=team, upcoming=upcoming)

    def learning_calendar(self, *, team: str | None = None) -> str:
        return learning.ical_feed(self.ctx, team=team)

    def learning_calendar_link(self) -> str:
        # No server in embedded mode: the path a server of this workspace would serve.
        return learning.calendar_path(self.ctx)

    def log_learning(
        self,
        hours: float,
        topic: str,
        *,
        competency: str = "",
        day: date | None = None,
        event_id: int | None = None,
    ) -> LearningEntry:
        return learning.log(
            self.ctx, hours, topic, competency=competency, day=day, event_id=event_id
        )

    def my_learning(self) -> builtins.list[LearningEntry]:
        return learning.my_entries(self.ctx)

    # -- mentorship -------------------------------------------------------------------
    def offer_mentoring(self, strengths: Sequence[str], capacity: int) -> MentorOffer:
        return mentorship.offer(self.ctx, strengths, capacity)

    def tick_mentor_training(self, items: Sequence[int], *, done: bool = True) -> MentorOffer:
        return mentorship.tick_training(self.ctx, items, done=done)

    def mentors(self) -> builtins.list[MentorOffer]:
        return mentorship.list_offers(self.ctx)

    def set_mentee_goals(self, goals: Sequence[str], note: str = "") -> MenteeGoals:
        return mentorship.set_goals(self.ctx, goals, note)

    def mentees(self) -> builtins.list[MenteeGoals]:
        return mentorship.list_mentees(self.ctx)

    def propose_mentor_pairs(self) -> builtins.list[Proposal]:
        return mentorship.propose(self.ctx)

    def approve_mentor_pairs(self, pairs: Sequence[tuple[str, str]]) -> builtins.list[Mentorship]:
        return mentorship.approve(self.ctx, pairs)

    def mentorships(self, *, everyone: bool = False) -> builtins.list[Mentorship]:
        return mentorship.list_pairs(self.ctx, everyone=everyone)

    def log_mentor_session(
        self, pair_id: int, minutes: int, notes: str = "", *, at: datetime | None = None
    ) -> Mentorship:
        return mentorship.log_session(self.ctx, pair_id, minutes, notes, at=at)

    def set_mentorship_goals(self, pair_id: int, goals: Sequence[str]) -> Mentorship:
        return mentorship.set_pair_goals(self.ctx, pair_id, goals)

    def end_mentorship(self, pair_id: int) -> Mentorship:
        return mentorship.end_pair(self.ctx, pair_id)

    # -- designs ----------------------------------------------------------------------
    def add_design(
        self,
        title: str,
        summary: str,
        *,
        team: str | None = None,
        doc_url: str = "",
        datasets: Sequence[str] = (),
    ) -> DesignMatches:
        return design_reviews.add_design(
            self.ctx, title, summary, team=team, doc_url=doc_url, datasets=datasets
        )

    def designs(self, *, team: str | None = None) -> builtins.list[Design]:
        return design_reviews.list_designs(self.ctx, team=team)

    def design(self, design_id: int) -> DesignMatches:
        return design_reviews.get_design(self.ctx, design_id)

    def similar_designs(
        self, text: str, *, datasets: Sequence[str] = ()
    ) -> builtins.list[SimilarDesign]:
        return design_reviews.similar_designs(self.ctx, text, datasets=datasets)

    def schedule_review(
        self,
        title: str,
        scheduled_at: datetime,
        *,
        kind: str = "design-review",
        abstract: str = "",
        doc_url: str = "",
        presenter: str | None = None,
        team: str | None = None,
        invite: Sequence[str] = (),
        design_id: int | None = None,
    ) -> DesignReview:
        return design_reviews.schedule_review(
            self.ctx,
            title,
            scheduled_at,
            kind=kind,
            abstract=abstract,
            doc_url=doc_url,
            presenter=presenter,
            team=team,
            invite=invite,
            design_id=design_id,
        )

    def design_reviews(self, *, upcoming: bool = False) -> builtins.list[DesignReview]:
        return design_reviews.list_reviews(self.ctx, upcoming=upcoming)

    def design_review(self, review_id: int) -> DesignReview:
        return design_reviews.get_review(self.ctx, review_id)

    def invite_teams(self, review_id: int, teams: Sequence[str]) -> DesignReview:
        return design_reviews.invite_teams(self.ctx, review_id, teams)

    def attend_review(self, review_id: int, people: Sequence[str] = ()) -> DesignReview:
        return design_reviews.attend(self.ctx, review_id, people)

    def review_feedback(self, review_id: int, body: str) -> DesignReview:
        return design_reviews.add_feedback(self.ctx, review_id, body)

    # -- rotations --------------------------------------------------------------------
    def plan_rotation(
        self,
        person: str,
        host_team: str,
        starts_on: date,
        ends_on: date,
        goals: Sequence[str],
        *,
        project: str = "",
    ) -> Rotation:
        return rotations.plan(
            self.ctx, person, host_team, starts_on, ends_on, goals, project=project
        )

    def rotations(self, *, person: str | None = None) -> builtins.list[Rotation]:
        return rotations.list_rotations(self.ctx, person=person)

    def reflect_on_rotation(self, rotation_id: int, reflection: str) -> Rotation:
        return rotations.reflect(self.ctx, rotation_id, reflection)

    # -- one's own data and the team view ---------------------------------------------
    def export_mine(self) -> dict[str, Any]:
        return programs_data.export_mine(self.ctx)

    def delete_mine(self) -> dict[str, int]:
        return programs_data.delete_mine(self.ctx)

    def team_programmes(self, team: str) -> TeamProgrammes:
        return programs_team.team_programmes(self.ctx, team)
