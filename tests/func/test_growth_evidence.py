"""Evidence from review work carries the reviewer's own gold accuracy (issue 7's "reviews
done and their gold accuracy"), and only the reviewer's own."""

from __future__ import annotations

from typing import Any

import pytest

from mlgrove.domain.growth import EvidenceKind
from mlgrove.domain.review import QueueSpec
from mlgrove.errors import NotFound
from mlgrove.services import growth_plans, review, review_assign
from mlgrove.testing.factories import Factories


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "ana": {"role": "reviewer", "team": "Vision"},
                "bo": {"role": "reviewer", "team": "Vision"},
            },
            "projects": {"pets": "Vision"},
        }
    )


def test_review_evidence_says_how_many_gold_items_were_right(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    review.create_queue(f.admin_ctx, "pets-q", QueueSpec(labels=["cat", "dog"]), project="pets")
    review.add_items(
        f.admin_ctx,
        "pets-q",
        [
            {"id": f"p{i}", "input": {"text": f"photo {i}"}, "gold": {"label": "cat"}}
            for i in range(4)
        ]
        + [{"id": "plain", "input": {"text": "no known answer"}}],
        project="pets",
    )
    ana = f.ctx(world["ana"])
    # ana gets one gold item wrong (p2); the item with no known answer does not count.
    answers = {"p0": "cat", "p1": "cat", "p2": "dog", "p3": "cat", "plain": "dog"}
    while (got := review_assign.next_item(ana, "pets-q", project="pets")) is not None:
        review_assign.submit(ana, got.item.id, {"label": answers[str(got.item.external_id)]})

    mine = [i for i in growth_plans.work_items(ana) if i.kind is EvidenceKind.REVIEWS]
    assert [i.label for i in mine] == [
        "5 verdicts in review queue pets-q, 3 of 4 gold items right (75%)"
    ]
    # Nobody else's brag document lists ana's reviews.
    bo = f.ctx(world["bo"])
    assert [i for i in growth_plans.work_items(bo) if i.kind is EvidenceKind.REVIEWS] == []
    plan = growth_plans.create_plan(bo, "Review well", [("modelling", "label carefully")])
    with pytest.raises(NotFound):
        growth_plans.add_evidence(bo, plan.goals[0].id, EvidenceKind.REVIEWS, mine[0].ref_id)
