"""Scenario ``review_next``: next-item latency with 20 concurrent reviewers and N queued.

A label queue holds N items (small: 100k, full: 1M) with model confidences (uncertainty
priority) and a 5% random slice, inserted through ``review.add_items`` (what the SDK
does). Then 20 reviewers, each a Grove person with a thread of their own, work at once:
take the next item (``review_assign.next_item``: expired leases reclaimed, the
highest-priority open item with a free slot leased to them in one write transaction),
then give a verdict (``review_assign.submit``), with no pause between items (the worst
case: real reviewers spend seconds on each). The next-item call is what the target is
about: we report its median, p95 and p99 over every call, after ``WARMUP`` untimed
cycles per reviewer; the verdict's times are reported beside it, since on SQLite every
verdict is a write the next-item calls queue behind. Both backends (or one: ``--backend``):
SQLite (a file under ``benchmarks/.data``) and PostgreSQL (a
fresh database on ``MLGROVE_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; skipped when none answers).

With ``--pause-ms M`` each reviewer also spends a random time between items (exponential,
mean M ms: people at a fast pace) and the same is reported again under ``paced``; the
target is judged on the rounds with no pause.

This measures the service in one process (as ``mlgrove serve`` runs it, threads sharing
one runtime), without HTTP; the peer comparison (Label Studio's next-task API) is not
run, see docs/benchmarks.md.

Target (BENCHMARKS.md): next-item p99 ≤ 20 ms with 1M items queued.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    add_common_args,
    check_reps,
    grove_facts,
    machine_facts,
    remove_tree,
    write_results,
)

NAME = "review_next"
DESCRIPTION = "next review item: 20 concurrent reviewers, 1M items queued (SQLite, PostgreSQL)"
SIZES = {"small": 100_000, "full": 1_000_000}
REVIEWERS = 20
CYCLES = 50  # timed next-item calls per reviewer per repetition (1,000 per round of 20)
WARMUP = 3
BATCH = 50_000
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "mlgrove_bench_review_next"
LABELS = ["bug", "question", "feature", "other"]
SOURCES = [
    "src/mlgrove/services/review_assign.py",
    "src/mlgrove/services/review.py",
    "src/mlgrove/store/models/review.py",
    "src/mlgrove/store/repos/review_claim.py",
    "src/mlgrove/store/db.py",
    "src/mlgrove/store/direct.py",
    "src/mlgrove/store/prepared.py",
]


def _database_urls(scale: str, backend: str = "both") -> dict[str, str]:
    folder = DATA_DIR / NAME
    remove_tree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    urls: dict[str, str] = {}
    if backend in ("sqlite", "both"):
        urls["sqlite"] = f"sqlite:///{folder / f'grove-{scale}.db'}"
    if backend == "sqlite":
        return urls
    admin = os.environ.get("MLGROVE_BENCH_POSTGRES_URL", PG_DEFAULT)
    admin = "postgresql+psycopg://" + admin.split("://", 1)[1]
    try:
        from sqlalchemy import create_engine

        engine = create_engine(
            admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
        engine.dispose()
        urls["postgresql"] = admin.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    except Exception as exc:  # a missing server is reported, not fatal
        print(f"  PostgreSQL unavailable ({str(exc).splitlines()[0]}); SQLite only", flush=True)
    return urls


def build(url: str, items: int, seed: int = 11) -> tuple[Any, list[Any], float]:
    """A migrated database with one queue of ``items`` items and ``REVIEWERS`` people."""
    from mlgrove.config import Settings, new_secret_key
    from mlgrove.domain.people import LOCAL_ADMIN
    from mlgrove.domain.review import QueueSpec
    from mlgrove.services import people, projects, review
    from mlgrove.services.context import Runtime
    from mlgrove.store import schema
    from mlgrove.store.db import Database

    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    settings = Settings(
        database_url=url,
        object_store_url=str(DATA_DIR / NAME / "objects"),
        secret_key=new_secret_key(),
        cache_dir=str(DATA_DIR / NAME / "cache"),
    )
    runtime = Runtime.open(settings)
    admin = runtime.as_actor(LOCAL_ADMIN)
    people.create_team(admin, "Support")
    projects.create_project(admin, "helpdesk", team="Support")
    reviewers = [
        people.create_person(admin, f"reviewer{i:02d}", role="reviewer", team="Support")
        for i in range(REVIEWERS)
    ]
    review.create_queue(admin, "tickets", QueueSpec(labels=LABELS), project="helpdesk")
    rng = random.Random(seed)
    started = time.perf_counter()
    for start in range(0, items, BATCH):
        batch = [
            {
                "id": f"t{i}",
                "input": {"text": f"ticket {i}: the app does something odd"},
                "prediction": LABELS[i % 4],
                "confidence": round(rng.random(), 4),
            }
            for i in range(start, min(items, start + BATCH))
        ]
        review.add_items(admin, "tickets", batch, project="helpdesk")
    return runtime, reviewers, time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def measure(runtime: Any, reviewers: list[Any], pause_ms: float = 0.0) -> dict[str, Any]:
    """One round: every reviewer in their own thread, WARMUP + CYCLES next/submit cycles,
    with a random pause (exponential, mean ``pause_ms``) after each verdict."""
    from mlgrove.services import review_assign

    latencies: list[float] = []
    submits: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(reviewers))

    def work(person: Any) -> None:
        ctx = runtime.as_actor(person)
        pace = random.Random(person.username)
        mine: list[float] = []
        mine_submit: list[float] = []
        try:
            barrier.wait()
            for cycle in range(WARMUP + CYCLES):
                t0 = time.perf_counter()
                got = review_assign.next_item(ctx, "tickets", project="helpdesk")
                elapsed = time.perf_counter() - t0
                if got is None:
                    raise RuntimeError("the queue ran dry")
                t1 = time.perf_counter()
                review_assign.submit(ctx, got.item.id, {"labels": [LABELS[cycle % 4]]})
                if cycle >= WARMUP:
                    mine.append(elapsed)
                    mine_submit.append(time.perf_counter() - t1)
                if pause_ms:
                    time.sleep(pace.expovariate(1000.0 / pause_ms))
        except Exception as exc:  # reported in the results, not swallowed
            with lock:
                errors.append(f"{person.username}: {exc!r}")
        with lock:
            latencies.extend(mine)
            submits.extend(mine_submit)

    threads = [threading.Thread(target=work, args=(p,)) for p in reviewers]
    load_before = _loadavg()
    started, cpu_started = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    # The serving process's own CPU per next+verdict cycle: with no pause, twenty
    # threads queue for it (one interpreter lock), so the p99 follows it (ADR 0017).
    cpu = time.process_time() - cpu_started
    cycles = len(reviewers) * (WARMUP + CYCLES)
    ms = [x * 1000 for x in latencies]
    submit_ms = [x * 1000 for x in submits]
    return {
        "calls": len(ms),
        "errors": errors,
        "wall_s": round(wall, 3),
        "process_cpu_ms_per_cycle": round(cpu * 1000 / cycles, 3),
        "median_ms": round(statistics.median(ms), 2) if ms else None,
        "p95_ms": round(_percentile(ms, 0.95), 2) if ms else None,
        "p99_ms": round(_percentile(ms, 0.99), 2) if ms else None,
        "max_ms": round(max(ms), 2) if ms else None,
        "submit_median_ms": round(statistics.median(submit_ms), 2) if submit_ms else None,
        "submit_p99_ms": round(_percentile(submit_ms, 0.99), 2) if submit_ms else None,
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": _loadavg(),
    }


def _paced(rounds: list[dict[str, Any]], pause_ms: float) -> dict[str, Any]:
    p99s = [r["p99_ms"] for r in rounds if r["p99_ms"] is not None]
    return {
        "mean_pause_ms": pause_ms,
        "rounds": rounds,
        "median_of_p99_ms": round(statistics.median(p99s), 2) if p99s else None,
    }


def _loadavg() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _kept_results(scale: str, measured: dict[str, Any]) -> dict[str, Any]:
    """The other backend's results of the last run at this scale, kept when one is re-run."""
    import json

    from benchmarks._harness import RESULTS_DIR

    path = RESULTS_DIR / f"{NAME}.json"
    try:
        run = json.loads(path.read_text())["runs"][scale]
        previous = run["results"]
    except (OSError, ValueError, KeyError, TypeError):
        return measured
    # A kept result says when it was measured: the run's own date is this run's.
    kept = {
        k: {"recorded_at": run.get("recorded_at"), **v}
        for k, v in previous.items()
        if k not in measured
    }
    return {**kept, **measured}


def run(
    scale: str,
    reps: int,
    skip_peers: bool = False,
    backend: str = "both",
    pause_ms: float = 0.0,
) -> dict[str, Any]:
    reps = check_reps(reps)
    items = SIZES[scale]
    results: dict[str, Any] = {}
    for backend_name, url in _database_urls(scale, backend).items():
        print(f"  {backend_name}: queueing {items:,} items ...", flush=True)
        runtime, reviewers, build_s = build(url, items)
        rounds: list[dict[str, Any]] = []
        alone: list[dict[str, Any]] = []
        paced: list[dict[str, Any]] = []
        for rep in range(reps):
            # One reviewer alone (the service time), then all twenty at once (with queueing).
            plan = [
                ("1 reviewer", reviewers[:1], alone, 0.0),
                ("20 reviewers", reviewers, rounds, 0.0),
            ]
            if pause_ms:
                plan.append((f"20, ~{pause_ms:g} ms", reviewers, paced, pause_ms))
            for label, who, into, pause in plan:
                r = measure(runtime, who, pause)
                into.append(r)
                print(
                    f"  rep {rep + 1}/{reps}  {backend_name:<10} {label:<12} next-item median "
                    f"{r['median_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms; verdict "
                    f"median {r['submit_median_ms']} ms, p99 {r['submit_p99_ms']} ms; "
                    f"{r['process_cpu_ms_per_cycle']} ms CPU per cycle "
                    f"({r['calls']} calls, load {r['loadavg_1min_before']}"
                    f"{', ERRORS: ' + r['errors'][0] if r['errors'] else ''})",
                    flush=True,
                )
        runtime.close()
        p99s = [r["p99_ms"] for r in rounds if r["p99_ms"] is not None]
        results[backend_name] = {
            **({"paced": _paced(paced, pause_ms)} if paced else {}),
            "items_queued": items,
            "build_s": round(build_s, 1),
            "rounds": rounds,
            "alone_rounds": alone,
            "alone_median_of_p99_ms": round(
                statistics.median(r["p99_ms"] for r in alone if r["p99_ms"] is not None), 2
            ),
            "median_of_p99_ms": round(statistics.median(p99s), 2) if p99s else None,
            "median_of_median_ms": round(
                statistics.median(r["median_ms"] for r in rounds if r["median_ms"] is not None), 2
            ),
            "median_of_submit_median_ms": round(
                statistics.median(
                    r["submit_median_ms"] for r in rounds if r["submit_median_ms"] is not None
                ),
                2,
            ),
        }
    payload = {
        "description": DESCRIPTION,
        "reviewers": REVIEWERS,
        "cycles_per_reviewer": CYCLES,
        "warmup_cycles": WARMUP,
        "target": "next-item p99 <= 20 ms with 1M items queued",
        "gil_switch_interval_s": sys.getswitchinterval(),
        "peer": {
            "label-studio": "not run: see docs/benchmarks.md (review section) for why",
        },
        "results": results if backend == "both" else _kept_results(scale, results),
        "machine": machine_facts(),
        "grove": grove_facts(SOURCES),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results: {path}", flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which database to measure (default: both); the other's last results are kept",
    )
    parser.add_argument(
        "--pause-ms",
        type=float,
        default=0.0,
        help="also measure rounds where each reviewer pauses between items (exponential, "
        "this mean in ms: people at a fast pace); reported under 'paced', the target is "
        "judged on the rounds with no pause",
    )
    args = parser.parse_args(argv)
    run(args.scale, args.reps, args.skip_peers, args.backend, args.pause_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
