"""Help requests through the services, on SQLite and PostgreSQL: asking, answering,
resolving, thanks, suggested helpers, the nudge, team medians and who sees time stuck."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from mlgrove.domain.clock import utcnow
from mlgrove.domain.help_requests import HelpStatus
from mlgrove.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlgrove.services import growth_access, mentorship, notifications, table_commit
from mlgrove.services import help_requests as help
from mlgrove.store.models.growth_programs import HelpRequestRow
from mlgrove.store.models.pipelines import PipelineRow
from mlgrove.testing.factories import Factories


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "mia": {"role": "manager", "team": "Vision"},
                "jun": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "sam": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "ola": {"role": "engineer", "team": "Speech"},
                "ada": {"role": "admin"},
            },
            "projects": {"defects": "Vision"},
        }
    )


def test_ask_answer_resolve_and_thank(world: dict[str, Any], grove_factories: Factories) -> None:
    jun, sam = grove_factories.ctx(world["jun"]), grove_factories.ctx(world["sam"])
    asked = help.ask(jun, "CUDA out of memory", context="batch 64, A10", stuck_since="3h")
    assert asked.status is HelpStatus.OPEN
    assert asked.asked_at is not None
    assert asked.stuck_before_asking is not None
    assert (
        timedelta(hours=2, minutes=59) < asked.stuck_before_asking < timedelta(hours=3, minutes=1)
    )

    # The asker's own comment does not count as a first response.
    help.respond(jun, asked.id, "tried batch 32, same")
    assert help.get_request(jun, asked.id).first_response_at is None
    answered = help.respond(sam, asked.id, "try gradient checkpointing")
    assert answered.first_response_at is not None
    assert [r.responder for r in answered.responses] == ["jun", "sam"]
    [note] = notifications.list_notifications(jun)
    assert note.text == "sam answered your help request: CUDA out of memory"
    assert note.link == f"/programs/help/{asked.id}"

    with pytest.raises(PermissionDenied, match="only the person who asked"):
        help.resolve(sam, asked.id)
    done = help.resolve(jun, asked.id, thank=[answered.responses[1].id])
    assert done.status is HelpStatus.RESOLVED
    assert done.time_to_resolution is not None
    assert [r.thanked for r in done.responses] == [False, True]
    with pytest.raises(Conflict, match="already resolved"):
        help.resolve(jun, asked.id)


def test_time_stuck_is_the_askers_and_their_mentors_only_if_shared(
    world: dict[str, Any], grove_factories: Factories
) -> None:
    jun, sam = grove_factories.ctx(world["jun"]), grove_factories.ctx(world["sam"])
    mia, ada = grove_factories.ctx(world["mia"]), grove_factories.ctx(world["ada"])
    mentorship.offer(sam, ["modelling"], 2)
    mentorship.set_goals(jun, ["modelling"])
    mentorship.approve(mia, [("sam", "jun")])
    asked = help.ask(jun, "loss diverges", stuck_since="2d")

    # Nobody else sees it: not the manager, not an admin, not the mentor (not shared yet).
    for ctx in (sam, mia, ada):
        seen = help.get_request(ctx, asked.id)
        assert seen.stuck_since is None
        assert seen.stuck_before_asking is None
    assert help.get_request(jun, asked.id).stuck_since == asked.stuck_since

    help.share_with_mentor(jun, asked.id, True)
    assert help.get_request(sam, asked.id).stuck_since == asked.stuck_since
    assert help.get_request(mia, asked.id).stuck_since is None
    # jun sees who read it, on the same "who read my data" list as feedback reads.
    reads = growth_access.reads_of(jun)
    assert [(r.reader, r.refused) for r in reads] == [("sam", False)]
    assert reads[0].what == f"time stuck: help request {asked.id}"


def test_stuck_marks_are_private_until_asked_and_the_nudge_is_opt_in(
    world: dict[str, Any], grove_factories: Factories, grove_runtime: Any
) -> None:
    jun, sam = grove_factories.ctx(world["jun"]), grove_factories.ctx(world["sam"])
    mark = help.ask(jun, "flaky eval", stuck_since="5h", ask_now=False)
    assert mark.status is HelpStatus.STUCK
    assert mark.asked_at is None
    assert [r.id for r in help.list_requests(sam)] == []
    with pytest.raises(NotFound):
        help.get_request(sam, mark.id)
    with pytest.raises(Conflict, match="not been asked"):
        help.respond(jun, mark.id, "note to self")

    assert help.nudges(jun) == []  # not opted in
    assert help.set_nudge(jun, "4h") == 240
    assert [r.id for r in help.nudges(jun)] == [mark.id]
    help.set_nudge(jun, "1d")
    assert help.nudges(jun) == []
    help.set_nudge(jun, None)
    assert help.nudge_setting(jun) is None

    asked = help.ask_marked(jun, mark.id)
    assert asked.status is HelpStatus.OPEN
    assert [r.id for r in help.list_requests(sam)] == [mark.id]


def test_suggested_helpers_come_from_strengths_mentors_and_dataset_creators(
    world: dict[str, Any], grove_factories: Factories
) -> None:
    jun, sam = grove_factories.ctx(world["jun"]), grove_factories.ctx(world["sam"])
    ola = grove_factories.ctx(world["ola"])
    table_commit.commit(ola, "bolts", pd.DataFrame({"id": [1, 2]}), project="defects", key=["id"])
    mentorship.offer(sam, ["data management", "labelling"], 1)
    asked = help.ask(
        jun, "labelling rules for bolts", competency="data management", dataset="defects/bolts"
    )
    suggested = help.suggest_helpers(jun, asked.id)
    assert [s.username for s in suggested] == ["sam", "ola"]
    assert "strength: data management" in suggested[0].reasons
    assert suggested[1].reasons == ("created dataset defects/bolts",)
    with pytest.raises(NotFound, match="no dataset"):
        help.ask(jun, "x", dataset="defects/nope")


def test_creators_of_pipelines_reading_the_dataset_are_suggested(
    world: dict[str, Any], grove_factories: Factories, grove_runtime: Any
) -> None:
    jun, ola = grove_factories.ctx(world["jun"]), grove_factories.ctx(world["ola"])
    table_commit.commit(jun, "bolts", pd.DataFrame({"id": [1, 2]}), project="defects", key=["id"])
    # A registered pipeline as `mlgrove pipeline register` records it: its steps and the
    # datasets each reads, and who registered it.
    with grove_runtime.db.write() as s:
        s.add(
            PipelineRow(
                project_id=world["defects"].id,
                name="bolt-classifier",
                path="pipelines/bolts.py",
                steps=[{"name": "featurize", "upstream": [], "datasets": {"rows": "bolts:train"}}],
                created_by="ola",
            )
        )
    asked = help.ask(
        grove_factories.ctx(world["sam"]), "bolts split looks off", dataset="defects/bolts"
    )
    by_name = {h.username: h.reasons for h in help.suggest_helpers(ola, asked.id)}
    assert by_name["ola"] == ("created pipeline bolt-classifier",)
    assert by_name["jun"] == ("created dataset defects/bolts",)


def test_team_median_first_response_is_hidden_below_the_minimum_group(
    world: dict[str, Any], grove_factories: Factories, grove_runtime: Any
) -> None:
    people = [world["jun"], world["sam"], world["mia"]]
    ola = grove_factories.ctx(world["ola"])
    asked = []
    for p in people:
        asked.append(help.ask(grove_factories.ctx(p), f"question of {p.username}"))
    hidden = help.team_stats(grove_factories.ctx(world["jun"]), "Vision")
    assert hidden.shown is False
    assert hidden.median_first_response_minutes is None
    assert hidden.group_size == 3

    grove_runtime.settings = grove_runtime.settings.with_overrides(min_group_size=3)
    now = utcnow()
    with grove_runtime.db.write() as s:
        for minutes, a in zip((10, 30, 50), asked, strict=True):
            row = s.get_one(HelpRequestRow, a.id)
            row.asked_at = now - timedelta(hours=2)
            row.first_response_at = row.asked_at + timedelta(minutes=minutes)
    for a in asked:
        help.respond(ola, a.id, "on it")  # the first answer is already recorded above
    stats = help.team_stats(grove_factories.ctx(world["jun"]), "Vision")
    assert stats.shown
    assert stats.median_first_response_minutes == 30.0
    assert (stats.requests, stats.answered, stats.resolved) == (3, 3, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic": "  "}, "topic is empty"),
        ({"topic": "x" * 201}, "more than 200"),
        ({"topic": "ok", "context": "y" * 10_001}, "more than 10,000"),
        ({"topic": "ok", "stuck_since": "soon"}, "not a duration"),
        ({"topic": "ok", "stuck_since": "200d"}, "more than 90 days"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(
    world: dict[str, Any],
    grove_factories: Factories,
    grove_runtime: Any,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        help.ask(grove_factories.ctx(world["jun"]), **kwargs)
    with grove_runtime.db.read() as s:
        assert list(s.scalars(select(HelpRequestRow))) == []


def test_the_workspace_owner_is_asked_to_act_as_a_person(grove_factories: Factories) -> None:
    with pytest.raises(InvalidInput, match="--user"):
        help.ask(grove_factories.admin_ctx, "anything")
