"""Growing engineers as plain values: feedback, requests, plans, notes, notifications.

Also the pure rules: what makes feedback acceptable, what a "piece of work" reference
looks like, and how feedback balances across the two axes over time.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from mlgrove.domain.growth_policy import Visibility
from mlgrove.errors import InvalidInput

#: Longest text per feedback axis, note or goal (a long letter, not a document dump).
MAX_TEXT = 5000
#: Longest piece-of-work reference (a URL).
MAX_ABOUT = 500


class WorkKind(enum.StrEnum):
    """What a piece of feedback (or a request) is about."""

    PULL_REQUEST = "pull-request"
    DESIGN_REVIEW = "design-review"
    RUN = "run"
    DATASET_VERSION = "dataset-version"
    REVIEW_QUEUE = "review-queue"
    MODEL_VERSION = "model-version"
    LINK = "link"
    NONE = ""


#: Grove references: ``run:12``, ``dataset:tickets@v3``, ``model:triage@v2``,
#: ``review-queue:intents``, ``design-review:7``.
_GROVE_REF = {
    "run": (WorkKind.RUN, re.compile(r"^run:(\d+)$")),
    "dataset": (WorkKind.DATASET_VERSION, re.compile(r"^dataset:([^@\s]+)@v(\d+)$")),
    "model": (WorkKind.MODEL_VERSION, re.compile(r"^model:([^@\s]+)@v(\d+)$")),
    "review-queue": (WorkKind.REVIEW_QUEUE, re.compile(r"^review-queue:(\S+)$")),
    "design-review": (WorkKind.DESIGN_REVIEW, re.compile(r"^design-review:(\d+)$")),
}
_PR_PATH = re.compile(r"/(pull|pulls|merge_requests|pull-requests)/\d+")


def work_kind(about: str) -> WorkKind:
    """Classify a piece-of-work reference; raise naming the forms accepted."""
    about = about.strip()
    if not about:
        return WorkKind.NONE
    if len(about) > MAX_ABOUT:
        raise InvalidInput(f"the piece of work is longer than {MAX_ABOUT} characters")
    if about.startswith(("https://", "http://")):
        if any(c.isspace() for c in about):
            raise InvalidInput("a URL cannot contain spaces")
        return WorkKind.PULL_REQUEST if _PR_PATH.search(about) else WorkKind.LINK
    prefix = about.split(":", 1)[0]
    if prefix in _GROVE_REF:
        kind, pattern = _GROVE_REF[prefix]
        if pattern.match(about):
            return kind
    raise InvalidInput(
        f"cannot tell what {about!r} refers to",
        hint="give a URL (e.g. a PR) or run:ID, dataset:NAME@vN, model:NAME@vN, "
        "review-queue:NAME or design-review:ID",
    )


def clean_text(value: str | None, what: str, *, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(
            f"{what} is {len(text)} characters; the limit is {limit}",
            hint="keep it to the situation, the behaviour and its impact",
        )
    return text


def check_feedback(technical: str | None, collaboration: str | None) -> tuple[str, str]:
    """Both axes cleaned. One axis may be empty (the form shows the gap); both may not."""
    tech = clean_text(technical, "the technical part")
    collab = clean_text(collaboration, "the collaboration part")
    if not tech and not collab:
        raise InvalidInput(
            "feedback needs a technical part, a collaboration part, or both",
            hint="describe a situation, the behaviour you saw and its impact",
        )
    return tech, collab


def compose_sbi(situation: str, behaviour: str, impact: str) -> str:
    """One axis of the web form (situation, behaviour, impact prompts) as one text."""
    parts = [
        (label, text.strip())
        for label, text in (("Situation", situation), ("Behaviour", behaviour), ("Impact", impact))
    ]
    return "\n".join(f"{label}: {text}" for label, text in parts if text)


@dataclass(frozen=True)
class PersonRef:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class Feedback:
    id: int
    giver: PersonRef
    receiver: PersonRef
    technical: str
    collaboration: str
    about: str
    about_kind: WorkKind
    competencies: list[str]
    visibility: Visibility
    created_at: datetime
    request_id: int | None = None

    @property
    def missing_axis(self) -> str | None:
        """The axis left empty, which the pages point out."""
        if not self.technical:
            return "technical"
        if not self.collaboration:
            return "collaboration"
        return None


@dataclass(frozen=True)
class FeedbackRequest:
    id: int
    requester: PersonRef
    peer: PersonRef
    about: str
    about_kind: WorkKind
    message: str
    created_at: datetime
    answered_at: datetime | None = None


@dataclass(frozen=True)
class BalancePoint:
    """Feedback received in one month, counted per axis (an item can count on both)."""

    month: str  # YYYY-MM
    technical: int
    collaboration: int


def balance_of(items: Iterable[tuple[datetime, bool, bool]]) -> list[BalancePoint]:
    """Month by month, how many pieces of feedback had a technical and a collaboration
    part, from (when, has technical, has collaboration) triples."""
    months: dict[str, list[int]] = {}
    for at, technical, collaboration in items:
        counts = months.setdefault(at.strftime("%Y-%m"), [0, 0])
        counts[0] += technical
        counts[1] += collaboration
    return [BalancePoint(m, t, c) for m, (t, c) in sorted(months.items())]


def balance(items: Iterable[Feedback]) -> list[BalancePoint]:
    """Feedback over time and its balance across the two axes, month by month."""
    return balance_of((f.created_at, bool(f.technical), bool(f.collaboration)) for f in items)


class EvidenceKind(enum.StrEnum):
    DATASET_VERSION = "dataset-version"
    RUN = "run"
    MODEL_VERSION = "model-version"
    PIPELINE = "pipeline"
    REVIEWS = "reviews"  # the verdicts one gave in one review queue
    DESIGN_REVIEW = "design-review"  # a design review or presentation one gave
    MENTORING = "mentoring"  # a mentorship pair in which one is the mentor
    FEEDBACK = "feedback"


@dataclass(frozen=True)
class Evidence:
    id: int
    kind: EvidenceKind
    ref_id: int
    label: str
    note: str
    added_at: datetime


@dataclass(frozen=True)
class Goal:
    id: int
    competency: str
    text: str
    done: bool
    created_at: datetime
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class GrowthPlan:
    id: int
    person: PersonRef
    title: str
    status: str  # active | closed
    created_at: datetime
    closed_at: datetime | None
    goals: list[Goal] = field(default_factory=list)


@dataclass(frozen=True)
class WorkItem:
    """A piece of someone's real work in Grove that can be picked as evidence."""

    kind: EvidenceKind
    ref_id: int
    label: str
    at: datetime


@dataclass(frozen=True)
class Note:
    id: int
    author: PersonRef
    counterpart: PersonRef
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class DataRead:
    """One read (or refused read) of a person's growth data by someone else."""

    at: datetime
    reader: str
    what: str
    refused: bool


@dataclass(frozen=True)
class TeamGrowth:
    """The manager view: aggregates only, ``None`` when hidden below the group size."""

    team: str
    members: int
    min_group_size: int
    shown: bool
    technical_coverage: float | None = None  # share of members with technical feedback
    collaboration_coverage: float | None = None
    active_plans: float | None = None  # share of members with an active growth plan
    feedback_given: int | None = None  # pieces of feedback received by the team, in the window
    open_requests: int | None = None
    # The team's work in the window: dataset versions committed, runs, review verdicts.
    dataset_versions: int | None = None
    runs: int | None = None
    review_verdicts: int | None = None
    window_days: int = 90
