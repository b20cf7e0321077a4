"""Scenario ``datasets_append``: append 1% rows to a committed table and commit again.

Contenders, alternated, each a fresh process on fresh state:

- ``grove-first``: the first commit, ``mlgrove data add t v1.parquet --key id`` in a
  fresh workspace (the reference the target is relative to, measured in the same run).
- ``grove-append``: a fresh workspace where v1 was committed (untimed); timed:
  ``mlgrove data add t v2.parquet --key id --json`` (v2 = v1 + 1% new rows at the end).
  Extra storage: ``new_bytes`` of v2 as Grove reports it, cross-checked against the
  growth of ``.mlgrove/objects`` on disk.
- ``grove-append-op``: the same prepared workspace; timed:
  ``mlgrove data append t tail.parquet --json`` (tail = only the 1% new rows): the
  operation whose cost should follow the change. Extra storage measured the same way.
- ``dvc-first``: ``dvc add v1`` in a fresh git+dvc repo.
- ``dvc-readd``: a fresh repo where v1 was added (untimed); the file is replaced by v2,
  timed: ``dvc add`` again (DVC re-hashes and stores the whole file). Cache growth from
  the size of ``.dvc/cache`` before and after.

Target (BENCHMARKS.md, at 10M rows): cost grows with the change, not the table:
the second commit ≤ 10% of the first commit's time and ≤ 5% extra storage.

Grove's timed processes keep their compiled bytecode (``PYTHONPYCACHEPREFIX`` in the
work folder, written by an untimed warm-up on a few rows), as an installed package does:
this checkout is often used with ``PYTHONDONTWRITEBYTECODE`` set, which would make every
fresh process recompile each Grove module it imports (about 0.3 s of a 1.5 s append), a
cost no installed Grove pays and one that weighs on the small command far more than on
the first commit. DVC's venv has its bytecode from pip.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
    grove,
    grove_env,
    grove_init,
    grove_versions,
    link_or_copy,
    make_appended,
    make_table,
    make_tail,
    run_checked,
    tree_bytes,
)
from benchmarks.datasets_commit import SEED, dvc_add_contender, grove_add_contender

NAME = "datasets_append"
DESCRIPTION = "append 1% rows to a committed table and commit again: Grove vs DVC re-add"
SCALES = {"small": 1_000_000, "full": 10_000_000}
FRACTION = 0.01
MEASURED_SOURCES = [
    "src/mlgrove/services/table_commit.py",
    "src/mlgrove/services/table_append.py",
    "src/mlgrove/tabular/chunker.py",
    "src/mlgrove/tabular/sidecar.py",
]


def bytecode_env(work: Path) -> dict[str, str]:
    """Environment for Grove processes that keep their bytecode (see the docstring)."""
    return {"PYTHONPYCACHEPREFIX": str(work / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}


def warm_bytecode(work: Path, tail: Table) -> None:
    """Compile every module the timed commands import, once, untimed: a first commit and
    an append of a few of the tail's rows in a scratch workspace."""
    import pyarrow.parquet as pq

    ws = work / "grove-warm-ws"
    remove_tree(ws)
    ws.mkdir(parents=True)
    env = {**grove_env(ws), **bytecode_env(work)}
    rows = pq.read_table(tail.path)
    first, more = work / "warm-first.parquet", work / "warm-more.parquet"
    pq.write_table(rows.slice(0, 1000), first)
    pq.write_table(rows.slice(1000, 1000), more)
    for args in (
        ["init", "."],
        ["data", "add", "t", str(first), "--key", "id", "--json"],
        ["data", "append", "t", str(more), "--json"],
        ["project", "list"],
    ):
        run_checked([GROVE, *args], cwd=ws, env=env)
    remove_tree(ws)
    first.unlink()
    more.unlink()


def _grove_append(
    base: Table,
    appended: Table,
    workspace: Path,
    growth: list[dict],
    tail: Table | None = None,
) -> Contender:
    """``data add`` of the whole v2 file or, given ``tail``, ``data append`` of it."""
    objects = workspace / ".mlgrove" / "objects"
    before: dict[str, int] = {}

    def setup(rep: int) -> None:
        grove_init(workspace)
        grove(workspace, "data", "add", "t", base.path, "--key", "id")
        before["bytes"] = tree_bytes(objects, exclude_dirs=("tmp",))[1]

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or inner.get("rows") != appended.rows or inner.get("version") != "v2":
            return f"unexpected output {str(inner)[:300]}"
        after = tree_bytes(objects, exclude_dirs=("tmp",))[1]
        growth.append(
            {
                "store_before_bytes": before["bytes"],
                "store_after_bytes": after,
                "store_growth_bytes": after - before["bytes"],
                "new_bytes_reported": inner.get("new_bytes"),
                "version_bytes_reported": inner.get("bytes"),
            }
        )
        return None

    if tail is not None:
        name = "grove-append-op"
        description = "`mlgrove data append t tail.parquet` (1% new rows) after v1 (untimed)"
        args = ["data", "append", "t", str(tail.path), "--json"]
    else:
        name = "grove-append"
        description = "`mlgrove data add t v2.parquet --key id` after v1 was committed (untimed)"
        args = ["data", "add", "t", str(appended.path), "--key", "id", "--json"]
    return Contender(
        name=name,
        role="grove",
        description=description,
        command=lambda rep: [str(GROVE), *args],
        setup=setup,
        verify=verify,
        cleanup=lambda rep: remove_tree(workspace),
        env=grove_env(workspace),
        cwd=workspace,
    )


def _dvc_readd(dvc: DvcRepo, base: Table, appended: Table, growth: list[dict]) -> Contender:
    target = dvc.repo / "table.parquet"
    before: dict[str, int] = {}

    def setup(rep: int) -> None:
        dvc.fresh()
        link_or_copy(base.path, target)
        dvc.run("add", "-q", target.name)
        before["bytes"] = dvc.cache_bytes()[1]
        link_or_copy(appended.path, target)

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        files, after = dvc.cache_bytes()
        if files != 2:
            return f"DVC cache holds {files} files (expected 2: v1 and v2)"
        growth.append(
            {
                "cache_before_bytes": before["bytes"],
                "cache_after_bytes": after,
                "cache_growth_bytes": after - before["bytes"],
            }
        )
        return None

    return Contender(
        name="dvc-readd",
        role="peer",
        description="`dvc add table.parquet` again after replacing v1 by v2 (v1 added untimed)",
        command=lambda rep: [dvc.dvc, "add", "-q", target.name],
        setup=setup,
        verify=verify,
        cleanup=lambda rep: dvc.clean(),
        env=dvc.env,
        cwd=dvc.repo,
        unavailable=None if dvc.peer.available else (dvc.peer.reason or "not installed"),
    )


def _cpu_seconds(workspace: Path, *args: str | Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one Grove CLI run: user + system time of the child,
    which a loaded machine inflates far less than wall time."""
    import resource

    env = {**grove_env(workspace), **bytecode_env(workspace.parent)}
    # As before a timed run: the previous run's dirty pages (a first commit writes 0.3 GB)
    # are written back first, or this run's durability barrier would pay for them.
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run_checked([GROVE, *args], cwd=workspace, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(cpu, 3), round(wall, 3)


def cpu_diagnostic(base: Table, appended: Table, tail: Table, work: Path) -> dict[str, Any]:
    """CPU time of the first commit, the whole re-add, the append and start-up alone
    (one untimed-by-the-harness run each): a load-independent view of the ratio."""
    ws = work / "grove-cpu-ws"
    out: dict[str, Any] = {}
    grove_init(ws)
    out["startup_project_list"] = _cpu_seconds(ws, "project", "list")
    out["first_commit"] = _cpu_seconds(ws, "data", "add", "t", base.path, "--key", "id")
    pristine = work / "grove-cpu-pristine"
    remove_tree(pristine)
    shutil.copytree(ws, pristine)
    out["append_op"] = _cpu_seconds(ws, "data", "append", "t", tail.path)
    remove_tree(ws)
    shutil.copytree(pristine, ws)
    out["whole_readd"] = _cpu_seconds(ws, "data", "add", "t", appended.path, "--key", "id")
    remove_tree(ws)
    remove_tree(pristine)
    first = out["first_commit"][0]
    out["cpu_ratio_append_op/first"] = round(out["append_op"][0] / first, 3)
    out["cpu_ratio_whole_readd/first"] = round(out["whole_readd"][0] / first, 3)
    out["note"] = "(cpu s, wall s) per run; one run each after the timed runs"
    print(f"  CPU diagnostic: {out}", flush=True)
    return out


def _median(values: list[float | int | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def run(scale: str, reps: int, skip_peers: bool = False) -> dict:
    check_reps(reps)
    rows = SCALES[scale]
    work = DATA_DIR / f"{NAME}-{scale}"
    started = time.perf_counter()

    peer = ensure_peer("dvc", DVC_REQUIREMENTS, report_versions=DVC_VERSIONS, skip=skip_peers)
    if not peer.available:
        print(f"  peer dvc unavailable: {peer.reason}", flush=True)
    tables = DATA_DIR / "tables"
    base = make_table(tables / f"table-{rows}.parquet", rows=rows, seed=SEED)
    appended = make_appended(base, tables / f"table-{rows}-append1pct.parquet", fraction=FRACTION)
    tail = make_tail(base, tables / f"table-{rows}-tail1pct.parquet", fraction=FRACTION)
    warm = lambda: warm_read([base.path, appended.path, tail.path])  # noqa: E731
    warm()

    grove_growth: list[dict] = []
    op_growth: list[dict] = []
    dvc_growth: list[dict] = []
    dvc = DvcRepo(peer, work / "dvc-repo", work)
    contenders = [
        grove_add_contender(base, work / "grove-first-ws", name="grove-first"),
        _grove_append(base, appended, work / "grove-append-ws", grove_growth),
        _grove_append(base, appended, work / "grove-append-op-ws", op_growth, tail=tail),
        dvc_add_contender(dvc, base, name="dvc-first"),
        _dvc_readd(dvc, base, appended, dvc_growth),
    ]
    for c in contenders:
        if c.role == "grove":
            c.env = {**(c.env or {}), **bytecode_env(work)}
    warm_bytecode(work, tail)
    measured = run_alternating(contenders, reps, prewarm=warm)
    ratios = compute_ratios(
        measured,
        [
            ("grove-append/grove-first", "grove-append", "grove-first"),
            ("grove-append-op/grove-first", "grove-append-op", "grove-first"),
            ("grove-append-op/grove-append", "grove-append-op", "grove-append"),
            ("dvc-readd/dvc-first", "dvc-readd", "dvc-first"),
            ("dvc-readd/grove-append", "dvc-readd", "grove-append"),
        ],
    )
    print_table(measured, ratios)

    first_bytes = _median([i.get("new_bytes") for i in measured["grove-first"].inner])
    g_new = _median([g["new_bytes_reported"] for g in grove_growth])
    g_disk = _median([g["store_growth_bytes"] for g in grove_growth])
    g_before = _median([g["store_before_bytes"] for g in grove_growth])
    op_new = _median([g["new_bytes_reported"] for g in op_growth])
    op_disk = _median([g["store_growth_bytes"] for g in op_growth])
    d_growth = _median([g["cache_growth_bytes"] for g in dvc_growth])
    d_before = _median([g["cache_before_bytes"] for g in dvc_growth])
    storage = {
        "grove_first_new_bytes": first_bytes,
        "grove_append_new_bytes_reported": g_new,
        "grove_append_store_growth_bytes": g_disk,
        "grove_extra_storage_fraction": round(g_new / first_bytes, 4)
        if g_new and first_bytes
        else None,
        "grove_extra_storage_fraction_on_disk": round(g_disk / g_before, 4)
        if g_disk and g_before
        else None,
        "grove_append_op_new_bytes_reported": op_new,
        "grove_append_op_store_growth_bytes": op_disk,
        "grove_append_op_extra_storage_fraction": round(op_new / first_bytes, 4)
        if op_new and first_bytes
        else None,
        "grove_append_op_extra_storage_fraction_on_disk": round(op_disk / g_before, 4)
        if op_disk and g_before
        else None,
        "dvc_cache_growth_bytes": d_growth,
        "dvc_extra_storage_fraction": round(d_growth / d_before, 4)
        if d_growth and d_before
        else None,
        "per_rep": {"grove": grove_growth, "grove_append_op": op_growth, "dvc": dvc_growth},
    }
    # The target is met by the operation a user appending rows would run: data append.
    time_ratio = ratios["grove-append-op/grove-first"]["wall"]
    frac = storage["grove_append_op_extra_storage_fraction"]
    target = {
        "applies_at_this_scale": scale == "full",
        "time": {
            "target": "second commit ≤ 10% of the first commit's time",
            "ratio": time_ratio,
            "met": None if time_ratio is None else time_ratio <= 0.10,
        },
        "storage": {
            "target": "≤ 5% extra storage",
            "fraction": frac,
            "met": None if frac is None else frac <= 0.05,
        },
    }
    for key in ("time", "storage"):
        t = target[key]
        word = "n/a" if t["met"] is None else ("MET" if t["met"] else "NOT met")
        print(f"  target {t['target']}: {t.get('ratio', t.get('fraction'))} → {word}")
    print(
        f"  storage: Grove append op +{op_new} B reported ({frac}), +{op_disk} B on disk; "
        f"re-add +{g_new} B ({storage['grove_extra_storage_fraction']}), +{g_disk} B on disk; "
        f"DVC cache +{d_growth} B ({storage['dvc_extra_storage_fraction']})",
        flush=True,
    )
    cpu = cpu_diagnostic(base, appended, tail, work)
    payload = {
        "scale": scale,
        "cpu_diagnostic": cpu,
        "params": {
            "rows": rows,
            "appended_rows": appended.rows - rows,
            "tail_parquet_bytes": tail.bytes,
            "seed": SEED,
            "parquet_bytes": {"v1": base.bytes, "v2": appended.bytes},
            "reps": reps,
            "order": [c.name for c in contenders],
        },
        "machine": machine_facts(),
        "grove": {**grove_facts(MEASURED_SOURCES), "libraries": grove_versions()},
        "peers": {"dvc": peer.facts()},
        "contenders": {name: m.summary() for name, m in measured.items()},
        "ratios": ratios,
        "storage": storage,
        "target": target,
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
