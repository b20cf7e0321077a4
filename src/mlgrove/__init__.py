"""Grove: a self-hosted platform where an ML team's models and its engineers grow together.

The public SDK. Connect to a workspace folder (embedded: straight to the services) or
to a Grove server (remote: over HTTP) and get the same client interface::

    import mlgrove
    grove = mlgrove.connect("./my-workspace")          # embedded
    grove = mlgrove.connect("https://grove.example")   # remote, token from $MLGROVE_TOKEN
    grove.whoami()

Importing this module stays light: the server (FastAPI) and the database layer
(SQLAlchemy) load only when an embedded client is made.
"""

from typing import TYPE_CHECKING, Any

from mlgrove.errors import (
    AuthenticationFailed,
    AuthError,
    ConfigError,
    Conflict,
    GroveError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RemoteError,
    StorageError,
    WorkspaceNotFound,
)

if TYPE_CHECKING:
    from mlgrove._version import __version__
    from mlgrove.client.base import Client
    from mlgrove.domain.people import (
        AuditEvent,
        NewToken,
        Person,
        Project,
        Role,
        Team,
        TokenInfo,
    )
    from mlgrove.sdk import connect

# Loaded on first use: `from mlgrove.pipelines import step` in a pipeline module (and the
# `mlgrove` command) imports this package, and must not pay for the whole SDK client.
_LAZY = {
    "__version__": "mlgrove._version",
    "Client": "mlgrove.client.base",
    "AuditEvent": "mlgrove.domain.people",
    "NewToken": "mlgrove.domain.people",
    "Person": "mlgrove.domain.people",
    "Project": "mlgrove.domain.people",
    "Role": "mlgrove.domain.people",
    "Team": "mlgrove.domain.people",
    "TokenInfo": "mlgrove.domain.people",
    "connect": "mlgrove.sdk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlgrove' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
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
]
