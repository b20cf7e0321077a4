"""``create_app()``: the FastAPI application for one runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from mlgrove._version import __version__
from mlgrove.server import errors
from mlgrove.server.api import (
    datasets,
    growth,
    objects,
    people,
    pipelines,
    programs,
    review,
    system,
    tokens,
    tracking,
)
from mlgrove.server.deps import CSRF_COOKIE
from mlgrove.server.web import (
    data_views,
    growth_views,
    pipeline_views,
    program_views,
    review_views,
    run_views,
    views,
)
from mlgrove.server.web.headers import add_security_headers
from mlgrove.server.web.pages import HERE, templates
from mlgrove.services.context import Runtime

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Grove API",
        version=__version__,
        description="REST API of Grove. Authenticate with `Authorization: Bearer <token>` "
        "(make one with `mlgrove token create`). Errors are RFC 9457 problem+json bodies.",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        # Swagger UI from the package's own copy (users may be offline), started by a
        # script file rather than an inline one, so the page keeps the strict CSP.
        html: HTMLResponse = templates.TemplateResponse(
            request, "api_docs.html", {"openapi_url": OPENAPI_URL}
        )
        return html

    app.state.runtime = runtime
    for router in (
        system.router,
        people.router,
        tokens.router,
        datasets.router,
        objects.router,
        tracking.router,
        pipelines.router,
        review.router,
        growth.router,
        programs.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(views.router)
    app.include_router(data_views.router)
    app.include_router(run_views.router)
    app.include_router(pipeline_views.router)
    app.include_router(review_views.router)
    app.include_router(growth_views.router)
    app.include_router(program_views.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    errors.install(app)

    @app.middleware("http")
    async def headers_and_csrf_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        new_cookie = getattr(request.state, "new_csrf_cookie", None)
        if new_cookie:
            response.set_cookie(
                CSRF_COOKIE,
                new_cookie,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return add_security_headers(response)

    return app
