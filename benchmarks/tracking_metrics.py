"""Log N metric points from Python into a local SQLite store: Grove's SDK vs MLflow.

Usage: ``python -m benchmarks.tracking_metrics --scale small|full [--reps N]``

The job: one run, N points of one metric (steps 0..N-1), logged one call per point as a
training loop does, then the run ended and every point readable.

- ``grove-embedded``: ``mlgrove.connect(workspace)``, ``run.log_metric`` per point inside
  ``with grove.runs.start(...)``: the shipping SDK, buffered and written in batches by a
  background thread, into the workspace's SQLite database (a fresh workspace each rep).
- ``mlflow-loop``: ``MlflowClient.log_metric`` per point into ``sqlite:///mlflow.db``
  (MLflow's own SQL store; a fresh database each rep, its schema made untimed). At full
  scale it logs a 10,000-point sample and its time is scaled to N, and the output says
  so (``LOOP_SAMPLE``; ``--loop-points 0`` measures all N).
- ``mlflow-batch``: ``MlflowClient.log_batch`` with 1,000 points per call (MLflow's
  limit per batch), same store: the fastest way MLflow offers.

Every contender is a fresh subprocess. ``wall`` includes interpreter start-up and
imports; each worker also reports ``seconds``, the in-process time from the first point
to the run being ended (``inner``), which is what the targets are about. Both are kept.
The HTTP variant is ``benchmarks.tracking_http``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    ROOT,
    Contender,
    Measured,
    Peer,
    add_common_args,
    check_reps,
    compute_ratios,
    ensure_peer,
    grove_facts,
    machine_facts,
    print_table,
    ratio,
    remove_tree,
    run_alternating,
    write_results,
)

NAME = "tracking_metrics"
DESCRIPTION = "log N metric points via the SDK into SQLite: Grove embedded vs MLflow loop/batch"
SCALES = {"small": 10_000, "full": 100_000}
#: MLflow's per-point loop logs this many points at full scale, and its time is scaled up
#: to N (its per-point cost does not depend on N: one call, one transaction each). At
#: 100k it would take 10-25 minutes per rep here; measured rather than guessed at small
#: scale, and overridable with ``--loop-points`` (0: all N).
LOOP_SAMPLE = {"small": 0, "full": 10_000}
MLFLOW_REQUIREMENTS = ["mlflow==3.17.2"]
MLFLOW_VERSIONS = ("mlflow", "sqlalchemy")
BATCH = 1000  # MLflow's maximum metrics per log_batch call
TARGET = "≥ 50x MLflow's log_metric loop, ≥ 5x log_batch (BENCHMARKS.md: log 100k metric points)"


def value(i: int) -> float:
    """The i-th point: deterministic, varied, exactly representable round trip."""
    return 1.0 / (i + 1) + math.sin(i) * 1e-3


# --------------------------------------------------------------------------- workers
# ``python -m benchmarks.tracking_metrics --worker MODE --target T --points N``; each
# prints one JSON line. The MLflow workers run in the peer's venv and import only it.


def grove_worker(target: str, points: int, token: str | None = None) -> dict[str, Any]:
    import mlgrove

    grove = mlgrove.connect(target, token=token) if token else mlgrove.connect(Path(target))
    with grove:
        started = time.perf_counter()
        with grove.runs.start(name="bench", capture_environment=False) as run:
            for i in range(points):
                run.log_metric("loss", value(i), step=i)
        seconds = time.perf_counter() - started
        stored = grove.runs.metric_history(run.id, "loss")
    return {"seconds": seconds, "points": len(stored), "last": stored[-1].value}


def mlflow_worker(mode: str, uri: str, points: int) -> dict[str, Any]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("bench")
    exp_id = experiment.experiment_id if experiment else client.create_experiment("bench")
    started = time.perf_counter()
    run = client.create_run(exp_id, run_name="bench")
    run_id = run.info.run_id
    if mode.endswith("loop"):
        for i in range(points):
            client.log_metric(run_id, "loss", value(i), step=i)
    else:
        now = int(time.time() * 1000)
        for lo in range(0, points, BATCH):
            batch = [Metric("loss", value(i), now, i) for i in range(lo, min(points, lo + BATCH))]
            client.log_batch(run_id, metrics=batch)
    client.set_terminated(run_id, "FINISHED")
    seconds = time.perf_counter() - started
    stored = client.get_metric_history(run_id, "loss")
    return {"seconds": seconds, "points": len(stored), "last": stored[-1].value}


def make_mlflow_store(peer: Peer, db: Path) -> None:
    """A fresh MLflow SQLite store with its schema made (MLflow migrates on first open)."""
    db.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    code = (
        "from mlflow.tracking import MlflowClient; "
        f"MlflowClient(tracking_uri={f'sqlite:///{db}'!r}).create_experiment('bench')"
    )
    subprocess.run([str(peer.bin / "python"), "-c", code], check=True, capture_output=True)


def verify_points(points: int) -> Any:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or inner.get("points") != points:
            return f"worker reported {inner} (expected {points} points)"
        if inner.get("last") != value(points - 1):
            return f"last point is {inner.get('last')}, not {value(points - 1)}"
        return None

    return verify


def worker_command(python: str, mode: str, target: str, points: int, *extra: str) -> list[str]:
    return [
        python,
        "-m",
        f"benchmarks.{NAME}",
        "--worker",
        mode,
        "--target",
        target,
        "--points",
        str(points),
        *extra,
    ]


def inner_ratios(
    measured: dict[str, Measured],
    pairs: list[tuple[str, str, str]],
    scaled: dict[str, float] | None = None,
) -> dict[str, float | None]:
    """peer/grove over the median in-process seconds (start-up and imports left out).
    A contender in ``scaled`` logged a sample of the points: its median is multiplied by
    the factor (N / sample) before the ratio is taken."""

    def median(name: str) -> float | None:
        m = measured.get(name)
        if m is None or not m.ok or not m.inner:
            return None
        factor = (scaled or {}).get(name, 1.0)
        return statistics.median(float(i["seconds"]) for i in m.inner) * factor

    return {label: ratio(median(a), median(b)) for label, a, b in pairs}


def loop_sample(scale: str, points: int, requested: int | None) -> tuple[int, float]:
    """How many points MLflow's loop logs, and the factor that scales its time to N."""
    sample = LOOP_SAMPLE[scale] if requested is None else requested
    sample = points if sample <= 0 or sample >= points else sample
    return sample, points / sample


def sample_note(sample: int, points: int) -> str | None:
    if sample == points:
        return None
    return (
        f"EXTRAPOLATED: MLflow's log_metric loop logged {sample:,} of the {points:,} points "
        f"in each rep; its in-process time was multiplied by {points / sample:g} (one call "
        f"and one transaction per point, so its cost per point does not depend on N). "
        f"Its wall-time ratios are left out."
    )


# --------------------------------------------------------------------------- scenario


def run(
    scale: str, reps: int, skip_peers: bool = False, loop_points: int | None = None
) -> dict[str, Any]:
    check_reps(reps)
    points = SCALES[scale]
    sample, factor = loop_sample(scale, points, loop_points)
    work = DATA_DIR / f"{NAME}-{scale}"
    started = time.perf_counter()
    peer = ensure_peer(
        "mlflow", MLFLOW_REQUIREMENTS, report_versions=MLFLOW_VERSIONS, skip=skip_peers
    )
    if not peer.available:
        print(f"  peer mlflow unavailable: {peer.reason}", flush=True)
    ws = work / "grove"
    db = work / "mlflow" / "mlflow.db"

    def grove_setup(rep: int) -> None:
        from mlgrove.services.workspace import init_workspace

        remove_tree(ws)
        init_workspace(ws)

    contenders = [
        Contender(
            name="grove-embedded",
            role="grove",
            description="run.log_metric per point, SDK buffer + batched INSERTs, SQLite",
            command=lambda rep: worker_command(sys.executable, "grove", str(ws), points),
            setup=grove_setup,
            verify=verify_points(points),
            cleanup=lambda rep: remove_tree(ws),
        ),
        Contender(
            name="mlflow-loop",
            role="peer",
            description="MlflowClient.log_metric per point, sqlite:/// store",
            command=lambda rep: worker_command(
                str(peer.bin / "python"), "mlflow-loop", f"sqlite:///{db}", sample
            ),
            setup=lambda rep: make_mlflow_store(peer, db),
            verify=verify_points(sample),
            unavailable=None if peer.available else peer.reason,
        ),
        Contender(
            name="mlflow-batch",
            role="peer",
            description=f"MlflowClient.log_batch, {BATCH} points per call, sqlite:/// store",
            command=lambda rep: worker_command(
                str(peer.bin / "python"), "mlflow-batch", f"sqlite:///{db}", points
            ),
            setup=lambda rep: make_mlflow_store(peer, db),
            verify=verify_points(points),
            unavailable=None if peer.available else peer.reason,
        ),
    ]
    measured = run_alternating(contenders, reps)
    pairs = [
        ("mlflow-loop/grove", "mlflow-loop", "grove-embedded"),
        ("mlflow-batch/grove", "mlflow-batch", "grove-embedded"),
    ]
    note = sample_note(sample, points)
    ratios = compute_ratios(measured, pairs if note is None else pairs[1:])
    inner = inner_ratios(measured, pairs, {"mlflow-loop": factor})
    print_table(measured, ratios)
    for label, r in inner.items():
        print(f"  {label:<34} in-process: {'n/a' if r is None else f'{r:.1f}x'}")
    if note:
        print(f"  {note}", flush=True)
    target = {
        "text": TARGET,
        "applies_at_this_scale": scale == "full",
        "loop": {
            "ratio": inner["mlflow-loop/grove"],
            "met": _met(inner["mlflow-loop/grove"], 50),
            "extrapolated_from_points": sample if note else None,
        },
        "batch": {
            "ratio": inner["mlflow-batch/grove"],
            "met": _met(inner["mlflow-batch/grove"], 5),
        },
    }
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
                "src/mlgrove/client/tracking.py",
                "src/mlgrove/services/tracking.py",
                "src/mlgrove/domain/metric_batch.py",
                "src/mlgrove/store/repos/metrics.py",
            ]
        ),
        "peers": {"mlflow": peer.facts()},
        "contenders": {name: m.summary() for name, m in measured.items()},
        "ratios": ratios,
        "inner_ratios": inner,
        "target": target,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results → {path.relative_to(ROOT)}", flush=True)
    return payload


def _met(r: float | None, wanted: float) -> bool | None:
    return None if r is None else r >= wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--points", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument(
        "--loop-points",
        type=int,
        default=None,
        help="points MLflow's per-point loop logs, its time scaled to N "
        "(default: all at small scale, 10000 at full; 0: all)",
    )
    args = parser.parse_args(argv)
    if args.worker == "grove":
        print(json.dumps(grove_worker(args.target, args.points, args.token)))
        return 0
    if args.worker:
        print(json.dumps(mlflow_worker(args.worker, args.target, args.points)))
        return 0
    run(args.scale, args.reps, skip_peers=args.skip_peers, loop_points=args.loop_points)
    return 0


if __name__ == "__main__":
    sys.exit(main())
