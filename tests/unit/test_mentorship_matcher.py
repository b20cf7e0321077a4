"""The mentor matcher: capacity-aware, pool-wide, optimal on skill-gap coverage."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgrove.domain import mentorship as m
from mlgrove.errors import InvalidInput

SKILLS = ["modelling", "mlops", "data", "testing", "communication"]


def offer(name: str, strengths: tuple[str, ...], capacity: int, active: int = 0) -> m.MentorOffer:
    return m.MentorOffer(name, name.title(), strengths, capacity, active)


def goals(name: str, *wanted: str) -> m.MenteeGoals:
    return m.MenteeGoals(name, name.title(), wanted)


def test_the_pool_is_solved_as_a_whole_not_greedily() -> None:
    # Greedy would give ana to cy (first in line, 1 goal covered) and leave di unmatched;
    # the assignment gives ana to di and bo to cy: two goals more in total.
    offers = [offer("ana", ("modelling", "mlops"), 1), offer("bo", ("modelling",), 1)]
    mentees = [goals("cy", "modelling"), goals("di", "modelling", "mlops")]
    pairs = m.match(offers, mentees)
    assert [(p.mentor, p.mentee, p.score) for p in pairs] == [("ana", "di", 2.0), ("bo", "cy", 1.0)]


def test_capacity_is_respected_and_equal_choices_spread_across_mentors() -> None:
    offers = [offer("ana", ("mlops",), 2), offer("bo", ("mlops",), 2, active=1)]
    mentees = [goals(n, "mlops") for n in ("cy", "di", "ed", "fa")]
    pairs = m.match(offers, mentees)
    load = {name: sum(p.mentor == name for p in pairs) for name in ("ana", "bo")}
    assert load == {"ana": 2, "bo": 1}


def test_nobody_mentors_themselves_and_no_pair_without_a_shared_skill() -> None:
    offers = [offer("ana", ("modelling",), 3)]
    mentees = [goals("ana", "modelling"), goals("bo", "communication")]
    assert m.match(offers, mentees) == []


def test_seniors_can_have_mentors_too() -> None:
    # The matcher knows no levels: a principal asking for communication gets a match.
    pairs = m.match([offer("jo", ("communication",), 1)], [goals("principal", "communication")])
    assert [(p.mentor, p.mentee) for p in pairs] == [("jo", "principal")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sets(st.sampled_from(SKILLS), min_size=1), st.integers(0, 2)),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.sets(st.sampled_from(SKILLS), min_size=1), min_size=1, max_size=4),
)
def test_the_matcher_finds_the_best_total_a_brute_force_finds(
    mentor_specs: list[tuple[set[str], int]], mentee_specs: list[set[str]]
) -> None:
    offers = [offer(f"m{i}", tuple(sorted(s)), c) for i, (s, c) in enumerate(mentor_specs)]
    mentees = [goals(f"e{j}", *sorted(g)) for j, g in enumerate(mentee_specs)]
    pairs = m.match(offers, mentees)
    for o in offers:
        assert sum(p.mentor == o.person for p in pairs) <= o.capacity
    assert len({p.mentee for p in pairs}) == len(pairs)
    # Brute force: every assignment of each mentee to a mentor slot or to nobody.
    slots = [o for o in offers for _ in range(o.capacity)]
    best = 0.0
    for choice in itertools.product(range(-1, len(slots)), repeat=len(mentees)):
        used = [c for c in choice if c >= 0]
        if len(used) != len(set(used)):
            continue
        best = max(
            best,
            sum(
                m.score(slots[c].strengths, e.goals)[0]
                for c, e in zip(choice, mentees, strict=True)
                if c >= 0
            ),
        )
    assert sum(p.score for p in pairs) == best


def test_tags_are_cleaned_and_checked() -> None:
    assert m.tags(["Modelling, MLOps", "mlops "], "strengths") == ("modelling", "mlops")
    with pytest.raises(InvalidInput, match="no strengths"):
        m.tags([" , "], "strengths")
    with pytest.raises(InvalidInput, match="capacity 11"):
        m.check_capacity(11)
