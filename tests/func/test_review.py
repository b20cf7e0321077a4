"""Review queues end to end on both databases: assignment, verdicts, consensus, gold and
coaching, human-judged quality, and corrections flowing back into the training data."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import LOCAL_ADMIN, Person
from mlgrove.domain.review import ItemStatus, QueueSpec, TaskType
from mlgrove.errors import Conflict, InvalidInput, PermissionDenied
from mlgrove.services import (
    audit,
    lineage,
    review,
    review_assign,
    review_feedback,
    review_loop,
    review_stats,
    table_commit,
)
from mlgrove.services import datasets as ds_service
from mlgrove.services.context import Context, Runtime
from mlgrove.store.models.review import ReviewItemRow, ReviewLeaseRow
from mlgrove.store.repos import review_claim
from mlgrove.testing.factories import Factories

LABELS = ["cat", "dog", "bird"]


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "maya": {"role": "manager", "team": "Vision"},
                "ana": {"role": "reviewer", "team": "Vision", "manager": "maya"},
                "bo": {"role": "reviewer", "team": "Vision", "manager": "maya"},
                "cy": {"role": "engineer", "team": "Vision"},
            },
            "projects": {"pets": "Vision"},
        }
    )


def ctx(f: Factories, person: Person) -> Context:
    return f.ctx(person)


def make_queue(f: Factories, name: str = "pets-q", **spec: Any) -> None:
    review.create_queue(f.admin_ctx, name, QueueSpec(**{"labels": LABELS, **spec}), project="pets")


def items(n: int, *, confidence: float = 0.9) -> list[dict[str, Any]]:
    return [
        {
            "id": f"p{i}",
            "input": {"text": f"photo {i}"},
            "prediction": "cat",
            "confidence": confidence,
        }
        for i in range(n)
    ]


def review_one(c: Context, label: str, queue: str = "pets-q", **kw: Any) -> int:
    got = review_assign.next_item(c, queue, project="pets")
    assert got is not None
    review_assign.submit(c, got.item.id, {"labels": [label]}, **kw)
    return got.item.id


def test_overlap_gives_each_item_to_k_distinct_reviewers(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, overlap=2, random_share=0)
    review.add_items(f.admin_ctx, "pets-q", items(2), project="pets")
    ana, bo, cy = (ctx(f, world[n]) for n in ("ana", "bo", "cy"))
    a1 = review_one(ana, "cat")
    a2 = review_one(ana, "cat")
    assert review_assign.next_item(ana, "pets-q", project="pets") is None  # done both
    assert {review_one(bo, "cat"), review_one(bo, "dog")} == {a1, a2}
    assert review_assign.next_item(cy, "pets-q", project="pets") is None  # k=2 reached
    by_id = {i.id: i for i in review.list_items(f.admin_ctx, "pets-q", project="pets")}
    statuses = sorted(i.status for i in by_id.values())
    assert statuses == [ItemStatus.CONFLICT, ItemStatus.RESOLVED]
    resolved = next(i for i in by_id.values() if i.status is ItemStatus.RESOLVED)
    assert resolved.answer == {"labels": ["cat"]}
    conflict = next(i for i in by_id.values() if i.status is ItemStatus.CONFLICT)
    review_assign.adjudicate(ctx(f, world["maya"]), conflict.id, {"labels": ["dog"]})
    decided = review.get_item(f.admin_ctx, conflict.id)
    assert (decided.status, decided.answer, decided.resolved_by) == (
        ItemStatus.RESOLVED,
        {"labels": ["dog"]},
        "maya",
    )


def _at_once(work: Callable[[int], None], n: int) -> list[BaseException]:
    """Run ``work(0..n-1)`` in n threads released together; the exceptions they raised."""
    failures: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # collected, asserted by the caller
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_twenty_reviewers_at_once_each_item_judged_by_exactly_k_people(
    grove_factories: Factories, grove_runtime: Runtime, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, overlap=2, random_share=0.2)
    batch = [
        {"id": f"p{i}", "input": f"photo {i}", "prediction": "cat", "confidence": (i % 10) / 10}
        for i in range(25)
    ]
    review.add_items(f.admin_ctx, "pets-q", batch, project="pets")
    crowd = [
        f.person(f"rev{i:02d}", role="reviewer", team="Vision", password=None) for i in range(20)
    ]
    handed: dict[int, list[int]] = {i: [] for i in range(20)}

    def work(i: int) -> None:
        c = ctx(f, crowd[i])
        while (got := review_assign.next_item(c, "pets-q", project="pets")) is not None:
            handed[i].append(got.item.id)
            review_assign.submit(c, got.item.id, {"labels": [LABELS[(got.item.id + i) % 3]]})

    assert _at_once(work, 20) == []
    for ids in handed.values():
        assert len(ids) == len(set(ids))  # nobody was handed an item twice
    listed = review.list_items(f.admin_ctx, "pets-q", project="pets")
    # Every item was handed out exactly k=2 times, and judged twice: none left behind.
    assert Counter(i for ids in handed.values() for i in ids) == {i.id: 2 for i in listed}
    assert {i.verdicts for i in listed} == {2}
    assert {i.status for i in listed} <= {ItemStatus.RESOLVED, ItemStatus.CONFLICT}
    with grove_runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ReviewLeaseRow)) == 0
        resolved = review_claim.resolved_of(s.connection(), listed[0].queue_id)
    assert resolved == sum(i.status is ItemStatus.RESOLVED for i in listed)


def test_one_reviewer_asking_twice_at_once_holds_one_item(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, random_share=0)
    review.add_items(f.admin_ctx, "pets-q", items(5), project="pets")
    ana = ctx(f, world["ana"])
    review_one(ana, "cat")  # her reviewer identity exists: both calls take the fast path
    got: list[int] = []

    def ask(_: int) -> None:
        a = review_assign.next_item(ana, "pets-q", project="pets")
        assert a is not None
        got.append(a.item.id)

    assert _at_once(ask, 2) == []
    assert len(set(got)) == 1  # two tabs show the same item, not two items held


def test_an_item_busy_this_instant_is_still_offered_not_reported_gone(
    grove_factories: Factories, grove_runtime: Runtime, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, random_share=0)
    review.add_items(f.admin_ctx, "pets-q", items(1), project="pets")
    busy = threading.Event()

    def hold_the_row() -> None:  # e.g. another reviewer's verdict being written
        with grove_runtime.db.write() as s:
            s.execute(update(ReviewItemRow).values(verdict_count=ReviewItemRow.verdict_count))
            busy.set()
            time.sleep(0.3)

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    busy.wait()
    got = review_assign.next_item(ctx(f, world["bo"]), "pets-q", project="pets")
    holder.join()
    assert got is not None  # it waited for the row instead of saying the queue is done


def test_uncertain_items_come_first_and_the_random_slice_before_them(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, random_share=0)
    review.add_items(
        f.admin_ctx,
        "pets-q",
        [
            {"id": "sure", "input": "a", "prediction": "cat", "confidence": 0.99},
            {"id": "unsure", "input": "b", "prediction": "cat", "confidence": 0.4},
            {
                "id": "split",
                "input": "c",
                "prediction": "cat",
                "scores": {"cat": 0.5, "dog": 0.48, "bird": 0.02},
            },
        ],
        project="pets",
    )
    ana = ctx(f, world["ana"])
    order = []
    while (got := review_assign.next_item(ana, "pets-q", project="pets")) is not None:
        order.append(got.item.external_id)
        review_assign.submit(ana, got.item.id, {"labels": ["cat"]})
    assert order == ["unsure", "split", "sure"]  # 1 - confidence; 1 - top score

    make_queue(f, "sliced", random_share=1.0)
    review.add_items(f.admin_ctx, "sliced", items(3), project="pets")
    listed = review.list_items(f.admin_ctx, "sliced", project="pets")
    assert all(i.random_slice for i in listed)
    assert all(i.priority > 10 for i in listed)


def test_bad_verdicts_are_refused_and_submit_is_idempotent(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, random_share=0)
    review.add_items(f.admin_ctx, "pets-q", items(2), project="pets")
    ana, bo = ctx(f, world["ana"]), ctx(f, world["bo"])
    got = review_assign.next_item(ana, "pets-q", project="pets")
    assert got is not None
    item_id = got.item.id
    with pytest.raises(Conflict, match="not leased to you"):
        review_assign.submit(bo, item_id, {"labels": ["cat"]})
    with pytest.raises(InvalidInput, match="'horse' is not in this queue's label set"):
        review_assign.submit(ana, item_id, {"labels": ["horse"]})
    with pytest.raises(InvalidInput, match="exactly one label"):
        review_assign.submit(ana, item_id, {"labels": ["cat", "dog"]})
    first = review_assign.submit(
        ana, item_id, {"label": "dog"}, improve="<b>blurry</b>", tags=["x"], submit_key="k1"
    )
    again = review_assign.submit(ana, item_id, {"label": "dog"}, submit_key="k1")
    assert again.id == first.id
    with pytest.raises(Conflict, match="already gave a verdict"):
        review_assign.submit(ana, item_id, {"label": "cat"})
    assert first.improve == "<b>blurry</b>"  # stored as given; escaped where shown
    assert len(review_assign.my_verdicts(ana, "pets-q", project="pets")) == 1


def test_skip_undo_and_expired_leases(
    grove_factories: Factories, grove_runtime: Runtime, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, random_share=0)
    review.add_items(f.admin_ctx, "pets-q", items(3), project="pets")
    ana, bo = ctx(f, world["ana"]), ctx(f, world["bo"])
    first = review_assign.next_item(ana, "pets-q", project="pets")
    assert first is not None
    # Asking again returns the same leased item (a page reload keeps your place).
    same = review_assign.next_item(ana, "pets-q", project="pets")
    assert same is not None
    assert same.item.id == first.item.id
    review_assign.skip(ana, first.item.id)
    second = review_assign.next_item(ana, "pets-q", project="pets")
    assert second is not None
    assert second.item.id != first.item.id
    review_assign.submit(ana, second.item.id, {"labels": ["dog"]})
    back = review_assign.undo(ana, "pets-q", project="pets")
    assert back.item.id == second.item.id
    assert back.item.status is ItemStatus.OPEN
    assert review.get_item(f.admin_ctx, second.item.id).verdicts == 0
    review_assign.submit(ana, second.item.id, {"labels": ["cat"]})
    assert review.get_item(f.admin_ctx, second.item.id).answer == {"labels": ["cat"]}

    # bo takes the skipped item, abandons it; once the lease expires it comes back.
    taken = review_assign.next_item(bo, "pets-q", project="pets")
    assert taken is not None
    with grove_runtime.db.write() as s:
        s.execute(update(ReviewLeaseRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(Conflict, match="lease expired"):
        review_assign.submit(bo, taken.item.id, {"labels": ["cat"]})
    cy = ctx(f, world["cy"])
    offered = review_assign.next_item(cy, "pets-q", project="pets")
    assert offered is not None
    assert offered.item.id == taken.item.id


def test_coaching_is_for_the_reviewer_and_their_manager_only(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, random_share=0)
    review.add_items(
        f.admin_ctx,
        "pets-q",
        [
            {"id": f"g{i}", "input": f"x{i}", "prediction": "cat", "gold": {"labels": [g]}}
            for i, g in enumerate(["cat", "dog", "dog"])
        ],
        project="pets",
    )
    ana = ctx(f, world["ana"])
    for _ in range(3):
        review_one(ana, "cat")
    mine = review_stats.coaching(ana, "pets-q", "ana", project="pets")
    assert (mine.gold_items, mine.correct) == (3, 1)
    assert mine.accuracy.value == pytest.approx(1 / 3)
    assert mine.confusion == {"dog": {"cat": 2}}
    maya = ctx(f, world["maya"])
    assert review_stats.coaching(maya, "pets-q", "ana", project="pets").correct == 1
    events = audit.list_events(f.admin_ctx)
    assert any(e.action == "review.coaching.read" and e.actor == "maya" for e in events)
    for outsider in ("bo", "cy"):
        with pytest.raises(PermissionDenied, match="them and their manager only"):
            review_stats.coaching(ctx(f, world[outsider]), "pets-q", "ana", project="pets")
    with pytest.raises(PermissionDenied):
        review_stats.coaching(f.admin_ctx, "pets-q", "ana", project="pets")


def test_quality_weighted_consensus_follows_the_reviewer_right_on_gold(
    grove_factories: Factories, world: dict[str, Any]
) -> None:
    f = grove_factories
    make_queue(f, overlap=2, consensus="weighted", random_share=0)
    review.add_items(
        f.admin_ctx,
        "pets-q",
        [
            {"id": "gold", "input": "g", "gold": {"labels": ["dog"]}, "confidence": 0.0},
            {"id": "real", "input": "r", "confidence": 0.5},
        ],
        project="pets",
    )
    ana, bo = ctx(f, world["ana"]), ctx(f, world["bo"])
    review_one(ana, "dog")  # ana gets gold right
    review_one(bo, "cat")  # bo gets it wrong
    review_one(ana, "bird")
    review_one(bo, "cat")
    real = next(
        i
        for i in review.list_items(f.admin_ctx, "pets-q", project="pets")
        if i.external_id == "real"
    )
    assert real.status is ItemStatus.RESOLVED
    assert real.answer == {"labels": ["bird"]}  # 2/3 vs 1/3 of the weight


def test_agreement_per_queue(grove_factories: Factories, world: dict[str, Any]) -> None:
    f = grove_factories
    make_queue(f, overlap=2, random_share=0)
    review.add_items(f.admin_ctx, "pets-q", items(4), project="pets")
    ana, bo = ctx(f, world["ana"]), ctx(f, world["bo"])
    for label in ["cat", "dog", "cat", "bird"]:
        review_one(ana, label)
    got = {}
    while (a := review_assign.next_item(bo, "pets-q", project="pets")) is not None:
        got[a.item.id] = a
        review_assign.submit(bo, a.item.id, {"labels": ["cat"]})
    report = review_stats.agreement_report(f.admin_ctx, "pets-q", project="pets", resamples=100)
    assert report.items == 4
    assert report.raters == 2
    assert report.percent_agreement.value == pytest.approx(0.5)
    assert report.cohen_kappa is not None
    assert report.krippendorff_alpha.value is not None
    assert set(report.per_label) == {"cat", "dog", "bird"}


def test_model_quality_from_the_random_slice_rubric_and_pairwise(
    grove_factories: Factories, world: dict[str, Any], grove_runtime: Runtime
) -> None:
    f = grove_factories
    admin = f.admin_ctx
    _register_models(admin)
    mv = _model_version_ids(grove_runtime)
    make_queue(f, random_share=1.0)
    review.add_items(
        admin,
        "pets-q",
        [
            {"id": f"i{i}", "input": "x", "prediction": "cat", "model_version_id": mv[1]}
            for i in range(4)
        ],
        project="pets",
    )
    ana = ctx(f, world["ana"])
    for label in ["cat", "cat", "cat", "dog"]:
        review_one(ana, label)
    quality = {
        q.model_version_id: q for q in review_stats.model_quality(admin, "pets-q", project="pets")
    }
    assert quality[mv[1]].accept_rate.value == pytest.approx(0.75)
    assert quality[mv[1]].accept_rate.low is not None
    assert quality[mv[1]].accept_rate.low < 0.75 < (quality[mv[1]].accept_rate.high or 0)

    review.create_queue(
        admin,
        "rubric",
        QueueSpec(task_type=TaskType.RATE, rubric=["helpful", "safe"]),
        project="pets",
    )
    review.add_items(
        admin, "rubric", [{"input": "answer", "model_version_id": mv[2]}], project="pets"
    )
    got = review_assign.next_item(ana, "rubric", project="pets")
    assert got is not None
    with pytest.raises(InvalidInput, match="rating for 'safe' is 7"):
        review_assign.submit(ana, got.item.id, {"ratings": {"helpful": 4, "safe": 7}})
    review_assign.submit(ana, got.item.id, {"ratings": {"helpful": 4, "safe": 5}})
    rubric = review_stats.model_quality(admin, "rubric", project="pets")
    assert rubric[0].rubric_means == {"helpful": 4.0, "safe": 5.0}

    review.create_queue(admin, "ab", QueueSpec(task_type=TaskType.PAIRWISE), project="pets")
    review.add_items(
        admin,
        "ab",
        [
            {"input": {"prompt": "p", "a": "x", "b": "y", "models": {"a": mv[1], "b": mv[2]}}}
            for _ in range(3)
        ],
        project="pets",
    )
    for choice in ["b", "b", "tie"]:
        got = review_assign.next_item(ana, "ab", project="pets")
        assert got is not None
        review_assign.submit(ana, got.item.id, {"choice": choice})
    wins = {
        q.model_version_id: q.pairwise.value
        for q in review_stats.model_quality(admin, "ab", project="pets")
    }
    assert wins == {mv[1]: pytest.approx(1 / 6), mv[2]: pytest.approx(5 / 6)}


def _register_models(admin: Context) -> None:
    """Two versions of model ``pet-clf`` (v1, v2)."""
    import tempfile
    from pathlib import Path

    from mlgrove.services import registry, tracking

    run = tracking.start_run(admin, "pets")
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "model.bin"
        weights.write_bytes(b"weights")
        tracking.log_artifact(admin, run.id, weights)
    for _ in range(2):
        registry.register(admin, "pet-clf", run.id, "model.bin", project="pets")


def _model_version_ids(runtime: Runtime) -> dict[int, int]:
    from sqlalchemy import select

    from mlgrove.store.models import ModelVersionRow

    with runtime.db.read() as s:
        return dict(s.execute(select(ModelVersionRow.number, ModelVersionRow.id)).all())


def test_corrections_become_a_training_dataset_version_with_lineage(
    grove_factories: Factories, world: dict[str, Any], grove_runtime: Runtime
) -> None:
    f = grove_factories
    admin = f.admin_ctx
    table_commit.commit(
        admin,
        "pets-train",
        pd.DataFrame({"id": [1, 2, 3], "text": ["a", "b", "c"], "label": ["cat"] * 3}),
        project="pets",
        key=["id"],
        label="label",
    )
    _register_models(admin)
    review.create_queue(
        admin,
        "fix",
        QueueSpec(labels=LABELS, random_share=0, training_dataset="pets-train"),
        project="pets",
    )
    review.add_predictions(
        admin,
        "fix",
        model="pet-clf",
        dataset="pets-train",
        predictions=["cat", "cat", "dog"],
        confidences=[0.9, 0.6, 0.3],
        project="pets",
    )
    ana = ctx(f, world["ana"])
    assert review_one(ana, "bird", "fix")  # the least certain (row 3) first
    review_one(ana, "dog", "fix")
    version = review_loop.commit_corrections(admin, "fix", project="pets")
    assert version is not None
    assert version.number == 2
    assert version.source == "review"
    table = ds_service.read_table(admin, "pets-train", project="pets").to_pandas()
    assert dict(zip(table["id"], table["label"], strict=True)) == {1: "cat", 2: "dog", 3: "bird"}
    edges = lineage.edges_of(admin, "dataset_version", str(_dv_id(grove_runtime, 2)), depth=1)
    kinds = {(e.from_kind, e.relation) for e in edges}
    assert ("review_queue", "corrections") in kinds
    assert ("model_version", "reviewed predictions") in kinds
    commits = review_loop.list_commits(admin, "fix", project="pets")
    assert commits[0].corrections == 2
    assert commits[0].reviewers == ["ana"]
    # Nothing new resolved: nothing to commit.
    assert review_loop.commit_corrections(admin, "fix", project="pets") is None
    with pytest.raises(Conflict, match="already committed"):
        review_assign.undo(ana, "fix", project="pets")


def _dv_id(runtime: Runtime, number: int) -> int:
    from sqlalchemy import select

    from mlgrove.store.models import DatasetVersionRow

    with runtime.db.read() as s:
        found = s.scalar(select(DatasetVersionRow.id).where(DatasetVersionRow.number == number))
        assert found is not None
        return found


def test_reviewers_cannot_change_queues(grove_factories: Factories, world: dict[str, Any]) -> None:
    f = grove_factories
    make_queue(f)
    ana = ctx(f, world["ana"])
    with pytest.raises(PermissionDenied):
        review.create_queue(ana, "mine", QueueSpec(labels=["a"]), project="pets")
    with pytest.raises(PermissionDenied):
        review.add_items(ana, "pets-q", items(1), project="pets")
    with pytest.raises(InvalidInput, match="item 1: confidence must be"):
        review.add_items(
            f.admin_ctx,
            "pets-q",
            [{"input": "ok"}, {"input": "bad", "confidence": 3}],
            project="pets",
        )
    assert review.list_items(f.admin_ctx, "pets-q", project="pets") == []  # all or nothing
    assert LOCAL_ADMIN.is_admin


def test_an_item_can_show_an_image_from_a_file_dataset(
    grove_factories: Factories, world: dict[str, Any], tmp_path: Any
) -> None:
    from mlgrove.errors import NotFound
    from mlgrove.services import filesets

    f = grove_factories
    photos = tmp_path / "photos"
    (photos / "cats").mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    (photos / "cats" / "tom.png").write_bytes(png)
    filesets.add_folder(f.admin_ctx, "pet-photos", photos, project="pets")
    make_queue(f, random_share=0)
    review.add_items(
        f.admin_ctx,
        "pets-q",
        [
            {"input": {"file": {"dataset": "pet-photos", "path": "cats/tom.png"}}},
            {"input": {"file": {"dataset": "pet-photos", "path": "cats/nope.png"}}},
        ],
        project="pets",
    )
    with pytest.raises(InvalidInput, match="file needs dataset and path"):
        review.add_items(f.admin_ctx, "pets-q", [{"input": {"file": {"x": 1}}}], project="pets")
    shown, missing = review.list_items(f.admin_ctx, "pets-q", project="pets")
    ana = ctx(f, world["ana"])
    assert review.item_file(ana, shown.id) == (png, "cats/tom.png")
    with pytest.raises(NotFound, match=r"has no file 'cats/nope\.png'"):
        review.item_file(ana, missing.id)


def test_end_user_reports_at_once_all_count_toward_the_priority(
    grove_factories: Factories, grove_runtime: Runtime, world: dict[str, Any]
) -> None:
    make_queue(grove_factories)
    review.add_items(grove_factories.admin_ctx, "pets-q", items(3), project="pets")
    key = review_feedback.create_ingest_key(grove_factories.admin_ctx, "pets-q", project="pets")
    errors: list[BaseException] = []

    def report(i: int) -> None:
        try:
            review_feedback.ingest(
                grove_runtime,
                str(key.secret),
                {"prediction_id": "p1", "rating": "down", "comment": f"{i}"},
            )
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=report, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with grove_runtime.db.read() as s:
        hits = s.scalar(
            select(ReviewItemRow.negative_feedback).where(ReviewItemRow.external_id == "p1")
        )
    assert hits == 12
    # The reported item now comes before the others in the queue.
    got = review_assign.next_item(ctx(grove_factories, world["ana"]), "pets-q", project="pets")
    assert got is not None
    assert got.item.external_id == "p1"
