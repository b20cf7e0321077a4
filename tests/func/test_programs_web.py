"""The programme pages in a real headless Chromium: asking for help and answering,
learning time with its chart and iCal link, the mentor matcher approved by a manager,
similar designs shown on adding one; every user text escaped, no console errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from mlgrove.domain import ical
from mlgrove.services import design_reviews, help_requests, learning, mentorship
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.pwned=1">'


@pytest.fixture(params=["sqlite"])
def grove_backend(request: pytest.FixtureRequest) -> str:
    """Browser tests run on one backend (the services are tested on both)."""
    return str(request.param)


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "mia": {"role": "manager", "team": "Vision", "display_name": "Mia Manager"},
                "jun": {"role": "engineer", "team": "Vision", "manager": "mia"},
                "sam": {"role": "engineer", "team": "Vision", "display_name": "Sam Senior"},
                "ola": {"role": "engineer", "team": "Speech"},
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
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def test_asking_for_help_answering_and_resolving_in_the_browser(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, Any],
    grove_factories: Factories,
    console_errors: list[str],
) -> None:
    page, base = grove_page, grove_live_server
    mentorship.offer(grove_factories.ctx(world["sam"]), ["evaluation"], 1)
    log_in(page, base, "jun")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Programmes").click()
    page.get_by_role("link", name="Help requests").first.click()
    form = page.get_by_test_id("ask-form")
    form.get_by_label("Topic").fill(f"eval flaky {XSS}")
    form.get_by_label("Context").fill("same seed, different accuracy")
    form.get_by_label("Time stuck").fill("2h")
    form.get_by_label("Competency").fill("evaluation")
    form.get_by_role("button", name="Ask for help").click()

    expect(page.get_by_test_id("request-topic")).to_have_text(f"eval flaky {XSS}")
    expect(page.get_by_test_id("time-stuck")).to_contain_text("120 min before asking")
    expect(page.get_by_test_id("helpers")).to_contain_text("Sam Senior")
    assert page.evaluate("window.pwned") is None
    request_url = page.url

    log_in(page, base, "sam")
    page.goto(request_url)
    expect(page.get_by_test_id("time-stuck")).to_have_count(0)  # jun's alone
    page.get_by_test_id("answer-form").get_by_label("Your answer").fill("shuffle=False in eval")
    page.get_by_role("button", name="Answer").click()
    expect(page.get_by_test_id("answer")).to_contain_text("shuffle=False in eval")

    log_in(page, base, "jun")
    page.goto(request_url)
    page.get_by_label("Thank sam").check()
    page.get_by_role("button", name="Mark resolved").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"eval flaky {XSS}")
    expect(page.get_by_test_id("answer")).to_contain_text("thanked")
    expect(page.locator("hgroup p")).to_contain_text("resolved")

    assert console_errors == []
    # A mistake is explained on the page (answered with a 400), and nothing is stored.
    page.goto(f"{base}/programs/help")
    page.get_by_test_id("ask-form").get_by_label("Topic").fill("anything")
    page.get_by_test_id("ask-form").get_by_label("Time stuck").fill("a while")
    page.get_by_role("button", name="Ask for help").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("not a duration")
    assert all("status of 400" in e for e in console_errors)


def test_learning_page_shows_budget_chart_events_and_a_working_ical_link(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, Any],
    grove_factories: Factories,
    grove_runtime: Any,
    console_errors: list[str],
) -> None:
    page, base = grove_page, grove_live_server
    grove_runtime.settings = grove_runtime.settings.with_overrides(min_group_size=3)
    learning.set_budget(grove_factories.ctx(world["mia"]), "Vision", "share", share=0.1)
    for name, hours in (("jun", 2.0), ("sam", 3.0)):
        learning.log(grove_factories.ctx(world[name]), hours, "reading")
    log_in(page, base, "jun")
    page.goto(f"{base}/programs/learning")
    report = page.get_by_test_id("budget-report")
    expect(report).to_contain_text("5 h logged")
    expect(page.get_by_test_id("budget-chart")).to_be_visible()

    when = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT12:00")
    form = page.get_by_test_id("event-form")
    form.get_by_label("Kind").select_option("lunch-and-learn")
    form.get_by_label("Title").fill("Polars <b>fast</b>")
    form.get_by_label("Starts (UTC)").fill(when)
    form.get_by_label("Topic").fill("dataframes")
    form.get_by_label("Presenter").fill("jun")
    form.get_by_role("button", name="Plan").click()
    expect(page.get_by_test_id("events")).to_contain_text("Polars <b>fast</b>")

    page.get_by_test_id("log-form").get_by_label("Hours").fill("1.5")
    page.get_by_test_id("log-form").get_by_label("Topic").fill("polars docs")
    page.get_by_test_id("log-form").get_by_role("button", name="Log").click()
    expect(page.get_by_test_id("my-entries")).to_contain_text("1.5 h on polars docs")
    expect(report).to_contain_text("6.5 h logged")

    href = page.get_by_test_id("ical-link").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    feed = httpx.get(base + str(href), cookies=cookies, timeout=10)
    assert feed.headers["content-type"].startswith("text/calendar")
    [event] = ical.parse(feed.text)
    assert event["SUMMARY"] == "Lunch & learn: Polars <b>fast</b>"
    assert console_errors == []


def test_manager_edits_and_approves_the_matchers_proposal(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, Any],
    grove_factories: Factories,
    console_errors: list[str],
) -> None:
    page, base = grove_page, grove_live_server
    ctx = grove_factories.ctx
    mentorship.offer(ctx(world["sam"]), ["evaluation", "communication"], 2)
    mentorship.offer(ctx(world["ola"]), ["communication"], 1)
    mentorship.set_goals(ctx(world["jun"]), ["evaluation"])
    mentorship.set_goals(ctx(world["mia"]), ["communication"])  # managers grow too
    log_in(page, base, "mia")
    page.goto(f"{base}/programs")
    # The manager's team view: aggregates only, and Vision (3 people) is too small.
    expect(page.get_by_test_id("team-programmes")).to_contain_text("Vision has 3 people")
    page.goto(f"{base}/programs/mentors")
    proposal = page.get_by_test_id("proposal")
    expect(proposal.locator("tbody tr")).to_have_count(2)
    expect(proposal.get_by_label("Mentor for mia")).to_have_value("ola")  # spread out
    proposal.get_by_label("Mentor for mia").select_option("sam")  # the manager edits it
    proposal.get_by_role("button", name="Approve pairs").click()
    expect(page.get_by_test_id("pair")).to_contain_text("sam mentors mia")
    pairs = mentorship.list_pairs(ctx(world["mia"]), everyone=True)
    assert sorted((p.mentor, p.mentee) for p in pairs) == [("sam", "jun"), ("sam", "mia")]
    assert console_errors == []


def test_adding_a_design_shows_similar_work_from_another_team(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, Any],
    grove_factories: Factories,
    console_errors: list[str],
) -> None:
    page, base = grove_page, grove_live_server
    design_reviews.add_design(
        grove_factories.ctx(world["ola"]),
        "Churn prediction for telecom customers",
        "Gradient boosted trees predicting customer churn from billing records.",
    )
    log_in(page, base, "jun")
    page.goto(f"{base}/programs/designs")
    form = page.get_by_test_id("design-form")
    form.get_by_label("Title").fill("Which customers will churn?")
    form.get_by_label("Summary").fill("Predict telecom customer churn from billing history.")
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("design-title")).to_have_text("Which customers will churn?")
    expect(page.get_by_test_id("similar")).to_contain_text("Churn prediction for telecom customers")
    expect(page.get_by_test_id("similar")).to_contain_text("Speech")
    assert console_errors == []


def test_a_design_review_across_teams_and_a_rotation_with_its_reflection(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, Any],
    console_errors: list[str],
) -> None:
    page, base = grove_page, grove_live_server
    log_in(page, base, "jun")
    page.goto(f"{base}/programs/designs")
    page.get_by_text("Schedule one").click()
    form = page.get_by_test_id("review-form")
    form.get_by_label("Title").fill("Churn model <design>")
    form.get_by_label("When (UTC)").fill(
        (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT15:00")
    )
    form.get_by_label("Abstract").fill("Scope & data")
    form.get_by_label("Speech").check()
    form.get_by_role("button", name="Schedule").click()
    expect(page.get_by_test_id("review-title")).to_have_text("Churn model <design>")
    expect(page.get_by_text("Invited teams: Speech")).to_be_visible()
    review_url = page.url

    log_in(page, base, "ola")
    page.goto(review_url)
    page.get_by_role("button", name="I attended").click()
    expect(page.get_by_test_id("attendees")).to_have_text("Attended: ola")
    page.get_by_label("Your feedback").fill(f"Reuse our features {XSS}")
    page.get_by_role("button", name="Add feedback").click()
    expect(page.get_by_test_id("review-feedback")).to_contain_text(f"Reuse our features {XSS}")
    assert page.evaluate("window.pwned") is None

    log_in(page, base, "mia")
    page.goto(f"{base}/programs/rotations")
    form = page.get_by_test_id("rotation-form")
    form.get_by_label("Person").fill("jun")
    form.get_by_label("Host team").select_option("Speech")
    form.get_by_label("Starts").fill("2027-01-04")
    form.get_by_label("Ends").fill("2027-02-12")
    form.get_by_label("Goals").fill("audio ml, diarisation")
    form.get_by_role("button", name="Plan").click()
    expect(page.get_by_test_id("rotation")).to_contain_text("Vision → Speech")

    log_in(page, base, "jun")
    page.goto(f"{base}/programs/rotations")
    page.get_by_label("My reflection").fill("Audio work is mostly data work.")
    page.get_by_role("button", name="Save reflection").click()
    expect(page.get_by_test_id("rotation")).to_contain_text("Audio work is mostly data work.")
    assert console_errors == []


def test_programme_pages_fit_a_phone_screen(
    grove_page: Page,
    grove_live_server: str,
    world: dict[str, Any],
    grove_factories: Factories,
) -> None:
    page, base = grove_page, grove_live_server
    ctx = grove_factories.ctx
    asked = help_requests.ask(ctx(world["jun"]), "a rather long topic " * 5, context="x" * 500)
    learning.add_event(
        ctx(world["jun"]),
        "lunch-and-learn",
        "Conformal prediction in practice, with many words in the title",
        datetime.now(UTC) + timedelta(days=2),
        topic="uncertainty",
        presenter="jun",
        location="the big room on the third floor",
    )
    mentorship.offer(ctx(world["sam"]), ["evaluation", "data management", "testing"], 2)
    mentorship.set_goals(ctx(world["jun"]), ["evaluation"])
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, base, "mia")
    paths = ["/programs", "/programs/help", f"/programs/help/{asked.id}", "/programs/learning"]
    paths += ["/programs/mentors", "/programs/designs", "/programs/rotations"]
    for path in paths:
        page.goto(f"{base}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
