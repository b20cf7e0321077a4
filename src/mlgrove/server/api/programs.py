"""REST endpoints for growth programmes: help requests, learning time, mentorship,
design reviews and the design registry, rotations.

Thin: parse, call one service, return its domain value. The iCal feed of learning
events has a stable address: ``GET /api/v1/learning/events.ics`` (``?team=`` narrows it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from mlgrove.domain.designs import Design, DesignMatches, DesignReview, SimilarDesign
from mlgrove.domain.help_requests import HelperSuggestion, HelpRequest, HelpStats, HelpStatus
from mlgrove.domain.learning import BudgetReport, LearningBudget, LearningEntry, LearningEvent
from mlgrove.domain.mentorship import MenteeGoals, MentorOffer, Mentorship, Proposal
from mlgrove.domain.programs_team import TeamProgrammes
from mlgrove.domain.rotations import Rotation
from mlgrove.server.api.program_schemas import (
    ApproveIn,
    AttendIn,
    BudgetIn,
    CalendarLinkOut,
    DesignIn,
    EntryIn,
    EventIn,
    FeedbackIn,
    GoalsIn,
    HelpAskIn,
    HelpResolveIn,
    HelpResponseIn,
    HelpSharingIn,
    NudgeIn,
    NudgeOut,
    OfferIn,
    PairGoalsIn,
    ReflectionIn,
    ReviewIn,
    RotationIn,
    SessionIn,
    SimilarIn,
    TeamsIn,
    TrainingIn,
)
from mlgrove.server.deps import context, runtime
from mlgrove.services import (
    design_reviews,
    help_requests,
    learning,
    mentorship,
    programs_data,
    programs_team,
    rotations,
)
from mlgrove.services.context import Context

router = APIRouter(tags=["programs"])

ICAL_TYPE = "text/calendar; charset=utf-8"


# -- help requests -------------------------------------------------------------------------


@router.post("/help-requests", response_model=HelpRequest, status_code=201)
def ask_for_help(body: HelpAskIn, ctx: Context = Depends(context)) -> HelpRequest:
    """Ask for help (or, with ``ask_now: false``, privately mark yourself stuck)."""
    return help_requests.ask(ctx, **body.model_dump())


@router.get("/help-requests", response_model=list[HelpRequest])
def list_help_requests(
    status: HelpStatus | None = None,
    mine: bool = False,
    team: str | None = None,
    limit: int = Query(100, ge=1, le=500),
    ctx: Context = Depends(context),
) -> list[HelpRequest]:
    """Asked requests newest first, and your own stuck marks."""
    return help_requests.list_requests(ctx, status=status, mine=mine, team=team, limit=limit)


@router.get("/help-requests/{request_id}", response_model=HelpRequest)
def get_help_request(request_id: int, ctx: Context = Depends(context)) -> HelpRequest:
    return help_requests.get_request(ctx, request_id)


@router.post("/help-requests/{request_id}/ask", response_model=HelpRequest)
def ask_marked(request_id: int, ctx: Context = Depends(context)) -> HelpRequest:
    """Ask a request you had only marked stuck."""
    return help_requests.ask_marked(ctx, request_id)


@router.post("/help-requests/{request_id}/responses", response_model=HelpRequest, status_code=201)
def respond(request_id: int, body: HelpResponseIn, ctx: Context = Depends(context)) -> HelpRequest:
    return help_requests.respond(ctx, request_id, body.body)


@router.post("/help-requests/{request_id}/resolve", response_model=HelpRequest)
def resolve(request_id: int, body: HelpResolveIn, ctx: Context = Depends(context)) -> HelpRequest:
    return help_requests.resolve(ctx, request_id, thank=body.thank)


@router.post(
    "/help-requests/{request_id}/responses/{response_id}/thanks", response_model=HelpRequest
)
def thank(request_id: int, response_id: int, ctx: Context = Depends(context)) -> HelpRequest:
    return help_requests.thank(ctx, request_id, response_id)


@router.put("/help-requests/{request_id}/sharing", response_model=HelpRequest)
def share(request_id: int, body: HelpSharingIn, ctx: Context = Depends(context)) -> HelpRequest:
    """Let your mentor see how long you were stuck on this one (or stop)."""
    return help_requests.share_with_mentor(ctx, request_id, body.share_with_mentor)


@router.get("/help-requests/{request_id}/helpers", response_model=list[HelperSuggestion])
def helpers(request_id: int, ctx: Context = Depends(context)) -> list[HelperSuggestion]:
    return help_requests.suggest_helpers(ctx, request_id)


@router.get("/help/nudge", response_model=NudgeOut)
def get_nudge(ctx: Context = Depends(context)) -> NudgeOut:
    return NudgeOut(after_minutes=help_requests.nudge_setting(ctx))


@router.put("/help/nudge", response_model=NudgeOut)
def set_nudge(body: NudgeIn, ctx: Context = Depends(context)) -> NudgeOut:
    return NudgeOut(after_minutes=help_requests.set_nudge(ctx, body.after))


@router.get("/help/nudges", response_model=list[HelpRequest])
def nudges(ctx: Context = Depends(context)) -> list[HelpRequest]:
    """Your stuck marks older than your nudge setting: time to ask."""
    return help_requests.nudges(ctx)


@router.get("/teams/{team}/help-stats", response_model=HelpStats)
def help_stats(team: str, ctx: Context = Depends(context)) -> HelpStats:
    return help_requests.team_stats(ctx, team)


# -- learning time -------------------------------------------------------------------------


@router.put("/teams/{team}/learning-budget", response_model=LearningBudget)
def set_budget(team: str, body: BudgetIn, ctx: Context = Depends(context)) -> LearningBudget:
    return learning.set_budget(
        ctx, team, body.kind, share=body.share, sprint_weeks=body.sprint_weeks
    )


@router.get("/teams/{team}/learning-budget", response_model=LearningBudget | None)
def get_budget(team: str, ctx: Context = Depends(context)) -> LearningBudget | None:
    return learning.get_budget(ctx, team)


@router.get("/teams/{team}/learning-report", response_model=BudgetReport)
def learning_report(
    team: str, weeks: int = Query(12, ge=1, le=52), ctx: Context = Depends(context)
) -> BudgetReport:
    """Budget against logged hours per week, summed over the team (hidden if small)."""
    return learning.budget_report(ctx, team, weeks=weeks)


@router.post("/learning/events", response_model=LearningEvent, status_code=201)
def add_event(body: EventIn, ctx: Context = Depends(context)) -> LearningEvent:
    values = body.model_dump()
    return learning.add_event(
        ctx, values.pop("kind"), values.pop("title"), values.pop("starts_at"), **values
    )


@router.get("/learning/events", response_model=list[LearningEvent])
def list_events(
    team: str | None = None,
    upcoming: bool = True,
    limit: int = Query(100, ge=1, le=500),
    ctx: Context = Depends(context),
) -> list[LearningEvent]:
    return learning.list_events(ctx, team=team, upcoming=upcoming, limit=limit)


@router.get(
    "/learning/events.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def events_calendar(
    request: Request, team: str | None = None, ctx: Context = Depends(context)
) -> Response:
    """Learning events as an iCalendar (RFC 5545) feed, for calendar apps."""
    text = learning.ical_feed(ctx, team=team, base_url=str(request.base_url))
    return Response(
        text,
        media_type=ICAL_TYPE,
        headers={"Content-Disposition": 'inline; filename="learning-events.ics"'},
    )


@router.get("/learning/calendar-link", response_model=CalendarLinkOut)
def calendar_link(request: Request, ctx: Context = Depends(context)) -> CalendarLinkOut:
    """Your secret calendar address, for calendar apps that cannot send a token."""
    base = str(request.base_url).rstrip("/")
    return CalendarLinkOut(url=base + learning.calendar_path(ctx))


@router.get(
    "/learning/calendar/{person_id}/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def calendar_by_link(
    request: Request, person_id: int, token: str, team: str | None = None
) -> Response:
    """The events feed at a secret address (no token header needed)."""
    text = learning.ical_feed_by_token(
        runtime(request), person_id, token, team=team, base_url=str(request.base_url)
    )
    return Response(text, media_type=ICAL_TYPE)


@router.post("/learning/entries", response_model=LearningEntry, status_code=201)
def log_learning(body: EntryIn, ctx: Context = Depends(context)) -> LearningEntry:
    return learning.log(
        ctx,
        body.hours,
        body.topic,
        competency=body.competency,
        day=body.day,
        event_id=body.event_id,
    )


@router.get("/learning/entries", response_model=list[LearningEntry])
def my_learning(ctx: Context = Depends(context)) -> list[LearningEntry]:
    """Your own entries (nobody else's)."""
    return learning.my_entries(ctx)


# -- mentorship ----------------------------------------------------------------------------


@router.put("/mentors/me", response_model=MentorOffer)
def offer(body: OfferIn, ctx: Context = Depends(context)) -> MentorOffer:
    return mentorship.offer(ctx, body.strengths, body.capacity)


@router.put("/mentors/me/training", response_model=MentorOffer)
def training(body: TrainingIn, ctx: Context = Depends(context)) -> MentorOffer:
    return mentorship.tick_training(ctx, body.items, done=body.done)


@router.get("/mentors", response_model=list[MentorOffer])
def mentors(ctx: Context = Depends(context)) -> list[MentorOffer]:
    return mentorship.list_offers(ctx)


@router.put("/mentees/me", response_model=MenteeGoals)
def mentee_goals(body: GoalsIn, ctx: Context = Depends(context)) -> MenteeGoals:
    return mentorship.set_goals(ctx, body.goals, body.note)


@router.get("/mentees", response_model=list[MenteeGoals])
def mentees(ctx: Context = Depends(context)) -> list[MenteeGoals]:
    """People waiting for a mentor, with their goals (programme leads)."""
    return mentorship.list_mentees(ctx)


@router.get("/mentorships/proposal", response_model=list[Proposal])
def proposal(ctx: Context = Depends(context)) -> list[Proposal]:
    """The matcher's pairs for the whole pool; nothing is stored until approved."""
    return mentorship.propose(ctx)


@router.post("/mentorships", response_model=list[Mentorship], status_code=201)
def approve(body: ApproveIn, ctx: Context = Depends(context)) -> list[Mentorship]:
    """Start these pairs (the proposal as it is, or edited). All or nothing."""
    return mentorship.approve(ctx, [(p.mentor, p.mentee) for p in body.pairs])


@router.get("/mentorships", response_model=list[Mentorship])
def pairs(everyone: bool = False, ctx: Context = Depends(context)) -> list[Mentorship]:
    return mentorship.list_pairs(ctx, everyone=everyone)


@router.post("/mentorships/{pair_id}/sessions", response_model=Mentorship, status_code=201)
def log_session(pair_id: int, body: SessionIn, ctx: Context = Depends(context)) -> Mentorship:
    return mentorship.log_session(ctx, pair_id, body.minutes, body.notes, at=body.at)


@router.put("/mentorships/{pair_id}/goals", response_model=Mentorship)
def pair_goals(pair_id: int, body: PairGoalsIn, ctx: Context = Depends(context)) -> Mentorship:
    return mentorship.set_pair_goals(ctx, pair_id, body.goals)


@router.post("/mentorships/{pair_id}/end", response_model=Mentorship)
def end_pair(pair_id: int, ctx: Context = Depends(context)) -> Mentorship:
    return mentorship.end_pair(ctx, pair_id)


# -- designs and design reviews ------------------------------------------------------------


@router.post("/designs", response_model=DesignMatches, status_code=201)
def add_design(body: DesignIn, ctx: Context = Depends(context)) -> DesignMatches:
    """Register a project or design; the answer lists similar existing ones."""
    return design_reviews.add_design(
        ctx, body.title, body.summary, team=body.team, doc_url=body.doc_url, datasets=body.datasets
    )


@router.get("/designs", response_model=list[Design])
def list_designs(team: str | None = None, ctx: Context = Depends(context)) -> list[Design]:
    return design_reviews.list_designs(ctx, team=team)


@router.get("/designs/{design_id}", response_model=DesignMatches)
def get_design(design_id: int, ctx: Context = Depends(context)) -> DesignMatches:
    return design_reviews.get_design(ctx, design_id)


@router.post("/designs/similar", response_model=list[SimilarDesign])
def similar(body: SimilarIn, ctx: Context = Depends(context)) -> list[SimilarDesign]:
    """Existing designs like this text, or using one of these datasets."""
    return design_reviews.similar_designs(ctx, body.text, datasets=body.datasets)


@router.post("/design-reviews", response_model=DesignReview, status_code=201)
def schedule_review(body: ReviewIn, ctx: Context = Depends(context)) -> DesignReview:
    values = body.model_dump()
    return design_reviews.schedule_review(
        ctx, values.pop("title"), values.pop("scheduled_at"), **values
    )


@router.get("/design-reviews", response_model=list[DesignReview])
def list_reviews(upcoming: bool = False, ctx: Context = Depends(context)) -> list[DesignReview]:
    return design_reviews.list_reviews(ctx, upcoming=upcoming)


@router.get("/design-reviews/{review_id}", response_model=DesignReview)
def get_review(review_id: int, ctx: Context = Depends(context)) -> DesignReview:
    return design_reviews.get_review(ctx, review_id)


@router.post("/design-reviews/{review_id}/invitations", response_model=DesignReview)
def invite(review_id: int, body: TeamsIn, ctx: Context = Depends(context)) -> DesignReview:
    return design_reviews.invite_teams(ctx, review_id, body.teams)


@router.post("/design-reviews/{review_id}/attendees", response_model=DesignReview)
def attend(review_id: int, body: AttendIn, ctx: Context = Depends(context)) -> DesignReview:
    """Record your attendance (or, as presenter or organiser, the named people's)."""
    return design_reviews.attend(ctx, review_id, body.people)


@router.post("/design-reviews/{review_id}/feedback", response_model=DesignReview, status_code=201)
def review_feedback(
    review_id: int, body: FeedbackIn, ctx: Context = Depends(context)
) -> DesignReview:
    return design_reviews.add_feedback(ctx, review_id, body.body)


# -- rotations -----------------------------------------------------------------------------


@router.post("/rotations", response_model=Rotation, status_code=201)
def plan_rotation(body: RotationIn, ctx: Context = Depends(context)) -> Rotation:
    return rotations.plan(
        ctx,
        body.person,
        body.host_team,
        body.starts_on,
        body.ends_on,
        body.goals,
        project=body.project,
    )


@router.get("/rotations", response_model=list[Rotation])
def list_rotations(person: str | None = None, ctx: Context = Depends(context)) -> list[Rotation]:
    return rotations.list_rotations(ctx, person=person)


@router.put("/rotations/{rotation_id}/reflection", response_model=Rotation)
def reflect(rotation_id: int, body: ReflectionIn, ctx: Context = Depends(context)) -> Rotation:
    return rotations.reflect(ctx, rotation_id, body.reflection)


# -- one's own data, and the team view -----------------------------------------------------


@router.get("/programs/mine")
def export_mine(ctx: Context = Depends(context)) -> dict[str, Any]:
    """Everything of yours in the programmes, as one JSON document."""
    return programs_data.export_mine(ctx)


@router.delete("/programs/mine")
def delete_mine(ctx: Context = Depends(context)) -> dict[str, int]:
    """Delete your own programme data; answers you gave others stay, without your name."""
    return programs_data.delete_mine(ctx)


@router.get("/teams/{team}/programmes", response_model=TeamProgrammes)
def team_view(team: str, ctx: Context = Depends(context)) -> TeamProgrammes:
    """Team aggregates for its managers: mentorships, learning, help times, reviews."""
    return programs_team.team_programmes(ctx, team)
