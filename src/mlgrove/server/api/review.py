"""REST endpoints for review: queues, items, assignment, verdicts, statistics, and the
end-user feedback ingest (authenticated by a write-only ingest key, not a person).

The review screen of the web UI uses these same endpoints (with its session cookie and
CSRF header), so the browser and the SDK follow one path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mlgrove.errors import InvalidInput, RateLimited
from mlgrove.server.api.review_schemas import (
    MAX_FEEDBACK_BYTES,
    AnswerIn,
    CommitIn,
    GoldIn,
    ItemsIn,
    PredictionsIn,
    QueueIn,
    VerdictIn,
    agreement_out,
    assignment_out,
    coaching_out,
    commit_out,
    item_out,
    quality_out,
    queue_out,
    verdict_out,
)
from mlgrove.server.deps import context, runtime
from mlgrove.server.errors import problem
from mlgrove.services import (
    review,
    review_assign,
    review_feedback,
    review_io,
    review_loop,
    review_stats,
)
from mlgrove.services.context import Context

router = APIRouter(tags=["review"])

INGEST_HEADER = "X-Grove-Ingest-Key"


# -- queues and items -----------------------------------------------------------------------


@router.get("/review/queues")
def list_queues(project: str | None = None, ctx: Context = Depends(context)) -> dict[str, Any]:
    """Review queues (of one project, or all)."""
    return {"queues": [queue_out(q) for q in review.list_queues(ctx, project)]}


@router.post("/review/queues", status_code=201)
def create_queue(body: QueueIn, ctx: Context = Depends(context)) -> dict[str, Any]:
    """Create a queue: task type, label set or rubric, overlap, instructions."""
    return queue_out(review.create_queue(ctx, body.name, body.spec(), project=body.project))


@router.get("/review/queues/{queue}")
def get_queue(
    queue: str, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """One queue with its progress."""
    q = review.get_queue(ctx, queue, project)
    p = review.progress(ctx, queue, project)
    return {
        **queue_out(q),
        "progress": {
            "total": p.total,
            "open": p.open,
            "conflict": p.conflict,
            "resolved": p.resolved,
        },
    }


@router.post("/review/queues/{queue}/items", status_code=201)
def add_items(
    queue: str, body: ItemsIn, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """Add items (all or nothing; an error names the first bad item)."""
    return {"added": review.add_items(ctx, queue, body.items, project=project)}


@router.post("/review/queues/{queue}/predictions", status_code=201)
def add_predictions(
    queue: str, body: PredictionsIn, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """Queue a model version's predictions over a dataset version, one per row."""
    added = review.add_predictions(
        ctx,
        queue,
        model=body.model,
        dataset=body.dataset,
        predictions=body.predictions,
        confidences=body.confidences,
        scores=body.scores,
        dataset_version=body.dataset_version,
        input_column=body.input_column,
        project=project,
    )
    return {"added": added}


@router.get("/review/queues/{queue}/items")
def list_items(
    queue: str,
    project: str | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    ctx: Context = Depends(context),
) -> dict[str, Any]:
    """Items in id order; page with ``after_id`` (the last id of the previous page)."""
    items = review.list_items(
        ctx, queue, project=project, status=status, after_id=after_id, limit=limit
    )
    return {"items": [item_out(i) for i in items]}


# -- assignment -------------------------------------------------------------------------------


@router.post("/review/queues/{queue}/next", response_model=None)
def next_item(
    queue: str, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any] | Response:
    """Your current item or a new one leased to you; 204 when nothing is left for you."""
    got = review_assign.next_item(ctx, queue, project=project)
    if got is None:
        return Response(status_code=204)
    return assignment_out(got)


@router.post("/review/items/{item_id}/verdict", status_code=201)
def submit(item_id: int, body: VerdictIn, ctx: Context = Depends(context)) -> dict[str, Any]:
    """Your verdict on an item leased to you (idempotent with ``submit_key``)."""
    verdict = review_assign.submit(
        ctx,
        item_id,
        body.answer,
        improve=body.improve,
        tags=body.tags,
        seconds=body.seconds,
        submit_key=body.submit_key,
    )
    return verdict_out(verdict)


@router.post("/review/items/{item_id}/skip", status_code=204)
def skip(item_id: int, ctx: Context = Depends(context)) -> Response:
    """Give the item back; it is not offered to you again."""
    review_assign.skip(ctx, item_id)
    return Response(status_code=204)


@router.post("/review/queues/{queue}/undo")
def undo(queue: str, project: str | None = None, ctx: Context = Depends(context)) -> dict[str, Any]:
    """Take back your last verdict in the queue; its item is leased to you again."""
    return assignment_out(review_assign.undo(ctx, queue, project=project))


@router.post("/review/items/{item_id}/adjudicate", status_code=204)
def adjudicate(item_id: int, body: AnswerIn, ctx: Context = Depends(context)) -> Response:
    """Decide an item (one in conflict, typically)."""
    review_assign.adjudicate(ctx, item_id, body.answer)
    return Response(status_code=204)


@router.put("/review/items/{item_id}/gold", status_code=204)
def set_gold(item_id: int, body: GoldIn, ctx: Context = Depends(context)) -> Response:
    """Make the item a gold item with this known answer (``null`` clears it)."""
    review_assign.set_gold(ctx, item_id, body.answer)
    return Response(status_code=204)


# -- statistics and the loop -------------------------------------------------------------------


@router.get("/review/queues/{queue}/agreement")
def agreement(
    queue: str,
    project: str | None = None,
    level: str = "nominal",
    criterion: str | None = None,
    resamples: int = 1000,
    seed: int = 0,
    ctx: Context = Depends(context),
) -> dict[str, Any]:
    """Percent agreement, Fleiss' and Cohen's kappa, Krippendorff's alpha, with CIs."""
    if not 0 <= resamples <= 10_000:
        raise InvalidInput("resamples must be between 0 and 10000")
    report = review_stats.agreement_report(
        ctx,
        queue,
        level=level,
        criterion=criterion,
        project=project,
        resamples=resamples,
        seed=seed,
    )
    return agreement_out(report)


@router.get("/review/queues/{queue}/quality")
def quality(
    queue: str, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """Human-judged quality per model version."""
    return {
        "models": [quality_out(q) for q in review_stats.model_quality(ctx, queue, project=project)]
    }


@router.get("/review/queues/{queue}/coaching/{reviewer}")
def coaching(
    queue: str, reviewer: str, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """A reviewer's gold accuracy and confusions: for them and their manager only."""
    return coaching_out(review_stats.coaching(ctx, queue, reviewer, project=project))


@router.post("/review/queues/{queue}/commit")
def commit(
    queue: str, body: CommitIn, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """Commit resolved corrections as a new version of the training dataset."""
    version = review_loop.commit_corrections(
        ctx, queue, dataset=body.dataset, message=body.message, project=project
    )
    if version is None:
        return {"committed": False}
    return {
        "committed": True,
        "dataset": version.dataset,
        "version": version.number,
        "rows": version.rows,
    }


@router.post("/review/queues/{queue}/ingest-keys", status_code=201)
def create_ingest_key(
    queue: str, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """A write-only key for end-user feedback into this queue; the secret is shown once."""
    key = review_feedback.create_ingest_key(ctx, queue, project=project)
    return {"id": key.id, "queue": key.queue, "prefix": key.prefix, "key": key.secret}


@router.get("/review/queues/{queue}/commits")
def commits(
    queue: str, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """The queue's commits to training data (items, verdicts, reviewers), newest first."""
    found = review_loop.list_commits(ctx, queue, project=project)
    return {"commits": [commit_out(c) for c in found]}


@router.post("/review/queues/{queue}/import", status_code=201)
async def import_label_studio(
    queue: str, request: Request, project: str | None = None, ctx: Context = Depends(context)
) -> dict[str, Any]:
    """Label Studio JSON tasks (the body: a list) into the queue, created when needed."""
    try:
        tasks = json.loads(await request.body())
    except ValueError:
        raise InvalidInput(
            "the body must be a Label Studio JSON export (a list of tasks)"
        ) from None
    summary = await run_in_threadpool(
        review_io.import_label_studio, ctx, queue, tasks, project=project
    )
    return asdict(summary)


@router.get("/review/queues/{queue}/export")
def export(
    queue: str,
    project: str | None = None,
    format: str = "label-studio",
    ctx: Context = Depends(context),
) -> StreamingResponse:
    """The queue as JSON lines: Label Studio tasks, or (``?format=jsonl``) resolved answers."""
    records = review_io.export(ctx, queue, format, project=project)
    first = next(records, None)  # errors (unknown queue or format) before the 200 starts

    def lines() -> Iterator[bytes]:
        if first is None:
            return
        yield json.dumps(first, default=str, ensure_ascii=False).encode() + b"\n"
        for record in records:
            yield json.dumps(record, default=str, ensure_ascii=False).encode() + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


# -- end-user feedback -------------------------------------------------------------------------


def _limiter(request: Request) -> review_feedback.RateLimiter:
    limiter = getattr(request.app.state, "review_ingest_limiter", None)
    if limiter is None:
        limiter = review_feedback.RateLimiter()
        request.app.state.review_ingest_limiter = limiter
    assert isinstance(limiter, review_feedback.RateLimiter)
    return limiter


@router.post("/review/feedback", status_code=202, response_model=None)
async def ingest_feedback(request: Request) -> dict[str, Any] | Response:
    """End-user feedback on a prediction, with the queue's ingest key in the
    ``X-Grove-Ingest-Key`` header: ``{"prediction_id", "rating", "comment",
    "correction", "input"}``. 401 for a wrong key, 413 over 16 KiB, 429 when too fast."""
    key = request.headers.get(INGEST_HEADER, "")
    rt = runtime(request)
    key_id = await run_in_threadpool(review_feedback.check_key, rt, key)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FEEDBACK_BYTES:
        return _too_large()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FEEDBACK_BYTES:
            return _too_large()
    if not _limiter(request).allow(str(key_id)):
        raise RateLimited(
            "too much feedback with this ingest key",
            retry_after=1,
            hint=f"send at most {review_feedback.RATE_PER_MINUTE} a minute",
        )
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise InvalidInput("the body must be a JSON object") from None
    if not isinstance(payload, dict):
        raise InvalidInput(
            "the body must be a JSON object", hint='{"prediction_id": "...", "rating": 1}'
        )
    receipt = await run_in_threadpool(review_feedback.ingest, rt, key, payload)
    return {"item": receipt.item_id, "new_item": receipt.new_item, "negative": receipt.negative}


def _too_large() -> Response:
    return problem(
        413,
        "payload-too-large",
        "Payload too large",
        f"feedback bodies take at most {MAX_FEEDBACK_BYTES} bytes",
        hint="shorten the comment or send the correction by reference",
    )
