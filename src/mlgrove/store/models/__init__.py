"""SQLAlchemy table models, one module per area. Import this package to register all."""

# Areas whose row classes are imported from their own module register their tables here.
from mlgrove.store.models import growth as growth
from mlgrove.store.models import growth_programs as growth_programs
from mlgrove.store.models import pipelines as pipelines
from mlgrove.store.models import review as review
from mlgrove.store.models import run_summaries as run_summaries
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
