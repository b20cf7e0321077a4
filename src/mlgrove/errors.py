"""The one exception hierarchy of Grove.

Every error a user can cause or meet is a :class:`GroveError`. Callers catch by
meaning; only the server maps these to HTTP status codes (``server/errors.py``) and
only the CLI turns them into one line on stderr (``cli/main.py``)::

    GroveError
    ├── ConfigError                 bad or unknown setting, unreadable config file
    ├── WorkspaceNotFound           no .mlgrove/ here or in any parent folder
    ├── WorkspaceExists             `init` where a workspace already is
    ├── InvalidInput                a value the user gave does not make sense
    ├── NotFound                    a named thing does not exist
    ├── Conflict                    the thing exists already / a concurrent change won
    ├── AuthError
    │   ├── AuthenticationFailed    wrong password, unknown or malformed token
    │   ├── TokenExpired
    │   ├── TokenRevoked
    │   ├── CsrfError               form posted without a valid CSRF token
    │   └── RateLimited             too many failed logins; try later
    ├── PermissionDenied            authenticated, but the policy says no
    ├── StorageError
    │   ├── DatabaseUnavailable     cannot reach / open the metadata database
    │   ├── SchemaOutdated          the database needs `mlgrove upgrade`
    │   ├── ObjectMissing           an address the database names is not in the store
    │   └── ObjectCorrupt           stored bytes no longer hash to their address
    ├── StepFailed                  a pipeline step raised, returned a wrong or unstorable value, or its worker died
    └── RemoteError                 the server answered with an error the client cannot map

Each error carries a ``hint``: what the user can do about it. Messages are one line.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "AuthenticationFailed",
    "ConfigError",
    "Conflict",
    "CsrfError",
    "DatabaseUnavailable",
    "GroveError",
    "InvalidInput",
    "NotFound",
    "ObjectCorrupt",
    "ObjectMissing",
    "PermissionDenied",
    "RateLimited",
    "RemoteError",
    "SchemaOutdated",
    "StepFailed",
    "StorageError",
    "TokenExpired",
    "TokenRevoked",
    "WorkspaceExists",
    "WorkspaceNotFound",
]


class GroveError(Exception):
    """Base of every error Grove raises on purpose."""

    #: A stable, machine-readable name (used as the problem+json ``type`` suffix).
    code: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(GroveError):
    code = "config"


class WorkspaceNotFound(GroveError):
    code = "workspace-not-found"


class WorkspaceExists(GroveError):
    code = "workspace-exists"


class InvalidInput(GroveError):
    code = "invalid-input"


class NotFound(GroveError):
    code = "not-found"


class Conflict(GroveError):
    code = "conflict"


class AuthError(GroveError):
    code = "auth"


class AuthenticationFailed(AuthError):
    code = "authentication-failed"


class TokenExpired(AuthError):
    code = "token-expired"


class TokenRevoked(AuthError):
    code = "token-revoked"


class CsrfError(AuthError):
    code = "csrf"


class RateLimited(AuthError):
    code = "rate-limited"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class PermissionDenied(GroveError):
    code = "permission-denied"


class StorageError(GroveError):
    code = "storage"


class DatabaseUnavailable(StorageError):
    code = "database-unavailable"


class SchemaOutdated(StorageError):
    code = "schema-outdated"


class ObjectMissing(StorageError):
    code = "object-missing"


class ObjectCorrupt(StorageError):
    code = "object-corrupt"


class StepFailed(GroveError):
    """A pipeline step failed; ``traceback`` is the step's own, from its worker."""

    code = "step-failed"

    def __init__(
        self, message: str, *, step: str = "", traceback: str = "", hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.step = step
        self.traceback = traceback


class RemoteError(GroveError):
    code = "remote"

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
