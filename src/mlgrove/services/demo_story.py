"""The demo's story: the whole loop on scikit-learn's digits, and the team around it.

data -> pipeline -> model -> human review -> corrections -> new data -> retrain, then the
team layer tied to that work (feedback, a mentorship, learning time, a help request, a
design review that finds similar earlier work).

Everything here goes through the same services users call; nothing is written to the
database directly. The reviewers are simulated and say so: each has a fixed error rate,
and their verdicts are drawn from the true digit with that rate. The first labelling
pass has a known share of scrambled training labels (the demo's stand-in for a hurried
labelling job), which is what review finds. The story runs once per workspace; counts
are always read back from the store.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select

from mlgrove.domain.clock import utcnow
from mlgrove.domain.people import LOCAL_ADMIN, Person
from mlgrove.domain.review import QueueSpec
from mlgrove.errors import NotFound
from mlgrove.services import (
    datasets,
    design_reviews,
    filesets,
    growth_feedback,
    help_requests,
    learning,
    mentorship,
    people,
    pipelines,
    registry,
    retrain,
    review,
    review_assign,
    review_loop,
    splits,
    table_commit,
)
from mlgrove.services.context import Context, Runtime
from mlgrove.services.demo_pipeline import MODEL, PIXELS, predict_proba
from mlgrove.store.models import DatasetVersionRow, ModelVersionRow
from mlgrove.store.models.pipelines import PipelineRunRow
from mlgrove.store.models.review import ReviewItemRow

__all__ = [
    "CHECK_QUEUE",
    "PROJECT",
    "QUALITY_QUEUE",
    "StoryCounts",
    "counts",
    "queue_predictions",
    "tell",
]

PROJECT = "digit-recognition"
CHECK_QUEUE = "digits-label-check"
QUALITY_QUEUE = "digits-quality"
PIPELINE_PATH = "mlgrove.services.demo_pipeline:digits"
NOISE = 0.10  # share of training labels scrambled in the first labelling pass
TEST_SHARE = 0.2
QUALITY_SAMPLE = 40  # test rows whose predictions people judge, per model version
SUSPECTS = 70  # training rows sent for a label check after each model
ROUNDS = 2  # review -> correct -> retrain, twice
# Simulated reviewers and how often each gives a wrong label.
REVIEWERS = {"rita": 0.03, "rosa": 0.06, "jun": 0.10}
ADJUDICATOR = "sam"
SEED = 2026

STORY_PEOPLE = {*REVIEWERS, ADJUDICATOR, "eli", "maya", "jun", "pat", "omar"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StoryCounts:
    dataset_versions: int
    model_versions: int
    retrains: int
    reviewed_items: int


def counts(runtime: Runtime) -> StoryCounts:
    """What the workspace holds, read from the store (never what the story meant to make)."""
    with runtime.db.read() as s:
        return StoryCounts(
            dataset_versions=s.scalar(select(func.count()).select_from(DatasetVersionRow)) or 0,
            model_versions=s.scalar(select(func.count()).select_from(ModelVersionRow)) or 0,
            retrains=s.scalar(
                select(func.count())
                .select_from(PipelineRunRow)
                .where(PipelineRunRow.trigger != "manual", PipelineRunRow.status == "succeeded")
            )
            or 0,
            reviewed_items=s.scalar(
                select(func.count())
                .select_from(ReviewItemRow)
                .where(ReviewItemRow.status == "resolved")
            )
            or 0,
        )


def _actor(runtime: Runtime, username: str) -> Context:
    everyone: list[Person] = people.list_people(runtime.as_actor(LOCAL_ADMIN))
    return runtime.as_actor(next(p for p in everyone if p.username == username))


# -- data ---------------------------------------------------------------------------------


def digits_table(rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """scikit-learn's digits as a table (id, 64 pixels, label, fold) with a share of the
    training labels scrambled, and the true labels beside it."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    n = len(bunch.target)
    truth = bunch.target.astype(int)
    fold = np.where(rng.random(n) < TEST_SHARE, "test", "train")
    labels = truth.copy()
    train_idx = np.flatnonzero(fold == "train")
    noisy = rng.choice(train_idx, size=int(len(train_idx) * NOISE), replace=False)
    labels[noisy] = (truth[noisy] + rng.integers(1, 10, len(noisy))) % 10
    columns: dict[str, Any] = {"id": pa.array(np.arange(n), pa.int64())}
    for i, name in enumerate(PIXELS):
        columns[name] = pa.array(bunch.data[:, i].astype(np.int64), pa.int64())
    columns["label"] = pa.array([str(v) for v in labels], pa.string())
    columns["fold"] = pa.array(fold.tolist(), pa.string())
    return pa.table(columns), truth


def _png(pixels: np.ndarray, scale: int = 4) -> bytes:
    """An 8x8 digit (0-16) as a grayscale PNG, dark ink on white, ``scale`` times larger."""
    img = np.kron(255 - (pixels.reshape(8, 8) * 255 // 16), np.ones((scale, scale))).astype(
        np.uint8
    )
    raw = b"".join(b"\x00" + row.tobytes() for row in img)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", img.shape[1], img.shape[0], 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _images(ctx: Context, table: pa.Table) -> None:
    pixels = np.column_stack([table.column(c).to_numpy() for c in PIXELS])
    with tempfile.TemporaryDirectory() as tmp:
        for row_id, row in zip(table.column("id").to_pylist(), pixels, strict=True):
            (Path(tmp) / f"{row_id}.png").write_bytes(_png(row))
        filesets.add_folder(
            ctx,
            "digit-images",
            Path(tmp),
            project=PROJECT,
            message="The digits drawn as images, for the review screen",
        )


# -- review -------------------------------------------------------------------------------


def _model_version_id(ctx: Context, ref: str) -> tuple[int, bytes, str]:
    with ctx.db.read() as s:
        _, mv = registry.resolve_row(s, ctx, ref, PROJECT)
        model_id, address = mv.id, mv.address
    name = registry.resolve(ctx, ref, PROJECT).name
    return model_id, ctx.objects.get_bytes(address), name


def _digits_row(s: Any, ctx: Context) -> Any:
    ds = datasets.find_dataset_row(s, datasets.resolve_project(s, ctx, PROJECT).id, "digits")
    if ds is None:
        raise NotFound("the demo has no digits dataset")
    return ds


def _version_id(ctx: Context, ref: str) -> int:
    with ctx.db.read() as s:
        return datasets.version_row(s, _digits_row(s, ctx), ref).id


def _latest_ref(ctx: Context) -> str:
    with ctx.db.read() as s:
        row = datasets.latest_version_row(s, _digits_row(s, ctx).id)
        assert row is not None  # the story committed v1 first
        return f"v{row.number}"


def queue_predictions(
    ctx: Context, queue: str, model_ref: str, rows: pa.Table, dataset_ref: str
) -> int:
    model_version_id, model_bytes, model_name = _model_version_id(ctx, model_ref)
    proba = predict_proba(model_bytes, rows)
    version_id = _version_id(ctx, dataset_ref)
    items = []
    for i, row_id in enumerate(rows.column("id").to_pylist()):
        p = proba[i]
        items.append(
            {
                "id": f"{model_name}:{row_id}",
                "input": {"file": {"dataset": "digit-images", "path": f"{row_id}.png"}},
                "prediction": str(int(p.argmax())),
                "confidence": float(p.max()),
                "scores": {str(k): float(v) for k, v in enumerate(p)},
                "source": "predictions",
                "model_version_id": model_version_id,
                "dataset_version_id": version_id,
                "row_key": str(row_id),
            }
        )
    return review.add_items(ctx, queue, items, project=PROJECT)


def _simulate_reviews(
    runtime: Runtime, queue: str, truth: np.ndarray, rng: np.random.Generator, limit: int
) -> int:
    """Simulated reviewers take turns on the queue until it is empty (or ``limit``
    verdicts): each answers the true digit, or with their error rate a wrong one."""
    reviewers = {name: _actor(runtime, name) for name in REVIEWERS}
    given = 0
    idle: set[str] = set()
    while given < limit and len(idle) < len(reviewers):
        for name, ctx in reviewers.items():
            if name in idle:
                continue
            assignment = review_assign.next_item(ctx, queue, project=PROJECT)
            if assignment is None:
                idle.add(name)
                continue
            item = assignment.item
            true = int(truth[int(item.source_row_key or 0)])
            wrong = rng.random() < REVIEWERS[name]
            answer = (true + int(rng.integers(1, 10))) % 10 if wrong else true
            review_assign.submit(
                ctx,
                item.id,
                {"label": str(answer)},
                seconds=float(rng.uniform(2.5, 14.0)),
                improve="stroke is faint; could be read either way" if wrong else "",
            )
            given += 1
    # Disagreements go to the adjudicator, who looks closely (and so gets them right).
    judge = _actor(runtime, ADJUDICATOR)
    for item in review.list_items(judge, queue, project=PROJECT, status="conflict", limit=10_000):
        true = int(truth[int(item.source_row_key or 0)])
        review_assign.adjudicate(judge, item.id, {"label": str(true)})
    return given


def _suspects(rows: pa.Table, proba: np.ndarray, checked: set[int]) -> pa.Table:
    """Training rows most worth a second look: where the model disagrees with the stored
    label most strongly (low probability for the stored label), not checked before."""
    stored = np.array([int(v) for v in rows.column("label").to_pylist()])
    p_stored = proba[np.arange(len(stored)), stored]
    fresh = np.array([i not in checked for i in rows.column("id").to_pylist()])
    p_stored = np.where(fresh, p_stored, np.inf)
    order = np.argsort(p_stored)[: min(SUSPECTS, int(fresh.sum()))]
    return rows.take(pa.array(np.sort(order)))


# -- the team -----------------------------------------------------------------------------


def _team_layer(runtime: Runtime, progress: Progress) -> None:
    now = utcnow()
    maya, sam, eli, jun = (_actor(runtime, n) for n in ("maya", "sam", "eli", "jun"))
    pat, omar = _actor(runtime, "pat"), _actor(runtime, "omar")
    growth_feedback.give_feedback(
        sam,
        "eli",
        technical="Situation: the digits retrain. Behaviour: you pinned the test split to v1 "
        "before the reviewed labels landed. Impact: both model versions were scored on the "
        "same rows, so the promotion decision means something.",
        collaboration="Situation: the label-check queue. Behaviour: you wrote clear review "
        "instructions with examples. Impact: the reviewers agreed far more often.",
        about="review-queue:" + CHECK_QUEUE,
        competencies=["data-management", "communication"],
        visibility="receiver+manager",
    )
    growth_feedback.give_feedback(
        maya,
        "rita",
        collaboration="Situation: the first review round. Behaviour: you flagged faint strokes "
        "in the 'what should improve' box instead of guessing. Impact: we found a scanner "
        "problem, not just label noise.",
        about="review-queue:" + CHECK_QUEUE,
        visibility="receiver",
    )
    growth_feedback.give_feedback(
        eli,
        "jun",
        technical="Situation: your first pipeline run. Behaviour: you read the step cache "
        "status before forcing a re-run. Impact: the retrain took seconds, not minutes.",
        about="model:" + MODEL + "@v2",
        competencies=["production-ml"],
    )
    progress("feedback on both axes, tied to the runs and the review queue")

    mentorship.offer(sam, ["modelling", "production-ml", "mentoring"], 2)
    mentorship.offer(omar, ["software-craft", "data-management"], 1)
    mentorship.set_goals(jun, ["modelling", "production-ml"], "Ship my first retrain on my own")
    proposals = mentorship.propose(maya)
    chosen = [(p.mentor, p.mentee) for p in proposals if p.mentee == "jun"][:1]
    pairs = mentorship.approve(maya, chosen or [("sam", "jun")])
    mentorship.log_session(
        sam, pairs[0].id, 45, "Walked through the retrain rule and the promotion policy together."
    )
    progress(f"a mentorship: {pairs[0].mentor} mentors {pairs[0].mentee}")

    learning.set_budget(maya, "Applied ML", "share", share=0.1)
    learning.add_event(
        maya,
        "learning-day",
        "Sprint-end learning day",
        now + timedelta(days=9),
        team="Applied ML",
        topic="Label noise and how to find it",
    )
    event = learning.add_event(
        maya,
        "lunch-and-learn",
        "What the review queue taught us",
        now + timedelta(days=3),
        team="Applied ML",
        topic="Reviewer agreement and gold items",
        presenter="eli",
    )
    learning.log(jun, 3.0, "Krippendorff's alpha, read and tried", competency="modelling")
    learning.log(eli, 1.0, "Preparing the lunch-and-learn", event_id=event.id)
    progress("a learning budget, a learning day and a lunch-and-learn")

    asked = help_requests.ask(
        jun,
        "The retrain rule does not fire after my commit",
        context="I committed new rows to digits, but the worker says the rule is not met.",
        dataset=f"{PROJECT}/digits",
        stuck_since=now - timedelta(hours=3),
    )
    answered = help_requests.respond(
        sam,
        asked.id,
        "The rule wants at least 0.25% of rows changed; your commit touched 3 rows. "
        "`mlgrove pipeline status digits` shows it.",
    )
    help_requests.resolve(jun, asked.id, thank=[answered.responses[0].id])
    progress("a help request, answered and thanked")

    design_reviews.add_design(
        omar,
        "Detecting mislabelled images with model disagreement",
        "Flag training images whose label the model strongly disagrees with and send them "
        "to human review before retraining; measure label noise per batch.",
        team="Platform",
        datasets=[f"{PROJECT}/digits"],
    )
    found = design_reviews.add_design(
        eli,
        "Finding wrong digit labels before retraining",
        "Send the training rows where the classifier disagrees with the stored label to a "
        "review queue, commit the corrected labels and retrain on them.",
        team="Applied ML",
        datasets=[f"{PROJECT}/digits"],
    )
    review_ = design_reviews.schedule_review(
        eli,
        "Design review: finding wrong labels",
        now + timedelta(days=5),
        abstract="How the digits label check works and what it found.",
        presenter="eli",
        team="Applied ML",
        invite=["Platform"],
        design_id=found.design.id,
    )
    design_reviews.attend(pat, review_.id)
    design_reviews.add_feedback(
        pat, review_.id, "Platform built something close last year: let's share the tooling."
    )
    similar = len(found.similar)
    progress(f"a design review that found {similar} similar earlier design(s)")


# -- the story ----------------------------------------------------------------------------


def tell(runtime: Runtime, progress: Progress) -> StoryCounts:
    """Play the loop once (a workspace that has it already is left as it is)."""
    eli = _actor(runtime, "eli")
    if any(d.name == "digits" for d, _ in datasets.list_datasets(eli, PROJECT)):
        progress("the story is already here; nothing to redo")
        return counts(runtime)
    if not {p.username for p in people.list_people(eli)} >= STORY_PEOPLE:
        raise NotFound("the demo story needs the demo team", hint="build it with build_demo")
    rng = np.random.default_rng(SEED)
    table, truth = digits_table(rng)
    table_commit.commit(
        eli,
        "digits",
        table,
        project=PROJECT,
        key=["id"],
        label="label",
        message=f"First labelling pass (demo: {NOISE:.0%} of training labels deliberately "
        "scrambled, for review to find)",
    )
    splits.split(eli, "digits", "v1", column="fold", project=PROJECT)
    _images(eli, table)
    progress(f"digits v1: {table.num_rows} rows, split by fold, with images")

    pipelines.register(eli, PIPELINE_PATH, project=PROJECT)
    pipelines.run(eli, PIPELINE_PATH, project=PROJECT, executor="inline", reason="first model")
    progress(f"pipeline digits ran by hand: {MODEL} v1 is production")

    test_rows = splits.split_rows(eli, "digits", "v1", "test", PROJECT)
    review.create_queue(
        eli,
        CHECK_QUEUE,
        QueueSpec(
            labels=[str(d) for d in range(10)],
            overlap=2,
            uncertainty="margin",  # type: ignore[arg-type]  # checked into the enum
            random_share=0.05,
            instructions="Which digit is drawn? Pick the digit you see, not the one predicted. "
            "Use 'what should improve' when the image itself is the problem.",
            training_dataset="digits",
        ),
        project=PROJECT,
    )
    review.create_queue(
        eli,
        QUALITY_QUEUE,
        QueueSpec(
            labels=[str(d) for d in range(10)],
            overlap=2,
            random_share=1.0,
            instructions="Which digit is drawn? (Judging model output on held-out images.)",
        ),
        project=PROJECT,
    )
    sample = test_rows.take(
        pa.array(np.sort(rng.choice(test_rows.num_rows, QUALITY_SAMPLE, replace=False)))
    )
    checked: set[int] = set()
    for version in range(1, ROUNDS + 1):
        model_ref = f"{MODEL}/v{version}"
        queue_predictions(eli, QUALITY_QUEUE, model_ref, sample, "v1")
        _simulate_reviews(runtime, QUALITY_QUEUE, truth, rng, limit=10_000)
        progress(f"people judged {model_ref}'s output on {QUALITY_SAMPLE} held-out images")

        latest = _latest_ref(eli)
        train_rows = splits.split_rows(eli, "digits", latest, "train", PROJECT)
        _, model_bytes, _ = _model_version_id(eli, model_ref)
        suspects = _suspects(train_rows, predict_proba(model_bytes, train_rows), checked)
        checked.update(suspects.column("id").to_pylist())
        queue_predictions(eli, CHECK_QUEUE, model_ref, suspects, latest)
        given = _simulate_reviews(runtime, CHECK_QUEUE, truth, rng, limit=10_000)
        progress(
            f"simulated reviewers gave {given} verdicts on the {suspects.num_rows} training "
            f"labels {model_ref} doubts most"
        )
        committed = review_loop.commit_corrections(
            eli, CHECK_QUEUE, project=PROJECT, message=f"Labels corrected in review round {version}"
        )
        if committed is None:
            progress("review confirmed every label: nothing to commit, nothing to retrain")
            break
        progress(f"corrections committed as digits v{committed.number}")
        for d in retrain.check(eli, executor="inline"):
            progress(f"{d.kind} {d.outcome}: {d.reason}")
    else:
        final = f"{MODEL}/v{ROUNDS + 1}"
        try:
            queue_predictions(eli, QUALITY_QUEUE, final, sample, "v1")
            _simulate_reviews(runtime, QUALITY_QUEUE, truth, rng, limit=10_000)
            progress(f"people judged {final}'s output on the same held-out images")
        except NotFound:
            progress(f"no {final} was trained, so there is nothing new to judge")

    _team_layer(runtime, progress)
    return counts(runtime)
