"""Web pages: the review queues and the keyboard-driven review screen.

The screen is a shell rendered here (queue, instructions, the label buttons); its script
(``static/review.js``) takes items, verdicts, skips and undos through the same REST API
the SDK uses, and writes item text with ``textContent`` only, so nothing a user or a
model wrote can become markup.
"""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mlgrove.server.deps import context
from mlgrove.server.web.pages import render
from mlgrove.services import projects, review, review_stats
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_list(request: Request, ctx: Context = Depends(context)) -> Response:
    queues = review.list_queues(ctx)
    rows = [(q, review.progress(ctx, q.name, q.project)) for q in queues]
    with_queues = {q.project for q in queues}
    idle = [p.name for p in projects.list_projects(ctx) if p.name not in with_queues]
    return render(request, "review_list.html", {"rows": rows, "idle": idle})


@router.get("/review/{project}/{queue}", response_class=HTMLResponse)
def review_screen(
    project: str, queue: str, request: Request, ctx: Context = Depends(context)
) -> Response:
    q = review.get_queue(ctx, queue, project)
    keys = list(q.labels)[:9]
    return render(
        request,
        "review_screen.html",
        {"queue": q, "keys": keys, "progress": review.progress(ctx, queue, project)},
    )


@router.get("/review/{project}/{queue}/quality", response_class=HTMLResponse)
def review_quality(
    project: str, queue: str, request: Request, ctx: Context = Depends(context)
) -> Response:
    q = review.get_queue(ctx, queue, project)
    report = review_stats.agreement_report(ctx, queue, project=project, resamples=500)
    quality = review_stats.model_quality(ctx, queue, project=project)
    return render(
        request, "review_quality.html", {"queue": q, "report": report, "quality": quality}
    )


@router.get("/review/items/{item_id}/file")
def review_item_file(item_id: int, ctx: Context = Depends(context)) -> Response:
    """The file an item shows (an image from a file dataset, typically)."""
    data, path = review.item_file(ctx, item_id)
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    # Served as a download unless it is an image: a stored HTML file must not run here.
    disposition = (
        "inline" if media.startswith("image/") and media != "image/svg+xml" else "attachment"
    )
    return Response(
        data,
        media_type=media if disposition == "inline" else "application/octet-stream",
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )
