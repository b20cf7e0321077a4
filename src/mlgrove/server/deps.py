"""Request dependencies: the runtime, who is calling, and CSRF checks.

Callers authenticate with ``Authorization: Bearer <API token>`` (SDK, CLI, scripts) or
with the web session cookie (browser). Cookie-authenticated requests that change state
must carry the CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``), so
another site cannot make a logged-in browser act.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool

from mlgrove.domain.people import Person
from mlgrove.errors import AuthenticationFailed, CsrfError
from mlgrove.services import sessions, tokens
from mlgrove.services.context import Context, Runtime

SESSION_COOKIE = "grove_session"
CSRF_COOKIE = "grove_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _signer(request: Request, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(runtime(request).settings.secret_key, salt=salt)


def sign_session(request: Request, session_id: str) -> str:
    return str(_signer(request, "grove-session").dumps(session_id))


def session_id_from_cookie(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        value = _signer(request, "grove-session").loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, made on first use; the middleware sets the cookie."""
    existing = getattr(request.state, "csrf_token", None)
    if isinstance(existing, str):
        return existing
    token: str | None = None
    raw = request.cookies.get(CSRF_COOKIE)
    if raw:
        try:
            loaded = _signer(request, "grove-csrf").loads(raw)
            token = loaded if isinstance(loaded, str) else None
        except BadSignature:
            token = None
    if token is None:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = _signer(request, "grove-csrf").dumps(token)
    request.state.csrf_token = token
    return token


async def check_csrf(request: Request) -> None:
    """Raise :class:`CsrfError` unless the request carries this browser's CSRF token."""
    raw = request.cookies.get(CSRF_COOKIE)
    expected: str | None = None
    if raw:
        try:
            loaded = _signer(request, "grove-csrf").loads(raw)
            expected = loaded if isinstance(loaded, str) else None
        except BadSignature:
            expected = None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfError(
            "the form's security token is missing or stale",
            hint="reload the page and submit again",
        )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def session_person(request: Request) -> Person | None:
    session_id = session_id_from_cookie(request)
    if session_id is None:
        return None
    return sessions.person_for_session(runtime(request), session_id)


async def current_person(request: Request) -> Person:
    """The authenticated caller, by API token or session cookie (with CSRF on writes)."""
    cached = getattr(request.state, "person", None)
    if isinstance(cached, Person):
        return cached
    token = _bearer(request)
    if token is not None:
        person = await run_in_threadpool(tokens.authenticate, runtime(request), token)
    else:
        found = await run_in_threadpool(session_person, request)
        if found is None:
            raise AuthenticationFailed(
                "not logged in", hint="send 'Authorization: Bearer <token>' or log in at /login"
            )
        if request.method not in SAFE_METHODS:
            await check_csrf(request)
        person = found
    request.state.person = person
    return person


async def context(request: Request) -> Context:
    return runtime(request).as_actor(await current_person(request))
