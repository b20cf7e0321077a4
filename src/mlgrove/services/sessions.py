"""Password login for the web: rate-limited attempts and server-side sessions.

The browser holds a signed cookie naming a ``web_sessions`` row; logging out or changing
the password ends the row, so a stolen cookie stops working at once.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import Person
from mlgrove.errors import AuthenticationFailed, RateLimited
from mlgrove.services import audit
from mlgrove.services.context import Runtime
from mlgrove.services.passwords import verify_password
from mlgrove.store.models import LoginAttemptRow, PersonRow, WebSessionRow
from mlgrove.store.repos import people as repo


def login(runtime: Runtime, username: str, password: str, address: str) -> tuple[Person, str]:
    """Check a password and open a session; returns the person and the session id.

    After ``login_max_failures`` failures for one username from one address within
    ``login_window_minutes`` refuse further attempts until the window has passed, even
    with the right password (so guessing cannot continue in the background).
    """
    settings = runtime.settings
    username = username.strip().lower()
    now = utcnow()
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    with runtime.db.write() as s:
        _prune(s, username, now - timedelta(minutes=settings.login_window_minutes))
        failures = s.execute(
            select(func.count(), func.min(LoginAttemptRow.at)).where(
                LoginAttemptRow.username == username,
                LoginAttemptRow.address == address,
                LoginAttemptRow.success.is_(False),
                LoginAttemptRow.at >= window_start,
            )
        ).one()
        if failures[0] >= settings.login_max_failures:
            oldest = failures[1]
            retry = (
                int(
                    (
                        oldest + timedelta(minutes=settings.login_window_minutes) - now
                    ).total_seconds()
                )
                + 1
            )
            raise RateLimited(
                "too many failed logins for this account from this address",
                retry_after=max(retry, 1),
                hint=f"try again in {math.ceil(max(retry, 1) / 60)} minute(s)",
            )
        row = s.scalar(select(PersonRow).where(PersonRow.username == username))
        ok = verify_password(row.password_hash if row else None, password)
        ok = ok and row is not None and row.active
        s.add(LoginAttemptRow(username=username, address=address, success=ok))
        if not ok or row is None:
            audit.record(s, username, "login.failed", f"address:{address}")
            failed = True
        else:
            session_id = secrets.token_urlsafe(32)
            s.add(
                WebSessionRow(
                    id=session_id,
                    person_id=row.id,
                    expires_at=now + timedelta(hours=settings.session_hours),
                )
            )
            _prune_sessions(s, row.id, now)
            audit.record(s, username, "login", f"person:{row.id}", f"address:{address}")
            failed = False
            person = repo.person(row)
    # The failed attempt must be committed before we refuse, or it would not count.
    if failed:
        raise AuthenticationFailed("wrong username or password")
    return person, session_id


def person_for_session(runtime: Runtime, session_id: str) -> Person | None:
    """The person logged in with this session, or None if it ended or expired."""
    with runtime.db.read() as s:
        row = s.get(WebSessionRow, session_id)
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            return None
        person_row = s.get(PersonRow, row.person_id)
        if person_row is None or not person_row.active:
            return None
        return repo.person(person_row)


def logout(runtime: Runtime, session_id: str) -> None:
    with runtime.db.write() as s:
        row = s.get(WebSessionRow, session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()


def end_all_sessions(session: Session, person_id: int) -> None:
    session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.person_id == person_id, WebSessionRow.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# Ended sessions are kept this long so "why was I logged out?" can still be answered from
# the row; after that they are deleted (the audit log keeps every login for good).
ENDED_SESSION_RETENTION = timedelta(days=7)


def _prune(s: Session, username: str, window_start: datetime) -> None:
    """Forget this username's attempts that can no longer count toward a lock-out.

    Done on each login, for that username only (the ``(username, at)`` index makes it
    cheap), so the table stays the size of one window instead of growing forever; the
    audit log, not this table, is the record of who tried to log in.
    """
    s.execute(
        delete(LoginAttemptRow).where(
            LoginAttemptRow.username == username, LoginAttemptRow.at < window_start
        )
    )


def _prune_sessions(s: Session, person_id: int, now: datetime) -> None:
    """Delete this person's sessions that ended (expired or revoked) over a week ago."""
    cutoff = now - ENDED_SESSION_RETENTION
    s.execute(
        delete(WebSessionRow).where(
            WebSessionRow.person_id == person_id,
            or_(WebSessionRow.expires_at < cutoff, WebSessionRow.revoked_at < cutoff),
        )
    )
