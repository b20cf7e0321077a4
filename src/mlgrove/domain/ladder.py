"""The competency ladder: levels, two axes of competencies, expectations per level.

A ladder is read from YAML and validated node by node, so every mistake names its line
(from pyyaml's marks) rather than failing somewhere later. Grove ships a default
ML-engineer ladder (``mlgrove/data/ladder.yaml``); an organisation overrides it with its
own file. Pure: parsing only, no files are opened here except by :func:`default_text`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from importlib import resources

import yaml  # type: ignore[import-untyped]  # no stubs installed (pyproject is shared)

from mlgrove.errors import InvalidInput

#: Competency and level ids: short, stable, usable as tags.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class Axis(enum.StrEnum):
    TECHNICAL = "technical"
    COLLABORATION = "collaboration"


@dataclass(frozen=True)
class Level:
    id: str
    title: str
    summary: str = ""


@dataclass(frozen=True)
class Competency:
    id: str
    name: str
    axis: Axis
    description: str
    #: Level id -> what is expected at that level.
    expectations: dict[str, str]


@dataclass(frozen=True)
class Ladder:
    name: str
    levels: tuple[Level, ...]
    competencies: tuple[Competency, ...]

    def competency(self, competency_id: str) -> Competency | None:
        return next((c for c in self.competencies if c.id == competency_id), None)

    def on_axis(self, axis: Axis) -> list[Competency]:
        return [c for c in self.competencies if c.axis is axis]

    def check_tags(self, tags: list[str]) -> list[str]:
        """``tags`` as competency ids, each known; raises naming the first unknown one."""
        known = {c.id for c in self.competencies}
        for tag in tags:
            if tag not in known:
                raise InvalidInput(
                    f"unknown competency {tag!r}",
                    hint="competencies: " + ", ".join(sorted(known)),
                )
        return list(dict.fromkeys(tags))


def _fail(source: str, node: yaml.Node | None, message: str) -> InvalidInput:
    where = f"{source} line {node.start_mark.line + 1}" if node is not None else source
    return InvalidInput(f"{where}: {message}", hint="fix the ladder file and load it again")


def _mapping(source: str, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(source, node, f"{what} must be a mapping (key: value)")
    found: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _fail(source, key, f"keys in {what} must be plain words")
        if key.value in found:
            raise _fail(source, key, f"{key.value!r} appears twice in {what}")
        found[key.value] = value
    return found


def _keys(
    source: str, node: yaml.Node, what: str, required: set[str], optional: frozenset[str]
) -> dict[str, yaml.Node]:
    found = _mapping(source, node, what)
    for key in found:
        if key not in required | optional:
            allowed = ", ".join(sorted(required | optional))
            raise _fail(source, found[key], f"unknown key {key!r} in {what} (known: {allowed})")
    for key in sorted(required):
        if key not in found:
            raise _fail(source, node, f"{what} needs {key!r}")
    return found


def _key_node(mapping: yaml.Node, name: str) -> yaml.Node:
    """The key node ``name`` of ``mapping``: errors about a whole value point at its key."""
    return next(k for k, _ in mapping.value if k.value == name)


def _text(source: str, node: yaml.Node, what: str, *, limit: int = 1000) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(source, node, f"{what} must be non-empty text")
    value = str(node.value).strip()
    if len(value) > limit:
        raise _fail(source, node, f"{what} is longer than {limit} characters")
    return value


def _ident(source: str, node: yaml.Node, what: str) -> str:
    value = _text(source, node, what, limit=40)
    if not _ID.match(value):
        raise _fail(source, node, f"{what} {value!r} must be letters, digits, '-', '_' or '.'")
    return value


def _sequence(source: str, node: yaml.Node, what: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _fail(source, node, f"{what} must be a non-empty list")
    return list(node.value)


def parse(text: str, source: str = "ladder.yaml") -> Ladder:
    """Parse and validate a ladder; :class:`InvalidInput` names the line of any mistake."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise InvalidInput(
            f"{source} line {line}: not valid YAML ({exc.problem})",
            hint="fix the YAML syntax",
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML ({exc})") from None
    if root is None:
        raise _fail(source, None, "the file is empty")
    top = _keys(source, root, "the ladder", {"name", "levels", "axes"}, frozenset())
    name = _text(source, top["name"], "name", limit=200)

    levels: list[Level] = []
    for item in _sequence(source, top["levels"], "levels"):
        fields = _keys(source, item, "a level", {"id", "title"}, frozenset({"summary"}))
        level = Level(
            id=_ident(source, fields["id"], "level id"),
            title=_text(source, fields["title"], "level title", limit=200),
            summary=_text(source, fields["summary"], "level summary")
            if "summary" in fields
            else "",
        )
        if any(lv.id == level.id for lv in levels):
            raise _fail(source, fields["id"], f"level {level.id!r} is defined twice")
        levels.append(level)
    level_ids = [lv.id for lv in levels]

    axes = _keys(source, top["axes"], "axes", {a.value for a in Axis}, frozenset())
    competencies: list[Competency] = []
    for axis in Axis:
        for item in _sequence(source, axes[axis.value], f"the {axis} axis"):
            fields = _keys(
                source, item, "a competency", {"id", "name", "expectations"},
                frozenset({"description"}),
            )  # fmt: skip
            cid = _ident(source, fields["id"], "competency id")
            if any(c.id == cid for c in competencies):
                raise _fail(source, fields["id"], f"competency {cid!r} is defined twice")
            exp_node = fields["expectations"]
            expectations = _mapping(source, exp_node, f"expectations of {cid!r}")
            for level_id, node in expectations.items():
                if level_id not in level_ids:
                    raise _fail(
                        source, node, f"{cid!r} has an expectation for unknown level {level_id!r}"
                    )
            for level_id in level_ids:
                if level_id not in expectations:
                    where = _key_node(item, "expectations")
                    raise _fail(source, where, f"{cid!r} has no expectation for {level_id}")
            competencies.append(
                Competency(
                    id=cid,
                    name=_text(source, fields["name"], "competency name", limit=200),
                    axis=axis,
                    description=(
                        _text(source, fields["description"], "description")
                        if "description" in fields
                        else ""
                    ),
                    expectations={
                        lv: _text(source, expectations[lv], f"expectation of {cid!r} at {lv}")
                        for lv in level_ids
                    },
                )
            )
    return Ladder(name=name, levels=tuple(levels), competencies=tuple(competencies))


def default_text() -> str:
    """The YAML of the ladder shipped with Grove."""
    return resources.files("mlgrove").joinpath("data", "ladder.yaml").read_text(encoding="utf-8")


def default() -> Ladder:
    return parse(default_text(), "mlgrove/data/ladder.yaml")
