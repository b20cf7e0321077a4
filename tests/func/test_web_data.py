"""The dataset pages over real HTTP: the list, a dataset's history, a version (schema,
statistics and charts, splits, leakage, sample rows, lineage) and the row diff.

Each test runs against a live server on SQLite and on PostgreSQL, with data committed
through the services, and asserts what a person reading the page would see.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pyarrow as pa
import pytest

from mlgrove.server.web import data_views
from mlgrove.services import splits, table_commit
from mlgrove.testing.factories import DEFAULT_PASSWORD, Factories

PROJECT = "defect-finder"
SPACED = "call transcripts"  # a project name that needs quoting in a URL
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


# -- the world and its data -------------------------------------------------------------


@pytest.fixture
def world(grove_factories: Factories) -> dict[str, Any]:
    return grove_factories.world(
        {
            "teams": ["Vision", "Speech"],
            "people": {
                "bo": {"role": "engineer", "team": "Vision", "display_name": "Bo Berg"},
                "cy": {"role": "reviewer", "team": "Speech", "display_name": "Cy Chen"},
            },
            "projects": {PROJECT: "Vision", SPACED: "Speech"},
        }
    )


def parts_v1() -> list[dict[str, Any]]:
    """100 measured parts: a key, a number, a category, a column with gaps, a label."""
    return [
        {
            "id": i,
            "width": i * 0.5,
            "material": "brass" if i % 3 == 0 else "steel",
            "note": None if i % 10 == 0 else f"batch {i // 10}",
            "label": "defect" if i % 4 == 0 else "ok",
        }
        for i in range(100)
    ]


def parts_v2() -> list[dict[str, Any]]:
    """v1 less parts 0-4, part 10 re-measured and re-classified, part 11 re-noted, two new."""
    rows = [r for r in parts_v1() if r["id"] >= 5]
    for r in rows:
        if r["id"] == 10:
            r["width"], r["material"] = 99.5, "titanium"
        if r["id"] == 11:
            r["note"] = "checked twice"
    rows += [
        {"id": 100, "width": 1.25, "material": "steel", "note": "new", "label": "ok"},
        {"id": 101, "width": 2.5, "material": "steel", "note": "new", "label": "defect"},
    ]
    return rows


@pytest.fixture
def parts(world: dict[str, Any], grove_factories: Factories) -> None:
    """Dataset "parts": v1 (100 rows, split 80/20) and v2 (5 removed, 2 changed, 2 added)."""
    ctx = grove_factories.admin_ctx
    table_commit.commit(
        ctx,
        "parts",
        pa.Table.from_pylist(parts_v1()),
        project=PROJECT,
        key=["id"],
        label="label",
        message="first measurements",
    )
    splits.split(ctx, "parts", "v1", ratios={"train": 0.8, "test": 0.2}, project=PROJECT)
    table_commit.commit(
        ctx, "parts", pa.Table.from_pylist(parts_v2()), project=PROJECT, message="re-measured"
    )


# -- HTTP helpers -------------------------------------------------------------------------


@pytest.fixture
def client(grove_live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grove_live_server, follow_redirects=False, timeout=30) as c:
        yield c


def log_in(client: httpx.Client, username: str, next_path: str = "/") -> httpx.Response:
    form = client.get("/login")
    found = CSRF_FIELD.search(form.text)
    assert found
    resp = client.post(
        "/login",
        data={
            "csrf_token": found.group(1),
            "username": username,
            "password": DEFAULT_PASSWORD,
            "next": next_path,
        },
    )
    assert resp.status_code == 303, resp.text
    return resp


@pytest.fixture
def as_bo(client: httpx.Client, world: dict[str, Any]) -> httpx.Client:
    log_in(client, "bo")
    return client


def page(client: httpx.Client, path: str, status: int = 200) -> str:
    resp = client.get(path)
    assert resp.status_code == status, (path, resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("text/html")
    return resp.text


def text(fragment: str) -> str:
    """What a reader sees of some HTML: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def main(doc: str) -> str:
    return doc[doc.index("<main") : doc.index("</main>")]


def table_html(doc: str, testid: str) -> str:
    found = re.search(rf'<table[^>]*data-testid="{testid}"[^>]*>(.*?)</table>', doc, re.S)
    assert found, f"the page has no table {testid!r}"
    return found.group(1)


def headers(doc: str, testid: str) -> list[str]:
    head = table_html(doc, testid).split("</thead>")[0]
    return [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def rows(doc: str, testid: str) -> list[list[str]]:
    """The text of each body row's cells of the table with this data-testid."""
    body = table_html(doc, testid).split("<tbody>", 1)[1]
    return [
        [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def svg(doc: str, testid: str) -> str:
    found = re.search(rf'<svg[^>]*data-testid="{testid}"[^>]*>(.*?)</svg>', doc, re.S)
    assert found, f"the page has no chart {testid!r}"
    return found.group(0)


def bar_tooltips(chart: str) -> list[str]:
    """Each bar's tooltip (a chart's own title comes first and is left out)."""
    return [html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", chart)][1:]


# -- the list ---------------------------------------------------------------------------


def test_data_page_lists_every_projects_datasets_with_the_latest_version(
    as_bo: httpx.Client, parts: None
) -> None:
    doc = page(as_bo, "/data")
    assert "<h1>Data</h1>" in doc
    found = rows(doc, "datasets")
    assert len(found) == 1
    name, kind, latest, count, size, updated, message = found[0]
    assert (name, kind, latest, count, message) == ("parts", "table", "v2", "97", "re-measured")
    assert re.fullmatch(r"[\d.]+ (B|KB)", size)
    assert updated.endswith("by local")
    assert 'href="/data/defect-finder/parts"' in doc
    assert 'href="/data/defect-finder/parts/v2"' in doc

    # A project without data says how to add some, with the project named.
    spaced = text(main(doc).split('data-testid="project-call transcripts"')[1])
    assert "No datasets in call transcripts yet" in spaced
    assert 'mlgrove data add NAME FILE --key id --project "call transcripts"' in spaced
    assert 'href="/data/call%20transcripts"' in doc


def test_data_page_without_projects_says_how_to_add_data(
    client: httpx.Client, grove_factories: Factories
) -> None:
    grove_factories.person("lone")
    log_in(client, "lone")
    seen = text(main(page(client, "/data")))
    assert "No projects yet" in seen
    assert "mlgrove data add NAME FILE --key id" in seen


def test_project_page_shows_only_that_projects_datasets(as_bo: httpx.Client, parts: None) -> None:
    doc = page(as_bo, "/data/defect-finder")
    assert "<h1>defect-finder</h1>" in doc
    assert [r[0] for r in rows(doc, "datasets")] == ["parts"]
    assert "call transcripts" not in main(doc)

    empty = page(as_bo, "/data/call%20transcripts")
    assert "<h1>call transcripts</h1>" in empty
    assert "No datasets in call transcripts yet" in text(empty)

    missing = page(as_bo, "/data/no-such-project", status=404)
    assert "no project named &#39;no-such-project&#39;" in missing
    assert "mlgrove project list" in missing


# -- history ----------------------------------------------------------------------------


def test_history_lists_versions_newest_first_with_their_changes(
    as_bo: httpx.Client, parts: None
) -> None:
    doc = page(as_bo, "/data/defect-finder/parts")
    assert "<h1>parts</h1>" in doc
    seen = text(main(doc))
    assert "A table keyed by id , label column label , in project defect-finder" in seen
    versions = rows(doc, "versions")
    assert [v[0] for v in versions] == ["v2", "v1"]
    assert versions[0][4] == "97"
    assert versions[1][4] == "100"
    assert versions[0][7] == "re-measured"
    assert versions[0][8] == "since v1"
    assert versions[1][8] == "first"
    assert 'href="/data/defect-finder/parts/diff?from=v1&amp;to=v2"' in doc
    assert 'href="/data/defect-finder/parts/v1"' in doc
    # Rows per version, drawn on the server.
    assert bar_tooltips(svg(doc, "growth-chart")) == ["v1: 100 rows", "v2: 97 rows"]
    # The compare form offers every version, preset to the latest change.
    form = doc.split('data-testid="compare-form"')[1].split("</form>")[0]
    assert 'action="/data/defect-finder/parts/diff"' in doc
    assert '<option value="v1" selected>' in form.split('name="to"')[0]
    assert '<option value="v2" selected>' in form.split('name="to"')[1]


def test_history_pages_through_many_versions(
    as_bo: httpx.Client, parts: None, grove_factories: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    table_commit.commit(
        grove_factories.admin_ctx,
        "parts",
        pa.Table.from_pylist(parts_v1()),
        project=PROJECT,
        message="back to the first measurements",
    )
    monkeypatch.setattr(data_views, "HISTORY_PAGE", 2)
    first = page(as_bo, "/data/defect-finder/parts")
    assert [v[0] for v in rows(first, "versions")] == ["v3", "v2"]
    older = re.search(r'href="([^"]+)" data-testid="older"', first)
    assert older
    assert html.unescape(older.group(1)) == "/data/defect-finder/parts?before=2"

    second = page(as_bo, html.unescape(older.group(1)))
    assert [v[0] for v in rows(second, "versions")] == ["v1"]
    assert 'data-testid="older"' not in second
    assert "Newest versions" in second


def test_unknown_dataset_or_version_is_a_helpful_404(as_bo: httpx.Client, parts: None) -> None:
    missing = text(page(as_bo, "/data/defect-finder/nothing", status=404))
    assert "no dataset named 'nothing' in project 'defect-finder'" in missing
    assert "mlgrove data list" in missing
    no_version = text(page(as_bo, "/data/defect-finder/parts/v9", status=404))
    assert "dataset 'parts' has no version 'v9'" in no_version
    assert "mlgrove data log parts" in no_version
    nonsense = text(page(as_bo, "/data/defect-finder/parts/version-nine", status=400))
    assert "does not name a version" in nonsense


# -- one version ------------------------------------------------------------------------


def test_version_page_shows_schema_and_statistics(as_bo: httpx.Client, parts: None) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/v1")
    assert "<h1>parts v1</h1>" in doc
    seen = text(main(doc))
    assert "100 rows" in seen
    assert "first measurements" in seen
    assert headers(doc, "schema") == ["Column", "Type", "Nulls", "Min", "Max", "Mean", "Std dev"]
    schema = {r[0]: r for r in rows(doc, "schema")}
    assert list(schema) == ["id key", "width", "material", "note", "label label"]
    assert schema["id key"][1:5] == ["int64", "0", "0", "99"]
    assert schema["id key"][5] == "49.5"
    assert schema["width"][1:6] == ["double", "0", "0", "49.5", "24.75"]
    assert schema["note"][2] == "10 (10%)"  # nulls, with their share
    assert schema["material"][1] == "large_string"


def test_version_page_draws_distributions_and_labels_as_svg(
    as_bo: httpx.Client, parts: None
) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/v1")
    # A histogram for a numeric column: 12 bins covering every row.
    width = svg(doc, "chart-width")
    assert 'role="img"' in width
    assert 'aria-label="Histogram of width: 12 bins from 0 to 49.5"' in width
    bins = bar_tooltips(width)
    assert len(bins) == 12
    assert sum(int(re.search(r": (\d+) rows?$", b).group(1)) for b in bins) == 100  # type: ignore[union-attr]
    assert bins[0].startswith("0 to 4.125: ")
    # The most frequent values of a text column, with their counts.
    assert bar_tooltips(svg(doc, "chart-material")) == ["steel: 66", "brass: 34"]
    # The label distribution, with shares.
    assert bar_tooltips(svg(doc, "label-chart")) == ["ok: 75 (75%)", "defect: 25 (25%)"]
    assert "Rows per value of the label column label" in text(doc)


def test_version_page_shows_the_split_and_its_counts(as_bo: httpx.Client, parts: None) -> None:
    v1 = page(as_bo, "/data/defect-finder/parts/v1")
    counts = {r[0]: int(r[1]) for r in rows(v1, "splits")}
    assert set(counts) == {"train", "test"}
    assert sum(counts.values()) == 100
    assert 60 <= counts["train"] <= 95  # 80% by each row's identity
    assert [t.split(":")[0] for t in bar_tooltips(svg(v1, "split-chart"))] == ["train", "test"]
    seen = text(v1)
    assert "at train 80%, test 20%" in seen
    assert "Assigned by local" in seen

    # v2 inherited the split: surviving rows kept theirs, the new rows were assigned.
    v2 = page(as_bo, "/data/defect-finder/parts/v2")
    assert sum(int(r[1]) for r in rows(v2, "splits")) == 97
    assert "Inherited from v1" in text(v2)
    assert 'hx-get="/data/defect-finder/parts/v2/leakage"' in v2


def test_version_page_shows_the_first_rows(as_bo: httpx.Client, parts: None) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/v2")
    assert headers(doc, "sample") == ["id key", "width", "material", "note", "label"]
    sample = rows(doc, "sample")
    assert len(sample) == data_views.SAMPLE_ROWS
    assert sample[0] == ["5", "2.5", "steel", "batch 0", "ok"]
    assert sample[5] == ["10", "99.5", "titanium", "null", "ok"]  # a missing value says so
    assert f"The first {data_views.SAMPLE_ROWS} of 97 rows" in text(doc)


def test_version_page_shows_lineage_with_links(as_bo: httpx.Client, parts: None) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/v2")
    edges = rows(doc, "lineage")
    assert ["parts v1 dataset in defect-finder", "parent", "parts v2 dataset in defect-finder"] in [
        e[:3] for e in edges
    ]
    assert ["Table in-memory object", "import", "parts v2 dataset in defect-finder"] in [
        e[:3] for e in edges
    ]
    graph = svg(doc, "lineage-graph")
    assert '<a href="/data/defect-finder/parts/v1">' in graph
    assert "grove-node-current" in graph
    # From v1, the graph reaches forward to what was made from it.
    v1 = page(as_bo, "/data/defect-finder/parts/v1")
    assert '<a href="/data/defect-finder/parts/v2">' in svg(v1, "lineage-graph")


def test_a_busy_lineage_is_listed_in_part(
    as_bo: httpx.Client, parts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_views, "LINEAGE_EDGES", 2)
    doc = page(as_bo, "/data/defect-finder/parts/v2")
    assert len(rows(doc, "lineage")) == 2
    assert "The first 2 of 3 connections are listed." in text(doc)


def test_latest_names_the_newest_version(as_bo: httpx.Client, parts: None) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/latest")
    assert "<h1>parts v2</h1>" in doc
    assert 'href="/data/defect-finder/parts/diff?from=v1&amp;to=v2"' in doc


def test_version_without_split_or_label_says_how_to_add_them(
    as_bo: httpx.Client, grove_factories: Factories
) -> None:
    table_commit.commit(
        grove_factories.admin_ctx,
        "raw calls",
        pa.table({"call": ["a", "b", "c"], "seconds": [10, 20, 30]}),
        project=SPACED,
        key=["call"],
    )
    listed = page(as_bo, "/data/call%20transcripts")
    assert 'href="/data/call%20transcripts/raw%20calls"' in listed
    doc = page(as_bo, "/data/call%20transcripts/raw%20calls/v1")
    seen = text(main(doc))
    assert (
        'No split yet. Make one with mlgrove data split raw calls v1 --ratios train=0.8,test=0.2 --project "call transcripts"'
        in seen
    )
    assert 'data-testid="label-chart"' not in doc
    assert "leakage" not in seen.lower()
    assert "v1 is the first version" in text(
        page(as_bo, "/data/call%20transcripts/raw%20calls/diff")
    )


def test_values_from_the_data_are_shown_as_text_never_as_markup(
    as_bo: httpx.Client, grove_factories: Factories
) -> None:
    evil = "<script>alert(1)</script>"
    table_commit.commit(
        grove_factories.admin_ctx,
        "comments",
        pa.table({"id": [1, 2], "body": [evil, "fine"]}),
        project=PROJECT,
        key=["id"],
        message="<b>bold</b> claim",
    )
    doc = page(as_bo, "/data/defect-finder/comments/v1")
    assert evil not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert "<b>bold</b>" not in doc
    assert rows(doc, "sample")[0] == ["1", evil]
    assert evil + ": 1" in bar_tooltips(svg(doc, "chart-body"))


# -- leakage ----------------------------------------------------------------------------


@pytest.fixture
def reviews(world: dict[str, Any], grove_factories: Factories) -> None:
    """Six reviews split by a column; the text "good product" sits in train and test."""
    ctx = grove_factories.admin_ctx
    table_commit.commit(
        ctx,
        "reviews",
        pa.table(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "text": ["good product", "broke", "good product", "meh", "broke", "new"],
                "fold": ["train", "train", "test", "test", "train", "test"],
            }
        ),
        project=PROJECT,
        key=["id"],
    )
    splits.split(ctx, "reviews", "v1", column="fold", project=PROJECT)


def test_leakage_check_loads_into_the_version_page(as_bo: httpx.Client, reviews: None) -> None:
    version = page(as_bo, "/data/defect-finder/reviews/v1")
    assert 'hx-target="#leakage"' in version
    assert '<div id="leakage"' in version

    # What htmx asks for: a fragment, not a page.
    resp = as_bo.get("/data/defect-finder/reviews/v1/leakage", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert resp.headers["vary"] == "HX-Request"
    fragment = resp.text
    assert "<html" not in fragment
    assert "<main" not in fragment
    seen = text(fragment)
    assert "Leakage: 2 rows share their content with a row in another split" in seen
    assert "(1 distinct content)" in seen
    assert headers(fragment, "leakage-examples") == ["id", "text", "fold", "In splits", "Copies"]
    assert rows(fragment, "leakage-examples") == [
        ["1", "good product", "train", "test, train", "2"]
    ]
    assert "Compared on text" in seen


def test_leakage_check_opened_directly_is_a_page(as_bo: httpx.Client, parts: None) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/v2/leakage")
    assert "<h1>Leakage check of parts v2</h1>" in doc
    assert "No leakage: no row's content appears in more than one split." in text(doc)
    assert 'href="/data/defect-finder/parts/v2#splits"' in doc


def test_leakage_check_without_a_split_says_how_to_make_one(
    as_bo: httpx.Client, grove_factories: Factories
) -> None:
    table_commit.commit(
        grove_factories.admin_ctx, "plain", pa.table({"a": [1, 2]}), project=PROJECT
    )
    missing = text(page(as_bo, "/data/defect-finder/plain/v1/leakage", status=404))
    assert "plain v1 has no split" in missing
    assert "mlgrove data split plain v1 --ratios train=0.8,test=0.2" in missing


# -- the diff ---------------------------------------------------------------------------


def test_diff_counts_and_lists_added_removed_and_changed_rows(
    as_bo: httpx.Client, parts: None
) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/diff?from=v1&to=v2")
    assert "<h1>Changes in parts from v1 to v2</h1>" in doc
    summary = text(doc.split('data-testid="diff-summary"')[1].split("</p>")[0])
    assert "+2 added" in summary
    assert "\N{MINUS SIGN}5 removed" in summary
    assert "~2 changed" in summary

    assert headers(doc, "diff-added") == ["id key", "width", "material", "note", "label"]
    assert rows(doc, "diff-added") == [
        ["100", "1.25", "steel", "new", "ok"],
        ["101", "2.5", "steel", "new", "defect"],
    ]
    assert [r[0] for r in rows(doc, "diff-removed")] == ["0", "1", "2", "3", "4"]
    # Green for added rows, red for removed ones.
    assert re.search(r'<table class="grove-rows grove-added" data-testid="diff-added">', doc)
    assert re.search(r'<table class="grove-rows grove-removed" data-testid="diff-removed">', doc)

    # Changed rows: the key, then each changed column; only changed cells are marked.
    assert headers(doc, "diff-changed") == ["id key", "width", "material", "note"]
    assert rows(doc, "diff-changed") == [
        ["10", "5 → 99.5", "steel → titanium", "·"],
        ["11", "·", "·", "batch 1 → checked twice"],
    ]
    changed = table_html(doc, "diff-changed")
    assert changed.count('class="grove-changed"') == 3
    assert (
        '<del aria-label="before">steel</del> → <ins aria-label="after">titanium</ins>' in changed
    )


def test_diff_defaults_to_the_latest_version_against_its_parent(
    as_bo: httpx.Client, parts: None
) -> None:
    doc = page(as_bo, "/data/defect-finder/parts/diff")
    assert "<h1>Changes in parts from v1 to v2</h1>" in doc
    assert "Rows are matched by id" in text(doc)
    first = page(as_bo, "/data/defect-finder/parts/diff?to=v1")
    assert "v1 is the first version: there is nothing before it to compare with." in text(first)
    same = page(as_bo, "/data/defect-finder/parts/diff?from=v2&to=v2")
    assert "No row was added, removed or changed." in text(same)


def test_diff_pages_through_the_rows(
    as_bo: httpx.Client, parts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_views, "DIFF_PAGE", 2)
    first = page(as_bo, "/data/defect-finder/parts/diff?from=v1&to=v2")
    assert [r[0] for r in rows(first, "diff-removed")] == ["0", "1"]
    assert [r[0] for r in rows(first, "diff-changed")] == ["10", "11"]
    assert "Rows 1\N{EN DASH}2 of each kind." in text(first)
    nxt = re.search(r'href="([^"]+)" rel="next"', first)
    assert nxt
    assert html.unescape(nxt.group(1)) == "/data/defect-finder/parts/diff?from=v1&to=v2&offset=2"

    second = page(as_bo, html.unescape(nxt.group(1)))
    assert [r[0] for r in rows(second, "diff-removed")] == ["2", "3"]
    assert 'data-testid="diff-added"' not in second  # both added rows were on page one
    assert "+2 added" in text(second)  # the counts stay those of the whole diff
    assert 'rel="prev"' in second

    last = page(as_bo, "/data/defect-finder/parts/diff?from=v1&to=v2&offset=4")
    assert [r[0] for r in rows(last, "diff-removed")] == ["4"]
    assert 'rel="next"' not in last


def test_diff_lists_column_changes(
    as_bo: httpx.Client, grove_factories: Factories, world: Any
) -> None:
    ctx = grove_factories.admin_ctx
    table_commit.commit(
        ctx, "shapes", pa.table({"id": [1, 2], "w": [1.0, 2.0]}), project=PROJECT, key=["id"]
    )
    table_commit.commit(
        ctx,
        "shapes",
        pa.table({"id": [1, 2], "w": [1.0, 2.0], "h": [3.0, 4.0]}),
        project=PROJECT,
        allow_schema_change=True,
    )
    doc = page(as_bo, "/data/defect-finder/shapes/diff")
    changes = text(doc.split('data-testid="schema-changes"')[1].split("</section>")[0])
    assert "Added h double" in changes


def test_diff_of_a_dataset_without_key_shows_edits_as_removed_and_added(
    as_bo: httpx.Client, grove_factories: Factories
) -> None:
    ctx = grove_factories.admin_ctx
    table_commit.commit(ctx, "logs", pa.table({"line": ["a", "b", "c"]}), project=PROJECT)
    table_commit.commit(ctx, "logs", pa.table({"line": ["a", "b", "d"]}), project=PROJECT)
    doc = page(as_bo, "/data/defect-finder/logs/diff")
    assert "an edited row shows as one removed and one added" in text(doc)
    assert rows(doc, "diff-added") == [["d"]]
    assert rows(doc, "diff-removed") == [["c"]]
    assert 'data-testid="diff-changed"' not in doc


def test_a_shared_diff_link_survives_logging_in(client: httpx.Client, parts: None) -> None:
    path = "/data/defect-finder/parts/diff?from=v1&to=v2"
    resp = client.get(path)
    assert resp.status_code == 303
    login_form = client.get(resp.headers["location"])
    assert 'name="next" value="/data/defect-finder/parts/diff?from=v1&amp;to=v2"' in login_form.text
    landed = log_in(client, "bo", next_path=path)
    assert landed.headers["location"] == path
    assert "<h1>Changes in parts from v1 to v2</h1>" in page(client, path)


# -- everyone, and the page rules -------------------------------------------------------


def test_reviewers_can_read_the_data_pages(client: httpx.Client, parts: None) -> None:
    log_in(client, "cy")
    for path in (
        "/data",
        "/data/defect-finder/parts",
        "/data/defect-finder/parts/v2",
        "/data/defect-finder/parts/diff",
    ):
        assert "parts" in page(client, path), path


def test_data_pages_keep_the_strict_policy(as_bo: httpx.Client, parts: None) -> None:
    assets: set[str] = set()
    for path in (
        "/data",
        "/data/defect-finder",
        "/data/defect-finder/parts",
        "/data/defect-finder/parts/v2",
        "/data/defect-finder/parts/diff",
        "/data/defect-finder/parts/v2/leakage",
    ):
        resp = as_bo.get(path)
        assert resp.status_code == 200, path
        assert "script-src 'self'" in resp.headers["content-security-policy"], path
        assert not INLINE_SCRIPT.search(resp.text), path
        assert not re.search(r"""(?:src|href|action)=["'](?:[a-z]+:)?//""", resp.text), path
        # The Data section stays marked as current on every page under it.
        assert '<a href="/data" aria-current="page"' in resp.text, path
        assets.update(re.findall(r'(?:src|href)="(/static/[^"]+)"', resp.text))
    for asset in sorted(assets):
        assert as_bo.get(asset).status_code == 200, asset


# -- file datasets ----------------------------------------------------------------------


@pytest.fixture
def photos(world: dict[str, Any], grove_factories: Factories, tmp_path: Any) -> None:
    """File dataset "photos": v1 with four files, v2 with one edited, one removed, one new."""
    from mlgrove.services import filesets

    folder = tmp_path / "photos"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "cat.jpg").write_bytes(b"cat pixels")
    (folder / "train" / "dog.jpg").write_bytes(b"dog pixels")
    (folder / "test").mkdir()
    (folder / "test" / "bird.png").write_bytes(b"bird pixels")
    (folder / "README").write_text("four files")
    ctx = grove_factories.admin_ctx
    filesets.add_folder(ctx, "photos", folder, project=PROJECT, message="first shoot")
    (folder / "train" / "cat.jpg").write_bytes(b"cat pixels, retouched")
    (folder / "test" / "bird.png").unlink()
    (folder / "test" / "fish.jpg").write_bytes(b"fish pixels")
    filesets.add_folder(ctx, "photos", folder, project=PROJECT, message="second shoot")


def test_file_dataset_pages_list_versions_files_and_changes(
    as_bo: httpx.Client, photos: None
) -> None:
    listed = {r[0]: r for r in rows(page(as_bo, "/data"), "datasets")}
    assert listed["photos"][1:4] == ["files", "v2", "4"]

    history = page(as_bo, "/data/defect-finder/photos")
    assert "A file dataset" in text(history)
    assert [v[0] for v in rows(history, "versions")] == ["v2", "v1"]
    assert headers(history, "versions")[4] == "Files"

    v1 = page(as_bo, "/data/defect-finder/photos/v1")
    assert "4 files" in text(main(v1))
    assert [r[0] for r in rows(v1, "files")] == [
        "README",
        "test/bird.png",
        "train/cat.jpg",
        "train/dog.jpg",
    ]
    assert rows(v1, "files")[2][1] == "10 B"
    assert bar_tooltips(svg(v1, "extension-chart")) == [
        ".jpg: 2 (50%)",
        "(none): 1 (25%)",
        ".png: 1 (25%)",
    ]
    assert 'data-testid="schema"' not in v1  # no columns to describe
    only_train = page(as_bo, "/data/defect-finder/photos/v1?prefix=train/")
    assert [r[0] for r in rows(only_train, "files")] == ["train/cat.jpg", "train/dog.jpg"]
    assert "No file path starts with “nothing/”" in text(
        page(as_bo, "/data/defect-finder/photos/v1?prefix=nothing/")
    )

    diff = page(as_bo, "/data/defect-finder/photos/diff")
    assert "<h1>Changes in photos from v1 to v2</h1>" in diff
    summary = text(diff.split('data-testid="diff-summary"')[1].split("</p>")[0])
    assert "+1 added" in summary
    assert "\N{MINUS SIGN}1 removed" in summary
    assert "~1 modified" in summary
    assert "2 files unchanged" in summary
    assert rows(diff, "files-added") == [["test/fish.jpg"]]
    assert rows(diff, "files-removed") == [["test/bird.png"]]
    assert rows(diff, "files-modified") == [["train/cat.jpg"]]
    assert "Files are matched by their path" in text(diff)


def test_file_listing_pages_through_many_files(
    as_bo: httpx.Client, photos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_views, "FILES_PAGE", 3)
    first = page(as_bo, "/data/defect-finder/photos/v2")
    assert len(rows(first, "files")) == 3
    nxt = re.search(r'href="([^"]+)" rel="next"', first)
    assert nxt
    second = page(as_bo, "/data/defect-finder/photos/v2" + html.unescape(nxt.group(1)))
    assert [r[0] for r in rows(second, "files")] == ["train/dog.jpg"]
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second
