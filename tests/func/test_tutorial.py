"""docs/tutorial.md works as written: its shell and Python blocks run, in order, in a fresh
folder, with the real `mlgrove` CLI in subprocesses, and print what the page shows.

The page marks what the test needs with HTML comments on the line before a block:

- ``<!-- tutorial: file NAME -->`` before a Python block: the reader saves it as NAME.
- ``<!-- tutorial: output -->`` before a text block: exactly what the shell block before
  it prints (stdout). ``<!-- tutorial: output varies -->`` is shown but not compared
  (times, durations, run ids, paths).
- ``<!-- tutorial: skip ... -->`` before a shell block: not run (``mlgrove serve``).
- ``<!-- tutorial: review N -->`` on its own: the reader reviews N items in the browser;
  the test gives the same verdicts through the REST endpoints the review screen calls,
  answering from the generator's own subjects (the truth the labels were scrambled from).
- ``<!-- tutorial: dashboard -->`` on its own: the reader looks at the home page; the test
  logs in through the login form as the person the page made and reads the dashboard.

After a deliberate change to what a command prints, ``MLGROVE_TUTORIAL_REWRITE=1`` runs
the page and writes every output block from what its commands printed (the run's folder
shown as ``/home/you/tickets``) instead of comparing; read the diff before committing.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.services import tokens
from mlgrove.services.context import Runtime
from mlgrove.testing.live import serve
from mlgrove.workspace import Workspace

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
MARKER = re.compile(r"^<!-- tutorial: (.*?) -->$")
REWRITE = os.environ.get("MLGROVE_TUTORIAL_REWRITE") == "1"
SHOWN_FOLDER = "/home/you/tickets"


@dataclass(frozen=True)
class Step:
    """One thing the reader does, in page order: kind is file, shell, output or review."""

    kind: str
    line: int
    text: str = ""
    arg: str = ""


def steps(page: Path) -> Iterator[Step]:
    lines = page.read_text(encoding="utf-8").splitlines()
    marker: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        found = MARKER.match(line)
        if found:
            marker = found.group(1)
            if marker.startswith("review "):
                yield Step("review", i + 1, arg=marker.split()[1])
                marker = None
            elif marker == "dashboard":
                yield Step("dashboard", i + 1)
                marker = None
        elif line.startswith("```"):
            lang = line[3:].strip()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            code = "\n".join(lines[i + 1 : end]) + "\n"
            if marker and marker.startswith("file "):
                yield Step("file", i + 2, code, marker.split()[1])
            elif marker in ("output", "output varies"):
                yield Step("output", i + 2, code, arg=marker)
            elif lang == "bash" and not (marker or "").startswith("skip"):
                yield Step("shell", i + 2, code)
            marker = None
            i = end
        elif line:
            marker = None
        i += 1


def _rewrite(page: Path, rewrites: list[tuple[Step, str]]) -> None:
    """Put each output block's new text in place, last block first (lines shift)."""
    lines = page.read_text(encoding="utf-8").split("\n")
    for block, text in reversed(rewrites):
        start = block.line - 1
        lines[start : start + len(block.text.splitlines())] = text.rstrip("\n").split("\n")
    page.write_text("\n".join(lines), encoding="utf-8")


def _truth(make_tickets: str) -> dict[str, str]:
    """Subject phrase -> label, read from the page's own generator."""
    for node in ast.walk(ast.parse(make_tickets)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "subjects":
            subjects: dict[str, list[str]] = ast.literal_eval(node.value)
            return {phrase: label for label, ps in subjects.items() for phrase in ps}
    raise AssertionError("make_tickets.py on the page has no `subjects`")


def _review(folder: Path, count: int, truth: dict[str, str]) -> None:
    """What the reader does on the review screen, through the same REST endpoints."""
    runtime = Runtime.open(Workspace(folder).settings())
    try:
        token = tokens.create_token(runtime.as_actor(LOCAL_ADMIN), "tutorial", username="ana")
        with (
            serve(runtime) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token.secret}"}, timeout=30
            ) as http,
        ):
            for _ in range(count):
                got = http.post(
                    "/api/v1/review/queues/triage-check/next", params={"project": "helpdesk"}
                )
                assert got.status_code == 200, got.text
                item = got.json()["item"]
                text = item["input"]["text"]
                label = next(lab for phrase, lab in truth.items() if text.startswith(phrase))
                sent = http.post(
                    f"/api/v1/review/items/{item['id']}/verdict",
                    json={"answer": {"label": label}, "seconds": 2.0},
                )
                assert sent.status_code == 201, sent.text
    finally:
        runtime.close()


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def _dashboard(folder: Path, password: str) -> None:
    """What the reader sees on the home page, after logging in through the form."""
    runtime = Runtime.open(Workspace(folder).settings())
    try:
        with serve(runtime) as url, httpx.Client(base_url=url, timeout=30) as http:
            form = http.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf is not None
            logged_in = http.post(
                "/login",
                data={"username": "ana", "password": password, "csrf_token": csrf.group(1)},
            )
            assert logged_in.status_code in (200, 303), logged_in.text
            home = http.get("/")
            assert home.status_code == 200
    finally:
        runtime.close()
    models = _section(home.text, "dash-model-versions")
    for shown in ("triage/v1", "triage/v2", "production", "on tickets/v1 split test", "accepted"):
        assert shown in models, f"the dashboard's models do not show {shown!r}"
    assert "retrained: tickets v1 → v2" in _section(home.text, "dash-retrains")
    data = _section(home.text, "dash-data")
    assert "tickets v2" in data
    assert "review" in data
    assert "triage-check" in _section(home.text, "dash-queues")


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGROVE_")}
    # The reader's shell finds `mlgrove` and `python` from the environment Grove is in.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"  # rich tables wrap at the terminal width; fix it as on the page
    return env


@pytest.mark.timeout(600)
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "tutorial"
    folder.mkdir()
    env = _environment()
    last: tuple[int, str] | None = None
    truth: dict[str, str] = {}
    password = ""
    rewrites: list[tuple[Step, str]] = []
    for step in steps(PAGE):
        where = f"docs/tutorial.md:{step.line}"
        if step.kind == "file":
            (folder / step.arg).write_text(step.text, encoding="utf-8")
            if step.arg == "make_tickets.py":
                truth = _truth(step.text)
        elif step.kind == "shell":
            said = re.search(r"echo '([^']+)' \| mlgrove user create ana", step.text)
            password = said.group(1) if said else password
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", step.text],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"{where}: exit {done.returncode}\n{done.stderr}"
            last = (step.line, done.stdout)
        elif step.kind == "output":
            assert last is not None, f"{where}: an output block with no command before it"
            if REWRITE:
                rewrites.append((step, last[1].replace(str(folder), SHOWN_FOLDER)))
            elif step.arg == "output":
                assert last[1] == step.text, (
                    f"{where}: the commands at docs/tutorial.md:{last[0]} printed\n{last[1]}"
                )
        elif step.kind == "review":
            assert truth, f"{where}: review before make_tickets.py was written"
            _review(folder, int(step.arg), truth)
        elif step.kind == "dashboard":
            assert password, f"{where}: the page never made ana a password"
            _dashboard(folder, password)
    if REWRITE:
        _rewrite(PAGE, rewrites)
    kinds = [s.kind for s in steps(PAGE)]
    assert kinds.count("shell") >= 10
    assert "review" in kinds
    assert "dashboard" in kinds
