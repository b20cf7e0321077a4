"""Web pages: help requests, learning time, mentorship, design reviews, rotations.

Plain HTML forms posted with the CSRF token and answered with a redirect (so reloading
never posts twice); a refused form re-renders its page with the error in words and the
right status. Every page calls the same services as the API. Charts are server-made SVG.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.learning import BudgetReport, EventKind
from mlgrove.domain.mentorship import TRAINING_CHECKLIST
from mlgrove.errors import GroveError, InvalidInput
from mlgrove.server.deps import context
from mlgrove.server.errors import status_for
from mlgrove.server.web.charts import Bar, Chart
from mlgrove.server.web.pages import render
from mlgrove.services import (
    design_reviews,
    growth_team,
    help_requests,
    learning,
    mentorship,
    people,
    programs_team,
    rotations,
)
from mlgrove.services.context import Context

router = APIRouter(include_in_schema=False)

T = TypeVar("T")
Text = Annotated[str, Form()]
OptText = Annotated[str, Form()]


def _back(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _attempt(
    request: Request,
    action: Callable[[], T],
    page: Callable[[str | None, int], Response],
    then: Callable[[T], str],
) -> Response:
    """Run a form's action; on a mistake the user can fix, show the page with the error."""
    try:
        result = action()
    except GroveError as exc:
        return page(str(exc), status_for(exc))
    return _back(then(result))


def _time(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date") from None


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.replace(",", "\n").splitlines() if x.strip()]


def _my_team(ctx: Context) -> str | None:
    teams = {t.id: t.name for t in people.list_teams(ctx)}
    return teams.get(ctx.actor.team_id) if ctx.actor.team_id is not None else None


# -- the hub -------------------------------------------------------------------------------


@router.get("/programs", response_class=HTMLResponse)
def hub(request: Request, ctx: Context = Depends(context)) -> Response:
    """The programmes, and for managers their teams' figures (aggregates only)."""
    views = [programs_team.team_programmes(ctx, t) for t in growth_team.managed_teams(ctx)]
    return render(request, "program_hub.html", {"team_views": views})


# -- help requests -------------------------------------------------------------------------


def _help_page(
    request: Request, ctx: Context, error: str | None = None, status: int = 200
) -> Response:
    team = _my_team(ctx)
    return render(
        request,
        "help_list.html",
        {
            "open": help_requests.list_requests(ctx, status="open"),
            "resolved": help_requests.list_requests(ctx, status="resolved", limit=20),
            "marks": help_requests.list_requests(ctx, status="stuck", mine=True),
            "nudges": help_requests.nudges(ctx),
            "nudge_minutes": help_requests.nudge_setting(ctx),
            "stats": help_requests.team_stats(ctx, team) if team else None,
            "error": error,
        },
        status_code=status,
    )


@router.get("/programs/help", response_class=HTMLResponse)
def help_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return _help_page(request, ctx)


@router.post("/programs/help", response_class=HTMLResponse)
def help_ask(
    request: Request,
    topic: Text,
    context_text: Annotated[str, Form(alias="context")] = "",
    stuck_for: OptText = "",
    competency: OptText = "",
    dataset: OptText = "",
    share: OptText = "",
    only_mark: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    return _attempt(
        request,
        lambda: help_requests.ask(
            ctx,
            topic,
            context=context_text,
            competency=competency,
            dataset=dataset,
            stuck_since=stuck_for.strip() or None,
            share_with_mentor=bool(share),
            ask_now=not only_mark,
        ),
        lambda e, s: _help_page(request, ctx, e, s),
        lambda r: f"/programs/help/{r.id}",
    )


@router.post("/programs/help/nudge", response_class=HTMLResponse)
def help_nudge(request: Request, after: OptText = "", ctx: Context = Depends(context)) -> Response:
    return _attempt(
        request,
        lambda: help_requests.set_nudge(ctx, after.strip() or None),
        lambda e, s: _help_page(request, ctx, e, s),
        lambda _: "/programs/help",
    )


def _request_page(
    request: Request, ctx: Context, request_id: int, error: str | None = None, status: int = 200
) -> Response:
    r = help_requests.get_request(ctx, request_id)
    return render(
        request,
        "help_request.html",
        {
            "r": r,
            "mine": r.asker == ctx.actor.username,
            "helpers": help_requests.suggest_helpers(ctx, request_id),
            "error": error,
        },
        status_code=status,
    )


@router.get("/programs/help/{request_id}", response_class=HTMLResponse)
def help_request_page(
    request: Request, request_id: int, ctx: Context = Depends(context)
) -> Response:
    return _request_page(request, ctx, request_id)


def _on_request(
    request: Request, ctx: Context, request_id: int, action: Callable[[], Any]
) -> Response:
    return _attempt(
        request,
        action,
        lambda e, s: _request_page(request, ctx, request_id, e, s),
        lambda _: f"/programs/help/{request_id}",
    )


@router.post("/programs/help/{request_id}/respond", response_class=HTMLResponse)
def help_respond(
    request: Request, request_id: int, body: Text, ctx: Context = Depends(context)
) -> Response:
    return _on_request(
        request, ctx, request_id, lambda: help_requests.respond(ctx, request_id, body)
    )


@router.post("/programs/help/{request_id}/resolve", response_class=HTMLResponse)
async def help_resolve(
    request: Request, request_id: int, ctx: Context = Depends(context)
) -> Response:
    form = await request.form()
    thank = [int(v) for v in form.getlist("thank") if isinstance(v, str) and v.isdigit()]
    return _on_request(
        request, ctx, request_id, lambda: help_requests.resolve(ctx, request_id, thank=thank)
    )


@router.post("/programs/help/{request_id}/ask", response_class=HTMLResponse)
def help_ask_marked(request: Request, request_id: int, ctx: Context = Depends(context)) -> Response:
    return _on_request(request, ctx, request_id, lambda: help_requests.ask_marked(ctx, request_id))


@router.post("/programs/help/{request_id}/share", response_class=HTMLResponse)
def help_share(
    request: Request, request_id: int, share: OptText = "", ctx: Context = Depends(context)
) -> Response:
    return _on_request(
        request,
        ctx,
        request_id,
        lambda: help_requests.share_with_mentor(ctx, request_id, share == "yes"),
    )


# -- learning ------------------------------------------------------------------------------


def budget_chart(report: BudgetReport) -> Chart | None:
    """Budget and logged hours side by side for each week (team sums)."""
    if not report.shown or not report.weeks:
        return None
    width, plot, axis = 240.0, 64.0, 16.0
    top = max(max(w.budget_hours, w.actual_hours) for w in report.weeks) or 1.0
    slot = width / len(report.weeks)
    bar = max(slot / 2 - 1, 0.5)
    bars = []
    for i, w in enumerate(report.weeks):
        title = (
            f"week of {w.week_start}: {w.actual_hours:g} h logged of {w.budget_hours:g} h budgeted"
        )
        for k, value in enumerate((w.budget_hours, w.actual_hours)):
            h = plot * value / top
            if value > 0:
                h = max(h, 1)
            bars.append(Bar(i * slot + k * (bar + 0.5), plot - h, bar, h, title, tone=k))
    return Chart(
        "columns",
        width,
        plot + axis,
        f"Learning hours per week, budget (first bar) against logged (second bar), "
        f"{report.weeks[0].week_start} to {report.weeks[-1].week_start}",
        bars,
        axis_left=str(report.weeks[0].week_start),
        axis_right=str(report.weeks[-1].week_start),
        plot_height=plot,
    )


def _learning_page(
    request: Request, ctx: Context, error: str | None = None, status: int = 200
) -> Response:
    team = _my_team(ctx)
    report = learning.budget_report(ctx, team) if team else None
    return render(
        request,
        "learning.html",
        {
            "team": team,
            "report": report,
            "budget_chart": budget_chart(report) if report else None,
            "events": learning.list_events(ctx, team=team),
            "entries": learning.my_entries(ctx, limit=20),
            "kinds": [k.value for k in EventKind],
            "can_budget": allowed(ctx.actor, Action.RUN_PROGRAMMES),
            "feed": "/api/v1/learning/events.ics" + (f"?team={team}" if team else ""),
            "personal_feed": str(request.base_url).rstrip("/") + learning.calendar_path(ctx),
            "error": error,
        },
        status_code=status,
    )


@router.get("/programs/learning", response_class=HTMLResponse)
def learning_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return _learning_page(request, ctx)


@router.post("/programs/learning/log", response_class=HTMLResponse)
def learning_log(
    request: Request,
    hours: Text,
    topic: Text,
    competency: OptText = "",
    day: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    def act() -> Any:
        try:
            h = float(hours)
        except ValueError:
            raise InvalidInput(f"{hours!r} is not a number of hours") from None
        return learning.log(
            ctx, h, topic, competency=competency, day=_day(day, "day") if day else None
        )

    return _attempt(
        request,
        act,
        lambda e, s: _learning_page(request, ctx, e, s),
        lambda _: "/programs/learning",
    )


@router.post("/programs/learning/events", response_class=HTMLResponse)
def learning_event(
    request: Request,
    kind: Text,
    title: Text,
    starts_at: Text,
    ends_at: OptText = "",
    topic: OptText = "",
    presenter: OptText = "",
    location: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    return _attempt(
        request,
        lambda: learning.add_event(
            ctx,
            kind,
            title,
            _time(starts_at, "start"),
            ends_at=_time(ends_at, "end") if ends_at else None,
            topic=topic,
            presenter=presenter,
            location=location,
        ),
        lambda e, s: _learning_page(request, ctx, e, s),
        lambda _: "/programs/learning",
    )


@router.post("/programs/learning/budget", response_class=HTMLResponse)
def learning_budget(
    request: Request,
    kind: Text,
    share_percent: OptText = "",
    sprint_weeks: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    def act() -> Any:
        team = _my_team(ctx)
        if team is None:
            raise InvalidInput("you are in no team")
        try:
            share = float(share_percent) / 100 if share_percent else None
            weeks = int(sprint_weeks) if sprint_weeks else None
        except ValueError:
            raise InvalidInput("the share and the sprint length are numbers") from None
        return learning.set_budget(ctx, team, kind, share=share, sprint_weeks=weeks)

    return _attempt(
        request,
        act,
        lambda e, s: _learning_page(request, ctx, e, s),
        lambda _: "/programs/learning",
    )


# -- mentorship ----------------------------------------------------------------------------


def _mentors_page(
    request: Request, ctx: Context, error: str | None = None, status: int = 200
) -> Response:
    lead = allowed(ctx.actor, Action.RUN_PROGRAMMES)
    offers = mentorship.list_offers(ctx)
    mine = next((o for o in offers if o.person == ctx.actor.username), None)
    return render(
        request,
        "mentors.html",
        {
            "offers": offers,
            "my_offer": mine,
            "pairs": mentorship.list_pairs(ctx),
            "lead": lead,
            "proposal": mentorship.propose(ctx) if lead else [],
            "mentees": mentorship.list_mentees(ctx) if lead else [],
            "all_pairs": mentorship.list_pairs(ctx, everyone=True) if lead else [],
            "checklist": list(enumerate(TRAINING_CHECKLIST, 1)),
            "error": error,
        },
        status_code=status,
    )


@router.get("/programs/mentors", response_class=HTMLResponse)
def mentors_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return _mentors_page(request, ctx)


def _on_mentors(request: Request, ctx: Context, action: Callable[[], Any]) -> Response:
    return _attempt(
        request,
        action,
        lambda e, s: _mentors_page(request, ctx, e, s),
        lambda _: "/programs/mentors",
    )


@router.post("/programs/mentors/offer", response_class=HTMLResponse)
def mentors_offer(
    request: Request, strengths: Text, capacity: Text, ctx: Context = Depends(context)
) -> Response:
    def act() -> Any:
        if not capacity.strip().isdigit():
            raise InvalidInput(f"capacity {capacity!r} is not a whole number")
        return mentorship.offer(ctx, _lines(strengths), int(capacity))

    return _on_mentors(request, ctx, act)


@router.post("/programs/mentors/want", response_class=HTMLResponse)
def mentors_want(
    request: Request, goals: Text, note: OptText = "", ctx: Context = Depends(context)
) -> Response:
    return _on_mentors(request, ctx, lambda: mentorship.set_goals(ctx, _lines(goals), note))


@router.post("/programs/mentors/training", response_class=HTMLResponse)
async def mentors_training(request: Request, ctx: Context = Depends(context)) -> Response:
    form = await request.form()
    ticked = {int(v) for v in form.getlist("item") if isinstance(v, str) and v.isdigit()}
    everything = range(1, len(TRAINING_CHECKLIST) + 1)

    def act() -> Any:
        mentorship.tick_training(ctx, [n for n in everything if n not in ticked], done=False)
        return mentorship.tick_training(ctx, sorted(ticked), done=True)

    return _on_mentors(request, ctx, act)


@router.post("/programs/mentors/approve", response_class=HTMLResponse)
async def mentors_approve(request: Request, ctx: Context = Depends(context)) -> Response:
    """The proposal as edited: each kept row's mentor (possibly changed) and mentee."""
    form = await request.form()
    pairs = []
    for key in form:
        if key.startswith("keep-"):
            mentee = key.removeprefix("keep-")
            mentor = form.get(f"mentor-{mentee}")
            if isinstance(mentor, str) and mentor:
                pairs.append((mentor, mentee))
    return _on_mentors(request, ctx, lambda: mentorship.approve(ctx, pairs))


@router.post("/programs/mentors/{pair_id}/session", response_class=HTMLResponse)
def mentors_session(
    request: Request,
    pair_id: int,
    minutes: Text,
    notes: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    def act() -> Any:
        if not minutes.strip().isdigit():
            raise InvalidInput(f"{minutes!r} is not a number of minutes")
        return mentorship.log_session(ctx, pair_id, int(minutes), notes)

    return _on_mentors(request, ctx, act)


@router.post("/programs/mentors/{pair_id}/end", response_class=HTMLResponse)
def mentors_end(request: Request, pair_id: int, ctx: Context = Depends(context)) -> Response:
    return _on_mentors(request, ctx, lambda: mentorship.end_pair(ctx, pair_id))


# -- designs -------------------------------------------------------------------------------


def _designs_page(
    request: Request,
    ctx: Context,
    error: str | None = None,
    status: int = 200,
    added: Any = None,
) -> Response:
    return render(
        request,
        "designs.html",
        {
            "designs": design_reviews.list_designs(ctx),
            "reviews": design_reviews.list_reviews(ctx, upcoming=True),
            "teams": [t.name for t in people.list_teams(ctx)],
            "added": added,
            "error": error,
        },
        status_code=status,
    )


@router.get("/programs/designs", response_class=HTMLResponse)
def designs_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return _designs_page(request, ctx)


@router.post("/programs/designs", response_class=HTMLResponse)
def designs_add(
    request: Request,
    title: Text,
    summary: Text,
    doc_url: OptText = "",
    datasets: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    return _attempt(
        request,
        lambda: design_reviews.add_design(
            ctx, title, summary, doc_url=doc_url, datasets=_lines(datasets)
        ),
        lambda e, s: _designs_page(request, ctx, e, s),
        # The design's page lists the similar ones, right after it was added.
        lambda made: f"/programs/designs/{made.design.id}",
    )


@router.get("/programs/designs/{design_id}", response_class=HTMLResponse)
def design_page(request: Request, design_id: int, ctx: Context = Depends(context)) -> Response:
    return render(request, "design.html", {"found": design_reviews.get_design(ctx, design_id)})


@router.post("/programs/reviews", response_class=HTMLResponse)
async def reviews_schedule(request: Request, ctx: Context = Depends(context)) -> Response:
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    invite = [v for v in form.getlist("invite") if isinstance(v, str)]
    return _attempt(
        request,
        lambda: design_reviews.schedule_review(
            ctx,
            field("title"),
            _time(field("scheduled_at"), "time"),
            kind=field("kind") or "design-review",
            abstract=field("abstract"),
            doc_url=field("doc_url"),
            invite=invite,
            design_id=int(field("design_id")) if field("design_id").isdigit() else None,
        ),
        lambda e, s: _designs_page(request, ctx, e, s),
        lambda r: f"/programs/reviews/{r.id}",
    )


def _review_page(
    request: Request, ctx: Context, review_id: int, error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "design_review.html",
        {"review": design_reviews.get_review(ctx, review_id), "error": error},
        status_code=status,
    )


@router.get("/programs/reviews/{review_id}", response_class=HTMLResponse)
def review_page(request: Request, review_id: int, ctx: Context = Depends(context)) -> Response:
    return _review_page(request, ctx, review_id)


@router.post("/programs/reviews/{review_id}/attend", response_class=HTMLResponse)
def review_attend(request: Request, review_id: int, ctx: Context = Depends(context)) -> Response:
    return _attempt(
        request,
        lambda: design_reviews.attend(ctx, review_id),
        lambda e, s: _review_page(request, ctx, review_id, e, s),
        lambda _: f"/programs/reviews/{review_id}",
    )


@router.post("/programs/reviews/{review_id}/feedback", response_class=HTMLResponse)
def review_feedback(
    request: Request, review_id: int, body: Text, ctx: Context = Depends(context)
) -> Response:
    return _attempt(
        request,
        lambda: design_reviews.add_feedback(ctx, review_id, body),
        lambda e, s: _review_page(request, ctx, review_id, e, s),
        lambda _: f"/programs/reviews/{review_id}",
    )


# -- rotations -----------------------------------------------------------------------------


def _rotations_page(
    request: Request, ctx: Context, error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "program_rotations.html",
        {
            "rotations": rotations.list_rotations(ctx),
            "lead": allowed(ctx.actor, Action.RUN_PROGRAMMES),
            "teams": [t.name for t in people.list_teams(ctx)],
            "error": error,
        },
        status_code=status,
    )


@router.get("/programs/rotations", response_class=HTMLResponse)
def rotations_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return _rotations_page(request, ctx)


@router.post("/programs/rotations", response_class=HTMLResponse)
def rotations_plan(
    request: Request,
    person: Text,
    host_team: Text,
    starts_on: Text,
    ends_on: Text,
    goals: Text,
    project: OptText = "",
    ctx: Context = Depends(context),
) -> Response:
    return _attempt(
        request,
        lambda: rotations.plan(
            ctx,
            person,
            host_team,
            _day(starts_on, "start"),
            _day(ends_on, "end"),
            _lines(goals),
            project=project,
        ),
        lambda e, s: _rotations_page(request, ctx, e, s),
        lambda _: "/programs/rotations",
    )


@router.post("/programs/rotations/{rotation_id}/reflection", response_class=HTMLResponse)
def rotations_reflect(
    request: Request, rotation_id: int, reflection: Text, ctx: Context = Depends(context)
) -> Response:
    return _attempt(
        request,
        lambda: rotations.reflect(ctx, rotation_id, reflection),
        lambda e, s: _rotations_page(request, ctx, e, s),
        lambda _: "/programs/rotations",
    )
