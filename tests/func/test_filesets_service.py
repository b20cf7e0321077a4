"""File datasets end to end, on SQLite and PostgreSQL: add, status, diff, checkout."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import blake3
import pytest
from sqlalchemy import select

from mlgrove.domain.datasets import DatasetKind
from mlgrove.domain.people import Role
from mlgrove.errors import Conflict, InvalidInput, NotFound, ObjectCorrupt, PermissionDenied
from mlgrove.filesets import hashing
from mlgrove.filesets.walk import FileStat
from mlgrove.services import audit, datasets, filesets, lineage, objects, table_commit
from mlgrove.services.context import Context, Runtime
from mlgrove.store.models import DatasetVersionRow, ObjectRow
from mlgrove.store.objects import LocalObjectStore
from mlgrove.testing.factories import Factories

HOUR_AGO = time.time() - 3600


def write(root: Path, files: dict[str, bytes], *, mtime: float = HOUR_AGO) -> Path:
    """Files with an old mtime, as data folders usually are (so the stat cache trusts them)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (mtime, mtime))
    return root


def address(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


@pytest.fixture
def ctx(grove_runtime: Runtime, grove_factories: Factories, tmp_path: Path) -> Context:
    grove_runtime.settings = grove_runtime.settings.with_overrides(
        cache_dir=str(tmp_path / "cache")
    )
    return grove_factories.admin_ctx


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return write(
        tmp_path / "photos",
        {
            "cats/1.jpg": b"cat one" * 100,
            "cats/2.JPG": b"cat two" * 100,
            "dogs/1.jpg": b"dog one" * 100,
            "labels.csv": b"file,label\n",
            "tools/resize.sh": b"#!/bin/sh\necho resize\n",
        },
    )


@pytest.fixture
def read_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the hashing reads, in the order read."""
    read: list[str] = []
    real = hashing.digest

    def spy(path: Path, expected: FileStat, **kw: Any) -> tuple[str, bytes | None] | None:
        got = real(path, expected, **kw)
        if got is not None:  # None: not read yet (not cached), read again by a thread
            read.append(expected.path)
        return got

    monkeypatch.setattr(hashing, "digest", spy)
    return read


def test_add_creates_a_file_dataset_and_its_first_version(ctx: Context, photos: Path) -> None:
    (photos / "tools/resize.sh").chmod(0o755)
    done: list[int] = []
    v1 = filesets.add_folder(ctx, "photos", photos, message="first shoot", progress=done.append)
    assert (v1.number, v1.parent, v1.message, v1.author) == (1, None, "first shoot", "local")
    assert v1.rows == 5
    assert v1.bytes == sum(p.stat().st_size for p in photos.rglob("*") if p.is_file())
    assert v1.new_bytes == v1.bytes
    assert v1.stats == {
        "files": 5,
        "bytes": v1.bytes,
        "extensions": {".csv": 1, ".jpg": 3, ".sh": 1},
    }
    assert v1.schema == []
    assert v1.source == "import"
    assert sum(done) == 5
    ds = datasets.get_dataset(ctx, "photos")
    assert (ds.kind, ds.project) == (DatasetKind.FILES, "default")
    assert filesets.list_files(ctx, "photos", "v1", prefix="tools/") == [
        {
            "path": "tools/resize.sh",
            "size": 22,
            "address": address(b"#!/bin/sh\necho resize\n"),
            "executable": True,
        }
    ]


def test_status_of_an_unchanged_folder_reads_no_file(
    ctx: Context, photos: Path, read_paths: list[str]
) -> None:
    filesets.add_folder(ctx, "photos", photos)
    assert len(read_paths) == 5
    read_paths.clear()
    result = filesets.status(ctx, "photos", photos)
    assert result == {
        "dataset": "photos",
        "version": "v1",
        "added": [],
        "removed": [],
        "modified": [],
        "unchanged": 5,
        "skipped": [],
    }
    assert read_paths == []
    assert filesets.add_folder(ctx, "photos", photos).number == 1  # nothing to commit
    assert read_paths == []


def test_status_without_a_cache_hashes_and_then_remembers(
    ctx: Context, photos: Path, read_paths: list[str], tmp_path: Path
) -> None:
    filesets.add_folder(ctx, "photos", photos)
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")  # a corrupt cache costs speed, never correctness
    read_paths.clear()
    assert filesets.status(ctx, "photos", photos)["unchanged"] == 5
    assert sorted(read_paths) == sorted(
        ["cats/1.jpg", "cats/2.JPG", "dogs/1.jpg", "labels.csv", "tools/resize.sh"]
    )
    read_paths.clear()
    assert filesets.status(ctx, "photos", photos)["unchanged"] == 5
    assert read_paths == []


def test_changes_show_in_status_then_in_a_second_version_and_its_diff(
    ctx: Context, photos: Path, read_paths: list[str]
) -> None:
    filesets.add_folder(ctx, "photos", photos)
    write(photos, {"cats/1.jpg": b"CAT ONE" * 100}, mtime=HOUR_AGO + 60)  # same size
    write(photos, {"dogs/2.jpg": b"dog two"})
    (photos / "labels.csv").unlink()
    (photos / "tools/resize.sh").chmod(0o755)
    read_paths.clear()
    result = filesets.status(ctx, "photos", photos)
    assert result["added"] == ["dogs/2.jpg"]
    assert result["removed"] == ["labels.csv"]
    assert result["modified"] == ["cats/1.jpg", "tools/resize.sh"]
    assert result["unchanged"] == 2
    assert read_paths == ["cats/1.jpg"]  # the new file is not even read for status

    v2 = filesets.add_folder(ctx, "photos", photos, message="relabel")
    assert (v2.number, v2.parent, v2.rows) == (2, 1, 5)
    assert filesets.status(ctx, "photos", photos)["unchanged"] == 5
    assert filesets.status(ctx, "photos", photos, ref="v1")["modified"] == [
        "cats/1.jpg",
        "tools/resize.sh",
    ]
    diff = filesets.diff_files(ctx, "photos", "v1", "v2")
    assert diff == {
        "dataset": "photos",
        "from": "v1",
        "to": "v2",
        "added": 1,
        "removed": 1,
        "modified": 2,
        "unchanged": 2,
        "files": {
            "added": ["dogs/2.jpg"],
            "removed": ["labels.csv"],
            "modified": ["cats/1.jpg", "tools/resize.sh"],
        },
        "limit": 1000,
        "truncated": False,
    }
    back = filesets.diff_files(ctx, "photos", "latest", "v1")
    assert (back["added"], back["removed"]) == (1, 1)
    assert back["files"]["added"] == ["labels.csv"]


def test_identical_files_are_stored_once_and_a_new_version_stores_only_what_changed(
    ctx: Context, grove_runtime: Runtime, tmp_path: Path
) -> None:
    same = os.urandom(4096)
    folder = write(
        tmp_path / "docs",
        {"a.pdf": same, "copy/a.pdf": same, "b.pdf": os.urandom(1000), "c.pdf": os.urandom(500)},
    )
    v1 = filesets.add_folder(ctx, "docs", folder)
    assert v1.bytes == 4096 * 2 + 1500
    assert v1.new_bytes == 4096 + 1500
    assert sorted(grove_runtime.objects.iter_addresses()) == sorted(
        {
            address(same),
            address((folder / "b.pdf").read_bytes()),
            address((folder / "c.pdf").read_bytes()),
            v1.address,
        }
    )
    write(folder, {"b.pdf": os.urandom(1200)}, mtime=HOUR_AGO + 60)
    v2 = filesets.add_folder(ctx, "docs", folder)
    assert v2.new_bytes == 1200
    with grove_runtime.db.read() as s:
        kinds = Counter(s.scalars(select(ObjectRow.kind)))
    assert kinds == {"file": 4, "files-manifest": 2}


def test_checkout_reproduces_bytes_and_exec_bits(
    ctx: Context, photos: Path, tmp_path: Path
) -> None:
    (photos / "tools/resize.sh").chmod(0o755)
    filesets.add_folder(ctx, "photos", photos)
    write(photos, {"cats/1.jpg": b"changed later"})
    done: list[int] = []
    out = tmp_path / "restored"
    assert filesets.checkout(ctx, "photos", "v1", out, progress=done.append) == 5
    assert sum(done) == 5
    assert (out / "cats/1.jpg").read_bytes() == b"cat one" * 100
    assert (out / "labels.csv").read_bytes() == b"file,label\n"
    assert os.access(out / "tools/resize.sh", os.X_OK)
    assert not os.access(out / "labels.csv", os.X_OK)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "cats/1.jpg",
        "cats/2.JPG",
        "dogs/1.jpg",
        "labels.csv",
        "tools/resize.sh",
    ]
    assert filesets.status(ctx, "photos", out)["unchanged"] == 5
    with pytest.raises(InvalidInput, match="is not empty"):
        filesets.checkout(ctx, "photos", "v1", out)


def test_checkout_detects_a_corrupted_object(
    ctx: Context, photos: Path, grove_runtime: Runtime, tmp_path: Path
) -> None:
    filesets.add_folder(ctx, "photos", photos)
    store = grove_runtime.objects
    assert isinstance(store, LocalObjectStore)
    where = store.packs.locate(bytes.fromhex(address(b"dog one" * 100)))  # small: packed
    assert where is not None
    pack, offset, _length = where
    pack.chmod(0o644)
    with open(pack, "r+b") as fh:  # flip the bytes in place: "dog one" -> "dog 0ne"
        fh.seek(offset)
        fh.write(b"dog 0ne" * 100)
    with pytest.raises(ObjectCorrupt, match=r"dogs/1\.jpg: stored object .* is corrupt"):
        filesets.checkout(ctx, "photos", "latest", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_file_changing_during_add_makes_no_version(
    ctx: Context, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hashing.digest

    def append_while_reading(
        path: Path, expected: FileStat, **kw: Any
    ) -> tuple[str, bytes | None] | None:
        if expected.path == "labels.csv":
            with open(path, "ab") as fh:
                fh.write(b"late.jpg,cat\n")
        return real(path, expected, **kw)

    monkeypatch.setattr(hashing, "digest", append_while_reading)
    with pytest.raises(InvalidInput, match=r"labels\.csv changed while it was being read"):
        filesets.add_folder(ctx, "photos", photos)
    with pytest.raises(NotFound):
        datasets.get_dataset(ctx, "photos")


def test_a_folder_without_files_is_refused(ctx: Context, tmp_path: Path) -> None:
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    (tmp_path / "empty" / ".git" / "HEAD").write_bytes(b"ref")
    (tmp_path / "empty" / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidInput, match="has no files to add") as info:
        filesets.add_folder(ctx, "photos", tmp_path / "empty")
    assert "symlink" in str(info.value)
    with pytest.raises(InvalidInput, match="no such folder"):
        filesets.add_folder(ctx, "photos", tmp_path / "missing")


def test_tables_and_folders_do_not_mix(ctx: Context, photos: Path, tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("id,x\n1,2\n")
    table_commit.commit(ctx, "table", csv)
    with pytest.raises(InvalidInput, match="'table' is a table dataset"):
        filesets.add_folder(ctx, "table", photos)
    with pytest.raises(InvalidInput, match="is a table dataset"):
        filesets.status(ctx, "table", photos)
    filesets.add_folder(ctx, "photos", photos)
    with pytest.raises(InvalidInput, match="file dataset"):
        table_commit.commit(ctx, "photos", csv)


def test_lineage_and_audit_record_the_commit(
    ctx: Context, photos: Path, grove_runtime: Runtime
) -> None:
    (photos / "link.jpg").symlink_to(photos / "cats/1.jpg")
    filesets.add_folder(ctx, "photos", photos)
    write(photos, {"new.jpg": b"new"})
    filesets.add_folder(ctx, "photos", photos)
    with grove_runtime.db.read() as s:
        ids = {r.number: str(r.id) for r in s.scalars(select(DatasetVersionRow))}
    edges = lineage.edges_of(ctx, "dataset_version", ids[2], depth=1)
    assert {(e.from_kind, e.from_id, e.relation) for e in edges} == {
        ("dataset_version", ids[1], "parent"),
        ("folder", str(photos.resolve()), "import"),
    }
    folder_edge = next(e for e in edges if e.from_kind == "folder")
    assert folder_edge.detail["files"] == 6
    assert folder_edge.detail["skipped"] == ["link.jpg"]
    events = [(e.action, e.subject) for e in audit.list_events(ctx)]
    assert ("dataset.commit", f"dataset_version:{ids[2]}") in events
    assert ("dataset.commit", f"dataset_version:{ids[1]}") in events
    assert [a for a, _ in events].count("dataset.create") == 1


def test_a_concurrent_commit_is_a_conflict(
    ctx: Context, photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = write(tmp_path / "other", {"x.jpg": b"x"})
    filesets.add_folder(ctx, "photos", photos)
    real = hashing.digest
    raced = []

    def someone_else_commits(
        path: Path, expected: FileStat, **kw: Any
    ) -> tuple[str, bytes | None] | None:
        if not raced:
            raced.append(True)
            monkeypatch.setattr(hashing, "digest", real)
            filesets.add_folder(ctx, "photos", other)
        return real(path, expected, **kw)

    write(photos, {"new.jpg": b"new"})
    monkeypatch.setattr(hashing, "digest", someone_else_commits)
    with pytest.raises(Conflict, match="meanwhile"):
        filesets.add_folder(ctx, "photos", photos)
    assert [v.number for v in datasets.log(ctx, "photos")] == [2, 1]


def test_diff_lists_are_capped_but_counts_are_complete(ctx: Context, tmp_path: Path) -> None:
    folder = write(tmp_path / "many", {"keep": b"k"})
    filesets.add_folder(ctx, "many", folder)
    write(folder, {f"n/{i:04d}": str(i).encode() for i in range(1005)})
    filesets.add_folder(ctx, "many", folder)
    diff = filesets.diff_files(ctx, "many", "v1", "v2")
    assert diff["added"] == 1005
    assert len(diff["files"]["added"]) == 1000
    assert diff["files"]["added"][0] == "n/0000"
    assert diff["truncated"] is True
    page = filesets.list_files(ctx, "many", "v2", prefix="n/", offset=1000, limit=10)
    assert [e["path"] for e in page] == ["n/1000", "n/1001", "n/1002", "n/1003", "n/1004"]


def test_reading_and_writing_need_the_right_roles(
    grove_factories: Factories, ctx: Context, photos: Path
) -> None:
    filesets.add_folder(ctx, "photos", photos)
    reviewer = grove_factories.ctx(grove_factories.person(role=Role.REVIEWER))
    assert filesets.status(reviewer, "photos", photos)["unchanged"] == 5
    with pytest.raises(PermissionDenied):
        filesets.add_folder(reviewer, "photos", photos)


def test_many_small_files_are_packed_checked_out_byte_exact_and_diffed(
    ctx: Context, grove_runtime: Runtime, tmp_path: Path
) -> None:
    files = {f"d{i // 500:02d}/f{i:05d}.bin": os.urandom(i % 3000) for i in range(2000)}
    files["copies/a.bin"] = files["copies/b.bin"] = b"the same bytes twice"
    folder = write(tmp_path / "many", files)
    v1 = filesets.add_folder(ctx, "many", folder)
    assert (v1.rows, v1.new_bytes) == (2002, sum(map(len, files.values())) - 20)
    store = grove_runtime.objects
    assert isinstance(store, LocalObjectStore)
    assert not list(store.root.glob("??/*"))  # no file of its own per object: all packed
    assert len(list(store.iter_addresses())) == len(set(files.values())) + 1  # + manifest
    assert objects.fsck(grove_runtime).healthy

    out = tmp_path / "out"
    assert filesets.checkout(ctx, "many", "v1", out) == 2002
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.bin")} == files

    # (Other sizes than before: the files get the same old mtime back.)
    changed = {"d00/f00007.bin": b"changed now", "d03/f01999.bin": b"also changed"}
    (folder / "d01/f00600.bin").unlink()
    write(folder, changed | {"new/n.bin": b"brand new"})
    v2 = filesets.add_folder(ctx, "many", folder)
    assert v2.new_bytes == len(b"changed now") + len(b"also changed") + len(b"brand new")
    diff = filesets.diff_files(ctx, "many", "v1", "v2")
    assert diff["files"] == {
        "added": ["new/n.bin"],
        "removed": ["d01/f00600.bin"],
        "modified": sorted(changed),
    }
    again = tmp_path / "again"
    filesets.checkout(ctx, "many", "v1", again)
    assert {p.relative_to(again).as_posix(): p.read_bytes() for p in again.rglob("*.bin")} == files


def test_every_file_object_is_registered_with_its_size_and_time(
    ctx: Context, photos: Path, grove_runtime: Runtime
) -> None:
    before = datetime.now(UTC)
    filesets.add_folder(ctx, "photos", photos)
    with grove_runtime.db.read() as s:
        rows = {r.address: r for r in s.scalars(select(ObjectRow))}
    files = {p: (photos / p).read_bytes() for p in ("cats/1.jpg", "labels.csv")}
    for content in files.values():
        row = rows[address(content)]
        assert (row.kind, row.size) == ("file", len(content))
        assert before - timedelta(seconds=1) <= row.created_at <= datetime.now(UTC)
    # Registering again (another version naming the same bytes) is no conflict.
    write(photos, {"extra.txt": b"one more"})
    filesets.add_folder(ctx, "photos", photos)
    with grove_runtime.db.read() as s:
        assert len(list(s.scalars(select(ObjectRow)))) == len(rows) + 2  # + file, manifest
