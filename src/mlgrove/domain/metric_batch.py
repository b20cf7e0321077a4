"""A batch of metric points as columns, checked a column at a time.

The SDK buffers points and ``POST /runs/{id}/metrics`` accepts them as four parallel
lists (keys, values, steps, timestamps). Checking 100k points one Python object at a time
cost more than writing them, so each column is checked with a few passes that run in C
(the set of types present, min and max, each distinct key once). Only when one of them
finds something wrong does a slow loop look for the first bad point, so the error names
its index ("point 41: ..."). The rules are those of :mod:`mlgrove.domain.tracking`: keys
of 1-250 characters without control characters, numbers (not bools, not text) as values
with NaN and infinity kept, whole steps from 0 to 2**63 - 1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mlgrove.domain import tracking as rules
from mlgrove.domain.tracking import MetricPoint
from mlgrove.errors import InvalidInput

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
#: Timestamps are microseconds since the Unix epoch, from 1970 up to the end of year 9999.
TIME_MAX_US = 253_402_300_800 * 1_000_000
STEP_MAX = 2**63


@dataclass(frozen=True)
class MetricBatch:
    """Points as columns: point ``i`` is ``(keys[i], values[i], steps[i], times_us[i])``.

    Built by :func:`check_columns` (or :meth:`of_points`), so every column holds plain
    ``str``, ``float`` and ``int`` values that passed the rules."""

    keys: list[str]
    values: list[float]
    steps: list[int]
    #: Microseconds since 1970-01-01 UTC (exact, unlike a float of seconds).
    times_us: list[int]

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def of_points(cls, points: Sequence[MetricPoint]) -> MetricBatch:
        """Check point objects (as older callers build them) into a batch."""
        times = [us_of(p.timestamp, i) for i, p in enumerate(points)]
        return check_columns(
            [p.key for p in points], [p.value for p in points], [p.step for p in points], times
        )

    def points(self) -> list[MetricPoint]:
        return [
            MetricPoint(key=k, value=v, step=s, timestamp=time_of(t))
            for k, v, s, t in zip(self.keys, self.values, self.steps, self.times_us, strict=True)
        ]

    def newest(self) -> dict[str, int]:
        """For each key, the index of its last point (later points are newer)."""
        return {k: i for i, k in enumerate(self.keys)}


def us_of(value: Any, index: int = 0) -> int:
    """A timezone-aware datetime as microseconds since the epoch."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"point {index}: timestamp {value!r} is not a date and time")
    if value.tzinfo is None:
        raise InvalidInput(
            f"point {index}: timestamp {value.isoformat()} has no time zone",
            hint="send UTC times with a zone, e.g. 2026-01-01T12:00:00Z",
        )
    return (value - EPOCH) // _ONE_US


def time_of(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class _Bad(Exception):
    """A bad point found by one column's check; the batch reports the lowest index."""

    def __init__(self, index: int, error: InvalidInput) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


def _only(column: Iterable[Any], allowed: set[type]) -> bool:
    return set(map(type, column)) <= allowed


def _keys(keys: list[Any]) -> list[str]:
    if not _only(keys, {str}):
        for i, k in enumerate(keys):
            if type(k) is not str:
                try:
                    rules.key(k)
                except InvalidInput as exc:
                    raise _Bad(i, exc) from None
        keys = [str(k) for k in keys]  # str subclasses: plain text from here on
    bad = []
    for k in set(keys):
        try:
            rules.key(k)
        except InvalidInput as exc:
            bad.append(_Bad(keys.index(k), exc))
    if bad:
        raise min(bad, key=lambda b: b.index)
    return keys


def _values(keys: list[Any], values: list[Any]) -> list[float]:
    kinds = set(map(type, values))
    if kinds <= {float}:
        return values
    if kinds <= {float, int}:
        try:
            return list(map(float, values))
        except OverflowError:
            pass  # an int too large for a float: the loop below names it
    out = []
    for i, v in enumerate(values):
        try:
            number = rules.metric_value(keys[i], v)
        except InvalidInput as exc:
            raise _Bad(i, exc) from None
        except OverflowError:
            too_large = InvalidInput(f"metric {keys[i]!r}: value {v} is too large")
            raise _Bad(i, too_large) from None
        out.append(number)
    return out


def _steps(keys: list[Any], steps: list[Any]) -> list[int]:
    if _only(steps, {int}) and (not steps or (min(steps) >= 0 and max(steps) < STEP_MAX)):
        return steps
    out = []
    for i, s in enumerate(steps):
        try:
            out.append(rules.step(keys[i], s))
        except InvalidInput as exc:
            raise _Bad(i, exc) from None
    return out


def _times(times_us: list[Any]) -> list[int]:
    if _only(times_us, {int}) and (
        not times_us or (min(times_us) >= 0 and max(times_us) < TIME_MAX_US)
    ):
        return times_us
    bad = next(i for i, t in enumerate(times_us) if type(t) is not int or not 0 <= t < TIME_MAX_US)
    raise _Bad(bad, InvalidInput(f"timestamp {times_us[bad]!r} is not between 1970 and 9999"))


def _finite(t: Any) -> bool:
    try:
        return not isinstance(t, bool) and isinstance(t, numbers.Real) and math.isfinite(t)
    except OverflowError:  # an int beyond any float: out of range anyway
        return False


def _seconds(seconds: list[Any]) -> list[int]:
    """Unix times in seconds (numbers) as microseconds."""
    if not _only(seconds, {float}) or not all(map(math.isfinite, seconds)):
        for i, t in enumerate(seconds):
            if not _finite(t):
                not_a_time = InvalidInput(
                    f"timestamp {t!r} is not a number of seconds since 1970",
                    hint="send Unix times, e.g. 1767225600.25",
                )
                raise _Bad(i, not_a_time)
    return _times([round(t * 1_000_000) for t in seconds])


def check_columns(
    keys: list[Any],
    values: list[Any],
    steps: list[Any],
    times: list[Any],
    *,
    seconds: bool = False,
) -> MetricBatch:
    """The columns as a checked :class:`MetricBatch`; the first bad point (the lowest
    index with anything wrong) raises :class:`InvalidInput` naming it, so a batch is
    taken whole or not at all. ``times`` are microseconds since 1970, or with
    ``seconds`` Unix times in seconds (as the API's columnar batch sends them)."""
    n = len(keys)
    if not len(values) == len(steps) == len(times) == n:
        raise InvalidInput(
            f"the batch's columns differ in length: {n} keys, {len(values)} values, "
            f"{len(steps)} steps, {len(times)} timestamps",
            hint="send one key, value, step and timestamp per point",
        )
    bad: list[_Bad] = []

    def attempt(check: Any, *args: Any) -> Any:
        try:
            return check(*args)
        except _Bad as found:
            bad.append(found)
            return None

    clean_keys = attempt(_keys, keys)
    names = keys if clean_keys is None else clean_keys  # for the messages
    batch = MetricBatch(
        keys=clean_keys,
        values=attempt(_values, names, values),
        steps=attempt(_steps, names, steps),
        times_us=attempt(_seconds if seconds else _times, times),
    )
    if bad:
        first = min(bad, key=lambda b: b.index)
        raise InvalidInput(f"point {first.index}: {first.error.message}", hint=first.error.hint)
    return batch
