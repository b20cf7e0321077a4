"""Feedback, plans, notes and the read log through the services (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from mlgrove.domain.growth_policy import Visibility
from mlgrove.errors import InvalidInput, NotFound, PermissionDenied
from mlgrove.services import (
    growth_access,
    growth_data,
    growth_feedback,
    growth_plans,
    growth_team,
    notifications,
)
from mlgrove.testing.factories import Factories

TECH = "Situation: the churn model PR. Behaviour: you added a leakage test. Impact: caught a bug."
COLLAB = (
    "Situation: design review. Behaviour: you asked the quiet people first. Impact: better ideas."
)


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "ana": {"role": "admin", "team": "Vision", "email": "ana@example.com"},
                "max": {"role": "manager", "team": "Vision", "email": "max@example.com"},
                "eli": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "max",
                    "email": "eli@example.com",
                },
                "bo": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "max",
                    "email": "bo@example.com",
                },
                "sam": {"role": "engineer", "team": "Speech", "email": "sam@example.com"},
            },
        }
    )


def ctx(f: Factories, world: dict[str, Any], name: str) -> Any:
    return f.ctx(world[name])


def test_feedback_reaches_the_receiver_and_only_who_the_giver_chose(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    bo = ctx(f, world, "bo")
    private = growth_feedback.give_feedback(
        bo, "eli@example.com", technical=TECH, collaboration=COLLAB
    )
    shared = growth_feedback.give_feedback(
        bo, "eli", technical=TECH, visibility="receiver+manager", competencies=["modelling"]
    )
    assert shared.missing_axis == "collaboration"
    assert shared.visibility is Visibility.RECEIVER_AND_MANAGER

    assert [x.id for x in growth_feedback.list_feedback(ctx(f, world, "eli"))] == [
        shared.id,
        private.id,
    ]
    # The manager sees only what was shared with the manager; admins and others see nothing.
    assert [x.id for x in growth_feedback.list_feedback(ctx(f, world, "max"), "eli")] == [shared.id]
    assert growth_feedback.list_feedback(ctx(f, world, "ana"), "eli") == []
    assert growth_feedback.list_feedback(ctx(f, world, "sam"), "eli@example.com") == []
    with pytest.raises(PermissionDenied, match="private"):
        growth_feedback.get_feedback(ctx(f, world, "ana"), private.id)
    with pytest.raises(PermissionDenied):
        growth_feedback.get_feedback(ctx(f, world, "max"), private.id)
    assert growth_feedback.get_feedback(bo, private.id).technical == TECH  # the giver

    # Eli sees who read what, and who was refused.
    reads = growth_access.reads_of(ctx(f, world, "eli"))
    seen = {(r.reader, r.what, r.refused) for r in reads}
    assert ("max", f"feedback #{shared.id}", False) in seen
    assert ("ana", f"feedback #{private.id}", True) in seen
    assert ("sam", "feedback about them (2 withheld)", True) in seen
    assert ("bo", f"feedback #{private.id}", False) in seen
    assert not any(r.reader == "eli" for r in reads)  # one's own reads are not logged

    assert notifications.unread_count(ctx(f, world, "eli")) == 2
    points = growth_feedback.my_balance(ctx(f, world, "eli"))
    assert [(p.technical, p.collaboration) for p in points] == [(2, 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"technical": "  ", "collaboration": ""}, "needs a technical part"),
        ({"technical": "x" * 5001}, "5001 characters; the limit is 5000"),
        ({"technical": "ok", "visibility": "everyone"}, "unknown visibility 'everyone'"),
        ({"technical": "ok", "competencies": ["juggling"]}, "unknown competency 'juggling'"),
        ({"technical": "ok", "about": "my lunch"}, "cannot tell what 'my lunch' refers to"),
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_stored(
    grove_factories: Factories, world: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    bo = ctx(grove_factories, world, "bo")
    with pytest.raises(InvalidInput, match=message):
        growth_feedback.give_feedback(bo, "eli", **kwargs)
    assert growth_feedback.list_feedback(ctx(grove_factories, world, "eli")) == []
    assert notifications.unread_count(ctx(grove_factories, world, "eli")) == 0


def test_work_references_must_exist(grove_factories: Factories, world: dict[str, Any]) -> None:
    bo = ctx(grove_factories, world, "bo")
    with pytest.raises(NotFound, match="run:999 does not exist"):
        growth_feedback.give_feedback(bo, "eli", technical="ok", about="run:999")
    fb = growth_feedback.give_feedback(
        bo, "eli", technical="ok", about="https://git.example/org/repo/pull/42"
    )
    assert fb.about_kind.value == "pull-request"


def test_feedback_requests_are_answered_by_named_peers(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    eli = ctx(f, world, "eli")
    about = "https://git.example/org/repo/pull/7"
    made = growth_feedback.request_feedback(eli, ["bo", "max@example.com"], about=about)
    assert [r.peer.username for r in made] == ["bo", "max"]
    to_bo, _ = growth_feedback.list_requests(ctx(f, world, "bo"))
    assert [r.about for r in to_bo] == [about]
    answer = growth_feedback.give_feedback(
        ctx(f, world, "bo"), "eli", collaboration=COLLAB, request_id=to_bo[0].id
    )
    assert answer.about == about
    assert growth_feedback.list_requests(ctx(f, world, "bo"))[0] == []
    with pytest.raises(NotFound):  # sam was not asked
        growth_feedback.give_feedback(
            ctx(f, world, "sam"), "eli", technical="x", request_id=made[1].id
        )
    with pytest.raises(InvalidInput, match="names the piece of work"):
        growth_feedback.request_feedback(eli, ["bo"], about="")


def test_plans_evidence_and_notes_stay_private(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    eli = ctx(f, world, "eli")
    fb = growth_feedback.give_feedback(ctx(f, world, "bo"), "eli", technical=TECH)
    plan = growth_plans.create_plan(eli, "Towards senior", [("modelling", "Design evaluations")])
    goal = plan.goals[0]
    items = growth_plans.work_items(eli)
    assert [(i.kind.value, i.ref_id) for i in items] == [("feedback", fb.id)]
    plan = growth_plans.add_evidence(eli, goal.id, "feedback", fb.id, note="the leakage test")
    assert plan.goals[0].evidence[0].label == "feedback from bo"
    with pytest.raises(NotFound, match="among your work"):
        growth_plans.add_evidence(eli, goal.id, "run", 12345)

    assert [p.id for p in growth_plans.plans_of(ctx(f, world, "max"), "eli")] == [plan.id]
    with pytest.raises(PermissionDenied):
        growth_plans.plans_of(ctx(f, world, "bo"), "eli")

    note = growth_plans.add_note(ctx(f, world, "max"), "eli", "Talked about <b>promotion</b>")
    assert [n.body for n in growth_plans.list_notes(eli, "max")] == [
        "Talked about <b>promotion</b>"
    ]
    assert growth_plans.list_notes(ctx(f, world, "ana"), "eli") == []
    for outsider in ("ana", "bo"):
        with pytest.raises(PermissionDenied):
            growth_plans.get_note(ctx(f, world, outsider), note.id)
    refused = [r for r in growth_access.reads_of(eli) if r.refused]
    assert {r.reader for r in refused} >= {"ana", "bo"}


def test_team_view_is_aggregate_and_hidden_below_the_group_size(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    growth_feedback.give_feedback(ctx(f, world, "bo"), "eli", technical=TECH)
    view = growth_team.team_growth(ctx(f, world, "max"), "Vision")
    assert (view.members, view.shown, view.technical_coverage) == (4, False, None)
    f.runtime.settings = f.runtime.settings.with_overrides(min_group_size=4)
    view = growth_team.team_growth(ctx(f, world, "max"), "Vision")
    assert view.shown
    assert (view.technical_coverage, view.collaboration_coverage) == (0.25, 0.0)
    with pytest.raises(PermissionDenied, match="for its managers"):
        growth_team.team_growth(ctx(f, world, "eli"), "Vision")
    assert growth_team.managed_teams(ctx(f, world, "max")) == ["Vision"]


def test_export_then_delete_ones_own_data(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    eli = ctx(f, world, "eli")
    growth_feedback.give_feedback(ctx(f, world, "bo"), "eli", technical=TECH)
    growth_feedback.give_feedback(eli, "bo", collaboration=COLLAB)
    growth_plans.create_plan(eli, "Plan", [("help", "Ask within an hour")])
    dump = growth_data.export(eli)
    assert dump["feedback_received"][0]["technical"] == TECH
    assert dump["feedback_given"][0]["receiver"]["username"] == "bo"
    assert dump["growth_plans"][0]["goals"][0]["competency"] == "help"
    counts = growth_data.delete_mine(eli)
    assert counts["feedback_received"] == 1
    assert counts["growth_plans"] == 1
    assert growth_feedback.list_feedback(eli) == []
    # What eli gave bo is bo's data and stays.
    assert len(growth_feedback.list_feedback(ctx(f, world, "bo"))) == 1


def test_the_workspace_owner_is_asked_to_act_as_a_person(grove_factories: Factories) -> None:
    with pytest.raises(InvalidInput, match="--user"):
        growth_feedback.list_feedback(grove_factories.admin_ctx)


def test_evidence_and_team_activity_come_from_real_work(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    import pyarrow as pa

    from mlgrove.services import table_commit, tracking

    f = grove_factories
    f.project("churn", team="Vision")
    eli = ctx(f, world, "eli")
    table_commit.commit(
        eli, "tickets", pa.table({"id": [1, 2], "y": [0, 1]}), project="churn", key=["id"]
    )
    run = tracking.start_run(eli, "churn", "baseline")
    items = {(i.kind.value, i.label) for i in growth_plans.work_items(eli)}
    assert any(k == "dataset-version" and lbl.startswith("dataset tickets v1") for k, lbl in items)
    assert ("run", f"run {run.id} baseline (running)") in items
    # Someone else's run is not eli's evidence.
    assert growth_plans.work_items(ctx(f, world, "bo")) == []
    plan = growth_plans.create_plan(eli, "Plan", [("data-management", "Curate tickets")])
    plan = growth_plans.add_evidence(eli, plan.goals[0].id, "run", run.id)
    assert plan.goals[0].evidence[0].label.startswith(f"run {run.id}")
    with pytest.raises(NotFound):
        growth_plans.add_evidence(ctx(f, world, "bo"), plan.goals[0].id, "run", run.id)

    f.runtime.settings = f.runtime.settings.with_overrides(min_group_size=4)
    view = growth_team.team_growth(ctx(f, world, "max"), "Vision")
    assert (view.dataset_versions, view.runs, view.review_verdicts) == (1, 1, 0)
    assert view.active_plans == 0.25

    with pytest.raises(NotFound, match="review-queue:nope does not exist"):
        growth_feedback.give_feedback(
            ctx(f, world, "bo"), "eli", technical="ok", about="review-queue:nope"
        )


def test_mentoring_given_and_design_reviews_presented_are_evidence(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    from datetime import UTC, datetime

    from mlgrove.services import design_reviews, mentorship

    f = grove_factories
    bo, eli = ctx(f, world, "bo"), ctx(f, world, "eli")
    mentorship.offer(bo, ["modelling"], 2)
    mentorship.set_goals(eli, ["modelling"])
    pair = mentorship.approve(ctx(f, world, "max"), [("bo", "eli")])[0]
    mentorship.log_session(bo, pair.id, 45)
    review = design_reviews.schedule_review(
        bo, "Churn features v2", datetime(2026, 12, 4, 15, tzinfo=UTC), team="Vision"
    )
    labels = {(i.kind.value, i.label) for i in growth_plans.work_items(bo)}
    assert ("mentoring", "mentored eli: 1 sessions, 45 minutes") in labels
    assert ("design-review", "presented design-review 'Churn features v2'") in labels
    assert not any(
        k in {"mentoring", "design-review"}
        for k, _ in {(i.kind.value, i.label) for i in growth_plans.work_items(eli)}
    )

    fb = growth_feedback.give_feedback(
        eli, "bo", collaboration="clear talk", about=f"design-review:{review.id}"
    )
    assert fb.about_kind.value == "design-review"
    with pytest.raises(NotFound):
        growth_feedback.give_feedback(eli, "bo", technical="x", about="design-review:9999")
