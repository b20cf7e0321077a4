"""The web UI over real HTTP: login, sessions, CSRF, pages, tokens and error pages.

Each test runs against a live server on SQLite and on PostgreSQL, and asserts what a
person in a browser (or a script holding a cookie) would notice.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mlgrove.services import people, sessions
from mlgrove.services.context import Runtime
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

NAV_PAGES = [
    "/data",
    "/runs",
    "/models",
    "/pipelines",
    "/review",
    "/team",
    "/people",
    "/growth",
    "/programs",
]
SECTION_HEADINGS = {
    "/data": "Data",
    "/runs": "Runs",
    "/models": "Models",
    "/review": "Review",
}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    """Two teams, a manager with two reports in one, a reviewer in the other."""
    return grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "ana": {"role": "manager", "team": "Vision", "display_name": "Ana Alvarez"},
                "bo": {
                    "role": "engineer",
                    "team": "Vision",
                    "manager": "ana",
                    "display_name": "Bo Berg",
                },
                "cy": {"role": "reviewer", "team": "Speech", "display_name": "Cy Chen"},
            },
            "projects": {"defect-finder": "Vision", "call-transcripts": "Speech"},
        }
    )


@pytest.fixture
def client(grove_live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grove_live_server, follow_redirects=False, timeout=30) as c:
        yield c


def csrf_from(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no csrf_token form field"
    return found.group(1)


def post_login(
    client: httpx.Client, username: str, password: str, next_path: str = "/"
) -> httpx.Response:
    """Fill in and send the login form the way a browser does."""
    form = client.get("/login")
    assert form.status_code == 200
    return client.post(
        "/login",
        data={
            "csrf_token": csrf_from(form.text),
            "username": username,
            "password": password,
            "next": next_path,
        },
    )


def log_in(client: httpx.Client, username: str) -> None:
    resp = post_login(client, username, DEFAULT_PASSWORD)
    assert resp.status_code == 303, resp.text
    assert "grove_session" in client.cookies


def assert_login_redirect(resp: httpx.Response, next_path: str) -> None:
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/login?next={next_path}"


# Logging in and out ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", *NAV_PAGES, "/settings/tokens"])
def test_a_page_visited_logged_out_sends_you_to_login_and_back(
    client: httpx.Client, world: dict[str, Any], path: str
) -> None:
    resp = client.get(path)
    assert_login_redirect(resp, path)

    login = client.get(resp.headers["location"])
    assert login.status_code == 200
    assert f'name="next" value="{path}"' in login.text

    landed = post_login(client, "bo", DEFAULT_PASSWORD, next_path=path)
    assert landed.status_code == 303
    assert landed.headers["location"] == path
    assert client.get(path).status_code == 200


def test_the_whole_address_survives_the_trip_through_login(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    # A link someone shared (with a query string) must land on the same view after login.
    path = "/people?team=Vision&sort=name"
    resp = client.get(path)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/people%3Fteam%3DVision%26sort%3Dname"

    login = client.get(resp.headers["location"])
    assert 'name="next" value="/people?team=Vision&amp;sort=name"' in login.text
    landed = post_login(client, "bo", DEFAULT_PASSWORD, next_path=path)
    assert landed.status_code == 303
    assert landed.headers["location"] == path
    assert client.get(landed.headers["location"]).status_code == 200


def test_a_form_posted_logged_out_returns_to_home_after_login(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    # The form's address only answers POST: coming back to it with a GET would be a 405.
    token = csrf_from(client.get("/login").text)
    resp = client.post("/settings/tokens", data={"csrf_token": token, "name": "ci", "days": "30"})
    assert_login_redirect(resp, "/")


def test_login_page_sets_a_csrf_cookie_and_the_matching_form_field(
    client: httpx.Client,
) -> None:
    first = client.get("/login")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    set_cookie = first.headers["set-cookie"]
    assert set_cookie.startswith("grove_csrf=")
    assert "httponly" in set_cookie.lower()
    assert "samesite=lax" in set_cookie.lower()
    token = csrf_from(first.text)
    assert 'name="username"' in first.text
    assert 'type="password"' in first.text

    # The same browser keeps its token: pages opened in two tabs both submit fine.
    again = client.get("/login")
    assert "set-cookie" not in again.headers
    assert csrf_from(again.text) == token


def test_right_password_opens_a_session_and_goes_to_next(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    resp = post_login(client, "bo", DEFAULT_PASSWORD, next_path="/runs")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/runs"
    session_cookie = next(
        v for k, v in resp.headers.multi_items() if k == "set-cookie" and "grove_session=" in v
    )
    assert "httponly" in session_cookie.lower()

    page = client.get("/runs")
    assert page.status_code == 200
    assert "Bo Berg" in page.text  # the user menu names who is logged in
    # Already logged in: the login page forwards instead of asking again.
    again = client.get("/login", params={"next": "/people"})
    assert again.status_code == 303
    assert again.headers["location"] == "/people"


def test_username_is_not_case_sensitive(client: httpx.Client, world: dict[str, Any]) -> None:
    resp = post_login(client, "  Bo ", DEFAULT_PASSWORD)
    assert resp.status_code == 303
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.com",
        "//evil.com/login",
        "https://evil.com/",
        "/\\evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
        "",
    ],
)
def test_login_never_redirects_off_site(
    client: httpx.Client, world: dict[str, Any], next_path: str
) -> None:
    resp = post_login(client, "bo", DEFAULT_PASSWORD, next_path=next_path)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"

    # Nor does the form carry the off-site target along.
    fresh = httpx.get(f"{client.base_url}/login", params={"next": next_path})
    assert 'name="next" value="/"' in fresh.text


def test_wrong_password_says_so_and_opens_no_session(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    resp = post_login(client, "bo", "not-the-password", next_path="/data")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("text/html")
    assert "wrong username or password" in resp.text
    assert 'role="alert"' in resp.text
    assert 'value="bo"' in resp.text  # the username stays filled in
    assert 'name="next" value="/data"' in resp.text
    assert "grove_session" not in client.cookies
    assert_login_redirect(client.get("/data"), "/data")


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    resp = post_login(client, "nobody", DEFAULT_PASSWORD)
    assert resp.status_code == 401
    assert "wrong username or password" in resp.text


@pytest.mark.parametrize("sent", ["missing", "wrong", "no-cookie"])
def test_login_form_without_a_valid_csrf_token_is_refused(
    client: httpx.Client, world: dict[str, Any], sent: str
) -> None:
    token = csrf_from(client.get("/login").text)
    form = {"username": "bo", "password": DEFAULT_PASSWORD, "next": "/"}
    if sent == "wrong":
        form["csrf_token"] = token[::-1]
    elif sent == "no-cookie":
        form["csrf_token"] = token
        client.cookies.clear()
    resp = client.post("/login", data=form)
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("text/html")
    assert "<h1>Not allowed</h1>" in resp.text
    assert "reload the page" in resp.text
    assert "grove_session" not in client.cookies


def test_too_many_failures_lock_the_login_even_with_the_right_password(
    client: httpx.Client, world: dict[str, Any], grove_runtime: Runtime
) -> None:
    assert grove_runtime.settings.login_max_failures == 5  # the documented default
    for _ in range(5):
        assert post_login(client, "bo", "guess").status_code == 401
    resp = post_login(client, "bo", DEFAULT_PASSWORD)
    assert resp.status_code == 429
    assert int(resp.headers["retry-after"]) > 0
    assert "too many failed logins" in resp.text
    assert "try again in" in resp.text
    assert "grove_session" not in client.cookies
    # Only that account is locked: someone else can still log in from here.
    assert post_login(client, "ana", DEFAULT_PASSWORD).status_code == 303


def test_logout_ends_the_session_on_the_server(
    client: httpx.Client, world: dict[str, Any], grove_live_server: str
) -> None:
    log_in(client, "bo")
    old_cookie = client.cookies["grove_session"]
    page = client.get("/")
    assert page.status_code == 200

    resp = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login"
    assert "grove_session" not in client.cookies  # the browser drops it...

    # ...and a copy kept elsewhere (a stolen cookie) no longer works either.
    with httpx.Client(base_url=grove_live_server, cookies={"grove_session": old_cookie}) as thief:
        assert_login_redirect(thief.get("/data"), "/data")
        assert thief.get("/api/v1/me").status_code == 401


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    # Another site must not be able to log people out by posting to /logout.
    log_in(client, "bo")
    resp = client.post("/logout", data={})
    assert resp.status_code == 403
    assert "reload the page" in resp.text
    assert client.get("/").status_code == 200


def test_a_forged_session_cookie_is_ignored(
    client: httpx.Client, world: dict[str, Any], grove_live_server: str
) -> None:
    with httpx.Client(
        base_url=grove_live_server, cookies={"grove_session": "made-up.signature"}
    ) as forged:
        assert_login_redirect(forged.get("/"), "/")


# Pages -----------------------------------------------------------------------------------


@pytest.fixture
def as_bo(client: httpx.Client, world: dict[str, Any]) -> httpx.Client:
    log_in(client, "bo")
    return client


def table_rows(html: str) -> list[list[str]]:
    """The text of each table body row's cells in the page's main content."""
    main = html[html.index("<main") : html.index("</main>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", main, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells:
            rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


def nav_links(html: str) -> dict[str, bool]:
    """Each main-navigation link and whether it is marked as the current page."""
    nav = html[html.index('class="grove-nav"') :]
    nav = nav[: nav.index("</ul>")]
    return {
        m.group(1): "aria-current" in m.group(0)
        for m in re.finditer(r'<a href="([^"]+)"[^>]*>', nav)
    }


def test_home_lists_every_project_with_its_team(as_bo: httpx.Client) -> None:
    resp = as_bo.get("/")
    assert resp.status_code == 200
    assert "Welcome, Bo Berg" in resp.text
    assert 'in <a href="/team">Vision</a>' in resp.text
    by_project = {cells[0]: cells for cells in table_rows(resp.text)}
    assert set(by_project) == {"defect-finder", "call-transcripts"}
    assert by_project["defect-finder"][1] == "Vision"
    assert by_project["call-transcripts"][1] == "Speech"
    assert not any(nav_links(resp.text).values())  # no section is "current" on home


@pytest.mark.parametrize("path", NAV_PAGES)
def test_every_nav_page_opens_and_marks_itself_current(as_bo: httpx.Client, path: str) -> None:
    resp = as_bo.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    links = nav_links(resp.text)
    assert list(links) == NAV_PAGES
    assert [p for p, current in links.items() if current] == [path]


def test_pipelines_page_with_none_says_how_to_make_one(as_bo: httpx.Client) -> None:
    resp = as_bo.get("/pipelines")
    assert "<h1>Pipelines</h1>" in resp.text
    assert "No pipelines yet." in resp.text


@pytest.mark.parametrize("path", list(SECTION_HEADINGS))
def test_section_pages_list_the_real_projects(as_bo: httpx.Client, path: str) -> None:
    resp = as_bo.get(path)
    assert f"<h1>{SECTION_HEADINGS[path]}</h1>" in resp.text
    assert "defect-finder" in resp.text
    assert "call-transcripts" in resp.text


def test_section_pages_say_so_when_there_are_no_projects(
    client: httpx.Client, grove_factories: Factories
) -> None:
    grove_factories.person("lone", team=grove_factories.team("Solo"))
    log_in(client, "lone")
    resp = client.get("/data")
    assert resp.status_code == 200
    assert "No projects yet" in resp.text


def test_team_page_shows_my_team_its_members_and_projects(as_bo: httpx.Client) -> None:
    resp = as_bo.get("/team")
    text = resp.text
    assert "<h1>Vision</h1>" in text
    assert "Ana Alvarez" in text
    assert "Bo Berg" in text
    assert "Cy Chen" not in text  # another team's member
    assert "defect-finder" in text
    assert "call-transcripts" not in text.split("All teams")[0]
    assert "Speech" in text.split("All teams")[1]


def test_team_page_for_someone_without_a_team(
    client: httpx.Client, grove_factories: Factories
) -> None:
    grove_factories.person("drifter")
    log_in(client, "drifter")
    resp = client.get("/team")
    assert resp.status_code == 200
    assert "not in a team yet" in resp.text


def test_people_directory_lists_everyone_with_role_team_and_manager(
    as_bo: httpx.Client,
) -> None:
    resp = as_bo.get("/people")
    assert resp.status_code == 200
    rows = {cells[1]: cells for cells in table_rows(resp.text)}
    assert rows["ana"] == ["Ana Alvarez", "ana", "manager", "Vision", ""]
    assert rows["bo"] == ["Bo Berg", "bo", "engineer", "Vision", "Ana Alvarez"]
    assert rows["cy"] == ["Cy Chen", "cy", "reviewer", "Speech", ""]
    # A directory, never a scoreboard.
    assert "score" not in resp.text.lower().replace("no productivity scores", "")


def test_unknown_page_is_a_helpful_html_404(client: httpx.Client, world: dict[str, Any]) -> None:
    for who in ("logged out", "logged in"):
        if who == "logged in":
            log_in(client, "bo")
        resp = client.get("/no-such-page")
        assert resp.status_code == 404, who
        assert resp.headers["content-type"].startswith("text/html"), who
        assert "<h1>Page not found</h1>" in resp.text, who
        assert "/no-such-page" in resp.text, who
        assert "check the address" in resp.text, who
        assert 'href="/"' in resp.text, who
        if who == "logged in":  # the navigation the hint points to is there
            assert list(nav_links(resp.text)) == NAV_PAGES
            assert "Bo Berg" in resp.text
            assert 'href="/login"' not in resp.text
        else:
            assert 'href="/login"' in resp.text
            assert 'class="grove-nav"' not in resp.text


def test_opening_a_form_address_directly_explains_itself(as_bo: httpx.Client) -> None:
    # e.g. a revoke button's address pasted into the address bar
    resp = as_bo.get("/settings/tokens/1/revoke")
    assert resp.status_code == 405
    assert resp.headers["content-type"].startswith("text/html")
    assert "/settings/tokens/1/revoke cannot be opened this way (GET)" in resp.text


def test_error_pages_escape_what_the_visitor_typed(client: httpx.Client) -> None:
    resp = client.get("/%3Cscript%3Ealert(1)%3C/script%3E")
    assert resp.status_code == 404
    assert "<script>alert(1)" not in resp.text
    assert "&lt;script&gt;alert(1)" in resp.text


def test_unknown_api_path_answers_problem_json(client: httpx.Client) -> None:
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert "/api/docs" in resp.json()["hint"]


def test_an_error_page_does_not_hold_up_other_visitors(
    client: httpx.Client,
    world: dict[str, Any],
    grove_live_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 404 page looks up who is logged in (a database read). While that read is slow,
    # the server must go on answering everyone else.
    log_in(client, "bo")
    entered, release = threading.Event(), threading.Event()
    real_lookup = sessions.person_for_session

    def slow_lookup(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(15)
        return real_lookup(*args, **kwargs)

    monkeypatch.setattr(sessions, "person_for_session", slow_lookup)
    with ThreadPoolExecutor(1) as pool:
        not_found = pool.submit(client.get, "/no-such-page")
        try:
            assert entered.wait(15), "the 404 page never looked up the session"
            with httpx.Client(base_url=grove_live_server, timeout=5) as someone_else:
                assert someone_else.get("/static/grove.css").status_code == 200
        finally:
            release.set()
        page = not_found.result(timeout=30)
    assert page.status_code == 404
    assert "Bo Berg" in page.text


@pytest.fixture
def broken_teams(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug: listing teams raises an unexpected error (home page and API both use it)."""

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(people, "list_teams", crash)


def test_a_crash_shows_a_generic_page_with_the_security_headers(
    as_bo: httpx.Client, broken_teams: None
) -> None:
    for path in ("/", "/api/v1/teams"):
        resp = as_bo.get(path)  # one client: the first crash must not break its next request
        assert resp.status_code == 500, path
        assert "a bug" not in resp.text, path  # no internals leak out
        assert "Traceback" not in resp.text, path
        assert "script-src 'self'" in resp.headers["content-security-policy"], path
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["referrer-policy"] == "same-origin", path
    page = as_bo.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Something went wrong</h1>" in page.text
    api = as_bo.get("/api/v1/teams")
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["type"] == "urn:mlgrove:problem:internal"


def test_get_logout_offers_a_button_instead_of_an_error(as_bo: httpx.Client) -> None:
    # People type /logout into the address bar; that must not log them out by itself
    # (a GET is not protected by CSRF), nor show a bare "Method Not Allowed".
    resp = as_bo.get("/logout")
    assert resp.status_code == 200
    assert 'action="/logout"' in resp.text
    assert as_bo.get("/").status_code == 200


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EXTERNAL_URL = re.compile(r"""(?:src|href|action)=["'](?:[a-z]+:)?//""", re.I)


def test_security_headers_on_every_kind_of_response(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    paths = ["/login", "/api/docs", "/", "/people", "/no-such-page", "/static/grove.css"]
    for path in paths:
        if path == "/":
            log_in(client, "bo")
        resp = client.get(path)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["referrer-policy"] == "same-origin", path


def test_pages_load_only_our_own_scripts_and_styles(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    # The CSP blocks inline scripts and CDNs; a page relying on them would break.
    paths = ["/login", "/api/docs", "/", *NAV_PAGES, "/settings/tokens", "/logout", "/nope"]
    assets: set[str] = set()
    for path in paths:
        if path == "/":
            log_in(client, "bo")
        html = client.get(path).text
        assert not INLINE_SCRIPT.search(html), path
        assert not EXTERNAL_URL.search(html), path
        assets.update(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    assert "/static/grove.js" in assets
    assert "/static/swagger-init.js" in assets
    for asset in sorted(assets):
        assert client.get(asset).status_code == 200, asset


# API tokens in the UI, and the API behind the cookie ----------------------------------------


def test_token_made_in_the_ui_works_until_revoked_in_the_ui(
    as_bo: httpx.Client, grove_live_server: str
) -> None:
    page = as_bo.get("/settings/tokens")
    assert page.status_code == 200
    assert "No tokens yet" in page.text

    made = as_bo.post(
        "/settings/tokens", data={"csrf_token": csrf_from(page.text), "name": "laptop", "days": 30}
    )
    assert made.status_code == 201
    secrets = re.findall(r"grove_[0-9a-f]{12}_[A-Za-z0-9_-]+", made.text)
    assert len(secrets) == 1
    secret = secrets[0]
    assert "will not be shown again" in made.text

    listed = as_bo.get("/settings/tokens")
    assert secret not in listed.text  # shown once
    assert "laptop" in listed.text
    assert secret.split("_")[1] in listed.text  # the prefix identifies it
    assert ">active<" in listed.text

    bearer = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=grove_live_server) as script:
        me = script.get("/api/v1/me", headers=bearer)
        assert me.status_code == 200
        assert me.json()["username"] == "bo"

        revoke_path = re.search(r'action="(/settings/tokens/\d+/revoke)"', listed.text)
        assert revoke_path
        revoked = as_bo.post(revoke_path.group(1), data={"csrf_token": csrf_from(listed.text)})
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/settings/tokens"
        after = as_bo.get("/settings/tokens")
        assert ">revoked<" in after.text
        assert "/revoke" not in after.text  # nothing left to revoke

        refused = script.get("/api/v1/me", headers=bearer)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:mlgrove:problem:token-revoked"


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [("   ", "30", "a token needs a name"), ("ci", "9999", "1 to 366 days")],
)
def test_token_form_explains_bad_input(
    as_bo: httpx.Client, name: str, days: str, message: str
) -> None:
    page = as_bo.get("/settings/tokens")
    resp = as_bo.post(
        "/settings/tokens", data={"csrf_token": csrf_from(page.text), "name": name, "days": days}
    )
    assert resp.status_code == 400
    assert message in resp.text
    assert 'role="alert"' in resp.text
    assert "No tokens yet" in resp.text


def test_token_form_without_csrf_token_makes_no_token(as_bo: httpx.Client) -> None:
    resp = as_bo.post("/settings/tokens", data={"name": "sneaky", "days": "30"})
    assert resp.status_code == 403
    assert "reload the page" in resp.text
    assert "sneaky" not in as_bo.get("/settings/tokens").text


def test_revoking_someone_elses_token_is_not_possible(
    as_bo: httpx.Client, world: dict[str, Any], grove_factories: Factories
) -> None:
    theirs = grove_factories.token(world["cy"])
    page = as_bo.get("/settings/tokens")
    resp = as_bo.post(
        f"/settings/tokens/{theirs.info.id}/revoke", data={"csrf_token": csrf_from(page.text)}
    )
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    with httpx.Client(base_url=str(as_bo.base_url)) as script:
        me = script.get("/api/v1/me", headers={"Authorization": f"Bearer {theirs.secret}"})
        assert me.status_code == 200


def test_cookie_authenticated_api_writes_need_the_csrf_header(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    log_in(client, "ana")  # a manager, who may create teams
    assert client.get("/api/v1/me").json()["username"] == "ana"  # reads need no token

    refused = client.post("/api/v1/teams", json={"name": "Robotics"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:mlgrove:problem:csrf"
    wrong = client.post("/api/v1/teams", json={"name": "Robotics"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    assert "Robotics" not in [t["name"] for t in client.get("/api/v1/teams").json()]

    # The page's meta tag holds the token scripts (htmx) send as the header.
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
    assert meta
    made = client.post(
        "/api/v1/teams", json={"name": "Robotics"}, headers={"X-CSRF-Token": meta.group(1)}
    )
    assert made.status_code == 201
    assert "Robotics" in [t["name"] for t in client.get("/api/v1/teams").json()]


def test_api_docs_use_the_vendored_swagger_ui_without_inline_script(
    client: httpx.Client,
) -> None:
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    html = resp.text
    assert '<script src="/static/vendor/swagger-ui-bundle.js" defer>' in html
    assert '<script src="/static/swagger-init.js" defer>' in html
    assert 'href="/static/vendor/swagger-ui.css"' in html
    assert 'data-openapi-url="/api/openapi.json"' in html
    assert not INLINE_SCRIPT.search(html)
    assert "http://" not in html
    assert "https://" not in html
    # The page keeps the strict policy: no exception for inline scripts.
    assert "script-src 'self';" in resp.headers["content-security-policy"]
    assert "unsafe-inline" not in resp.headers["content-security-policy"].split("script-src")[1]
    for asset in (
        "/static/vendor/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui.css",
        "/static/swagger-init.js",
    ):
        assert client.get(asset).status_code == 200
    init = client.get("/static/swagger-init.js")
    assert "javascript" in init.headers["content-type"]
    assert "SwaggerUIBundle(" in init.text
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/me" in spec["paths"]
    assert not any(p in spec["paths"] for p in ["/login", "/logout", "/data"])
