"""Web pages: review."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mlgrove.server.deps import context
from mlgrove.server.web.sections import section_page
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, ctx: Context = Depends(context)) -> Response:
    return section_page(request, "review", ctx)
