"""``grove.programs``: help requests, learning time, mentorship, design reviews, rotations.

The embedded client calls the services in process; the remote client calls the REST API
(``/api/v1/help-requests``, ``/learning/...``, ``/mentors``, ``/designs``, ...). Both
return the same domain values and raise the same errors.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import types
import typing
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from mlgrove.domain.designs import Design, DesignMatches, DesignReview, SimilarDesign
from mlgrove.domain.help_requests import HelperSuggestion, HelpRequest, HelpStats
from mlgrove.domain.learning import BudgetReport, LearningBudget, LearningEntry, LearningEvent
from mlgrove.domain.mentorship import MenteeGoals, MentorOffer, Mentorship, Proposal
from mlgrove.domain.programs_team import TeamProgrammes
from mlgrove.domain.rotations import Rotation

T = TypeVar("T")


def decode(cls: type[T], data: Any) -> T:
    """A domain dataclass from its JSON form (as FastAPI writes it)."""
    return typing.cast(T, _value(cls, data))


def _value(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _value(options[0], data)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_value(item, x) for x in data)
    if origin is list:
        return [_value(typing.get_args(tp)[0], x) for x in data]
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        return tp(
            **{
                f.name: _value(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.name in data
            }
        )
    if tp is datetime:
        return datetime.fromisoformat(data)
    if tp is date:
        return date.fromisoformat(data)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is float:
        return float(data)
    return data


class Programs(abc.ABC):
    """Growth programmes. Every method acts as the client's person."""

    # -- help requests ----------------------------------------------------------------
    @abc.abstractmethod
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
        """Ask for help; ``stuck_since`` is a time or a duration ("2h"). With
        ``ask_now=False`` only mark yourself stuck (private) for now."""

    @abc.abstractmethod
    def help_requests(
        self,
        *,
        status: str | None = None,
        mine: bool = False,
        team: str | None = None,
        limit: int = 100,
    ) -> list[HelpRequest]: ...

    @abc.abstractmethod
    def help_request(self, request_id: int) -> HelpRequest: ...

    @abc.abstractmethod
    def ask_marked(self, request_id: int) -> HelpRequest: ...

    @abc.abstractmethod
    def respond(self, request_id: int, body: str) -> HelpRequest: ...

    @abc.abstractmethod
    def resolve(self, request_id: int, *, thank: Sequence[int] = ()) -> HelpRequest: ...

    @abc.abstractmethod
    def thank(self, request_id: int, response_id: int) -> HelpRequest: ...

    @abc.abstractmethod
    def share_stuck_with_mentor(self, request_id: int, share: bool = True) -> HelpRequest: ...

    @abc.abstractmethod
    def suggest_helpers(self, request_id: int) -> list[HelperSuggestion]: ...

    @abc.abstractmethod
    def set_help_nudge(self, after: str | None) -> int | None:
        """Opt in to a nudge once a stuck mark is older than ``after``; None opts out."""

    @abc.abstractmethod
    def help_nudges(self) -> list[HelpRequest]: ...

    @abc.abstractmethod
    def help_stats(self, team: str) -> HelpStats: ...

    # -- learning time ----------------------------------------------------------------
    @abc.abstractmethod
    def set_learning_budget(
        self, team: str, kind: str, *, share: float | None = None, sprint_weeks: int | None = None
    ) -> LearningBudget: ...

    @abc.abstractmethod
    def learning_budget(self, team: str) -> LearningBudget | None: ...

    @abc.abstractmethod
    def learning_report(self, team: str, *, weeks: int = 12) -> BudgetReport: ...

    @abc.abstractmethod
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
    ) -> LearningEvent: ...

    @abc.abstractmethod
    def learning_events(
        self, *, team: str | None = None, upcoming: bool = True
    ) -> list[LearningEvent]: ...

    @abc.abstractmethod
    def learning_calendar(self, *, team: str | None = None) -> str:
        """The events as an iCalendar (RFC 5545) text."""

    @abc.abstractmethod
    def learning_calendar_link(self) -> str:
        """Your secret calendar address for calendar apps (no token needed to read it)."""

    @abc.abstractmethod
    def log_learning(
        self,
        hours: float,
        topic: str,
        *,
        competency: str = "",
        day: date | None = None,
        event_id: int | None = None,
    ) -> LearningEntry: ...

    @abc.abstractmethod
    def my_learning(self) -> list[LearningEntry]: ...

    # -- mentorship -------------------------------------------------------------------
    @abc.abstractmethod
    def offer_mentoring(self, strengths: Sequence[str], capacity: int) -> MentorOffer: ...

    @abc.abstractmethod
    def tick_mentor_training(self, items: Sequence[int], *, done: bool = True) -> MentorOffer: ...

    @abc.abstractmethod
    def mentors(self) -> list[MentorOffer]: ...

    @abc.abstractmethod
    def set_mentee_goals(self, goals: Sequence[str], note: str = "") -> MenteeGoals: ...

    @abc.abstractmethod
    def mentees(self) -> list[MenteeGoals]: ...

    @abc.abstractmethod
    def propose_mentor_pairs(self) -> list[Proposal]: ...

    @abc.abstractmethod
    def approve_mentor_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[Mentorship]: ...

    @abc.abstractmethod
    def mentorships(self, *, everyone: bool = False) -> list[Mentorship]: ...

    @abc.abstractmethod
    def log_mentor_session(
        self, pair_id: int, minutes: int, notes: str = "", *, at: datetime | None = None
    ) -> Mentorship: ...

    @abc.abstractmethod
    def set_mentorship_goals(self, pair_id: int, goals: Sequence[str]) -> Mentorship: ...

    @abc.abstractmethod
    def end_mentorship(self, pair_id: int) -> Mentorship: ...

    # -- designs ----------------------------------------------------------------------
    @abc.abstractmethod
    def add_design(
        self,
        title: str,
        summary: str,
        *,
        team: str | None = None,
        doc_url: str = "",
        datasets: Sequence[str] = (),
    ) -> DesignMatches: ...

    @abc.abstractmethod
    def designs(self, *, team: str | None = None) -> list[Design]: ...

    @abc.abstractmethod
    def design(self, design_id: int) -> DesignMatches: ...

    @abc.abstractmethod
    def similar_designs(
        self, text: str, *, datasets: Sequence[str] = ()
    ) -> list[SimilarDesign]: ...

    @abc.abstractmethod
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
    ) -> DesignReview: ...

    @abc.abstractmethod
    def design_reviews(self, *, upcoming: bool = False) -> list[DesignReview]: ...

    @abc.abstractmethod
    def design_review(self, review_id: int) -> DesignReview: ...

    @abc.abstractmethod
    def invite_teams(self, review_id: int, teams: Sequence[str]) -> DesignReview: ...

    @abc.abstractmethod
    def attend_review(self, review_id: int, people: Sequence[str] = ()) -> DesignReview: ...

    @abc.abstractmethod
    def review_feedback(self, review_id: int, body: str) -> DesignReview: ...

    # -- rotations --------------------------------------------------------------------
    @abc.abstractmethod
    def plan_rotation(
        self,
        person: str,
        host_team: str,
        starts_on: date,
        ends_on: date,
        goals: Sequence[str],
        *,
        project: str = "",
    ) -> Rotation: ...

    @abc.abstractmethod
    def rotations(self, *, person: str | None = None) -> list[Rotation]: ...

    @abc.abstractmethod
    def reflect_on_rotation(self, rotation_id: int, reflection: str) -> Rotation: ...

    # -- one's own data and the team view ---------------------------------------------
    @abc.abstractmethod
    def export_mine(self) -> dict[str, Any]:
        """Everything of yours in the programmes, as one JSON-ready document."""

    @abc.abstractmethod
    def delete_mine(self) -> dict[str, int]:
        """Delete your own programme data; returns counts by kind."""

    @abc.abstractmethod
    def team_programmes(self, team: str) -> TeamProgrammes:
        """A team's aggregates for its managers (hidden below the minimum group)."""
