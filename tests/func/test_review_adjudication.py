"""The "queue done" page and the adjudication page over plain HTTP (both databases):
what each shows, who may decide, CSRF on the decision, and text shown as text."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mlgrove.domain.review import ItemStatus, QueueSpec
from mlgrove.services import review, review_assign
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HOSTILE = "<script>alert(1)</script> free <b>money</b>"


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    made = grove_factories.world(
        {
            "teams": ["Support"],
            "people": {
                "maya": {"role": "manager", "team": "Support"},
                "ana": {"role": "reviewer", "team": "Support", "manager": "maya"},
                "bo": {"role": "reviewer", "team": "Support", "manager": "maya"},
            },
            "projects": {"helpdesk": "Support"},
        }
    )
    admin = grove_factories.admin_ctx
    spec = QueueSpec(labels=["spam", "ham", "<i>other</i>"], overlap=2, random_share=0)
    review.create_queue(admin, "inbox", spec, project="helpdesk")
    items = [
        {"id": "m1", "input": HOSTILE, "prediction": "spam", "confidence": 0.5},
        {"id": "m2", "input": "lunch?", "prediction": "ham", "confidence": 0.6},
        {"id": "m3", "input": "hello", "prediction": "ham", "confidence": 0.9},
    ]
    review.add_items(admin, "inbox", items, project="helpdesk")
    # ana and bo disagree on m1 and m2 (conflicts) and agree on m3.
    answers = {"ana": ["spam", "ham", "ham"], "bo": ["ham", "<i>other</i>", "ham"]}
    for who, labels in answers.items():
        c = grove_factories.ctx(made[who])
        for _ in labels:
            got = review_assign.next_item(c, "inbox", project="helpdesk")
            assert got is not None
            label = labels[int(got.item.external_id[1]) - 1]
            review_assign.submit(c, got.item.id, {"labels": [label]}, improve=f"<u>{who}</u> says")
    return made


@contextlib.contextmanager
def client(url: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as c:
        token = CSRF.search(c.get("/login").text)
        assert token
        r = c.post(
            "/login",
            data={"csrf_token": token.group(1), "username": username, "password": DEFAULT_PASSWORD},
        )
        assert r.status_code == 303
        yield c


@pytest.fixture
def maya(grove_live_server: str, world: dict[str, Any]) -> Iterator[httpx.Client]:
    with client(grove_live_server, "maya") as c:
        yield c


def test_done_page_says_what_you_did_and_what_is_left(
    grove_live_server: str, world: dict[str, Any]
) -> None:
    with client(grove_live_server, "ana") as ana:
        page = ana.get("/review/helpdesk/inbox/done")
        assert page.status_code == 200
        text = page.text
        assert "inbox: all done for you" in text
        assert re.search(r'data-testid="reviewed-by-me">3<', text)
        assert re.search(r'data-testid="resolved">1 of 3<', text)
        assert "0 waiting for other reviewers' verdicts, 2 for an adjudicator" in text
        assert 'href="/review"' in text
        # A reviewer is not offered the conflicts: they may not decide them.
        assert "to-conflicts" not in text
        assert ana.get("/review/helpdesk/inbox/conflicts").status_code == 403
        assert "conflicts-link" not in ana.get("/review/helpdesk/inbox").text
        assert "/conflicts" not in ana.get("/review").text
    with client(grove_live_server, "maya") as maya:
        text = maya.get("/review/helpdesk/inbox/done").text
        assert re.search(r'data-testid="reviewed-by-me">0<', text)
        assert 'href="/review/helpdesk/inbox/conflicts"' in text
        assert "Decide 2 conflicts" in text
        listing = maya.get("/review").text
        assert 'href="/review/helpdesk/inbox/conflicts"' in listing
        screen = maya.get("/review/helpdesk/inbox").text
        assert re.search(r'data-testid="conflicts-link">2 conflicts to decide<', screen)
        assert maya.get("/review/helpdesk/nope/done").status_code == 404


def test_conflicts_page_lists_verdicts_and_decides_with_csrf(
    maya: httpx.Client, grove_factories: Factories, world: dict[str, Any]
) -> None:
    page = maya.get("/review/helpdesk/inbox/conflicts")
    assert page.status_code == 200
    text = page.text
    assert "2 conflicts to decide" in text
    assert text.count('data-testid="conflict"') == 2
    # Everything the reviewers, the model and the queue wrote is escaped.
    assert "<script>alert(1)" not in text
    assert "<b>money" not in text
    assert "<i>other" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; free &lt;b&gt;money&lt;/b&gt;" in text
    assert "&lt;u&gt;ana&lt;/u&gt; says" in text
    m1 = next(
        i
        for i in review.list_items(grove_factories.admin_ctx, "inbox", project="helpdesk")
        if i.external_id == "m1"
    )
    # The options: what the reviewers said first, then the other labels.
    form = text[text.index(f'action="/review/helpdesk/inbox/conflicts/{m1.id}"') :]
    values = re.findall(r'name="answer" value="([^"]+)"', form[: form.index("</form>")])
    assert [json.loads(html.unescape(v)) for v in values] == [
        {"labels": ["spam"]},
        {"labels": ["ham"]},
        {"labels": ["<i>other</i>"]},
    ]

    path = f"/review/helpdesk/inbox/conflicts/{m1.id}"
    answer = json.dumps({"labels": ["ham"]})
    refused = maya.post(path, data={"answer": answer})  # no CSRF token
    assert refused.status_code == 403
    token = CSRF.search(text)
    assert token
    bad = maya.post(path, data={"csrf_token": token.group(1), "answer": '{"labels": ["x"]}'})
    assert bad.status_code == 400
    assert "not in this queue" in bad.text
    done = maya.post(path, data={"csrf_token": token.group(1), "answer": answer})
    assert done.status_code == 303
    after = maya.get(done.headers["location"]).text
    assert "Decided m1: ham" in after
    assert "1 conflict to decide" in after
    decided = review.get_item(grove_factories.admin_ctx, m1.id)
    assert (decided.status, decided.answer, decided.resolved_by) == (
        ItemStatus.RESOLVED,
        {"labels": ["ham"]},
        "maya",
    )
