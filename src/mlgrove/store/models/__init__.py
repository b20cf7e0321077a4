"""SQLAlchemy table models, one module per area. Import this package to register all."""

from mlgrove.store.models.base import Base
from mlgrove.store.models.datasets import (
    DatasetRow,
    DatasetVersionRow,
    LineageEdgeRow,
    SplitRow,
    TableChunkRow,
)
from mlgrove.store.models.objects import ObjectRow
from mlgrove.store.models.people import (
    ApiTokenRow,
    AuditEventRow,
    LoginAttemptRow,
    PersonRow,
    ProjectRow,
    TeamRow,
    WebSessionRow,
)

__all__ = [
    "ApiTokenRow",
    "AuditEventRow",
    "Base",
    "DatasetRow",
    "DatasetVersionRow",
    "LineageEdgeRow",
    "LoginAttemptRow",
    "ObjectRow",
    "PersonRow",
    "ProjectRow",
    "SplitRow",
    "TableChunkRow",
    "TeamRow",
    "WebSessionRow",
]
