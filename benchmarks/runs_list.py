"""Scenario ``runs_list``: the runs table with 100k runs, over the API and as a web page.

A project holds N runs (small: 10k, full: 100k), each with params (lr, depth, optimizer),
a team tag, three metrics (acc, loss, f1; one run in ten has no f1) and a status. The
runs and their metric points are bulk-inserted (the rows ``start_run`` and
``log_metrics_batch`` write), and the search summaries (latest metric values, params and
tags as rows) are filled by migration 0008 itself, undone and redone over those rows, so
the tables are what a real history leaves behind.

A server (``create_app``, uvicorn, a separate process) answers a client on loopback; each
query below is asked ``REQUESTS`` times after ``WARMUP`` untimed asks, and we report the
median and p95 of the wall time per request (request sent to body read). Both backends:
SQLite (a file under ``benchmarks/.data``) and PostgreSQL (a fresh database on
``MLGROVE_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``;
skipped when none answers).

No peer: MLflow's ``search_runs`` comparison belongs to the tracking scenarios. This is
a latency measurement of one tool, so contenders are not alternated; the queries are.

Target (BENCHMARKS.md): web list pages with 100k runs, p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    ROOT,
    add_common_args,
    check_reps,
    grove_facts,
    machine_facts,
    remove_tree,
    write_results,
)

DESCRIPTION = "runs list with 100k runs: filter, sort, keyset pages (API and web page)"
SIZES = {"small": 10_000, "full": 100_000}
REQUESTS = 40
WARMUP = 3
DEEP_PAGE = 20
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "mlgrove_bench_runs_list"
PROJECT = "sweeps"
PASSWORD = "bench-password-123"
SOURCES = [
    "src/mlgrove/services/run_queries.py",
    "src/mlgrove/domain/run_filter.py",
    "src/mlgrove/server/web/run_views.py",
    "src/mlgrove/server/api/tracking.py",
]

#: (name, kind, path, query): what is timed. "page" paths need the web session.
QUERIES: list[tuple[str, str, str, dict[str, str]]] = [
    ("api: newest first", "api", "/api/v1/runs", {"limit": "50", "order_by": "started desc"}),
    ("api: sort by metric", "api", "/api/v1/runs", {"limit": "50", "order_by": "metrics.acc desc"}),
    (
        "api: metric filter + sort",
        "api",
        "/api/v1/runs",
        {"limit": "50", "filter": "metrics.acc > 0.95", "order_by": "metrics.acc desc"},
    ),
    ("api: param filter", "api", "/api/v1/runs", {"limit": "50", "filter": "params.lr = 0.001"}),
    (
        "api: tag + metric filter, sort by param",
        "api",
        "/api/v1/runs",
        {
            "limit": "50",
            "filter": 'tags.team = "vision" and metrics.loss < 0.2',
            "order_by": "params.depth desc",
        },
    ),
    (
        f"api: page {DEEP_PAGE + 1} by cursor, sort by metric",
        "api-deep",
        "/api/v1/runs",
        {"limit": "50", "order_by": "metrics.f1 desc"},
    ),
    ("page: /runs newest first", "page", "/runs", {}),
    (
        "page: /runs metric filter, sorted",
        "page",
        "/runs",
        {"filter": "metrics.acc > 0.95 and params.optimizer = adam", "order": "metrics.acc desc"},
    ),
    (
        f"page: /runs page {DEEP_PAGE + 1} sorted by metric",
        "page-deep",
        "/runs",
        {"order": "metrics.f1 desc"},
    ),
]


# --------------------------------------------------------------------------- the store


def _database_urls(scale: str) -> dict[str, str]:
    folder = DATA_DIR / "runs_list"
    folder.mkdir(parents=True, exist_ok=True)
    urls = {"sqlite": f"sqlite:///{folder / f'grove-{scale}.db'}"}
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


def build(url: str, runs: int, seed: int = 7) -> dict[str, Any]:
    """A migrated database with ``runs`` runs in one project, a person and their token."""
    from sqlalchemy import insert, text

    from mlgrove.config import Settings, new_secret_key
    from mlgrove.domain.people import LOCAL_ADMIN
    from mlgrove.services import people, projects, tokens
    from mlgrove.services.context import Runtime
    from mlgrove.store import schema
    from mlgrove.store.db import Database
    from mlgrove.store.models import MetricRow, RunRow

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    objects = DATA_DIR / "runs_list" / "objects"
    remove_tree(objects)
    settings = Settings(
        database_url=url,
        object_store_url=str(objects),
        secret_key=new_secret_key(),
        cache_dir=str(DATA_DIR / "runs_list" / "cache"),
    )
    runtime = Runtime.open(settings)
    admin = runtime.as_actor(LOCAL_ADMIN)
    people.create_team(admin, "ml")
    person = people.create_person(admin, "bench", role="engineer", password=PASSWORD, team="ml")
    project = projects.create_project(admin, PROJECT, team="ml")
    token = tokens.create_token(runtime.as_actor(person), "bench", days=1).secret

    rng = random.Random(seed)
    started = time.perf_counter()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    teams = ["vision", "speech", "nlp", "ranking", "infra"]
    authors = [f"engineer{i}" for i in range(20)]
    chunk = 5000
    with runtime.db.write() as s:
        for lo in range(0, runs, chunk):
            rows = []
            for i in range(lo, min(lo + chunk, runs)):
                start = base + timedelta(seconds=i * 37)
                rows.append(
                    {
                        "project_id": project.id,
                        "name": f"run-{i}",
                        "status": "failed" if rng.random() < 0.05 else "finished",
                        "params": {
                            "lr": rng.choice(["0.1", "0.01", "0.001", "0.0003"]),
                            "depth": str(rng.randint(2, 12)),
                            "optimizer": rng.choice(["adam", "sgd", "adamw"]),
                        },
                        "tags": {"team": rng.choice(teams)},
                        "author": rng.choice(authors),
                        "started_at": start,
                        "ended_at": start + timedelta(seconds=30),
                        "python_version": "3.11.7",
                        "packages": {},
                    }
                )
            s.execute(insert(RunRow), rows)
        run_ids = [r for (r,) in s.execute(text("SELECT id FROM runs ORDER BY id"))]
        for lo in range(0, len(run_ids), chunk):
            points = []
            for run_id in run_ids[lo : lo + chunk]:
                acc = rng.uniform(0.5, 1.0)
                values = {"acc": acc, "loss": 1.0 - acc + rng.uniform(0, 0.1)}
                if rng.random() >= 0.1:
                    values["f1"] = acc - rng.uniform(0, 0.1)
                for key, value in values.items():
                    points.append(
                        {"run_id": run_id, "key": key, "step": 0, "value": value, "timestamp": base}
                    )
            s.execute(insert(MetricRow), points)
    # The summaries, filled from those rows by migration 0008 itself (undone and redone).
    from alembic import command

    cfg = schema._config()
    with runtime.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    schema.upgrade(runtime.db)
    if url.startswith("postgresql"):
        # What autovacuum does to a table that has settled: statistics, and the
        # visibility map without which an index-only scan still reads every heap row.
        with runtime.db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    if url.startswith("sqlite"):
        with runtime.db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    runtime.close()
    took = time.perf_counter() - started
    print(f"  built {runs:,} runs in {took:.0f} s", flush=True)
    return {"settings": settings, "token": token, "build_s": round(took, 1)}


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_forever(settings_json: str, port: int) -> None:
    """The server process: this store, on this port, until killed."""
    import uvicorn

    from mlgrove.config import Settings
    from mlgrove.server.app import create_app
    from mlgrove.services.context import Runtime

    runtime = Runtime.open(Settings(**json.loads(settings_json)))
    uvicorn.run(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")


def _start_server(settings: Any) -> tuple[subprocess.Popen[bytes], str]:
    import dataclasses

    import httpx

    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.runs_list",
            "--serve",
            json.dumps(dataclasses.asdict(settings)),
            str(port),
        ],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code < 500:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def _log_in(client: Any) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "no CSRF token on the login page"
    resp = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": "bench", "password": PASSWORD, "next": "/"},
    )
    assert resp.status_code == 303, resp.text[:300]


# --------------------------------------------------------------------------- timing


def _deep_query(client: Any, kind: str, path: str, query: dict[str, str]) -> dict[str, str]:
    """The query of page DEEP_PAGE + 1: the earlier pages walked (untimed) for the cursor."""
    found = dict(query)
    for _ in range(DEEP_PAGE):
        resp = client.get(path, params=found)
        resp.raise_for_status()
        if kind == "api-deep":
            cursor = resp.headers.get("X-Grove-Next-Cursor")
        else:
            m = re.search(r'href="[^"]*cursor=([^"&]+)[^"]*" data-testid="next-page"', resp.text)
            cursor = m.group(1) if m else None
            if cursor:
                from urllib.parse import unquote

                cursor = unquote(cursor)
        assert cursor, "ran out of pages before the deep one"
        found["cursor"] = cursor
    return found


def measure(base: str, token: str) -> list[dict[str, Any]]:
    import httpx

    results = []
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    web = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    _log_in(web)
    try:
        for name, kind, path, query in QUERIES:
            client = api if kind.startswith("api") else web
            q = {"project": PROJECT, **query}
            if kind.endswith("-deep"):
                q = _deep_query(client, kind, path, q)
            times = []
            rows = None
            for i in range(WARMUP + REQUESTS):
                t0 = time.perf_counter()
                resp = client.get(path, params=q)
                body = resp.content
                elapsed = time.perf_counter() - t0
                if resp.status_code != 200:
                    raise RuntimeError(f"{name}: HTTP {resp.status_code}: {body[:300]!r}")
                if i >= WARMUP:
                    times.append(elapsed)
                if rows is None:
                    rows = (
                        len(json.loads(body))
                        if kind.startswith("api")
                        else body.count(b'name="run" value=')
                    )
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
            entry = {
                "query": name,
                "runs_on_page": rows,
                "median_ms": round(statistics.median(times) * 1000, 1),
                "p95_ms": round(p95 * 1000, 1),
                "requests": len(times),
            }
            print(
                f"    {name:<48} {entry['median_ms']:>7.1f} ms median  {entry['p95_ms']:>7.1f} ms p95"
                f"  ({rows} runs)",
                flush=True,
            )
            results.append(entry)
    finally:
        api.close()
        web.close()
    return results


def _mlflow_search(built: dict[str, Any], url: str, reps: int, skip: bool) -> dict[str, Any]:
    """The same runs searched in process by Grove and by MLflow (runs_search_mlflow.py)."""
    import dataclasses

    from benchmarks import runs_search_mlflow
    from benchmarks._harness import ensure_peer
    from benchmarks.tracking_metrics import MLFLOW_REQUIREMENTS, MLFLOW_VERSIONS

    peer = ensure_peer("mlflow", MLFLOW_REQUIREMENTS, report_versions=MLFLOW_VERSIONS, skip=skip)
    if not peer.available:
        print(f"  MLflow search comparison skipped: {peer.reason}", flush=True)
        return {"skipped": peer.reason}
    result = runs_search_mlflow.compare(
        json.dumps(dataclasses.asdict(built["settings"])),
        Path(url.removeprefix("sqlite:///")),
        DATA_DIR / "runs_list",
        peer.bin / "python",
        reps,
        ROOT,
    )
    return {"peer": peer.facts(), **result}


def run(scale: str = "small", reps: int = 3, skip_peers: bool = False) -> dict[str, Any]:
    runs = SIZES[scale]
    payload: dict[str, Any] = {
        "machine": machine_facts(),
        "grove": grove_facts(SOURCES),
        "runs": runs,
        "requests_per_query": REQUESTS,
        "backends": {},
    }
    for backend, url in _database_urls(scale).items():
        print(f"  {backend}: building {runs:,} runs", flush=True)
        built = build(url, runs)
        proc, base = _start_server(built["settings"])
        try:
            payload["backends"][backend] = {
                "build_s": built["build_s"],
                "queries": measure(base, built["token"]),
            }
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        if backend == "sqlite":
            payload["mlflow_search"] = _mlflow_search(built, url, reps, skip_peers)
    path = write_results("runs_list", scale, payload)
    print(f"  results → {path.relative_to(ROOT)}", flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--search-worker"]:  # may run in MLflow's venv: no argparse setup
        from benchmarks import runs_search_mlflow

        return runs_search_mlflow.worker_main(args_in[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runs_list", description=DESCRIPTION)
    add_common_args(parser)
    parser.add_argument(
        "--serve", nargs=2, metavar=("SETTINGS_JSON", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve:
        serve_forever(args.serve[0], int(args.serve[1]))
        return 0
    run(scale=args.scale, reps=check_reps(args.reps), skip_peers=args.skip_peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
