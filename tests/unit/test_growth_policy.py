"""The growth privacy policy, checked over generated people, relations and data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlgrove.domain.growth_policy import (
    DataKind,
    Item,
    Relation,
    Subject,
    Viewer,
    Visibility,
    may_read,
    may_see_aggregate,
    may_view_team,
    relations,
)

IDS = st.integers(min_value=1, max_value=6)
TEAMS = st.none() | st.integers(min_value=1, max_value=3)

viewers = st.builds(Viewer, id=IDS, team_id=TEAMS, is_admin=st.booleans())
subjects = st.builds(
    Subject,
    id=IDS,
    team_id=TEAMS,
    manager_id=st.none() | IDS,
    mentor_ids=st.frozensets(IDS, max_size=2),
    shares_stuck_with_mentor=st.booleans(),
)
items = st.builds(
    Item,
    kind=st.sampled_from(DataKind),
    author_id=st.none() | IDS,
    counterpart_id=st.none() | IDS,
    visibility=st.sampled_from(Visibility),
)


@given(viewers, subjects, items)
def test_nobody_outside_the_circle_reads_anything(v: Viewer, s: Subject, i: Item) -> None:
    circle = {s.id, s.manager_id, i.author_id, i.counterpart_id, *s.mentor_ids}
    if v.id not in circle:
        assert not may_read(v, s, i)


@given(viewers, subjects, items)
def test_being_admin_or_a_teammate_grants_nothing(v: Viewer, s: Subject, i: Item) -> None:
    plain = Viewer(id=v.id, team_id=None, is_admin=False)
    assert may_read(v, s, i) == may_read(plain, s, i)


@given(viewers, subjects, items)
def test_one_on_one_notes_stay_with_the_two_people(v: Viewer, s: Subject, i: Item) -> None:
    note = Item(DataKind.ONE_ON_ONE_NOTE, author_id=i.author_id, counterpart_id=i.counterpart_id)
    assert may_read(v, s, note) == (v.id in {i.author_id, i.counterpart_id})


@given(viewers, subjects, items)
def test_feedback_follows_the_givers_visibility(v: Viewer, s: Subject, i: Item) -> None:
    fb = Item(DataKind.FEEDBACK, author_id=i.author_id, visibility=i.visibility)
    expected = (
        v.id == s.id
        or v.id == i.author_id
        or (v.id == s.manager_id and i.visibility is Visibility.RECEIVER_AND_MANAGER)
    )
    assert may_read(v, s, fb) == expected


@given(viewers, subjects)
def test_time_stuck_reaches_a_mentor_only_by_opt_in(v: Viewer, s: Subject) -> None:
    stuck = Item(DataKind.TIME_STUCK, author_id=s.id)
    expected = v.id == s.id or (v.id in s.mentor_ids and s.shares_stuck_with_mentor)
    assert may_read(v, s, stuck) == expected


@given(viewers, subjects, st.sampled_from([DataKind.GROWTH_PLAN, DataKind.COACHING_FIGURES]))
def test_plans_and_coaching_figures_reach_the_person_and_manager(
    v: Viewer, s: Subject, kind: DataKind
) -> None:
    assert may_read(v, s, Item(kind, author_id=s.id)) == (v.id in {s.id, s.manager_id})


@given(viewers, subjects)
def test_relations_are_consistent(v: Viewer, s: Subject) -> None:
    rel = relations(v, s)
    assert (Relation.SELF in rel) == (v.id == s.id)
    assert not (Relation.SAME_TEAM in rel and Relation.OTHER_TEAM in rel)
    assert (Relation.ADMIN in rel) == v.is_admin


@given(st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=20))
def test_aggregates_hidden_below_min_group_size(size: int, minimum: int) -> None:
    assert may_see_aggregate(size, minimum) == (size >= max(minimum, 1))


def test_team_view_for_its_managers_and_admins() -> None:
    assert may_view_team(Viewer(1), team_id=2, managed_team_ids=frozenset({2}))
    assert not may_view_team(Viewer(1, team_id=2), team_id=2, managed_team_ids=frozenset())
    assert may_view_team(Viewer(1, is_admin=True), team_id=2, managed_team_ids=frozenset())
