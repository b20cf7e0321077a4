"""Side-by-side benchmarks: Grove against the tools our users would otherwise pick.

Protocol: ``shared/design/BENCHMARKS.md``; results and notes: ``docs/benchmarks.md``.
Run everything with ``python -m benchmarks --scale small|full`` (or ``make bench``), one
scenario with ``python -m benchmarks.<name>``. These are measurements, never pass/fail tests.
"""

# Every scenario module in this package, in the order ``python -m benchmarks`` runs them.
# Each one exposes ``DESCRIPTION: str`` and ``run(scale, reps, skip_peers) -> dict``.
SCENARIOS: tuple[str, ...] = ("objects_add",)
