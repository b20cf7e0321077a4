"""The audit log: who did what to whom, including every read of someone's private data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain.authz import Action
from mlgrove.domain.people import AuditEvent
from mlgrove.services.context import Context
from mlgrove.store.models import AuditEventRow


def record(session: Session, actor: str, action: str, subject: str, detail: str = "") -> None:
    """Add an event inside the caller's transaction, so it commits with the change."""
    session.add(AuditEventRow(actor=actor, action=action, subject=subject, detail=detail))


def list_events(
    ctx: Context, *, limit: int = 100, before_id: int | None = None
) -> list[AuditEvent]:
    """Newest first, keyset-paged by id. Administrators only."""
    ctx.require(Action.VIEW_AUDIT_LOG)
    query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(min(limit, 1000))
    if before_id is not None:
        query = query.where(AuditEventRow.id < before_id)
    with ctx.db.read() as s:
        return [
            AuditEvent(
                id=r.id, at=r.at, actor=r.actor, action=r.action, subject=r.subject, detail=r.detail
            )
            for r in s.scalars(query)
        ]
