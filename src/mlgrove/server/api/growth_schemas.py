"""Request and response bodies of the growth API (feedback, plans, notes, notifications).

Response bodies are read straight from the domain values (``from_attributes``); the
services decide what the caller may see before anything gets here.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mlgrove.domain.growth import EvidenceKind, WorkKind
from mlgrove.domain.growth_policy import Visibility
from mlgrove.domain.ladder import Axis

#: Generous transport limits; the services give the precise, readable ones.
BIG = 100_000


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PersonRefOut(_Out):
    id: int
    username: str
    display_name: str


class FeedbackIn(BaseModel):
    to: str = Field(description="The receiver's e-mail address or username.", max_length=320)
    technical: str = Field("", max_length=BIG)
    collaboration: str = Field("", max_length=BIG)
    about: str = Field("", max_length=BIG, description="A URL (e.g. a PR) or run:ID, ...")
    competencies: list[str] = Field(default_factory=list, max_length=50)
    visibility: str = Field(Visibility.RECEIVER.value, description="receiver | receiver+manager")
    request_id: int | None = None


class FeedbackOut(_Out):
    id: int
    giver: PersonRefOut
    receiver: PersonRefOut
    technical: str
    collaboration: str
    about: str
    about_kind: WorkKind
    competencies: list[str]
    visibility: Visibility
    created_at: datetime
    request_id: int | None
    missing_axis: str | None


class BalanceOut(_Out):
    month: str
    technical: int
    collaboration: int


class RequestIn(BaseModel):
    peers: list[str] = Field(max_length=100)
    about: str = Field(max_length=BIG)
    message: str = Field("", max_length=BIG)


class RequestOut(_Out):
    id: int
    requester: PersonRefOut
    peer: PersonRefOut
    about: str
    about_kind: WorkKind
    message: str
    created_at: datetime
    answered_at: datetime | None


class RequestsOut(BaseModel):
    to_me: list[RequestOut]
    mine: list[RequestOut]


class GoalIn(BaseModel):
    competency: str = Field(max_length=40)
    text: str = Field(max_length=BIG)


class PlanIn(BaseModel):
    title: str = Field(max_length=BIG)
    goals: list[GoalIn] = Field(default_factory=list, max_length=100)


class EvidenceIn(BaseModel):
    kind: EvidenceKind
    ref_id: int
    note: str = Field("", max_length=BIG)


class DoneIn(BaseModel):
    done: bool = True


class EvidenceOut(_Out):
    id: int
    kind: EvidenceKind
    ref_id: int
    label: str
    note: str
    added_at: datetime


class GoalOut(_Out):
    id: int
    competency: str
    text: str
    done: bool
    created_at: datetime
    evidence: list[EvidenceOut]


class PlanOut(_Out):
    id: int
    person: PersonRefOut
    title: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    goals: list[GoalOut]


class WorkItemOut(_Out):
    kind: EvidenceKind
    ref_id: int
    label: str
    at: datetime


class NoteIn(BaseModel):
    with_person: str = Field(alias="with", max_length=320)
    body: str = Field(max_length=BIG)


class NoteOut(_Out):
    id: int
    author: PersonRefOut
    counterpart: PersonRefOut
    body: str
    created_at: datetime


class NotificationOut(_Out):
    id: int
    kind: str
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


class ReadOut(_Out):
    at: datetime
    reader: str
    what: str
    refused: bool


class TeamGrowthOut(_Out):
    team: str
    members: int
    min_group_size: int
    shown: bool
    technical_coverage: float | None
    collaboration_coverage: float | None
    active_plans: float | None
    feedback_given: int | None
    open_requests: int | None
    dataset_versions: int | None
    runs: int | None
    review_verdicts: int | None
    window_days: int


class CompetencyOut(_Out):
    id: str
    name: str
    axis: Axis
    description: str
    expectations: dict[str, str]


class LevelOut(_Out):
    id: str
    title: str
    summary: str


class LadderOut(_Out):
    name: str
    levels: list[LevelOut]
    competencies: list[CompetencyOut]
