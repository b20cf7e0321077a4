"""`mlgrove feedback ...` and `mlgrove ladder ...`: holistic feedback and the ladder.

Against a server (``mlgrove --server URL``, token in ``$MLGROVE_TOKEN``) the commands act
as the token's person; in a local workspace as ``--user NAME``. With ``--json`` each
command prints one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mlgrove.cli.common import client, out

if TYPE_CHECKING:
    from mlgrove.client.growth import Growth
    from mlgrove.domain.growth import Feedback, FeedbackRequest
    from mlgrove.domain.ladder import Ladder

feedback_app = typer.Typer(
    help="Holistic feedback: give it, list what you may see, ask peers for it.",
    no_args_is_help=True,
)
ladder_app = typer.Typer(
    help="The competency ladder: show it, validate a file.", no_args_is_help=True
)

JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")


@contextlib.contextmanager
def _growth(ctx: typer.Context) -> Iterator[Growth]:
    """``grove.growth`` for the workspace (embedded) or the server (remote), then closed."""
    with client(ctx) as c:
        yield c.growth


def _emit(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, default=str, ensure_ascii=False) + "\n")


def feedback_json(f: Feedback) -> dict[str, Any]:
    return {
        "id": f.id,
        "from": f.giver.username,
        "to": f.receiver.username,
        "technical": f.technical,
        "collaboration": f.collaboration,
        "about": f.about,
        "about_kind": f.about_kind.value,
        "competencies": f.competencies,
        "visibility": f.visibility.value,
        "created_at": f.created_at.isoformat(),
        "missing_axis": f.missing_axis,
    }


def request_json(r: FeedbackRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "from": r.requester.username,
        "peer": r.peer.username,
        "about": r.about,
        "message": r.message,
        "created_at": r.created_at.isoformat(),
        "answered_at": r.answered_at.isoformat() if r.answered_at else None,
    }


@feedback_app.command("give")
def give(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="The receiver's e-mail address (or username)."),
    technical: str = typer.Option(
        "", "--technical", help="The technical part: situation, behaviour, impact."
    ),
    collaboration: str = typer.Option(
        "", "--collaboration", help="The collaboration part: situation, behaviour, impact."
    ),
    about: str = typer.Option(
        "", "--about", help="The piece of work: a PR URL, run:ID, dataset:NAME@vN..."
    ),
    visibility: str = typer.Option(
        "receiver", "--visibility", help="Who may read it: receiver or receiver+manager."
    ),
    competency: list[str] = typer.Option(
        [], "--competency", "-c", help="A ladder competency it is about (repeatable)."
    ),
    request: int | None = typer.Option(
        None, "--request", help="The feedback request this answers (its id)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Give someone feedback on a technical and/or a collaboration axis."""
    with _growth(ctx) as growth:
        fb = growth.give_feedback(
            to,
            technical=technical,
            collaboration=collaboration,
            about=about,
            competencies=competency,
            visibility=visibility,
            request_id=request,
        )
    if as_json:
        _emit(feedback_json(fb))
        return
    out.print(
        f"Feedback #{fb.id} given to {fb.receiver.display_name} (visible to {fb.visibility})."
    )
    if fb.missing_axis:
        out.print(f"It has no {fb.missing_axis} part: consider adding one next time.")


@feedback_app.command("list")
def list_(
    ctx: typer.Context,
    about: str | None = typer.Option(
        None, "--about", help="Whose feedback (e-mail or username); default: yours."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Feedback about you (or --about someone): only what you may see."""
    with _growth(ctx) as growth:
        found = growth.list_feedback(about)
    if as_json:
        _emit({"feedback": [feedback_json(f) for f in found]})
        return
    if not found:
        out.print("No feedback you may see.")
        return
    for f in found:
        when = f.created_at.strftime("%Y-%m-%d")
        head = f"#{f.id} {when} from {f.giver.display_name} to {f.receiver.display_name}"
        out.print(head + (f" about {f.about}" if f.about else ""))
        for label, text in (("technical", f.technical), ("collaboration", f.collaboration)):
            out.print(f"  {label}: {text or '(none)'}")


@feedback_app.command("request")
def request_(
    ctx: typer.Context,
    peer: list[str] = typer.Option(
        ..., "--peer", help="Who to ask (e-mail or username; repeatable)."
    ),
    about: str = typer.Option(..., "--about", help="The piece of work: a PR URL, run:ID..."),
    message: str = typer.Option("", "--message", help="What you would like feedback on."),
    as_json: bool = JsonOpt,
) -> None:
    """Ask named peers for feedback on a specific piece of work."""
    with _growth(ctx) as growth:
        made = growth.request_feedback(peer, about=about, message=message)
    if as_json:
        _emit({"requests": [request_json(r) for r in made]})
        return
    names = ", ".join(r.peer.display_name for r in made)
    out.print(f"Asked {names} for feedback on {about}.")


@feedback_app.command("requests")
def requests_(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
    """Requests waiting for your answer, and the ones you made."""
    with _growth(ctx) as growth:
        to_me, mine = growth.feedback_requests()
    if as_json:
        _emit({"to_me": [request_json(r) for r in to_me], "mine": [request_json(r) for r in mine]})
        return
    out.print("Waiting for your answer:" if to_me else "Nothing waiting for your answer.")
    for r in to_me:
        out.print(
            f"  #{r.id} from {r.requester.display_name} about {r.about}: {r.message}".rstrip(": ")
        )
        out.print(
            f"    answer: mlgrove feedback give --to {r.requester.username} --request {r.id} ..."
        )
    if mine:
        out.print("You asked:")
        for r in mine:
            state = "answered" if r.answered_at else "waiting"
            out.print(f"  #{r.id} {r.peer.display_name} about {r.about} ({state})")


def _ladder_json(lad: Ladder) -> dict[str, Any]:
    return {
        "name": lad.name,
        "levels": [{"id": lv.id, "title": lv.title, "summary": lv.summary} for lv in lad.levels],
        "competencies": [
            {
                "id": c.id,
                "name": c.name,
                "axis": c.axis.value,
                "description": c.description,
                "expectations": c.expectations,
            }
            for c in lad.competencies
        ],
    }


@ladder_app.command("show")
def show(
    ctx: typer.Context,
    level: str | None = typer.Option(None, "--level", help="Show only this level's expectations."),
    as_json: bool = JsonOpt,
) -> None:
    """The competency ladder in force, axis by axis."""
    with _growth(ctx) as growth:
        lad = growth.ladder()
    if as_json:
        _emit(_ladder_json(lad))
        return
    levels = [lv for lv in lad.levels if level in (None, lv.id)]
    if not levels:
        from mlgrove.errors import InvalidInput

        raise InvalidInput(
            f"no level {level!r}", hint="levels: " + ", ".join(lv.id for lv in lad.levels)
        )
    from mlgrove.domain.ladder import Axis

    out.print(lad.name)
    for axis in Axis:
        table = Table(title=f"{axis.value} axis", show_lines=True)
        table.add_column("competency")
        for lv in levels:
            table.add_column(f"{lv.id} {lv.title}")
        for c in lad.on_axis(axis):
            table.add_row(c.name, *(c.expectations[lv.id] for lv in levels))
        out.print(table)


@ladder_app.command("validate")
def validate(
    file: str = typer.Argument(..., help="The ladder YAML file to check."),
) -> None:
    """Check a ladder file; every mistake names its line."""
    from mlgrove.domain.ladder import Axis
    from mlgrove.services.growth_ladder import read_file

    lad = read_file(file)
    out.print(
        f"{file}: ok ({len(lad.levels)} levels, {len(lad.competencies)} competencies "
        f"on {len(Axis)} axes)"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    app.add_typer(feedback_app, name="feedback")
    app.add_typer(ladder_app, name="ladder")
