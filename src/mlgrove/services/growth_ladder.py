"""The organisation's competency ladder: its own file if configured, else Grove's default."""

from __future__ import annotations

import threading
from pathlib import Path

from mlgrove.config import Settings
from mlgrove.domain import ladder as rules
from mlgrove.domain.ladder import Ladder
from mlgrove.errors import InvalidInput

_cache: dict[tuple[str, int], Ladder] = {}
_lock = threading.Lock()


def read_file(path: str | Path) -> Ladder:
    """Parse and validate a ladder file; errors name the file and line."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"no ladder file {str(p)!r}", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read ladder file {str(p)!r}: {exc}") from None
    return rules.parse(text, p.name)


def current(settings: Settings) -> Ladder:
    """The ladder in force, re-read when its file changes."""
    if not settings.ladder_file:
        key = ("", 0)
    else:
        try:
            key = (settings.ladder_file, Path(settings.ladder_file).expanduser().stat().st_mtime_ns)
        except OSError:
            key = (settings.ladder_file, -1)
    with _lock:
        found = _cache.get(key)
    if found is None:
        found = read_file(settings.ladder_file) if settings.ladder_file else rules.default()
        with _lock:
            _cache[key] = found
    return found
