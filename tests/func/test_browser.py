"""The web UI in a real headless Chromium: what a person clicking and typing sees.

These run on SQLite only: the HTTP tests (test_web.py) already cover both backends, and
here what matters is the browser side (scripts, CSP, forms, keyboard, menus).
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pytest
from playwright.sync_api import Page, expect

from mlgrove.errors import DatabaseUnavailable
from mlgrove.services import demo, projects, splits, table_commit
from mlgrove.testing.factories import Factories

pytestmark = pytest.mark.browser

# (link label, path, the page's <h1>) in navigation order; Team shows the team's name.
NAV = [
    ("Data", "/data", "Data"),
    ("Runs", "/runs", "Runs"),
    ("Models", "/models", "Models"),
    ("Pipelines", "/pipelines", "Pipelines"),
    ("Review", "/review", "Review"),
    ("Team", "/team", "Applied ML"),
    ("People", "/people", "People"),
]


@pytest.fixture(params=["sqlite"])
def grove_backend(request: pytest.FixtureRequest) -> str:
    """Browser tests run on one backend (overrides the plugin's two)."""
    return str(request.param)


@pytest.fixture
def demo_team(grove_factories: Factories) -> None:
    """The demo's teams, people and projects, as `mlgrove demo` makes them."""
    for name, description in demo.TEAMS:
        grove_factories.team(name, description)
    for p in demo.PEOPLE:
        grove_factories.person(
            p.username,
            role=p.role,
            password=demo.DEMO_PASSWORD,
            display_name=p.display_name,
            team=p.team,
            manager=p.manager,
        )
    for name, team, description in demo.PROJECTS:
        projects.create_project(grove_factories.admin_ctx, name, team=team, description=description)


@pytest.fixture
def demo_data(demo_team: None, grove_factories: Factories) -> None:
    """A dataset "parts" in defect-detection: v1 (split 80/20), then v2 with one part
    re-measured, one removed and one added."""
    ctx = grove_factories.admin_ctx
    v1 = [
        {"id": i, "width": i * 0.5, "material": "brass" if i % 3 == 0 else "steel", "label": "ok"}
        for i in range(60)
    ]
    table_commit.commit(
        ctx,
        "parts",
        pa.Table.from_pylist(v1),
        project="defect-detection",
        key=["id"],
        label="label",
        message="first measurements",
    )
    splits.split(ctx, "parts", "v1", ratios={"train": 0.8, "test": 0.2}, project="defect-detection")
    v2 = [dict(r) for r in v1 if r["id"] != 0]
    v2[6]["width"], v2[6]["material"] = 99.5, "titanium"  # part 7
    v2.append({"id": 60, "width": 1.25, "material": "steel", "label": "scratch"})
    table_commit.commit(
        ctx, "parts", pa.Table.from_pylist(v2), project="defect-detection", message="re-measured"
    )


@pytest.fixture
def console_errors(grove_page: Page) -> list[str]:
    """Errors the page logs (a CSP violation or a broken script shows up here)."""
    errors: list[str] = []
    grove_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    grove_page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def log_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def main_nav(page: Page) -> Any:
    return page.get_by_role("navigation", name="Main")


def test_demo_user_logs_in_visits_every_page_and_logs_out(
    grove_page: Page, grove_live_server: str, demo_team: None, console_errors: list[str]
) -> None:
    page = grove_page
    base = grove_live_server

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Grove")
    expect(page.get_by_label("Username")).to_be_focused()
    log_in(page, "eli", demo.DEMO_PASSWORD)

    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Eli Engineer")
    projects_table = page.get_by_role("table")
    expect(projects_table.get_by_role("row", name=re.compile("support-triage"))).to_contain_text(
        "Applied ML"
    )
    expect(projects_table.get_by_role("row", name=re.compile("defect-detection"))).to_contain_text(
        "Applied ML"
    )

    for label, path, heading in NAV:
        main_nav(page).get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(f"{base}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        current = main_nav(page).locator("a[aria-current='page']")
        expect(current).to_have_count(1)
        expect(current).to_have_text(label)

    # The People page is a directory: names, roles, teams, managers.
    expect(page.get_by_role("row", name=re.compile("Jun Junior"))).to_contain_text("Maya Manager")

    # Back home through the brand link.
    page.get_by_role("link", name="Grove home").click()
    expect(page).to_have_url(f"{base}/")
    expect(main_nav(page).locator("a[aria-current='page']")).to_have_count(0)

    # Keyboard: "g" then "d" goes to Data; "?" opens the shortcuts; Escape closes them.
    page.keyboard.press("g")
    page.keyboard.press("d")
    expect(page).to_have_url(f"{base}/data")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("row", name=re.compile("Pipelines"))).to_contain_text("g p")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Typing in a field never triggers shortcuts: "gd" in a token name stays text.
    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(f"{base}/settings/tokens")
    page.get_by_label("Token name").fill("")
    page.get_by_label("Token name").press_sequentially("gd laptop")
    expect(page).to_have_url(f"{base}/settings/tokens")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("grove_")
    expect(page.get_by_role("row", name=re.compile("gd laptop"))).to_contain_text("active")

    # Log out through the user menu; the pages are closed again.
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base}/login")
    expect(page.get_by_test_id("user-menu")).to_have_count(0)
    page.goto(f"{base}/people")
    expect(page).to_have_url(f"{base}/login?next=/people")

    assert console_errors == []


def test_wrong_password_shows_the_error_on_the_login_page(
    grove_page: Page, grove_live_server: str, demo_team: None, console_errors: list[str]
) -> None:
    page = grove_page
    page.goto(f"{grove_live_server}/login?next=/review")
    log_in(page, "eli", "not-my-password")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("wrong username or password")
    expect(page).to_have_url(f"{grove_live_server}/login")
    expect(page.get_by_label("Username")).to_have_value("eli")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()  # ready for the second try

    # Trying again with the right password still lands where the visitor was going.
    log_in(page, "eli", demo.DEMO_PASSWORD)
    expect(page).to_have_url(f"{grove_live_server}/review")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review")
    # A 401 response is logged by Chromium as a failed resource load; nothing else may be.
    assert [e for e in console_errors if "401" not in e] == []


def test_unknown_page_shows_a_way_back(
    grove_page: Page, grove_live_server: str, demo_team: None
) -> None:
    page = grove_page
    page.goto(f"{grove_live_server}/login")
    log_in(page, "rita", demo.DEMO_PASSWORD)
    expect(page).to_have_url(f"{grove_live_server}/")

    response = page.goto(f"{grove_live_server}/datasets/nope")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("There is no page at /datasets/nope.")).to_be_visible()
    page.get_by_role("button", name="Go to the home page").click()
    expect(page).to_have_url(f"{grove_live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rita Reviewer")


def test_pages_fit_a_phone_screen(
    grove_page: Page, grove_live_server: str, demo_team: None
) -> None:
    page = grove_page
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{grove_live_server}/login")
    log_in(page, "maya", demo.DEMO_PASSWORD)
    expect(page).to_have_url(f"{grove_live_server}/")
    for path in ["/", *(p for _, p, _ in NAV), "/settings/tokens", "/nope"]:
        page.goto(f"{grove_live_server}{path}")
        # Every section stays reachable, and nothing makes the page scroll sideways.
        for label, _, _ in NAV:
            expect(main_nav(page).get_by_role("link", name=label, exact=True)).to_be_in_viewport()
        expect(page.get_by_test_id("user-menu")).to_be_in_viewport()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"


def test_api_docs_render_the_operations_under_the_strict_policy(
    grove_page: Page, grove_live_server: str, console_errors: list[str]
) -> None:
    page = grove_page
    response = page.goto(f"{grove_live_server}/api/docs")
    assert response is not None
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
    # Swagger UI started (from /static/swagger-init.js) and read the OpenAPI document.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Grove API")
    me = page.locator(".opblock").filter(has_text="/api/v1/me")
    expect(me).to_be_visible()
    me.locator(".opblock-summary").click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    assert console_errors == []


def background(locator: Any) -> str:
    return str(locator.evaluate("el => getComputedStyle(el).backgroundColor"))


def test_engineer_browses_datasets_charts_leakage_and_a_diff(
    grove_page: Page, grove_live_server: str, demo_data: None, console_errors: list[str]
) -> None:
    page = grove_page
    base = grove_live_server
    page.goto(f"{base}/data")
    log_in(page, "eli", demo.DEMO_PASSWORD)
    expect(page).to_have_url(f"{base}/data")

    # The list: datasets grouped by project, with what to do where there are none.
    expect(page.get_by_role("heading", level=2, name="defect-detection")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("parts"))
    expect(row).to_contain_text("v2")
    expect(row).to_contain_text("60")
    expect(page.get_by_text("No datasets in support-triage yet")).to_be_visible()

    # The history.
    row.get_by_role("link", name="parts").click()
    expect(page).to_have_url(f"{base}/data/defect-detection/parts")
    expect(page.get_by_role("heading", level=1)).to_have_text("parts")
    expect(page.get_by_test_id("versions").get_by_role("row")).to_have_count(3)

    # A version: charts drawn as SVG on the server, the split, sample rows, lineage.
    page.get_by_test_id("versions").get_by_role("link", name="v2", exact=True).click()
    expect(page).to_have_url(f"{base}/data/defect-detection/parts/v2")
    expect(page.get_by_role("heading", level=1)).to_have_text("parts v2")
    width_chart = page.get_by_role("img", name=re.compile("Histogram of width"))
    expect(width_chart).to_be_visible()
    assert width_chart.evaluate("el => el.tagName") == "svg"
    assert width_chart.locator("rect.grove-bar").count() == 12
    box = width_chart.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 20
    expect(page.get_by_role("img", name="Rows per value of the label column label")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Rows per split"))).to_be_visible()
    expect(page.get_by_test_id("sample").get_by_role("row")).to_have_count(51)
    expect(page.get_by_test_id("lineage-graph")).to_be_visible()

    # The leakage check loads into the page (htmx) without leaving it.
    page.get_by_role("button", name="Check for train/test leakage").click()
    expect(page.get_by_test_id("leakage-report")).to_contain_text("No leakage")
    expect(page).to_have_url(f"{base}/data/defect-detection/parts/v2")

    # The diff: removed in red, added in green, changed cells marked before -> after.
    page.get_by_role("button", name="Changes since v1").click()
    expect(page).to_have_url(f"{base}/data/defect-detection/parts/diff?from=v1&to=v2")
    expect(page.get_by_test_id("diff-summary")).to_contain_text("+1 added")
    expect(page.get_by_test_id("diff-summary")).to_contain_text("\N{MINUS SIGN}1 removed")
    expect(page.get_by_test_id("diff-summary")).to_contain_text("~1 changed")
    cells = page.get_by_test_id("changed-cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(0)).to_have_text("3.5 → 99.5")
    expect(cells.nth(1)).to_have_text("steel → titanium")
    changed_colour = background(cells.nth(0))
    added_colour = background(page.get_by_test_id("diff-added").locator("tbody td").first)
    removed_colour = background(page.get_by_test_id("diff-removed").locator("tbody td").first)
    unchanged = background(page.get_by_role("heading", level=1))
    assert len({changed_colour, added_colour, removed_colour, unchanged}) == 4
    expect(page.get_by_test_id("diff-added")).to_contain_text("scratch")

    # Choosing other versions in the form.
    page.get_by_label("Older version").select_option("v2")
    page.get_by_role("button", name="Show changes").click()
    expect(page.get_by_test_id("no-changes")).to_be_visible()
    assert console_errors == []


def test_a_failed_leakage_check_says_so_in_place(
    grove_page: Page,
    grove_live_server: str,
    demo_data: None,
    console_errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable("the database went away")

    monkeypatch.setattr(splits, "leakage", unavailable)
    page = grove_page
    page.goto(f"{grove_live_server}/data/defect-detection/parts/v2")
    log_in(page, "eli", demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Check for train/test leakage").click()
    alert = page.locator("#leakage").get_by_role("alert")
    expect(alert).to_contain_text("that did not work (HTTP 503)")
    expect(page).to_have_url(f"{grove_live_server}/data/defect-detection/parts/v2")
    # Chromium logs the failed request itself; nothing else may go wrong.
    assert [e for e in console_errors if "503" not in e] == []


def test_dataset_pages_fit_a_phone_screen(
    grove_page: Page, grove_live_server: str, demo_data: None
) -> None:
    page = grove_page
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{grove_live_server}/login")
    log_in(page, "maya", demo.DEMO_PASSWORD)
    expect(page).to_have_url(f"{grove_live_server}/")
    for path in [
        "/data",
        "/data/defect-detection/parts",
        "/data/defect-detection/parts/v2",
        "/data/defect-detection/parts/diff",
    ]:
        page.goto(f"{grove_live_server}{path}")
        # Wide tables and the lineage graph scroll inside their box, not the page.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
