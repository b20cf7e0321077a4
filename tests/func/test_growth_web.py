"""Growth pages in a real headless Chromium: giving feedback (with the gap shown), the
receiver's page with its balance chart, the notification count, the read log, plans with
evidence, the manager view and escaping of user text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mlgrove.services import growth_feedback
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.pwned=1</script><b>bold?</b>"


@pytest.fixture(params=["sqlite"])
def grove_backend(request: pytest.FixtureRequest) -> str:
    """Browser tests run on one backend (the HTTP tests cover both)."""
    return str(request.param)


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision"],
            "people": {
                "max": {"role": "manager", "team": "Vision", "display_name": "Max Manager"},
                "eli": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "max",
                    "display_name": "Eli Engineer",
                    "email": "eli@example.com",
                },
                "bo": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "max",
                    "display_name": "Bo Builder",
                },
                "ana": {"role": "admin", "team": "Vision", "display_name": "Ana Admin"},
            },
        }
    )


@pytest.fixture
def console_errors(grove_page: Page) -> list[str]:
    errors: list[str] = []
    grove_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    grove_page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def log_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login"))


def test_giving_feedback_shows_the_gap_and_reaches_the_receiver(
    grove_page: Page, grove_live_server: str, world: dict[str, Any], console_errors: list[str]
) -> None:
    page, base = grove_page, grove_live_server
    log_in(page, base, "bo")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Growth").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My growth")
    page.get_by_role("link", name="Give feedback").click()

    form = page.locator("form[data-growth-form]")
    collab_gap = form.locator("[data-gap-for='collaboration']")
    tech_gap = form.locator("[data-gap-for='technical']")
    expect(tech_gap).to_be_visible()  # nothing typed yet: both axes empty
    form.get_by_label("To (e-mail or username)").fill("eli@example.com")
    form.get_by_label("About (a PR URL, run:ID, dataset:NAME@vN...)").fill(
        "https://git.example/ml/churn/pull/42"
    )
    technical = form.locator("fieldset[data-axis='technical']")
    technical.get_by_label("Situation").fill("The churn PR " + SCRIPT)
    technical.get_by_label("Behaviour").fill("You added a leakage test.")
    technical.get_by_label("Impact").fill("It caught a real bug.")
    expect(tech_gap).to_be_hidden()
    expect(collab_gap).to_be_visible()  # the live hint: one axis is allowed, the gap is shown
    form.get_by_label("Software craft").check()
    form.get_by_label("Them and their manager").check()
    form.get_by_role("button", name="Give feedback").click()

    done = page.get_by_test_id("feedback-given")
    expect(done).to_contain_text("Feedback given to Eli Engineer")
    expect(page.get_by_test_id("gap")).to_contain_text("It has no collaboration part")

    # Empty feedback is refused with a readable message and the typed values kept.
    page.goto(f"{base}/growth/give?to=eli")
    page.locator("form[data-growth-form]").get_by_role("button", name="Give feedback").click()
    expect(page.get_by_role("alert")).to_contain_text("feedback needs a technical part")
    expect(page.get_by_label("To (e-mail or username)")).to_have_value("eli")

    # The receiver: a count in the nav, the feedback (escaped), the chart and the gap.
    log_in(page, base, "eli")
    expect(page.get_by_test_id("notification-count")).to_contain_text("1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Growth").click()
    item = page.get_by_test_id("feedback")
    expect(item).to_contain_text("Bo Builder")
    expect(item).to_contain_text(SCRIPT)  # shown as text, never run as markup
    assert page.evaluate("window.pwned") is None
    expect(item.locator("b")).to_have_count(0)
    expect(
        page.get_by_test_id("balance-chart").locator("rect[data-axis='technical']")
    ).to_have_count(1)
    expect(page.get_by_test_id("balance-totals")).to_have_text(
        "1 with a technical part · 0 with a collaboration part"
    )
    expect(page.get_by_test_id("balance-gap")).to_contain_text(
        "No feedback on the collaboration axis"
    )

    page.get_by_test_id("notification-count").click()
    expect(page.get_by_test_id("notifications")).to_contain_text("Bo Builder gave you feedback")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_test_id("notification-count").locator("mark")).to_have_count(0)

    # The manager reads what was shared with them; eli sees that read.
    log_in(page, base, "max")
    page.goto(f"{base}/growth/team")
    expect(page.get_by_test_id("hidden")).to_contain_text("figures are shown from 5")
    page.goto(f"{base}/growth")
    page.get_by_role("link", name="Eli Engineer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Growth of eli")
    expect(page.get_by_test_id("feedback")).to_contain_text("You added a leakage test.")
    log_in(page, base, "eli")
    page.goto(f"{base}/growth/reads")
    expect(page.get_by_test_id("reads").get_by_role("row", name=re.compile("max"))).to_contain_text(
        "feedback #"
    )
    # The refused empty form answered 400, which Chromium logs; nothing else may be logged.
    assert [e for e in console_errors if "400" not in e] == []


def test_reads_plans_and_notes_pages(
    grove_page: Page,
    grove_live_server: str,
    grove_factories: Factories,
    world: dict[str, Any],
    console_errors: list[str],
) -> None:
    page, base = grove_page, grove_live_server
    fb = growth_feedback.give_feedback(
        grove_factories.ctx(world["bo"]), "eli", technical="Clear PR", visibility="receiver+manager"
    )
    growth_feedback.list_feedback(grove_factories.ctx(world["max"]), "eli")  # max reads it
    growth_feedback.list_feedback(grove_factories.ctx(world["ana"]), "eli")  # refused: private

    log_in(page, base, "eli")
    page.goto(f"{base}/growth/reads")
    reads = page.get_by_test_id("reads")
    expect(reads.get_by_role("row", name=re.compile("max"))).to_contain_text(f"feedback #{fb.id}")
    expect(reads.get_by_role("row", name=re.compile("ana"))).to_contain_text("refused")

    page.goto(f"{base}/growth/plans")
    page.get_by_label("Plan title").fill("Towards senior")
    page.get_by_label("Competency").select_option("modelling")
    page.get_by_label("First goal").fill("Design honest evaluations")
    page.get_by_role("button", name="Start a plan").click()
    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Towards senior")
    plan.get_by_label("Evidence").select_option(f"feedback:{fb.id}")
    plan.get_by_label("Note").fill("my first review")
    plan.get_by_role("button", name="Add evidence").click()
    expect(page.get_by_test_id("evidence")).to_contain_text("feedback from Bo Builder")

    page.goto(f"{base}/growth/ladder")
    expect(page.get_by_test_id("ladder-collaboration")).to_contain_text(
        "Asking for and giving help"
    )
    expect(page.get_by_test_id("ladder-technical")).to_contain_text("Production ML and MLOps")

    page.goto(f"{base}/growth/notes?with_=max")
    page.get_by_label("New note").fill("Talk about <i>promotion</i>")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_test_id("note")).to_contain_text("Talk about <i>promotion</i>")
    log_in(page, base, "ana")
    page.goto(f"{base}/growth/notes?with_=eli")
    expect(page.get_by_test_id("note")).to_have_count(0)  # not hers to read, even as admin
    page.goto(f"{base}/growth/people/eli")
    expect(page.get_by_test_id("plans-private")).to_be_visible()
    expect(page.get_by_test_id("no-feedback")).to_be_visible()
    assert console_errors == []
