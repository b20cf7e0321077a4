"""The docs never drift from the code (in the spirit of datasette's ``tests/test_docs.py``).

Every CLI command and option, setting, error class, SDK method, API endpoint, role grant,
audit action and pytest fixture must be on its docs page; links between pages must
resolve; commands shown in the docs must exist; the SDK examples marked runnable are run.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

import mlgrove
from mlgrove import errors
from mlgrove.config import SETTINGS_DOC, Settings
from mlgrove.domain.authz import Action, grants
from mlgrove.domain.people import Role
from mlgrove.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
SRC = ROOT / "src" / "mlgrove"
PAGES = sorted([README, *DOCS.rglob("*.md")])

RUNNABLE = "<!-- runnable -->"
OUTPUT = "<!-- output -->"


# -- reading markdown --------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, text, first line number and markers."""

    lang: str
    code: str
    line: int
    marker: str | None  # the HTML comment on the line before the fence, if any


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = read(path).splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang = lines[i][3:].strip()
            previous = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
            marker = previous if previous.startswith("<!--") else None
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), -1)
            assert end > i, f"{path.name}:{i + 1}: code block is never closed"
            found.append(Block(lang, "\n".join(lines[i + 1 : end]) + "\n", i + 2, marker))
            i = end
        i += 1
    return found


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Lines outside fenced code blocks, numbered from 1."""
    fenced = False
    for number, line in enumerate(read(path).splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield number, line


def headings(path: Path) -> list[Heading]:
    found = []
    for number, line in prose_lines(path):
        match = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if match:
            found.append(Heading(len(match.group(1)), match.group(2), number))
    return found


def section(path: Path, heading: Heading) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    lines = read(path).splitlines()
    later = [h.line for h in headings(path) if h.line > heading.line and h.level <= heading.level]
    end = later[0] - 1 if later else len(lines)
    return "\n".join(lines[heading.line : end])


def sections_by_code(path: Path, pattern: str) -> dict[str, str]:
    """Sections whose heading is a code span matching ``pattern``, by that code span."""
    found: dict[str, str] = {}
    for h in headings(path):
        match = re.fullmatch(rf"`({pattern})`", h.text)
        if match:
            assert match.group(1) not in found, f"{path.name}: two headings for {match.group(1)}"
            found[match.group(1)] = section(path, h)
    return found


def slug(text: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for h in headings(path):
        base = slug(h.text)
        n = seen.get(base, 0)
        found.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return found


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


# -- the CLI -----------------------------------------------------------------------------


def cli_commands() -> dict[str, Any]:
    """Every command and group of ``mlgrove``, by its full name."""
    from mlgrove.cli.main import app

    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        found[path] = command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "mlgrove")
    return found


def visible_params(command: Any) -> list[Any]:
    return [p for p in command.params if not getattr(p, "hidden", False)]


def option_names(command: Any) -> set[str]:
    names = {"--help", "-h"}
    for p in visible_params(command):
        if p.param_type_name == "option":
            names |= set(p.opts) | set(p.secondary_opts)
    return names


CLI_DOC = DOCS / "cli.md"
COMMAND = r"mlgrove(?: [a-z][a-z-]*)*"


def test_every_cli_command_has_a_heading_in_cli_md() -> None:
    documented = set(sections_by_code(CLI_DOC, COMMAND))
    commands = set(cli_commands())
    assert sorted(commands - documented) == [], "commands missing a `### `mlgrove ...`` heading"
    assert sorted(documented - commands) == [], "cli.md documents commands that do not exist"


def test_every_cli_option_and_argument_is_documented_under_its_command() -> None:
    sections = sections_by_code(CLI_DOC, COMMAND)
    missing = []
    for path, command in cli_commands().items():
        text = sections.get(path, "")
        for p in visible_params(command):
            if p.param_type_name == "argument":
                wanted = [p.name.upper()]
            else:
                wanted = [o for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
            missing += [f"{path}: {w}" for w in wanted if not mentions(text, w)]
    assert missing == []


def invocations(text: str) -> Iterator[list[str]]:
    """The argument lists of every ``mlgrove ...`` command in a shell snippet."""
    text = text.replace("\\\n", " ")
    for line in text.splitlines():
        line = re.sub(r"^\s*\$ ", "", line)
        for match in re.finditer(
            r"(?:^|[|;&(]|\$\()\s*(?:\w+=\S*\s+)*mlgrove((?:\s+[^|;&)#\s]+)*)", line
        ):
            yield shlex.split(match.group(1))


def check_invocation(args: list[str], commands: dict[str, Any]) -> str | None:
    """Why ``mlgrove *args`` is not a valid command line, or None if it is."""
    path = "mlgrove"
    words = iter(args)
    for word in words:
        command = commands[path]
        if word in ("-h", "--help"):
            return None
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if name not in option_names(command):
                return f"`{path}` has no option {name}"
            param = next(p for p in visible_params(command) if name in p.opts + p.secondary_opts)
            if param.is_eager:
                return None  # --version: the command line ends here
            if not param.is_flag and "=" not in word:
                next(words, None)
        elif hasattr(command, "commands"):
            if f"{path} {word}" not in commands:
                return f"`{path}` has no command {word!r}"
            path = f"{path} {word}"
    if hasattr(commands[path], "commands"):
        return f"`{path}` needs a subcommand"
    return None


def shell_snippets(path: Path) -> Iterator[tuple[int, str]]:
    for b in blocks(path):
        if b.lang in ("bash", "sh", "shell", "console"):
            yield b.line, b.code
        elif b.lang == "text":
            prompts = "\n".join(ln for ln in b.code.splitlines() if ln.startswith("$ "))
            yield b.line, prompts


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_shown_in_the_docs_exist(page: Path) -> None:
    commands = cli_commands()
    problems = []
    for line, code in shell_snippets(page):
        for args in invocations(code):
            why = check_invocation(args, commands)
            if why:
                problems.append(f"{page.name}:{line}: mlgrove {' '.join(args)}: {why}")
    assert problems == []


def test_readme_shows_the_two_commands_first_and_make_targets_exist() -> None:
    targets = set(re.findall(r"^([\w-]+):", read(ROOT / "Makefile"), re.M))
    shell = [b for b in blocks(README) if b.lang == "bash"]
    assert shell, "README.md has no shell examples"
    assert re.findall(r"^make (\w+)", shell[0].code, re.M) == ["demo", "test"]
    used = {t for b in shell for t in re.findall(r"^make (\w+)", b.code, re.M)}
    assert used - targets == set()
    assert any(args[:1] == ["init"] for b in shell for args in invocations(b.code))


# -- settings ----------------------------------------------------------------------------


def test_every_setting_is_documented_with_its_env_var_and_default() -> None:
    sections = sections_by_code(DOCS / "configuration.md", r"[a-z_]+")
    problems = []
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(Settings)
        if f.default is not dataclasses.MISSING
    }
    for key in SETTINGS_DOC:
        text = sections.get(key)
        if text is None:
            problems.append(f"no heading `{key}`")
            continue
        if not mentions(text, f"MLGROVE_{key.upper()}"):
            problems.append(f"{key}: environment variable MLGROVE_{key.upper()} not mentioned")
        if key in defaults and f"Default: `{defaults[key]}`" not in text:
            problems.append(f"{key}: default should read Default: `{defaults[key]}`")
    problems += [f"documents unknown setting {k}" for k in set(sections) - set(SETTINGS_DOC)]
    assert problems == []


# -- errors ------------------------------------------------------------------------------


def test_every_error_is_in_the_table_with_its_code_and_http_status() -> None:
    from mlgrove.server.errors import STATUS

    text = read(DOCS / "errors.md")
    rows = {
        m.group(1): (m.group(2), int(m.group(3)))
        for m in re.finditer(r"^\| `(\w+)` \| `([\w-]+)` \| (\d+) \|", text, re.M)
    }
    expected = {}
    for name in errors.__all__:
        cls = getattr(errors, name)
        expected[name] = (cls.code, next(s for c, s in STATUS if issubclass(cls, c)))
    assert rows == expected


def test_errors_md_draws_the_same_tree_as_the_errors_module() -> None:
    doc = errors.__doc__ or ""
    start = doc.index("    GroveError")
    tree = "\n".join(line[4:] for line in doc[start : doc.index("\n\n", start)].splitlines())
    assert tree in read(DOCS / "errors.md")


# -- SDK, API, security, testing ---------------------------------------------------------


def test_every_client_method_and_sdk_export_is_in_sdk_md() -> None:
    text = read(DOCS / "sdk.md")
    methods = [n for n in dir(mlgrove.Client) if callable(getattr(mlgrove.Client, n))]
    missing = [f"{m}()" for m in methods if not m.startswith("_") and f"`{m}(" not in text]
    missing += [n for n in mlgrove.__all__ if f"`{n}`" not in text and f"`mlgrove.{n}" not in text]
    assert missing == []


def test_every_api_endpoint_is_documented(grove_doc_workspace: Workspace) -> None:
    from mlgrove.server.app import create_app
    from mlgrove.services.workspace import opened

    with opened(grove_doc_workspace) as runtime:
        paths = create_app(runtime).openapi()["paths"]
    endpoints = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    documented = set(
        re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /api/v1/[^`?]*)`", read(DOCS / "api.md"))
    )
    assert sorted(endpoints - documented) == [], "endpoints missing from api.md"
    assert sorted(documented - endpoints) == [], "api.md documents endpoints that do not exist"


def test_roles_table_in_security_md_matches_the_policy() -> None:
    text = read(DOCS / "security.md")
    header = re.search(r"^\| action \|(.*)\|$", text, re.M)
    assert header, "security.md has no roles table"
    roles = [Role(cell.strip()) for cell in header.group(1).split("|")]
    problems = []
    for action in Action:
        row = re.search(rf"^\| {re.escape(action.value)} \|(.*)\|$", text, re.M)
        if row is None:
            problems.append(f"no row for {action.value!r}")
            continue
        cells = [cell.strip() for cell in row.group(1).split("|")]
        if len(cells) != len(roles):
            problems.append(f"row {action.value!r} has {len(cells)} cells for {len(roles)} roles")
            continue
        for role, cell in zip(roles, cells, strict=True):
            if (cell == "yes") != (action in grants(role)):
                problems.append(f"{action.value!r} for {role.value}: docs say {cell or 'no'}")
    assert problems == []


def test_every_audit_action_is_in_security_md() -> None:
    text = read(DOCS / "security.md")
    recorded = set()
    for path in (SRC / "services").rglob("*.py"):
        for call in ast.walk(ast.parse(read(path))):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "record"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "audit"
                and len(call.args) >= 3
                and isinstance(call.args[2], ast.Constant)
            ):
                recorded.add(str(call.args[2].value))
    assert recorded, "found no audit.record() calls"
    assert sorted(a for a in recorded if f"| `{a}` |" not in text) == []


def test_every_pytest_fixture_and_test_env_var_is_in_testing_md() -> None:
    text = read(DOCS / "testing.md")
    fixtures = []
    for node in ast.parse(read(SRC / "testing" / "plugin.py")).body:
        if isinstance(node, ast.FunctionDef) and any(
            "fixture" in ast.unparse(d) for d in node.decorator_list
        ):
            fixtures.append(node.name)
    assert "grove_runtime" in fixtures
    env_vars = set()
    for path in (SRC / "testing").glob("*.py"):
        env_vars |= set(re.findall(r"MLGROVE_TEST_[A-Z_]+", read(path)))
    assert env_vars, "found no MLGROVE_TEST_* variables"
    missing = [name for name in [*fixtures, *sorted(env_vars)] if f"`{name}`" not in text]
    assert missing == []


def test_every_web_page_in_the_navigation_is_in_web_md() -> None:
    from mlgrove.server.web.pages import NAV

    text = read(DOCS / "web.md")
    missing = [
        f"{path} (g then {key})"
        for path, _label, key in NAV
        if not re.search(rf"^\| `{re.escape(path)}` \| `g` then `{key}` \|", text, re.M)
    ]
    assert missing == []


# -- links -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_between_pages_resolve(page: Path) -> None:
    broken = []
    for number, line in prose_lines(page):
        line = re.sub(r"`[^`]*`", "", line)  # code spans are not links
        for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", line):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            file_part, _, anchor = target.partition("#")
            resolved = (page.parent / file_part).resolve() if file_part else page
            if not resolved.exists():
                broken.append(f"{page.name}:{number}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{page.name}:{number}: {target} (no such heading)")
    assert broken == []


def test_every_docs_page_is_linked_from_the_index() -> None:
    index = DOCS / "index.md"
    linked = {
        (DOCS / target.partition("#")[0]).resolve()
        for _, line in prose_lines(index)
        for target in re.findall(r"\]\(([^)#\s]+)", line)
    }
    pages = {p.resolve() for p in DOCS.rglob("*.md")} - {index.resolve()}
    assert sorted(str(p.relative_to(DOCS)) for p in pages - linked) == []


# -- runnable examples -------------------------------------------------------------------


@pytest.fixture
def grove_doc_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh workspace as the current folder, with no MLGROVE_* variable set."""
    from mlgrove.services.workspace import init_workspace

    for name in [n for n in os.environ if n.startswith("MLGROVE_")]:
        monkeypatch.delenv(name)
    ws = init_workspace(tmp_path / "workspace")
    monkeypatch.chdir(ws.root)
    return ws


def runnable_examples(path: Path) -> list[tuple[Block, str | None]]:
    """The page's runnable Python blocks, each with the output shown after it (if any)."""
    found: list[tuple[Block, str | None]] = []
    page = blocks(path)
    for i, b in enumerate(page):
        if b.marker == RUNNABLE:
            assert b.lang == "python", f"{path.name}:{b.line}: only Python blocks can run"
            after = page[i + 1] if i + 1 < len(page) else None
            shown = after.code if after is not None and after.marker == OUTPUT else None
            found.append((b, shown))
    return found


def test_sdk_md_has_runnable_examples() -> None:
    assert len(runnable_examples(DOCS / "sdk.md")) >= 5


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if RUNNABLE in read(p)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_runnable_examples_run_and_print_what_the_page_shows(
    page: Path, grove_doc_workspace: Workspace
) -> None:
    # In order, in one workspace: later examples build on earlier ones, as a reader would.
    for block, shown in runnable_examples(page):
        where = f"{page.relative_to(ROOT)}:{block.line}"
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            exec(compile(block.code, where, "exec"), {"__name__": "__docs__"})
        if shown is not None:
            assert stdout.getvalue() == shown, f"the example at {where} printed something else"
