"""Web pages: run."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mlgrove.server.deps import context
from mlgrove.server.web.sections import section_page
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, ctx: Context = Depends(context)) -> Response:
    return section_page(request, "runs", ctx)


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, ctx: Context = Depends(context)) -> Response:
    return section_page(request, "models", ctx)
