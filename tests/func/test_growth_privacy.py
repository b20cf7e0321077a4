"""The privacy policy through every reading endpoint of the API, for every role and
relation: each person in a small organisation asks for every piece of private growth
data, and gets exactly what ``growth_policy.may_read`` allows. Refusals are logged."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mlgrove.domain.growth_policy import DataKind, Item, Subject, Viewer, Visibility, may_read
from mlgrove.domain.people import Person
from mlgrove.services import growth_access, growth_feedback, growth_plans
from mlgrove.testing.factories import Factories

# Roles and relations: a manager and their two reports, a teammate with another manager,
# someone in another team, an administrator (who gains nothing from being one).
PEOPLE = {
    "mia": {"role": "manager", "team": "Vision"},
    "eli": {"role": "engineer", "team": "Vision", "manager": "mia"},
    "bo": {"role": "engineer", "team": "Vision", "manager": "mia"},
    "tim": {"role": "engineer", "team": "Vision", "manager": "ada"},
    "sam": {"role": "engineer", "team": "Speech", "manager": "ada"},
    "ada": {"role": "admin", "team": "Speech"},
}


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    spec = {"teams": ["Vision", "Speech"], "people": {}}
    # Managers first, so reports can name them.
    for name in ("mia", "ada", "eli", "bo", "tim", "sam"):
        spec["people"][name] = PEOPLE[name]  # type: ignore[index]
    made = grove_factories.world(spec)
    ctx = {n: grove_factories.ctx(made[n]) for n in PEOPLE}
    data: dict[str, Any] = {"feedback": [], "notes": [], "plans": {}}
    for giver, receiver in itertools.permutations(["eli", "bo", "tim", "sam"], 2):
        for vis in Visibility:
            fb = growth_feedback.give_feedback(
                ctx[giver], receiver, technical=f"{giver}->{receiver}", visibility=vis
            )
            data["feedback"].append(fb)
    for a, b in [("mia", "eli"), ("eli", "bo"), ("ada", "sam")]:
        data["notes"].append(growth_plans.add_note(ctx[a], b, f"{a} and {b}"))
    for name in ("eli", "sam"):
        data["plans"][name] = growth_plans.create_plan(ctx[name], f"{name}'s plan")
    return {"people": {n: made[n] for n in PEOPLE}, **data}


@pytest.fixture
def api(
    grove_live_server: str, grove_factories: Factories, world: dict[str, Any]
) -> Iterator[dict[str, httpx.Client]]:
    clients = {}
    for name, person in world["people"].items():
        headers = {"Authorization": f"Bearer {grove_factories.token(person).secret}"}
        clients[name] = httpx.Client(base_url=grove_live_server + "/api/v1/growth", headers=headers)
    yield clients
    for c in clients.values():
        c.close()


def viewer(p: Person) -> Viewer:
    return Viewer(id=p.id, team_id=p.team_id, is_admin=p.is_admin)


def subject(p: Person) -> Subject:
    return Subject(id=p.id, team_id=p.team_id, manager_id=p.manager_id)


def test_every_reader_gets_exactly_what_the_policy_allows(
    api: dict[str, httpx.Client], world: dict[str, Any], grove_factories: Factories
) -> None:
    people: dict[str, Person] = world["people"]
    by_id = {p.id: p for p in people.values()}
    refused_expected: dict[str, int] = dict.fromkeys(people, 0)
    for name, client in api.items():
        me = people[name]
        # One piece of feedback at a time.
        for fb in world["feedback"]:
            allowed = may_read(
                viewer(me),
                subject(by_id[fb.receiver.id]),
                Item(DataKind.FEEDBACK, author_id=fb.giver.id, visibility=fb.visibility),
            )
            status = client.get(f"/feedback/{fb.id}").status_code
            assert status == (200 if allowed else 403), (
                name,
                fb.giver.username,
                fb.receiver.username,
                fb.visibility,
            )
            if not allowed:
                refused_expected[fb.receiver.username] += 1
        # Lists about each person hold exactly the allowed items.
        for other in people.values():
            listed = {
                f["id"] for f in client.get("/feedback", params={"about": other.username}).json()
            }
            expected = {
                fb.id
                for fb in world["feedback"]
                if fb.receiver.id == other.id
                and may_read(
                    viewer(me),
                    subject(other),
                    Item(DataKind.FEEDBACK, author_id=fb.giver.id, visibility=fb.visibility),
                )
            }
            assert listed == expected, (name, other.username)
            plans = client.get("/plans", params={"person": other.username})
            plan_allowed = may_read(
                viewer(me), subject(other), Item(DataKind.GROWTH_PLAN, author_id=other.id)
            )
            assert plans.status_code == (200 if plan_allowed else 403), (name, other.username)
            if not plan_allowed:
                refused_expected[other.username] += 1
        for note in world["notes"]:
            allowed = may_read(
                viewer(me),
                subject(by_id[note.author.id]),
                Item(
                    DataKind.ONE_ON_ONE_NOTE,
                    author_id=note.author.id,
                    counterpart_id=note.counterpart.id,
                ),
            )
            assert client.get(f"/notes/{note.id}").status_code == (200 if allowed else 403)
            assert allowed == (name in {note.author.username, note.counterpart.username})
            # Asking for "my notes with X" never reaches a 1:1 one is not part of.
            for other in people.values():
                if other.username == name:
                    continue
                listed = client.get("/notes", params={"with": other.username}).json()
                pair = {note.author.username, note.counterpart.username}
                assert (note.id in {n["id"] for n in listed}) == (pair == {name, other.username})

    # Every refused single-item read shows in the person's own read log.
    for name, person in people.items():
        log = growth_access.reads_of(grove_factories.ctx(person), limit=1000)
        refused_items = [
            r
            for r in log
            if r.refused and (r.what.startswith("feedback #") or r.what == "growth plans")
        ]
        assert len(refused_items) == refused_expected[name], name
