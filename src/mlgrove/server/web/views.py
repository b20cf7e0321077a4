"""Web pages: login/logout, the home page, the navigation sections, team, people and
tokens. The dataset pages are in ``data_views.py``."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.clock import utcnow
from mlgrove.errors import AuthenticationFailed, InvalidInput, RateLimited
from mlgrove.server.deps import (
    SESSION_COOKIE,
    check_csrf,
    context,
    runtime,
    session_id_from_cookie,
    session_person,
    sign_session,
)
from mlgrove.server.web import charts
from mlgrove.server.web.pages import render
from mlgrove.services import dashboard, people, projects, sessions, tokens
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login.
    # Browsers read "/\evil.com" as "//evil.com" and drop tabs and newlines, so those
    # characters are refused anywhere in the value.
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        return "/"
    return value


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    if await run_in_threadpool(session_person, request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    await check_csrf(request)
    try:
        _person, session_id = await run_in_threadpool(
            sessions.login, runtime(request), username, password, _client_address(request)
        )
    except (AuthenticationFailed, RateLimited) as exc:
        status = 429 if isinstance(exc, RateLimited) else 401
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": str(exc), "username": username},
            status_code=status,
            headers=headers,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(request, session_id),
        max_age=runtime(request).settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/logout", response_class=HTMLResponse)
async def logout_confirm(request: Request) -> Response:
    # A GET must not end the session (links and prefetches would log people out), so a
    # typed /logout shows the button instead.
    person = await run_in_threadpool(session_person, request)
    if person is None:
        return RedirectResponse("/login", status_code=303)
    request.state.person = person
    return render(request, "logout.html")


@router.post("/logout")
async def logout(request: Request) -> Response:
    await check_csrf(request)
    session_id = session_id_from_cookie(request)
    if session_id is not None:
        await run_in_threadpool(sessions.logout, runtime(request), session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Context = Depends(context)) -> Response:
    """The loop at a glance (data, models with automatic and human-judged quality,
    review queues, retrains) and the viewer's team, at team level only."""
    team_names = {t.id: t.name for t in people.list_teams(ctx)}
    board = dashboard.build(ctx)
    quality_charts = []
    for (project, model), lines in groupby(board.models or [], key=lambda m: (m.project, m.model)):
        series = list(lines)
        items = []
        for m in sorted(series, key=lambda m: m.number):
            if "accuracy" in m.metrics:
                items.append((f"v{m.number} accuracy", m.metrics["accuracy"], 0))
            if m.accept_rate is not None and m.accept_rate.value is not None:
                items.append((f"v{m.number} people accept", m.accept_rate.value, 1))
        if items:
            quality_charts.append(
                (
                    project,
                    model,
                    charts.shares(
                        items,
                        description=f"{model}: accuracy on its test set and the share of "
                        "predictions people accepted, per version",
                    ),
                )
            )
    return render(
        request,
        "home.html",
        {
            "projects": projects.list_projects(ctx),
            "team_names": team_names,
            "board": board,
            "quality_charts": quality_charts,
        },
    )


@router.get("/team", response_class=HTMLResponse)
def team(request: Request, ctx: Context = Depends(context)) -> Response:
    """The actor's team: its members and projects (a directory, never activity counts)."""
    everyone = people.list_people(ctx)
    teams = people.list_teams(ctx)
    mine = next((t for t in teams if t.id == ctx.actor.team_id), None)
    members = [p for p in everyone if mine is not None and p.team_id == mine.id]
    team_projects = [
        p for p in projects.list_projects(ctx) if mine is not None and p.team_id == mine.id
    ]
    return render(
        request,
        "team.html",
        {"team": mine, "members": members, "team_projects": team_projects, "teams": teams},
    )


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, ctx: Context = Depends(context)) -> Response:
    teams = {t.id: t.name for t in people.list_teams(ctx)}
    everyone = people.list_people(ctx)
    by_id = {p.id: p for p in everyone}
    return render(
        request,
        "people.html",
        {
            "people": everyone,
            "teams": teams,
            "by_id": by_id,
            "can_manage": allowed(ctx.actor, Action.MANAGE_PEOPLE),
        },
    )


def _tokens(
    request: Request,
    ctx: Context,
    *,
    new_secret: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "tokens.html",
        {
            "tokens": tokens.list_tokens(ctx),
            "now": utcnow(),
            "new_secret": new_secret,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/settings/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return _tokens(request, ctx)


@router.post("/settings/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request,
    name: Annotated[str, Form()],
    days: Annotated[int, Form()] = 90,
    ctx: Context = Depends(context),
) -> Response:
    # `context` already checked CSRF: this is a cookie-authenticated POST.
    try:
        new = tokens.create_token(ctx, name, days=days)
    except InvalidInput as exc:
        return _tokens(request, ctx, error=str(exc), status_code=400)
    return _tokens(request, ctx, new_secret=new.secret, status_code=201)


@router.post("/settings/tokens/{token_id}/revoke")
def tokens_revoke(token_id: int, ctx: Context = Depends(context)) -> Response:
    tokens.revoke_token(ctx, token_id)
    return RedirectResponse("/settings/tokens", status_code=303)
