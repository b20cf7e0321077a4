"""The whole loop in a real browser: a new reviewer closes it with the keyboard.

On the demo workspace (built once for the module), a person who has never used Grove
logs in, reviews five digits with the keyboard only, and, after the corrections are
committed and the worker's next tick retrains, sees on the dashboard the new dataset
version, the retrain with its reason and the new model version's quality.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.domain.review import QueueSpec
from mlgrove.services import datasets, people, review, review_loop
from mlgrove.services.context import Runtime
from mlgrove.services.demo import build_demo
from mlgrove.services.demo_pipeline import MODEL
from mlgrove.services.demo_story import PROJECT, queue_predictions
from mlgrove.services.worker import Worker
from mlgrove.testing.live import serve

pytestmark = pytest.mark.browser

QUEUE = "digits-fresh-eyes"
PASSWORD = "first-day-at-grove"


@pytest.fixture(scope="module")
def demo_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    ws, _ = build_demo(tmp_path_factory.mktemp("loop") / "grove-demo")
    runtime = Runtime.open(ws.settings())
    yield runtime
    runtime.close()


def _truth() -> np.ndarray:
    from sklearn.datasets import load_digits

    truth: np.ndarray = load_digits().target
    return truth


def _login(page: Any, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")


def test_a_new_reviewer_closes_the_loop_with_the_keyboard(
    demo_runtime: Runtime, grove_page: Any, tmp_path: Path
) -> None:
    admin = demo_runtime.as_actor(LOCAL_ADMIN)
    people.create_person(
        admin,
        "nia",
        role="reviewer",
        password=PASSWORD,
        display_name="Nia Newcomer",
        team="Applied ML",
        manager="maya",
    )
    eli = demo_runtime.as_actor(next(p for p in people.list_people(admin) if p.username == "eli"))
    # Five training labels the demo's review rounds did not reach: still wrong.
    truth = _truth()
    latest = datasets.read_table(eli, "digits", "latest", PROJECT)
    stored = [int(v) for v in latest.column("label").to_pylist()]
    ids = latest.column("id").to_pylist()
    wrong = [
        i for i, (row, label) in enumerate(zip(ids, stored, strict=True)) if truth[row] != label
    ]
    assert len(wrong) >= 5, "the demo leaves some scrambled labels for newcomers"
    before = max(v.number for v in datasets.log(eli, "digits", PROJECT))
    review.create_queue(
        eli,
        QUEUE,
        QueueSpec(labels=[str(d) for d in range(10)], overlap=1, training_dataset="digits"),
        project=PROJECT,
    )
    queue_predictions(eli, QUEUE, f"{MODEL}@production", latest.take(wrong[:5]), f"v{before}")

    page = grove_page
    with serve(demo_runtime) as url:
        _login(page, url, "nia")
        page.goto(f"{url}/review/{PROJECT}/{QUEUE}")
        for done in range(1, 6):
            item = page.get_by_test_id("item-id")
            page.wait_for_function("el => el.textContent.includes(':')", arg=item.element_handle())
            row = int(item.inner_text().rsplit(":", 1)[1])
            page.keyboard.press(str(truth[row]))  # the digit key picks that digit
            page.keyboard.press("Enter")
            if done < 5:
                page.get_by_test_id("progress").filter(has_text=f"{done} of 5 done").wait_for()
        page.get_by_text("Nothing left for you in this queue").wait_for()

        # The engineer commits the corrections; the worker's next tick retrains.
        committed = review_loop.commit_corrections(eli, QUEUE, project=PROJECT)
        assert committed is not None
        assert committed.number == before + 1
        Worker(demo_runtime, executor="inline").tick()

        page.goto(url + "/")
        data = page.get_by_test_id("dash-data")
        assert f"digits v{before + 1}" in data.inner_text()
        retrains = page.get_by_test_id("dash-retrains").inner_text()
        assert f"digits v{before} → v{before + 1}" in retrains
        versions = page.get_by_test_id("dash-model-versions").inner_text()
        newest = max(int(v) for v in _model_numbers(versions))
        assert newest >= 4
        assert f"{MODEL}/v{newest}" in versions
        assert "accuracy" in versions.split(f"{MODEL}/v{newest}", 1)[1].split(MODEL, 1)[0]
        assert page.get_by_test_id("quality-chart").count() == 1

        # The model page puts people's judgement beside the automatic scores.
        page.get_by_test_id("dash-model-versions").get_by_role("link").first.click()
        judged = page.get_by_test_id("judgements").inner_text()
        for version in range(1, 4):
            assert f"v{version}\tdigits-quality" in judged


def _model_numbers(text: str) -> list[str]:
    import re

    return re.findall(rf"{MODEL}/v(\d+)", text)
