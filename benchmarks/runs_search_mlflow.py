"""Part of ``runs_list``: the same runs searched by Grove and by MLflow's ``search_runs``.

After ``runs_list`` builds Grove's SQLite store, the same runs (names, status, author,
start and end times, params, tags and latest metric values) are copied into a fresh
MLflow SQLite store (schema made by MLflow itself, rows bulk-inserted untimed). Then two
workers run in alternation, each a fresh process that opens its store and asks each
query ``ASKS`` times after ``WARMUP`` untimed asks, in process (no HTTP, no page):

- ``grove``: ``run_queries.search`` (a page of 50 runs with their latest metrics);
- ``mlflow``: ``MlflowClient.search_runs(max_results=50)`` on ``sqlite:///``.

Each worker reports the median and p95 per query; the ratio is MLflow/Grove over the
medians of the reps. Where the order is deterministic, both must return the same runs.
Usage: part of ``python -m benchmarks.runs_list`` (SQLite only; ``--skip-peers`` skips it).
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ASKS = 20
WARMUP = 2
PAGE = 50

#: (name, Grove filter, Grove order, MLflow filter, MLflow order, same runs expected)
QUERIES: list[tuple[str, str | None, str | None, str, list[str], bool]] = [
    ("newest first", None, "started desc", "", ["attributes.start_time DESC"], True),
    ("sort by metric", None, "metrics.acc desc", "", ["metrics.acc DESC"], True),
    (
        "metric filter + sort",
        "metrics.acc > 0.95",
        "metrics.acc desc",
        "metrics.acc > 0.95",
        ["metrics.acc DESC"],
        True,
    ),
    (
        "param filter",
        "params.lr = 0.001",
        "started desc",
        "params.lr = '0.001'",
        ["attributes.start_time DESC"],
        True,
    ),
    (
        "tag + metric filter, sort by param",
        'tags.team = "vision" and metrics.loss < 0.2',
        "params.depth desc",
        "tags.team = 'vision' and metrics.loss < 0.2",
        ["params.depth DESC"],
        False,  # ties on depth: each tool breaks them its own way
    ),
]


def _ms(text: str | None) -> int | None:
    if text is None:
        return None
    return int(datetime.fromisoformat(text + "+00:00").timestamp() * 1000)


def build_mlflow_store(grove_db: Path, mlflow_db: Path, peer_python: Path) -> int:
    """Copy the runs of Grove's store into a new MLflow store; returns its experiment id."""
    mlflow_db.unlink(missing_ok=True)
    code = (
        "from mlflow.tracking import MlflowClient; "
        f"print(MlflowClient(tracking_uri={f'sqlite:///{mlflow_db}'!r}).create_experiment('sweeps'))"
    )
    made = subprocess.run([str(peer_python), "-c", code], check=True, capture_output=True)
    experiment = int(made.stdout.decode().split()[-1])
    src = sqlite3.connect(grove_db)
    runs = src.execute(
        "SELECT id, name, status, params, tags, author, started_at, ended_at FROM runs"
    ).fetchall()
    metrics = src.execute("SELECT run_id, key, value, step FROM run_summary_metrics").fetchall()
    src.close()
    uuid = {r[0]: f"{r[0]:032x}" for r in runs}
    dst = sqlite3.connect(mlflow_db)
    with dst:
        dst.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
            "artifact_uri, experiment_id) VALUES (?, ?, 'UNKNOWN', '', '', ?, ?, ?, ?, '', "
            "'active', '', ?)",
            [
                (uuid[i], name, author, status.upper(), _ms(start), _ms(end), experiment)
                for i, name, status, _, _, author, start, end in runs
            ],
        )
        dst.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            [(k, v, uuid[r[0]]) for r in runs for k, v in json.loads(r[3]).items()],
        )
        dst.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
            [(k, v, uuid[r[0]]) for r in runs for k, v in json.loads(r[4]).items()]
            + [("mlflow.runName", r[1], uuid[r[0]]) for r in runs],
        )
        now = int(time.time() * 1000)
        rows = [(k, v, now, s, 0, uuid[i]) for i, k, v, s in metrics]
        dst.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        dst.executemany(
            "INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    dst.execute("ANALYZE")
    dst.close()
    return experiment


def _timed(ask: Any) -> tuple[dict[str, float], list[str]]:
    times = []
    names: list[str] = []
    for i in range(WARMUP + ASKS):
        started = time.perf_counter()
        names = ask()
        if i >= WARMUP:
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    summary = {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
    }
    return summary, names


def grove_worker(settings_json: str) -> dict[str, Any]:
    from mlgrove.config import Settings
    from mlgrove.domain.people import LOCAL_ADMIN
    from mlgrove.services import run_queries
    from mlgrove.services.context import Runtime

    runtime = Runtime.open(Settings(**json.loads(settings_json)))
    ctx = runtime.as_actor(LOCAL_ADMIN)
    out = {}
    for name, flt, order, _, _, _ in QUERIES:

        def ask(flt: str | None = flt, order: str | None = order) -> list[str]:
            page = run_queries.search(ctx, "sweeps", flt, order_by=order, limit=PAGE)
            return [r.name for r in page.runs]

        summary, names = _timed(ask)
        out[name] = {**summary, "names": names}
    runtime.close()
    return out


def mlflow_worker(uri: str, experiment: str) -> dict[str, Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    out = {}
    for name, _, _, flt, order, _ in QUERIES:

        def ask(flt: str = flt, order: list[str] = order) -> list[str]:
            runs = client.search_runs([experiment], flt, max_results=PAGE, order_by=order)
            return [r.info.run_name for r in runs]

        summary, names = _timed(ask)
        out[name] = {**summary, "names": names}
    return out


def compare(
    settings_json: str, grove_db: Path, work: Path, peer_python: Path, reps: int, root: Path
) -> dict[str, Any]:
    """Build the MLflow store, alternate the two workers ``reps`` times, and summarise."""
    mlflow_db = work / "mlflow-search.db"
    print("  copying the runs into an MLflow store", flush=True)
    experiment = build_mlflow_store(grove_db, mlflow_db, peer_python)
    me = [sys.executable, "-m", "benchmarks.runs_list", "--search-worker"]
    commands = {
        "grove": [*me, "grove", settings_json],
        "mlflow": [str(peer_python), *me[1:], "mlflow", f"sqlite:///{mlflow_db}", f"{experiment}"],
    }
    results: dict[str, list[dict[str, Any]]] = {"grove": [], "mlflow": []}
    for rep in range(reps):
        for who, cmd in commands.items():
            done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{who} search worker failed: {done.stderr[-2000:]}")
            results[who].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  search rep {rep + 1}/{reps}  {who} done", flush=True)
    summary = []
    for name, *_, same in QUERIES:
        row: dict[str, Any] = {"query": name}
        for who in ("grove", "mlflow"):
            row[f"{who}_median_ms"] = statistics.median(r[name]["median_ms"] for r in results[who])
            row[f"{who}_p95_ms"] = statistics.median(r[name]["p95_ms"] for r in results[who])
        row["mlflow/grove"] = round(row["mlflow_median_ms"] / row["grove_median_ms"], 1)
        if same:
            got, want = results["grove"][0][name]["names"], results["mlflow"][0][name]["names"]
            row["same_runs"] = got == want
            if got != want:
                print(f"  WARNING {name}: Grove and MLflow returned different runs", flush=True)
        summary.append(row)
        print(
            f"  search {name:<38} grove {row['grove_median_ms']:7.1f} ms  "
            f"mlflow {row['mlflow_median_ms']:8.1f} ms  {row['mlflow/grove']}x",
            flush=True,
        )
    return {"asks_per_query": ASKS, "reps": reps, "queries": summary}


def worker_main(args: list[str]) -> int:
    if args[0] == "grove":
        print(json.dumps(grove_worker(args[1])))
    else:
        print(json.dumps(mlflow_worker(args[1], args[2])))
    return 0
