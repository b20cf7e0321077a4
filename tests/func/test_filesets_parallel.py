"""A big folder is added by two processes (mlgrove.filesets.forked), on SQLite and
PostgreSQL: the version, its manifest address and the store's contents are those one
process makes, the stat cache written on a thread meanwhile works, and a failure leaves
the workspace as it was.

"Big" is lowered so that a test folder of a few hundred files is shared.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import blake3
import pytest
from sqlalchemy import select

from mlgrove.errors import InvalidInput
from mlgrove.filesets import forked
from mlgrove.services import filesets, objects
from mlgrove.services.context import Context, Runtime
from mlgrove.store.models import DatasetVersionRow, ObjectRow
from mlgrove.store.objects import PACK_OBJECT_BYTES, LocalObjectStore
from mlgrove.testing.factories import Factories

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
HOUR_AGO = time.time() - 3600


def address(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (HOUR_AGO, HOUR_AGO))  # old enough for the stat cache to trust
    return root


@pytest.fixture
def ctx(grove_runtime: Runtime, grove_factories: Factories, tmp_path: Path) -> Context:
    grove_runtime.settings = grove_runtime.settings.with_overrides(
        cache_dir=str(tmp_path / "cache")
    )
    return grove_factories.admin_ctx


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Share folders from 64 files on; records each fork made."""
    monkeypatch.setattr(forked, "FORK_FILES", 64)
    monkeypatch.setattr(forked, "cpus", lambda: 2)
    made: list[str] = []
    scan_in_two = forked.scan_in_two

    def scan(*args: Any) -> Any:
        made.append("scan")
        return scan_in_two(*args)

    monkeypatch.setattr(forked, "scan_in_two", scan)
    return made


def folder_files() -> dict[str, bytes]:
    files = {f"d{i // 100}/f{i:04d}.bin": os.urandom(i * 13 % 5000) for i in range(600)}
    files["d0/twin"] = files["d5/twin"] = b"the same bytes in both halves"
    files["d1/big-1"] = os.urandom(PACK_OBJECT_BYTES + 10)  # loose, in the parent's half
    files["d4/big-2"] = os.urandom(PACK_OBJECT_BYTES + 20)  # too big for the child: the parent's
    files["d5/big-copy"] = files["d1/big-1"]  # the same big bytes twice: stored once
    files["d3/empty"] = b""
    return files


def test_two_processes_make_the_version_one_process_makes(
    ctx: Context,
    grove_runtime: Runtime,
    tmp_path: Path,
    forks: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = folder_files()
    folder = write(tmp_path / "data", files)
    (folder / "d2/f0250.bin").chmod(0o755)

    shared = filesets.add_folder(ctx, "shared", folder)
    assert forks == ["scan"]
    distinct = set(files.values())
    assert (shared.rows, shared.new_bytes) == (len(files), sum(map(len, distinct)))

    # The store holds every content once plus the manifest, published, nothing left over.
    store = grove_runtime.objects
    assert isinstance(store, LocalObjectStore)
    held = set(store.iter_addresses())
    assert held == {address(c) for c in distinct} | {shared.address}
    assert list((store.root / "tmp").iterdir()) == []
    assert objects.fsck(grove_runtime).healthy
    with grove_runtime.db.read() as s:
        registered = {r.address: r.size for r in s.scalars(select(ObjectRow))}
    assert registered == {address(c): len(c) for c in distinct} | {
        shared.address: store.size(shared.address)
    }

    # One process, on a copy of the folder (another stat cache: every file is read).
    monkeypatch.setattr(forked, "FORK_FILES", 10**9)
    copy = write(tmp_path / "copy", files)
    (copy / "d2/f0250.bin").chmod(0o755)
    alone = filesets.add_folder(ctx, "alone", copy)
    assert forks == ["scan"]  # no fork this time
    assert alone.address == shared.address
    assert alone.new_bytes == 0  # nothing the two processes missed
    assert set(store.iter_addresses()) == held

    out = tmp_path / "out"
    filesets.checkout(ctx, "shared", "v1", out)
    assert {
        p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
    } == files
    assert os.access(out / "d2/f0250.bin", os.X_OK)


def test_the_cache_written_on_a_thread_answers_the_next_status(
    ctx: Context, tmp_path: Path, forks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = folder_files()
    folder = write(tmp_path / "data", files)
    filesets.add_folder(ctx, "photos", folder)
    assert forks == ["scan"]
    from mlgrove.filesets import hashing

    def no_read(*args: Any, **kw: Any) -> Any:
        raise AssertionError("a file was read: the cache did not answer")

    monkeypatch.setattr(hashing, "digest", no_read)
    status = filesets.status(ctx, "photos", folder)
    assert status["unchanged"] == len(files)
    assert status["added"] == status["removed"] == status["modified"] == []
    # The snapshot was kept: adding the unchanged folder again reads nothing, makes nothing.
    again = filesets.add_folder(ctx, "photos", folder)
    assert again.number == 1


def test_a_file_changed_in_the_childs_half_makes_no_version_and_leaves_nothing(
    ctx: Context,
    grove_runtime: Runtime,
    tmp_path: Path,
    forks: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = folder_files()
    folder = write(tmp_path / "data", files)
    from mlgrove.filesets import hashing

    real = hashing.digest
    victim = "d5/f0590.bin"  # near the end: in the child's half

    def change_while_reading(path: Any, expected: Any, **kw: Any) -> Any:
        if expected.path == victim:
            with open(path, "ab") as fh:
                fh.write(b"more")
        return real(path, expected, **kw)

    monkeypatch.setattr(hashing, "digest", change_while_reading)
    with pytest.raises(InvalidInput, match=f"{victim} changed while it was being read"):
        filesets.add_folder(ctx, "photos", folder)
    assert forks == ["scan"]
    store = grove_runtime.objects
    assert isinstance(store, LocalObjectStore)
    assert list((store.root / "tmp").iterdir()) == []
    assert list(store.iter_addresses()) == []
    with grove_runtime.db.read() as s:
        assert s.scalars(select(DatasetVersionRow)).first() is None
        # The parent had recorded its objects while the child read: rolled back.
        assert s.scalars(select(ObjectRow)).first() is None


def test_an_identical_folder_read_again_makes_no_new_version(
    ctx: Context, grove_runtime: Runtime, tmp_path: Path, forks: list[str]
) -> None:
    files = folder_files()
    folder = write(tmp_path / "data", files)
    first = filesets.add_folder(ctx, "photos", folder)
    with grove_runtime.db.read() as s:
        objects_before = len(s.scalars(select(ObjectRow)).all())
    cache = Path(grove_runtime.settings.cache_dir)
    for path in cache.rglob("*.sqlite"):
        path.unlink()  # no stat cache: every file is read again, by two processes
    again = filesets.add_folder(ctx, "photos", folder)
    assert forks.count("scan") == 2
    assert (again.number, again.address) == (first.number, first.address)
    with grove_runtime.db.read() as s:
        assert len(s.scalars(select(DatasetVersionRow)).all()) == 1
        assert len(s.scalars(select(ObjectRow)).all()) == objects_before
