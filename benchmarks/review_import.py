"""Scenario ``review_import``: import N Label Studio tasks into a review queue.

The file: N tasks (small: 10k, full: 100k), generated from a seed, in Label Studio's JSON
export format: each task has a text, one model prediction (a ``choices`` result with a
score) and two annotations by two of 50 annotators, so the import makes N items, N
predictions, 2N verdicts and 50 external reviewer identities, and resolves the items
whose two annotators agree.

- ``grove-cli``: ``mlgrove review import tickets FILE --format label-studio`` in a fresh
  workspace (``mlgrove init``, untimed), as a fresh process: start-up, JSON parsing, the
  checks of every task and field, and the one write transaction are all timed.
- ``grove-inner``: the same import in a fresh workspace, timed inside the process
  (``median_inner_s``): the import without interpreter start-up and imports.

Label Studio's own import (the peer named in BENCHMARKS.md) is not run here; the reason
is recorded in the results and in docs/benchmarks.md.

Target (BENCHMARKS.md): import at least 10x faster than Label Studio.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    ROOT,
    Contender,
    add_common_args,
    check_reps,
    grove_facts,
    machine_facts,
    print_table,
    remove_tree,
    run_alternating,
    write_results,
)

NAME = "review_import"
DESCRIPTION = "import 100k Label Studio tasks (predictions + annotations) into a review queue"
SIZES = {"small": 10_000, "full": 100_000}
SEED = 5
LABELS = ["bug", "question", "feature", "other"]
ANNOTATORS = 50
SOURCES = [
    "src/mlgrove/services/review_io.py",
    "src/mlgrove/services/review.py",
    "src/mlgrove/cli/review_cmds.py",
]
PEER_NOT_RUN = (
    "Label Studio (pip package label-studio) is a Django server: its import needs the server "
    "running with a user, an API token and a project with a labelling config, then the "
    "import API; on this shared 2-core machine with six engineers' test suites it was not "
    "installed and measured in the time available"
)


def _result(label: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "category",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def make_tasks(path: Path, count: int, seed: int = SEED) -> Path:
    rng = random.Random(seed)
    tasks = []
    for i in range(count):
        truth = rng.choice(LABELS)
        first, second = rng.sample(range(1, ANNOTATORS + 1), 2)
        second_label = truth if rng.random() < 0.8 else rng.choice(LABELS)
        tasks.append(
            {
                "id": i + 1,
                "data": {
                    "text": f"ticket {i}: {rng.choice(['crash', 'how to', 'idea', 'thanks'])}"
                },
                "predictions": [
                    {
                        "model_version": "triage-v3",
                        "score": round(rng.random(), 3),
                        "result": _result(rng.choice(LABELS)),
                    }
                ],
                "annotations": [
                    {"completed_by": first, "result": _result(truth), "lead_time": 4.2},
                    {"completed_by": second, "result": _result(second_label), "lead_time": 6.0},
                ],
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tasks))
    return path


def run(scale: str, reps: int, skip_peers: bool = False) -> dict[str, Any]:
    reps = check_reps(reps)
    count = SIZES[scale]
    folder = DATA_DIR / NAME
    source = make_tasks(folder / f"tasks-{scale}.json", count)
    workspace = folder / "ws"
    python = sys.executable

    def setup(rep: int) -> None:
        import subprocess

        remove_tree(workspace)
        subprocess.run(
            [python, "-m", "mlgrove.cli", "init", str(workspace)], check=True, capture_output=True
        )

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None:
            return "the import printed no JSON summary"
        if (inner.get("items"), inner.get("verdicts")) != (count, 2 * count):
            return f"imported {inner.get('items')} items, {inner.get('verdicts')} verdicts"
        db = workspace / ".mlgrove" / "grove.db"
        if db.exists():
            with sqlite3.connect(db) as conn:
                (n,) = conn.execute("select count(*) from review_items").fetchone()
            if n != count:
                return f"the database holds {n} items, not {count}"
        return None

    contenders = [
        Contender(
            name="grove-cli",
            role="grove",
            description="mlgrove review import QUEUE FILE --format label-studio --json",
            command=lambda rep: [
                python,
                "-m",
                "mlgrove.cli",
                "--workspace",
                str(workspace),
                "review",
                "import",
                "tickets",
                str(source),
                "--format",
                "label-studio",
                "--json",
            ],
            setup=setup,
            verify=verify,
            cleanup=lambda rep: remove_tree(workspace),
            cwd=ROOT,
        ),
        Contender(
            name="grove-inner",
            role="grove",
            description="the same import inside one process (grove.review.import_label_studio, "
            "JSON parsing included), timed by the worker: what a warm server pays",
            command=lambda rep: [
                python,
                "-m",
                f"benchmarks.{NAME}",
                "--worker",
                str(source),
                str(workspace),
            ],
            setup=setup,
            verify=verify,
            cleanup=lambda rep: remove_tree(workspace),
            cwd=ROOT,
        ),
        Contender(
            name="label-studio",
            role="peer",
            description="Label Studio's project import API",
            command=lambda rep: ["true"],
            unavailable=PEER_NOT_RUN,
        ),
    ]
    measured = run_alternating(contenders, reps)
    print_table(measured, {})
    payload = {
        "description": DESCRIPTION,
        "tasks": count,
        "file_bytes": source.stat().st_size,
        "target": "import >= 10x faster than Label Studio",
        "contenders": {name: m.summary() for name, m in measured.items()},
        "machine": machine_facts(),
        "grove": grove_facts(SOURCES),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results: {path}", flush=True)
    return payload


def worker(source: Path, workspace: Path) -> None:
    """Import in this process and print the timing as JSON (the ``grove-inner`` run)."""
    import time

    import mlgrove

    with mlgrove.connect(workspace) as grove:
        started = time.perf_counter()
        tasks = json.loads(source.read_text())
        summary = grove.review.import_label_studio("tickets", tasks)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "items": summary.tasks, "verdicts": summary.verdicts}))


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    args = parser.parse_args(argv)
    run(args.scale, args.reps, args.skip_peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
