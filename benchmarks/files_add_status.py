"""Scenario ``files_add_status``: version a folder of N small files (4 KB), then ask
for its status unchanged.

Part 1, add (alternated, each a fresh process on fresh state):

- ``grove-add``: ``mlgrove data add photos data/ --json`` in a fresh workspace.
- ``dvc-add``: ``dvc add data`` in a fresh git+dvc repo (DVC's site cache fresh too).
- ``oxen-add``: ``oxen.Repo.add("data")`` then ``commit`` (``oxenai``; Oxen needs both
  to make a version, as ``data add`` does), in a freshly initialised repo.

Part 2, status of the unchanged folder (each tool first adds the folder, untimed, in
fresh state; then timed in a fresh process):

- ``grove-status``: ``mlgrove data status photos data/ --json`` (stat cache).
- ``dvc-status``: ``dvc status``.
- ``oxen-status``: ``oxen.Repo.status()``.

Targets (BENCHMARKS.md, at 100k files): add ≥ 10x faster than DVC and not slower than
Oxen; status ≤ 1 s and ≥ 20x faster than DVC.
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
    FileSet,
    Peer,
    add_common_args,
    check_reps,
    compute_ratios,
    count_files,
    ensure_peer,
    grove_facts,
    list_files,
    machine_facts,
    print_table,
    remove_tree,
    run_alternating,
    small_files,
    warm_read,
    write_results,
)
from benchmarks._tables import (
    DVC_REQUIREMENTS,
    DVC_VERSIONS,
    GROVE,
    DvcRepo,
    grove,
    grove_env,
    grove_init,
    grove_versions,
    run_checked,
)
from benchmarks.objects_add import count_objects

NAME = "files_add_status"
DESCRIPTION = "add N small files, then status unchanged: `mlgrove data` vs DVC vs Oxen"
SCALES = {"small": 10_000, "full": 100_000}
FILE_SIZE = 4096
SEED = 20240613
MEASURED_SOURCES = [
    "src/mlgrove/services/filesets.py",
    "src/mlgrove/store/objects.py",
    "src/mlgrove/store/packs.py",
    "src/mlgrove/filesets/hashing.py",
    "src/mlgrove/filesets/forked.py",
    "src/mlgrove/filesets/walk.py",
]


# --------------------------------------------------------------------------- Oxen worker
# Runs in the Oxen venv: ``<oxen python> -m benchmarks.files_add_status --worker MODE``.


def _worker_oxen(mode: str, repo: Path) -> dict[str, Any]:
    import oxen
    from oxen import user

    started = time.perf_counter()
    if mode == "oxen-init":
        user.config_user("grove-bench", "bench@example.invalid")
        oxen.Repo(str(repo)).init()
        return {"seconds": time.perf_counter() - started}

    def pending(status: Any) -> dict[str, int]:
        """Changes Oxen sees under data/ (untracked files elsewhere, e.g. the data
        generator's stamp next to data/, do not count)."""
        kinds = ("added", "modified", "removed", "unstaged_modified", "unstaged_removed")
        return {k: len(getattr(status, f"{k}_files")()) for k in kinds}

    r = oxen.Repo(str(repo))
    if mode == "oxen-add":
        r.add(str(repo / "data"))
        r.commit("add data")
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "pending_after": pending(r.status())}
    if mode == "oxen-status":
        status = r.status()
        return {"seconds": time.perf_counter() - started, "pending": pending(status)}
    raise SystemExit(f"unknown worker mode {mode!r}")


# --------------------------------------------------------------------------- contenders


def _grove_add(fileset: FileSet, ws: Path) -> Contender:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or inner.get("rows") != fileset.count:
            return f"unexpected output {str(inner)[:300]}"
        # Every file's content (all distinct) plus the manifest, counted through the
        # store's API (packed objects are not files of their own), and no temporary files.
        store = ws / ".mlgrove" / "objects"
        objects, leftovers = count_objects(store), count_files(store / "tmp")
        if objects != fileset.count + 1 or leftovers:
            return (
                f"store holds {objects} objects (expected {fileset.count} + 1 manifest) "
                f"and {leftovers} temporary files"
            )
        return None

    return Contender(
        name="grove-add",
        role="grove",
        description="`mlgrove data add photos data/ --json` in a fresh workspace",
        command=lambda rep: [str(GROVE), "data", "add", "photos", str(fileset.root), "--json"],
        setup=lambda rep: grove_init(ws),
        verify=verify,
        cleanup=lambda rep: remove_tree(ws),
        env=grove_env(ws),
        cwd=ws,
    )


def _grove_status(fileset: FileSet, ws: Path) -> Contender:
    def setup(rep: int) -> None:
        grove_init(ws)
        grove(ws, "data", "add", "photos", fileset.root)

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or inner.get("unchanged") != fileset.count:
            return f"unexpected output {str(inner)[:300]}"
        if inner.get("added") or inner.get("removed") or inner.get("modified"):
            return f"folder reported as changed: {str(inner)[:300]}"
        return None

    return Contender(
        name="grove-status",
        role="grove",
        description="`mlgrove data status photos data/ --json` after an (untimed) add",
        command=lambda rep: [str(GROVE), "data", "status", "photos", str(fileset.root), "--json"],
        setup=setup,
        verify=verify,
        cleanup=lambda rep: remove_tree(ws),
        env=grove_env(ws),
        cwd=ws,
    )


def _dvc_add(dvc: DvcRepo, fileset: FileSet) -> Contender:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        cached = count_files(dvc.repo / ".dvc" / "cache")
        if cached != fileset.count + 1:  # every file plus the .dir manifest
            return f"DVC cache holds {cached} files (expected {fileset.count} + 1 .dir)"
        return None

    return Contender(
        name="dvc-add",
        role="peer",
        description="`dvc add data` in a fresh git+dvc repo",
        command=lambda rep: [dvc.dvc, "add", "-q", "data"],
        setup=lambda rep: dvc.fresh(),
        verify=verify,
        cleanup=lambda rep: dvc.clean(),
        env=dvc.env,
        cwd=dvc.repo,
        unavailable=None if dvc.peer.available else (dvc.peer.reason or "not installed"),
    )


def _dvc_status(dvc: DvcRepo) -> Contender:
    def setup(rep: int) -> None:
        dvc.fresh()
        dvc.run("add", "-q", "data")

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        return None if inner == {} else f"dvc status reported {str(inner)[:300]}"

    return Contender(
        name="dvc-status",
        role="peer",
        description="`dvc status --json` after an (untimed) `dvc add data`",
        command=lambda rep: [dvc.dvc, "status", "--json"],
        setup=setup,
        verify=verify,
        cleanup=lambda rep: dvc.clean(),
        env=dvc.env,
        cwd=dvc.repo,
        unavailable=None if dvc.peer.available else (dvc.peer.reason or "not installed"),
    )


class _Oxen:
    def __init__(self, peer: Peer, repo: Path, home: Path) -> None:
        self.peer, self.repo, self.home = peer, repo, home
        self.env = {"HOME": str(home), "PYTHONPATH": str(ROOT)}

    def worker(self, mode: str) -> list[str]:
        return [
            str(self.peer.bin / "python"),
            "-m",
            f"benchmarks.{NAME}",
            "--worker",
            mode,
            "--repo",
            str(self.repo),
        ]

    def clean(self) -> None:
        remove_tree(self.repo / ".oxen")

    def fresh(self) -> None:
        self.clean()
        self.home.mkdir(parents=True, exist_ok=True)
        run_checked(self.worker("oxen-init"), cwd=ROOT, env=self.env)

    @property
    def unavailable(self) -> str | None:
        return None if self.peer.available else (self.peer.reason or "not installed")


def _oxen_add(ox: _Oxen) -> Contender:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or any(inner.get("pending_after", {"?": 1}).values()):
            return f"Oxen reports changes after add+commit: {inner}"
        return None

    return Contender(
        name="oxen-add",
        role="peer",
        description="oxen Repo.add('data') + commit (oxenai) in a fresh repo",
        command=lambda rep: ox.worker("oxen-add"),
        setup=lambda rep: ox.fresh(),
        verify=verify,
        cleanup=lambda rep: ox.clean(),
        env=ox.env,
        unavailable=ox.unavailable,
    )


def _oxen_status(ox: _Oxen) -> Contender:
    def setup(rep: int) -> None:
        ox.fresh()
        run_checked(ox.worker("oxen-add"), cwd=ROOT, env=ox.env)

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or any(inner.get("pending", {"?": 1}).values()):
            return f"Oxen status reports changes: {inner}"
        return None

    return Contender(
        name="oxen-status",
        role="peer",
        description="oxen Repo.status() after an (untimed) add + commit",
        command=lambda rep: ox.worker("oxen-status"),
        setup=setup,
        verify=verify,
        cleanup=lambda rep: ox.clean(),
        env=ox.env,
        unavailable=ox.unavailable,
    )


# --------------------------------------------------------------------------- scenario


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("MET" if met else "NOT met")


def run(
    scale: str, reps: int, skip_peers: bool = False, part: str = "both", oxen: bool = True
) -> dict:
    """Both parts, recorded under ``scale``; or the add part alone (``part="add"``), with
    or without Oxen, recorded under ``<scale>-add-only`` so a complete run is kept."""
    check_reps(reps)
    count = SCALES[scale]
    work = DATA_DIR / f"{NAME}-{scale}"
    repo = work / "repo"
    started = time.perf_counter()

    dvc_peer = ensure_peer("dvc", DVC_REQUIREMENTS, report_versions=DVC_VERSIONS, skip=skip_peers)
    oxen_peer = ensure_peer(
        "oxen", ["oxenai"], report_versions=("oxenai",), skip=skip_peers or not oxen
    )
    for peer in (dvc_peer, oxen_peer):
        if not peer.available:
            print(f"  peer {peer.name} unavailable: {peer.reason}", flush=True)
    fileset = small_files(repo / "data", count=count, size=FILE_SIZE, seed=SEED)
    paths = list_files(fileset.root)
    warm = lambda: warm_read(paths)  # noqa: E731
    warm()

    dvc = DvcRepo(dvc_peer, repo, work)
    ox = _Oxen(oxen_peer, repo, work / "oxen-home")
    print("  part 1: add", flush=True)
    add_contenders = [_grove_add(fileset, work / "grove-ws"), _dvc_add(dvc, fileset)]
    if oxen:
        add_contenders.append(_oxen_add(ox))
    add = run_alternating(add_contenders, reps, prewarm=warm)
    add_ratios = compute_ratios(
        add, [("dvc/grove", "dvc-add", "grove-add"), ("oxen/grove", "oxen-add", "grove-add")]
    )
    print_table(add, add_ratios)
    status_contenders = [_grove_status(fileset, work / "grove-ws"), _dvc_status(dvc)]
    if oxen:
        status_contenders.append(_oxen_status(ox))
    if part == "add":
        status = {}
    else:
        print("  part 2: status of the unchanged folder", flush=True)
        status = run_alternating(status_contenders, reps, prewarm=warm)
    status_ratios = compute_ratios(
        status,
        [
            ("dvc/grove", "dvc-status", "grove-status"),
            ("oxen/grove", "oxen-status", "grove-status"),
        ],
    )
    if status:
        print_table(status, status_ratios)

    r_add = add_ratios["dvc/grove"]["wall"]
    r_add_oxen = add_ratios["oxen/grove"]["wall"]
    r_status = status_ratios["dvc/grove"]["wall"]
    s_median = status["grove-status"].median_wall() if status else None
    target = {
        "applies_at_this_scale": scale == "full",
        "add_vs_dvc": {"target": "add ≥ 10x faster than DVC", "ratio": r_add},
        "add_vs_oxen": {"target": "add not slower than Oxen", "ratio": r_add_oxen},
        "status_seconds": {"target": "status ≤ 1 s", "median_s": s_median},
        "status_vs_dvc": {"target": "status ≥ 20x faster than DVC", "ratio": r_status},
    }
    target["add_vs_dvc"]["met"] = None if r_add is None else r_add >= 10
    target["add_vs_oxen"]["met"] = None if r_add_oxen is None else r_add_oxen >= 1
    target["status_seconds"]["met"] = None if s_median is None else s_median <= 1.0
    target["status_vs_dvc"]["met"] = None if r_status is None else r_status >= 20
    for t in target.values():
        if isinstance(t, dict):
            value = t.get("ratio", t.get("median_s"))
            print(f"  target {t['target']}: {value} → {_verdict(t['met'])}", flush=True)

    payload = {
        "scale": scale,
        "params": {
            "files": count,
            "file_size": FILE_SIZE,
            "seed": SEED,
            "reps": reps,
            "part": part,
            "oxen": oxen,
            "data_digest": fileset.digest,
        },
        "machine": machine_facts(),
        "grove": {**grove_facts(MEASURED_SOURCES), "libraries": grove_versions()},
        "peers": {"dvc": dvc_peer.facts(), "oxen": oxen_peer.facts()},
        "add": {
            "contenders": {name: m.summary() for name, m in add.items()},
            "ratios": add_ratios,
        },
        "status": {
            "contenders": {name: m.summary() for name, m in status.items()},
            "ratios": status_ratios,
        },
        "target": target,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    path = write_results(NAME, scale if part == "both" else f"{scale}-add-only", payload)
    print(f"  results → {path.relative_to(ROOT)}", flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=DESCRIPTION)
    add_common_args(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--part",
        choices=("both", "add"),
        default="both",
        help="'add': the add part alone, recorded apart (<scale>-add-only)",
    )
    parser.add_argument("--no-oxen", action="store_true", help="leave Oxen out")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker_oxen(args.worker, args.repo)))
        return 0
    run(args.scale, args.reps, skip_peers=args.skip_peers, part=args.part, oxen=not args.no_oxen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
