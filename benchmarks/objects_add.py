"""Store a folder of N small files (4 KB): Grove's object store versus ``dvc add``.

Usage: ``python -m benchmarks.objects_add --scale small|full [--reps N] [--threads N]``

The job: take every file of a folder, hash it, and keep a copy under its content address.

- ``grove-seq``: ``LocalObjectStore.put_file`` for each file, one after the other, inside
  one ``store.batch()`` (the API for storing many objects; ``mlgrove data add`` uses it),
  in a fresh store folder each repetition. Small objects go into a pack file, published
  with its index after one fsync when the batch ends (docs/adr/0014-pack-files.md).
- ``grove-threads``: the same calls spread over a ``ThreadPoolExecutor`` (``--threads``,
  default 8), in one batch. Fair: ``ObjectStore`` is documented as safe to share between
  threads.
- ``dvc-add``: ``dvc add data`` in a fresh ``git init && dvc init`` repo each repetition
  (md5 hashing, copy into ``.dvc/cache``: the same job). DVC's own state and index
  (``DVC_SITE_CACHE_DIR``) are fresh each repetition too, so it cannot skip hashing.
- ``limit``: just read every file and BLAKE3-hash it, no writes: the floor for this job
  from Python on this machine.
- ``grove-loose``: diagnostic, the store before pack files: ``put_file`` per file
  outside a batch, so each object is a file of its own, fsynced and renamed into place.

Every contender runs as a fresh subprocess; its wall time includes interpreter start-up
and imports (what a user waits for). The ``durable`` columns add an ``os.sync()`` right
after the run: DVC does not fsync, so its ``as run`` time leaves data in the page cache.

A Grove run counts only if its store then holds exactly N objects, counted through the
store's own API (``iter_addresses``: packed and loose objects alike), and no temporary
files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
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
    listing_digest,
    machine_facts,
    page_cache_resident,
    print_table,
    remove_tree,
    run_alternating,
    small_files,
    warm_read,
    write_results,
)

NAME = "objects_add"
DESCRIPTION = "store N small files (4 KB): Grove's object store vs `dvc add` vs read+BLAKE3"
SCALES = {"small": 10_000, "full": 100_000}
FILE_SIZE = 4096
SEED = 20240601
DEFAULT_THREADS = 8
DVC_REQUIREMENTS = ["dvc==3.67.1"]
DVC_VERSIONS = ("dvc", "dvc-data", "dvc-objects", "scmrepo")
TARGET = "≥ 10x faster than DVC at 100k files (BENCHMARKS.md: add 100k small files)"


# --------------------------------------------------------------------------- workers
# Run in a fresh subprocess: ``python -m benchmarks.objects_add --worker MODE ...``.
# Each prints one JSON line with its own in-process time and what it did.


def _worker(mode: str, data: Path, store_dir: Path | None, threads: int) -> dict[str, Any]:
    if mode == "limit":
        import blake3

        started = time.perf_counter()
        entries = []
        total = 0
        for path in list_files(data):
            with open(path, "rb") as fh:
                content = fh.read()
            total += len(content)
            entries.append((path.relative_to(data).as_posix(), blake3.blake3(content).hexdigest()))
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "files": len(entries),
            "bytes": total,
            "digest": listing_digest(entries),
        }

    from mlgrove.store.objects import LocalObjectStore

    assert store_dir is not None
    started = time.perf_counter()
    store = LocalObjectStore(store_dir)
    paths = list_files(data)
    if mode == "grove-threads":
        with store.batch(), ThreadPoolExecutor(max_workers=threads) as pool:
            stored = list(pool.map(store.put_file, paths))
    elif mode == "grove-seq":
        with store.batch():
            stored = [store.put_file(path) for path in paths]
    elif mode == "grove-loose":
        stored = [store.put_file(path) for path in paths]
    else:
        raise SystemExit(f"unknown worker mode {mode!r}")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "files": len(stored),
        "bytes": sum(s.size for s in stored),
        "new": sum(s.new for s in stored),
    }


# --------------------------------------------------------------------------- scenario


def count_objects(store: Path) -> int:
    """How many objects a Grove store holds, through its own API (packed and loose)."""
    from mlgrove.store.objects import LocalObjectStore

    if not store.exists():
        return 0
    return sum(1 for _ in LocalObjectStore(store).iter_addresses())


def _grove_contender(
    name: str, description: str, role: Any, fileset: FileSet, work: Path, threads: int
) -> Contender:
    store = work / f"store-{name}"

    def command(rep: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "benchmarks.objects_add",
            "--worker",
            name,
            "--data",
            str(fileset.root),
            "--store",
            str(store),
            "--threads",
            str(threads),
        ]

    def setup(rep: int) -> None:
        remove_tree(store)

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        objects = count_objects(store)
        leftovers = count_files(store / "tmp")
        if objects != fileset.count or leftovers:
            return (
                f"store holds {objects} objects (expected {fileset.count}) "
                f"and {leftovers} temporary files"
            )
        if inner is None or inner.get("files") != fileset.count:
            return f"worker reported {inner}"
        return None

    return Contender(
        name=name,
        role=role,
        description=description,
        command=command,
        setup=setup,
        verify=verify,
        cleanup=lambda rep: remove_tree(store),
    )


def _limit_contender(fileset: FileSet) -> Contender:
    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        if inner is None or inner.get("digest") != fileset.digest:
            return "read+hash digest differs from the generated data's (data changed?)"
        return None

    return Contender(
        name="limit",
        role="limit",
        description="read every file and BLAKE3-hash it, sequentially, no writes",
        command=lambda rep: [
            sys.executable,
            "-m",
            "benchmarks.objects_add",
            "--worker",
            "limit",
            "--data",
            str(fileset.root),
        ],
        verify=verify,
    )


def _dvc_contender(peer: Peer, fileset: FileSet, repo: Path, work: Path) -> Contender:
    site_cache = work / "dvc-site-cache"
    config_dir = work / "dvc-empty-config"
    env = {
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(site_cache),
        "DVC_GLOBAL_CONFIG_DIR": str(config_dir / "global"),
        "DVC_SYSTEM_CONFIG_DIR": str(config_dir / "system"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    dvc = str(peer.bin / "dvc")
    data_rel = fileset.root.relative_to(repo).as_posix()

    def clean(rep: int) -> None:
        for sub in (".git", ".dvc", ".dvcignore"):
            path = repo / sub
            remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)
        (repo / f"{data_rel}.dvc").unlink(missing_ok=True)
        (repo / ".gitignore").unlink(missing_ok=True)
        remove_tree(site_cache)

    def setup(rep: int) -> None:
        import subprocess

        clean(rep)
        (config_dir / "global").mkdir(parents=True, exist_ok=True)
        (config_dir / "system").mkdir(parents=True, exist_ok=True)
        for cmd in (["git", "init", "-q"], [dvc, "init", "-q"]):
            done = subprocess.run(
                cmd, cwd=repo, env={**os.environ, **env}, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()[-500:]}")

    def verify(rep: int, inner: dict[str, Any] | None) -> str | None:
        cached = count_files(repo / ".dvc" / "cache")
        if not (repo / f"{data_rel}.dvc").exists():
            return f"{data_rel}.dvc was not written"
        if cached != fileset.count + 1:  # every file plus the .dir manifest
            return f"DVC cache holds {cached} files (expected {fileset.count} + 1 .dir)"
        return None

    return Contender(
        name="dvc-add",
        role="peer",
        description=f"`dvc add {data_rel}` in a fresh git+dvc repo (md5, copy into .dvc/cache)",
        command=lambda rep: [dvc, "add", "-q", data_rel],
        setup=setup,
        verify=verify,
        cleanup=clean,
        env=env,
        cwd=repo,
        unavailable=None if peer.available else (peer.reason or "not installed"),
    )


def run(
    scale: str,
    reps: int,
    skip_peers: bool = False,
    threads: int = DEFAULT_THREADS,
    loose: bool = True,
) -> dict:
    check_reps(reps)
    count = SCALES[scale]
    work = DATA_DIR / f"{NAME}-{scale}"
    repo = work / "repo"
    started = time.perf_counter()

    peer = ensure_peer("dvc", DVC_REQUIREMENTS, report_versions=DVC_VERSIONS, skip=skip_peers)
    if not peer.available:
        print(f"  peer dvc unavailable: {peer.reason}", flush=True)
    fileset = small_files(repo / "data", count=count, size=FILE_SIZE, seed=SEED)
    paths = list_files(fileset.root)
    warm_s = warm_read(paths)
    resident = page_cache_resident(paths)
    print(
        f"  {count:,} files warm-read in {warm_s:.2f} s; page cache resident: "
        f"{'unknown' if resident is None else f'{resident:.0%}'}",
        flush=True,
    )

    contenders = [
        _grove_contender(
            "grove-seq",
            "LocalObjectStore.put_file per file, sequential, in one batch (pack files)",
            "grove",
            fileset,
            work,
            threads,
        ),
        _dvc_contender(peer, fileset, repo, work),
        _grove_contender(
            "grove-threads",
            f"LocalObjectStore.put_file via ThreadPoolExecutor({threads}), in one batch",
            "grove",
            fileset,
            work,
            threads,
        ),
        _limit_contender(fileset),
    ]
    if loose:
        contenders.append(
            _grove_contender(
                "grove-loose",
                "diagnostic: put_file per file outside a batch (one file per object, fsync each)",
                "diagnostic",
                fileset,
                work,
                threads,
            )
        )
    measured = run_alternating(contenders, reps, resident_probe=partial(page_cache_resident, paths))
    ratios = compute_ratios(
        measured,
        [
            ("dvc/grove-seq", "dvc-add", "grove-seq"),
            ("dvc/grove-threads", "dvc-add", "grove-threads"),
            ("grove-seq/limit", "grove-seq", "limit"),
            ("grove-threads/limit", "grove-threads", "limit"),
            ("dvc/limit", "dvc-add", "limit"),
            ("grove-loose/grove-seq", "grove-loose", "grove-seq"),
        ],
    )
    print_table(measured, ratios)

    target: dict[str, Any] = {"text": TARGET, "applies_at_this_scale": scale == "full"}
    for config in ("grove-seq", "grove-threads"):
        r = ratios[f"dvc/{config}"]["wall"]
        target[config] = {"dvc_over_grove": r, "met": None if r is None else r >= 10}
    for config in ("grove-seq", "grove-threads"):
        verdict = target[config]["met"]
        word = "n/a (no DVC numbers)" if verdict is None else ("MET" if verdict else "NOT met")
        print(f"  target {TARGET}: {config}: {word}")

    payload = {
        "scale": scale,
        "params": {
            "files": count,
            "file_size": FILE_SIZE,
            "seed": SEED,
            "reps": reps,
            "threads": threads,
            "order": [c.name for c in contenders],
            "data_digest": fileset.digest,
        },
        "machine": machine_facts(),
        "grove": grove_facts(["src/mlgrove/store/objects.py", "src/mlgrove/store/packs.py"]),
        "peers": {"dvc": peer.facts()},
        "page_cache": {
            "warm_read_s": round(warm_s, 3),
            "resident_fraction_after_warm_read": resident,
            "note": "warm: the input is read once before every timed run (untimed); "
            "each contender's page_cache_resident_before records the resident fraction "
            "of a 500-file sample (mincore) just before its clock started",
        },
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
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument(
        "--no-loose",
        action="store_true",
        help="skip the grove-loose diagnostic (minutes per repetition at full scale)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data, args.store, args.threads)))
        return 0
    run(
        args.scale,
        args.reps,
        skip_peers=args.skip_peers,
        threads=args.threads,
        loose=not args.no_loose,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
