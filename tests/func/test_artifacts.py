"""Artifact folders, downloads and uploads in parts: embedded and over a real HTTP server,
on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mlgrove
from mlgrove.client import wire
from mlgrove.client.base import Client
from mlgrove.config import Settings
from mlgrove.domain.people import LOCAL_ADMIN, Person
from mlgrove.errors import Conflict, InvalidInput, NotFound, ObjectCorrupt
from mlgrove.services.context import Runtime
from mlgrove.services.embedded import EmbeddedClient
from mlgrove.store.objects import hash_bytes
from mlgrove.testing.factories import Factories

PART = 1000  # bytes: the lowered part size these tests upload with


@pytest.fixture
def grove_settings(grove_settings: Settings) -> Settings:
    return grove_settings.with_overrides(upload_part_bytes=PART)


@pytest.fixture
def admin(grove_factories: Factories) -> Person:
    return grove_factories.person("ana", role="admin")


@pytest.fixture
def embedded(grove_runtime: Runtime) -> EmbeddedClient:
    return EmbeddedClient(grove_runtime, LOCAL_ADMIN, owns_runtime=False)


class Recording(httpx.HTTPTransport):
    """A real transport that remembers the method and path of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.seen.append((request.method, request.url.path.removeprefix("/api/v1")))
        return super().handle_request(request)


@pytest.fixture
def transport() -> Recording:
    return Recording()


@pytest.fixture
def remote(
    grove_live_server: str, grove_factories: Factories, admin: Person, transport: Recording
) -> Iterator[Client]:
    token = grove_factories.token(admin).secret
    with mlgrove.connect(grove_live_server, token=token, transport=transport) as client:
        yield client


@pytest.fixture(params=["embedded", "remote"])
def grove(request: pytest.FixtureRequest, grove_runtime: Runtime) -> Client:
    # grove_runtime named here so both backends parametrise every test using this
    client: Client = request.getfixturevalue(request.param)
    return client


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "config.json": b'{"layers": 3}',
        "weights/layer0.bin": os.urandom(3000),
        "weights/layer1.bin": os.urandom(10),
        "weights/deep/note.txt": "näive résumé\n".encode(),
        "same-as-config.json": b'{"layers": 3}',
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def test_a_folder_is_logged_file_by_file_and_downloads_as_the_same_tree(
    grove: Client, tmp_path: Path
) -> None:
    files = make_tree(tmp_path / "model")
    (tmp_path / "single.txt").write_text("one file")
    with grove.runs.start(capture_environment=False) as run:
        logged = run.log_artifact(tmp_path / "model")
        run.log_artifact(tmp_path / "single.txt")
        renamed = run.log_artifacts(tmp_path / "model", name="copy/of-model")
    assert isinstance(logged, list)
    assert sorted(a.path for a in logged) == sorted(f"model/{rel}" for rel in files)
    assert {a.path: a.size for a in logged} == {f"model/{k}": len(v) for k, v in files.items()}
    assert renamed[0].path.startswith("copy/of-model/")
    shown = grove.runs.get(run.id)
    assert len(shown.artifacts) == 2 * len(files) + 1

    everything = tmp_path / "everything"
    written = grove.runs.download_artifacts(run.id, everything)
    assert len(written) == 2 * len(files) + 1
    assert tree(everything / "model") == files
    assert tree(everything / "copy" / "of-model") == files
    assert (everything / "single.txt").read_text() == "one file"

    # One folder, or one file of it, alone.
    part = tmp_path / "part"
    grove.runs.download_artifacts(run.id, part, path="model/weights")
    assert tree(part) == {f"model/{k}": v for k, v in files.items() if k.startswith("weights/")}
    one = grove.runs.download_artifacts(run.id, tmp_path / "one", path="model/config.json")
    assert [p.read_bytes() for p in one] == [files["config.json"]]


def test_a_folder_is_logged_whole_or_not_at_all(grove: Client, tmp_path: Path) -> None:
    make_tree(tmp_path / "model")
    (tmp_path / "empty").mkdir()
    with grove.runs.start(capture_environment=False) as run:
        run.log_artifact(tmp_path / "model" / "config.json", name="model/config.json")
        with pytest.raises(Conflict, match=r"already has an artifact named 'model/config\.json'"):
            run.log_artifact(tmp_path / "model")
        with pytest.raises(InvalidInput, match="has no files"):
            run.log_artifact(tmp_path / "empty")
        with pytest.raises(InvalidInput, match="does not exist"):
            run.log_artifacts(tmp_path / "nowhere")
    # Only the single file is there: nothing of the refused folder was recorded.
    assert [a.path for a in grove.runs.get(run.id).artifacts] == ["model/config.json"]
    with pytest.raises(NotFound, match="has no artifact 'weights'"):
        grove.runs.download_artifacts(run.id, tmp_path / "out", path="weights")
    with pytest.raises(Conflict, match="takes no more"):
        run.log_artifact(tmp_path / "model")


def test_an_artifact_name_that_would_leave_the_folder_is_not_written(
    grove: Client, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("x")
    with grove.runs.start(capture_environment=False) as run:
        run.log_artifact(tmp_path / "f.txt", name="../escape.txt")
    with pytest.raises(InvalidInput, match="cannot be written as a path"):
        grove.runs.download_artifacts(run.id, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_a_large_artifact_goes_up_in_parts_and_resumes_after_a_break(
    remote: Client,
    transport: Recording,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    grove_settings: Settings,
) -> None:
    monkeypatch.setattr(wire, "SINGLE_PUT_MAX", 2 * PART)  # anything bigger goes in parts
    data = os.urandom(5 * PART + 123)  # six parts, the last one short
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    address = hash_bytes(data)

    # A first attempt that broke after two parts.
    http = remote._http  # type: ignore[attr-defined]
    begun = http.post("/api/v1/uploads", json={"address": address, "size": len(data)}).json()
    assert (begun["part_size"], begun["parts"], begun["received"]) == (PART, 6, [])
    for n in (1, 3):
        chunk = data[(n - 1) * PART : n * PART]
        assert http.put(f"/api/v1/uploads/{address}/parts/{n}", content=chunk).status_code == 200
    assert http.get(f"/api/v1/uploads/{address}").json()["received"] == [1, 3]
    transport.seen.clear()

    with remote.runs.start(capture_environment=False) as run:
        art = run.log_artifact(big)
    sent = [p for m, p in transport.seen if m == "PUT"]
    assert sent == [f"/uploads/{address}/parts/{n}" for n in (2, 4, 5, 6)]  # only the missing
    assert ("PUT", f"/objects/{address}") not in transport.seen
    assert not isinstance(art, list)
    assert (art.address, art.size) == (address, len(data))
    (got,) = remote.runs.download_artifacts(run.id, tmp_path / "down")
    assert got.read_bytes() == data
    # The parts are gone once the object is stored; sending it again sends nothing.
    assert not (Path(grove_settings.cache_dir) / "uploads" / address).exists()
    again = http.post("/api/v1/uploads", json={"address": address, "size": len(data)}).json()
    assert again["stored"] is True


def test_parts_that_do_not_hash_to_the_address_store_nothing(
    remote: Client, grove_runtime: Runtime
) -> None:
    data = os.urandom(2 * PART)
    claimed = hash_bytes(b"something else")
    http = remote._http  # type: ignore[attr-defined]
    http.post("/api/v1/uploads", json={"address": claimed, "size": len(data)})
    wrong = http.put(f"/api/v1/uploads/{claimed}/parts/1", content=data[:10])
    assert wrong.status_code == 400
    assert "part 1 must have 1000 bytes, this one has 10" in wrong.json()["detail"]
    early = http.post(f"/api/v1/uploads/{claimed}/complete")
    assert early.status_code == 400
    assert "lacks 2 of 2 parts" in early.json()["detail"]
    for n in (1, 2):
        http.put(f"/api/v1/uploads/{claimed}/parts/{n}", content=data[(n - 1) * PART : n * PART])
    done = http.post(f"/api/v1/uploads/{claimed}/complete")
    assert done.status_code == 400
    assert f"not the address {claimed}" in done.json()["detail"]
    assert not grove_runtime.objects.exists(claimed)
    assert not grove_runtime.objects.exists(hash_bytes(data))


def test_a_download_that_does_not_hash_to_its_address_is_not_written(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    with pytest.raises(ObjectCorrupt, match="do not hash to"):
        wire.download_verified([b"tampered"], hash_bytes(b"original"), target)
    assert list(tmp_path.iterdir()) == []
    wire.download_verified([b"orig", b"inal"], hash_bytes(b"original"), target)
    assert target.read_bytes() == b"original"


def test_an_abandoned_upload_is_deleted_when_the_next_one_begins(
    remote: Client, grove_settings: Settings
) -> None:
    http = remote._http  # type: ignore[attr-defined]
    stale, recent, new = (hash_bytes(os.urandom(16)) for _ in range(3))
    for address in (stale, recent):
        http.post("/api/v1/uploads", json={"address": address, "size": 2 * PART})
        http.put(f"/api/v1/uploads/{address}/parts/1", content=b"x" * PART)
    uploads = Path(grove_settings.cache_dir) / "uploads"
    eight_days_ago = time.time() - 8 * 24 * 3600
    for path in [uploads / stale, *(uploads / stale).iterdir()]:
        os.utime(path, (eight_days_ago, eight_days_ago))

    http.post("/api/v1/uploads", json={"address": new, "size": 2 * PART})

    assert not (uploads / stale).exists()
    # An upload that received a part this week can still resume where it stopped.
    assert http.get(f"/api/v1/uploads/{recent}").json()["received"] == [1]
    assert http.get(f"/api/v1/uploads/{stale}").status_code == 404
