"""The review REST API on a real HTTP server: queues, the reviewing loop, statistics, and
end-user feedback with a write-only ingest key (401, 413, 429)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mlgrove.errors import NotFound
from mlgrove.services import review_feedback
from mlgrove.testing.factories import Factories

API = "/api/v1"


@pytest.fixture
def people(grove_factories: Factories) -> dict[str, Any]:
    made = grove_factories.world(
        {
            "teams": ["Support"],
            "people": {
                "maya": {"role": "manager", "team": "Support"},
                "ana": {"role": "reviewer", "team": "Support", "manager": "maya"},
                "bo": {"role": "reviewer", "team": "Support"},
            },
            "projects": {"helpdesk": "Support"},
        }
    )
    return {
        name: {"Authorization": f"Bearer {grove_factories.token(made[name]).secret}"}
        for name in ("maya", "ana", "bo")
    }


def test_review_loop_over_http(grove_live_server: str, people: dict[str, Any]) -> None:
    with httpx.Client(base_url=grove_live_server + API, timeout=30) as http:
        maya, ana, bo = people["maya"], people["ana"], people["bo"]
        made = http.post(
            "/review/queues",
            json={
                "name": "tickets",
                "labels": ["bug", "question"],
                "overlap": 2,
                "random_share": 0,
                "instructions": "Is it a bug?",
                "project": "helpdesk",
            },
            headers=maya,
        )
        assert made.status_code == 201, made.text
        refused = http.post("/review/queues", json={"name": "x", "labels": ["a"]}, headers=ana)
        assert refused.status_code == 403
        bad = http.post(
            "/review/queues/tickets/items",
            json={"items": [{"input": "ok"}, {"input": "x", "prediction": "feature"}]},
            headers=maya,
        )
        assert bad.status_code == 400
        assert bad.headers["content-type"] == "application/problem+json"
        assert (
            "item 1: prediction 'feature' is not in the queue's label set" in bad.json()["detail"]
        )
        added = http.post(
            "/review/queues/tickets/items",
            json={
                "items": [
                    {"id": "t1", "input": "crash on save", "prediction": "bug", "confidence": 0.55}
                ]
            },
            headers=maya,
        )
        assert added.json() == {"added": 1}

        got = http.post("/review/queues/tickets/next", headers=ana).json()
        item_id = got["item"]["id"]
        assert (got["done"], got["total"]) == (0, 1)
        other = http.post(
            f"/review/items/{item_id}/verdict", json={"answer": {"label": "bug"}}, headers=bo
        )
        assert other.status_code == 409
        assert "not leased to you" in other.json()["detail"]
        outside = http.post(
            f"/review/items/{item_id}/verdict", json={"answer": {"label": "spam"}}, headers=ana
        )
        assert outside.status_code == 400
        body = {"answer": {"label": "bug"}, "improve": "log the stack", "submit_key": "s1"}
        first = http.post(f"/review/items/{item_id}/verdict", json=body, headers=ana)
        again = http.post(f"/review/items/{item_id}/verdict", json=body, headers=ana)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert http.post("/review/queues/tickets/next", headers=ana).status_code == 204
        assert http.post("/review/queues/tickets/next", headers=bo).json()["item"]["id"] == item_id
        http.post(
            f"/review/items/{item_id}/verdict", json={"answer": {"label": "question"}}, headers=bo
        )

        shown = http.get("/review/queues/tickets", headers=ana).json()
        assert shown["progress"] == {"total": 1, "open": 0, "conflict": 1, "resolved": 0}
        agreement = http.get("/review/queues/tickets/agreement?resamples=50", headers=ana).json()
        assert agreement["items"] == 1
        assert agreement["percent_agreement"]["value"] == 0.0
        assert (
            http.post(
                f"/review/items/{item_id}/adjudicate",
                json={"answer": {"label": "bug"}},
                headers=maya,
            ).status_code
            == 204
        )
        assert http.get("/review/queues/tickets", headers=ana).json()["progress"]["resolved"] == 1
        mine = http.get("/review/queues/tickets/coaching/ana", headers=ana)
        assert mine.status_code == 200
        assert http.get("/review/queues/tickets/coaching/ana", headers=bo).status_code == 403
        assert http.get("/review/queues/tickets/quality", headers=ana).json() == {"models": []}


def test_feedback_ingest_key(
    grove_live_server: str, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review_feedback, "RATE_PER_MINUTE", 20)  # the server's limiter
    with httpx.Client(base_url=grove_live_server + API, timeout=30) as http:
        maya = people["maya"]
        http.post(
            "/review/queues",
            json={"name": "answers", "task_type": "correct", "project": "helpdesk"},
            headers=maya,
        )
        made = http.post("/review/queues/answers/ingest-keys", headers=maya)
        assert made.status_code == 201
        key = made.json()["key"]
        send = {"X-Grove-Ingest-Key": key}

        wrong = http.post(
            "/review/feedback",
            json={"prediction_id": "p1", "rating": 1},
            headers={"X-Grove-Ingest-Key": key[:-2] + "xx"},
        )
        assert wrong.status_code == 401
        assert http.post("/review/feedback", json={"prediction_id": "p1"}).status_code == 401
        # The key writes feedback and nothing else: it is no API token.
        assert (
            http.get("/review/queues", headers={"Authorization": f"Bearer {key}"}).status_code
            == 401
        )

        huge = http.post(
            "/review/feedback", json={"prediction_id": "p1", "comment": "x" * 20_000}, headers=send
        )
        assert huge.status_code == 413
        assert huge.headers["content-type"] == "application/problem+json"
        empty = http.post("/review/feedback", json={"prediction_id": "p1"}, headers=send)
        assert empty.status_code == 400
        assert "at least one of rating, comment or correction" in empty.json()["detail"]

        ok = http.post(
            "/review/feedback",
            json={
                "prediction_id": "p1",
                "rating": "down",
                "comment": "<b>wrong</b>",
                "input": {"text": "What is 2+2?"},
            },
            headers=send,
        )
        assert ok.status_code == 202, ok.text
        assert ok.json()["new_item"] is True
        assert ok.json()["negative"] is True
        items = http.get("/review/queues/answers/items", headers=maya).json()["items"]
        assert items[0]["input"] == {"text": "What is 2+2?"}
        assert items[0]["source"] == "feedback"
        assert items[0]["priority"] > 2  # negative feedback comes before uncertainty
        again = http.post(
            "/review/feedback", json={"prediction_id": "p1", "rating": 5}, headers=send
        ).json()
        assert again == {"item": items[0]["id"], "new_item": False, "negative": False}

        limited = 0
        for _ in range(25):
            r = http.post(
                "/review/feedback", json={"prediction_id": "p2", "rating": 4}, headers=send
            )
            limited += r.status_code == 429
        assert limited >= 5
        assert r.status_code == 429
        assert r.headers["retry-after"] == "1"


def test_remote_sdk_gives_what_the_embedded_one_gives(
    grove_live_server: str, people: dict[str, Any], grove_factories: Factories
) -> None:
    import tempfile
    from pathlib import Path

    import pandas as pd

    import mlgrove
    from mlgrove.services import registry, table_commit, tracking

    admin = grove_factories.admin_ctx
    table_commit.commit(
        admin,
        "tickets",
        pd.DataFrame({"id": [1, 2], "text": ["crash", "how?"], "label": ["bug", "bug"]}),
        project="helpdesk",
        key=["id"],
        label="label",
    )
    run = tracking.start_run(admin, "helpdesk")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "m.bin").write_bytes(b"m")
        tracking.log_artifact(admin, run.id, Path(tmp) / "m.bin")
    registry.register(admin, "triage", run.id, "m.bin", project="helpdesk")

    maya_token = people["maya"]["Authorization"].split()[1]
    ana_token = people["ana"]["Authorization"].split()[1]
    with mlgrove.connect(grove_live_server, token=maya_token) as grove:
        assert grove.mode == "remote"
        q = grove.review.create_queue(
            "fix",
            labels=["bug", "question"],
            random_share=1.0,
            training_dataset="tickets",
            project="helpdesk",
        )
        added = q.add_predictions(
            model="triage",
            dataset="tickets",
            predictions=["bug", "bug"],
            confidences=[0.9, 0.4],
            input_column="text",
        )
        assert added == 2
        assert q.info().labels == ["bug", "question"]
    with mlgrove.connect(grove_live_server, token=ana_token) as grove:
        q = grove.review.queue("fix", project="helpdesk")
        first = q.next()
        assert first is not None
        assert first.item.input == {"text": "how?"}  # the less certain first
        q.submit(first.item.id, {"label": "question"}, improve="it asks", submit_key="k")
        assert q.submit(first.item.id, {"label": "question"}, submit_key="k").improve == "it asks"
        back = q.undo()
        assert back.item.id == first.item.id
        q.submit(first.item.id, {"label": "question"})
        second = q.next()
        assert second is not None
        q.skip(second.item.id)
        assert q.next() is None
        assert q.coaching("ana").gold_items == 0
    with mlgrove.connect(grove_live_server, token=maya_token) as grove:
        q = grove.review.queue("fix", project="helpdesk")
        [quality] = q.quality()
        assert quality.accept_rate.value == 0.0
        assert quality.accept_rate.n == 1
        version = q.commit_corrections()
        assert version is not None
        assert (version.dataset, version.number, version.source) == ("tickets", 2, "review")
        assert grove.review.commits("fix", project="helpdesk")[0].reviewers == ["ana"]
        assert q.agreement(resamples=10).items == 0
        summary = grove.review.import_label_studio(
            "imported",
            [
                {
                    "id": 7,
                    "data": {"text": "t"},
                    "annotations": [
                        {
                            "completed_by": 3,
                            "result": [{"type": "choices", "value": {"choices": ["x"]}}],
                        }
                    ],
                }
            ],
            project="helpdesk",
        )
        assert (summary.created, summary.verdicts) == (True, 1)
        exported = list(grove.review.export("imported", project="helpdesk"))
        assert exported[0]["annotations"][0]["completed_by"] == "label-studio:3"
        resolved = list(grove.review.export("imported", "jsonl", project="helpdesk"))
        assert [r["label"] for r in resolved] == ["x"]
        with pytest.raises(NotFound, match="no review queue 'nope'"):
            list(grove.review.export("nope", project="helpdesk"))
