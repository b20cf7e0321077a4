"""Rules for the names people type: usernames, team and project names."""

from __future__ import annotations

import re

from mlgrove.errors import InvalidInput

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
MIN_PASSWORD = 8


def username(value: str) -> str:
    value = value.strip()
    if not _USERNAME.match(value):
        raise InvalidInput(
            f"invalid username {value!r}",
            hint="use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return value


def name(value: str, what: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise InvalidInput(
            f"invalid {what} name {value!r}",
            hint="use 1-100 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit",
        )
    return value


def password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise InvalidInput(f"password too short: it needs at least {MIN_PASSWORD} characters")
    return value
