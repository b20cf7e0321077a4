"""Holistic feedback: give it, list what one may see, request it from peers.

Feedback has a technical and a collaboration part (one may be empty, not both), is tied
to a piece of work, tagged with ladder competencies, and is visible to the receiver (and
their manager if the giver chose ``receiver+manager``). Reads go through
``growth_policy``; reads of someone else's feedback, and refusals, are audit-logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain import growth as rules
from mlgrove.domain.clock import utcnow
from mlgrove.domain.growth import BalancePoint, Feedback, FeedbackRequest, WorkKind
from mlgrove.domain.growth_policy import DataKind, Item, Visibility, may_read, parse_visibility
from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import audit, growth_access, growth_ladder, notifications
from mlgrove.services.context import Context
from mlgrove.store.models import (
    DatasetRow,
    DatasetVersionRow,
    ModelRow,
    ModelVersionRow,
    PersonRow,
    RunRow,
)
from mlgrove.store.models.growth import GrowthFeedbackRequestRow, GrowthFeedbackRow
from mlgrove.store.models.growth_programs import DesignReviewRow
from mlgrove.store.models.review import ReviewQueueRow

#: Most peers one request may name (a request is a question to people, not a broadcast).
MAX_PEERS = 20


def _visibility(value: Visibility | str) -> Visibility:
    parsed = parse_visibility(str(value))
    if parsed is None:
        raise InvalidInput(
            f"unknown visibility {value!r}",
            hint="choose " + " or ".join(v.value for v in Visibility),
        )
    return parsed


def check_work(session: Session, about: str) -> WorkKind:
    """Classify ``about`` and, for Grove references, check the work exists."""
    kind = rules.work_kind(about)
    about = about.strip()
    exists = True
    if kind is WorkKind.RUN:
        exists = session.get(RunRow, int(about.split(":", 1)[1])) is not None
    elif kind is WorkKind.DESIGN_REVIEW:
        exists = session.get(DesignReviewRow, int(about.split(":", 1)[1])) is not None
    elif kind is WorkKind.REVIEW_QUEUE:
        name = about.split(":", 1)[1]
        query = select(ReviewQueueRow.id).where(ReviewQueueRow.name == name)
        exists = session.scalars(query).first() is not None
    elif kind in (WorkKind.DATASET_VERSION, WorkKind.MODEL_VERSION):
        match = re.match(r"^[a-z]+:([^@]+)@v(\d+)$", about)
        assert match is not None  # work_kind checked the form
        name, number = match.group(1), int(match.group(2))
        if kind is WorkKind.DATASET_VERSION:
            query = (
                select(DatasetVersionRow.id)
                .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
                .where(DatasetRow.name == name, DatasetVersionRow.number == number)
            )
        else:
            query = (
                select(ModelVersionRow.id)
                .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
                .where(ModelRow.name == name, ModelVersionRow.number == number)
            )
        exists = session.scalars(query).first() is not None
    if not exists:
        raise NotFound(f"{about} does not exist in this Grove", hint="check the reference")
    return kind


def _people(session: Session, ids: Iterable[int]) -> dict[int, PersonRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(PersonRow).where(PersonRow.id.in_(wanted)))}


def _value(row: GrowthFeedbackRow, people: dict[int, PersonRow]) -> Feedback:
    return Feedback(
        id=row.id,
        giver=growth_access.ref(people[row.giver_id]),
        receiver=growth_access.ref(people[row.receiver_id]),
        technical=row.technical,
        collaboration=row.collaboration,
        about=row.about,
        about_kind=WorkKind(row.about_kind),
        competencies=list(row.competencies),
        visibility=Visibility(row.visibility),
        created_at=row.created_at,
        request_id=row.request_id,
    )


def _item(row: GrowthFeedbackRow) -> Item:
    return Item(DataKind.FEEDBACK, author_id=row.giver_id, visibility=Visibility(row.visibility))


def give_feedback(
    ctx: Context,
    to: str,
    *,
    technical: str | None = None,
    collaboration: str | None = None,
    about: str = "",
    competencies: Sequence[str] = (),
    visibility: Visibility | str = Visibility.RECEIVER,
    request_id: int | None = None,
) -> Feedback:
    """Give feedback to ``to`` (e-mail address or username). Returns what was stored."""
    me = growth_access.require_person(ctx)
    tech, collab = rules.check_feedback(technical, collaboration)
    vis = _visibility(visibility)
    tags = growth_ladder.current(ctx.settings).check_tags(list(competencies))
    with ctx.db.write() as s:
        receiver = growth_access.find_person(s, to)
        if receiver.id == me.id:
            raise InvalidInput(
                "feedback is for someone else", hint="use a growth plan for yourself"
            )
        kind = check_work(s, about)
        if request_id is not None:
            req = s.get(GrowthFeedbackRequestRow, request_id)
            if req is None or req.peer_id != me.id or req.requester_id != receiver.id:
                raise NotFound(f"no feedback request {request_id} from {to} to you")
            if req.answered_at is not None:
                raise InvalidInput(f"feedback request {request_id} is answered already")
            req.answered_at = utcnow()
            if not about:
                about, kind = req.about, WorkKind(req.about_kind)
        row = GrowthFeedbackRow(
            giver_id=me.id,
            receiver_id=receiver.id,
            technical=tech,
            collaboration=collab,
            about=about.strip(),
            about_kind=kind.value,
            competencies=tags,
            visibility=vis.value,
            request_id=request_id,
        )
        s.add(row)
        s.flush()
        notifications.add(
            s,
            receiver.id,
            "feedback",
            f"{me.display_name} gave you feedback",
            f"/growth#feedback-{row.id}",
        )
        audit.record(
            s,
            ctx.actor_label,
            "growth.feedback.give",
            f"person:{receiver.id}",
            f"feedback #{row.id}",
        )
        value = _value(row, _people(s, [me.id, receiver.id]))
        receiver_name = receiver.display_name
    notifications.announce(ctx, f"{receiver_name} has new feedback in Grove.")
    return value


def get_feedback(ctx: Context, feedback_id: int) -> Feedback:
    """One piece of feedback, if the policy lets the caller read it (refusals are logged)."""
    growth_access.require_person(ctx)
    with ctx.db.read() as s:
        row = s.get(GrowthFeedbackRow, feedback_id)
        if row is None:
            raise NotFound(f"no feedback {feedback_id}")
        receiver = growth_access.person_row(s, row.receiver_id)
        allowed = may_read(
            growth_access.viewer(ctx), growth_access.subject_of(receiver), _item(row)
        )
        value = _value(row, _people(s, [row.giver_id, row.receiver_id])) if allowed else None
    if value is None:
        raise growth_access.refuse(ctx, receiver.id, f"feedback #{feedback_id}")
    growth_access.log_reads(ctx, [(receiver.id, f"feedback #{feedback_id}")])
    return value


def list_feedback(ctx: Context, about: str | None = None, *, limit: int = 500) -> list[Feedback]:
    """Feedback about the caller, or about ``about`` (what the caller may see), newest first.

    A manager sees what givers shared with the manager; a giver sees what they gave.
    Everything else is withheld, and the withholding is logged for the person to see.
    """
    me = growth_access.require_person(ctx)
    who = growth_access.viewer(ctx)
    with ctx.db.read() as s:
        subject_row = growth_access.find_person(s, about) if about else s.get_one(PersonRow, me.id)
        subject = growth_access.subject_of(subject_row)
        rows = list(
            s.scalars(
                select(GrowthFeedbackRow)
                .where(GrowthFeedbackRow.receiver_id == subject_row.id)
                .order_by(GrowthFeedbackRow.id.desc())
                .limit(min(max(limit, 1), 5000))
            )
        )
        visible = [r for r in rows if may_read(who, subject, _item(r))]
        people = _people(s, [p for r in visible for p in (r.giver_id, r.receiver_id)])
        values = [_value(r, people) for r in visible]
    withheld = len(rows) - len(visible)
    if withheld:
        growth_access.refuse(ctx, subject.id, f"feedback about them ({withheld} withheld)")
    growth_access.log_reads(ctx, [(subject.id, f"feedback #{v.id}") for v in values])
    return values


def feedback_given(ctx: Context, *, limit: int = 500) -> list[Feedback]:
    """Feedback the caller gave, newest first (their own words: no read is logged)."""
    me = growth_access.require_person(ctx)
    with ctx.db.read() as s:
        rows = list(
            s.scalars(
                select(GrowthFeedbackRow)
                .where(GrowthFeedbackRow.giver_id == me.id)
                .order_by(GrowthFeedbackRow.id.desc())
                .limit(min(max(limit, 1), 5000))
            )
        )
        people = _people(s, [p for r in rows for p in (r.giver_id, r.receiver_id)])
        return [_value(r, people) for r in rows]


def my_balance(ctx: Context) -> list[BalancePoint]:
    """The caller's feedback over time, per month and axis: all of it, not only a page."""
    me = growth_access.require_person(ctx)
    with ctx.db.read() as s:
        rows = s.execute(
            select(
                GrowthFeedbackRow.created_at,
                GrowthFeedbackRow.technical != "",
                GrowthFeedbackRow.collaboration != "",
            ).where(GrowthFeedbackRow.receiver_id == me.id)
        ).all()
    return rules.balance_of((at, bool(t), bool(c)) for at, t, c in rows)


# -- requests ----------------------------------------------------------------------------


def _request_value(row: GrowthFeedbackRequestRow, people: dict[int, PersonRow]) -> FeedbackRequest:
    return FeedbackRequest(
        id=row.id,
        requester=growth_access.ref(people[row.requester_id]),
        peer=growth_access.ref(people[row.peer_id]),
        about=row.about,
        about_kind=WorkKind(row.about_kind),
        message=row.message,
        created_at=row.created_at,
        answered_at=row.answered_at,
    )


def request_feedback(
    ctx: Context, peers: Sequence[str], *, about: str, message: str = ""
) -> list[FeedbackRequest]:
    """Ask named peers (e-mail addresses or usernames) for feedback on a piece of work."""
    me = growth_access.require_person(ctx)
    if not about.strip():
        raise InvalidInput(
            "a feedback request names the piece of work it is about",
            hint="e.g. --about https://git.example/org/repo/pull/42 or --about run:12",
        )
    names = list(dict.fromkeys(p.strip() for p in peers if p.strip()))
    if not names:
        raise InvalidInput("name at least one peer to ask")
    if len(names) > MAX_PEERS:
        raise InvalidInput(f"at most {MAX_PEERS} peers per request, got {len(names)}")
    text = rules.clean_text(message, "the message", limit=1000)
    with ctx.db.write() as s:
        kind = check_work(s, about)
        rows = []
        for name in names:
            peer = growth_access.find_person(s, name)
            if peer.id == me.id:
                raise InvalidInput("you cannot ask yourself for feedback")
            row = GrowthFeedbackRequestRow(
                requester_id=me.id,
                peer_id=peer.id,
                about=about.strip(),
                about_kind=kind.value,
                message=text,
            )
            s.add(row)
            s.flush()
            rows.append(row)
            notifications.add(
                s,
                peer.id,
                "feedback-request",
                f"{me.display_name} asked for your feedback",
                "/growth/requests",
            )
            audit.record(
                s,
                ctx.actor_label,
                "growth.feedback.request",
                f"person:{peer.id}",
                f"request #{row.id}",
            )
        people = _people(s, [me.id, *(r.peer_id for r in rows)])
        values = [_request_value(r, people) for r in rows]
    for v in values:
        notifications.announce(ctx, f"{v.peer.display_name} has a new feedback request in Grove.")
    return values


def list_requests(ctx: Context) -> tuple[list[FeedbackRequest], list[FeedbackRequest]]:
    """(requests waiting for the caller's answer, requests the caller made), newest first."""
    me = growth_access.require_person(ctx)
    with ctx.db.read() as s:
        to_me = list(
            s.scalars(
                select(GrowthFeedbackRequestRow)
                .where(GrowthFeedbackRequestRow.peer_id == me.id)
                .where(GrowthFeedbackRequestRow.answered_at.is_(None))
                .order_by(GrowthFeedbackRequestRow.id.desc())
            )
        )
        mine = list(
            s.scalars(
                select(GrowthFeedbackRequestRow)
                .where(GrowthFeedbackRequestRow.requester_id == me.id)
                .order_by(GrowthFeedbackRequestRow.id.desc())
                .limit(500)
            )
        )
        people = _people(s, [p for r in to_me + mine for p in (r.requester_id, r.peer_id)])
        return [_request_value(r, people) for r in to_me], [_request_value(r, people) for r in mine]
