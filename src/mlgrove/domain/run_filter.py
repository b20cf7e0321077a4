"""The runs filter language, sort orders and page cursors, as pure functions.

A filter is clauses joined by ``and``::

    metrics.acc > 0.9 and params.lr = 0.01 and tags.team = "vision" and status = finished

- ``metrics.KEY`` compares the run's latest value of that metric as a number
  (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``); a run without the metric never matches.
- ``params.KEY`` and ``tags.KEY`` compare text exactly (``=``, ``!=``): params are stored
  as text, so ``params.lr = 0.01`` matches the text ``0.01`` (not ``1e-2``).
- ``status``, ``name`` and ``author`` compare the run's own fields (``=``, ``!=``).

A key holding spaces or operator characters is written in backticks: ``metrics.`val acc```.
Text values may be quoted with ``"`` or ``'``; a bare word or number is taken as written.

An order is one field and a direction (``metrics.acc desc``, ``params.lr``, ``started``);
ties are broken by run id, so paging is stable. A cursor names the last run of a page and
the order it was read in, so it cannot be replayed against another order.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mlgrove.domain.tracking import Run, RunStatus
from mlgrove.errors import InvalidInput

__all__ = [
    "ATTRIBUTES",
    "Clause",
    "Cursor",
    "Field",
    "OrderBy",
    "RunFilter",
    "RunPage",
    "decode_cursor",
    "encode_cursor",
    "parse_filter",
    "parse_order",
]

Kind = Literal["metric", "param", "tag", "attribute"]

#: Run fields a filter or order may name without a prefix (``started`` only sorts).
ATTRIBUTES = ("status", "name", "author", "started")
_PREFIXES: dict[str, Kind] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
}
_ATTRIBUTE_ALIASES = {"start_time": "started", "started_at": "started", "start": "started"}
NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
TEXT_OPS = ("=", "!=")
MAX_CLAUSES = 20
MAX_TEXT = 2000
EXAMPLE = 'e.g. metrics.acc > 0.9 and params.lr = 0.01 and tags.team = "vision"'

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>==|!=|<=|>=|=|<|>)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<word>(?:[^\s=!<>"'`]|`[^`]*`)+)
    )""",
    re.X,
)


@dataclass(frozen=True)
class Field:
    kind: Kind
    key: str

    @property
    def text(self) -> str:
        if self.kind == "attribute":
            return self.key
        plain = re.fullmatch(r"[A-Za-z0-9_./:-]+", self.key)
        return f"{self.kind}s." + (self.key if plain else f"`{self.key}`")


@dataclass(frozen=True)
class Clause:
    field: Field
    op: str
    #: A float for metrics, text for everything else.
    value: float | str

    @property
    def text(self) -> str:
        value = self.value
        if isinstance(value, float):
            shown = repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
        else:
            shown = json.dumps(value, ensure_ascii=False)
        return f"{self.field.text} {self.op} {shown}"


@dataclass(frozen=True)
class RunFilter:
    clauses: tuple[Clause, ...] = ()

    @property
    def text(self) -> str:
        return " and ".join(c.text for c in self.clauses)


@dataclass(frozen=True)
class OrderBy:
    field: Field = Field("attribute", "started")
    descending: bool = True

    @property
    def text(self) -> str:
        return f"{self.field.text} {'desc' if self.descending else 'asc'}"


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last run's sort value and id."""

    order: str
    #: None when the last run had no value to sort by (such runs come last).
    value: float | str | datetime | None
    run_id: int


@dataclass(frozen=True)
class RunPage:
    """One page of a runs search; pass ``next_cursor`` to get the next (None: no more)."""

    runs: list[Run]
    next_cursor: str | None
    order: OrderBy = field(default_factory=OrderBy)
    filter: RunFilter = field(default_factory=RunFilter)

    def __iter__(self) -> Any:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)


# -- parsing -------------------------------------------------------------------------------


def _bad(message: str, text: str, at: int) -> InvalidInput:
    return InvalidInput(f"filter {text!r}: {message} at character {at + 1}", hint=EXAMPLE)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise _bad(f"cannot read {text[start : start + 10]!r}", text, start)
        kind = m.lastgroup or "word"
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def _field(word: str, text: str, at: int, *, sorting: bool = False) -> Field:
    prefix, dot, rest = word.partition(".")
    lowered = prefix.lower()
    if dot and lowered in _PREFIXES:
        key = rest[1:-1] if len(rest) >= 2 and rest[0] == rest[-1] == "`" else rest
        if "`" in key or not key.strip():
            raise _bad(f"{word!r} does not name a key", text, at)
        return Field(_PREFIXES[lowered], key)
    name = _ATTRIBUTE_ALIASES.get(word.lower(), word.lower())
    if not dot and name in ATTRIBUTES and (sorting or name != "started"):
        return Field("attribute", name)
    raise _bad(
        f"{word!r} is not a field (use metrics.KEY, params.KEY, tags.KEY, "
        + ("status, name, author or started" if sorting else "status, name or author")
        + ")",
        text,
        at,
    )


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _number(value: str, f: Field, text: str, at: int) -> float:
    lowered = value.lower()
    special = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}
    special |= {"infinity": math.inf, "-infinity": -math.inf}
    if lowered in special:
        number = special[lowered]
    else:
        try:
            number = float(value)
        except ValueError:
            raise _bad(f"{f.text} compares numbers; {value!r} is not one", text, at) from None
    if math.isnan(number):
        raise _bad("NaN equals nothing, not even NaN; it cannot be filtered on", text, at)
    return number


def parse_filter(text: str | None) -> RunFilter:
    """A filter from its text; an empty or missing text matches every run."""
    if text is None or not text.strip():
        return RunFilter()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a filter is at most {MAX_TEXT} characters long")
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0
    while True:
        if i >= len(tokens):
            raise _bad("expected a field after 'and'", text, len(text))
        kind, word, at = tokens[i]
        if kind != "word":
            raise _bad(f"expected a field, found {word!r}", text, at)
        f = _field(word, text, at)
        if i + 1 >= len(tokens) or tokens[i + 1][0] != "op":
            where = tokens[i + 1][2] if i + 1 < len(tokens) else len(text)
            raise _bad(f"expected an operator (= != < <= > >=) after {word}", text, where)
        op = "=" if tokens[i + 1][1] == "==" else tokens[i + 1][1]
        if i + 2 >= len(tokens) or tokens[i + 2][0] == "op":
            raise _bad(f"expected a value after {word} {op}", text, len(text))
        vkind, raw, vat = tokens[i + 2]
        value = _unquote(raw) if vkind == "string" else raw
        if f.kind == "metric":
            number = _number(value, f, text, vat)
            clauses.append(Clause(f, op, number))
        else:
            if op not in TEXT_OPS:
                raise _bad(
                    f"{f.text} is text: it takes = or != (only metrics compare with {op})",
                    text,
                    at,
                )
            if f == Field("attribute", "status"):
                try:
                    value = RunStatus(value.lower()).value
                except ValueError:
                    raise _bad(
                        f"status is one of {', '.join(s.value for s in RunStatus)}", text, vat
                    ) from None
            clauses.append(Clause(f, op, value))
        i += 3
        if len(clauses) > MAX_CLAUSES:
            raise InvalidInput(f"a filter has at most {MAX_CLAUSES} clauses")
        if i >= len(tokens):
            return RunFilter(tuple(clauses))
        kind, word, at = tokens[i]
        if kind != "word" or word.lower() != "and":
            hint = " ('or' is not supported: run two searches)" if word.lower() == "or" else ""
            raise _bad(f"expected 'and', found {word!r}{hint}", text, at)
        i += 1


def parse_order(text: str | None) -> OrderBy:
    """``FIELD [asc|desc]``; the default is newest first (``started desc``)."""
    if text is None or not text.strip():
        return OrderBy()
    words = text.split()
    if len(words) > 1 and words[-1].lower() in ("asc", "desc"):
        direction = words[-1].lower()
        name = " ".join(words[:-1])
    else:
        direction, name = "", text.strip()
    if name.startswith("-"):  # "-metrics.acc": descending, as many APIs write it
        name, direction = name[1:], direction or "desc"
    f = _field(name, text, 0, sorting=True)
    # Newest first is the useful default for time; for everything else ascending.
    descending = direction == "desc" or (not direction and f == Field("attribute", "started"))
    return OrderBy(f, descending)


# -- cursors -------------------------------------------------------------------------------


def encode_cursor(order: OrderBy, value: float | str | datetime | None, run_id: int) -> str:
    if isinstance(value, datetime):
        shown: Any = {"t": value.isoformat()}
    elif isinstance(value, float) and math.isnan(value):
        shown = None
    else:
        shown = value
    raw = json.dumps([order.text, shown, run_id], ensure_ascii=False, allow_nan=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, order: OrderBy) -> Cursor:
    """The cursor's position; refused when it was made for another order or is damaged."""
    bad = InvalidInput(
        "the page cursor is damaged", hint="start again from the first page (no cursor)"
    )
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        made_for, value, run_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise bad from None
    if made_for != order.text:
        raise InvalidInput(
            f"the page cursor was made for order {made_for!r}, not {order.text!r}",
            hint="start again from the first page (no cursor) when changing the order",
        )
    if not isinstance(run_id, int):
        raise bad
    if isinstance(value, dict):
        try:
            value = datetime.fromisoformat(str(value["t"]))
        except (KeyError, ValueError):
            raise bad from None
    elif isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif value is not None and not isinstance(value, (float, str)):
        raise bad
    return Cursor(made_for, value, run_id)
