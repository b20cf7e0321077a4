"""Log N metric points over HTTP on loopback: Grove's server vs an MLflow tracking server.

Usage: ``python -m benchmarks.tracking_http --scale small|full [--reps N]``

Both servers run for the whole scenario on 127.0.0.1, each over a SQLite store, started
untimed before the first rep; each rep is one fresh client process logging one new run.

- ``grove-http``: ``mlgrove.connect(url, token=...)``, ``run.log_metric`` per point: the
  remote SDK buffers points and sends each batch as one ``POST /runs/{id}/metrics``.
- ``mlflow-http-loop``: ``MlflowClient(url).log_metric`` per point: one REST call each
  (at full scale a 10,000-point sample, its time scaled to N, as the output says).
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
    loop_sample,
    sample_note,
    verify_points,
    worker_command,
)

NAME = "tracking_http"
DESCRIPTION = "log N metric points over HTTP (loopback): Grove server vs MLflow tracking server"
TARGET = (
    "≥ 10x faster than an MLflow tracking server (BENCHMARKS.md: 100k points over HTTP), "
    "against both its per-point API and log_batch"
)


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


def run(
    scale: str, reps: int, skip_peers: bool = False, loop_points: int | None = None
) -> dict[str, Any]:
    check_reps(reps)
    points = SCALES[scale]
    sample, factor = loop_sample(scale, points, loop_points)
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
                str(peer.bin / "python"), "mlflow-loop", mlflow_url, sample
            ),
            verify=verify_points(sample),
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
    note = sample_note(sample, points)
    ratios = compute_ratios(measured, pairs if note is None else pairs[1:])
    inner = inner_ratios(measured, pairs, {"mlflow-http-loop": factor})
    print_table(measured, ratios)
    for label, r in inner.items():
        print(f"  {label:<34} in-process: {'n/a' if r is None else f'{r:.1f}x'}")
    if note:
        print(f"  {note}", flush=True)
    loop = inner["mlflow-http-loop/grove"]
    batch = inner["mlflow-http-batch/grove"]
    payload = {
        "scale": scale,
        "params": {
            "points": points,
            "loop_points": sample,
            "reps": reps,
            "order": [c.name for c in contenders],
        },
        "loop_extrapolation": note,
        "machine": machine_facts(),
        "grove": grove_facts(
            [
                "src/mlgrove/client/remote_tracking.py",
                "src/mlgrove/server/api/tracking.py",
                "src/mlgrove/server/api/tracking_schemas.py",
            ]
        ),
        "peers": {"mlflow": peer.facts()},
        "contenders": {name: m.summary() for name, m in measured.items()},
        "ratios": ratios,
        "inner_ratios": inner,
        "target": {
            "text": TARGET,
            "applies_at_this_scale": scale == "full",
            "loop": {
                "ratio": loop,
                "met": None if loop is None else loop >= 10,
                "extrapolated_from_points": sample if note else None,
            },
            "batch": {"ratio": batch, "met": None if batch is None else batch >= 10},
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results → {path.relative_to(ROOT)}", flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    parser.add_argument(
        "--loop-points",
        type=int,
        default=None,
        help="points MLflow's per-point loop logs, its time scaled to N "
        "(default: all at small scale, 10000 at full; 0: all)",
    )
    args = parser.parse_args(argv)
    run(args.scale, args.reps, skip_peers=args.skip_peers, loop_points=args.loop_points)
    return 0


if __name__ == "__main__":
    sys.exit(main())
