"""Growth programmes over real HTTP: the REST API through the remote SDK, problem+json
errors, the iCal feed parsed back, and who may see what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

import mlgrove
from mlgrove.client.base import Client
from mlgrove.domain import ical
from mlgrove.domain.help_requests import HelpStatus
from mlgrove.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlgrove.services import growth_access
from mlgrove.services import people as people_service
from mlgrove.testing.factories import Factories


@pytest.fixture
def people(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "mia": {"role": "manager", "team": "Vision"},
                "jun": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "sam": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "ola": {"role": "engineer", "team": "Speech"},
            },
        }
    )


@pytest.fixture
def connect(
    grove_live_server: str, grove_factories: Factories, people: dict[str, Any]
) -> Iterator[Any]:
    opened: list[Client] = []

    def as_person(username: str) -> Client:
        token = grove_factories.token(people[username]).secret
        client = mlgrove.connect(grove_live_server, token=token)
        opened.append(client)
        return client

    yield as_person
    for c in opened:
        c.close()


def test_help_request_round_trip_over_http(connect: Any) -> None:
    jun, sam = connect("jun").programs, connect("sam").programs
    asked = jun.ask_for_help("<b>CUDA</b> OOM", context="on A10", stuck_since="90m")
    assert asked.status is HelpStatus.OPEN
    assert asked.topic == "<b>CUDA</b> OOM"  # stored as typed; pages escape it
    assert asked.stuck_before_asking is not None
    assert asked.stuck_before_asking >= timedelta(minutes=89)
    seen_by_sam = sam.help_request(asked.id)
    assert seen_by_sam.stuck_since is None  # time stuck is jun's alone
    answered = sam.respond(asked.id, "use gradient checkpointing")
    assert answered.time_to_first_response is not None
    done = jun.resolve(asked.id, thank=[answered.responses[0].id])
    assert done.status is HelpStatus.RESOLVED
    assert done.responses[0].thanked is True
    assert [r.id for r in sam.help_requests(status="resolved")] == [asked.id]
    assert jun.set_help_nudge("2h") == 120
    assert jun.help_nudges() == []
    stats = jun.help_stats("Vision")
    assert stats.shown is False  # one asker is below the minimum group of 5


def test_bad_input_is_a_problem_saying_what_to_fix(
    grove_live_server: str, grove_factories: Factories, people: dict[str, Any], connect: Any
) -> None:
    token = grove_factories.token(people["jun"]).secret
    with httpx.Client(
        base_url=grove_live_server + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as api:
        r = api.post("/help-requests", json={"topic": "x", "stuck_since": "yesterday-ish"})
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "not a duration" in r.json()["detail"]
        r = api.post("/learning/entries", json={"hours": 30, "topic": "reading"})
        assert r.status_code == 400
        assert "at most 24 hours" in r.json()["hint"]
        r = api.post("/help-requests", json={"topic": "x", "surprise": 1})
        assert r.status_code == 422
    with pytest.raises(InvalidInput, match="is empty"):
        connect("jun").programs.ask_for_help("   ")


def test_learning_budget_events_and_a_valid_ical_feed(connect: Any) -> None:
    mia, jun = connect("mia").programs, connect("jun").programs
    budget = mia.set_learning_budget("Vision", "share", share=0.1)
    assert budget.hours_per_person_per_week() == 4.0
    with pytest.raises(PermissionDenied, match="run growth programmes"):
        jun.set_learning_budget("Vision", "sprint-day", sprint_weeks=2)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    lunch = jun.add_learning_event(
        "lunch-and-learn",
        "Conformal prediction, in practice",
        start,
        topic="uncertainty; calibration, coverage",
        presenter="jun",
        location="Room 2",
    )
    jun.add_learning_event(
        "hackathon",
        "Winter hackathon",
        start + timedelta(days=7),
        ends_at=start + timedelta(days=9),
    )
    assert [e.title for e in jun.learning_events()] == [
        "Conformal prediction, in practice",
        "Winter hackathon",
    ]
    feed = jun.learning_calendar(team="Vision")
    events = ical.parse(feed)
    assert [e["SUMMARY"] for e in events] == [
        "Lunch & learn: Conformal prediction, in practice",
        "Winter hackathon",
    ]
    assert events[0]["UID"].startswith(f"learning-event-{lunch.id}@")
    assert "Topic: uncertainty; calibration, coverage" in events[0]["DESCRIPTION"]
    assert events[0]["DTSTART"] == start.strftime("%Y%m%dT%H%M%SZ")

    entry = jun.log_learning(2.5, "conformal prediction", competency="modelling")
    assert entry.day == date.today() or entry.day == datetime.now(UTC).date()
    assert [e.hours for e in jun.my_learning()] == [2.5]
    assert connect("sam").programs.my_learning() == []  # entries are private
    report = mia.learning_report("Vision")
    assert report.shown is False  # 3 people is below the minimum group of 5


def test_mentor_matching_approval_and_capacity(connect: Any) -> None:
    mia, jun, sam, ola = (connect(n).programs for n in ("mia", "jun", "sam", "ola"))
    sam.offer_mentoring(["modelling", "testing"], 1)
    jun.set_mentee_goals(["modelling"])
    ola.set_mentee_goals(["testing", "communication"])
    with pytest.raises(PermissionDenied):
        jun.propose_mentor_pairs()
    proposal = mia.propose_mentor_pairs()
    assert len(proposal) == 1  # sam has room for one
    assert proposal[0].mentor == "sam"
    with pytest.raises(Conflict, match=r"sam is at capacity \(1 of 1 mentees\)"):
        mia.approve_mentor_pairs([("sam", "jun"), ("sam", "ola")])
    assert mia.mentorships(everyone=True) == []  # all or nothing
    [pair] = mia.approve_mentor_pairs([("sam", "ola")])  # the manager edited the proposal
    assert pair.goals == ("testing",)
    logged = ola.log_mentor_session(pair.id, 45, "pytest fixtures and property tests")
    assert [s.minutes for s in logged.sessions] == [45]
    with pytest.raises(PermissionDenied):
        mia.log_mentor_session(pair.id, 30)
    assert mia.mentorships(everyone=True)[0].sessions == ()  # notes stay with the pair
    with pytest.raises(Conflict, match="you mentor 1 people now"):
        sam.offer_mentoring(["modelling"], 0)
    offer = sam.tick_mentor_training([1, 2])
    assert len(offer.training_done) == 2


def test_design_registry_shows_similar_work_across_teams(connect: Any) -> None:
    jun, ola = connect("jun").programs, connect("ola").programs
    first = ola.add_design(
        "Churn prediction for telecom customers",
        "Gradient boosted trees predicting customer churn from call records and billing.",
    )
    assert first.similar == ()
    ola.add_design("Speech diarisation", "Who spoke when in call centre audio recordings.")
    second = jun.add_design(
        "Predicting customer churn",
        "A model that predicts which telecom customers churn, from billing history.",
    )
    assert [s.design.title for s in second.similar] == ["Churn prediction for telecom customers"]
    assert second.similar[0].design.team == "Speech"
    assert 0 < second.similar[0].score <= 1
    found = jun.similar_designs("audio diarisation of calls")
    assert [s.design.title for s in found] == ["Speech diarisation"]

    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    review = jun.schedule_review(
        "Churn model design review",
        when,
        abstract="Scope and data",
        invite=["Speech"],
        design_id=second.design.id,
    )
    assert review.invited_teams == ("Speech",)
    ola.attend_review(review.id)
    done = ola.review_feedback(review.id, "Reuse our billing features: see design 1.")
    assert done.attendees == ("ola",)
    assert [f.author for f in done.feedback] == ["ola"]
    with pytest.raises(NotFound):
        jun.design(999)


def test_rotations_are_planned_by_managers_and_reflected_on_by_the_person(
    connect: Any, grove_factories: Factories, people: dict[str, Any]
) -> None:
    mia, jun, ola = connect("mia").programs, connect("jun").programs, connect("ola").programs
    today = date.today()
    rot = mia.plan_rotation("jun", "Speech", today, today + timedelta(weeks=6), ["audio ml"])
    assert (rot.home_team, rot.host_team) == ("Vision", "Speech")
    assert [r.id for r in jun.rotations()] == [rot.id]
    with pytest.raises(PermissionDenied, match="private"):
        ola.rotations(person="jun")
    assert [r.id for r in mia.rotations(person="jun")] == [rot.id]  # jun's manager
    # The refused attempt is on jun's "who read my data" list.
    [refused] = growth_access.reads_of(grove_factories.ctx(people["jun"]))
    assert (refused.reader, refused.what, refused.refused) == ("ola", "rotations of jun", True)
    done = jun.reflect_on_rotation(rot.id, "Audio pipelines are mostly data work.")
    assert done.reflection.startswith("Audio")
    with pytest.raises(NotFound):
        ola.reflect_on_rotation(rot.id, "not mine")


def test_export_and_delete_of_ones_own_programme_data(connect: Any) -> None:
    jun, sam, mia = connect("jun").programs, connect("sam").programs, connect("mia").programs
    mine = jun.ask_for_help("tokenizer mismatch", stuck_since="1h")
    theirs = sam.ask_for_help("flaky CI")
    jun.respond(theirs.id, "pin the tokenizers version")
    jun.log_learning(1.0, "tokenizers")
    sam.offer_mentoring(["testing"], 1)
    jun.set_mentee_goals(["testing"])
    mia.approve_mentor_pairs([("sam", "jun")])

    exported = jun.export_mine()
    assert [r["topic"] for r in exported["help_requests"]] == ["tokenizer mismatch"]
    assert exported["help_requests"][0]["stuck_since"] is not None
    assert exported["help_requests_answered"] == [theirs.id]
    assert [e["hours"] for e in exported["learning_entries"]] == [1.0]
    assert exported["mentee_goals"]["goals"] == ["testing"]
    assert [(p["mentor"], p["mentee"]) for p in exported["mentorships"]] == [("sam", "jun")]

    counts = jun.delete_mine()
    assert counts["help_requests"] == 1
    assert counts["learning_entries"] == 1
    assert counts["mentorships"] == 1
    assert counts["answers_anonymised"] == 1
    with pytest.raises(NotFound):
        sam.help_request(mine.id)
    kept = sam.help_request(theirs.id)
    assert [(a.responder, a.body) for a in kept.responses] == [
        ("(deleted)", "pin the tokenizers version")
    ]
    assert sam.mentorships() == []
    assert jun.export_mine()["learning_entries"] == []


def test_the_team_view_is_for_managers_and_hides_small_groups(
    connect: Any, grove_runtime: Any
) -> None:
    jun, mia, ola = connect("jun").programs, connect("mia").programs, connect("ola").programs
    with pytest.raises(PermissionDenied, match="for its managers"):
        jun.team_programmes("Vision")
    hidden = mia.team_programmes("Vision")
    assert hidden.shown is False
    assert hidden.active_mentorships is None
    assert hidden.learning.shown is False

    grove_runtime.settings = grove_runtime.settings.with_overrides(min_group_size=3)
    ola.offer_mentoring(["audio"], 1)
    jun.set_mentee_goals(["audio"])
    mia.approve_mentor_pairs([("ola", "jun")])
    when = datetime.now(UTC) + timedelta(days=1)
    review = ola.schedule_review("Diarisation design", when, invite=["Vision"])
    jun.attend_review(review.id)
    mia.attend_review(review.id)
    shown = mia.team_programmes("Vision")
    assert shown.shown is True
    assert shown.group_size == 3
    assert shown.active_mentorships == 1
    assert shown.cross_team_reviews_attended == 2


def test_a_secret_calendar_address_works_without_a_token(
    connect: Any, grove_live_server: str, grove_factories: Factories, people: dict[str, Any]
) -> None:
    jun = connect("jun").programs
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    jun.add_learning_event("course", "Causal inference", start, ends_at=start + timedelta(hours=3))
    url = jun.learning_calendar_link()
    assert url.startswith(grove_live_server + "/api/v1/learning/calendar/")
    feed = httpx.get(url, timeout=10)  # as a calendar app would: no Authorization header
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert [e["SUMMARY"] for e in ical.parse(feed.text)] == ["Causal inference"]
    forged = url.replace(".ics", "0.ics")
    assert httpx.get(forged, timeout=10).status_code == 401
    other = url.replace(f"/calendar/{people['jun'].id}/", f"/calendar/{people['sam'].id}/")
    assert httpx.get(other, timeout=10).status_code == 401
    # A deactivated person's address stops working.
    people_service.update_person(grove_factories.admin_ctx, "jun", active=False)
    assert httpx.get(url, timeout=10).status_code == 401
