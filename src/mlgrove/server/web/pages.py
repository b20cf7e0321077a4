"""Rendering helpers shared by the web views and the error handlers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mlgrove._version import __version__
from mlgrove.domain.people import Person
from mlgrove.server.deps import SESSION_COOKIE, csrf_token, session_person
from mlgrove.server.web import formatting, urls

log = logging.getLogger("mlgrove.server")

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
templates.env.globals["percent"] = formatting.percent
templates.env.filters.update(formatting.FILTERS)
templates.env.globals.update(urls.GLOBALS)

#: The main navigation: (path, label, keyboard shortcut after "g").
NAV: list[tuple[str, str, str]] = [
    ("/data", "Data", "d"),
    ("/runs", "Runs", "r"),
    ("/models", "Models", "m"),
    ("/pipelines", "Pipelines", "p"),
    ("/review", "Review", "v"),
    ("/team", "Team", "t"),
    ("/people", "People", "e"),
    ("/growth", "Growth", "w"),
    ("/programs", "Programmes", "o"),
]
templates.env.globals["nav"] = NAV


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = {"person": getattr(request.state, "person", None), "csrf_token": csrf_token(request)}
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


_TITLES = {
    400: "That request did not make sense",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "That address does not work this way",
    409: "That clashes with something that exists",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Grove cannot reach its database",
}


def _remember_person(request: Request) -> None:
    if getattr(request.state, "person", None) is not None or SESSION_COOKIE not in request.cookies:
        return
    person: Person | None = None
    try:
        person = session_person(request)
    except Exception:  # the error page must render even if this lookup fails
        log.warning("could not look up the session for an error page", exc_info=True)
    if person is not None:
        request.state.person = person


def _plain_message(request: Request, status: int, message: str) -> str:
    """Say what happened in words when all we were given is the bare HTTP phrase."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return message
    if message != phrase:
        return message
    if status == 404:
        return f"There is no page at {request.url.path}."
    if status == 405:
        return f"{request.url.path} cannot be opened this way ({request.method})."
    return message


def error_page(
    request: Request,
    status: int,
    message: str,
    hint: str | None,
    *,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The HTML error page: what happened, and what the visitor can do about it."""
    message = _plain_message(request, status, message)
    if status < 500:
        # An unknown address never ran the login check; a logged-in visitor should still
        # see the navigation (and no "Log in" button) on the error page.
        _remember_person(request)
    return render(
        request,
        "error.html",
        {"status": status, "title": _TITLES.get(status, "Error"), "message": message, "hint": hint},
        status_code=status,
        headers=headers,
    )
