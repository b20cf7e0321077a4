"""Web pages for growing engineers: my growth (feedback over time with its balance across
the two axes, plans, the brag document), give feedback, requests, 1:1 notes, the
manager's team view, notifications and "who read my data".

Every page calls the same growth services as the API, so the privacy policy is applied
once. User text is escaped by Jinja's autoescape; the feedback form's live "gap" hint
comes from ``static/growth.js`` (no inline script: CSP is ``script-src 'self'``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlgrove.domain.growth import BalancePoint, compose_sbi
from mlgrove.domain.growth_policy import Visibility
from mlgrove.domain.ladder import Axis
from mlgrove.errors import InvalidInput, NotFound, PermissionDenied
from mlgrove.server.deps import context, runtime
from mlgrove.server.web.pages import render, templates
from mlgrove.services import (
    growth_access,
    growth_data,
    growth_feedback,
    growth_ladder,
    growth_plans,
    growth_team,
    notifications,
)
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)
log = logging.getLogger("mlgrove.server")

_USER_ERRORS = (InvalidInput, NotFound, PermissionDenied)


def unread_count(request: Request) -> int:
    """The navigation bar's notification count (0 when nobody is logged in)."""
    person = getattr(request.state, "person", None)
    if person is None or person.id <= 0:
        return 0
    try:
        return notifications.unread_count(runtime(request).as_actor(person))
    except Exception:  # the count must never break a page (error pages render this too)
        log.warning("could not count unread notifications", exc_info=True)
        return 0


templates.env.globals["growth_unread"] = unread_count


# -- the balance chart (server-made SVG) -------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    tone: str
    title: str


@dataclass(frozen=True)
class BalanceChart:
    width: int
    height: int
    plot_height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]
    description: str


def balance_chart(points: list[BalancePoint]) -> BalanceChart | None:
    """Two bars per month: pieces of feedback with a technical and a collaboration part."""
    if not points:
        return None
    width, plot_h, bar_w, gap = 640, 120, 14.0, 10.0
    top = max(max(p.technical, p.collaboration) for p in points) or 1
    step = min((width - gap) / len(points), 80.0)
    bars, labels = [], []
    for i, p in enumerate(points):
        x0 = gap + i * step
        for j, (value, tone, axis) in enumerate(
            (
                (p.technical, "technical", "technical"),
                (p.collaboration, "collaboration", "collaboration"),
            )
        ):
            h = plot_h * value / top
            bars.append(
                Bar(
                    x0 + j * (bar_w + 2),
                    plot_h - h,
                    h,
                    tone,
                    f"{p.month}: {value} with a {axis} part",
                )
            )
        labels.append((x0, p.month))
    total_t = sum(p.technical for p in points)
    total_c = sum(p.collaboration for p in points)
    return BalanceChart(
        width=width,
        height=plot_h + 20,
        plot_height=plot_h,
        bars=bars,
        labels=labels,
        description=f"Feedback per month: {total_t} with a technical part, "
        f"{total_c} with a collaboration part",
    )


# -- my growth ---------------------------------------------------------------------------


@router.get("/growth", response_class=HTMLResponse)
def my_growth(request: Request, ctx: Context = Depends(context)) -> Response:
    """Feedback over time and its balance, plans, links to everything else."""
    growth_access.require_person(ctx)
    feedback = growth_feedback.list_feedback(ctx)
    points = growth_feedback.my_balance(ctx)
    tech = sum(p.technical for p in points)
    collab = sum(p.collaboration for p in points)
    gap = None
    if points and (tech == 0 or collab == 0):
        gap = "collaboration" if collab == 0 else "technical"
    return render(
        request,
        "growth.html",
        {
            "feedback": feedback,
            "chart": balance_chart(points),
            "totals": {"technical": tech, "collaboration": collab},
            "gap": gap,
            "plans": growth_plans.plans_of(ctx),
            "given": growth_feedback.feedback_given(ctx)[:20],
            "teams": growth_team.managed_teams(ctx),
            "reports": growth_team.reports(ctx),
        },
    )


@router.get("/growth/ladder", response_class=HTMLResponse)
def ladder_page(request: Request, ctx: Context = Depends(context)) -> Response:
    """The competency ladder in force: both axes, expectations per level."""
    ladder = growth_ladder.current(ctx.settings)
    return render(
        request,
        "growth_ladder.html",
        {"ladder": ladder, "axes": {axis: ladder.on_axis(axis) for axis in Axis}},
    )


@router.get("/growth/people/{who}", response_class=HTMLResponse)
def person_page(request: Request, who: str, ctx: Context = Depends(context)) -> Response:
    """Someone else's growth as the policy lets the caller see it (e.g. a manager sees
    the feedback shared with them and the plans). Every read is in their read log."""
    growth_access.require_person(ctx)
    feedback = growth_feedback.list_feedback(ctx, who)
    try:
        plans = growth_plans.plans_of(ctx, who)
        plans_private = False
    except PermissionDenied:
        plans, plans_private = [], True
    return render(
        request,
        "growth_person.html",
        {"who": who, "feedback": feedback, "plans": plans, "plans_private": plans_private},
    )


# -- give feedback -----------------------------------------------------------------------


def _give_page(
    request: Request,
    ctx: Context,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    done: Any = None,
    status_code: int = 200,
) -> Response:
    ladder = growth_ladder.current(ctx.settings)
    return render(
        request,
        "growth_give.html",
        {
            "values": values or {},
            "error": error,
            "done": done,
            "competencies": {axis: ladder.on_axis(axis) for axis in Axis},
            "visibilities": list(Visibility),
        },
        status_code=status_code,
    )


@router.get("/growth/give", response_class=HTMLResponse)
def give_form(
    request: Request,
    to: str = "",
    about: str = "",
    request_id: int | None = None,
    ctx: Context = Depends(context),
) -> Response:
    growth_access.require_person(ctx)
    return _give_page(request, ctx, values={"to": to, "about": about, "request_id": request_id})


@router.post("/growth/give", response_class=HTMLResponse)
def give_submit(
    request: Request,
    to: Annotated[str, Form()] = "",
    about: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = Visibility.RECEIVER.value,
    competencies: Annotated[list[str] | None, Form()] = None,
    technical_situation: Annotated[str, Form()] = "",
    technical_behaviour: Annotated[str, Form()] = "",
    technical_impact: Annotated[str, Form()] = "",
    collaboration_situation: Annotated[str, Form()] = "",
    collaboration_behaviour: Annotated[str, Form()] = "",
    collaboration_impact: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
    ctx: Context = Depends(context),
) -> Response:
    form = {
        "to": to,
        "about": about,
        "visibility": visibility,
        "competencies": competencies or [],
        "technical_situation": technical_situation,
        "technical_behaviour": technical_behaviour,
        "technical_impact": technical_impact,
        "collaboration_situation": collaboration_situation,
        "collaboration_behaviour": collaboration_behaviour,
        "collaboration_impact": collaboration_impact,
        "request_id": request_id,
    }
    try:
        fb = growth_feedback.give_feedback(
            ctx,
            to,
            technical=compose_sbi(technical_situation, technical_behaviour, technical_impact),
            collaboration=compose_sbi(
                collaboration_situation, collaboration_behaviour, collaboration_impact
            ),
            about=about,
            competencies=competencies or [],
            visibility=visibility,
            request_id=int(request_id) if request_id.strip().isdigit() else None,
        )
    except _USER_ERRORS as exc:
        return _give_page(request, ctx, values=form, error=str(exc), status_code=400)
    return _give_page(request, ctx, done=fb, status_code=201)


# -- requests ----------------------------------------------------------------------------


def _requests_page(
    request: Request, ctx: Context, *, error: str | None = None, status_code: int = 200
) -> Response:
    to_me, mine = growth_feedback.list_requests(ctx)
    return render(
        request,
        "growth_requests.html",
        {"to_me": to_me, "mine": mine, "error": error},
        status_code=status_code,
    )


@router.get("/growth/requests", response_class=HTMLResponse)
def requests_page(request: Request, ctx: Context = Depends(context)) -> Response:
    growth_access.require_person(ctx)
    return _requests_page(request, ctx)


@router.post("/growth/requests", response_class=HTMLResponse)
def requests_submit(
    request: Request,
    peers: Annotated[str, Form()] = "",
    about: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
    ctx: Context = Depends(context),
) -> Response:
    names = [p for p in peers.replace(",", " ").split() if p]
    try:
        growth_feedback.request_feedback(ctx, names, about=about, message=message)
    except _USER_ERRORS as exc:
        return _requests_page(request, ctx, error=str(exc), status_code=400)
    return RedirectResponse("/growth/requests", status_code=303)


# -- plans and the brag document ---------------------------------------------------------


def _plans_page(
    request: Request, ctx: Context, *, error: str | None = None, status_code: int = 200
) -> Response:
    ladder = growth_ladder.current(ctx.settings)
    return render(
        request,
        "growth_plans.html",
        {
            "plans": growth_plans.plans_of(ctx),
            "work": growth_plans.work_items(ctx),
            "competencies": ladder.competencies,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/growth/plans", response_class=HTMLResponse)
def plans_page(request: Request, ctx: Context = Depends(context)) -> Response:
    """Growth plans with their goals and evidence: the brag document."""
    growth_access.require_person(ctx)
    return _plans_page(request, ctx)


@router.post("/growth/plans", response_class=HTMLResponse)
def plans_create(
    request: Request,
    title: Annotated[str, Form()] = "",
    competency: Annotated[str, Form()] = "",
    goal: Annotated[str, Form()] = "",
    ctx: Context = Depends(context),
) -> Response:
    try:
        growth_plans.create_plan(ctx, title, [(competency, goal)] if goal.strip() else [])
    except _USER_ERRORS as exc:
        return _plans_page(request, ctx, error=str(exc), status_code=400)
    return RedirectResponse("/growth/plans", status_code=303)


@router.post("/growth/plans/{plan_id}/goals", response_class=HTMLResponse)
def plans_add_goal(
    request: Request,
    plan_id: int,
    competency: Annotated[str, Form()] = "",
    goal: Annotated[str, Form()] = "",
    ctx: Context = Depends(context),
) -> Response:
    try:
        growth_plans.add_goal(ctx, plan_id, competency, goal)
    except _USER_ERRORS as exc:
        return _plans_page(request, ctx, error=str(exc), status_code=400)
    return RedirectResponse("/growth/plans", status_code=303)


@router.post("/growth/goals/{goal_id}/evidence", response_class=HTMLResponse)
def plans_add_evidence(
    request: Request,
    goal_id: int,
    work: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    ctx: Context = Depends(context),
) -> Response:
    kind, _, ref = work.partition(":")
    try:
        if not ref.isdigit():
            raise InvalidInput("pick a piece of your work")
        growth_plans.add_evidence(ctx, goal_id, kind, int(ref), note)
    except _USER_ERRORS as exc:
        return _plans_page(request, ctx, error=str(exc), status_code=400)
    return RedirectResponse("/growth/plans", status_code=303)


# -- 1:1 notes ---------------------------------------------------------------------------


def _notes_page(
    request: Request, ctx: Context, with_: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    notes = growth_plans.list_notes(ctx, with_) if with_ else []
    return render(
        request,
        "growth_notes.html",
        {"with_": with_, "notes": notes, "error": error},
        status_code=status_code,
    )


@router.get("/growth/notes", response_class=HTMLResponse)
def notes_page(request: Request, with_: str = "", ctx: Context = Depends(context)) -> Response:
    """Private 1:1 notes with one person (``?with_=username``)."""
    growth_access.require_person(ctx)
    try:
        return _notes_page(request, ctx, with_)
    except NotFound as exc:
        return _notes_page(request, ctx, "", error=str(exc), status_code=404)


@router.post("/growth/notes", response_class=HTMLResponse)
def notes_add(
    request: Request,
    with_: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    ctx: Context = Depends(context),
) -> Response:
    try:
        growth_plans.add_note(ctx, with_, body)
    except _USER_ERRORS as exc:
        return _notes_page(request, ctx, "", error=str(exc), status_code=400)
    return RedirectResponse(f"/growth/notes?with_={with_}", status_code=303)


# -- the manager view --------------------------------------------------------------------


@router.get("/growth/team", response_class=HTMLResponse)
def team_page(request: Request, team: str = "", ctx: Context = Depends(context)) -> Response:
    """Team aggregates for its managers; hidden below the minimum group size."""
    teams = growth_team.managed_teams(ctx)
    chosen = team or (teams[0] if teams else "")
    view = growth_team.team_growth(ctx, chosen) if chosen else None
    return render(request, "growth_team.html", {"teams": teams, "view": view})


# -- notifications, reads, export/delete -------------------------------------------------


@router.get("/growth/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, ctx: Context = Depends(context)) -> Response:
    found = notifications.list_notifications(ctx)
    return render(request, "notifications.html", {"notifications": found})


@router.post("/growth/notifications/read")
def notifications_read(ctx: Context = Depends(context)) -> Response:
    notifications.mark_read(ctx)
    return RedirectResponse("/growth/notifications", status_code=303)


@router.get("/growth/reads", response_class=HTMLResponse)
def reads_page(request: Request, ctx: Context = Depends(context)) -> Response:
    """Who read (or was refused) my growth data."""
    return render(request, "growth_reads.html", {"reads": growth_access.reads_of(ctx)})


@router.get("/growth/export.json")
def export_download(ctx: Context = Depends(context)) -> Response:
    body = json.dumps(growth_data.export(ctx), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-growth-data.json"'},
    )


@router.post("/growth/delete", response_class=HTMLResponse)
def delete_mine(
    request: Request, confirm: Annotated[str, Form()] = "", ctx: Context = Depends(context)
) -> Response:
    if confirm != "delete":
        raise InvalidInput("type delete to confirm", hint="nothing was deleted")
    growth_data.delete_mine(ctx)
    return RedirectResponse("/growth", status_code=303)
