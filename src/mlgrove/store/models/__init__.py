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
from mlgrove.store.models.tracking import (
    AliasEventRow,
    EvaluationRow,
    MetricRow,
    ModelAliasRow,
    ModelRow,
    ModelVersionRow,
    RunArtifactRow,
    RunRow,
)

__all__ = [
    "AliasEventRow",
    "ApiTokenRow",
    "AuditEventRow",
    "Base",
    "DatasetRow",
    "DatasetVersionRow",
    "EvaluationRow",
    "LineageEdgeRow",
    "LoginAttemptRow",
    "MetricRow",
    "ModelAliasRow",
    "ModelRow",
    "ModelVersionRow",
    "ObjectRow",
    "PersonRow",
    "ProjectRow",
    "RunArtifactRow",
    "RunRow",
    "SplitRow",
    "TableChunkRow",
    "TeamRow",
    "WebSessionRow",
]
