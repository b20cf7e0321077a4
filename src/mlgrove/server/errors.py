"""The one place where Grove errors become HTTP responses.

API paths get RFC 9457 problem+json bodies; web pages get a helpful HTML error page
(or a redirect to the login page when the visitor is not logged in).
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlgrove import errors as e
from mlgrove.server.web.headers import add_security_headers
from mlgrove.server.web.pages import error_page

log = logging.getLogger("mlgrove.server")

STATUS: list[tuple[type[e.GroveError], int]] = [
    (e.RateLimited, 429),
    (e.CsrfError, 403),
    (e.AuthError, 401),
    (e.PermissionDenied, 403),
    (e.InvalidInput, 400),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.DatabaseUnavailable, 503),
    (e.SchemaOutdated, 503),
    (e.RemoteError, 502),
    (e.GroveError, 500),
]


def status_for(exc: e.GroveError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:mlgrove:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _wants_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, which sends the visitor back here afterwards.

    The whole address comes back (a diff page's ``?from=v1&to=v2`` too), encoded so its
    own ``&`` and ``=`` stay inside ``next``. After a form post the way back is the home
    page: the browser would come back with a GET, which a POST-only address refuses.
    """
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        target = request.url.path + ("?" + query if query else "")
    else:
        target = "/"
    return RedirectResponse("/login?next=" + urllib.parse.quote(target, safe="/"), 303)


async def _error_page(
    request: Request,
    status: int,
    message: str,
    hint: str | None,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    # The page may look up the visitor's session: a database read, kept off the event loop.
    return await run_in_threadpool(error_page, request, status, message, hint, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(e.GroveError)
    async def on_grove_error(request: Request, exc: e.GroveError) -> Response:
        status = status_for(exc)
        if status >= 500:
            log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        headers: dict[str, str] = {}
        if isinstance(exc, e.RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="grove"'
        if _wants_api(request):
            resp = problem(status, exc.code, type(exc).__name__, exc.message, hint=exc.hint)
            resp.headers.update(headers)
            return resp
        if status == 401 and not isinstance(exc, e.CsrfError):
            return login_redirect(request)
        return await _error_page(request, status, exc.message, exc.hint, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "message": err["msg"]}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        if _wants_api(request):
            return problem(
                422,
                "validation",
                "Invalid request",
                detail,
                errors=fields,
                hint="fix the named fields and send the request again",
            )
        return await _error_page(
            request, 422, f"The form was not filled in correctly: {detail}", None
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_api(request):
            hint = "see /api/docs for the API's paths" if exc.status_code == 404 else None
            return problem(exc.status_code, "http", "HTTP error", str(exc.detail), hint=hint)
        hint = "check the address, or use the navigation above" if exc.status_code == 404 else None
        return await _error_page(request, exc.status_code, str(exc.detail), hint)

    # Starlette runs this handler outside the middleware stack (it wraps everything), so
    # it sets the security headers itself. Uvicorn closes the connection after a crash;
    # "Connection: close" tells the client, so its next request opens a fresh one rather
    # than meeting a reset.
    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_api(request):
            resp: Response = problem(
                500,
                "internal",
                "Internal error",
                "the server hit an unexpected error; it is logged",
            )
        else:
            resp = await _error_page(
                request, 500, "Something went wrong on our side. It has been logged.", None
            )
        resp.headers["Connection"] = "close"
        return add_security_headers(resp)
