"""Scenario ``datasets_commit``: commit an N-row x 10-column Parquet table.

Contenders, alternated, each a fresh process on fresh state:

- ``grove-add``: ``mlgrove data add t table.parquet --key id --json`` in a workspace made
  with ``mlgrove init`` just before (untimed). The whole process is timed: interpreter
  start-up, imports, key check, row hashing, chunking, encoding, storing, metadata.
- ``dvc-add``: ``dvc add table.parquet`` in a fresh ``git init && dvc init`` repo (md5 of
  the file, copy into ``.dvc/cache``), DVC's site cache fresh too.
- ``limit``: read the file and BLAKE3-hash it as ``b3sum`` does (mmap, all cores), as a
  fresh Python process: the physical floor for "know what these bytes are".
- ``limit-1thread``: the same hash streamed in 1 MiB reads on one thread (diagnostic).
- ``grove-startup`` (diagnostic): ``mlgrove data list --json`` in a fresh workspace:
  what any Grove command pays before doing work (interpreter, imports, opening the DB).

Targets (BENCHMARKS.md, at 10M rows): ≥ 5x faster than DVC; ≤ 2x the read+hash limit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
    warm_read,
    write_results,
)
from benchmarks._tables import (
    DVC_REQUIREMENTS,
    DVC_VERSIONS,
    GROVE,
    DvcRepo,
    Table,
    grove_env,
    grove_init,
    grove_versions,
    link_or_copy,
    make_table,
)

NAME = "datasets_commit"
DESCRIPTION = (
    "commit an N-row x 10-column Parquet table: `mlgrove data add` vs `dvc add` vs read+BLAKE3"
)
SCALES = {"small": 1_000_000, "full": 10_000_000}
SEED = 20240611
TARGETS = {
    "dvc_over_grove": ("≥ 5x faster than `dvc add`", 5.0, "min"),
    "grove_over_limit": ("≤ 2x the read+BLAKE3 limit", 2.0, "max"),
}
MEASURED_SOURCES = [
    "src/mlgrove/services/table_commit.py",
    "src/mlgrove/services/datasets.py",
    "src/mlgrove/cli/data_cmds.py",
]


# --------------------------------------------------------------------------- workers


def _worker(mode: str, data: Path) -> dict[str, Any]:
    import blake3

    started = time.perf_counter()
    if mode == "limit":
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        hasher.update_mmap(data)
    elif mode == "limit-1thread":
        hasher = blake3.blake3()
        with open(data, "rb") as fh:
            while chunk := fh.read(1 << 20):
                hasher.update(chunk)
    else:
        raise SystemExit(f"unknown worker mode {mode!r}")
    return {"seconds": time.perf_counter() - started, "blake3": hasher.hexdigest()}


# --------------------------------------------------------------------------- contenders


def grove_add_contender(table: Table, workspace: Path, name: str = "grove-add") -> Contender:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or inner.get("rows") != table.rows or inner.get("version") != "v1":
            return f"unexpected output {str(inner)[:300]}"
        return None

    return Contender(
        name=name,
        role="grove",
        description="`mlgrove data add t table.parquet --key id --json` in a fresh workspace",
        command=lambda rep: [
            str(GROVE),
            "data",
            "add",
            "t",
            str(table.path),
            "--key",
            "id",
            "--json",
        ],
        setup=lambda rep: grove_init(workspace),
        verify=verify,
        cleanup=lambda rep: remove_tree(workspace),
        env=grove_env(workspace),
        cwd=workspace,
    )


def dvc_add_contender(dvc: DvcRepo, table: Table, name: str = "dvc-add") -> Contender:
    target = dvc.repo / table.path.name

    def setup(rep: int) -> None:
        dvc.fresh()
        link_or_copy(table.path, target)

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        files, size = dvc.cache_bytes()
        if not (dvc.repo / f"{target.name}.dvc").exists() or files != 1 or size != table.bytes:
            return f"DVC cache holds {files} files / {size} B (expected 1 / {table.bytes})"
        return None

    return Contender(
        name=name,
        role="peer",
        description=f"`dvc add {target.name}` in a fresh git+dvc repo (md5, copy into .dvc/cache)",
        command=lambda rep: [dvc.dvc, "add", "-q", target.name],
        setup=setup,
        verify=verify,
        cleanup=lambda rep: dvc.clean(),
        env=dvc.env,
        cwd=dvc.repo,
        unavailable=None if dvc.peer.available else (dvc.peer.reason or "not installed"),
    )


def limit_contender(table: Table, mode: str, digests: set[str]) -> Contender:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or "blake3" not in inner:
            return "no digest"
        digests.add(inner["blake3"])
        return None if len(digests) == 1 else f"digests differ between runs: {digests}"

    described = {
        "limit": "read + BLAKE3 of the file, b3sum-like (mmap, all cores), fresh process",
        "limit-1thread": "DIAGNOSTIC: read + BLAKE3 streamed in 1 MiB blocks, one thread",
    }
    return Contender(
        name=mode,
        role="limit" if mode == "limit" else "diagnostic",
        description=described[mode],
        command=lambda rep: [
            sys.executable,
            "-m",
            f"benchmarks.{NAME}",
            "--worker",
            mode,
            "--data",
            str(table.path),
        ],
        verify=verify,
    )


def grove_startup_contender(workspace: Path) -> Contender:
    return Contender(
        name="grove-startup",
        role="diagnostic",
        description="DIAGNOSTIC: `mlgrove project list` in a fresh empty workspace",
        command=lambda rep: [str(GROVE), "project", "list"],
        setup=lambda rep: grove_init(workspace),
        cleanup=lambda rep: remove_tree(workspace),
        env=grove_env(workspace),
        cwd=workspace,
    )


def target_verdicts(ratios: dict[str, dict[str, float | None]], scale: str) -> dict[str, Any]:
    out: dict[str, Any] = {"applies_at_this_scale": scale == "full"}
    for key, label in (("dvc_over_grove", "dvc/grove"), ("grove_over_limit", "grove/limit")):
        text, bound, kind = TARGETS[key]
        r = ratios[label]["wall"]
        met = None if r is None else (r >= bound if kind == "min" else r <= bound)
        out[key] = {"target": text, "ratio": r, "met": met}
        word = "n/a" if met is None else ("MET" if met else "NOT met")
        print(f"  target {text}: {label} = {r} → {word}", flush=True)
    return out


# --------------------------------------------------------------------------- scenario


def run(scale: str, reps: int, skip_peers: bool = False) -> dict:
    check_reps(reps)
    rows = SCALES[scale]
    work = DATA_DIR / f"{NAME}-{scale}"
    started = time.perf_counter()

    peer = ensure_peer("dvc", DVC_REQUIREMENTS, report_versions=DVC_VERSIONS, skip=skip_peers)
    if not peer.available:
        print(f"  peer dvc unavailable: {peer.reason}", flush=True)
    table = make_table(DATA_DIR / "tables" / f"table-{rows}.parquet", rows=rows, seed=SEED)
    warm = lambda: warm_read([table.path])  # noqa: E731 - same warm page cache for everyone
    warm_s = warm()

    digests: set[str] = set()
    dvc = DvcRepo(peer, work / "dvc-repo", work)
    contenders = [
        grove_add_contender(table, work / "grove-ws"),
        dvc_add_contender(dvc, table),
        limit_contender(table, "limit", digests),
        limit_contender(table, "limit-1thread", digests),
        grove_startup_contender(work / "grove-startup-ws"),
    ]
    measured = run_alternating(contenders, reps, prewarm=warm)
    ratios = compute_ratios(
        measured,
        [
            ("dvc/grove", "dvc-add", "grove-add"),
            ("grove/limit", "grove-add", "limit"),
            ("grove/limit-1thread", "grove-add", "limit-1thread"),
            ("dvc/limit", "dvc-add", "limit"),
            ("grove-startup/grove", "grove-startup", "grove-add"),
        ],
    )
    print_table(measured, ratios)
    target = target_verdicts(ratios, scale)
    grove_inner = measured["grove-add"].inner
    payload = {
        "scale": scale,
        "params": {
            "rows": rows,
            "columns": 10,
            "seed": SEED,
            "parquet_bytes": table.bytes,
            "reps": reps,
            "order": [c.name for c in contenders],
            "blake3": sorted(digests),
        },
        "machine": machine_facts(),
        "grove": {**grove_facts(MEASURED_SOURCES), "libraries": grove_versions()},
        "peers": {"dvc": peer.facts()},
        "page_cache": {"warm_read_s": round(warm_s, 3), "note": "input read before every run"},
        "contenders": {name: m.summary() for name, m in measured.items()},
        "grove_stored_bytes": [i.get("new_bytes") for i in grove_inner],
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
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data)))
        return 0
    run(args.scale, args.reps, skip_peers=args.skip_peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
