"""Password logins, rate limiting, web sessions and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from mlgrove.domain.clock import utcnow
from mlgrove.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    TokenExpired,
    TokenRevoked,
)
from mlgrove.services import people, sessions, tokens
from mlgrove.store.models import ApiTokenRow, LoginAttemptRow, PersonRow, WebSessionRow
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories


def test_password_login_opens_a_session_that_logout_ends(grove_factories: Factories) -> None:
    rt = grove_factories.runtime
    eli = grove_factories.person("eli")
    person, session_id = sessions.login(rt, "eli", DEFAULT_PASSWORD, "10.0.0.1")
    assert person == eli
    assert sessions.person_for_session(rt, session_id) == eli
    sessions.logout(rt, session_id)
    assert sessions.person_for_session(rt, session_id) is None


def test_passwords_are_stored_as_argon2_hashes(grove_factories: Factories) -> None:
    grove_factories.person("eli")
    with grove_factories.runtime.db.read() as s:
        stored = s.scalar(select(PersonRow.password_hash))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in stored


@pytest.mark.parametrize(
    ("username", "password"), [("eli", "wrong-password"), ("nobody", DEFAULT_PASSWORD)]
)
def test_wrong_credentials_fail_the_same_way(
    grove_factories: Factories, username: str, password: str
) -> None:
    grove_factories.person("eli")
    with pytest.raises(AuthenticationFailed, match=r"^wrong username or password$"):
        sessions.login(grove_factories.runtime, username, password, "10.0.0.1")


def test_people_without_password_cannot_log_in(grove_factories: Factories) -> None:
    grove_factories.person("bot", password=None)
    with pytest.raises(AuthenticationFailed):
        sessions.login(grove_factories.runtime, "bot", "", "10.0.0.1")


def test_too_many_failures_lock_out_even_the_right_password(grove_factories: Factories) -> None:
    rt = grove_factories.runtime
    grove_factories.person("eli")
    for _ in range(rt.settings.login_max_failures):
        with pytest.raises(AuthenticationFailed):
            sessions.login(rt, "eli", "guess-guess", "10.0.0.9")
    with pytest.raises(RateLimited) as info:
        sessions.login(rt, "eli", DEFAULT_PASSWORD, "10.0.0.9")
    assert 0 < info.value.retry_after <= rt.settings.login_window_minutes * 60 + 1
    # Another address is not locked out by someone else's guessing.
    sessions.login(rt, "eli", DEFAULT_PASSWORD, "10.0.0.2")


def test_changing_a_password_ends_sessions(grove_factories: Factories) -> None:
    rt = grove_factories.runtime
    eli = grove_factories.person("eli")
    _, session_id = sessions.login(rt, "eli", DEFAULT_PASSWORD, "a")
    people.set_password(grove_factories.ctx(eli), "eli", "a-brand-new-secret")
    assert sessions.person_for_session(rt, session_id) is None
    sessions.login(rt, "eli", "a-brand-new-secret", "a")
    other = grove_factories.person("other")
    with pytest.raises(PermissionDenied):
        people.set_password(grove_factories.ctx(other), "eli", "hijacked-password")


def test_token_is_shown_once_and_stored_hashed(grove_factories: Factories) -> None:
    rt = grove_factories.runtime
    eli = grove_factories.person("eli")
    new = grove_factories.token(eli)
    assert new.secret.startswith(f"grove_{new.info.prefix}_")
    with rt.db.read() as s:
        raw_rows = s.execute(text("SELECT * FROM api_tokens")).all()
    assert all(new.secret.split("_", 2)[2] not in str(row) for row in raw_rows)
    assert tokens.authenticate(rt, new.secret) == eli
    assert tokens.list_tokens(grove_factories.ctx(eli))[0].last_used_at is not None


def test_revoked_expired_and_forged_tokens_are_refused(grove_factories: Factories) -> None:
    rt = grove_factories.runtime
    eli = grove_factories.person("eli")
    revoked = grove_factories.token(eli, "old")
    tokens.revoke_token(grove_factories.ctx(eli), revoked.info.id)
    with pytest.raises(TokenRevoked):
        tokens.authenticate(rt, revoked.secret)
    expired = grove_factories.token(eli, "short")
    with rt.db.write() as s:
        s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == expired.info.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(TokenExpired, match="expired on"):
        tokens.authenticate(rt, expired.secret)
    forged = expired.secret[:-4] + "AAAA"
    with pytest.raises(AuthenticationFailed, match="unknown API token"):
        tokens.authenticate(rt, forged)
    with pytest.raises(AuthenticationFailed, match="malformed"):
        tokens.authenticate(rt, "not-a-token")
    states = {t.name: t.state(utcnow()) for t in tokens.list_tokens(grove_factories.ctx(eli))}
    assert states == {"old": "revoked", "short": "expired"}


def test_tokens_are_private_to_their_owner(grove_factories: Factories) -> None:
    eli = grove_factories.person("eli")
    sam = grove_factories.person("sam")
    admin = grove_factories.person("ana", role="admin")
    token = grove_factories.token(eli)
    with pytest.raises(NotFound):
        tokens.revoke_token(grove_factories.ctx(sam), token.info.id)
    with pytest.raises(PermissionDenied):
        tokens.list_tokens(grove_factories.ctx(sam), username="eli")
    assert [t.id for t in tokens.list_tokens(grove_factories.ctx(admin), username="eli")] == [
        token.info.id
    ]
    tokens.revoke_token(grove_factories.ctx(admin), token.info.id)


@pytest.mark.parametrize(("name", "days"), [("", 30), ("ci", 0), ("ci", 367)])
def test_token_input_is_checked(grove_factories: Factories, name: str, days: int) -> None:
    eli = grove_factories.person("eli")
    with pytest.raises(InvalidInput):
        tokens.create_token(grove_factories.ctx(eli), name, days=days)


def test_login_forgets_stale_attempts_and_long_ended_sessions(grove_factories: Factories) -> None:
    rt = grove_factories.runtime
    eli = grove_factories.person("eli")
    _, old_session = sessions.login(rt, "eli", DEFAULT_PASSWORD, "a")
    _, live_session = sessions.login(rt, "eli", DEFAULT_PASSWORD, "a")
    with pytest.raises(AuthenticationFailed):
        sessions.login(rt, "eli", "guess-guess", "a")
    with pytest.raises(AuthenticationFailed):
        sessions.login(rt, "eli", "guess-guess", "a")
    long_ago = utcnow() - timedelta(days=30)
    with rt.db.write() as s:
        # One failure and one session from a month ago; the other failure is recent.
        oldest = s.scalar(select(LoginAttemptRow.id).where(LoginAttemptRow.success.is_(False)))
        s.execute(update(LoginAttemptRow).where(LoginAttemptRow.id == oldest).values(at=long_ago))
        s.execute(
            update(WebSessionRow).where(WebSessionRow.id == old_session).values(expires_at=long_ago)
        )
    sessions.login(rt, "eli", DEFAULT_PASSWORD, "a")
    with rt.db.read() as s:
        failures = s.scalars(
            select(LoginAttemptRow.at).where(LoginAttemptRow.success.is_(False))
        ).all()
        session_ids = set(s.scalars(select(WebSessionRow.id)).all())
    # The recent failure still counts toward a lock-out; the month-old one is gone.
    assert len(failures) == 1
    assert old_session not in session_ids
    assert live_session in session_ids
    assert sessions.person_for_session(rt, live_session) == eli
