"""Review queues and their items: create a queue, add items by hand or from a model
version's predictions over a dataset version.

Assignment (next item, submit, skip, undo) lives in ``review_assign.py``; agreement,
coaching and model quality in ``review_stats.py``; import/export in ``review_io.py``;
committing corrections in ``review_loop.py``; end-user feedback in ``review_feedback.py``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import Person
from mlgrove.domain.review import Item, ItemStatus, Queue, QueueSpec
from mlgrove.errors import Conflict, InvalidInput, NotFound
from mlgrove.services import audit, registry
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.store.models import DatasetVersionRow, ProjectRow
from mlgrove.store.models.review import ReviewerRow, ReviewItemRow, ReviewQueueRow
from mlgrove.store.repos import review_claim as claims
from mlgrove.store.repos import review_items

#: Input kinds an item may show: a text, a table row, a file of a file dataset, or the
#: two outputs of a pairwise comparison.
INPUT_KINDS = ("text", "row", "file", "a")


def queue_value(row: ReviewQueueRow | Row[Any], project: str) -> Queue:
    return Queue(
        id=row.id,
        project=project,
        name=row.name,
        task_type=rules.TaskType(row.task_type),
        labels=list(row.labels),
        multi_label=row.multi_label,
        rubric=list(row.rubric),
        overlap=row.overlap,
        lease_seconds=row.lease_seconds,
        random_share=row.random_share,
        uncertainty=rules.Uncertainty(row.uncertainty),
        consensus=rules.Consensus(row.consensus),
        instructions=row.instructions,
        training_dataset=row.training_dataset,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def item_value(row: ReviewItemRow | Row[Any]) -> Item:
    return Item(
        id=row.id,
        queue_id=row.queue_id,
        external_id=row.external_id,
        input=dict(row.payload),
        prediction=row.prediction,
        confidence=row.confidence,
        scores=dict(row.scores or {}),
        priority=row.priority,
        random_slice=row.random_slice,
        gold=row.gold,
        status=ItemStatus(row.status),
        verdicts=row.verdict_count,
        source=row.source,
        model_version_id=row.model_version_id,
        dataset_version_id=row.dataset_version_id,
        source_row_key=row.source_row_key,
        answer=row.answer,
        resolved_by=row.resolved_by,
    )


def queue_row(
    session: Session, ctx: Context, name: str, project: str | None = None
) -> tuple[ReviewQueueRow, str]:
    if project is not None:
        # One query on the hot path (every next item names its project); the slower
        # path below explains what is missing.
        found = session.execute(
            select(ReviewQueueRow)
            .join(ProjectRow, ProjectRow.id == ReviewQueueRow.project_id)
            .where(ProjectRow.name == project, ReviewQueueRow.name == name)
        ).scalar_one_or_none()
        if found is not None:
            return found, project
    proj = ds_service.resolve_project(session, ctx, project)
    row = session.scalar(
        select(ReviewQueueRow).where(
            ReviewQueueRow.project_id == proj.id, ReviewQueueRow.name == name
        )
    )
    if row is None:
        raise NotFound(
            f"no review queue {name!r} in project {proj.name!r}",
            hint="`mlgrove review queues` lists them",
        )
    return row, proj.name


def reviewer_row(session: Session, person: Person) -> ReviewerRow:
    """The reviewer identity of a Grove person, made on first use."""
    row = session.scalar(select(ReviewerRow).where(ReviewerRow.person_id == person.id))
    if row is not None:
        return row
    if person.id == 0:  # the embedded workspace owner is no row of `people`
        return external_reviewer(session, person.username)
    row = ReviewerRow(name=person.username, person_id=person.id)
    existing = session.scalar(select(ReviewerRow).where(ReviewerRow.name == person.username))
    if existing is not None:
        # An external identity with this name came first (an import): the person takes it.
        if existing.person_id is None:
            existing.person_id = person.id
            return existing
        row.name = f"{person.username}#{person.id}"
    session.add(row)
    session.flush()
    return row


def external_reviewer(session: Session, name: str) -> ReviewerRow:
    """An identity for someone Grove does not know (named by their id or email)."""
    name = name.strip()[:200]
    if not name:
        raise InvalidInput("a reviewer needs a name (an id or an email)")
    row = session.scalar(select(ReviewerRow).where(ReviewerRow.name == name))
    if row is None:
        row = ReviewerRow(name=name)
        session.add(row)
        session.flush()
    return row


def _seed(queue_id: int) -> int:
    return queue_id * 7919


# -- queues ---------------------------------------------------------------------------------


def create_queue(
    ctx: Context, name: str, spec: QueueSpec | None = None, *, project: str | None = None
) -> Queue:
    """A new queue. Names are unique within a project."""
    ctx.require(Action.WRITE_DATA)
    spec = rules.check_spec(spec or QueueSpec())
    if not name or len(name) > 100 or name != name.strip() or "/" in name:
        raise InvalidInput(
            f"queue name {name!r} is not valid", hint="1-100 characters, no '/' or edge spaces"
        )
    with ctx.db.write() as s:
        return create_in(s, ctx, name, spec, project)


def create_in(s: Session, ctx: Context, name: str, spec: QueueSpec, project: str | None) -> Queue:
    proj = ds_service.resolve_project(s, ctx, project, create=True)
    exists = s.scalar(
        select(ReviewQueueRow.id).where(
            ReviewQueueRow.project_id == proj.id, ReviewQueueRow.name == name
        )
    )
    if exists is not None:
        raise Conflict(f"review queue {name!r} already exists in project {proj.name!r}")
    row = ReviewQueueRow(
        project_id=proj.id,
        name=name,
        task_type=spec.task_type.value,
        labels=spec.labels,
        multi_label=spec.multi_label,
        rubric=list(spec.rubric),
        overlap=spec.overlap,
        lease_seconds=spec.lease_seconds,
        random_share=spec.random_share,
        uncertainty=spec.uncertainty.value,
        consensus=spec.consensus.value,
        instructions=spec.instructions,
        training_dataset=spec.training_dataset,
        created_by=ctx.actor_label,
    )
    s.add(row)
    s.flush()
    audit.record(s, ctx.actor_label, "review.queue.create", f"review_queue:{row.id}", name)
    return queue_value(row, proj.name)


def get_queue(ctx: Context, name: str, project: str | None = None) -> Queue:
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        row, proj = queue_row(s, ctx, name, project)
        return queue_value(row, proj)


def list_queues(ctx: Context, project: str | None = None) -> list[Queue]:
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        query = select(ReviewQueueRow, ProjectRow.name).join(
            ProjectRow, ProjectRow.id == ReviewQueueRow.project_id
        )
        if project is not None:
            query = query.where(ProjectRow.name == project)
        rows = s.execute(query.order_by(ProjectRow.name, ReviewQueueRow.name)).all()
        return [queue_value(q, p) for q, p in rows]


@dataclass(frozen=True)
class Progress:
    total: int
    open: int
    conflict: int
    resolved: int


def progress(ctx: Context, name: str, project: str | None = None) -> Progress:
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        row, _ = queue_row(s, ctx, name, project)
        return queue_progress(s, row.id)


def queue_progress(s: Session, queue_id: int) -> Progress:
    counts = dict(
        s.execute(
            select(ReviewItemRow.status, func.count())
            .where(ReviewItemRow.queue_id == queue_id)
            .group_by(ReviewItemRow.status)
        ).all()
    )
    return Progress(
        total=sum(counts.values()),
        open=counts.get("open", 0),
        conflict=counts.get("conflict", 0),
        resolved=counts.get("resolved", 0),
    )


# -- items ----------------------------------------------------------------------------------


def check_input(value: Any, where: str) -> dict[str, Any]:
    """An item's input: ``{"text": ...}``, ``{"row": {...}}``, ``{"file": {...}}`` or, for
    pairwise, ``{"a": ..., "b": ...}`` (with an optional ``"prompt"``)."""
    if isinstance(value, str):
        return {"text": value}
    if not isinstance(value, Mapping) or not any(k in value for k in INPUT_KINDS):
        raise InvalidInput(
            f"{where}: input must be a text or an object with text, row, file or a/b",
            hint='e.g. {"text": "..."} or {"row": {"age": 41}}',
        )
    if "a" in value and "b" not in value:
        raise InvalidInput(f"{where}: a pairwise input needs both a and b")
    if "row" in value and not isinstance(value["row"], Mapping):
        raise InvalidInput(f"{where}: row must be an object of column values")
    if "file" in value:
        f = value["file"]
        if not isinstance(f, Mapping) or not {"dataset", "path"} <= set(f):
            raise InvalidInput(f"{where}: file needs dataset and path (and optionally version)")
    return dict(value)


def prepare_item(queue: Queue, spec: Mapping[str, Any], index: int) -> dict[str, Any]:
    where = f"item {index}"
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"{where}: each item must be an object with an input")
    if "input" not in spec:
        raise InvalidInput(f"{where}: missing input")
    payload = check_input(spec["input"], where)
    confidence = rules.check_confidence(spec.get("confidence"), where)
    scores = spec.get("scores") or {}
    if not isinstance(scores, Mapping) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in scores.values()
    ):
        raise InvalidInput(f"{where}: scores must map labels to numbers")
    prediction = spec.get("prediction")
    if queue.task_type is rules.TaskType.LABEL and prediction is not None:
        unknown = [p for p in rules.prediction_labels(prediction) if p not in queue.labels]
        if unknown:
            raise InvalidInput(
                f"{where}: prediction {unknown[0]!r} is not in the queue's label set",
                hint=f"use one of: {', '.join(queue.labels)}",
            )
    gold = spec.get("gold")
    if gold is not None:
        gold = rules.check_answer(queue, gold)
    external = spec.get("id")
    key = str(external) if external is not None else f"{index}:{random.random()}"
    base = rules.uncertainty(queue.uncertainty, confidence, scores)
    in_slice = rules.in_random_slice(key, queue.random_share, _seed(queue.id))
    return {
        "queue_id": queue.id,
        "external_id": None if external is None else str(external)[:200],
        "payload": payload,
        "prediction": prediction,
        "confidence": confidence,
        "scores": {str(k): float(v) for k, v in scores.items()},
        "uncertainty": base,
        "priority": rules.priority(base, random_slice=in_slice),
        "random_slice": in_slice,
        "gold": gold,
        "status": ItemStatus.OPEN.value,
        "slots": queue.overlap,
        "verdict_count": 0,
        "negative_feedback": 0,
        "source": str(spec.get("source", "manual"))[:20],
        "model_version_id": spec.get("model_version_id"),
        "dataset_version_id": spec.get("dataset_version_id"),
        "source_row_key": None if spec.get("row_key") is None else str(spec.get("row_key"))[:500],
    }


def insert_items(s: Session, queue: Queue, rows: Sequence[dict[str, Any]]) -> None:
    """Insert prepared item rows (``COPY`` on PostgreSQL) and count them on the queue."""
    review_items.insert_items(s.connection(), rows, utcnow())
    resolved = sum(1 for r in rows if r.get("status") == ItemStatus.RESOLVED.value)
    s.execute(
        update(ReviewQueueRow)
        .where(ReviewQueueRow.id == queue.id)
        .values(items_total=ReviewQueueRow.items_total + len(rows))
    )
    claims.count_resolved(s.connection(), queue.id, resolved)


def count_status_change(s: Session, queue_id: int, old: str, new: str) -> None:
    """Keep the queue's resolved counter in step with an item's status change."""
    resolved = ItemStatus.RESOLVED.value
    claims.count_resolved(s.connection(), queue_id, (new == resolved) - (old == resolved))


def check_new_ids(s: Session, queue_id: int, rows: Sequence[dict[str, Any]]) -> None:
    ids = [r["external_id"] for r in rows if r["external_id"] is not None]
    if len(set(ids)) != len(ids):
        dup = Counter(ids).most_common(1)[0][0]
        raise InvalidInput(f"item id {dup!r} appears twice in this batch")
    for i in range(0, len(ids), 1000):
        found = s.scalar(
            select(ReviewItemRow.external_id)
            .where(
                ReviewItemRow.queue_id == queue_id,
                ReviewItemRow.external_id.in_(ids[i : i + 1000]),
            )
            .limit(1)
        )
        if found is not None:
            raise Conflict(
                f"the queue already has an item with id {found!r}",
                hint="item ids (e.g. prediction ids) are unique per queue",
            )


def add_items(
    ctx: Context, queue: str, items: Iterable[Mapping[str, Any]], *, project: str | None = None
) -> int:
    """Add items ``{"input", "prediction", "confidence", "scores", "id", "gold", ...}``.

    All or nothing: the first bad item rejects the batch, naming it.
    """
    ctx.require(Action.WRITE_DATA)
    # Checked and prepared before the write transaction: on SQLite every reviewer's next
    # item waits while a write runs, so it holds only the inserts.
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        q = queue_value(qrow, proj)
    rows = [prepare_item(q, spec, i) for i, spec in enumerate(items)]
    with ctx.db.write() as s:
        # The same queue (not one deleted and made again under its name meanwhile).
        if queue_row(s, ctx, q.name, q.project)[0].id != q.id:
            raise Conflict(f"review queue {q.name!r} was replaced meanwhile", hint="add again")
        check_new_ids(s, q.id, rows)
        insert_items(s, q, rows)
        audit.record(
            s, ctx.actor_label, "review.items.add", f"review_queue:{q.id}", f"{len(rows)} items"
        )
        return len(rows)


def add_predictions(
    ctx: Context,
    queue: str,
    *,
    model: str,
    dataset: str,
    predictions: Sequence[Any],
    confidences: Sequence[float | None] | None = None,
    scores: Sequence[Mapping[str, float]] | None = None,
    dataset_version: str = "latest",
    input_column: str | None = None,
    project: str | None = None,
) -> int:
    """Queue a model version's predictions over a dataset version for review.

    ``predictions[i]`` belongs to row ``i`` of the dataset version (in its stored order).
    Each item shows the row (or just ``input_column`` as a text), remembers the model
    version and dataset version, and the row's key, so a correction can flow back into
    the training data.
    """
    ctx.require(Action.WRITE_DATA)
    table = ds_service.read_table(ctx, dataset, dataset_version, project)
    if len(predictions) != table.num_rows:
        raise InvalidInput(
            f"{len(predictions)} predictions for {table.num_rows} rows of {dataset!r}",
            hint="give one prediction per row, in the dataset's order",
        )
    for what, seq in (("confidences", confidences), ("scores", scores)):
        if seq is not None and len(seq) != table.num_rows:
            raise InvalidInput(f"{what} must have one entry per row ({table.num_rows})")
    if input_column is not None and input_column not in table.column_names:
        raise InvalidInput(
            f"{dataset!r} has no column {input_column!r}",
            hint=f"columns: {', '.join(table.column_names)}",
        )
    with ctx.db.read() as s:
        _, mv = registry.resolve_row(s, ctx, model, project)
        proj = ds_service.resolve_project(s, ctx, project)
        ds = ds_service.find_dataset_row(s, proj.id, dataset)
        if ds is None:
            raise NotFound(f"no dataset {dataset!r}")
        dv: DatasetVersionRow = ds_service.version_row(s, ds, dataset_version)
        key_columns = list(ds.key_columns or [])
        label_column = ds.label_column
    records = table.to_pylist()
    items = []
    for i, record in enumerate(records):
        shown = {k: v for k, v in record.items() if k != label_column}
        payload: dict[str, Any] = (
            {"text": str(record[input_column])} if input_column else {"row": _jsonable(shown)}
        )
        row_key = "|".join(str(record[c]) for c in key_columns) if key_columns else None
        items.append(
            {
                "id": f"{model}:{dv.id}:{row_key if row_key is not None else i}",
                "input": payload,
                "prediction": predictions[i],
                "confidence": None if confidences is None else confidences[i],
                "scores": None if scores is None else scores[i],
                "source": "predictions",
                "model_version_id": mv.id,
                "dataset_version_id": dv.id,
                "row_key": row_key,
            }
        )
    return add_items(ctx, queue, items, project=project)


def _jsonable(record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        out[k] = v if v is None or isinstance(v, str | int | float | bool) else str(v)
    return out


def list_items(
    ctx: Context,
    queue: str,
    *,
    project: str | None = None,
    status: ItemStatus | str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Item]:
    """Items in id order, keyset-paged with ``after_id``."""
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        qrow, _ = queue_row(s, ctx, queue, project)
        query = (
            select(ReviewItemRow)
            .where(ReviewItemRow.queue_id == qrow.id, ReviewItemRow.id > after_id)
            .order_by(ReviewItemRow.id)
            .limit(min(max(limit, 1), 10_000))
        )
        if status is not None:
            query = query.where(ReviewItemRow.status == ItemStatus(status).value)
        return [item_value(r) for r in s.scalars(query)]


def get_item(ctx: Context, item_id: int) -> Item:
    ctx.require(Action.REVIEW)
    with ctx.db.read() as s:
        row = s.get(ReviewItemRow, item_id)
        if row is None:
            raise NotFound(f"no review item {item_id}")
        return item_value(row)


def item_file(ctx: Context, item_id: int) -> tuple[bytes, str]:
    """The bytes of the file an item's input names (``{"file": {"dataset", "path",
    "version"}}``) and its path, read from the file dataset's version."""
    from mlgrove.services import filesets

    item = get_item(ctx, item_id)
    spec = item.input.get("file")
    if not isinstance(spec, Mapping):
        raise NotFound(f"review item {item_id} shows no file")
    with ctx.db.read() as s:
        project = s.get_one(ProjectRow, s.get_one(ReviewQueueRow, item.queue_id).project_id).name
    path = str(spec["path"])
    found = filesets.list_files(
        ctx,
        str(spec["dataset"]),
        str(spec.get("version", "latest")),
        project=project,
        prefix=path,
        limit=1,
    )
    if not found or found[0]["path"] != path:
        raise NotFound(f"file dataset {spec['dataset']!r} has no file {path!r}")
    return ctx.objects.get_bytes(found[0]["address"]), path
