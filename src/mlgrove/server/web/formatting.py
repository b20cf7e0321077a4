"""Jinja filters that turn values into the short text a page shows."""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

CELL_CHARS = 80


def number(value: Any) -> str:
    """``12,345`` for whole numbers, four significant digits otherwise."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}"
    return str(value)


def size(n: int | None) -> str:
    """Bytes as people read them: ``512 B``, ``1.5 KB``, ``3.2 GB``."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def percent(part: float, whole: float) -> str:
    if not whole:
        return ""
    share = 100 * part / whole
    return f"{share:.0f}%" if share >= 10 or share == 0 else f"{share:.1f}%"


def cell(value: Any, limit: int = CELL_CHARS) -> str:
    """One table cell's text: numbers shortened, long text cut (the page shows the rest
    in the cell's tooltip)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, bytes):
        text = f"<{len(value):,} bytes>"
    elif isinstance(value, list | dict):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def full(value: Any) -> str:
    """The whole value, for a tooltip when :func:`cell` had to cut it."""
    return cell(value, limit=2000)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def urlpart(value: Any) -> str:
    """A name as one URL path segment (names may hold spaces and dots)."""
    return urllib.parse.quote(str(value), safe="")


FILTERS: dict[str, Callable[..., str]] = {
    "number": number,
    "size": size,
    "cell": cell,
    "full": full,
    "when": when,
    "urlpart": urlpart,
}
