"""Mentorship: offers and goals, the pool-wide matcher, approved pairs, sessions, training.

Mentors declare strengths and capacity in the open; a mentee's goals are seen by them
and by programme leads (``Action.RUN_PROGRAMMES``), who run the matcher and approve or
edit its proposals. A pair's sessions and notes are the two people's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlgrove.domain import help_requests as text_rules
from mlgrove.domain import mentorship as rules
from mlgrove.domain.authz import Action, allowed
from mlgrove.domain.clock import utcnow
from mlgrove.domain.mentorship import (
    MenteeGoals,
    MentorOffer,
    MentorSession,
    Mentorship,
    PairStatus,
    Proposal,
)
from mlgrove.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit, notifications
from mlgrove.services.context import Context
from mlgrove.services.programs import participant, person_row, usernames
from mlgrove.store.models import PersonRow
from mlgrove.store.models.growth_programs import (
    MenteeGoalsRow,
    MentorOfferRow,
    MentorSessionRow,
    MentorshipRow,
)


def _active_counts(s: Session) -> dict[int, int]:
    rows = s.execute(
        select(MentorshipRow.mentor_id, func.count())
        .where(MentorshipRow.status == PairStatus.ACTIVE.value)
        .group_by(MentorshipRow.mentor_id)
    )
    return {row[0]: row[1] for row in rows}


def _offer(row: MentorOfferRow, person: PersonRow, active: int) -> MentorOffer:
    return MentorOffer(
        person=person.username,
        display_name=person.display_name,
        strengths=tuple(row.strengths),
        capacity=row.capacity,
        active_mentees=active,
        training_done=tuple(row.training_done),
    )


def offer(ctx: Context, strengths: Sequence[str], capacity: int) -> MentorOffer:
    """Offer to mentor (or change one's offer): strengths and how many mentees at once."""
    me = participant(ctx)
    tags = rules.tags(strengths, "strengths")
    cap = rules.check_capacity(capacity)
    with ctx.db.write() as s:
        active = _active_counts(s).get(me.id, 0)
        if cap < active:
            raise Conflict(
                f"you mentor {active} people now, more than a capacity of {cap}",
                hint="end a pairing first, or keep the capacity at least that high",
            )
        row = s.get(MentorOfferRow, me.id)
        if row is None:
            row = MentorOfferRow(person_id=me.id, capacity=cap, strengths=list(tags))
            s.add(row)
        row.strengths, row.capacity, row.updated_at = list(tags), cap, utcnow()
        audit.record(s, ctx.actor_label, "mentor.offer", f"person:{me.id}", f"capacity {cap}")
        return _offer(row, s.get_one(PersonRow, me.id), active)


def tick_training(ctx: Context, items: Sequence[int], *, done: bool = True) -> MentorOffer:
    """Tick (or untick) items of the mentor-training checklist, by number from 1."""
    me = participant(ctx)
    with ctx.db.write() as s:
        row = s.get(MentorOfferRow, me.id)
        if row is None:
            raise NotFound("you have not offered to mentor", hint="`mlgrove mentors offer` first")
        current = set(row.training_done)
        for n in items:
            if not 1 <= n <= len(rules.TRAINING_CHECKLIST):
                raise InvalidInput(
                    f"the checklist has no item {n}",
                    hint=f"items are 1 to {len(rules.TRAINING_CHECKLIST)}",
                )
            item = rules.TRAINING_CHECKLIST[n - 1]
            current = current | {item} if done else current - {item}
        row.training_done = [i for i in rules.TRAINING_CHECKLIST if i in current]
        return _offer(row, s.get_one(PersonRow, me.id), _active_counts(s).get(me.id, 0))


def list_offers(ctx: Context) -> list[MentorOffer]:
    """Every mentor's offer (strengths and capacity are declared in the open)."""
    participant(ctx)
    with ctx.db.read() as s:
        counts = _active_counts(s)
        rows = s.execute(
            select(MentorOfferRow, PersonRow)
            .join(PersonRow, PersonRow.id == MentorOfferRow.person_id)
            .where(PersonRow.active.is_(True))
            .order_by(PersonRow.username)
        )
        return [_offer(o, p, counts.get(p.id, 0)) for o, p in rows]


def set_goals(ctx: Context, goals: Sequence[str], note: str = "") -> MenteeGoals:
    """Ask for a mentor: the competencies one wants to grow (seniors too)."""
    me = participant(ctx)
    tags = rules.tags(goals, "goals")
    clean = text_rules.text(note, "note", required=False, limit=2000)
    with ctx.db.write() as s:
        row = s.get(MenteeGoalsRow, me.id)
        if row is None:
            row = MenteeGoalsRow(person_id=me.id, goals=list(tags), note=clean)
            s.add(row)
        row.goals, row.note, row.updated_at = list(tags), clean, utcnow()
        audit.record(s, ctx.actor_label, "mentee.goals", f"person:{me.id}")
    return MenteeGoals(me.username, me.display_name, tags, clean)


def _pool(s: Session) -> tuple[list[MentorOffer], list[MenteeGoals]]:
    """Active mentors' offers, and the people with goals who have no active mentor."""
    counts = _active_counts(s)
    offers = [
        _offer(o, p, counts.get(p.id, 0))
        for o, p in s.execute(
            select(MentorOfferRow, PersonRow)
            .join(PersonRow, PersonRow.id == MentorOfferRow.person_id)
            .where(PersonRow.active.is_(True))
            .order_by(PersonRow.username)
        )
    ]
    paired = set(
        s.scalars(
            select(MentorshipRow.mentee_id).where(MentorshipRow.status == PairStatus.ACTIVE.value)
        )
    )
    mentees = [
        MenteeGoals(p.username, p.display_name, tuple(g.goals), g.note)
        for g, p in s.execute(
            select(MenteeGoalsRow, PersonRow)
            .join(PersonRow, PersonRow.id == MenteeGoalsRow.person_id)
            .where(PersonRow.active.is_(True))
            .order_by(PersonRow.username)
        )
        if p.id not in paired
    ]
    return offers, mentees


def list_mentees(ctx: Context) -> list[MenteeGoals]:
    """Everyone waiting for a mentor, with their goals (programme leads only)."""
    ctx.require(Action.RUN_PROGRAMMES)
    with ctx.db.read() as s:
        return _pool(s)[1]


def propose(ctx: Context) -> list[Proposal]:
    """The matcher's proposal for the whole pool (nothing is stored until approved)."""
    ctx.require(Action.RUN_PROGRAMMES)
    with ctx.db.read() as s:
        offers, mentees = _pool(s)
    return rules.match(offers, mentees)


def _pair(s: Session, row: MentorshipRow, *, with_sessions: bool) -> Mentorship:
    names = usernames(s, {row.mentor_id, row.mentee_id})
    sessions: tuple[MentorSession, ...] = ()
    if with_sessions:
        sessions = tuple(
            MentorSession(x.id, row.id, x.at, x.minutes, x.notes, x.logged_by)
            for x in s.scalars(
                select(MentorSessionRow)
                .where(MentorSessionRow.pair_id == row.id)
                .order_by(MentorSessionRow.at)
            )
        )
    return Mentorship(
        id=row.id,
        mentor=names[row.mentor_id],
        mentee=names[row.mentee_id],
        status=PairStatus(row.status),
        goals=tuple(row.goals),
        approved_by=row.approved_by,
        started_at=row.started_at,
        ended_at=row.ended_at,
        sessions=sessions,
    )


def approve(ctx: Context, pairs: Sequence[tuple[str, str]]) -> list[Mentorship]:
    """Start these (mentor, mentee) pairs: the matcher's proposal, or an edited one.

    All or nothing: a mentor over capacity, someone mentoring themselves or a pair that
    exists already refuses the whole set."""
    ctx.require(Action.RUN_PROGRAMMES)
    if not pairs:
        raise InvalidInput("no pairs to approve", hint="run the matcher, then approve its pairs")
    made = []
    with ctx.db.write() as s:
        counts = _active_counts(s)
        for mentor_name, mentee_name in pairs:
            mentor, mentee = person_row(s, mentor_name), person_row(s, mentee_name)
            if mentor.id == mentee.id:
                raise InvalidInput(f"{mentor.username} cannot mentor themselves")
            o = s.get(MentorOfferRow, mentor.id)
            if o is None:
                raise InvalidInput(
                    f"{mentor.username} has not offered to mentor",
                    hint="they can offer with `mlgrove mentors offer`",
                )
            if counts.get(mentor.id, 0) >= o.capacity:
                raise Conflict(
                    f"{mentor.username} is at capacity "
                    f"({counts.get(mentor.id, 0)} of {o.capacity} mentees)",
                    hint="pick another mentor, or ask them to raise their capacity",
                )
            dup = s.scalar(
                select(MentorshipRow.id).where(
                    MentorshipRow.mentor_id == mentor.id,
                    MentorshipRow.mentee_id == mentee.id,
                    MentorshipRow.status == PairStatus.ACTIVE.value,
                )
            )
            if dup is not None:
                raise Conflict(f"{mentor.username} already mentors {mentee.username}")
            g = s.get(MenteeGoalsRow, mentee.id)
            goals = list(g.goals) if g else []
            covered = [x for x in goals if x in o.strengths] or goals
            row = MentorshipRow(
                mentor_id=mentor.id,
                mentee_id=mentee.id,
                status=PairStatus.ACTIVE.value,
                goals=covered,
                approved_by=ctx.actor_label,
                started_at=utcnow(),
            )
            s.add(row)
            s.flush()
            counts[mentor.id] = counts.get(mentor.id, 0) + 1
            audit.record(
                s,
                ctx.actor_label,
                "mentorship.approve",
                f"pair:{row.id}",
                f"{mentor.username} -> {mentee.username}",
            )
            for who, text in (
                (mentor.id, f"You now mentor {mentee.username}"),
                (mentee.id, f"{mentor.username} is now your mentor"),
            ):
                notifications.add(s, who, "mentorship", text, "/programs/mentors")
            made.append(_pair(s, row, with_sessions=False))
    return made


def _member_pair(s: Session, ctx: Context, pair_id: int) -> MentorshipRow:
    row = s.get(MentorshipRow, pair_id)
    if row is None or ctx.actor.id not in (row.mentor_id, row.mentee_id):
        if row is not None and allowed(ctx.actor, Action.RUN_PROGRAMMES):
            raise PermissionDenied(
                f"only the two people of pair {pair_id} can do that",
                hint="sessions and goals belong to the mentor and mentee",
            )
        raise NotFound(f"no mentorship {pair_id}", hint="the mentors page lists yours")
    return row


def list_pairs(ctx: Context, *, everyone: bool = False) -> list[Mentorship]:
    """One's own pairs (as mentor or mentee) with their sessions; programme leads may
    list every pair, without sessions (those stay with the two people)."""
    me = participant(ctx)
    if everyone:
        ctx.require(Action.RUN_PROGRAMMES)
    query = select(MentorshipRow).order_by(MentorshipRow.id)
    if not everyone:
        query = query.where((MentorshipRow.mentor_id == me.id) | (MentorshipRow.mentee_id == me.id))
    with ctx.db.read() as s:
        return [
            _pair(s, r, with_sessions=me.id in (r.mentor_id, r.mentee_id)) for r in s.scalars(query)
        ]


def log_session(
    ctx: Context, pair_id: int, minutes: int, notes: str = "", *, at: datetime | None = None
) -> Mentorship:
    participant(ctx)
    if not 1 <= minutes <= 600:
        raise InvalidInput(f"{minutes} minutes is not a session", hint="1 to 600 minutes")
    clean = text_rules.text(notes, "notes", required=False)
    with ctx.db.write() as s:
        row = _member_pair(s, ctx, pair_id)
        if row.status != PairStatus.ACTIVE.value:
            raise Conflict(f"mentorship {pair_id} has ended")
        s.add(
            MentorSessionRow(
                pair_id=row.id,
                at=at or utcnow(),
                minutes=minutes,
                notes=clean,
                logged_by=ctx.actor_label,
            )
        )
        s.flush()
        return _pair(s, row, with_sessions=True)


def set_pair_goals(ctx: Context, pair_id: int, goals: Sequence[str]) -> Mentorship:
    participant(ctx)
    tags = rules.tags(goals, "goals")
    with ctx.db.write() as s:
        row = _member_pair(s, ctx, pair_id)
        row.goals = list(tags)
        return _pair(s, row, with_sessions=True)


def end_pair(ctx: Context, pair_id: int) -> Mentorship:
    """End a pairing (either of the two people, or a programme lead)."""
    participant(ctx)
    with ctx.db.write() as s:
        row = s.get(MentorshipRow, pair_id)
        lead = allowed(ctx.actor, Action.RUN_PROGRAMMES)
        if row is None or (ctx.actor.id not in (row.mentor_id, row.mentee_id) and not lead):
            raise NotFound(f"no mentorship {pair_id}")
        if row.status == PairStatus.ENDED.value:
            raise Conflict(f"mentorship {pair_id} has already ended")
        row.status, row.ended_at = PairStatus.ENDED.value, utcnow()
        audit.record(s, ctx.actor_label, "mentorship.end", f"pair:{row.id}")
        return _pair(s, row, with_sessions=ctx.actor.id in (row.mentor_id, row.mentee_id))
