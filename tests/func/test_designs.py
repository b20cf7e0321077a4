"""The design registry through the services, on SQLite and PostgreSQL: similar work by
text and by shared datasets, and the checks on what is added."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mlgrove.errors import InvalidInput, NotFound
from mlgrove.services import design_reviews, table_commit
from mlgrove.testing.factories import Factories


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    made = grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "jun": {"role": "engineer", "team": "Vision"},
                "ola": {"role": "engineer", "team": "Speech"},
            },
            "projects": {"shared": "Vision"},
        }
    )
    ctx = grove_factories.ctx(made["jun"])
    table_commit.commit(ctx, "calls", pd.DataFrame({"id": [1, 2]}), project="shared", key=["id"])
    return made


def test_a_design_using_the_same_dataset_is_shown_even_with_other_words(
    world: dict[str, Any], grove_factories: Factories
) -> None:
    jun, ola = grove_factories.ctx(world["jun"]), grove_factories.ctx(world["ola"])
    first = design_reviews.add_design(
        ola, "Speaker turns", "Who spoke when, from audio.", datasets=["shared/calls"]
    )
    design_reviews.add_design(ola, "Invoice OCR", "Reading totals from scanned invoices.")
    added = design_reviews.add_design(
        jun,
        "Call volume forecast",
        "Forecast staffing from historic volumes.",
        datasets=["shared/calls", "shared/calls"],
    )
    assert added.design.datasets == ("shared/calls",)
    assert [(s.design.id, s.shared_datasets) for s in added.similar] == [
        (first.design.id, ("shared/calls",))
    ]
    assert added.similar[0].score < 0.15  # found by the dataset, not the words
    again = design_reviews.get_design(jun, first.design.id)
    assert [s.design.id for s in again.similar] == [added.design.id]
    assert [d.title for d in design_reviews.list_designs(jun, team="Speech")] == [
        "Invoice OCR",
        "Speaker turns",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"title": " ", "summary": "x"}, InvalidInput, "title is empty"),
        ({"title": "x", "summary": "y" * 10_001}, InvalidInput, "more than 10,000"),
        (
            {"title": "x", "summary": "y", "doc_url": "javascript:alert(1)"},
            InvalidInput,
            "web link",
        ),
        ({"title": "x", "summary": "y", "datasets": ["calls"]}, InvalidInput, "project/name"),
        ({"title": "x", "summary": "y", "datasets": ["shared/none"]}, NotFound, "no dataset"),
        ({"title": "x", "summary": "y", "team": "Nowhere"}, NotFound, "no team"),
    ],
)
def test_bad_designs_are_refused_and_nothing_is_added(
    world: dict[str, Any],
    grove_factories: Factories,
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    jun = grove_factories.ctx(world["jun"])
    values = dict(kwargs)
    with pytest.raises(error, match=message):
        design_reviews.add_design(jun, values.pop("title"), values.pop("summary"), **values)
    assert design_reviews.list_designs(jun) == []
