"""A no-op re-run of a fully cached 100-step pipeline: Grove versus ``dvc repro``.

The same DAG (seeded: each step reads up to two earlier steps) is built twice, as a Grove
pipeline of typed steps and as a ``dvc.yaml`` of stages, and run once, untimed, so every
step is cached. Then, alternating:

- ``grove-cli``: ``mlgrove pipeline run bench_pipe:pipeline`` as a fresh process (start-up,
  imports, loading the module, 100 cache-key computations and look-ups, the run record).
  A fully cached run takes the quick path (``services/pipeline_noop.py``: no Typer, no
  SQLAlchemy), which verifies and records exactly what the full path does;
- ``grove-inner``: the same run timed inside one process (``services.pipelines.run``),
  which is what a worker or notebook pays per run;
- ``dvc-repro``: ``dvc repro`` in the git+DVC repo (it checks every stage's deps and outs);
- ``grove-status`` (diagnostic): ``mlgrove pipeline status`` as a fresh process (read
  only: the same quick path, explaining each step);
- ``python-floor`` (diagnostic): ``python -c pass``, the interpreter's own start-up.

Target (BENCHMARKS.md): ≤ 0.5 s and ≥ 10x faster than ``dvc repro``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    DATA_DIR,
    ROOT,
    Contender,
    Peer,
    add_common_args,
    check_reps,
    compute_ratios,
    ensure_peer,
    grove_facts,
    machine_facts,
    print_table,
    run_alternating,
    write_results,
)

NAME = "pipelines_noop"
DESCRIPTION = "no-op re-run of a fully cached 100-step pipeline: Grove vs `dvc repro`"
SCALES = {"small": 100, "full": 100}  # the scenario is defined at 100 steps
SEED = 20261127
DVC_REQUIREMENTS = ["dvc==3.67.1"]
DVC_VERSIONS = ("dvc", "dvc-data", "dvc-objects", "scmrepo")
TARGET = "≤ 0.5 s and ≥ 10x faster than `dvc repro` (BENCHMARKS.md: no-op re-run)"
MODULE = "bench_pipe"


def dag(steps: int, seed: int = SEED) -> list[list[int]]:
    """For each step, the earlier steps it reads (up to two)."""
    rng = random.Random(seed)
    return [sorted(rng.sample(range(i), min(i, rng.choice((0, 1, 2, 2))))) for i in range(steps)]


def grove_module(edges: list[list[int]]) -> str:
    lines = ["from mlgrove.pipelines import Pipeline, step", ""]
    for i, ups in enumerate(edges):
        params = ", ".join(f"s{u}: int" for u in ups)
        body = " + ".join([f"s{u}" for u in ups] + [str(i)])
        lines += ["@step", f"def s{i}({params}) -> int:", f"    return {body}", ""]
    lines.append(f"pipeline = Pipeline('bench', [{', '.join(f's{i}' for i in range(len(edges)))}])")
    return "\n".join(lines) + "\n"


def dvc_yaml(edges: list[list[int]]) -> str:
    out = ["stages:"]
    for i, ups in enumerate(edges):
        out.append(f"  s{i}:")
        inputs = " ".join(f"outs/s{u}" for u in ups)
        out.append(f"    cmd: cat {inputs} /dev/null > outs/s{i} && echo {i} >> outs/s{i}")
        if ups:
            out.append("    deps:")
            out += [f"      - outs/s{u}" for u in ups]
        out.append("    outs:")
        out.append(f"      - outs/s{i}")
    return "\n".join(out) + "\n"


def _mlgrove() -> str:
    return str(Path(sys.executable).with_name("mlgrove"))


def grove_env(work: Path) -> dict[str, str]:
    """Grove's processes keep their compiled bytecode (in the data folder), as an installed
    package does: this checkout is often used with PYTHONDONTWRITEBYTECODE set, which
    would make every fresh process recompile each Grove module it imports (about 0.3 s
    here), a cost no installed Grove pays. DVC's venv has its bytecode from pip."""
    return {"PYTHONPYCACHEPREFIX": str(work / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}


def _prepare_grove(work: Path, edges: list[list[int]]) -> Path:
    ws = work / "grove"
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    env = {**os.environ, **grove_env(work)}
    subprocess.run([_mlgrove(), "init", str(ws)], check=True, capture_output=True, env=env)
    (ws / f"{MODULE}.py").write_text(grove_module(edges))
    target = f"{MODULE}:pipeline"
    # The first run caches every step; the others only write bytecode (untimed).
    for cmd in (
        [_mlgrove(), "pipeline", "run", target, "--executor", "inline"],
        [_mlgrove(), "pipeline", "run", target, "--json"],
        [_mlgrove(), "pipeline", "status", target],
        [sys.executable, "-m", f"benchmarks.{NAME}", "--worker", str(ws)],
    ):
        subprocess.run(
            cmd, cwd=ws if "--worker" not in cmd else ROOT, check=True, capture_output=True, env=env
        )
    return ws


def _prepare_dvc(peer: Peer, work: Path, edges: list[list[int]]) -> Path:
    repo = work / "dvc"
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "outs").mkdir(parents=True)
    dvc = str(peer.bin / "dvc")
    for cmd in (["git", "init", "-q"], [dvc, "init", "-q"]):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    (repo / "dvc.yaml").write_text(dvc_yaml(edges))
    subprocess.run([dvc, "repro", "-q"], cwd=repo, check=True, capture_output=True)
    return repo


def _worker(ws: Path) -> dict[str, Any]:
    """One cached run inside this process, timed without start-up and imports."""
    sys.path.insert(0, str(ws))
    from mlgrove.domain.people import LOCAL_ADMIN
    from mlgrove.pipelines import load
    from mlgrove.services import pipelines
    from mlgrove.services.workspace import opened
    from mlgrove.workspace import find_workspace

    with opened(find_workspace(ws)) as runtime:
        ctx = runtime.as_actor(LOCAL_ADMIN)
        p = load(f"{MODULE}:pipeline")
        pipelines.run(ctx, p)  # warm: module imported, connections open
        started = time.perf_counter()
        result = pipelines.run(ctx, p)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "cached": result.steps_cached, "steps": result.steps_total}


def run(scale: str, reps: int, skip_peers: bool = False) -> dict[str, Any]:
    check_reps(reps)
    steps = SCALES[scale]
    work = DATA_DIR / f"{NAME}-{scale}"
    started = time.perf_counter()
    edges = dag(steps)
    peer = ensure_peer("dvc", DVC_REQUIREMENTS, report_versions=DVC_VERSIONS, skip=skip_peers)
    if not peer.available:
        print(f"  peer dvc unavailable: {peer.reason}", flush=True)
    ws = _prepare_grove(work, edges)
    repo = _prepare_dvc(peer, work, edges) if peer.available else None
    print(f"  {steps} steps, {sum(map(len, edges))} edges; both cached once (untimed)", flush=True)

    def grove_verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if not inner or inner.get("steps_cached") != steps:
            return f"expected {steps} cached steps, got {inner and inner.get('steps_cached')}"
        return None

    def inner_verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if not inner or inner.get("cached") != steps:
            return f"expected {steps} cached steps, got {inner}"
        return None

    contenders = [
        Contender(
            name="grove-cli",
            role="grove",
            description=f"`mlgrove pipeline run {MODULE}:pipeline --json` as a fresh process",
            command=lambda rep: [_mlgrove(), "pipeline", "run", f"{MODULE}:pipeline", "--json"],
            verify=grove_verify,
            cwd=ws,
            env=grove_env(work),
        ),
        Contender(
            name="dvc-repro",
            role="peer",
            description="`dvc repro` in a git+DVC repo with the same 100 stages, all cached",
            command=lambda rep: [str(peer.bin / "dvc"), "repro", "-q"],
            cwd=repo or ROOT,
            unavailable=None if repo is not None else (peer.reason or "not installed"),
        ),
        Contender(
            name="grove-inner",
            role="grove",
            description="the same cached run inside one warm process (services.pipelines.run)",
            command=lambda rep: [
                sys.executable,
                "-m",
                f"benchmarks.{NAME}",
                "--worker",
                str(ws),
            ],
            verify=inner_verify,
            env=grove_env(work),
        ),
        Contender(
            name="python-floor",
            role="diagnostic",
            description="`python -c pass`: the interpreter's start-up, the floor of any command",
            command=lambda rep: [sys.executable, "-c", "pass"],
        ),
        Contender(
            name="grove-status",
            role="diagnostic",
            description=f"`mlgrove pipeline status {MODULE}:pipeline` as a fresh process",
            command=lambda rep: [_mlgrove(), "pipeline", "status", f"{MODULE}:pipeline"],
            cwd=ws,
            env=grove_env(work),
        ),
    ]
    measured = run_alternating(contenders, reps)
    ratios = compute_ratios(
        measured,
        [
            ("dvc/grove-cli", "dvc-repro", "grove-cli"),
            ("dvc/grove-inner", "dvc-repro", "grove-inner"),
            ("dvc/grove-status", "dvc-repro", "grove-status"),
            ("grove-cli/python-floor", "grove-cli", "python-floor"),
        ],
    )
    print_table(measured, ratios)
    inner = measured["grove-inner"].summary().get("median_inner_s")
    cli = measured["grove-cli"].median_wall()
    r = ratios["dvc/grove-cli"]["wall"]
    target = {
        "text": TARGET,
        "grove_cli_s": cli,
        "grove_inner_s": inner,
        "dvc_over_grove_cli": r,
        "met_cli_under_0_5_s": None if cli is None else cli <= 0.5,
        "met_inner_under_0_5_s": None if inner is None else inner <= 0.5,
        "met_10x": None if r is None else r >= 10,
    }
    print(f"  target {TARGET}: {json.dumps(target)}")
    payload = {
        "scale": scale,
        "params": {"steps": steps, "edges": sum(map(len, edges)), "seed": SEED, "reps": reps},
        "machine": machine_facts(),
        "grove": grove_facts(
            [
                "src/mlgrove/pipelines/engine.py",
                "src/mlgrove/pipelines/fingerprint.py",
                "src/mlgrove/services/pipelines.py",
                "src/mlgrove/services/pipeline_noop.py",
                "src/mlgrove/store/repos/pipeline_noop.py",
                "src/mlgrove/cli/pipeline_fast.py",
            ]
        ),
        "peers": {"dvc": peer.facts()},
        "contenders": {name: m.summary() for name, m in measured.items()},
        "ratios": ratios,
        "target": target,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    path = write_results(NAME, scale, payload)
    print(f"  results → {path.relative_to(ROOT)}", flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker)))
        return 0
    run(args.scale, args.reps, skip_peers=args.skip_peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
