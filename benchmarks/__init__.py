"""Side-by-side benchmarks: Grove against the tools our users would otherwise pick.

Protocol: ``shared/design/BENCHMARKS.md``; results and notes: ``docs/benchmarks.md``.
Run everything with ``python -m benchmarks --scale small|full`` (or ``make bench``), one
scenario with ``python -m benchmarks.<name>``. These are measurements, never pass/fail tests.

A scenario is any module of this package whose name does not start with ``_`` and that
defines ``DESCRIPTION: str`` and ``run(scale, reps, skip_peers) -> dict``;
``python -m benchmarks`` finds them itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def scenarios() -> dict[str, ModuleType]:
    """Every scenario module, by name, in alphabetical order."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "DESCRIPTION", None), str) and callable(
            getattr(module, "run", None)
        ):
            found[info.name] = module
    return found
