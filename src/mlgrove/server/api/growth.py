"""REST endpoints for growing engineers: feedback, requests, plans, 1:1 notes, the team
view, notifications, the read log, export and delete.

Thin: parse, call a growth service (which applies the privacy policy), return. A refused
read of someone else's private data is a 403 and is logged for that person to see.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from mlgrove.server.api.growth_schemas import (
    BalanceOut,
    DoneIn,
    EvidenceIn,
    FeedbackIn,
    FeedbackOut,
    GoalIn,
    LadderOut,
    NoteIn,
    NoteOut,
    NotificationOut,
    PlanIn,
    PlanOut,
    ReadOut,
    RequestIn,
    RequestOut,
    RequestsOut,
    TeamGrowthOut,
    WorkItemOut,
)
from mlgrove.server.deps import context
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

router = APIRouter(prefix="/growth", tags=["growth"])


@router.get("/ladder", response_model=LadderOut)
def ladder(ctx: Context = Depends(context)) -> LadderOut:
    """The competency ladder in force (the organisation's, or Grove's default)."""
    return LadderOut.model_validate(growth_ladder.current(ctx.settings))


# -- feedback ----------------------------------------------------------------------------


@router.post("/feedback", response_model=FeedbackOut, status_code=201)
def give_feedback(body: FeedbackIn, ctx: Context = Depends(context)) -> FeedbackOut:
    """Give feedback: a technical part, a collaboration part (one may be empty), a piece
    of work, competency tags and who may read it (``receiver`` or ``receiver+manager``)."""
    fb = growth_feedback.give_feedback(
        ctx,
        body.to,
        technical=body.technical,
        collaboration=body.collaboration,
        about=body.about,
        competencies=body.competencies,
        visibility=body.visibility,
        request_id=body.request_id,
    )
    return FeedbackOut.model_validate(fb)


@router.get("/feedback", response_model=list[FeedbackOut])
def list_feedback(
    about: str | None = Query(None, description="E-mail or username; default: yourself."),
    ctx: Context = Depends(context),
) -> list[FeedbackOut]:
    """Feedback about you (or ``about`` someone): only what the policy lets you see."""
    return [FeedbackOut.model_validate(f) for f in growth_feedback.list_feedback(ctx, about)]


@router.get("/feedback/given", response_model=list[FeedbackOut])
def feedback_given(ctx: Context = Depends(context)) -> list[FeedbackOut]:
    """Feedback you gave, newest first."""
    return [FeedbackOut.model_validate(f) for f in growth_feedback.feedback_given(ctx)]


@router.get("/feedback/balance", response_model=list[BalanceOut])
def balance(ctx: Context = Depends(context)) -> list[BalanceOut]:
    """Your feedback over time: per month, how many pieces had each axis."""
    return [BalanceOut.model_validate(p) for p in growth_feedback.my_balance(ctx)]


@router.get("/feedback/{feedback_id}", response_model=FeedbackOut)
def get_feedback(feedback_id: int, ctx: Context = Depends(context)) -> FeedbackOut:
    """One piece of feedback; 403 (and logged) unless the policy allows you."""
    return FeedbackOut.model_validate(growth_feedback.get_feedback(ctx, feedback_id))


@router.post("/feedback-requests", response_model=list[RequestOut], status_code=201)
def request_feedback(body: RequestIn, ctx: Context = Depends(context)) -> list[RequestOut]:
    """Ask named peers for feedback on a piece of work (one request per peer)."""
    made = growth_feedback.request_feedback(ctx, body.peers, about=body.about, message=body.message)
    return [RequestOut.model_validate(r) for r in made]


@router.get("/feedback-requests", response_model=RequestsOut)
def list_requests(ctx: Context = Depends(context)) -> RequestsOut:
    """Requests waiting for your answer, and the requests you made."""
    to_me, mine = growth_feedback.list_requests(ctx)
    return RequestsOut(
        to_me=[RequestOut.model_validate(r) for r in to_me],
        mine=[RequestOut.model_validate(r) for r in mine],
    )


# -- plans and evidence ------------------------------------------------------------------


@router.post("/plans", response_model=PlanOut, status_code=201)
def create_plan(body: PlanIn, ctx: Context = Depends(context)) -> PlanOut:
    """Start a growth plan with goals tied to ladder competencies."""
    plan = growth_plans.create_plan(ctx, body.title, [(g.competency, g.text) for g in body.goals])
    return PlanOut.model_validate(plan)


@router.get("/plans", response_model=list[PlanOut])
def list_plans(
    person: str | None = Query(None, description="E-mail or username; default: yourself."),
    ctx: Context = Depends(context),
) -> list[PlanOut]:
    """Your plans, or a report's (managers); 403 and logged otherwise."""
    return [PlanOut.model_validate(p) for p in growth_plans.plans_of(ctx, person)]


@router.post("/plans/{plan_id}/goals", response_model=PlanOut, status_code=201)
def add_goal(plan_id: int, body: GoalIn, ctx: Context = Depends(context)) -> PlanOut:
    return PlanOut.model_validate(growth_plans.add_goal(ctx, plan_id, body.competency, body.text))


@router.post("/plans/{plan_id}/close", response_model=PlanOut)
def close_plan(plan_id: int, ctx: Context = Depends(context)) -> PlanOut:
    return PlanOut.model_validate(growth_plans.close_plan(ctx, plan_id))


@router.post("/goals/{goal_id}/done", status_code=204)
def goal_done(goal_id: int, body: DoneIn, ctx: Context = Depends(context)) -> Response:
    growth_plans.set_goal_done(ctx, goal_id, body.done)
    return Response(status_code=204)


@router.post("/goals/{goal_id}/evidence", response_model=PlanOut, status_code=201)
def add_evidence(goal_id: int, body: EvidenceIn, ctx: Context = Depends(context)) -> PlanOut:
    """Back a goal with a piece of your own work (see ``GET /growth/work``)."""
    plan = growth_plans.add_evidence(ctx, goal_id, body.kind, body.ref_id, body.note)
    return PlanOut.model_validate(plan)


@router.get("/work", response_model=list[WorkItemOut])
def work_items(ctx: Context = Depends(context)) -> list[WorkItemOut]:
    """Your work in Grove that can back a goal: dataset versions, runs, model versions,
    feedback received."""
    return [WorkItemOut.model_validate(i) for i in growth_plans.work_items(ctx)]


# -- 1:1 notes ---------------------------------------------------------------------------


@router.post("/notes", response_model=NoteOut, status_code=201)
def add_note(body: NoteIn, ctx: Context = Depends(context)) -> NoteOut:
    """A private 1:1 note: only you and the other person can read it."""
    return NoteOut.model_validate(growth_plans.add_note(ctx, body.with_person, body.body))


@router.get("/notes", response_model=list[NoteOut])
def list_notes(
    with_person: str = Query(alias="with", description="The other person of the 1:1."),
    ctx: Context = Depends(context),
) -> list[NoteOut]:
    return [NoteOut.model_validate(n) for n in growth_plans.list_notes(ctx, with_person)]


@router.get("/notes/{note_id}", response_model=NoteOut)
def get_note(note_id: int, ctx: Context = Depends(context)) -> NoteOut:
    """One note; 403 (and logged for both people) unless you are one of its two people."""
    return NoteOut.model_validate(growth_plans.get_note(ctx, note_id))


# -- team view, notifications, read log, export/delete -----------------------------------


@router.get("/teams/{team}", response_model=TeamGrowthOut)
def team_growth(team: str, ctx: Context = Depends(context)) -> TeamGrowthOut:
    """The manager view: aggregates only, hidden below ``min_group_size``."""
    return TeamGrowthOut.model_validate(growth_team.team_growth(ctx, team))


@router.get("/notifications", response_model=list[NotificationOut])
def list_notifications(
    unread: bool = False, ctx: Context = Depends(context)
) -> list[NotificationOut]:
    found = notifications.list_notifications(ctx, unread_only=unread)
    return [NotificationOut.model_validate(n) for n in found]


@router.post("/notifications/read")
def mark_read(ctx: Context = Depends(context)) -> dict[str, int]:
    """Mark all your notifications read."""
    return {"marked": notifications.mark_read(ctx)}


@router.get("/reads", response_model=list[ReadOut])
def reads(ctx: Context = Depends(context)) -> list[ReadOut]:
    """Who read (or was refused) your growth data, newest first."""
    return [ReadOut.model_validate(r) for r in growth_access.reads_of(ctx)]


@router.get("/export")
def export(ctx: Context = Depends(context)) -> dict[str, Any]:
    """Everything Grove holds about your growth, as one JSON document."""
    return growth_data.export(ctx)


@router.delete("/mine")
def delete_mine(ctx: Context = Depends(context)) -> dict[str, int]:
    """Delete your own growth data (feedback you gave others stays theirs)."""
    return growth_data.delete_mine(ctx)
