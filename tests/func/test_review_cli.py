"""`mlgrove review ...`: Label Studio import and export, agreement, the --json contract;
import into a queue that has items, on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mlgrove
from mlgrove.cli.main import run
from mlgrove.domain.review import ItemStatus, QueueSpec
from mlgrove.errors import Conflict, InvalidInput
from mlgrove.services import review, review_io
from mlgrove.testing.factories import Factories
from mlgrove.workspace import Workspace

# Krippendorff (2011)'s reliability data as Label Studio tasks: four annotators rate
# twelve units 1-5 ("choices"), with missing values. Published alpha: nominal 0.743,
# ordinal 0.815, interval 0.849, ratio 0.797.
_ = None
RATINGS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
ANNOTATORS: list[Any] = [7, {"id": 8, "email": "bo@example.org"}, "cy@example.org", 9]


def _choices(value: str) -> list[dict[str, Any]]:
    return [
        {"from_name": "score", "to_name": "text", "type": "choices", "value": {"choices": [value]}}
    ]


def ls_tasks() -> list[dict[str, Any]]:
    tasks = []
    for unit in range(12):
        annotations = [
            {
                "completed_by": ANNOTATORS[coder],
                "result": _choices(str(RATINGS[coder][unit])),
                "lead_time": 4.5,
            }
            for coder in range(4)
            if RATINGS[coder][unit] is not None
        ]
        tasks.append(
            {
                "id": 100 + unit,
                "data": {"text": f"unit {unit} <script>alert(1)</script>"},
                "annotations": annotations,
                "predictions": [{"model_version": "m1", "score": 0.6, "result": _choices("3")}],
            }
        )
    return tasks


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    code = run([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return dict(json.loads(captured.out))


def test_import_agreement_export_round_trip(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.create_team("Rating")
        grove.create_person("cy", role="reviewer", email="cy@example.org", team="Rating")
    src = tmp_path / "ls.json"
    src.write_text(json.dumps(ls_tasks()))
    imported = _json(capsys, "review", "import", "units", str(src), "--format", "label-studio")
    assert imported["created"] is True
    assert (imported["items"], imported["verdicts"], imported["predictions"]) == (12, 41, 12)
    # cy is a Grove person (matched by email); the others are kept as external identities.
    assert imported["external_reviewers"] == [
        "bo@example.org",
        "label-studio:7",
        "label-studio:9",
    ]

    published = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
    for level, alpha in published.items():
        got = _json(capsys, "review", "agreement", "units", "--level", level, "--resamples", "200")
        assert got["items"] == 11
        assert got["krippendorff_alpha"] == pytest.approx(alpha, abs=5e-4)
        low, high = got["krippendorff_alpha_ci"]
        assert low < got["krippendorff_alpha"] <= high
        assert set(got) >= {"fleiss_kappa", "percent_agreement", "fleiss_kappa_ci"}
        assert got["percent_agreement"] == pytest.approx(0.818, abs=5e-4)

    out = tmp_path / "out.json"
    assert run(["review", "export", "units", str(out), "--format", "label-studio"]) == 0
    exported = json.loads(out.read_text())
    assert [t["id"] for t in exported] == [100 + u for u in range(12)]
    assert exported[0]["data"]["text"] == "unit 0 <script>alert(1)</script>"
    assert exported[0]["predictions"][0]["score"] == 0.6
    assert len(exported[1]["annotations"]) == 4
    # What Grove exports, Grove (and Label Studio) imports again: the same statistics.
    assert run(["review", "import", "again", str(out), "--format", "label-studio"]) == 0
    again = _json(capsys, "review", "agreement", "again", "--level", "ordinal")
    assert again["krippendorff_alpha"] == pytest.approx(0.815, abs=5e-4)

    lines = tmp_path / "resolved.jsonl"
    assert run(["review", "export", "units", str(lines), "--format", "jsonl"]) == 0
    resolved = [json.loads(line) for line in lines.read_text().splitlines()]
    # The queue's overlap is the most annotators a task had (4): units rated four times
    # with a strict majority are resolved; 105 (1, 2, 3, 4) waits for an adjudicator,
    # 100 (three ratings) for a fourth reviewer.
    labels = {r["id"]: r["label"] for r in resolved}
    assert labels == {
        "101": "2",
        "102": "3",
        "103": "3",
        "104": "2",
        "106": "4",
        "107": "1",
        "108": "2",
    }
    assert all(r["resolved_by"] == "consensus" for r in resolved)
    assert resolved[0]["reviewers"] == ["label-studio:7", "bo@example.org", "cy", "label-studio:9"]


def test_malformed_import_names_the_task_and_field(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ls_tasks()[:3]
    bad[2]["annotations"][1]["result"][0]["value"] = {"choices": "3"}
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(bad))
    capsys.readouterr()
    assert run(["review", "import", "units", str(src), "--format", "label-studio"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "task 2 (id 102): annotations[1].result[0].value.choices" in err
    # Nothing was written: not the queue, not even the workspace's first project.
    assert run(["review", "agreement", "units"]) == 1
    assert "there are no projects yet" in capsys.readouterr().err

    src.write_text("{not json")
    assert run(["review", "import", "units", str(src), "--format", "label-studio"]) == 1
    assert "is not valid JSON" in capsys.readouterr().err
    assert run(["review", "import", "units", str(src), "--format", "csv"]) == 1
    assert "use --format label-studio" in capsys.readouterr().err

    # A label outside an existing queue's label set is refused, naming the task.
    with mlgrove.connect(grove_workspace.root) as grove:
        grove.review.create_queue("strict", labels=["1", "2", "3"])
    src.write_text(json.dumps(ls_tasks()))
    assert run(["review", "import", "strict", str(src), "--format", "label-studio"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "mlgrove: error: task 5 (id 105): annotations[3]: label '4' is not in this queue's "
        "label set (use one of: 1, 2, 3)\n"
    )
    assert run(["review", "agreement", "strict", "--level", "loud"]) == 1
    assert "unknown level 'loud'" in capsys.readouterr().err


def test_queue_commands_and_sdk_handle(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    made = _json(capsys, "review", "create", "triage", "--labels", "spam,ham", "--overlap", "2")
    assert (made["labels"], made["overlap"]) == (["spam", "ham"], 2)
    with mlgrove.connect(grove_workspace.root) as grove:
        q = grove.review.queue("triage")
        assert q.add_items([{"input": "win money", "prediction": "spam"}]) == 1
        got = q.next()
        assert got is not None
        assert got.item.input == {"text": "win money"}
        q.submit(got.item.id, {"label": "spam"})
    listed = _json(capsys, "review", "queues")
    assert [x["name"] for x in listed["queues"]] == ["triage"]
    key = _json(capsys, "review", "ingest-key", "triage")
    assert key["key"].startswith("grove_ingest_")
    assert run(["review", "commit", "triage"]) == 1
    assert "queue 'triage' has no training dataset" in capsys.readouterr().err


def test_import_into_a_queue_that_has_items_is_all_or_nothing(
    grove_factories: Factories,
) -> None:
    ctx = grove_factories.admin_ctx
    grove_factories.project("rating")
    spec = QueueSpec(labels=["1", "2", "3", "4", "5"], overlap=2)
    review.create_queue(ctx, "units", spec, project="rating")
    review.add_items(ctx, "units", [{"id": "own", "input": "made by hand"}], project="rating")
    tasks = ls_tasks()[1:4]
    # One annotator changed their mind on task 101: only their last answer counts.
    tasks[0]["annotations"].append({"completed_by": 7, "result": _choices("5")})
    summary = review_io.import_label_studio(ctx, "units", tasks, project="rating")
    assert (summary.created, summary.tasks, summary.verdicts) == (False, 3, 12)
    items = review.list_items(ctx, "units", project="rating")
    assert [i.external_id for i in items] == ["own", "101", "102", "103"]
    assert [i.verdicts for i in items] == [0, 4, 4, 4]
    assert (items[1].prediction, items[1].confidence, items[1].source) == ("3", 0.6, "import")
    assert items[1].input == {"text": "unit 1 <script>alert(1)</script>"}
    # Task 102: four annotators said 3, so it is resolved; 101 (5, 2, 3, 2) is a conflict.
    assert (items[2].status, items[2].answer) == (ItemStatus.RESOLVED, {"labels": ["3"]})
    assert items[1].status is ItemStatus.CONFLICT
    progress = review.progress(ctx, "units", project="rating")
    assert (progress.total, progress.resolved, progress.conflict) == (4, 2, 1)
    exported = {t["id"]: t for t in review_io.export(ctx, "units", project="rating")}
    by_reviewer = {a["completed_by"]: a for a in exported[101]["annotations"]}
    assert by_reviewer["label-studio:7"]["result"][0]["value"]["choices"] == ["5"]

    # A clash with an id already in the queue, or a bad task after good ones, writes
    # nothing: not the good tasks before it, not a new reviewer identity.
    newcomer = {"completed_by": "newcomer", "result": _choices("1")}
    again = [{"id": 900, "data": {"text": "new"}, "annotations": [newcomer]}, *ls_tasks()[1:2]]
    with pytest.raises(Conflict, match="already has an item with id '101'"):
        review_io.import_label_studio(ctx, "units", again, project="rating")
    again[1] = {"id": 901, "data": {"text": "x"}, "predictions": [{"score": 2, "result": []}]}
    with pytest.raises(InvalidInput, match=r"task 1 \(id 901\): predictions\[0\].score"):
        review_io.import_label_studio(ctx, "units", again, project="rating")
    assert len(review.list_items(ctx, "units", project="rating")) == 4
    names = {
        a["completed_by"]
        for t in review_io.export(ctx, "units", project="rating")
        for a in t["annotations"]
    }
    assert "newcomer" not in names
