"""What a command loads before it does anything: start-up is most of a small command's
time, so heavy libraries load only in the commands (and SDK areas) that use them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = {"sqlalchemy", "numpy", "pyarrow", "pandas", "fastapi", "alembic", "mlflow"}


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return {line.split(".")[0] for line in result.stdout.split()}


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        # `mlgrove --help`: every command module registered, no command run.
        ("from mlgrove.cli.main import full_app; full_app()", set()),
        # The embedded client: people and projects need the database, not Arrow.
        ("import mlgrove.services.embedded", {"sqlalchemy"}),
        # The `data status` quick path.
        ("import mlgrove.cli.data_fast, mlgrove.services.fileset_status", set()),
    ],
)
def test_start_up_loads_no_heavy_library_it_does_not_need(
    statement: str, allowed: set[str]
) -> None:
    assert loaded_after(statement) & HEAVY == allowed


GC_PROBE = """
import gc, os, sys, time
from mlgrove.cli import startup
startup.LONGEST_S = float(sys.argv[1])
startup.quiet()
states = [gc.isenabled()]
pid = os.fork()
if pid == 0:  # a child forked during start-up collects as usual
    os._exit(0 if gc.isenabled() else 1)
states.append(os.waitpid(pid, 0)[1] == 0)
if sys.argv[2] == "done":
    startup.done()
    states.append(gc.get_freeze_count() > 0)
else:  # nobody says start-up is over: the collector comes back on by itself
    deadline = time.monotonic() + 30
    while not gc.isenabled() and time.monotonic() < deadline:
        time.sleep(0.02)
states.append(gc.isenabled())
print(states)
"""


@pytest.mark.parametrize(
    ("how", "expected"),
    [("done", "[False, True, True, True]"), ("by-itself", "[False, True, True]")],
)
def test_the_collector_is_off_during_start_up_only(how: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, "0.2", how], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == expected
