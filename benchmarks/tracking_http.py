"""Log N metric points over HTTP on loopback: Grove's server vs an MLflow tracking server.

Usage: ``python -m benchmarks.tracking_http --scale small|full [--reps N]``

Both servers run for the whole scenario on 127.0.0.1, each over a SQLite store, started
untimed before the first rep; each rep is one fresh client process logging one new run.

- ``grove-http``: ``mlgrove.connect(url, token=...)``, ``run.log_metric`` per point: the
  remote SDK buffers points and sends each batch as one ``POST /runs/{id}/metrics``.
- ``mlflow-http-loop``: ``MlflowClient(url).log_metric`` per point: one REST call each.
- ``mlflow-http-batch``: ``log_batch`` with 1,000 points per call.

As in ``benchmarks.tracking_metrics``, the ratios that matter use each worker's
in-process ``seconds`` (first point to run ended); wall times are kept too.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    ROOT,
    Contender,
    add_common_args,
    check_reps,
    compute_ratios,
    ensure_peer,
    grove_facts,
    machine_facts,
    print_table,
    remove_tree,
    run_alternating,
    write_results,
)
from benchmarks.tracking_metrics import (
    BATCH,
    MLFLOW_REQUIREMENTS,
    MLFLOW_VERSIONS,
    SCALES,
    inner_ratios,
    verify_points,
    worker_command,
)

NAME = "tracking_http"
DESCRIPTION = "log N metric points over HTTP (loopback): Grove server vs MLflow tracking server"
TARGET = "≥ 10x faster than an MLflow tracking server (BENCHMARKS.md: 100k points over HTTP)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.3)
    raise RuntimeError(f"no answer from {url} within {seconds} s")


@contextlib.contextmanager
def _server(cmd: list[str], health: str, log: Path, cwd: Path = ROOT) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(health, proc)
            yield
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _grove_workspace(ws: Path) -> str:
    """A fresh workspace with an administrator and an API token for the client."""
    from mlgrove.domain.people import Role
    from mlgrove.services.workspace import init_workspace, opened
    from mlgrove.testing.factories import Factories

    remove_tree(ws)
    workspace = init_workspace(ws)
    with opened(workspace) as runtime:
        made = Factories(runtime)
        person = made.person("bench", role=Role.ADMIN)
        return made.token(person).secret


def run(scale: str, reps: int, skip_peers: bool = False) -> dict[str, Any]:
    check_reps(reps)
    points = SCALES[scale]
    work = DATA_DIR / f"{NAME}-{scale}"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    peer = ensure_peer(
        "mlflow", MLFLOW_REQUIREMENTS, report_versions=MLFLOW_VERSIONS, skip=skip_peers
    )
    if not peer.available:
        print(f"  peer mlflow unavailable: {peer.reason}", flush=True)
    ws = work / "grove"
    token = _grove_workspace(ws)
    grove_port, mlflow_port = _free_port(), _free_port()
    grove_url = f"http://127.0.0.1:{grove_port}"
    mlflow_url = f"http://127.0.0.1:{mlflow_port}"
    db = work / "mlflow" / "mlflow.db"
    remove_tree(db.parent)
    db.parent.mkdir(parents=True)

    grove_cmd = [sys.executable, "-m", "mlgrove.cli", "--workspace", str(ws)]
    grove_cmd += ["serve", "--port", str(grove_port)]
    mlflow_cmd = [
        str(peer.bin / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{db}",
        "--default-artifact-root",
        str(db.parent / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(mlflow_port),
        "--workers",
        "1",
    ]
    contenders = [
        Contender(
            name="grove-http",
            role="grove",
            description="remote SDK run.log_metric per point; batches POSTed by the buffer",
            command=lambda rep: worker_command(
                sys.executable, "grove", grove_url, points, "--token", token
            ),
            verify=verify_points(points),
        ),
        Contender(
            name="mlflow-http-loop",
            role="peer",
            description="MlflowClient.log_metric per point against `mlflow server`",
            command=lambda rep: worker_command(
                str(peer.bin / "python"), "mlflow-loop", mlflow_url, points
            ),
            verify=verify_points(points),
            unavailable=None if peer.available else peer.reason,
        ),
        Contender(
            name="mlflow-http-batch",
            role="peer",
            description=f"MlflowClient.log_batch, {BATCH} points per call, `mlflow server`",
            command=lambda rep: worker_command(
                str(peer.bin / "python"), "mlflow-batch", mlflow_url, points
            ),
            verify=verify_points(points),
            unavailable=None if peer.available else peer.reason,
        ),
    ]
    with contextlib.ExitStack() as stack:
        stack.enter_context(_server(grove_cmd, f"{grove_url}/api/v1/health", work / "grove.log"))
        if peer.available:
            stack.enter_context(_server(mlflow_cmd, f"{mlflow_url}/health", work / "mlflow.log"))
        measured = run_alternating(contenders, reps)
    pairs = [
        ("mlflow-http-loop/grove", "mlflow-http-loop", "grove-http"),
        ("mlflow-http-batch/grove", "mlflow-http-batch", "grove-http"),
    ]
    ratios = compute_ratios(measured, pairs)
    inner = inner_ratios(measured, pairs)
    print_table(measured, ratios)
    for label, r in inner.items():
        print(f"  {label:<34} in-process: {'n/a' if r is None else f'{r:.1f}x'}")
    loop = inner["mlflow-http-loop/grove"]
    payload = {
        "scale": scale,
        "params": {"points": points, "reps": reps, "order": [c.name for c in contenders]},
        "machine": machine_facts(),
        "grove": grove_facts(
            ["src/mlgrove/client/remote_tracking.py", "src/mlgrove/server/api/tracking.py"]
        ),
        "peers": {"mlflow": peer.facts()},
        "contenders": {name: m.summary() for name, m in measured.items()},
        "ratios": ratios,
        "inner_ratios": inner,
        "target": {
            "text": TARGET,
            "applies_at_this_scale": scale == "full",
            "loop": {"ratio": loop, "met": None if loop is None else loop >= 10},
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results → {path.relative_to(ROOT)}", flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    args = parser.parse_args(argv)
    run(args.scale, args.reps, skip_peers=args.skip_peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
