"""Design reviews, cross-team presentations and the registry of projects and designs."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from mlgrove.errors import InvalidInput


class ReviewKind(enum.StrEnum):
    DESIGN_REVIEW = "design-review"
    PRESENTATION = "presentation"


@dataclass(frozen=True)
class Design:
    """An entry of the registry: a project or design any team can find."""

    id: int
    title: str
    summary: str
    team: str
    doc_url: str
    datasets: tuple[str, ...]  # "project/dataset"
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class SimilarDesign:
    design: Design
    score: float  # cosine similarity of the texts, 0..1
    shared_datasets: tuple[str, ...]


@dataclass(frozen=True)
class DesignFeedback:
    id: int
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class DesignReview:
    id: int
    kind: ReviewKind
    title: str
    abstract: str
    doc_url: str
    presenter: str
    team: str
    scheduled_at: datetime
    design_id: int | None
    invited_teams: tuple[str, ...]
    attendees: tuple[str, ...]
    feedback: tuple[DesignFeedback, ...]
    created_by: str


def check_url(url: str) -> str:
    cleaned = url.strip()
    if cleaned and not cleaned.startswith(("https://", "http://")):
        raise InvalidInput(
            f"{cleaned[:60]!r} is not a web link", hint="give an https:// address or nothing"
        )
    if len(cleaned) > 2000:
        raise InvalidInput("the link is longer than 2,000 characters", hint="shorten it")
    return cleaned


@dataclass(frozen=True)
class DesignMatches:
    """A design with the existing ones it resembles (shown when it is added)."""

    design: Design
    similar: tuple[SimilarDesign, ...]
