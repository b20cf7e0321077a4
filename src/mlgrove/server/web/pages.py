"""Rendering helpers shared by the web views and the error handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mlgrove._version import __version__
from mlgrove.server.deps import csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__

#: The main navigation: (path, label, keyboard shortcut after "g").
NAV: list[tuple[str, str, str]] = [
    ("/data", "Data", "d"),
    ("/runs", "Runs", "r"),
    ("/models", "Models", "m"),
    ("/pipelines", "Pipelines", "p"),
    ("/review", "Review", "v"),
    ("/team", "Team", "t"),
    ("/people", "People", "e"),
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
    409: "That clashes with something that exists",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Grove cannot reach its database",
}


def error_page(
    request: Request,
    status: int,
    message: str,
    hint: str | None,
    *,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"status": status, "title": _TITLES.get(status, "Error"), "message": message, "hint": hint},
        status_code=status,
        headers=headers,
    )
