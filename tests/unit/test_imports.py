"""The dependency rule: layers import only what sits below them, and start-up stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mlgrove"


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return {line.split(".")[0] for line in result.stdout.split()}


@pytest.mark.parametrize(
    ("statement", "forbidden"),
    [
        (
            "import mlgrove.domain.people, mlgrove.domain.authz, mlgrove.domain.names",
            {"sqlalchemy", "fastapi", "httpx"},
        ),
        (
            "import mlgrove",
            {"fastapi", "sqlalchemy", "uvicorn", "alembic", "starlette", "numpy", "pyarrow"},
        ),
        ("import mlgrove.client.http", {"sqlalchemy", "fastapi"}),
        ("import mlgrove.cli.main", {"fastapi", "uvicorn"}),
    ],
)
def test_import_does_not_load_heavy_modules(statement: str, forbidden: set[str]) -> None:
    assert loaded_after(statement) & forbidden == set()


# What each layer may import from mlgrove (besides itself). Lazy imports inside functions
# count too: a layer violation is one wherever it is written.
ALLOWED = {
    "domain": {"errors"},
    "store": {"errors", "domain", "config"},
    "tabular": {"errors"},
    "filesets": {"errors", "gcpause"},
    # Pipeline definitions, DAG, cache keys and executors: user code imports this.
    "pipelines": {"errors", "domain", "client", "tabular", "_version"},
    "services": {
        "errors",
        "gcpause",
        "domain",
        "store",
        "tabular",
        "filesets",
        "config",
        "workspace",
        "client",
        "pipelines",
        "_version",
    },
    "client": {"errors", "domain", "tabular", "_version"},
    "server": {"errors", "domain", "services", "store", "config", "_version"},
    "cli": {
        "errors",
        "domain",
        "services",
        "store",
        "tabular",
        "config",
        "workspace",
        "client",
        "sdk",
        "server",
        "pipelines",
        "_version",
    },
}


def mlgrove_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlgrove."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == "mlgrove":
            # `from mlgrove import errors` names a module; `from mlgrove import X` the SDK.
            found |= {
                a.name if (SRC / a.name).exists() or (SRC / f"{a.name}.py").exists() else "sdk"
                for a in node.names
            }
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "mlgrove":
                    found.add("sdk")
                elif a.name.startswith("mlgrove."):
                    found.add(a.name.split(".")[1])
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_lies_below(layer: str) -> None:
    bad = {}
    for path in sorted((SRC / layer).rglob("*.py")):
        extra = mlgrove_imports(path) - ALLOWED[layer] - {layer}
        if extra:
            bad[str(path.relative_to(SRC))] = sorted(extra)
    assert bad == {}
