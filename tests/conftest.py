"""Grove's own tests use the mlgrove pytest plugin (registered by the package's entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 with its cheapest parameters, so tests that make many people stay fast.

    Still argon2id with real verification; only memory and time costs are lowered.
    Subprocess tests (the real CLI) keep the production parameters.
    """
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from mlgrove.services import passwords

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passwords, "_hasher", PasswordHasher.from_parameters(CHEAPEST))
        yield
