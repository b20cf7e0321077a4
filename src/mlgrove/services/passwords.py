"""Password hashing with argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mlgrove.domain import names

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verifying against this when the user does not exist keeps the timing the same, so
    # a login form does not reveal which usernames exist. Made on first use, not at
    # import: every CLI command imports this module, few verify a password.
    return str(_hasher.hash("not-a-real-password"))


def hash_password(password: str) -> str:
    return str(_hasher.hash(names.password(password)))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return (
            bool(_hasher.verify(password_hash or _dummy_hash(), password))
            and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
