"""Closing the loop: resolved corrections become a new version of the training dataset.

The training dataset is a keyed table with a label column. Items reviewed from
``add_predictions`` know their row's key: their resolved label replaces the row's label.
The commit goes through the dataset service (``table_commit.commit``, source
``review``), with lineage edges from the queue and the reviewed model versions; a
``review_commits`` row keeps the items, verdicts and reviewers behind the version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.datasets import Version, VersionSource
from mlgrove.domain.review import ReviewCommit
from mlgrove.errors import InvalidInput
from mlgrove.services import audit, table_commit
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.review import queue_row, queue_value
from mlgrove.store.models import DatasetVersionRow
from mlgrove.store.models.review import (
    ReviewCommitRow,
    ReviewerRow,
    ReviewItemRow,
    ReviewVerdictRow,
)


def commit_corrections(
    ctx: Context,
    queue: str,
    *,
    dataset: str | None = None,
    project: str | None = None,
    message: str | None = None,
) -> Version | None:
    """Commit the queue's resolved, not yet committed answers to the training dataset.

    Returns the new version, or None when there is nothing new to commit.
    """
    ctx.require(Action.WRITE_DATA)
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        q = queue_value(qrow, proj)
        target = dataset or q.training_dataset
        if target is None:
            raise InvalidInput(
                f"queue {queue!r} has no training dataset",
                hint="pass dataset=NAME (or create the queue with training_dataset)",
            )
        ds = ds_service.find_dataset_row(s, ds_service.resolve_project(s, ctx, proj).id, target)
        if ds is None:
            raise InvalidInput(f"no dataset {target!r} in project {proj!r}")
        if not ds.key_columns or not ds.label_column:
            raise InvalidInput(
                f"dataset {target!r} needs key columns and a label column for corrections",
                hint="add it with --key and --label",
            )
        key_columns, label_column = list(ds.key_columns), ds.label_column
        latest = ds_service.latest_version_row(s, ds.id)
        parent_number = latest.number if latest else None
        rows = s.scalars(
            select(ReviewItemRow).where(
                ReviewItemRow.queue_id == q.id,
                ReviewItemRow.status == rules.ItemStatus.RESOLVED.value,
                ReviewItemRow.committed_version_id.is_(None),
                ReviewItemRow.source_row_key.is_not(None),
            )
        ).all()
        fixes: dict[str, Any] = {}
        picked: list[ReviewItemRow] = []
        for item in rows:
            value = rules.corrected_value(q, item.prediction, item.answer or {})
            if value is None:
                continue
            assert item.source_row_key is not None
            fixes[item.source_row_key] = value
            picked.append(item)
        if not picked:
            return None
        item_ids = [i.id for i in picked]
        verdicts = s.execute(
            select(ReviewVerdictRow.id, ReviewerRow.name)
            .join(ReviewerRow, ReviewerRow.id == ReviewVerdictRow.reviewer_id)
            .where(ReviewVerdictRow.item_id.in_(item_ids))
        ).all()
        model_versions = sorted({i.model_version_id for i in picked if i.model_version_id})

    table = ds_service.read_table(ctx, target, "latest", proj).to_pandas()
    keys = table[key_columns].astype(str).agg("|".join, axis=1)
    found = keys.isin(list(fixes))
    if not found.any():
        raise InvalidInput(
            f"none of the reviewed rows are in the latest version of {target!r}",
            hint="were they reviewed from another dataset?",
        )
    new_labels = keys[found].map(fixes)
    table[label_column] = table[label_column].astype(object)
    table.loc[found, label_column] = new_labels
    corrections = int(found.sum())
    lineage_from = [("review_queue", str(q.id), "corrections")] + [
        ("model_version", str(mv), "reviewed predictions") for mv in model_versions
    ]
    version = table_commit.commit(
        ctx,
        target,
        table,
        project=proj,
        message=message or f"{corrections} reviewed labels from queue {q.name}",
        source=VersionSource.REVIEW,
        lineage_from=lineage_from,
    )
    unchanged = version.source != VersionSource.REVIEW.value or version.number == parent_number
    with ctx.db.write() as s:
        dv = s.scalar(
            select(DatasetVersionRow.id).where(
                DatasetVersionRow.dataset_id == ds.id, DatasetVersionRow.number == version.number
            )
        )
        assert dv is not None
        s.execute(
            update(ReviewItemRow)
            .where(ReviewItemRow.id.in_(item_ids))
            .values(committed_version_id=dv)
        )
        if unchanged:
            # The data already says what the reviewers said: no new version was made.
            return None
        s.add(
            ReviewCommitRow(
                queue_id=q.id,
                dataset_version_id=dv,
                item_ids=item_ids,
                verdict_ids=[v.id for v in verdicts],
                reviewers=sorted({v.name for v in verdicts}),
                model_version_ids=model_versions,
                corrections=corrections,
                created_by=ctx.actor_label,
            )
        )
        audit.record(
            s,
            ctx.actor_label,
            "review.commit",
            f"dataset_version:{dv}",
            f"{corrections} corrections from queue {q.name}",
        )
    return version


def list_commits(ctx: Context, queue: str, *, project: str | None = None) -> list[ReviewCommit]:
    """The queue's commits to training data, newest first."""
    ctx.require(Action.VIEW_PROJECTS)
    with ctx.db.read() as s:
        qrow, _ = queue_row(s, ctx, queue, project)
        rows = s.scalars(
            select(ReviewCommitRow)
            .where(ReviewCommitRow.queue_id == qrow.id)
            .order_by(ReviewCommitRow.id.desc())
        )
        return [
            ReviewCommit(
                id=r.id,
                dataset_version_id=r.dataset_version_id,
                item_ids=list(r.item_ids),
                verdict_ids=list(r.verdict_ids),
                reviewers=list(r.reviewers),
                model_version_ids=list(r.model_version_ids),
                corrections=r.corrections,
                created_by=r.created_by,
                created_at=r.created_at,
            )
            for r in rows
        ]
