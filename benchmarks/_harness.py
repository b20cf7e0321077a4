"""What every scenario shares: seeded data, peer venvs, alternating timed runs, results.

The rules come from ``shared/design/BENCHMARKS.md``:

- data is generated deterministically from a seed, sized by ``--scale``;
- every peer lives in its own venv under ``benchmarks/.peers/<peer>/``, installed here
  with ``python -m venv`` and pip, never as a project dependency;
- contenders run in alternation (A B C A B C ...), at least 3 times each, every run a
  fresh subprocess on fresh state (a new store, a new repo), with untimed set-up and
  clean-up around it and an ``os.sync()`` before the clock starts, so one run's
  write-back never lands on the next one's time;
- we report medians and ratios, the machine, and the version of every tool, to
  ``benchmarks/results/<scenario>.json``.

Only the standard library is imported here, so a worker subprocess starts quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / ".peers"  # gitignored
DATA_DIR = BENCH_DIR / ".data"  # gitignored
RESULTS_DIR = BENCH_DIR / "results"  # committed

MIN_REPS = 3
Role = Literal["grove", "peer", "limit", "diagnostic"]


# --------------------------------------------------------------------------- arguments


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        choices=("small", "full"),
        default="small",
        help="small: a quick look; full: the numbers we publish (default: small)",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=MIN_REPS,
        help=f"timed runs of each contender, alternated (at least {MIN_REPS}; default {MIN_REPS})",
    )
    parser.add_argument(
        "--skip-peers",
        action="store_true",
        help="do not install or run peers (they are reported as unavailable)",
    )


def check_reps(reps: int) -> int:
    if reps < MIN_REPS:
        raise SystemExit(f"--reps must be at least {MIN_REPS} (the protocol's minimum)")
    return reps


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class FileSet:
    """A generated folder of files and what it must hash to."""

    root: Path
    count: int
    size: int
    seed: int
    digest: str  # blake3 over "relpath\0blake3(content)\n" in sorted order


def small_files(root: Path, *, count: int, size: int, seed: int, per_dir: int = 1000) -> FileSet:
    """``count`` files of ``size`` random bytes (``random.Random(seed)``), ``per_dir`` a folder.

    The folder is reused when a stamp says it was made with the same parameters and is
    complete; otherwise it is regenerated from scratch. Same seed, same bytes, always.
    """
    import blake3  # only the parent process generates data

    stamp = root.parent / f".{root.name}.stamp.json"
    params = {"count": count, "size": size, "seed": seed, "per_dir": per_dir, "format": 1}
    if stamp.exists() and root.is_dir():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            return FileSet(root, count, size, seed, saved["digest"])
    if root.exists():
        shutil.rmtree(root)
    stamp.unlink(missing_ok=True)
    rng = random.Random(seed)
    entries: list[tuple[str, str]] = []
    started = time.perf_counter()
    for i in range(count):
        sub = root / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            sub.mkdir(parents=True)
        data = rng.randbytes(size)
        name = f"f{i:07d}.bin"
        (sub / name).write_bytes(data)
        entries.append((f"{sub.name}/{name}", blake3.blake3(data).hexdigest()))
    digest = listing_digest(entries)
    stamp.write_text(json.dumps({"params": params, "digest": digest}, indent=2))
    os.sync()
    print(
        f"  generated {count:,} files x {size:,} B (seed {seed}) in "
        f"{time.perf_counter() - started:.1f} s → {root}",
        flush=True,
    )
    return FileSet(root, count, size, seed, digest)


def list_files(root: Path) -> list[Path]:
    """Every regular file under ``root``, in a stable (sorted) order."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        out.extend(base / name for name in sorted(filenames))
    return out


def listing_digest(entries: Iterable[tuple[str, str]]) -> str:
    import blake3

    hasher = blake3.blake3()
    for rel, h in sorted(entries):
        hasher.update(f"{rel}\0{h}\n".encode())
    return str(hasher.hexdigest())


def count_files(root: Path, *, exclude_dirs: Sequence[str] = ()) -> int:
    total = 0
    for _dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in exclude_dirs]
        total += len(filenames)
    return total


def remove_tree(path: Path) -> None:
    """Delete a folder. Read-only files (both stores make objects 0444) are no obstacle:
    unlinking needs write permission on the folder only."""
    if path.exists():
        shutil.rmtree(path)


# --------------------------------------------------------------------------- page cache


def warm_read(paths: Sequence[Path]) -> float:
    """Read every file once so every contender starts from the same (warm) page cache."""
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    return time.perf_counter() - started


def page_cache_resident(paths: Sequence[Path], sample: int = 500) -> float | None:
    """Fraction of the pages of (a fixed sample of) ``paths`` in the OS page cache.

    Uses mincore(2) on a read-only mapping; ``None`` where that is not available.
    """
    if sys.platform != "linux" or not paths:
        return None
    step = max(1, len(paths) // sample)
    chosen = paths[::step][:sample]
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_long,
        ]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    page = os.sysconf("SC_PAGE_SIZE")
    map_failed = ctypes.c_void_p(-1).value
    resident = total = 0
    for path in chosen:
        fd = os.open(path, os.O_RDONLY)
        try:
            length = os.fstat(fd).st_size
            if length == 0:
                continue
            addr = libc.mmap(None, length, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
            if addr in (None, map_failed):
                return None
            try:
                pages = (length + page - 1) // page
                vec = (ctypes.c_ubyte * pages)()
                if libc.mincore(ctypes.c_void_p(addr), length, vec) != 0:
                    return None
                resident += sum(b & 1 for b in vec)
                total += pages
            finally:
                libc.munmap(ctypes.c_void_p(addr), length)
        finally:
            os.close(fd)
    return resident / total if total else None


# --------------------------------------------------------------------------- peers


@dataclass
class Peer:
    """A tool we compare against, in its own venv (or why it is not available)."""

    name: str
    requirements: list[str]
    venv: Path
    available: bool = False
    reason: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    install_seconds: float | None = None

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def facts(self) -> dict[str, Any]:
        return {
            "requirements": self.requirements,
            "venv": str(self.venv.relative_to(ROOT)),
            "available": self.available,
            "reason": self.reason,
            "versions": self.versions,
            "install_seconds": self.install_seconds,
        }


def _tail(text: str, lines: int = 12) -> str:
    kept = [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith("WARNING: Location ")
    ]
    return "\n".join(kept[-lines:])


def ensure_peer(
    name: str,
    requirements: list[str],
    *,
    report_versions: Sequence[str],
    skip: bool = False,
    timeout: float = 1200,
) -> Peer:
    """Make ``benchmarks/.peers/<name>/`` with ``requirements`` installed, or say why not.

    Idempotent: a venv whose stamp lists the same requirements is reused. Never raises
    for an install problem: the peer comes back ``available=False`` with the reason, and
    the scenario reports it as such.
    """
    peer = Peer(name, list(requirements), PEERS_DIR / name)
    if skip:
        peer.reason = "skipped by --skip-peers"
        return peer
    stamp = peer.venv / ".grove-bench-stamp.json"
    python = peer.bin / "python"
    fresh = False
    if not (stamp.exists() and python.exists()) or json.loads(stamp.read_text()) != {
        "requirements": peer.requirements
    }:
        fresh = True
        print(f"  installing peer {name} ({' '.join(requirements)}) into {peer.venv} ...")
        started = time.perf_counter()
        remove_tree(peer.venv)
        PEERS_DIR.mkdir(parents=True, exist_ok=True)
        steps = [
            [sys.executable, "-m", "venv", str(peer.venv)],
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                *requirements,
            ],
        ]
        for cmd in steps:
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except (OSError, subprocess.TimeoutExpired) as exc:
                peer.reason = f"{' '.join(cmd[:4])} ...: {exc}"
                return peer
            if done.returncode != 0:
                peer.reason = (
                    f"`{' '.join(cmd[2:5])} ...` exited {done.returncode}: "
                    f"{_tail(done.stderr + done.stdout)}"
                )
                return peer
        stamp.write_text(json.dumps({"requirements": peer.requirements}))
        peer.install_seconds = round(time.perf_counter() - started, 1)
    probe = (
        "import json, importlib.metadata as m; "
        f"print(json.dumps({{p: m.version(p) for p in {list(report_versions)!r}}}))"
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    if done.returncode != 0:
        peer.reason = f"installed venv is broken: {_tail(done.stderr)}"
        return peer
    peer.versions = json.loads(done.stdout)
    peer.available = True
    if fresh:
        print(f"  installed {name}: {peer.versions} in {peer.install_seconds} s")
    return peer


# --------------------------------------------------------------------------- machine


def _meminfo_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mount(path: Path) -> dict[str, str] | None:
    """Type and options of the mount holding ``path`` (longest matching mount point)."""
    best: tuple[int, dict[str, str]] | None = None
    target = str(path.resolve())
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            mount = parts[1]
            if (target == mount or target.startswith(mount.rstrip("/") + "/")) and (
                best is None or len(mount) > best[0]
            ):
                best = (len(mount), {"type": parts[2], "options": parts[3]})
    return best[1] if best else None


def _git(*args: str) -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    return None


def machine_facts() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "cpu": _cpu_model(),
        "ram_gib": _meminfo_gib(),
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "data_filesystem": _mount(DATA_DIR if DATA_DIR.exists() else BENCH_DIR),
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def grove_facts(sources: Sequence[str] = ()) -> dict[str, Any]:
    """Grove's version and commit, and a fingerprint of the source files a scenario times.

    Others edit ``src/`` while benchmarks run, so ``src_dirty`` alone says little: each
    file in ``sources`` gets its BLAKE3 and whether it differs from ``HEAD``.
    """
    from importlib.metadata import PackageNotFoundError, version

    import blake3

    facts: dict[str, Any] = {}
    for dist in ("mlgrove", "blake3"):
        try:
            facts[dist] = version(dist)
        except PackageNotFoundError:
            facts[dist] = None
    facts["git_commit"] = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--", "src")
    facts["src_dirty"] = bool(status) if status is not None else None
    measured: dict[str, Any] = {}
    for rel in sources:
        path = ROOT / rel
        file_status = _git("status", "--porcelain", "--", rel)
        measured[rel] = {
            "blake3": blake3.blake3(path.read_bytes()).hexdigest() if path.exists() else None,
            "differs_from_head": bool(file_status) if file_status is not None else None,
            "last_commit": _git("log", "-1", "--format=%h", "--", rel),
        }
    facts["measured_sources"] = measured
    return facts


# --------------------------------------------------------------------------- timed runs


@dataclass
class Contender:
    """One thing we time: a command run as a fresh subprocess, with untimed hooks around it.

    ``setup(rep)`` makes fresh state (and raises if it cannot), ``verify(rep, inner)``
    checks that the run really did the job (returns an error message, or ``None``), and
    ``cleanup(rep)`` removes the state. The command may print one JSON object as its last
    stdout line: that is ``inner``, kept in the results and handed to ``verify``.
    """

    name: str
    role: Role
    description: str
    command: Callable[[int], list[str]]
    setup: Callable[[int], None] = lambda rep: None
    verify: Callable[[int, dict[str, Any] | None], str | None] = lambda rep, inner: None
    cleanup: Callable[[int], None] = lambda rep: None
    env: dict[str, str] | None = None
    cwd: Path = ROOT
    unavailable: str | None = None  # set for a peer that could not be installed


@dataclass
class Measured:
    contender: Contender
    wall_s: list[float] = field(default_factory=list)  # the subprocess, start to exit
    sync_s: list[float] = field(default_factory=list)  # os.sync() right after it
    inner: list[dict[str, Any]] = field(default_factory=list)
    resident_before: list[float | None] = field(default_factory=list)
    loadavg_before: list[float] = field(default_factory=list)  # 1-minute: how busy the box was
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.wall_s) and not self.errors

    def median_wall(self) -> float | None:
        return statistics.median(self.wall_s) if self.ok else None

    def median_durable(self) -> float | None:
        if not self.ok:
            return None
        return statistics.median(w + s for w, s in zip(self.wall_s, self.sync_s, strict=True))

    def summary(self) -> dict[str, Any]:
        c = self.contender
        out: dict[str, Any] = {
            "role": c.role,
            "description": c.description,
            "available": c.unavailable is None,
            "unavailable_reason": c.unavailable,
            "errors": self.errors,
            "wall_s": [round(x, 4) for x in self.wall_s],
            "sync_after_s": [round(x, 4) for x in self.sync_s],
            "median_wall_s": _round(self.median_wall()),
            "median_durable_s": _round(self.median_durable()),
            "min_wall_s": _round(min(self.wall_s)) if self.wall_s else None,
            "max_wall_s": _round(max(self.wall_s)) if self.wall_s else None,
            "page_cache_resident_before": self.resident_before,
            "loadavg_1min_before": self.loadavg_before,
        }
        if self.inner:
            out["inner"] = self.inner
            seconds = [i["seconds"] for i in self.inner if isinstance(i.get("seconds"), float)]
            if seconds:
                out["median_inner_s"] = _round(statistics.median(seconds))
        return out


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def run_alternating(
    contenders: Sequence[Contender],
    reps: int,
    *,
    resident_probe: Callable[[], float | None] | None = None,
    prewarm: Callable[[], object] | None = None,
) -> dict[str, Measured]:
    """Run ``reps`` rounds; each round runs every available contender once, in order.

    Before each timed run: untimed set-up, then ``prewarm()`` (e.g. read the input once,
    so every contender starts with the input in the page cache: this kernel may reclaim
    cold pages between runs), ``os.sync()``, and ``resident_probe()`` to record how warm
    the cache really was.
    """
    results = {c.name: Measured(c) for c in contenders}
    for rep in range(reps):
        for c in contenders:
            m = results[c.name]
            if c.unavailable is not None or m.errors:
                continue  # a contender that failed once is not timed again
            try:
                c.setup(rep)
            except Exception as exc:
                m.errors.append(f"rep {rep + 1}: set-up failed: {exc}")
                print(f"  rep {rep + 1}/{reps}  {c.name:<22} SET-UP FAILED: {exc}", flush=True)
                c.cleanup(rep)
                continue
            if prewarm is not None:
                prewarm()
            os.sync()  # earlier runs' dirty pages are written back before the clock starts
            m.resident_before.append(
                _round(resident_probe(), 3) if resident_probe is not None else None
            )
            if hasattr(os, "getloadavg"):
                m.loadavg_before.append(round(os.getloadavg()[0], 2))
            started = time.perf_counter()
            done = subprocess.run(
                c.command(rep),
                cwd=c.cwd,
                env={**os.environ, **(c.env or {})},
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
            started = time.perf_counter()
            os.sync()  # what it would cost to make this run's writes durable
            sync = time.perf_counter() - started
            inner: dict[str, Any] | None = None
            last = done.stdout.strip().splitlines()[-1:]
            if last:
                with contextlib.suppress(ValueError):
                    parsed = json.loads(last[0])
                    inner = parsed if isinstance(parsed, dict) else None
            if done.returncode != 0:
                error = f"exit {done.returncode}: {_tail(done.stderr + done.stdout)}"
            else:
                error = c.verify(rep, inner)
            if error is None:
                m.wall_s.append(wall)
                m.sync_s.append(sync)
                if inner is not None:
                    m.inner.append(inner)
                print(
                    f"  rep {rep + 1}/{reps}  {c.name:<22} {wall:8.2f} s  (+ sync {sync:5.2f} s)",
                    flush=True,
                )
            else:
                m.errors.append(f"rep {rep + 1}: {error}")
                print(f"  rep {rep + 1}/{reps}  {c.name:<22} FAILED: {error}", flush=True)
            c.cleanup(rep)
            os.sync()
    return results


def ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return round(num / den, 3)


def compute_ratios(
    measured: dict[str, Measured], pairs: Sequence[tuple[str, str, str]]
) -> dict[str, dict[str, float | None]]:
    """``{label: {"wall": a/b, "durable": a/b}}`` over medians, for (label, a, b) pairs."""
    out: dict[str, dict[str, float | None]] = {}
    for label, a, b in pairs:
        ma, mb = measured.get(a), measured.get(b)
        out[label] = {
            "wall": ratio(ma and ma.median_wall(), mb and mb.median_wall()),
            "durable": ratio(ma and ma.median_durable(), mb and mb.median_durable()),
        }
    return out


def _fmt(x: float | None, unit: str = "") -> str:
    return "n/a" if x is None else f"{x:.2f}{unit}"


def print_table(measured: dict[str, Measured], ratios: dict[str, dict[str, float | None]]) -> None:
    print()
    print(f"  {'contender':<22} {'role':<10} {'median s':>9} {'+sync s':>9} {'min':>8} {'max':>8}")
    for name, m in measured.items():
        if m.contender.unavailable is not None:
            print(f"  {name:<22} {m.contender.role:<10} unavailable: {m.contender.unavailable}")
            continue
        if not m.ok:
            print(f"  {name:<22} {m.contender.role:<10} FAILED: {m.errors[0][:70]}")
            continue
        print(
            f"  {name:<22} {m.contender.role:<10} {_fmt(m.median_wall()):>9} "
            f"{_fmt(m.median_durable()):>9} {_fmt(min(m.wall_s)):>8} {_fmt(max(m.wall_s)):>8}"
        )
    print()
    print(f"  {'ratio (medians)':<34} {'as run':>8} {'durable':>8}")
    for label, r in ratios.items():
        print(f"  {label:<34} {_fmt(r['wall'], 'x'):>8} {_fmt(r['durable'], 'x'):>8}")
    print()


def write_results(scenario: str, scale: str, payload: dict[str, Any]) -> Path:
    """Merge this scale's run into ``benchmarks/results/<scenario>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{scenario}.json"
    doc: dict[str, Any] = {"scenario": scenario, "runs": {}}
    if path.exists():
        with contextlib.suppress(ValueError):
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict) and isinstance(loaded.get("runs"), dict):
                doc = loaded
    payload = {"recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **payload}
    doc["runs"][scale] = payload
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path
