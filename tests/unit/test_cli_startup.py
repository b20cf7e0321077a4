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
