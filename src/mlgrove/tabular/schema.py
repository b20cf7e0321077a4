"""Schemas as plain JSON, and column-by-column schema differences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from mlgrove.errors import InvalidInput


def to_json(schema: pa.Schema) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def normalize(schema: pa.Schema) -> pa.Schema:
    """The schema a version stores: no pandas/reader metadata, strings widened to large.

    Widening makes the same data read from CSV, Parquet or a DataFrame hash and chunk
    identically (readers disagree on string vs large_string).
    """
    fields = []
    for f in schema:
        t = f.type
        if pa.types.is_string(t):
            t = pa.large_string()
        elif pa.types.is_binary(t):
            t = pa.large_binary()
        elif pa.types.is_dictionary(t):
            t = pa.large_string() if pa.types.is_string(t.value_type) else t.value_type
        elif pa.types.is_null(t):
            t = pa.large_string()  # an all-empty column: keep it, as text
        fields.append(pa.field(f.name, t, nullable=True))
    names = [f.name for f in fields]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInput(
            f"duplicate column name {dupes[0]!r}", hint="rename the columns so each is unique"
        )
    if "" in names:
        raise InvalidInput("a column has an empty name", hint="give every column a header")
    return pa.schema(fields)


@dataclass
class SchemaDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    retyped: list[dict[str, Any]] = field(default_factory=list)  # {"name", "old", "new"}

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> str:
        parts = [f"+{c['name']} ({c['type']})" for c in self.added]
        parts += [f"-{c['name']} ({c['type']})" for c in self.removed]
        parts += [f"~{c['name']} ({c['old']} -> {c['new']})" for c in self.retyped]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "retyped": self.retyped}


def diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> SchemaDiff:
    old_by = {c["name"]: c for c in old}
    new_by = {c["name"]: c for c in new}
    result = SchemaDiff()
    result.added = [c for c in new if c["name"] not in old_by]
    result.removed = [c for c in old if c["name"] not in new_by]
    result.retyped = [
        {"name": c["name"], "old": old_by[c["name"]]["type"], "new": c["type"]}
        for c in new
        if c["name"] in old_by and old_by[c["name"]]["type"] != c["type"]
    ]
    return result
