"""The review screen in real headless Chromium: the keyboard flow (number keys, Enter,
S, U), what the reviewer sees (input, prediction, confidence, instructions, progress),
and item text shown as text, never as markup."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mlgrove.domain.review import QueueSpec
from mlgrove.services import review, review_assign
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

HOSTILE = "<script>alert('x')</script><b>bold</b> & <img src=x onerror=alert(1)>"


@pytest.fixture
def queue(grove_factories: Factories) -> dict[str, Any]:
    made = grove_factories.world(
        {
            "teams": ["Support"],
            "people": {"ana": {"role": "reviewer", "team": "Support", "display_name": "Ana"}},
            "projects": {"helpdesk": "Support"},
        }
    )
    admin = grove_factories.admin_ctx
    review.create_queue(
        admin,
        "inbox",
        QueueSpec(
            labels=["spam", "ham", "other"],
            random_share=0,
            instructions="Spam is <i>unsolicited</i> mail.",
        ),
        project="helpdesk",
    )
    review.add_items(
        admin,
        "inbox",
        [
            {"id": "m1", "input": HOSTILE, "prediction": "spam", "confidence": 0.51},
            {
                "id": "m2",
                "input": {"row": {"subject": "Lunch?", "sender": "bo"}},
                "prediction": "ham",
                "confidence": 0.7,
            },
            {"id": "m3", "input": "free money", "prediction": "spam", "confidence": 0.9},
        ],
        project="helpdesk",
    )
    return made


@pytest.fixture
def console_errors(grove_page: Page) -> list[str]:
    errors: list[str] = []
    grove_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    grove_page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_keyboard_review_flow(
    grove_page: Page,
    grove_live_server: str,
    grove_factories: Factories,
    queue: dict[str, Any],
    console_errors: list[str],
) -> None:
    page = grove_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{grove_live_server}/login?next=/review")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review")
    page.get_by_role("link", name="inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("inbox")
    expect(page.get_by_test_id("instructions")).to_have_text("Spam is <i>unsolicited</i> mail.")

    # The least certain prediction first; its text shown exactly as written.
    item_input = page.get_by_test_id("item-input")
    expect(page.get_by_test_id("item-id")).to_have_text("m1")
    expect(item_input).to_have_text(HOSTILE)
    assert item_input.locator("b, img, script").count() == 0
    expect(page.get_by_test_id("prediction")).to_have_text("spam")
    expect(page.get_by_test_id("confidence")).to_have_text("confidence 51%")
    expect(page.get_by_test_id("progress")).to_have_text("0 of 3 done")

    page.keyboard.press("2")
    picked = page.get_by_role("button", name="2 ham")
    expect(picked).to_have_attribute("aria-pressed", "true")
    expect(picked).not_to_have_css("background-color", "rgba(0, 0, 0, 0)")  # shown filled
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("item-id")).to_have_text("m2")
    expect(page.get_by_test_id("progress")).to_have_text("1 of 3 done")
    # A table row is shown as a table of its columns.
    expect(item_input.get_by_role("row", name="subject Lunch?")).to_be_visible()

    page.keyboard.press("u")  # undo: m1 comes back, its verdict gone
    expect(page.get_by_test_id("item-id")).to_have_text("m1")
    expect(page.get_by_test_id("review-status")).to_have_text("your last verdict was taken back")
    m1 = next(
        i
        for i in review.list_items(grove_factories.admin_ctx, "inbox", project="helpdesk")
        if i.external_id == "m1"
    )
    assert m1.verdicts == 0

    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("item-id")).to_have_text("m2")
    page.keyboard.press("s")  # skip m2
    expect(page.get_by_test_id("item-id")).to_have_text("m3")
    page.keyboard.press("Enter")  # nothing picked: nothing sent
    expect(page.get_by_test_id("review-status")).to_have_text("pick an answer first (number keys)")
    page.get_by_role("button", name="3 other").click()
    page.get_by_label("What should improve").fill("<em>needs</em> context")
    page.get_by_role("button", name="Submit").click()
    # The last item done: the screen gives way to the queue's "done" page.
    expect(page.get_by_role("heading", level=1)).to_have_text("inbox: all done for you")
    expect(page.get_by_test_id("reviewed-by-me")).to_have_text("2")
    expect(page.get_by_test_id("resolved")).to_have_text("2 of 3")
    expect(page.get_by_test_id("left")).to_have_text("1 waiting for other reviewers' verdicts")
    expect(page.get_by_test_id("to-conflicts")).to_have_count(0)

    ana_ctx = grove_factories.ctx(queue["ana"])
    verdicts = review_assign.my_verdicts(ana_ctx, "inbox", project="helpdesk")
    assert [v.answer for v in verdicts] == [{"labels": ["other"]}, {"labels": ["spam"]}]
    assert verdicts[0].improve == "<em>needs</em> context"
    assert verdicts[0].seconds is not None
    assert dialogs == []
    assert console_errors == []
    page.get_by_test_id("back-to-queues").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review")


def test_review_pages_escape_queue_text_and_show_quality(
    grove_page: Page, grove_live_server: str, grove_factories: Factories, queue: dict[str, Any]
) -> None:
    page = grove_page
    review.create_queue(
        grove_factories.admin_ctx,
        "x<b>y",
        QueueSpec(labels=["<i>a</i>", "b"]),
        project="helpdesk",
    )
    # One item, so the screen stays (an empty queue goes on to its "done" page).
    review.add_items(grove_factories.admin_ctx, "x<b>y", [{"input": "z"}], project="helpdesk")
    page.goto(f"{grove_live_server}/login?next=/review")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="x<b>y")).to_be_visible()
    assert page.get_by_test_id("review-queues").locator("b, i").count() == 0
    page.get_by_role("link", name="x<b>y").click()
    expect(page.get_by_role("button", name="1 <i>a</i>")).to_be_visible()
    page.goto(f"{grove_live_server}/review/helpdesk/inbox/quality")
    expect(page.get_by_role("heading", level=1)).to_have_text("inbox: agreement and quality")
    expect(page.get_by_test_id("agreement")).to_contain_text("Krippendorff's alpha (nominal)")


def test_adjudicator_decides_conflicts_from_the_keyboard(
    grove_page: Page,
    grove_live_server: str,
    grove_factories: Factories,
    queue: dict[str, Any],
    console_errors: list[str],
) -> None:
    admin = grove_factories.admin_ctx
    made = grove_factories.world(
        {"people": {"maya": {"role": "manager"}, "bo": {"role": "reviewer"}}}
    )
    review.create_queue(
        admin,
        "pairs",
        QueueSpec(labels=["spam", "ham"], overlap=2, random_share=0),
        project="helpdesk",
    )
    review.add_items(
        admin,
        "pairs",
        [{"id": "c1", "input": HOSTILE}, {"id": "c2", "input": "hi"}],
        project="helpdesk",
    )
    for who, label in (("ana", "spam"), ("bo", "ham")):
        person = queue["ana"] if who == "ana" else made["bo"]
        c = grove_factories.ctx(person)
        for _ in range(2):
            got = review_assign.next_item(c, "pairs", project="helpdesk")
            assert got is not None
            review_assign.submit(c, got.item.id, {"labels": [label]})

    page = grove_page
    page.goto(f"{grove_live_server}/login?next=/review/helpdesk/pairs")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Nothing for maya to review: the screen goes on to the "done" page, which offers the
    # conflicts to someone who may decide them.
    expect(page.get_by_role("heading", level=1)).to_have_text("pairs: all done for you")
    expect(page.get_by_test_id("left")).to_have_text(
        "0 waiting for other reviewers' verdicts, 2 for an adjudicator"
    )
    page.get_by_test_id("to-conflicts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("pairs: conflicts")
    expect(page.get_by_test_id("conflicts-left")).to_have_text("2 conflicts to decide")
    first = page.get_by_test_id("conflict").first
    expect(first.get_by_test_id("conflict-input")).to_have_text(HOSTILE)
    assert first.locator("b, img, script").count() == 0
    expect(first.get_by_test_id("verdicts")).to_contain_text("ana")
    expect(first.get_by_test_id("verdicts")).to_contain_text("bo")

    page.wait_for_load_state()  # the page's key handler is attached
    page.keyboard.press("2")  # ham
    expect(first.get_by_role("button", name="2 ham")).to_have_attribute("aria-pressed", "true")
    expect(first.get_by_role("button", name="1 spam")).to_have_css(
        "background-color", "rgba(0, 0, 0, 0)"
    )
    expect(first.get_by_role("button", name="2 ham")).not_to_have_css(
        "background-color", "rgba(0, 0, 0, 0)"
    )
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("decided")).to_have_text("Decided c1: ham")
    expect(page.get_by_test_id("conflicts-left")).to_have_text("1 conflict to decide")
    page.get_by_role("button", name="1 spam").click()  # a click decides at once
    expect(page.get_by_test_id("no-conflicts")).to_be_visible()
    decided = {
        i.external_id: (i.answer, i.resolved_by)
        for i in review.list_items(admin, "pairs", project="helpdesk")
    }
    assert decided == {"c1": ({"labels": ["ham"]}, "maya"), "c2": ({"labels": ["spam"]}, "maya")}
    assert console_errors == []
