"""A person's own growth data: export it all, or delete it.

Export gathers everything Grove holds about the caller's growth (feedback received and
given, requests, plans with goals and evidence, 1:1 notes they are part of,
notifications, who read their data). Delete removes what is theirs: feedback they
received, their requests, plans, the 1:1 notes they wrote and their notifications.
Feedback they gave others stays with its receivers, whose data it is.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select

from mlgrove.domain.clock import utcnow
from mlgrove.services import audit, growth_access, growth_feedback, growth_plans, notifications
from mlgrove.services.context import Context
from mlgrove.store.models import PersonRow
from mlgrove.store.models.growth import (
    GrowthFeedbackRequestRow,
    GrowthFeedbackRow,
    GrowthNoteRow,
    GrowthNotificationRow,
    GrowthPlanRow,
)


def _plain(value: Any) -> Any:
    """Dataclasses, enums and datetimes as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def export(ctx: Context) -> dict[str, Any]:
    """Everything about the caller's growth, as one JSON-ready document."""
    me = growth_access.require_person(ctx)
    to_me, mine = growth_feedback.list_requests(ctx)
    with ctx.db.read() as s:
        partners = set(
            s.scalars(select(GrowthNoteRow.counterpart_id).where(GrowthNoteRow.author_id == me.id))
        ) | set(
            s.scalars(select(GrowthNoteRow.author_id).where(GrowthNoteRow.counterpart_id == me.id))
        )
        partner_names = [
            p.username for p in s.scalars(select(PersonRow).where(PersonRow.id.in_(partners)))
        ]
    notes = [n for name in sorted(partner_names) for n in growth_plans.list_notes(ctx, name)]
    return {
        "person": me.username,
        "exported_at": utcnow().isoformat(),
        "feedback_received": _plain(growth_feedback.list_feedback(ctx)),
        "feedback_given": _plain(growth_feedback.feedback_given(ctx)),
        "feedback_requests_to_me": _plain(to_me),
        "feedback_requests_mine": _plain(mine),
        "growth_plans": _plain(growth_plans.plans_of(ctx)),
        "one_on_one_notes": _plain(notes),
        "notifications": _plain(notifications.list_notifications(ctx, limit=1000)),
        "reads_of_my_data": _plain(growth_access.reads_of(ctx, limit=1000)),
    }


def delete_mine(ctx: Context) -> dict[str, int]:
    """Delete the caller's own growth data in one transaction; returns counts by kind."""
    me = growth_access.require_person(ctx)
    with ctx.db.write() as s:
        counts = {
            "feedback_received": s.execute(
                delete(GrowthFeedbackRow).where(GrowthFeedbackRow.receiver_id == me.id)
            ),
            "feedback_requests": s.execute(
                delete(GrowthFeedbackRequestRow).where(
                    or_(
                        GrowthFeedbackRequestRow.requester_id == me.id,
                        GrowthFeedbackRequestRow.peer_id == me.id,
                    )
                )
            ),
            "growth_plans": s.execute(
                delete(GrowthPlanRow).where(GrowthPlanRow.person_id == me.id)
            ),
            "one_on_one_notes": s.execute(
                delete(GrowthNoteRow).where(GrowthNoteRow.author_id == me.id)
            ),
            "notifications": s.execute(
                delete(GrowthNotificationRow).where(GrowthNotificationRow.person_id == me.id)
            ),
        }
        result = {k: int(getattr(v, "rowcount", 0) or 0) for k, v in counts.items()}
        audit.record(
            s,
            ctx.actor_label,
            "growth.delete",
            f"person:{me.id}",
            ", ".join(f"{k}={v}" for k, v in result.items()),
        )
        return result
