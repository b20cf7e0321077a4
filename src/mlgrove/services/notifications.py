"""In-app notifications: a list per person, an unread count for the navigation bar.

Growth services add notifications inside their own transaction (:func:`add`), so a
notification exists exactly when the change it announces does, and then call
:func:`announce` after the commit to post the optional webhook.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mlgrove.domain.clock import utcnow
from mlgrove.domain.growth import Notification
from mlgrove.services import webhooks
from mlgrove.services.context import Context
from mlgrove.store.models.growth import GrowthNotificationRow


def add(session: Session, person_id: int, kind: str, text: str, link: str = "") -> None:
    session.add(
        GrowthNotificationRow(person_id=person_id, kind=kind, text=text[:500], link=link[:500])
    )


def announce(ctx: Context, text: str) -> threading.Thread | None:
    """Post ``text`` (no private content) to the configured webhook, if any."""
    url = ctx.settings.growth_webhook_url
    if not url:
        return None
    return webhooks.post_in_background(url, text)


def _value(r: GrowthNotificationRow) -> Notification:
    return Notification(
        id=r.id, kind=r.kind, text=r.text, link=r.link, created_at=r.created_at, read_at=r.read_at
    )


def list_notifications(
    ctx: Context, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    """The caller's notifications, newest first."""
    query = (
        select(GrowthNotificationRow)
        .where(GrowthNotificationRow.person_id == ctx.actor.id)
        .order_by(GrowthNotificationRow.id.desc())
        .limit(min(max(limit, 1), 1000))
    )
    if unread_only:
        query = query.where(GrowthNotificationRow.read_at.is_(None))
    with ctx.db.read() as s:
        return [_value(r) for r in s.scalars(query)]


def unread_count(ctx: Context) -> int:
    with ctx.db.read() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(GrowthNotificationRow)
                .where(GrowthNotificationRow.person_id == ctx.actor.id)
                .where(GrowthNotificationRow.read_at.is_(None))
            )
            or 0
        )


def mark_read(ctx: Context) -> int:
    """Mark all the caller's notifications read; returns how many were unread."""
    with ctx.db.write() as s:
        result = s.execute(
            update(GrowthNotificationRow)
            .where(GrowthNotificationRow.person_id == ctx.actor.id)
            .where(GrowthNotificationRow.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)
