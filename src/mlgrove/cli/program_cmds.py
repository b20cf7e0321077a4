"""`mlgrove help|learning|mentors|designs ...`: growth programmes from the command line.

Every command works on a local workspace (as ``--user NAME``) and on a server
(``--server URL`` with ``MLGROVE_TOKEN``). With ``--json`` a command prints one JSON
document: the SDK's value with times in ISO 8601.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

import typer
from rich.table import Table

from mlgrove.cli.common import client, out
from mlgrove.domain.help_requests import HelpRequest
from mlgrove.errors import InvalidInput

help_app = typer.Typer(
    help="Help requests: ask early when stuck, answer, resolve.", no_args_is_help=True
)
learning_app = typer.Typer(
    help="Learning time: log it, see events and the team budget.", no_args_is_help=True
)
mentors_app = typer.Typer(
    help="Mentorship: offer to mentor, match mentors and mentees.", no_args_is_help=True
)
designs_app = typer.Typer(
    help="The registry of projects and designs: add one, find similar work.", no_args_is_help=True
)

JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")
TeamOpt = typer.Option(None, "--team", help="Team (default: your own).")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _emit(value: Any) -> None:
    sys.stdout.write(json.dumps(_plain(value), ensure_ascii=False) + "\n")


def _when(text: str, option: str) -> datetime:
    """An ISO time; without a zone it is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a time", hint="write it like 2026-12-04T12:00 (UTC)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _minutes(span: Any) -> str:
    if span is None:
        return "-"
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _show_request(r: HelpRequest) -> None:
    out.print(f"#{r.id} [{r.status.value}] {r.topic}  (asked by {r.asker})")
    if r.context:
        out.print(f"  {r.context}")
    if r.stuck_before_asking is not None:
        out.print(f"  stuck {_minutes(r.stuck_before_asking)} before asking (only you see this)")
    if r.time_to_first_response is not None:
        out.print(f"  first answer after {_minutes(r.time_to_first_response)}")
    for a in r.responses:
        thanks = "  (thanked)" if a.thanked else ""
        out.print(f"  - answer {a.id} by {a.responder}: {a.body}{thanks}")


# -- help ----------------------------------------------------------------------------------


@help_app.command("ask")
def help_ask(
    ctx: typer.Context,
    topic: str = typer.Option(..., "--topic", help="What you are stuck on, in a few words."),
    stuck_since: str | None = typer.Option(
        None, "--stuck-since", help="How long you have been stuck: 45m, 2h, 1d (default: now)."
    ),
    context: str = typer.Option("", "--context", help="What you tried, links, error messages."),
    competency: str = typer.Option("", "--competency", help="The competency it is about."),
    dataset: str = typer.Option("", "--dataset", help="A related dataset, as project/name."),
    share: bool = typer.Option(
        False, "--share-with-mentor", help="Let your mentor see how long you were stuck."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Ask for help. Shows who could help."""
    with client(ctx) as grove:
        asked = grove.programs.ask_for_help(
            topic,
            context=context,
            competency=competency,
            dataset=dataset,
            stuck_since=stuck_since,
            share_with_mentor=share,
        )
        helpers = grove.programs.suggest_helpers(asked.id)
    if as_json:
        _emit({"request": asked, "helpers": helpers})
        return
    out.print(f"asked #{asked.id}: {asked.topic}")
    for h in helpers:
        out.print(f"  could help: {h.username} ({'; '.join(h.reasons)})")


@help_app.command("list")
def help_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="stuck, open or resolved."),
    mine: bool = typer.Option(False, "--mine", help="Only your own requests."),
    team: str | None = typer.Option(None, "--team", help="Only requests from this team."),
    as_json: bool = JsonOpt,
) -> None:
    """Help requests, newest first (and a nudge if you opted in and have waited long)."""
    with client(ctx) as grove:
        found = grove.programs.help_requests(status=status, mine=mine, team=team)
        nudges = grove.programs.help_nudges()
    if as_json:
        _emit({"requests": found, "nudges": [n.id for n in nudges]})
        return
    for n in nudges:
        out.print(f"nudge: you marked #{n.id} ({n.topic}) stuck a while ago; consider asking")
    table = Table("id", "status", "asker", "team", "topic", "answers", "first answer")
    for r in found:
        table.add_row(
            str(r.id),
            r.status.value,
            r.asker,
            r.team or "",
            r.topic[:60],
            str(len(r.responses)),
            _minutes(r.time_to_first_response),
        )
    out.print(table)


@help_app.command("show")
def help_show(
    ctx: typer.Context, request_id: int = typer.Argument(...), as_json: bool = JsonOpt
) -> None:
    """One request with its answers."""
    with client(ctx) as grove:
        r = grove.programs.help_request(request_id)
    if as_json:
        _emit(r)
        return
    _show_request(r)


@help_app.command("respond")
def help_respond(
    ctx: typer.Context,
    request_id: int = typer.Argument(...),
    answer: str = typer.Argument(..., help="Your answer."),
    as_json: bool = JsonOpt,
) -> None:
    """Answer a help request."""
    with client(ctx) as grove:
        r = grove.programs.respond(request_id, answer)
    if as_json:
        _emit(r)
        return
    out.print(f"answered #{r.id} ({len(r.responses)} answers)")


@help_app.command("resolve")
def help_resolve(
    ctx: typer.Context,
    request_id: int = typer.Argument(...),
    thank: list[int] = typer.Option(None, "--thank", help="Answer id to thank; repeat for more."),
    as_json: bool = JsonOpt,
) -> None:
    """Mark your request resolved, thanking the answers that helped."""
    with client(ctx) as grove:
        r = grove.programs.resolve(request_id, thank=thank or [])
    if as_json:
        _emit(r)
        return
    out.print(f"resolved #{r.id} after {_minutes(r.time_to_resolution)}")


@help_app.command("nudge")
def help_nudge(
    ctx: typer.Context,
    after: str | None = typer.Option(None, "--after", help="Nudge me after this long: 2h, 1d."),
    off: bool = typer.Option(False, "--off", help="Turn the nudge off."),
) -> None:
    """Opt in to a nudge to ask once something you marked stuck has waited too long."""
    if (after is None) == (not off):
        raise InvalidInput("give either --after DURATION or --off")
    with client(ctx) as grove:
        minutes = grove.programs.set_help_nudge(None if off else after)
    out.print("nudge off" if minutes is None else f"nudge after {minutes} minutes stuck")


# -- learning ------------------------------------------------------------------------------


@learning_app.command("log")
def learning_log(
    ctx: typer.Context,
    hours: float = typer.Argument(..., help="Hours spent learning."),
    topic: str = typer.Option(..., "--topic", help="What you learned about."),
    competency: str = typer.Option("", "--competency", help="The competency it grows."),
    day: str | None = typer.Option(None, "--day", help="The day, YYYY-MM-DD (default: today)."),
    event: int | None = typer.Option(None, "--event", help="The learning event it was part of."),
    as_json: bool = JsonOpt,
) -> None:
    """Log learning time (private to you; your team sees only the sum)."""
    when = None
    if day is not None:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(f"--day {day!r} is not a date", hint="e.g. 2026-11-27") from None
    with client(ctx) as grove:
        entry = grove.programs.log_learning(
            hours, topic, competency=competency, day=when, event_id=event
        )
    if as_json:
        _emit(entry)
        return
    out.print(f"logged {entry.hours:g} h on {entry.topic} ({entry.day})")


@learning_app.command("events")
def learning_events(
    ctx: typer.Context,
    team: str | None = TeamOpt,
    past: bool = typer.Option(False, "--past", help="Include events that are over."),
    as_json: bool = JsonOpt,
) -> None:
    """Upcoming hackathons, learning days, lunch-and-learns and courses."""
    with client(ctx) as grove:
        events = grove.programs.learning_events(team=team, upcoming=not past)
    if as_json:
        _emit({"events": events})
        return
    table = Table("id", "when (UTC)", "kind", "title", "presenter", "team")
    for e in events:
        table.add_row(
            str(e.id),
            e.starts_at.strftime("%Y-%m-%d %H:%M"),
            e.kind.value,
            e.title,
            e.presenter,
            e.team,
        )
    out.print(table)


@learning_app.command("plan")
def learning_plan(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="hackathon, learning-day, lunch-and-learn or course."),
    title: str = typer.Argument(...),
    at: str = typer.Option(
        ..., "--at", help="Start, e.g. 2026-12-04T12:00 (UTC unless a zone is given)."
    ),
    until: str | None = typer.Option(None, "--until", help="End (default: an hour later)."),
    topic: str = typer.Option("", "--topic", help="The topic (lunch-and-learns need one)."),
    presenter: str = typer.Option("", "--presenter", help="Who presents (lunch-and-learns)."),
    location: str = typer.Option("", "--location", help="Where."),
    team: str | None = TeamOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Plan a learning event (it appears in the team's iCal feed)."""
    with client(ctx) as grove:
        e = grove.programs.add_learning_event(
            kind,
            title,
            _when(at, "--at"),
            ends_at=_when(until, "--until") if until else None,
            team=team,
            topic=topic,
            presenter=presenter,
            location=location,
        )
    if as_json:
        _emit(e)
        return
    out.print(f"planned #{e.id}: {e.kind.value} {e.title!r} on {e.starts_at:%Y-%m-%d %H:%M} UTC")


@learning_app.command("budget")
def learning_budget(
    ctx: typer.Context,
    team: str | None = TeamOpt,
    share: float | None = typer.Option(
        None, "--set-share", help="Set the budget to this share of time, e.g. 0.1."
    ),
    sprint_weeks: int | None = typer.Option(
        None,
        "--set-sprint-day",
        help="Set the budget to a learning day per sprint of this many weeks.",
    ),
    weeks: int = typer.Option(12, "--weeks", help="Weeks the report covers."),
    as_json: bool = JsonOpt,
) -> None:
    """The team's learning budget against the hours logged (a team sum, never per person)."""
    with client(ctx) as grove:
        name = team or _own_team(grove)
        if share is not None and sprint_weeks is not None:
            raise InvalidInput("give --set-share or --set-sprint-day, not both")
        if share is not None:
            grove.programs.set_learning_budget(name, "share", share=share)
        elif sprint_weeks is not None:
            grove.programs.set_learning_budget(name, "sprint-day", sprint_weeks=sprint_weeks)
        report = grove.programs.learning_report(name, weeks=weeks)
    if as_json:
        _emit(report)
        return
    budget = report.budget.describe() if report.budget else "no budget set"
    out.print(f"{report.team}: {budget}")
    if not report.shown:
        out.print(f"figures hidden: {report.group_size} people, fewer than {report.min_group_size}")
        return
    out.print(
        f"{report.start} to {report.end}: {report.actual_hours:g} h logged of {report.budget_hours:g} h budgeted"
    )


def _own_team(grove: Any) -> str:
    me = grove.whoami()
    teams = {t.id: t.name for t in grove.list_teams()}
    if me.team_id not in teams:
        raise InvalidInput("you are in no team", hint="name one with --team")
    return str(teams[me.team_id])


# -- mentors -------------------------------------------------------------------------------


@mentors_app.command("offer")
def mentors_offer(
    ctx: typer.Context,
    strength: list[str] = typer.Option(
        ..., "--strength", help="A competency you can mentor; repeat."
    ),
    capacity: int = typer.Option(1, "--capacity", help="How many mentees at once (0 pauses)."),
    as_json: bool = JsonOpt,
) -> None:
    """Offer to mentor, or change your offer."""
    with client(ctx) as grove:
        o = grove.programs.offer_mentoring(strength, capacity)
    if as_json:
        _emit(o)
        return
    out.print(f"{o.person} mentors in {', '.join(o.strengths)}: {o.active_mentees} of {o.capacity}")


@mentors_app.command("want")
def mentors_want(
    ctx: typer.Context,
    goal: list[str] = typer.Option(..., "--goal", help="A competency you want to grow; repeat."),
    note: str = typer.Option("", "--note", help="Anything a mentor should know."),
    as_json: bool = JsonOpt,
) -> None:
    """Ask for a mentor (seniors too): the competencies you want to grow."""
    with client(ctx) as grove:
        g = grove.programs.set_mentee_goals(goal, note)
    if as_json:
        _emit(g)
        return
    out.print(f"{g.person} is looking for a mentor in {', '.join(g.goals)}")


@mentors_app.command("match")
def mentors_match(
    ctx: typer.Context,
    approve: bool = typer.Option(False, "--approve", help="Start every proposed pair."),
    as_json: bool = JsonOpt,
) -> None:
    """Propose mentor pairs for the whole pool (programme leads); --approve starts them."""
    with client(ctx) as grove:
        proposal = grove.programs.propose_mentor_pairs()
        started = (
            grove.programs.approve_mentor_pairs([(p.mentor, p.mentee) for p in proposal])
            if approve and proposal
            else []
        )
    if as_json:
        _emit({"proposal": proposal, "approved": [m.id for m in started]})
        return
    if not proposal:
        out.print("no pairs to propose (no free mentor covers a waiting mentee's goals)")
    for p in proposal:
        out.print(f"{p.mentor} -> {p.mentee}: covers {', '.join(p.covers)}")
    if started:
        out.print(f"started {len(started)} pairs")


@mentors_app.command("list")
def mentors_list(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
    """Mentors with their strengths and free capacity."""
    with client(ctx) as grove:
        offers = grove.programs.mentors()
    if as_json:
        _emit({"mentors": offers})
        return
    table = Table("mentor", "strengths", "mentees", "capacity", "training")
    for o in offers:
        table.add_row(
            o.person,
            ", ".join(o.strengths),
            str(o.active_mentees),
            str(o.capacity),
            f"{len(o.training_done)} done",
        )
    out.print(table)


# -- designs -------------------------------------------------------------------------------


@designs_app.command("add")
def designs_add(
    ctx: typer.Context,
    title: str = typer.Argument(...),
    summary: str = typer.Option(..., "--summary", help="What it does and why, in a paragraph."),
    team: str | None = TeamOpt,
    doc_url: str = typer.Option("", "--doc-url", help="Link to the design document."),
    dataset: list[str] = typer.Option(
        None, "--dataset", help="A dataset it uses (project/name); repeat."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Add a project or design to the registry; shows similar existing work."""
    with client(ctx) as grove:
        made = grove.programs.add_design(
            title, summary, team=team, doc_url=doc_url, datasets=dataset or []
        )
    if as_json:
        _emit(made)
        return
    out.print(f"added design #{made.design.id}: {made.design.title}")
    for s in made.similar:
        shared = f", shares {', '.join(s.shared_datasets)}" if s.shared_datasets else ""
        out.print(
            f"  similar: #{s.design.id} {s.design.title} ({s.design.team}, {s.score:.2f}{shared})"
        )


@designs_app.command("similar")
def designs_similar(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="A title and summary to compare."),
    dataset: list[str] = typer.Option(None, "--dataset", help="A dataset (project/name); repeat."),
    as_json: bool = JsonOpt,
) -> None:
    """Existing designs similar to a text or using the same datasets."""
    with client(ctx) as grove:
        found = grove.programs.similar_designs(text, datasets=dataset or [])
    if as_json:
        _emit({"similar": found})
        return
    if not found:
        out.print("nothing similar")
    for s in found:
        out.print(f"#{s.design.id} {s.design.title} ({s.design.team}): {s.score:.2f}")


@designs_app.command("list")
def designs_list(ctx: typer.Context, team: str | None = TeamOpt, as_json: bool = JsonOpt) -> None:
    """The registry of projects and designs, newest first."""
    with client(ctx) as grove:
        found = grove.programs.designs(team=team)
    if as_json:
        _emit({"designs": found})
        return
    table = Table("id", "title", "team", "by", "datasets")
    for d in found:
        table.add_row(str(d.id), d.title, d.team, d.created_by, ", ".join(d.datasets))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    app.add_typer(help_app, name="help")
    app.add_typer(learning_app, name="learning")
    app.add_typer(mentors_app, name="mentors")
    app.add_typer(designs_app, name="designs")
