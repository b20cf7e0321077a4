"""Learning time: team budgets, events (with an iCal feed), personal entries, and the
team's budget against what was logged, in aggregate only.

A person's entries are theirs: only they list them. A team's figure is a sum over its
people, shown when the team has at least ``min_group_size`` active people.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from mlgrove.domain import growth_policy as policy
from mlgrove.domain import help_requests as text_rules
from mlgrove.domain import ical
from mlgrove.domain import learning as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.learning import (
    BudgetReport,
    LearningBudget,
    LearningEntry,
    LearningEvent,
)
from mlgrove.errors import AuthenticationFailed, InvalidInput, NotFound
from mlgrove.services import audit
from mlgrove.services.context import Context, Runtime
from mlgrove.services.programs import own_team, participant, team_names, team_row, team_size
from mlgrove.store.models import PersonRow
from mlgrove.store.models.growth_programs import (
    LearningBudgetRow,
    LearningEntryRow,
    LearningEventRow,
)
from mlgrove.store.repos import people as people_repo

REPORT_WEEKS = 12
EVENTS_MAX = 500


def _budget(row: LearningBudgetRow, team: str) -> LearningBudget:
    return LearningBudget(team, rules.BudgetKind(row.kind), row.share, row.sprint_weeks)


def set_budget(
    ctx: Context,
    team: str,
    kind: str,
    *,
    share: float | None = None,
    sprint_weeks: int | None = None,
) -> LearningBudget:
    """A team's learning budget: a share of time, or a learning day per sprint."""
    ctx.require(Action.RUN_PROGRAMMES)
    k, s_share, weeks = rules.check_budget(kind, share, sprint_weeks)
    with ctx.db.write() as s:
        t = team_row(s, team)
        row = s.get(LearningBudgetRow, t.id)
        if row is None:
            row = LearningBudgetRow(team_id=t.id, kind=k.value, updated_by=ctx.actor_label)
            s.add(row)
        row.kind, row.share, row.sprint_weeks = k.value, s_share, weeks
        row.updated_by, row.updated_at = ctx.actor_label, utcnow()
        audit.record(
            s, ctx.actor_label, "learning.budget", f"team:{t.id}", f"{k}: {s_share or weeks}"
        )
        return _budget(row, t.name)


def get_budget(ctx: Context, team: str | None = None) -> LearningBudget | None:
    participant(ctx)
    with ctx.db.read() as s:
        t = own_team(s, ctx, team)
        row = s.get(LearningBudgetRow, t.id)
        return _budget(row, t.name) if row else None


def _event(row: LearningEventRow, team: str) -> LearningEvent:
    return LearningEvent(
        id=row.id,
        team=team,
        kind=rules.EventKind(row.kind),
        title=row.title,
        topic=row.topic,
        presenter=row.presenter,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        location=row.location,
        description=row.description,
        created_by=row.created_by,
    )


def add_event(
    ctx: Context,
    kind: str,
    title: str,
    starts_at: datetime,
    *,
    ends_at: datetime | None = None,
    team: str | None = None,
    topic: str = "",
    presenter: str = "",
    location: str = "",
    description: str = "",
) -> LearningEvent:
    """Plan a hackathon, learning day, lunch-and-learn (presenter and topic) or course."""
    participant(ctx)
    k = rules.check_event_kind(kind)
    start, end = rules.check_times(starts_at, ends_at)
    clean = {
        "title": text_rules.text(title, "title", limit=200),
        "topic": text_rules.text(
            topic, "topic", required=k is rules.EventKind.LUNCH_AND_LEARN, limit=200
        ),
        "presenter": text_rules.text(
            presenter, "presenter", required=k is rules.EventKind.LUNCH_AND_LEARN, limit=200
        ),
        "location": text_rules.text(location, "location", required=False, limit=200),
        "description": text_rules.text(description, "description", required=False),
    }
    with ctx.db.write() as s:
        t = own_team(s, ctx, team)
        row = LearningEventRow(
            team_id=t.id,
            kind=k.value,
            starts_at=start,
            ends_at=end,
            created_by=ctx.actor_label,
            **clean,
        )
        s.add(row)
        s.flush()
        audit.record(
            s, ctx.actor_label, "learning.event", f"event:{row.id}", f"{k}: {clean['title']}"
        )
        return _event(row, t.name)


def list_events(
    ctx: Context,
    *,
    team: str | None = None,
    upcoming: bool = True,
    limit: int = 100,
) -> list[LearningEvent]:
    """Events soonest first: those not yet over (``upcoming``), or all of them."""
    participant(ctx)
    query = select(LearningEventRow).order_by(LearningEventRow.starts_at, LearningEventRow.id)
    if upcoming:
        query = query.where(LearningEventRow.ends_at >= utcnow())
    with ctx.db.read() as s:
        if team:
            query = query.where(LearningEventRow.team_id == team_row(s, team).id)
        names = team_names(s)
        rows = s.scalars(query.limit(min(limit, EVENTS_MAX)))
        return [_event(r, names.get(r.team_id, "")) for r in rows]


def ical_feed(ctx: Context, *, team: str | None = None, base_url: str = "") -> str:
    """Every event of the last 90 days and the future as an RFC 5545 calendar."""
    participant(ctx)
    query = select(LearningEventRow).where(
        LearningEventRow.ends_at >= utcnow() - timedelta(days=90)
    )
    with ctx.db.read() as s:
        name = "Grove learning events"
        if team:
            t = team_row(s, team)
            query = query.where(LearningEventRow.team_id == t.id)
            name = f"{t.name} learning events"
        names = team_names(s)
        rows = list(s.scalars(query.order_by(LearningEventRow.starts_at).limit(EVENTS_MAX)))
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "grove.local"
    events = [
        ical.CalendarEvent(
            uid=f"learning-event-{r.id}@{host}",
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            summary=r.title
            if r.kind != rules.EventKind.LUNCH_AND_LEARN
            else f"Lunch & learn: {r.title}",
            description="\n".join(
                x
                for x in (
                    f"Topic: {r.topic}" if r.topic else "",
                    f"Presenter: {r.presenter}" if r.presenter else "",
                    f"Team: {names.get(r.team_id, '')}",
                    r.description,
                )
                if x
            ),
            location=r.location,
            categories=r.kind,
            organizer=r.presenter,
        )
        for r in rows
    ]
    return ical.calendar(events, name=name, now=utcnow())


# -- a calendar address for calendar apps ---------------------------------------------------
#
# Calendar apps subscribe to a plain URL and cannot send an API token, so each person gets
# a secret address: their id and an HMAC of it under the server's secret key. It shows
# the same events (never anything private) and stops working when the person is
# deactivated or the secret key changes.


def _feed_token(runtime: Runtime, person_id: int) -> str:
    key = runtime.settings.secret_key.encode()
    return hmac.new(key, f"learning-ical:{person_id}".encode(), hashlib.sha256).hexdigest()[:40]


def calendar_path(ctx: Context) -> str:
    """The caller's secret calendar address (a path under the API)."""
    me = participant(ctx)
    return f"/api/v1/learning/calendar/{me.id}/{_feed_token(ctx.runtime, me.id)}.ics"


def ical_feed_by_token(
    runtime: Runtime, person_id: int, token: str, *, team: str | None = None, base_url: str = ""
) -> str:
    """The feed for a calendar app that holds someone's secret address."""
    if not hmac.compare_digest(token, _feed_token(runtime, person_id)):
        raise AuthenticationFailed(
            "this calendar address is not valid", hint="copy it again from the learning page"
        )
    with runtime.db.read() as s:
        row = s.get(PersonRow, person_id)
        if row is None or not row.active:
            raise AuthenticationFailed("this calendar address is not valid any more")
        person = people_repo.person(row)
    return ical_feed(runtime.as_actor(person), team=team, base_url=base_url)


# -- personal entries ----------------------------------------------------------------------


def _entry(row: LearningEntryRow, person: str) -> LearningEntry:
    return LearningEntry(
        id=row.id,
        person=person,
        day=row.day,
        hours=row.hours,
        topic=row.topic,
        competency=row.competency,
        event_id=row.event_id,
    )


def log(
    ctx: Context,
    hours: float,
    topic: str,
    *,
    competency: str = "",
    day: date | None = None,
    event_id: int | None = None,
) -> LearningEntry:
    """Log learning time for oneself (today unless ``day``)."""
    me = participant(ctx)
    h = rules.check_hours(hours)
    clean_topic = text_rules.text(topic, "topic", limit=200)
    tag = text_rules.text(competency, "competency", required=False, limit=60).lower()
    when = day or utcnow().date()
    if when > utcnow().date() + timedelta(days=1):
        raise InvalidInput("that day is in the future", hint="log learning once it happened")
    with ctx.db.write() as s:
        if event_id is not None and s.get(LearningEventRow, event_id) is None:
            raise NotFound(
                f"no learning event {event_id}", hint="`mlgrove learning events` lists them"
            )
        row = LearningEntryRow(
            person_id=me.id, day=when, hours=h, topic=clean_topic, competency=tag, event_id=event_id
        )
        s.add(row)
        s.flush()
        return _entry(row, me.username)


def my_entries(ctx: Context, *, limit: int = 200) -> list[LearningEntry]:
    """One's own entries, newest first (nobody else's: entries are private)."""
    me = participant(ctx)
    with ctx.db.read() as s:
        rows = s.scalars(
            select(LearningEntryRow)
            .where(LearningEntryRow.person_id == me.id)
            .order_by(LearningEntryRow.day.desc(), LearningEntryRow.id.desc())
            .limit(min(limit, 1000))
        )
        return [_entry(r, me.username) for r in rows]


def budget_report(
    ctx: Context, team: str | None = None, *, weeks: int = REPORT_WEEKS, today: date | None = None
) -> BudgetReport:
    """The team's budget against the hours its people logged, week by week, summed."""
    participant(ctx)
    if not 1 <= weeks <= 52:
        raise InvalidInput("a report covers 1 to 52 weeks")
    day = today or datetime.now(UTC).date()
    # The current week so far and the ``weeks - 1`` whole weeks before it.
    end = day + timedelta(days=1)
    start = rules.week_start(day) - timedelta(weeks=weeks - 1)
    with ctx.db.read() as s:
        t = own_team(s, ctx, team)
        size = team_size(s, t.id)
        budget_row = s.get(LearningBudgetRow, t.id)
        budget = _budget(budget_row, t.name) if budget_row else None
        entries: list[tuple[date, float]] = []
        if policy.may_see_aggregate(size, ctx.settings.min_group_size):
            entries = [
                (d, h)
                for d, h in s.execute(
                    select(LearningEntryRow.day, LearningEntryRow.hours)
                    .join(PersonRow, PersonRow.id == LearningEntryRow.person_id)
                    .where(
                        PersonRow.team_id == t.id,
                        PersonRow.active.is_(True),
                        LearningEntryRow.day >= start,
                        LearningEntryRow.day < end,
                    )
                )
            ]
    return rules.report(budget, t.name, start, end, size, ctx.settings.min_group_size, entries)
