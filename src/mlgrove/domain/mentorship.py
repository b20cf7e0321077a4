"""Mentorship: offers, mentees' goals, the matcher, pairs and their sessions.

The matcher proposes pairs for the whole pool at once, as an assignment problem: each
mentor is expanded into as many slots as they have free capacity, each (slot, mentee)
pair is scored on how many of the mentee's goals (their skill gaps) the mentor's
strengths cover, and SciPy's ``linear_sum_assignment`` picks the best total. Later slots
of one mentor score slightly less, so equal choices spread mentees across mentors.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mlgrove.errors import InvalidInput

CAPACITY_MAX = 10
#: What a mentor learns before (or while) mentoring; ticked off by the mentor.
TRAINING_CHECKLIST: tuple[str, ...] = (
    "Read the mentoring guide: listen first, ask before advising",
    "Agree goals and a meeting rhythm with the mentee in the first session",
    "Give feedback on situation, behaviour and impact, on both axes",
    "Know when to point to someone else (another mentor, the manager, HR)",
    "Keep what the mentee shares private unless they choose to share it",
    "Review the pair's goals every few sessions and end the pairing when they are met",
)


class PairStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True)
class MentorOffer:
    person: str
    display_name: str
    strengths: tuple[str, ...]
    capacity: int
    active_mentees: int
    training_done: tuple[str, ...] = ()

    @property
    def free(self) -> int:
        return max(self.capacity - self.active_mentees, 0)


@dataclass(frozen=True)
class MenteeGoals:
    person: str
    display_name: str
    goals: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Proposal:
    mentor: str
    mentee: str
    score: float
    covers: tuple[str, ...]  # the mentee's goals this mentor's strengths cover


@dataclass(frozen=True)
class MentorSession:
    id: int
    pair_id: int
    at: datetime
    minutes: int
    notes: str
    logged_by: str


@dataclass(frozen=True)
class Mentorship:
    id: int
    mentor: str
    mentee: str
    status: PairStatus
    goals: tuple[str, ...]
    approved_by: str
    started_at: datetime
    ended_at: datetime | None = None
    sessions: tuple[MentorSession, ...] = ()


def tags(values: Sequence[str], what: str, *, limit: int = 20) -> tuple[str, ...]:
    """Competency tags: lower case, stripped, de-duplicated, in the given order."""
    seen: list[str] = []
    for v in values:
        for part in v.split(","):
            t = part.strip().lower()
            if t and t not in seen:
                if len(t) > 60:
                    raise InvalidInput(
                        f"{what} {t[:20]!r}... is too long", hint="60 characters at most"
                    )
                seen.append(t)
    if not seen:
        raise InvalidInput(f"no {what} given", hint="name at least one, e.g. modelling")
    if len(seen) > limit:
        raise InvalidInput(f"{len(seen)} {what}, more than {limit}", hint="pick the main ones")
    return tuple(seen)


def check_capacity(capacity: int) -> int:
    if not 0 <= capacity <= CAPACITY_MAX:
        raise InvalidInput(
            f"capacity {capacity} is out of range",
            hint=f"a mentor takes 0 to {CAPACITY_MAX} mentees (0 pauses the offer)",
        )
    return capacity


def score(strengths: Sequence[str], goals: Sequence[str]) -> tuple[float, tuple[str, ...]]:
    covers = tuple(g for g in goals if g in set(strengths))
    return float(len(covers)), covers


def match(
    offers: Sequence[MentorOffer],
    mentees: Sequence[MenteeGoals],
    *,
    existing: frozenset[tuple[str, str]] = frozenset(),
) -> list[Proposal]:
    """The best set of pairs for the whole pool, within every mentor's free capacity.

    A mentee is matched to at most one mentor; nobody mentors themselves or someone they
    already mentor (``existing`` holds (mentor, mentee) pairs); a pair that covers none of
    the mentee's goals is never proposed."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    slots = [(i, k) for i, o in enumerate(offers) for k in range(o.free)]
    if not slots or not mentees:
        return []
    # Score each (mentor, mentee) once, then give every slot of a mentor its row.
    base = np.zeros((len(offers), len(mentees)))
    for i, o in enumerate(offers):
        strengths = set(o.strengths)
        for j, m in enumerate(mentees):
            if o.person != m.person and (o.person, m.person) not in existing:
                base[i, j] = sum(1 for g in m.goals if g in strengths)
    # Later slots score a little less, so equal choices spread mentees across mentors;
    # all penalties together stay below 0.5, under one covered goal, so they never
    # trade away coverage.
    penalty = 0.5 / (len(slots) * CAPACITY_MAX + 1)
    owner = np.array([i for i, _ in slots])
    rank = np.array([k for _, k in slots], dtype=float)
    gain = base[owner]
    gain = np.where(gain > 0, gain - penalty * rank[:, None], 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    proposals = []
    for i, j in zip(rows, cols, strict=True):
        if gain[i, j] <= 0:
            continue
        o, m = offers[slots[i][0]], mentees[j]
        s, covers = score(o.strengths, m.goals)
        proposals.append(Proposal(o.person, m.person, s, covers))
    proposals.sort(key=lambda p: (p.mentor, p.mentee))
    return proposals
