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

from mlgrove._version import __version__
from mlgrove.client.base import Client
from mlgrove.domain.people import AuditEvent, NewToken, Person, Project, Role, Team, TokenInfo
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
from mlgrove.sdk import connect

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
