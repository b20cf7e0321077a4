"""API tokens for the SDK and CLI: shown once, stored hashed, revocable, expiring.

A token reads ``grove_<prefix>_<secret>``. The prefix finds the row (and is safe to show
in lists and logs); only a SHA-256 of the secret is stored. The secret has 256 bits of
entropy, so a fast hash is enough (argon2 is for low-entropy passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select

from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import LOCAL_ADMIN, NewToken, Person, TokenInfo
from mlgrove.errors import AuthenticationFailed, InvalidInput, NotFound, TokenExpired, TokenRevoked
from mlgrove.services import audit
from mlgrove.services.context import Context, Runtime
from mlgrove.store.models import ApiTokenRow, PersonRow
from mlgrove.store.repos import people as repo

MAX_DAYS = 366
# Writing last_used_at on every request would turn reads into writes; once a while is enough.
_TOUCH_EVERY = timedelta(minutes=5)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    ctx: Context, name: str, *, days: int = 90, username: str | None = None
) -> NewToken:
    """A new token for the actor (or, for administrators, for ``username``)."""
    if not name.strip():
        raise InvalidInput("a token needs a name", hint="say what it is for, e.g. 'laptop' or 'ci'")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"token lifetime must be 1 to {MAX_DAYS} days, got {days}")
    ctx.require(Action.MANAGE_OWN_TOKENS)
    if username is not None and username != ctx.actor.username:
        ctx.require(Action.MANAGE_ANY_TOKENS)
    if username is None and ctx.actor.id == LOCAL_ADMIN.id:
        raise InvalidInput(
            "the local workspace owner has no account to hold a token",
            hint="say whose token it is: --user USERNAME",
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with ctx.db.write() as s:
        owner = repo.person_row_by_username(s, username or ctx.actor.username)
        row = ApiTokenRow(
            person_id=owner.id,
            name=name.strip()[:100],
            prefix=prefix,
            secret_hash=_digest(secret),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        s.add(row)
        s.flush()
        audit.record(
            s, ctx.actor_label, "token.create", f"person:{owner.id}", f"{row.name} ({prefix})"
        )
        return NewToken(info=repo.token(row), secret=f"grove_{prefix}_{secret}")


def list_tokens(ctx: Context, *, username: str | None = None) -> list[TokenInfo]:
    ctx.require(Action.MANAGE_OWN_TOKENS)
    if username is not None and username != ctx.actor.username:
        ctx.require(Action.MANAGE_ANY_TOKENS)
    if username is None and ctx.actor.id == LOCAL_ADMIN.id:
        raise InvalidInput(
            "the local workspace owner has no tokens", hint="say whose: --user USERNAME"
        )
    with ctx.db.read() as s:
        owner = repo.person_row_by_username(s, username or ctx.actor.username)
        rows = s.scalars(
            select(ApiTokenRow).where(ApiTokenRow.person_id == owner.id).order_by(ApiTokenRow.id)
        )
        return [repo.token(r) for r in rows]


def revoke_token(ctx: Context, token_id: int) -> TokenInfo:
    """Revoke one of the actor's tokens (administrators: anyone's). Idempotent."""
    ctx.require(Action.MANAGE_OWN_TOKENS)
    with ctx.db.write() as s:
        row = s.get(ApiTokenRow, token_id)
        if row is None or (row.person_id != ctx.actor.id and not ctx.actor.is_admin):
            # Someone else's token is reported as absent: its existence is not their business.
            raise NotFound(f"no token with id {token_id}", hint="`mlgrove token list` shows yours")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(s, ctx.actor_label, "token.revoke", f"person:{row.person_id}", row.prefix)
        return repo.token(row)


def authenticate(runtime: Runtime, raw: str) -> Person:
    """The person a raw token belongs to; raises if it is unknown, revoked or expired."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "grove":
        raise AuthenticationFailed(
            "malformed API token",
            hint="tokens look like grove_<prefix>_<secret>; make one with `mlgrove token create`",
        )
    _, prefix, secret = parts
    now = utcnow()
    with runtime.db.read() as s:
        row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.prefix == prefix))
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            raise AuthenticationFailed(
                "unknown API token", hint="make a new one with `mlgrove token create`"
            )
        if row.revoked_at is not None:
            raise TokenRevoked(
                f"API token {prefix} was revoked", hint="make a new one with `mlgrove token create`"
            )
        if row.expires_at <= now:
            raise TokenExpired(
                f"API token {prefix} expired on {row.expires_at:%Y-%m-%d}",
                hint="make a new one with `mlgrove token create`",
            )
        person_row = s.get(PersonRow, row.person_id)
        if person_row is None or not person_row.active:
            raise AuthenticationFailed("the token's owner is deactivated")
        person = repo.person(person_row)
        stale = row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY
        token_id = row.id
    if stale:
        with runtime.db.write() as s:
            fresh = s.get(ApiTokenRow, token_id)
            if fresh is not None:
                fresh.last_used_at = now
    return person
