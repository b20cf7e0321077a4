"""Web pages: the review queues, the keyboard-driven review screen, the "queue done"
page a reviewer lands on after their last item, and the adjudication page.

The screen is a shell rendered here (queue, instructions, the label buttons); its script
(``static/review.js``) takes items, verdicts, skips and undos through the same REST API
the SDK uses, and writes item text with ``textContent`` only, so nothing a user or a
model wrote can become markup. The adjudication page is a plain form per conflict (one
submit button per possible answer, CSRF token included), which ``static/adjudicate.js``
drives from the keyboard; Jinja escapes everything it shows.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.review import Queue, TaskType
from mlgrove.errors import InvalidInput
from mlgrove.server.deps import context
from mlgrove.server.web.pages import render
from mlgrove.services import projects, review, review_adjudication, review_assign, review_stats
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_list(request: Request, ctx: Context = Depends(context)) -> Response:
    queues = review.list_queues(ctx)
    rows = [(q, review.progress(ctx, q.name, q.project)) for q in queues]
    with_queues = {q.project for q in queues}
    idle = [p.name for p in projects.list_projects(ctx) if p.name not in with_queues]
    return render(
        request,
        "review_list.html",
        {"rows": rows, "idle": idle, "can_adjudicate": allowed(ctx.actor, Action.WRITE_DATA)},
    )


@router.get("/review/{project}/{queue}", response_class=HTMLResponse)
def review_screen(
    project: str, queue: str, request: Request, ctx: Context = Depends(context)
) -> Response:
    q = review.get_queue(ctx, queue, project)
    keys = list(q.labels)[:9]
    return render(
        request,
        "review_screen.html",
        {
            "queue": q,
            "keys": keys,
            "progress": review.progress(ctx, queue, project),
            "can_adjudicate": allowed(ctx.actor, Action.WRITE_DATA),
        },
    )


@router.get("/review/{project}/{queue}/done", response_class=HTMLResponse)
def review_done(
    project: str, queue: str, request: Request, ctx: Context = Depends(context)
) -> Response:
    """Where the review screen goes when the queue has nothing more for this person."""
    mine = review_adjudication.my_progress(ctx, queue, project=project)
    return render(
        request,
        "review_done.html",
        {
            "mine": mine,
            "queue": mine.queue,
            "can_adjudicate": allowed(ctx.actor, Action.WRITE_DATA),
        },
    )


def _answer_text(queue: Queue, answer: dict[str, Any]) -> str:
    if "labels" in answer:
        return ", ".join(str(label) for label in answer["labels"])
    if answer.get("accept") is True:
        return "accept the model's output"
    if "correction" in answer:
        return str(answer["correction"])
    if "ratings" in answer:
        return ", ".join(f"{c}: {v}" for c, v in answer["ratings"].items())
    return {"a": "A", "b": "B", "tie": "tie"}.get(str(answer.get("choice")), str(answer))


def _shown(value: Any) -> str:
    """A prediction as text (Jinja escapes it where it is shown)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _options(
    queue: Queue, verdicts: list[review_adjudication.ReviewerVerdict]
) -> list[tuple[str, str, list[str]]]:
    """The answers an adjudicator can pick, as (text, JSON, who gave it): the queue's own
    answers in the queue's order, so a number key means the same on every item (and on
    the review screen), then any other answer a reviewer gave (a set of labels, a
    correction, ratings)."""
    answers: list[dict[str, Any]] = []
    if queue.task_type is TaskType.LABEL:
        answers += [{"labels": [label]} for label in queue.labels]
    elif queue.task_type is TaskType.PAIRWISE:
        answers += [{"choice": c} for c in ("a", "tie", "b")]
    elif queue.task_type is TaskType.CORRECT:
        answers += [{"accept": True}] + [{"correction": label} for label in queue.labels]
    answers += [v.answer for v in verdicts]
    voters: dict[str, list[str]] = {}
    for v in verdicts:
        voters.setdefault(rules.answer_key(v.answer), []).append(v.reviewer)
    out: list[tuple[str, str, list[str]]] = []
    seen: set[str] = set()
    for answer in answers:
        key = rules.answer_key(answer)
        if key not in seen:
            seen.add(key)
            out.append((_answer_text(queue, answer), json.dumps(answer), voters.get(key, [])))
    return out


@router.get("/review/{project}/{queue}/conflicts", response_class=HTMLResponse)
def review_conflicts(
    project: str,
    queue: str,
    request: Request,
    after: int = 0,
    decided: str | None = None,
    ctx: Context = Depends(context),
) -> Response:
    """The queue's conflicts, each reviewer's verdict beside them, one form each."""
    page = review_adjudication.conflicts(ctx, queue, project=project, after_id=after)
    cards = [{"conflict": c, "options": _options(page.queue, c.verdicts)} for c in page.conflicts]
    return render(
        request,
        "review_conflicts.html",
        {
            "queue": page.queue,
            "cards": cards,
            "remaining": page.remaining,
            "decided": decided,
            "answer_text": lambda a: _answer_text(page.queue, a),
            "shown": _shown,
            "more_after": page.conflicts[-1].item.id
            if len(page.conflicts) == review_adjudication.PAGE
            else None,
        },
    )


@router.post("/review/{project}/{queue}/conflicts/{item_id}")
def review_adjudicate(
    project: str,
    queue: str,
    item_id: int,
    answer: Annotated[str, Form()],
    ctx: Context = Depends(context),
) -> Response:
    """Decide one conflict (the session's CSRF token is checked with the login)."""
    q = review.get_queue(ctx, queue, project)
    item = review.get_item(ctx, item_id)
    if item.queue_id != q.id:
        raise InvalidInput(f"item {item_id} is not in queue {q.name!r}")
    try:
        value = json.loads(answer)
    except ValueError:
        raise InvalidInput("the answer must be a JSON object") from None
    review_assign.adjudicate(ctx, item_id, value if isinstance(value, dict) else {})
    label = item.external_id or str(item.id)
    target = f"/review/{urllib.parse.quote(project, safe='')}/{urllib.parse.quote(queue, safe='')}"
    query = urllib.parse.urlencode({"decided": f"{label}: {_answer_text(q, value)}"})
    return RedirectResponse(f"{target}/conflicts?{query}", status_code=303)


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
