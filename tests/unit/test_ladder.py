"""The competency ladder: the shipped default, and errors that name the line."""

from __future__ import annotations

import pytest

from mlgrove.domain import ladder
from mlgrove.domain.ladder import Axis
from mlgrove.errors import InvalidInput

GOOD = """\
name: Tiny ladder
levels:
  - id: L1
    title: One
  - id: L2
    title: Two
axes:
  technical:
    - id: modelling
      name: Modelling
      expectations:
        L1: trains a baseline
        L2: designs evaluations
  collaboration:
    - id: help
      name: Help
      expectations:
        L1: asks early
        L2: answers quickly
"""


def test_the_default_ladder_covers_both_axes_and_every_level() -> None:
    lad = ladder.default()
    tech = {c.id for c in lad.on_axis(Axis.TECHNICAL)}
    collab = {c.id for c in lad.on_axis(Axis.COLLABORATION)}
    assert tech == {"modelling", "data-management", "production-ml", "software-craft"}
    assert collab == {"communication", "mentoring", "cross-team", "help"}
    assert [lv.id for lv in lad.levels] == ["L1", "L2", "L3", "L4"]
    craft = lad.competency("software-craft")
    assert craft is not None
    assert "review" in craft.expectations["L2"].lower()


def test_a_small_ladder_parses() -> None:
    lad = ladder.parse(GOOD)
    assert lad.name == "Tiny ladder"
    assert lad.competency("help") is not None
    assert lad.check_tags(["help", "modelling", "help"]) == ["help", "modelling"]
    with pytest.raises(InvalidInput, match="unknown competency 'cooking'"):
        lad.check_tags(["cooking"])


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            GOOD.replace("        L2: answers quickly\n", ""),
            r"org.yaml line 17: 'help' has no expectation for L2",
        ),
        (
            GOOD.replace("    - id: help", "    - id: modelling"),
            r"line 15: competency 'modelling' is defined twice",
        ),
        (
            GOOD.replace("        L1: asks early", "        L9: asks early"),
            r"line 18: .*unknown level 'L9'",
        ),
        (GOOD.replace("      name: Help", "      nam: Help"), r"line 16: unknown key 'nam'"),
        (
            GOOD.replace("  - id: L2\n    title: Two", "  - id: L2\n    title: [Two"),
            r"line \d+: not valid YAML",
        ),
        (GOOD.replace("name: Tiny ladder\n", ""), r"line 1: the ladder needs 'name'"),
        ("", "the file is empty"),
    ],
)
def test_mistakes_name_their_line(broken: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ladder.parse(broken, "org.yaml")
