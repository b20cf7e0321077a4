"""Who may read which person-level growth data: the one privacy policy, as pure functions.

Every service that stores or shows growth data about a person (feedback, 1:1 notes,
time stuck, coaching figures, growth plans) asks :func:`may_read` before returning an
item and :func:`may_see_aggregate` before showing a team figure. Nothing else decides.

The rules, by data kind (the subject is the person the data is about):

========================  ==================================================================
kind                      who may read it
========================  ==================================================================
feedback                  the receiver and the giver; the receiver's manager only when the
                          giver chose ``receiver+manager``
1:1 note                  the two people of the 1:1 (author and counterpart), nobody else
time stuck                the person; their mentor only while the person opts in
coaching figures          the person and their manager
growth plan               the person and their manager
========================  ==================================================================

Being an administrator, a teammate or in another team grants nothing: privacy by default
means the role that runs the server does not read people's notes. Team figures are
aggregates only, shown when the group has at least ``min_group_size`` people.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class DataKind(enum.StrEnum):
    FEEDBACK = "feedback"
    ONE_ON_ONE_NOTE = "1:1 note"
    TIME_STUCK = "time stuck"
    COACHING_FIGURES = "coaching figures"
    GROWTH_PLAN = "growth plan"


class Relation(enum.StrEnum):
    """How a viewer stands to the subject. A viewer can hold several at once."""

    SELF = "self"
    MANAGER = "manager"
    MENTOR = "mentor"
    ADMIN = "admin"
    SAME_TEAM = "same team"
    OTHER_TEAM = "other team"


class Visibility(enum.StrEnum):
    """Who may read a piece of feedback, chosen by its giver."""

    RECEIVER = "receiver"
    RECEIVER_AND_MANAGER = "receiver+manager"


def parse_visibility(value: str) -> Visibility | None:
    try:
        return Visibility(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Viewer:
    """The person asking to read."""

    id: int
    team_id: int | None = None
    is_admin: bool = False


@dataclass(frozen=True)
class Subject:
    """The person the data is about, with the links the policy needs.

    ``mentor_ids`` come from the mentorship programme (active pairs);
    ``shares_stuck_with_mentor`` is the person's own opt-in.
    """

    id: int
    team_id: int | None = None
    manager_id: int | None = None
    mentor_ids: frozenset[int] = field(default_factory=frozenset)
    shares_stuck_with_mentor: bool = False


@dataclass(frozen=True)
class Item:
    """One piece of growth data about ``Subject``.

    ``author_id`` is who wrote it (the giver of feedback, the writer of a note);
    ``counterpart_id`` is the other person of a 1:1; ``visibility`` applies to feedback.
    """

    kind: DataKind
    author_id: int | None = None
    counterpart_id: int | None = None
    visibility: Visibility = Visibility.RECEIVER


def relations(viewer: Viewer, subject: Subject) -> frozenset[Relation]:
    """Every relation ``viewer`` holds to ``subject``."""
    found: set[Relation] = set()
    if viewer.id == subject.id:
        found.add(Relation.SELF)
    if subject.manager_id is not None and viewer.id == subject.manager_id:
        found.add(Relation.MANAGER)
    if viewer.id in subject.mentor_ids:
        found.add(Relation.MENTOR)
    if viewer.is_admin:
        found.add(Relation.ADMIN)
    if viewer.team_id is not None and viewer.team_id == subject.team_id:
        found.add(Relation.SAME_TEAM)
    elif viewer.id != subject.id:
        found.add(Relation.OTHER_TEAM)
    return frozenset(found)


def may_read(viewer: Viewer, subject: Subject, item: Item) -> bool:
    """Whether ``viewer`` may read ``item`` about ``subject``. Default: no."""
    rel = relations(viewer, subject)
    if item.kind is DataKind.ONE_ON_ONE_NOTE:
        # Only the two people in the room: not even the subject's manager or an admin.
        return viewer.id in {item.author_id, item.counterpart_id}
    if Relation.SELF in rel:
        return True
    if item.kind is DataKind.FEEDBACK:
        if item.author_id is not None and viewer.id == item.author_id:
            return True
        return Relation.MANAGER in rel and item.visibility is Visibility.RECEIVER_AND_MANAGER
    if item.kind is DataKind.TIME_STUCK:
        return Relation.MENTOR in rel and subject.shares_stuck_with_mentor
    # Coaching figures and growth plans.
    return Relation.MANAGER in rel


def is_someone_elses(viewer: Viewer, subject: Subject) -> bool:
    """Reads of someone else's data are audit-logged; one's own are not."""
    return viewer.id != subject.id


def may_see_aggregate(group_size: int, min_group_size: int) -> bool:
    """Team figures are shown only for groups large enough not to single anyone out."""
    return group_size >= max(min_group_size, 1)


def may_view_team(viewer: Viewer, *, team_id: int, managed_team_ids: frozenset[int]) -> bool:
    """The manager view of a team: its managers (people managing someone in it) and admins.

    It shows aggregates only, so an administrator gains no individual data by it.
    """
    return viewer.is_admin or team_id in managed_team_ids
