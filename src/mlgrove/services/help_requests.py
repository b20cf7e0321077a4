"""Help requests: mark yourself stuck, ask, get answers, resolve, say thanks.

Asked requests are seen by everyone in Grove (asking in the open is the point); a
request only marked stuck is the person's own until they ask. How long the asker was
stuck is private (policy: ``DataKind.TIME_STUCK``): the asker sees it, their mentor only
while the asker shares it, and each such read by the mentor is audit-logged.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlgrove.domain import growth_policy as policy
from mlgrove.domain import help_requests as rules
from mlgrove.domain.clock import utcnow
from mlgrove.domain.help_requests import (
    Candidate,
    HelperSuggestion,
    HelpRequest,
    HelpResponse,
    HelpStats,
    HelpStatus,
)
from mlgrove.domain.mentorship import PairStatus
from mlgrove.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlgrove.services import audit, notifications
from mlgrove.services.context import Context
from mlgrove.services.programs import (
    own_team,
    participant,
    record_private_reads,
    subject,
    team_names,
    team_row,
    usernames,
    viewer,
)
from mlgrove.store.models import DatasetRow, PersonRow, ProjectRow
from mlgrove.store.models.growth_programs import (
    HelpNudgeRow,
    HelpRequestRow,
    HelpResponseRow,
    MentorOfferRow,
    MentorshipRow,
)
from mlgrove.store.models.pipelines import PipelineRow

LIST_MAX = 500


def _row(s: Session, request_id: int) -> HelpRequestRow:
    row = s.get(HelpRequestRow, request_id)
    if row is None:
        raise NotFound(f"no help request {request_id}", hint="`mlgrove help list` shows them")
    return row


def _visible(ctx: Context, row: HelpRequestRow) -> bool:
    return row.status != HelpStatus.STUCK.value or row.asker_id == ctx.actor.id


def _may_see_stuck(s: Session, ctx: Context, row: HelpRequestRow, asker: PersonRow) -> bool:
    return policy.may_read(
        viewer(ctx),
        subject(s, asker, shares_stuck=row.share_stuck_with_mentor),
        policy.Item(policy.DataKind.TIME_STUCK),
    )


def _values(s: Session, ctx: Context, rows: list[HelpRequestRow]) -> list[HelpRequest]:
    ids = [r.id for r in rows]
    responses: dict[int, list[HelpResponseRow]] = {}
    if ids:
        for resp in s.scalars(
            select(HelpResponseRow)
            .where(HelpResponseRow.request_id.in_(ids))
            .order_by(HelpResponseRow.id)
        ):
            responses.setdefault(resp.request_id, []).append(resp)
    people = {r.asker_id for r in rows} | {
        x.responder_id for rs in responses.values() for x in rs if x.responder_id is not None
    }
    names = usernames(s, people)
    teams = team_names(s)
    out, reads = [], []
    for r in rows:
        asker = s.get_one(PersonRow, r.asker_id)
        see = _may_see_stuck(s, ctx, r, asker)
        if see and r.asker_id != ctx.actor.id:
            reads.append((r.asker_id, f"help request {r.id}"))
        out.append(
            HelpRequest(
                id=r.id,
                asker=names.get(r.asker_id, "?"),
                team=teams.get(r.team_id) if r.team_id is not None else None,
                topic=r.topic,
                context=r.context,
                competency=r.competency,
                dataset=r.dataset,
                status=HelpStatus(r.status),
                created_at=r.created_at,
                asked_at=r.asked_at,
                first_response_at=r.first_response_at,
                resolved_at=r.resolved_at,
                stuck_since=r.stuck_since if see else None,
                share_stuck_with_mentor=r.share_stuck_with_mentor if see else False,
                responses=tuple(
                    HelpResponse(
                        id=x.id,
                        request_id=r.id,
                        responder=names.get(x.responder_id, "(deleted)")
                        if x.responder_id is not None
                        else "(deleted)",
                        body=x.body,
                        at=x.at,
                        thanked=x.thanked,
                    )
                    for x in responses.get(r.id, [])
                ),
            )
        )
    record_private_reads(ctx, policy.DataKind.TIME_STUCK, reads)
    return out


def _one(ctx: Context, request_id: int) -> HelpRequest:
    with ctx.db.read() as s:
        row = _row(s, request_id)
        if not _visible(ctx, row):
            raise NotFound(f"no help request {request_id}", hint="`mlgrove help list` shows them")
        return _values(s, ctx, [row])[0]


def _dataset_ref(s: Session, ref: str) -> str:
    """``project/dataset`` checked to exist ("" for none)."""
    ref = ref.strip()
    if not ref:
        return ""
    project, sep, name = ref.partition("/")
    if not sep:
        raise InvalidInput(f"dataset {ref!r} is not project/name", hint="e.g. vision/parts")
    found = s.scalar(
        select(DatasetRow.id)
        .join(ProjectRow, ProjectRow.id == DatasetRow.project_id)
        .where(ProjectRow.name == project, DatasetRow.name == name)
    )
    if found is None:
        raise NotFound(f"no dataset {ref!r}", hint="`mlgrove data list` shows datasets")
    return ref


def ask(
    ctx: Context,
    topic: str,
    *,
    context: str = "",
    competency: str = "",
    dataset: str = "",
    stuck_since: datetime | str | None = None,
    share_with_mentor: bool = False,
    ask_now: bool = True,
) -> HelpRequest:
    """Ask for help (or, with ``ask_now=False``, only mark yourself stuck for now).

    ``stuck_since`` is a time or a duration before now ("2h", "1d"); default: now."""
    me = participant(ctx)
    now = utcnow()
    clean_topic = rules.text(topic, "topic", limit=rules.TOPIC_MAX)
    clean_context = rules.text(context, "context", required=False)
    tag = rules.text(competency, "competency", required=False, limit=60).lower()
    since = rules.stuck_since(now, stuck_since)
    with ctx.db.write() as s:
        row = HelpRequestRow(
            asker_id=me.id,
            team_id=me.team_id,
            topic=clean_topic,
            context=clean_context,
            competency=tag,
            dataset=_dataset_ref(s, dataset),
            status=(HelpStatus.OPEN if ask_now else HelpStatus.STUCK).value,
            stuck_since=since,
            share_stuck_with_mentor=share_with_mentor,
            created_at=now,
            asked_at=now if ask_now else None,
        )
        s.add(row)
        s.flush()
        if ask_now:
            audit.record(s, ctx.actor_label, "help.ask", f"help:{row.id}", clean_topic[:100])
        request_id = row.id
    return _one(ctx, request_id)


def ask_marked(ctx: Context, request_id: int) -> HelpRequest:
    """Turn one's own 'stuck' mark into an asked request."""
    participant(ctx)
    with ctx.db.write() as s:
        row = _row(s, request_id)
        if row.asker_id != ctx.actor.id:
            raise NotFound(f"no help request {request_id}", hint="`mlgrove help list` shows them")
        if row.status != HelpStatus.STUCK.value:
            raise Conflict(f"help request {request_id} was already asked")
        row.status, row.asked_at = HelpStatus.OPEN.value, utcnow()
        audit.record(s, ctx.actor_label, "help.ask", f"help:{row.id}", row.topic[:100])
    return _one(ctx, request_id)


def list_requests(
    ctx: Context,
    *,
    status: HelpStatus | str | None = None,
    mine: bool = False,
    team: str | None = None,
    limit: int = 100,
) -> list[HelpRequest]:
    """Requests newest first: everyone's asked ones, plus one's own stuck marks."""
    participant(ctx)
    query = select(HelpRequestRow).order_by(HelpRequestRow.id.desc()).limit(min(limit, LIST_MAX))
    if status is not None:
        try:
            query = query.where(HelpRequestRow.status == HelpStatus(status).value)
        except ValueError:
            raise InvalidInput(
                f"unknown status {status!r}", hint="use stuck, open or resolved"
            ) from None
    if mine:
        query = query.where(HelpRequestRow.asker_id == ctx.actor.id)
    with ctx.db.read() as s:
        if team:
            query = query.where(HelpRequestRow.team_id == team_row(s, team).id)
        query = query.where(
            (HelpRequestRow.status != HelpStatus.STUCK.value)
            | (HelpRequestRow.asker_id == ctx.actor.id)
        )
        return _values(s, ctx, list(s.scalars(query)))


def get_request(ctx: Context, request_id: int) -> HelpRequest:
    participant(ctx)
    return _one(ctx, request_id)


def respond(ctx: Context, request_id: int, body: str) -> HelpRequest:
    """Answer a request. The first answer by someone other than the asker starts the clock
    of 'time to first response'."""
    me = participant(ctx)
    text = rules.text(body, "answer")
    with ctx.db.write() as s:
        row = _row(s, request_id)
        if not _visible(ctx, row):
            raise NotFound(f"no help request {request_id}")
        if row.status == HelpStatus.STUCK.value:
            raise Conflict(
                f"help request {request_id} has not been asked yet",
                hint="ask it first (`mlgrove help ask`)",
            )
        now = utcnow()
        s.add(HelpResponseRow(request_id=row.id, responder_id=me.id, body=text, at=now))
        if me.id != row.asker_id and row.first_response_at is None:
            row.first_response_at = now
        if me.id != row.asker_id:
            notifications.add(
                s,
                row.asker_id,
                "help.answer",
                f"{me.username} answered your help request: {row.topic}",
                f"/programs/help/{row.id}",
            )
        audit.record(s, ctx.actor_label, "help.respond", f"help:{row.id}")
    return _one(ctx, request_id)


def _own(s: Session, ctx: Context, request_id: int, what: str) -> HelpRequestRow:
    row = _row(s, request_id)
    if row.asker_id != ctx.actor.id:
        if not _visible(ctx, row):
            raise NotFound(f"no help request {request_id}")
        raise PermissionDenied(
            f"only the person who asked can {what} help request {request_id}",
            hint="add an answer instead",
        )
    return row


def resolve(ctx: Context, request_id: int, *, thank: list[int] | None = None) -> HelpRequest:
    """Mark one's own request resolved, thanking the answers named in ``thank``."""
    participant(ctx)
    with ctx.db.write() as s:
        row = _own(s, ctx, request_id, "resolve")
        if row.status == HelpStatus.RESOLVED.value:
            raise Conflict(f"help request {request_id} is already resolved")
        now = utcnow()
        row.status, row.resolved_at = HelpStatus.RESOLVED.value, now
        if row.asked_at is None:
            row.asked_at = now
        _thank(s, row, thank or [])
        audit.record(s, ctx.actor_label, "help.resolve", f"help:{row.id}")
    return _one(ctx, request_id)


def _thank(s: Session, row: HelpRequestRow, response_ids: list[int]) -> None:
    for rid in response_ids:
        resp = s.get(HelpResponseRow, rid)
        if resp is None or resp.request_id != row.id:
            raise NotFound(
                f"help request {row.id} has no answer {rid}", hint="thank an answer it has"
            )
        resp.thanked = True


def thank(ctx: Context, request_id: int, response_id: int) -> HelpRequest:
    participant(ctx)
    with ctx.db.write() as s:
        _thank(s, _own(s, ctx, request_id, "thank answers of"), [response_id])
    return _one(ctx, request_id)


def share_with_mentor(ctx: Context, request_id: int, share: bool) -> HelpRequest:
    """Let one's mentor see how long one was stuck on this request, or stop letting them."""
    participant(ctx)
    with ctx.db.write() as s:
        _own(s, ctx, request_id, "change the sharing of").share_stuck_with_mentor = share
    return _one(ctx, request_id)


# -- helpers to ask ------------------------------------------------------------------------


def suggest_helpers(ctx: Context, request_id: int) -> list[HelperSuggestion]:
    """Who could help: declared strengths, the asker's mentor, creators of the datasets
    and pipelines the request names (by reference or by name in its topic or context),
    and of pipelines that read its dataset."""
    participant(ctx)
    with ctx.db.read() as s:
        row = _row(s, request_id)
        if not _visible(ctx, row):
            raise NotFound(f"no help request {request_id}")
        text = f"{row.topic} {row.context}".lower()
        words = set(re.findall(r"[a-z0-9_.-]+", text))
        owned: dict[int, list[str]] = {}
        for ds_name, project, creator in s.execute(
            select(DatasetRow.name, ProjectRow.name, DatasetRow.created_by).join(
                ProjectRow, ProjectRow.id == DatasetRow.project_id
            )
        ):
            ref = f"{project}/{ds_name}"
            if creator is not None and (ref == row.dataset or ds_name.lower() in words):
                owned.setdefault(creator, []).append(f"dataset {ref}")
        # Pipelines named in the request, or reading its dataset; creators are usernames.
        wanted = row.dataset.partition("/")[2]
        by_name: dict[str, list[str]] = {}
        for pipe in s.scalars(select(PipelineRow)):
            reads = {
                str(label).split(":")[0]
                for step in pipe.steps
                for label in dict(step.get("datasets", {})).values()
            }
            if pipe.name.lower() in words or (wanted and wanted in reads):
                by_name.setdefault(pipe.created_by, []).append(f"pipeline {pipe.name}")
        offers = {o.person_id: o for o in s.scalars(select(MentorOfferRow))}
        mentors = set(
            s.scalars(
                select(MentorshipRow.mentor_id).where(
                    MentorshipRow.mentee_id == row.asker_id,
                    MentorshipRow.status == PairStatus.ACTIVE.value,
                )
            )
        )
        candidates = [
            Candidate(
                username=p.username,
                display_name=p.display_name,
                strengths=frozenset(offers[p.id].strengths) if p.id in offers else frozenset(),
                is_askers_mentor=p.id in mentors,
                offers_mentoring=p.id in offers and offers[p.id].capacity > 0,
                owns=tuple(owned.get(p.id, []) + by_name.get(p.username, [])),
            )
            for p in s.scalars(select(PersonRow).where(PersonRow.active.is_(True)))
            if p.id != row.asker_id
        ]
    return rules.suggest_helpers(row.topic, row.context, row.competency, candidates)


# -- the nudge -----------------------------------------------------------------------------


def set_nudge(ctx: Context, after: str | None) -> int | None:
    """Opt in to a reminder to ask once a stuck mark is older than ``after`` ("2h");
    ``None`` opts out. Returns the threshold in minutes."""
    me = participant(ctx)
    minutes = None
    if after is not None:
        span = rules.parse_duration(after)
        if span < timedelta(minutes=5) or span > timedelta(days=14):
            raise InvalidInput("a nudge waits 5 minutes to 14 days", hint="e.g. 2h")
        minutes = int(span.total_seconds() // 60)
    with ctx.db.write() as s:
        row = s.get(HelpNudgeRow, me.id)
        if minutes is None:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(HelpNudgeRow(person_id=me.id, after_minutes=minutes))
        else:
            row.after_minutes = minutes
    return minutes


def nudge_setting(ctx: Context) -> int | None:
    me = participant(ctx)
    with ctx.db.read() as s:
        row = s.get(HelpNudgeRow, me.id)
        return row.after_minutes if row else None


def nudges(ctx: Context) -> list[HelpRequest]:
    """One's own stuck marks older than one's nudge threshold (none unless opted in)."""
    me = participant(ctx)
    with ctx.db.read() as s:
        setting = s.get(HelpNudgeRow, me.id)
        if setting is None:
            return []
        cutoff = utcnow() - timedelta(minutes=setting.after_minutes)
        rows = s.scalars(
            select(HelpRequestRow)
            .where(
                HelpRequestRow.asker_id == me.id,
                HelpRequestRow.status == HelpStatus.STUCK.value,
                HelpRequestRow.stuck_since <= cutoff,
            )
            .order_by(HelpRequestRow.stuck_since)
        )
        return _values(s, ctx, list(rows))


# -- team figures --------------------------------------------------------------------------


def team_stats(ctx: Context, team: str | None = None) -> HelpStats:
    """Median times to first answer and to resolution for requests asked by the team's
    people; hidden unless at least ``min_group_size`` people asked."""
    participant(ctx)
    with ctx.db.read() as s:
        t = own_team(s, ctx, team)
        rows = list(
            s.scalars(
                select(HelpRequestRow).where(
                    HelpRequestRow.team_id == t.id, HelpRequestRow.asked_at.is_not(None)
                )
            )
        )
    # The group is the people who asked, not the roster: a median over fewer people
    # than the minimum could single someone out.
    askers = len({r.asker_id for r in rows})
    minimum = ctx.settings.min_group_size
    if not policy.may_see_aggregate(askers, minimum):
        return HelpStats(t.name, askers, minimum, False)
    first = [r.first_response_at - r.asked_at for r in rows if r.first_response_at and r.asked_at]
    done = [r.resolved_at - r.asked_at for r in rows if r.resolved_at and r.asked_at]
    return HelpStats(
        team=t.name,
        group_size=askers,
        min_group_size=minimum,
        shown=True,
        requests=len(rows),
        answered=len(first),
        resolved=len(done),
        median_first_response_minutes=rules.median_minutes(first),
        median_resolution_minutes=rules.median_minutes(done),
    )
