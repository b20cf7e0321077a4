"""Export and delete of one's own programme data (help requests, learning entries,
mentorship, rotations), as the growth area does for feedback and plans.

Deleting removes what is the person's own; what they wrote to others stays, without
their name: an answer to someone else's help request keeps its text and loses its author.
Team things they made (events, designs, design reviews) belong to the team and stay.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update

from mlgrove.domain.clock import utcnow
from mlgrove.services import audit, help_requests, learning, mentorship, rotations
from mlgrove.services.context import Context
from mlgrove.services.programs import participant
from mlgrove.store.models.growth_programs import (
    HelpNudgeRow,
    HelpRequestRow,
    HelpResponseRow,
    LearningEntryRow,
    MenteeGoalsRow,
    MentorOfferRow,
    MentorshipRow,
    RotationRow,
)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def export_mine(ctx: Context) -> dict[str, Any]:
    """Everything of the caller's in the programmes, as one JSON-ready document."""
    me = participant(ctx)
    offers = [o for o in mentorship.list_offers(ctx) if o.person == me.username]
    with ctx.db.read() as s:
        goals = s.get(MenteeGoalsRow, me.id)
        answered = list(
            s.scalars(
                select(HelpResponseRow.request_id).where(HelpResponseRow.responder_id == me.id)
            )
        )
    doc: dict[str, Any] = _plain(
        {
            "person": me.username,
            "exported_at": utcnow(),
            "help_requests": help_requests.list_requests(ctx, mine=True, limit=500),
            "help_requests_answered": sorted(set(answered)),
            "help_nudge_minutes": help_requests.nudge_setting(ctx),
            "learning_entries": learning.my_entries(ctx, limit=1000),
            "mentor_offer": offers[0] if offers else None,
            "mentee_goals": {"goals": goals.goals, "note": goals.note} if goals else None,
            "mentorships": mentorship.list_pairs(ctx),
            "rotations": rotations.list_rotations(ctx, person=me.username),
        }
    )
    return doc


def delete_mine(ctx: Context) -> dict[str, int]:
    """Delete the caller's own programme data in one transaction; counts by kind."""
    me = participant(ctx)
    with ctx.db.write() as s:
        counts = {
            "help_requests": s.execute(
                delete(HelpRequestRow).where(HelpRequestRow.asker_id == me.id)
            ),
            "answers_anonymised": s.execute(
                update(HelpResponseRow)
                .where(HelpResponseRow.responder_id == me.id)
                .values(responder_id=None)
            ),
            "help_nudge": s.execute(delete(HelpNudgeRow).where(HelpNudgeRow.person_id == me.id)),
            "learning_entries": s.execute(
                delete(LearningEntryRow).where(LearningEntryRow.person_id == me.id)
            ),
            "mentor_offer": s.execute(
                delete(MentorOfferRow).where(MentorOfferRow.person_id == me.id)
            ),
            "mentee_goals": s.execute(
                delete(MenteeGoalsRow).where(MenteeGoalsRow.person_id == me.id)
            ),
            "mentorships": s.execute(
                delete(MentorshipRow).where(
                    or_(MentorshipRow.mentor_id == me.id, MentorshipRow.mentee_id == me.id)
                )
            ),
            "rotations": s.execute(delete(RotationRow).where(RotationRow.person_id == me.id)),
        }
        result = {k: int(getattr(v, "rowcount", 0) or 0) for k, v in counts.items()}
        audit.record(
            s,
            ctx.actor_label,
            "programs.delete",
            f"person:{me.id}",
            ", ".join(f"{k}={v}" for k, v in result.items()),
        )
        return result
