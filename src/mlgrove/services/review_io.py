"""Import and export: Label Studio JSON tasks in and out, JSONL of resolved answers out.

A Label Studio task is ``{"id", "data": {...}, "predictions": [...], "annotations": [...]}``
where each prediction/annotation holds a ``result`` list of regions such as
``{"from_name": "sentiment", "to_name": "text", "type": "choices",
"value": {"choices": ["Positive"]}}``. Supported result types: ``choices`` (label
queues), ``rating`` (rubric queues, one criterion per ``from_name``), ``textarea``
(correct queues) and ``pairwise`` (``{"selected": "left" | "right"}``).

Import is one transaction: the whole file is parsed and checked first (an error names
the task and the field), then items, reviewer identities and verdicts are written with
bulk INSERTs (``store/repos/review_bulk.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mlgrove.domain import review as rules
from mlgrove.domain.authz import Action
from mlgrove.domain.review import ImportSummary, ItemStatus, Queue, QueueSpec, TaskType
from mlgrove.errors import InvalidInput
from mlgrove.gcpause import collector_paused
from mlgrove.services import audit
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context
from mlgrove.services.review import (
    check_new_ids,
    create_in,
    prepare_item,
    queue_row,
    queue_value,
    reviewer_row,
)
from mlgrove.store.models import PersonRow
from mlgrove.store.models.review import (
    ReviewerRow,
    ReviewItemRow,
    ReviewQueueRow,
    ReviewVerdictRow,
)
from mlgrove.store.repos import people as people_repo
from mlgrove.store.repos import review_bulk

FORMATS = ("label-studio", "jsonl")
EXPORT_PAGE = 5000
_PAIRWISE_SIDES = {"left": "a", "right": "b", "a": "a", "b": "b", "tie": "tie"}


@dataclass
class _Task:
    index: int
    external_id: str
    data: dict[str, Any]
    prediction: dict[str, Any] | None  # {"answer", "score", "model_version"}
    annotations: list[tuple[str, dict[str, Any], float | None]]  # reviewer, answer, seconds


def _obj(value: Any) -> bool:
    """A JSON object: a dict (what the parser makes) checked first, without the slower
    abstract-class test that any other mapping needs."""
    return type(value) is dict or isinstance(value, Mapping)


def _where(index: int, task: Mapping[str, Any], field_path: str) -> str:
    ident = task.get("id") if isinstance(task, Mapping) else None
    return f"task {index}" + (f" (id {ident})" if ident is not None else "") + f": {field_path}"


def _answer(
    results: Any, index: int, task: Mapping[str, Any], path: str
) -> tuple[str, dict[str, Any]] | None:
    """The task type a result list speaks of and its answer in Grove's shape."""
    if not isinstance(results, list):
        raise InvalidInput(f"{_where(index, task, path + '.result')} must be a list")
    choices: list[str] = []
    ratings: dict[str, int] = {}
    texts: list[str] = []
    choice: str | None = None
    for j, region in enumerate(results):
        where = f"{path}.result[{j}]"
        if not _obj(region) or not _obj(region.get("value")):
            raise InvalidInput(f"{_where(index, task, where)} needs a type and a value object")
        kind, value = region.get("type"), region["value"]
        if kind == "choices":
            got = value.get("choices")
            if not isinstance(got, list) or not all(isinstance(c, str) for c in got):
                raise InvalidInput(
                    f"{_where(index, task, where + '.value.choices')} must be a list of labels"
                )
            choices.extend(got)
        elif kind == "rating":
            rating = value.get("rating")
            if isinstance(rating, bool) or not isinstance(rating, int):
                raise InvalidInput(
                    f"{_where(index, task, where + '.value.rating')} must be a whole number"
                )
            ratings[str(region.get("from_name") or "rating")] = rating
        elif kind == "textarea":
            got = value.get("text")
            got = [got] if isinstance(got, str) else got
            if not isinstance(got, list) or not got:
                raise InvalidInput(f"{_where(index, task, where + '.value.text')} must be a text")
            texts.append("\n".join(str(t) for t in got))
        elif kind == "pairwise":
            selected = value.get("selected")
            if selected not in _PAIRWISE_SIDES:
                raise InvalidInput(
                    f"{_where(index, task, where + '.value.selected')} must be left, right or tie"
                )
            choice = _PAIRWISE_SIDES[str(selected)]
        else:
            raise InvalidInput(
                f"{_where(index, task, where + '.type')} {kind!r} is not supported",
                hint="supported: choices, rating, textarea, pairwise",
            )
    if choices:
        return "label", {"labels": choices}
    if ratings:
        return "rate", {"ratings": ratings}
    if texts:
        return "correct", {"correction": texts[0]}
    if choice is not None:
        return "pairwise", {"choice": choice}
    return None


def _annotator(value: Any) -> str:
    if type(value) is int:
        return f"label-studio:{value}"
    if _obj(value):
        for key in ("email", "username", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
    if value in (None, ""):
        return "label-studio:unknown"
    if isinstance(value, int):
        return f"label-studio:{value}"
    return str(value)


def parse_label_studio(tasks: Any) -> tuple[list[_Task], set[str]]:
    """Every task checked; the task types its results speak of."""
    if _obj(tasks):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InvalidInput("a Label Studio export is a JSON list of tasks")
    parsed: list[_Task] = []
    kinds: set[str] = set()
    for i, task in enumerate(tasks):
        if not _obj(task):
            raise InvalidInput(f"task {i}: must be an object with data")
        data = task.get("data")
        if not _obj(data) or not data:
            raise InvalidInput(f"{_where(i, task, 'data')} is missing or empty")
        prediction = None
        preds = task.get("predictions") or []
        if not isinstance(preds, list):
            raise InvalidInput(f"{_where(i, task, 'predictions')} must be a list")
        for j, pred in enumerate(preds[:1]):  # the first prediction is the one reviewed
            if not _obj(pred):
                raise InvalidInput(f"{_where(i, task, f'predictions[{j}]')} must be an object")
            found = _answer(pred.get("result"), i, task, f"predictions[{j}]")
            score = pred.get("score")
            if score is not None and (
                isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1
            ):
                raise InvalidInput(f"{_where(i, task, f'predictions[{j}].score')} must be 0-1")
            if found is not None:
                kinds.add(found[0])
                prediction = {
                    "answer": found[1],
                    "score": score,
                    "model_version": pred.get("model_version"),
                }
        annotations = []
        anns = task.get("annotations") or task.get("completions") or []
        if not isinstance(anns, list):
            raise InvalidInput(f"{_where(i, task, 'annotations')} must be a list")
        for j, ann in enumerate(anns):
            if not _obj(ann):
                raise InvalidInput(f"{_where(i, task, f'annotations[{j}]')} must be an object")
            if ann.get("was_cancelled"):
                continue
            found = _answer(ann.get("result"), i, task, f"annotations[{j}]")
            if found is None:
                continue
            kinds.add(found[0])
            lead = ann.get("lead_time")
            seconds = float(lead) if isinstance(lead, int | float) and lead >= 0 else None
            annotations.append((_annotator(ann.get("completed_by")), found[1], seconds))
        ident = task.get("id")
        parsed.append(
            _Task(
                index=i,
                external_id=str(ident) if ident is not None else f"task-{i}",
                data=dict(data),
                prediction=prediction,
                annotations=annotations,
            )
        )
    return parsed, kinds


def _spec_for(tasks: Sequence[_Task], kinds: set[str]) -> QueueSpec:
    if len(kinds) > 1:
        raise InvalidInput(
            f"the tasks mix result types ({', '.join(sorted(kinds))})",
            hint="import each kind into its own queue",
        )
    kind = next(iter(kinds), "label")
    labels: list[str] = []
    rubric: list[str] = []
    multi = False
    most = 1
    for t in tasks:
        answers = [a for _, a, _ in t.annotations] + (
            [t.prediction["answer"]] if t.prediction else []
        )
        most = max(most, len({r for r, _, _ in t.annotations}))
        for a in answers:
            for label in a.get("labels", []):
                if label not in labels:
                    labels.append(label)
            multi = multi or len(a.get("labels", [])) > 1
            for c in a.get("ratings", {}):
                if c not in rubric:
                    rubric.append(c)
    # Numeric labels (ratings given as choices) in their order; names keep the order
    # they first appeared in.
    with contextlib.suppress(ValueError):
        labels.sort(key=float)
    if kind == "label" and not labels:
        raise InvalidInput(
            "no task has a choice: cannot tell the label set", hint="create the queue first"
        )
    return QueueSpec(
        task_type=TaskType(kind),
        labels=labels,
        multi_label=multi,
        rubric=rubric,
        overlap=min(most, 20),
    )


def _payload(data: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("text"), str):
        extra = {k: v for k, v in data.items() if k != "text"}
        return {"text": data["text"], **({"row": extra} if extra else {})}
    return {"row": dict(data)}


def _prediction_value(queue: Queue, answer: Mapping[str, Any]) -> Any:
    if "labels" in answer:
        return answer["labels"] if queue.multi_label else answer["labels"][0]
    if "correction" in answer:
        return answer["correction"]
    return answer


class _Checks:
    """The rule checks of an import, remembered per distinct answer: a 100k-task file
    repeats a handful of answers, so each is checked (and each set of answers resolved)
    once, not once per task."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self._answers: dict[Any, dict[str, Any]] = {}
        self._resolutions: dict[tuple[Any, ...], rules.Resolution] = {}

    @staticmethod
    def _key(answer: Mapping[str, Any]) -> Any:
        # Answers come from ``_answer``: one of four shapes, each keyed without JSON.
        if "labels" in answer:
            return ("labels", tuple(answer["labels"]))
        if "ratings" in answer:
            return ("ratings", tuple(answer["ratings"].items()))
        if "correction" in answer:
            return ("correction", answer["correction"])
        return ("choice", answer.get("choice"))

    def answer(self, answer: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        key = self._key(answer)
        checked = self._answers.get(key)
        if checked is None:
            checked = self._answers[key] = rules.check_answer(self.queue, answer)
        return key, checked

    def resolve(self, answers: Sequence[tuple[str, Any, dict[str, Any]]]) -> rules.Resolution:
        # Without reviewer weights (an import has none) the outcome depends only on the
        # answers, in order.
        key = tuple(k for _, k, _ in answers)
        found = self._resolutions.get(key)
        if found is None:
            found = self._resolutions[key] = rules.resolve(
                self.queue, [(w, a) for w, _, a in answers]
            )
        return found


def import_label_studio(
    ctx: Context, queue: str, tasks: Any, *, project: str | None = None
) -> ImportSummary:
    """Import Label Studio tasks (with predictions and annotations) into ``queue``,
    creating it (task type, labels and overlap taken from the file) when needed.

    All or nothing: every task is checked before anything is written, and the writes
    (bulk inserts of items, reviewer identities and verdicts) share one transaction.
    """
    ctx.require(Action.WRITE_DATA)
    with collector_paused():  # millions of small dicts and lists, no cycles
        return _import(ctx, queue, tasks, project)


def _import(ctx: Context, queue: str, tasks: Any, project: str | None) -> ImportSummary:
    parsed, kinds = parse_label_studio(tasks)
    with ctx.db.write() as s:
        proj_row = ds_service.resolve_project(s, ctx, project, create=True)
        qrow = s.scalar(
            select(ReviewQueueRow).where(
                ReviewQueueRow.project_id == proj_row.id, ReviewQueueRow.name == queue
            )
        )
        created = qrow is None
        if qrow is None:
            q = create_in(s, ctx, queue, rules.check_spec(_spec_for(parsed, kinds)), proj_row.name)
        else:
            q = queue_value(qrow, proj_row.name)
        checks = _Checks(q)
        item_rows = []
        verdict_specs: list[list[tuple[str, dict[str, Any], float | None]]] = []
        resolved = 0
        for t in parsed:
            spec: dict[str, Any] = {
                "id": t.external_id,
                "input": _payload(t.data),
                "source": "import",
            }
            if t.prediction is not None:
                try:
                    _, checked = checks.answer(t.prediction["answer"])
                except InvalidInput as exc:
                    raise InvalidInput(
                        f"task {t.index} (id {t.external_id}): predictions[0]: {exc.message}",
                        hint=exc.hint,
                    ) from None
                spec["prediction"] = _prediction_value(q, checked)
                spec["confidence"] = t.prediction["score"]
            row = prepare_item(q, spec, t.index)
            latest: dict[str, tuple[str, Any, dict[str, Any], float | None]] = {}
            for j, (who, answer, seconds) in enumerate(t.annotations):
                try:
                    key, checked = checks.answer(answer)
                except InvalidInput as exc:
                    raise InvalidInput(
                        f"task {t.index} (id {t.external_id}): annotations[{j}]: {exc.message}",
                        hint=exc.hint,
                    ) from None
                latest[who] = (who, key, checked, seconds)  # one verdict each: the last
            answers = list(latest.values())
            row["verdict_count"] = len(answers)
            row["slots"] = max(q.overlap - len(answers), 0)
            row["answer"] = None
            row["resolved_by"] = None
            if len(answers) >= q.overlap and answers:
                resolution = checks.resolve([(w, k, a) for w, k, a, _ in answers])
                row["status"] = resolution.status.value
                if resolution.answer is not None:
                    row["answer"] = resolution.answer
                    row["resolved_by"] = "consensus"
                    resolved += resolution.status is ItemStatus.RESOLVED
            item_rows.append(row)
            verdict_specs.append([(w, a, sec) for w, _, a, sec in answers])
        check_new_ids(s, q.id, item_rows)
        item_ids = review_bulk.insert_items(s, q.id, item_rows)
        review_bulk.add_to_counters(s, q.id, total=len(item_rows), resolved=resolved)
        del item_rows
        reviewers, external = _reviewers(s, {w for anns in verdict_specs for w, _, _ in anns})
        verdict_rows: list[dict[str, Any]] = [
            {
                "queue_id": q.id,
                "item_id": item_id,
                "reviewer_id": reviewers[who],
                "answer": answer,
                "improve": "",
                "tags": [],
                "seconds": seconds,
                "submit_key": None,
            }
            for item_id, anns in zip(item_ids, verdict_specs, strict=True)
            for who, answer, seconds in anns
        ]
        review_bulk.insert_verdicts(s, verdict_rows)
        audit.record(
            s,
            ctx.actor_label,
            "review.import",
            f"review_queue:{q.id}",
            f"{len(parsed)} Label Studio tasks",
        )
        return ImportSummary(
            queue=q.name,
            project=q.project,
            created=created,
            tasks=len(parsed),
            verdicts=len(verdict_rows),
            predictions=sum(1 for t in parsed if t.prediction is not None),
            external_reviewers=sorted(external),
        )


def _reviewers(s: Session, names: set[str]) -> tuple[dict[str, int], set[str]]:
    """Reviewer ids for annotator names: a Grove person when the name is their email
    or username, else an external identity (made in bulk for names not seen before)."""
    found: dict[str, int] = {}
    external: set[str] = set()
    if not names:
        return found, external
    people: list[PersonRow] = []
    wanted = sorted(names)
    for i in range(0, len(wanted), review_bulk.IN_CHUNK):
        chunk = wanted[i : i + review_bulk.IN_CHUNK]
        people.extend(
            s.scalars(
                select(PersonRow).where(
                    or_(PersonRow.email.in_(chunk), PersonRow.username.in_(chunk))
                )
            ).all()
        )
    for p in people:
        for name in (p.email, p.username):
            if name in names and name not in found:
                found[name] = reviewer_row(s, people_repo.person(p)).id
    clean: dict[str, str] = {}
    for name in names - set(found):
        clean[name] = name.strip()[:200]
        if not clean[name]:
            raise InvalidInput("a reviewer needs a name (an id or an email)")
    known = review_bulk.reviewers_by_name(s, clean.values())
    made = review_bulk.add_external_reviewers(s, set(clean.values()) - set(known))
    for name, key in clean.items():
        if key in made:
            found[name] = made[key]
            external.add(name)
        else:
            found[name], person_id = known[key]
            if person_id is None:
                external.add(name)
    return found, external


# -- export ------------------------------------------------------------------------------------


def export(
    ctx: Context, queue: str, fmt: str = "label-studio", *, project: str | None = None
) -> Iterator[dict[str, Any]]:
    """The queue as records: Label Studio tasks, or (``jsonl``) one resolved answer each.

    Pages through the items by id, so memory stays flat for large queues.
    """
    ctx.require(Action.REVIEW)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}", hint="use label-studio or jsonl")
    with ctx.db.read() as s:
        qrow, proj = queue_row(s, ctx, queue, project)
        q = queue_value(qrow, proj)
    after = 0
    while True:
        with ctx.db.read() as s:
            query = (
                select(ReviewItemRow)
                .where(ReviewItemRow.queue_id == q.id, ReviewItemRow.id > after)
                .order_by(ReviewItemRow.id)
                .limit(EXPORT_PAGE)
            )
            if fmt == "jsonl":
                query = query.where(ReviewItemRow.status == ItemStatus.RESOLVED.value)
            items = s.scalars(query).all()
            if not items:
                return
            after = items[-1].id
            verdicts: dict[int, list[tuple[str, ReviewVerdictRow]]] = {}
            for v, name in s.execute(
                select(ReviewVerdictRow, ReviewerRow.name)
                .join(ReviewerRow, ReviewerRow.id == ReviewVerdictRow.reviewer_id)
                .where(ReviewVerdictRow.item_id.in_([i.id for i in items]))
                .order_by(ReviewVerdictRow.id)
            ).all():
                verdicts.setdefault(v.item_id, []).append((name, v))
        for item in items:
            mine = verdicts.get(item.id, [])
            if fmt == "jsonl":
                yield _resolved_record(q, item, mine)
            else:
                yield _ls_task(q, item, mine)


def _resolved_record(
    q: Queue, item: ReviewItemRow, verdicts: list[tuple[str, ReviewVerdictRow]]
) -> dict[str, Any]:
    return {
        "item": item.id,
        "id": item.external_id,
        "input": item.payload,
        "prediction": item.prediction,
        "confidence": item.confidence,
        "answer": item.answer,
        "label": rules.corrected_value(q, item.prediction, item.answer or {}),
        "resolved_by": item.resolved_by,
        "reviewers": [name for name, _ in verdicts],
        "model_version_id": item.model_version_id,
        "dataset_version_id": item.dataset_version_id,
        "row_key": item.source_row_key,
    }


def _ls_result(q: Queue, answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    base = {"from_name": "label", "to_name": "text"}
    if "labels" in answer:
        return [{**base, "type": "choices", "value": {"choices": list(answer["labels"])}}]
    if "accept" in answer:
        return [{**base, "type": "choices", "value": {"choices": ["accept"]}}]
    if "correction" in answer:
        return [{**base, "type": "textarea", "value": {"text": [str(answer["correction"])]}}]
    if "ratings" in answer:
        return [
            {"from_name": c, "to_name": "text", "type": "rating", "value": {"rating": v}}
            for c, v in answer["ratings"].items()
        ]
    side = {"a": "left", "b": "right"}.get(str(answer.get("choice")), "tie")
    return [{**base, "type": "pairwise", "value": {"selected": side}}]


def _ls_prediction(q: Queue, prediction: Any) -> dict[str, Any] | None:
    if prediction is None:
        return None
    if q.task_type is TaskType.LABEL:
        return {"labels": rules.prediction_labels(prediction)}
    if q.task_type is TaskType.CORRECT:
        return {"correction": prediction}
    return prediction if isinstance(prediction, dict) else None


def _ls_task(
    q: Queue, item: ReviewItemRow, verdicts: list[tuple[str, ReviewVerdictRow]]
) -> dict[str, Any]:
    payload = dict(item.payload)
    data: dict[str, Any] = dict(payload.get("row") or {})
    if "text" in payload:
        data["text"] = payload["text"]
    for k, v in payload.items():
        if k not in ("row", "text"):
            data[k] = v
    task: dict[str, Any] = {
        "id": int(ext) if (ext := item.external_id or "").isdigit() else item.id,
        "data": data,
        "meta": {"grove_item": item.id, "grove_external_id": item.external_id},
        "annotations": [
            {
                "completed_by": name,
                "result": _ls_result(q, v.answer),
                "lead_time": v.seconds,
                "created_at": v.created_at.isoformat(),
            }
            for name, v in verdicts
        ],
        "predictions": [],
    }
    pred = _ls_prediction(q, item.prediction)
    if pred is not None:
        task["predictions"].append(
            {
                "model_version": str(item.model_version_id or ""),
                "score": item.confidence,
                "result": _ls_result(q, pred),
            }
        )
    return task
