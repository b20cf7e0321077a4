"""The metadata database on SQLite and PostgreSQL: migrations, tuning, atomic writes."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from mlgrove.errors import Conflict, DatabaseUnavailable, SchemaOutdated
from mlgrove.services import objects, people
from mlgrove.services.context import Runtime
from mlgrove.store import schema
from mlgrove.store.db import Database, FairLock
from mlgrove.store.models import Base, TeamRow
from mlgrove.store.sqlite_checkpoint import AUTO_CHECKPOINT_PAGES
from mlgrove.testing.factories import Factories


def test_migrations_build_exactly_the_models(grove_runtime: Runtime) -> None:
    db = grove_runtime.db
    assert schema.current_revision(db) == schema.head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(grove_runtime: Runtime) -> None:
    schema.upgrade(grove_runtime.db)
    assert schema.current_revision(grove_runtime.db) == schema.head_revision()


def test_runtime_refuses_an_unmigrated_database(tmp_path: Path, grove_settings: object) -> None:
    from mlgrove.config import Settings

    assert isinstance(grove_settings, Settings)
    with pytest.raises(SchemaOutdated, match="mlgrove upgrade"):
        Runtime.open(grove_settings)


def test_sqlite_is_tuned_for_concurrency(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        # Commits never checkpoint in practice (the thread below does).
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == AUTO_CHECKPOINT_PAGES
    db.dispose()


def test_sqlite_writes_reach_the_database_file_without_a_writer_checkpointing(
    tmp_path: Path,
) -> None:
    """A commit leaves its pages in the WAL; the checkpoint thread, started by the first
    write, copies them into the database file within seconds (read here with the WAL
    ignored), and stops when the database is closed."""
    path = tmp_path / "g.db"
    db = Database(f"sqlite:///{path}")
    with db.write() as s:
        s.execute(text("CREATE TABLE notes (body TEXT)"))
    with db.write() as s:
        s.execute(text("INSERT INTO notes VALUES ('kept')"))

    def in_file() -> list[str]:
        # immutable=1: read the database file alone, as if the WAL were not there.
        raw = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return [r[0] for r in raw.execute("SELECT body FROM notes")]
        except sqlite3.OperationalError:
            return []  # the table itself is not in the file yet
        finally:
            raw.close()

    deadline = time.monotonic() + 10
    while in_file() != ["kept"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_file() == ["kept"]
    assert db._checkpointer is not None
    assert db._checkpointer.running
    with db.read() as s:  # still readable through the pool meanwhile
        assert s.scalar(text("SELECT body FROM notes")) == "kept"
    db.dispose()
    assert not db._checkpointer.running
    # Used again after closing (the engine reconnects): the thread starts again and stays.
    with db.write() as s:
        s.execute(text("INSERT INTO notes VALUES ('again')"))
    time.sleep(0.2)
    assert db._checkpointer.running
    db.dispose()


def test_concurrent_writers_all_succeed(grove_factories: Factories) -> None:
    ctx = grove_factories.admin_ctx
    failures: list[BaseException] = []

    def add(i: int) -> None:
        try:
            people.create_team(ctx, f"team {i:02d}")
        except BaseException as exc:  # collected, asserted below
            failures.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(people.list_teams(ctx)) == 16


def test_sqlite_writers_get_their_turn_in_arrival_order() -> None:
    lock = FairLock()
    order: list[int] = []
    lock.__enter__()
    threads = []
    for i in range(5):

        def wait_turn(i: int = i) -> None:
            with lock:
                order.append(i)

        t = threading.Thread(target=wait_turn)
        t.start()
        threads.append(t)
        while len(lock._waiters) < i + 1:  # queued before the next one starts
            time.sleep(0.001)
    with lock:  # reentrant: a write inside a write does not wait for itself
        pass
    lock.__exit__()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]


def test_concurrent_creations_of_one_name_are_a_conflict_not_a_crash(
    grove_factories: Factories,
) -> None:
    ctx = grove_factories.admin_ctx
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def add() -> None:
        barrier.wait()
        try:
            people.create_team(ctx, "Vision")
            outcomes.append("made")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["made"]


def test_a_failed_write_leaves_the_previous_state(grove_runtime: Runtime) -> None:
    def crash_mid_operation() -> None:
        with grove_runtime.db.write() as s:
            s.add(TeamRow(name="half-made"))
            s.flush()
            raise RuntimeError("crash mid-operation")

    with pytest.raises(RuntimeError):
        crash_mid_operation()
    with grove_runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(TeamRow)) == 0


def test_duplicate_names_conflict_without_side_effects(grove_factories: Factories) -> None:
    grove_factories.team("Vision")
    with pytest.raises(Conflict, match="exists already"):
        grove_factories.team("Vision")
    assert [t.name for t in people.list_teams(grove_factories.admin_ctx)] == ["Vision"]


def test_unreachable_database_is_a_clear_error() -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(
        DatabaseUnavailable,
        match=r"cannot reach database postgresql\+psycopg://nobody@127.0.0.1:1/none",
    ):
        db.check()


def test_fsck_finds_missing_and_corrupt_objects(grove_factories: Factories) -> None:
    runtime = grove_factories.runtime
    ctx = grove_factories.admin_ctx
    good = objects.put_bytes(ctx, b"good", kind="test")
    gone = objects.put_bytes(ctx, b"gone", kind="test")
    bad = objects.put_bytes(ctx, b"bad", kind="test")
    runtime.objects.delete(gone.address)
    root = Path(runtime.settings.object_store_url)
    path = root / bad.address[:2] / bad.address[2:]
    path.chmod(0o644)
    path.write_bytes(b"flipped")
    seen: list[int] = []
    report = objects.fsck(runtime, progress=seen.append)
    assert report.checked == 3 == len(seen)
    assert report.ok == 1
    assert report.missing == [(gone.address, "test")]
    assert report.corrupt == [(bad.address, "test")]
    assert not report.healthy
    assert good.address not in {a for a, _ in report.missing + report.corrupt}


def test_head_constant_matches_the_migration_scripts() -> None:
    assert schema.scripts_head() == schema.HEAD
