"""Shared helpers for the table and file-dataset scenarios (``datasets_*``, ``files_*``).

- deterministic tables (``N`` rows x 10 columns, Parquet) and their derived versions:
  one with ~1% of rows changed (modified, added, removed; counts known in advance) and
  one with 1% of rows appended;
- fresh Grove workspaces (``mlgrove init`` in an empty folder, untimed) and fresh
  git+DVC repositories, with DVC isolated from the user's config and site cache;
- small utilities: folder size, running a command and checking it worked.

Everything here is set-up: nothing in this module is timed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._harness import ROOT, Peer, remove_tree

GROVE = ROOT / ".venv" / "bin" / "mlgrove"
COLUMNS = 10
BLOCK_ROWS = 1_000_000  # generated and written a block at a time: 10M rows never sit in RAM
DVC_REQUIREMENTS = ["dvc==3.67.1"]  # the same pin as objects_add: one venv serves both
DVC_VERSIONS = ("dvc", "dvc-data", "dvc-objects", "scmrepo")
CATEGORIES = [f"cat_{i:02d}" for i in range(24)]


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    path: Path
    rows: int
    seed: int
    bytes: int


@dataclass(frozen=True)
class ChangedPair:
    """Two versions of a keyed table: ``old`` and ``new`` with known differences."""

    old: Table
    new: Table
    added: int
    removed: int
    changed: int


def _block(start: int, stop: int, seed: int) -> Any:
    """Rows ``start..stop`` of the table: a pure function of (seed, block), so any block
    can be regenerated without the others."""
    import numpy as np
    import pyarrow as pa

    n = stop - start
    rng = np.random.default_rng([seed, start])
    ids = np.arange(start, stop, dtype=np.int64)
    cats = np.array(CATEGORIES, dtype=object)
    return pa.table(
        {
            "id": ids,
            "user_id": rng.integers(0, 5_000_000, n, dtype=np.int64),
            "amount": np.round(rng.gamma(2.0, 40.0, n), 2),
            "score": rng.random(n),
            "quantity": rng.integers(1, 100, n, dtype=np.int32),
            "category": pa.array(cats[rng.integers(0, len(cats), n)], type=pa.string()),
            "sku": pa.array(
                np.char.add("sku-", rng.integers(0, 200_000, n).astype(str)).astype(object),
                type=pa.string(),
            ),
            "ts": pa.array(
                1_700_000_000_000 + rng.integers(0, 31_536_000_000, n, dtype=np.int64),
                type=pa.timestamp("ms"),
            ),
            "flag": rng.random(n) < 0.1,
            "ratio": rng.normal(0.0, 1.0, n).astype(np.float32),
        }
    )


def _stamped(path: Path, params: dict[str, Any]) -> bool:
    stamp = path.with_name(f".{path.name}.stamp.json")
    return (
        stamp.exists() and path.exists() and json.loads(stamp.read_text()).get("params") == params
    )


def _stamp(path: Path, params: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    stamp = path.with_name(f".{path.name}.stamp.json")
    stamp.write_text(json.dumps({"params": params, **(extra or {})}, indent=2))


def make_table(path: Path, *, rows: int, seed: int) -> Table:
    """``rows`` x 10 columns of seeded data as Parquet (snappy, 1M-row row groups);
    ``id`` is a unique int64 key 0..rows-1. Reused when a stamp says it matches."""
    import pyarrow.parquet as pq

    params = {"rows": rows, "seed": seed, "format": 1}
    if _stamped(path, params):
        return Table(path, rows, seed, path.stat().st_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    writer = None
    for start in range(0, rows, BLOCK_ROWS):
        block = _block(start, min(rows, start + BLOCK_ROWS), seed)
        if writer is None:
            writer = pq.ParquetWriter(tmp, block.schema)
        writer.write_table(block)
    assert writer is not None
    writer.close()
    os.replace(tmp, path)
    _stamp(path, params)
    print(
        f"  generated {rows:,} rows x {COLUMNS} columns (seed {seed}) in "
        f"{time.perf_counter() - started:.1f} s → {path} ({path.stat().st_size / 1e6:.0f} MB)",
        flush=True,
    )
    return Table(path, rows, seed, path.stat().st_size)


def make_appended(base: Table, path: Path, *, fraction: float = 0.01) -> Table:
    """``base`` followed by ``fraction`` x rows new rows (new ids, same generator)."""
    import pyarrow.parquet as pq

    extra = max(1, round(base.rows * fraction))
    params = {"base": base.path.name, "rows": base.rows, "seed": base.seed, "extra": extra}
    if _stamped(path, params):
        return Table(path, base.rows + extra, base.seed, path.stat().st_size)
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    source = pq.ParquetFile(base.path)
    with pq.ParquetWriter(tmp, source.schema_arrow) as writer:
        for i in range(source.num_row_groups):
            writer.write_table(source.read_row_group(i))
        writer.write_table(_block(base.rows, base.rows + extra, base.seed + 1))
    os.replace(tmp, path)
    _stamp(path, params)
    print(
        f"  appended {extra:,} rows in {time.perf_counter() - started:.1f} s → {path}", flush=True
    )
    return Table(path, base.rows + extra, base.seed, path.stat().st_size)


def make_tail(base: Table, path: Path, *, fraction: float = 0.01) -> Table:
    """Only the new rows of :func:`make_appended` (the file ``data append`` takes)."""
    import pyarrow.parquet as pq

    extra = max(1, round(base.rows * fraction))
    params = {"base": base.path.name, "rows": base.rows, "seed": base.seed, "tail": extra}
    if _stamped(path, params):
        return Table(path, extra, base.seed, path.stat().st_size)
    tmp = path.with_suffix(".tmp")
    block = _block(base.rows, base.rows + extra, base.seed + 1)
    pq.write_table(block, tmp, compression="snappy")
    os.replace(tmp, path)
    _stamp(path, params)
    return Table(path, extra, base.seed, path.stat().st_size)


def make_changed(base: Table, path: Path, *, fraction: float = 0.01) -> ChangedPair:
    """A second version of ``base`` with ``fraction`` of its rows changed, scattered at
    random over the whole table: half modified (``amount`` and ``category`` get new
    values), a quarter removed, and a quarter as many new rows appended.

    Scattered is the hard case for chunked storage (most chunks hold a change); the
    counts are exact and every contender must report them.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = round(base.rows * fraction)
    n_mod, n_rem = total // 2, total // 4
    n_add = total - n_mod - n_rem
    params = {"base": base.path.name, "rows": base.rows, "seed": base.seed, "fraction": fraction}
    new_rows = base.rows - n_rem + n_add
    if _stamped(path, params):
        return ChangedPair(
            base, Table(path, new_rows, base.seed, path.stat().st_size), n_add, n_rem, n_mod
        )
    started = time.perf_counter()
    rng = np.random.default_rng([base.seed, 7])
    picked = rng.choice(base.rows, n_mod + n_rem, replace=False)
    modified = np.sort(picked[:n_mod])
    removed = np.sort(picked[n_mod:])
    tmp = path.with_suffix(".tmp")
    source = pq.ParquetFile(base.path)
    with pq.ParquetWriter(tmp, source.schema_arrow) as writer:
        for i in range(source.num_row_groups):
            block = source.read_row_group(i)
            ids = block.column("id").to_numpy()
            lo, hi = int(ids[0]), int(ids[-1]) + 1
            mods = modified[(modified >= lo) & (modified < hi)] - lo
            rems = removed[(removed >= lo) & (removed < hi)] - lo
            if len(mods):
                amount = block.column("amount").to_numpy().copy()
                amount[mods] = amount[mods] + 1.25
                category = np.asarray(block.column("category").to_pylist(), dtype=object)
                category[mods] = "changed"
                block = block.set_column(
                    block.schema.get_field_index("amount"), "amount", pa.array(amount)
                ).set_column(
                    block.schema.get_field_index("category"),
                    "category",
                    pa.array(category, type=pa.string()),
                )
            if len(rems):
                keep = np.ones(block.num_rows, dtype=bool)
                keep[rems] = False
                block = block.filter(pa.array(keep))
            writer.write_table(block)
        writer.write_table(_block(base.rows, base.rows + n_add, base.seed + 2))
    os.replace(tmp, path)
    _stamp(path, params)
    check = pq.read_metadata(path).num_rows
    assert check == new_rows, (check, new_rows)
    print(
        f"  changed {total:,} rows ({n_mod:,} modified, {n_rem:,} removed, {n_add:,} added) "
        f"in {time.perf_counter() - started:.1f} s → {path}",
        flush=True,
    )
    return ChangedPair(
        base, Table(path, new_rows, base.seed, path.stat().st_size), n_add, n_rem, n_mod
    )


def parquet_to_csv(table: Table, path: Path) -> Path:
    """The same rows as CSV (for peers that read CSV only), reused when stamped."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    params = {"source": table.path.name, "rows": table.rows, "bytes": table.bytes}
    if _stamped(path, params):
        return path
    tmp = path.with_suffix(".tmp")
    source = pq.ParquetFile(table.path)
    with pcsv.CSVWriter(tmp, source.schema_arrow) as writer:
        for i in range(source.num_row_groups):
            writer.write_table(source.read_row_group(i))
    os.replace(tmp, path)
    _stamp(path, params)
    return path


# --------------------------------------------------------------------------- processes


def run_checked(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """Run an untimed set-up command; raise with its output if it fails."""
    done = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        tail = (done.stderr + done.stdout).strip()[-800:]
        raise RuntimeError(
            f"{' '.join(str(c) for c in cmd[:4])} ... exited {done.returncode}: {tail}"
        )
    return done.stdout


def last_json(stdout: str) -> Any:
    """The JSON document a command printed (the whole output, or its last line)."""
    text = stdout.strip()
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(text.splitlines()[-1])


def tree_bytes(root: Path, *, exclude_dirs: Sequence[str] = ()) -> tuple[int, int]:
    """(files, bytes) under ``root`` (apparent sizes)."""
    files = total = 0
    if not root.exists():
        return 0, 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in exclude_dirs]
        for name in filenames:
            files += 1
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return files, total


# --------------------------------------------------------------------------- Grove


def grove_env(workspace: Path) -> dict[str, str]:
    """Environment for a Grove CLI run in ``workspace``: its own cache, no stray config."""
    return {
        "MLGROVE_CACHE_DIR": str(workspace / ".mlgrove" / "cache"),
        "NO_COLOR": "1",
    }


def grove_init(workspace: Path) -> None:
    """A fresh, empty workspace (untimed)."""
    remove_tree(workspace)
    workspace.mkdir(parents=True)
    run_checked([GROVE, "init", "."], cwd=workspace, env=grove_env(workspace))


def grove(workspace: Path, *args: str | os.PathLike[str]) -> str:
    return run_checked([GROVE, *args], cwd=workspace, env=grove_env(workspace))


def grove_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for dist in ("pyarrow", "numpy", "pandas", "duckdb", "daff"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


# --------------------------------------------------------------------------- DVC


@dataclass
class DvcRepo:
    """A git+DVC repository that is wiped and re-made for every repetition."""

    peer: Peer
    repo: Path
    work: Path

    @property
    def env(self) -> dict[str, str]:
        config = self.work / "dvc-empty-config"
        return {
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(self.work / "dvc-site-cache"),
            "DVC_GLOBAL_CONFIG_DIR": str(config / "global"),
            "DVC_SYSTEM_CONFIG_DIR": str(config / "system"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    @property
    def dvc(self) -> str:
        return str(self.peer.bin / "dvc")

    def clean(self) -> None:
        """Remove git/DVC state and DVC's pointer files; leave the data in place."""
        for sub in (".git", ".dvc", ".dvcignore", ".gitignore"):
            path = self.repo / sub
            if path.is_dir():
                remove_tree(path)
            else:
                path.unlink(missing_ok=True)
        for pointer in self.repo.glob("*.dvc"):
            pointer.unlink()
        remove_tree(self.work / "dvc-site-cache")

    def fresh(self) -> None:
        self.clean()
        self.repo.mkdir(parents=True, exist_ok=True)
        for sub in ("global", "system"):
            (self.work / "dvc-empty-config" / sub).mkdir(parents=True, exist_ok=True)
        run_checked(["git", "init", "-q"], cwd=self.repo, env=self.env)
        run_checked([self.dvc, "init", "-q"], cwd=self.repo, env=self.env)

    def run(self, *args: str) -> str:
        return run_checked([self.dvc, *args], cwd=self.repo, env=self.env)

    def cache_bytes(self) -> tuple[int, int]:
        return tree_bytes(self.repo / ".dvc" / "cache")


def link_or_copy(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` (a hard link when possible: no bytes copied, same inode data)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def python_in(peer: Peer | None) -> str:
    return str(peer.bin / "python") if peer is not None else sys.executable
