"""``grove.programs`` over the REST API (see ``mlgrove.client.programs``)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from mlgrove.client.programs import Programs, decode
from mlgrove.client.wire import params, q
from mlgrove.domain.designs import Design, DesignMatches, DesignReview, SimilarDesign
from mlgrove.domain.help_requests import HelperSuggestion, HelpRequest, HelpStats
from mlgrove.domain.learning import BudgetReport, LearningBudget, LearningEntry, LearningEvent
from mlgrove.domain.mentorship import MenteeGoals, MentorOffer, Mentorship, Proposal
from mlgrove.domain.programs_team import TeamProgrammes
from mlgrove.domain.rotations import Rotation

if TYPE_CHECKING:
    from mlgrove.client.http import RemoteClient

T = TypeVar("T")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class RemotePrograms(Programs):
    def __init__(self, client: RemoteClient) -> None:
        self._client = client

    def _one(self, cls: type[T], method: str, path: str, **kwargs: Any) -> T:
        return decode(cls, self._client._call(method, path, **kwargs))

    def _many(self, cls: type[T], method: str, path: str, **kwargs: Any) -> builtins.list[T]:
        return [decode(cls, x) for x in self._client._call(method, path, **kwargs)]

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
        since = stuck_since.isoformat() if isinstance(stuck_since, datetime) else stuck_since
        body = {
            "topic": topic,
            "context": context,
            "competency": competency,
            "dataset": dataset,
            "stuck_since": since,
            "share_with_mentor": share_with_mentor,
            "ask_now": ask_now,
        }
        return self._one(HelpRequest, "POST", "/help-requests", json=body)

    def help_requests(
        self,
        *,
        status: str | None = None,
        mine: bool = False,
        team: str | None = None,
        limit: int = 100,
    ) -> builtins.list[HelpRequest]:
        query = params(status=status, mine=mine or None, team=team, limit=limit)
        return self._many(HelpRequest, "GET", "/help-requests", params=query)

    def help_request(self, request_id: int) -> HelpRequest:
        return self._one(HelpRequest, "GET", f"/help-requests/{request_id}")

    def ask_marked(self, request_id: int) -> HelpRequest:
        return self._one(HelpRequest, "POST", f"/help-requests/{request_id}/ask")

    def respond(self, request_id: int, body: str) -> HelpRequest:
        return self._one(
            HelpRequest, "POST", f"/help-requests/{request_id}/responses", json={"body": body}
        )

    def resolve(self, request_id: int, *, thank: Sequence[int] = ()) -> HelpRequest:
        return self._one(
            HelpRequest, "POST", f"/help-requests/{request_id}/resolve", json={"thank": list(thank)}
        )

    def thank(self, request_id: int, response_id: int) -> HelpRequest:
        path = f"/help-requests/{request_id}/responses/{response_id}/thanks"
        return self._one(HelpRequest, "POST", path)

    def share_stuck_with_mentor(self, request_id: int, share: bool = True) -> HelpRequest:
        body = {"share_with_mentor": share}
        return self._one(HelpRequest, "PUT", f"/help-requests/{request_id}/sharing", json=body)

    def suggest_helpers(self, request_id: int) -> builtins.list[HelperSuggestion]:
        return self._many(HelperSuggestion, "GET", f"/help-requests/{request_id}/helpers")

    def set_help_nudge(self, after: str | None) -> int | None:
        answer = self._client._call("PUT", "/help/nudge", json={"after": after})
        value = answer["after_minutes"]
        return int(value) if value is not None else None

    def help_nudges(self) -> builtins.list[HelpRequest]:
        return self._many(HelpRequest, "GET", "/help/nudges")

    def help_stats(self, team: str) -> HelpStats:
        return self._one(HelpStats, "GET", f"/teams/{q(team)}/help-stats")

    # -- learning time ----------------------------------------------------------------
    def set_learning_budget(
        self, team: str, kind: str, *, share: float | None = None, sprint_weeks: int | None = None
    ) -> LearningBudget:
        body = {"kind": kind, "share": share, "sprint_weeks": sprint_weeks}
        return self._one(LearningBudget, "PUT", f"/teams/{q(team)}/learning-budget", json=body)

    def learning_budget(self, team: str) -> LearningBudget | None:
        answer = self._client._call("GET", f"/teams/{q(team)}/learning-budget")
        return decode(LearningBudget, answer) if answer else None

    def learning_report(self, team: str, *, weeks: int = 12) -> BudgetReport:
        path = f"/teams/{q(team)}/learning-report"
        return self._one(BudgetReport, "GET", path, params={"weeks": weeks})

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
        body = {
            "kind": kind,
            "title": title,
            "starts_at": starts_at.isoformat(),
            "ends_at": _iso(ends_at),
            "team": team,
            "topic": topic,
            "presenter": presenter,
            "location": location,
            "description": description,
        }
        return self._one(LearningEvent, "POST", "/learning/events", json=body)

    def learning_events(
        self, *, team: str | None = None, upcoming: bool = True
    ) -> builtins.list[LearningEvent]:
        query = params(team=team, upcoming=upcoming)
        return self._many(LearningEvent, "GET", "/learning/events", params=query)

    def learning_calendar(self, *, team: str | None = None) -> str:
        with self._client._stream("GET", "/learning/events.ics", params=params(team=team)) as r:
            r.read()
            return r.text

    def learning_calendar_link(self) -> str:
        return str(self._client._call("GET", "/learning/calendar-link")["url"])

    def log_learning(
        self,
        hours: float,
        topic: str,
        *,
        competency: str = "",
        day: date | None = None,
        event_id: int | None = None,
    ) -> LearningEntry:
        body = {
            "hours": hours,
            "topic": topic,
            "competency": competency,
            "day": _iso(day),
            "event_id": event_id,
        }
        return self._one(LearningEntry, "POST", "/learning/entries", json=body)

    def my_learning(self) -> builtins.list[LearningEntry]:
        return self._many(LearningEntry, "GET", "/learning/entries")

    # -- mentorship -------------------------------------------------------------------
    def offer_mentoring(self, strengths: Sequence[str], capacity: int) -> MentorOffer:
        body = {"strengths": list(strengths), "capacity": capacity}
        return self._one(MentorOffer, "PUT", "/mentors/me", json=body)

    def tick_mentor_training(self, items: Sequence[int], *, done: bool = True) -> MentorOffer:
        body = {"items": list(items), "done": done}
        return self._one(MentorOffer, "PUT", "/mentors/me/training", json=body)

    def mentors(self) -> builtins.list[MentorOffer]:
        return self._many(MentorOffer, "GET", "/mentors")

    def set_mentee_goals(self, goals: Sequence[str], note: str = "") -> MenteeGoals:
        return self._one(
            MenteeGoals, "PUT", "/mentees/me", json={"goals": list(goals), "note": note}
        )

    def mentees(self) -> builtins.list[MenteeGoals]:
        return self._many(MenteeGoals, "GET", "/mentees")

    def propose_mentor_pairs(self) -> builtins.list[Proposal]:
        return self._many(Proposal, "GET", "/mentorships/proposal")

    def approve_mentor_pairs(self, pairs: Sequence[tuple[str, str]]) -> builtins.list[Mentorship]:
        body = {"pairs": [{"mentor": m, "mentee": e} for m, e in pairs]}
        return self._many(Mentorship, "POST", "/mentorships", json=body)

    def mentorships(self, *, everyone: bool = False) -> builtins.list[Mentorship]:
        return self._many(
            Mentorship, "GET", "/mentorships", params=params(everyone=everyone or None)
        )

    def log_mentor_session(
        self, pair_id: int, minutes: int, notes: str = "", *, at: datetime | None = None
    ) -> Mentorship:
        body = {"minutes": minutes, "notes": notes, "at": _iso(at)}
        return self._one(Mentorship, "POST", f"/mentorships/{pair_id}/sessions", json=body)

    def set_mentorship_goals(self, pair_id: int, goals: Sequence[str]) -> Mentorship:
        body = {"goals": list(goals)}
        return self._one(Mentorship, "PUT", f"/mentorships/{pair_id}/goals", json=body)

    def end_mentorship(self, pair_id: int) -> Mentorship:
        return self._one(Mentorship, "POST", f"/mentorships/{pair_id}/end")

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
        body = {
            "title": title,
            "summary": summary,
            "team": team,
            "doc_url": doc_url,
            "datasets": list(datasets),
        }
        return self._one(DesignMatches, "POST", "/designs", json=body)

    def designs(self, *, team: str | None = None) -> builtins.list[Design]:
        return self._many(Design, "GET", "/designs", params=params(team=team))

    def design(self, design_id: int) -> DesignMatches:
        return self._one(DesignMatches, "GET", f"/designs/{design_id}")

    def similar_designs(
        self, text: str, *, datasets: Sequence[str] = ()
    ) -> builtins.list[SimilarDesign]:
        body = {"text": text, "datasets": list(datasets)}
        return self._many(SimilarDesign, "POST", "/designs/similar", json=body)

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
        body = {
            "title": title,
            "scheduled_at": scheduled_at.isoformat(),
            "kind": kind,
            "abstract": abstract,
            "doc_url": doc_url,
            "presenter": presenter,
            "team": team,
            "invite": list(invite),
            "design_id": design_id,
        }
        return self._one(DesignReview, "POST", "/design-reviews", json=body)

    def design_reviews(self, *, upcoming: bool = False) -> builtins.list[DesignReview]:
        return self._many(DesignReview, "GET", "/design-reviews", params=params(upcoming=upcoming))

    def design_review(self, review_id: int) -> DesignReview:
        return self._one(DesignReview, "GET", f"/design-reviews/{review_id}")

    def invite_teams(self, review_id: int, teams: Sequence[str]) -> DesignReview:
        path = f"/design-reviews/{review_id}/invitations"
        return self._one(DesignReview, "POST", path, json={"teams": list(teams)})

    def attend_review(self, review_id: int, people: Sequence[str] = ()) -> DesignReview:
        path = f"/design-reviews/{review_id}/attendees"
        return self._one(DesignReview, "POST", path, json={"people": list(people)})

    def review_feedback(self, review_id: int, body: str) -> DesignReview:
        path = f"/design-reviews/{review_id}/feedback"
        return self._one(DesignReview, "POST", path, json={"body": body})

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
        body = {
            "person": person,
            "host_team": host_team,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "goals": list(goals),
            "project": project,
        }
        return self._one(Rotation, "POST", "/rotations", json=body)

    def rotations(self, *, person: str | None = None) -> builtins.list[Rotation]:
        return self._many(Rotation, "GET", "/rotations", params=params(person=person))

    def reflect_on_rotation(self, rotation_id: int, reflection: str) -> Rotation:
        path = f"/rotations/{rotation_id}/reflection"
        return self._one(Rotation, "PUT", path, json={"reflection": reflection})

    # -- one's own data and the team view ---------------------------------------------
    def export_mine(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._client._call("GET", "/programs/mine")
        return answer

    def delete_mine(self) -> dict[str, int]:
        answer: dict[str, int] = self._client._call("DELETE", "/programs/mine")
        return answer

    def team_programmes(self, team: str) -> TeamProgrammes:
        return self._one(TeamProgrammes, "GET", f"/teams/{q(team)}/programmes")
