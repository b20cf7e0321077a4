"""Growth plans (goals tied to ladder competencies, evidence from real work) and 1:1 notes.

Evidence is picked from the person's own work in Grove (dataset versions they committed,
runs they started, model versions they registered, feedback they received), so the plan
doubles as a brag document that counters recency bias. A plan is the person's and their
manager's to read; a 1:1 note is its two people's only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mlgrove.domain import growth as rules
from mlgrove.domain.clock import utcnow
from mlgrove.domain.growth import Evidence, EvidenceKind, Goal, GrowthPlan, Note, WorkItem
from mlgrove.domain.growth_policy import DataKind, Item, may_read
from mlgrove.errors import InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit, growth_access, growth_ladder, review_stats
from mlgrove.services.context import Context
from mlgrove.store.models import (
    DatasetRow,
    DatasetVersionRow,
    ModelRow,
    ModelVersionRow,
    PersonRow,
    ProjectRow,
    RunRow,
)
from mlgrove.store.models.growth import (
    GrowthEvidenceRow,
    GrowthFeedbackRow,
    GrowthGoalRow,
    GrowthNoteRow,
    GrowthPlanRow,
)
from mlgrove.store.models.growth_programs import (
    DesignReviewRow,
    MentorSessionRow,
    MentorshipRow,
)
from mlgrove.store.models.pipelines import PipelineRow
from mlgrove.store.models.review import ReviewerRow, ReviewQueueRow, ReviewVerdictRow

MAX_GOALS = 20


def _competency(ctx: Context, competency: str) -> str:
    return growth_ladder.current(ctx.settings).check_tags([competency.strip()])[0]


def _plan_value(s: Session, row: GrowthPlanRow) -> GrowthPlan:
    goals = []
    for g in s.scalars(
        select(GrowthGoalRow).where(GrowthGoalRow.plan_id == row.id).order_by(GrowthGoalRow.id)
    ):
        evidence = [
            Evidence(
                id=e.id,
                kind=EvidenceKind(e.kind),
                ref_id=e.ref_id,
                label=e.label,
                note=e.note,
                added_at=e.added_at,
            )
            for e in s.scalars(
                select(GrowthEvidenceRow)
                .where(GrowthEvidenceRow.goal_id == g.id)
                .order_by(GrowthEvidenceRow.id)
            )
        ]
        goals.append(
            Goal(
                id=g.id,
                competency=g.competency,
                text=g.text,
                done=g.done,
                created_at=g.created_at,
                evidence=evidence,
            )
        )
    return GrowthPlan(
        id=row.id,
        person=growth_access.ref(s.get_one(PersonRow, row.person_id)),
        title=row.title,
        status=row.status,
        created_at=row.created_at,
        closed_at=row.closed_at,
        goals=goals,
    )


def create_plan(ctx: Context, title: str, goals: Sequence[tuple[str, str]] = ()) -> GrowthPlan:
    """A new active plan with ``goals`` as (competency id, what I want to achieve) pairs."""
    me = growth_access.require_person(ctx)
    title = rules.clean_text(title, "the plan title", limit=200)
    if not title:
        raise InvalidInput("a growth plan needs a title", hint="e.g. 'Towards senior, 2027'")
    if len(goals) > MAX_GOALS:
        raise InvalidInput(f"at most {MAX_GOALS} goals per plan")
    clean = [(_competency(ctx, c), _goal_text(t)) for c, t in goals]
    with ctx.db.write() as s:
        row = GrowthPlanRow(person_id=me.id, title=title, status="active")
        s.add(row)
        s.flush()
        for competency, text in clean:
            s.add(GrowthGoalRow(plan_id=row.id, competency=competency, text=text))
        s.flush()
        audit.record(s, ctx.actor_label, "growth.plan.create", f"person:{me.id}", f"plan #{row.id}")
        return _plan_value(s, row)


def _goal_text(text: str) -> str:
    clean = rules.clean_text(text, "the goal", limit=1000)
    if not clean:
        raise InvalidInput("a goal needs text", hint="say what you want to be able to do")
    return clean


def _own_plan(s: Session, ctx: Context, plan_id: int) -> GrowthPlanRow:
    row = s.get(GrowthPlanRow, plan_id)
    if row is None or row.person_id != ctx.actor.id:
        raise NotFound(f"no growth plan {plan_id} of yours")
    return row


def _own_goal(s: Session, ctx: Context, goal_id: int) -> GrowthGoalRow:
    goal = s.get(GrowthGoalRow, goal_id)
    if goal is None:
        raise NotFound(f"no goal {goal_id} of yours")
    _own_plan(s, ctx, goal.plan_id)
    return goal


def add_goal(ctx: Context, plan_id: int, competency: str, text: str) -> GrowthPlan:
    growth_access.require_person(ctx)
    competency, text = _competency(ctx, competency), _goal_text(text)
    with ctx.db.write() as s:
        plan = _own_plan(s, ctx, plan_id)
        s.add(GrowthGoalRow(plan_id=plan.id, competency=competency, text=text))
        s.flush()
        return _plan_value(s, plan)


def set_goal_done(ctx: Context, goal_id: int, done: bool = True) -> None:
    growth_access.require_person(ctx)
    with ctx.db.write() as s:
        _own_goal(s, ctx, goal_id).done = done


def close_plan(ctx: Context, plan_id: int) -> GrowthPlan:
    growth_access.require_person(ctx)
    with ctx.db.write() as s:
        plan = _own_plan(s, ctx, plan_id)
        plan.status, plan.closed_at = "closed", utcnow()
        return _plan_value(s, plan)


def plans_of(ctx: Context, who: str | None = None) -> list[GrowthPlan]:
    """The caller's plans, or ``who``'s if the policy allows (their manager); logged."""
    me = growth_access.require_person(ctx)
    with ctx.db.read() as s:
        person = growth_access.find_person(s, who) if who else s.get_one(PersonRow, me.id)
        subject = growth_access.subject_of(person)
        allowed = may_read(
            growth_access.viewer(ctx), subject, Item(DataKind.GROWTH_PLAN, author_id=person.id)
        )
        plans = (
            [
                _plan_value(s, r)
                for r in s.scalars(
                    select(GrowthPlanRow)
                    .where(GrowthPlanRow.person_id == person.id)
                    .order_by(GrowthPlanRow.id.desc())
                )
            ]
            if allowed
            else None
        )
    if plans is None:
        raise growth_access.refuse(ctx, person.id, "growth plans")
    growth_access.log_reads(ctx, [(person.id, f"growth plan #{p.id}") for p in plans])
    return plans


# -- evidence: the person's real work ----------------------------------------------------


def work_items(ctx: Context, *, limit: int = 200) -> list[WorkItem]:
    """The caller's own work in Grove that can back a goal, newest first."""
    me = growth_access.require_person(ctx)
    items: list[WorkItem] = []
    with ctx.db.read() as s:
        for v, d in s.execute(
            select(DatasetVersionRow, DatasetRow)
            .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
            .where(DatasetVersionRow.author == me.username)
            .order_by(DatasetVersionRow.id.desc())
            .limit(limit)
        ):
            label = f"dataset {d.name} v{v.number}" + (f": {v.message}" if v.message else "")
            items.append(WorkItem(EvidenceKind.DATASET_VERSION, v.id, label[:300], v.created_at))
        for r in s.scalars(
            select(RunRow)
            .where(RunRow.author == me.username)
            .order_by(RunRow.id.desc())
            .limit(limit)
        ):
            label = f"run {r.id} {r.name} ({r.status})"
            items.append(WorkItem(EvidenceKind.RUN, r.id, label[:300], r.started_at))
        for mv, m in s.execute(
            select(ModelVersionRow, ModelRow)
            .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
            .where(ModelVersionRow.created_by == me.username)
            .order_by(ModelVersionRow.id.desc())
            .limit(limit)
        ):
            items.append(
                WorkItem(
                    EvidenceKind.MODEL_VERSION, mv.id, f"model {m.name} v{mv.number}", mv.created_at
                )
            )
        for pl in s.scalars(
            select(PipelineRow)
            .where(PipelineRow.created_by == me.username)
            .order_by(PipelineRow.id.desc())
            .limit(limit)
        ):
            items.append(
                WorkItem(EvidenceKind.PIPELINE, pl.id, f"pipeline {pl.name}", pl.created_at)
            )
        reviewed = s.execute(
            select(
                ReviewQueueRow.id,
                ReviewQueueRow.name,
                ProjectRow.name,
                func.count(ReviewVerdictRow.id),
                func.max(ReviewVerdictRow.created_at),
            )
            .join(ReviewVerdictRow, ReviewVerdictRow.queue_id == ReviewQueueRow.id)
            .join(ReviewerRow, ReviewerRow.id == ReviewVerdictRow.reviewer_id)
            .join(ProjectRow, ProjectRow.id == ReviewQueueRow.project_id)
            .where(ReviewerRow.person_id == me.id)
            .group_by(ReviewQueueRow.id, ReviewQueueRow.name, ProjectRow.name)
            .limit(limit)
        ).all()
        for dr in s.scalars(
            select(DesignReviewRow)
            .where(DesignReviewRow.presenter_id == me.id)
            .order_by(DesignReviewRow.id.desc())
            .limit(limit)
        ):
            label = f"presented {dr.kind} '{dr.title}'"
            items.append(WorkItem(EvidenceKind.DESIGN_REVIEW, dr.id, label[:300], dr.scheduled_at))
        for pair, mentee, sessions, minutes in s.execute(
            select(
                MentorshipRow,
                PersonRow,
                func.count(MentorSessionRow.id),
                func.coalesce(func.sum(MentorSessionRow.minutes), 0),
            )
            .join(PersonRow, PersonRow.id == MentorshipRow.mentee_id)
            .outerjoin(MentorSessionRow, MentorSessionRow.pair_id == MentorshipRow.id)
            .where(MentorshipRow.mentor_id == me.id)
            .group_by(MentorshipRow.id, PersonRow.id)
            .limit(limit)
        ):
            label = f"mentored {mentee.display_name}: {sessions} sessions, {minutes} minutes"
            items.append(WorkItem(EvidenceKind.MENTORING, pair.id, label[:300], pair.started_at))
        for fb, giver in s.execute(
            select(GrowthFeedbackRow, PersonRow)
            .join(PersonRow, PersonRow.id == GrowthFeedbackRow.giver_id)
            .where(GrowthFeedbackRow.receiver_id == me.id)
            .order_by(GrowthFeedbackRow.id.desc())
            .limit(limit)
        ):
            label = f"feedback from {giver.display_name}" + (f" on {fb.about}" if fb.about else "")
            items.append(WorkItem(EvidenceKind.FEEDBACK, fb.id, label[:300], fb.created_at))
    for queue_id, queue, project, verdicts, last in reviewed:
        label = f"{verdicts} verdicts in review queue {queue}"
        # The gold accuracy is the person's own coaching figure (theirs to show).
        try:
            gold = review_stats.coaching(ctx, queue, me.username, project=project)
        except PermissionDenied:  # a role that may no longer review
            gold = None
        if gold is not None and gold.gold_items:
            label += (
                f", {gold.correct} of {gold.gold_items} gold items right"
                f" ({100 * gold.correct / gold.gold_items:.0f}%)"
            )
        items.append(WorkItem(EvidenceKind.REVIEWS, queue_id, label[:300], last))
    return sorted(items, key=lambda i: i.at, reverse=True)


def add_evidence(
    ctx: Context, goal_id: int, kind: EvidenceKind | str, ref_id: int, note: str = ""
) -> GrowthPlan:
    """Back a goal with a piece of the caller's own work (checked to be theirs)."""
    growth_access.require_person(ctx)
    try:
        parsed = EvidenceKind(kind)
    except ValueError:
        raise InvalidInput(
            f"unknown evidence kind {kind!r}", hint=", ".join(k.value for k in EvidenceKind)
        ) from None
    mine = {(i.kind, i.ref_id): i for i in work_items(ctx, limit=10_000)}
    item = mine.get((parsed, ref_id))
    if item is None:
        raise NotFound(
            f"no {parsed.value} {ref_id} among your work",
            hint="evidence is picked from your own work in Grove (see the brag document page)",
        )
    clean_note = rules.clean_text(note, "the note", limit=1000)
    with ctx.db.write() as s:
        goal = _own_goal(s, ctx, goal_id)
        s.add(
            GrowthEvidenceRow(
                goal_id=goal.id, kind=parsed.value, ref_id=ref_id, label=item.label, note=clean_note
            )
        )
        s.flush()
        return _plan_value(s, s.get_one(GrowthPlanRow, goal.plan_id))


# -- 1:1 notes ---------------------------------------------------------------------------


def _note_value(row: GrowthNoteRow, people: dict[int, PersonRow]) -> Note:
    return Note(
        id=row.id,
        author=growth_access.ref(people[row.author_id]),
        counterpart=growth_access.ref(people[row.counterpart_id]),
        body=row.body,
        created_at=row.created_at,
    )


def add_note(ctx: Context, with_person: str, body: str) -> Note:
    """A private note of a 1:1 with ``with_person``: only the two of you can read it."""
    me = growth_access.require_person(ctx)
    text = rules.clean_text(body, "the note")
    if not text:
        raise InvalidInput("the note is empty")
    with ctx.db.write() as s:
        other = growth_access.find_person(s, with_person)
        if other.id == me.id:
            raise InvalidInput("a 1:1 note is between two people")
        row = GrowthNoteRow(author_id=me.id, counterpart_id=other.id, body=text)
        s.add(row)
        s.flush()
        audit.record(
            s, ctx.actor_label, "growth.note.add", f"person:{other.id}", f"1:1 note #{row.id}"
        )
        return _note_value(row, {me.id: s.get_one(PersonRow, me.id), other.id: other})


def list_notes(ctx: Context, with_person: str) -> list[Note]:
    """The 1:1 notes between the caller and ``with_person``, oldest first."""
    me = growth_access.require_person(ctx)
    who = growth_access.viewer(ctx)
    with ctx.db.read() as s:
        other = growth_access.find_person(s, with_person)
        rows = s.scalars(
            select(GrowthNoteRow)
            .where(
                or_(
                    (GrowthNoteRow.author_id == me.id) & (GrowthNoteRow.counterpart_id == other.id),
                    (GrowthNoteRow.author_id == other.id) & (GrowthNoteRow.counterpart_id == me.id),
                )
            )
            .order_by(GrowthNoteRow.id)
        ).all()
        subject = growth_access.subject_of(other)
        people = {me.id: s.get_one(PersonRow, me.id), other.id: other}
        # The query already selects the pair; the policy check keeps the rule in one place.
        return [
            _note_value(r, people)
            for r in rows
            if may_read(
                who,
                subject,
                Item(
                    DataKind.ONE_ON_ONE_NOTE, author_id=r.author_id, counterpart_id=r.counterpart_id
                ),
            )
        ]


def get_note(ctx: Context, note_id: int) -> Note:
    """One note by id: refused (and logged) unless the caller is one of its two people."""
    growth_access.require_person(ctx)
    with ctx.db.read() as s:
        row = s.get(GrowthNoteRow, note_id)
        if row is None:
            raise NotFound(f"no 1:1 note {note_id}")
        author = s.get_one(PersonRow, row.author_id)
        allowed = may_read(
            growth_access.viewer(ctx),
            growth_access.subject_of(author),
            Item(
                DataKind.ONE_ON_ONE_NOTE, author_id=row.author_id, counterpart_id=row.counterpart_id
            ),
        )
        value = (
            _note_value(
                row,
                {author.id: author, row.counterpart_id: s.get_one(PersonRow, row.counterpart_id)},
            )
            if allowed
            else None
        )
        pair = (row.author_id, row.counterpart_id)
    if value is None:
        # Both people of the 1:1 see the attempt in their read log.
        growth_access.refuse(ctx, pair[1], f"1:1 note #{note_id}")
        raise growth_access.refuse(ctx, pair[0], f"1:1 note #{note_id}")
    return value
