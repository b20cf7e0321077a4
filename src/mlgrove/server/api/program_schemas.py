"""Request bodies of the growth programmes API. Responses are the domain values
themselves (``mlgrove.domain.help_requests``, ``learning``, ``mentorship``, ``designs``,
``rotations``), serialised by FastAPI as JSON with ISO times."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

#: Generous limits; the services check the exact ones and say what to fix.
TEXT = 20_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HelpAskIn(_In):
    topic: str = Field(max_length=TEXT)
    context: str = Field("", max_length=TEXT)
    competency: str = Field("", max_length=200)
    dataset: str = Field("", max_length=300, description="project/dataset the request is about")
    stuck_since: datetime | str | None = Field(
        None, description='A time, or a duration before now: "2h", "1d", "1h30m".'
    )
    share_with_mentor: bool = False
    ask_now: bool = Field(True, description="False only marks you stuck (private) for now.")


class HelpResponseIn(_In):
    body: str = Field(max_length=TEXT)


class HelpResolveIn(_In):
    thank: list[int] = Field(default_factory=list, description="Ids of answers to thank.")


class HelpSharingIn(_In):
    share_with_mentor: bool


class NudgeIn(_In):
    after: str | None = Field(None, description='"2h", "1d"; null turns the nudge off.')


class NudgeOut(BaseModel):
    after_minutes: int | None


class BudgetIn(_In):
    kind: str = Field(description="share | sprint-day")
    share: float | None = None
    sprint_weeks: int | None = None


class EventIn(_In):
    kind: str = Field(description="hackathon | learning-day | lunch-and-learn | course")
    title: str = Field(max_length=TEXT)
    starts_at: datetime
    ends_at: datetime | None = None
    team: str | None = None
    topic: str = Field("", max_length=TEXT)
    presenter: str = Field("", max_length=TEXT)
    location: str = Field("", max_length=TEXT)
    description: str = Field("", max_length=TEXT)


class CalendarLinkOut(BaseModel):
    url: str


class EntryIn(_In):
    hours: float
    topic: str = Field(max_length=TEXT)
    competency: str = Field("", max_length=200)
    day: date | None = None
    event_id: int | None = None


class OfferIn(_In):
    strengths: list[str] = Field(max_length=50)
    capacity: int


class TrainingIn(_In):
    items: list[int] = Field(description="Checklist item numbers, from 1.")
    done: bool = True


class GoalsIn(_In):
    goals: list[str] = Field(max_length=50)
    note: str = Field("", max_length=TEXT)


class PairIn(_In):
    mentor: str
    mentee: str


class ApproveIn(_In):
    pairs: list[PairIn] = Field(max_length=500)


class SessionIn(_In):
    minutes: int
    notes: str = Field("", max_length=TEXT)
    at: datetime | None = None


class PairGoalsIn(_In):
    goals: list[str] = Field(max_length=50)


class DesignIn(_In):
    title: str = Field(max_length=TEXT)
    summary: str = Field(max_length=TEXT)
    team: str | None = None
    doc_url: str = Field("", max_length=4000)
    datasets: list[str] = Field(default_factory=list, max_length=100)


class SimilarIn(_In):
    text: str = Field(max_length=TEXT)
    datasets: list[str] = Field(default_factory=list, max_length=100)


class ReviewIn(_In):
    title: str = Field(max_length=TEXT)
    scheduled_at: datetime
    kind: str = "design-review"
    abstract: str = Field("", max_length=TEXT)
    doc_url: str = Field("", max_length=4000)
    presenter: str | None = None
    team: str | None = None
    invite: list[str] = Field(default_factory=list, max_length=50)
    design_id: int | None = None


class TeamsIn(_In):
    teams: list[str] = Field(max_length=50)


class AttendIn(_In):
    people: list[str] = Field(default_factory=list, max_length=500)


class FeedbackIn(_In):
    body: str = Field(max_length=TEXT)


class RotationIn(_In):
    person: str
    host_team: str
    starts_on: date
    ends_on: date
    goals: list[str] = Field(max_length=20)
    project: str = Field("", max_length=TEXT)


class ReflectionIn(_In):
    reflection: str = Field(max_length=TEXT)
