"""The SDK surface is a contract: `mlgrove.__all__` is exactly what we mean to export."""

from __future__ import annotations

import mlgrove

EXPECTED = {
    "AuditEvent",
    "AuthError",
    "AuthenticationFailed",
    "Client",
    "ConfigError",
    "Conflict",
    "GroveError",
    "InvalidInput",
    "NewToken",
    "NotFound",
    "PermissionDenied",
    "Person",
    "Project",
    "RemoteError",
    "Role",
    "StorageError",
    "Team",
    "TokenInfo",
    "WorkspaceNotFound",
    "__version__",
    "connect",
}


def test_all_is_the_intended_surface() -> None:
    assert set(mlgrove.__all__) == EXPECTED


def test_every_exported_name_exists_and_says_where_it_lives() -> None:
    for name in mlgrove.__all__:
        member = getattr(mlgrove, name)
        if name != "__version__":
            assert member.__module__.startswith("mlgrove."), name
