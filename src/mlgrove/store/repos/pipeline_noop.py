"""The pipeline tables through a bare DBAPI connection, for the no-op run's quick path.

Importing SQLAlchemy and mapping every model costs a fresh process about half a second,
ten times what checking and recording a fully cached 100-step run costs. The quick
path (``services/pipeline_noop.py``) therefore reads and writes the few tables it
needs here, with ``sqlite3`` or ``psycopg`` directly, in one transaction. Values are
stored exactly as the ORM's column types store them (JSON as text, times as naive UTC;
on SQLite as SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` text), so everything that reads
through the ORM sees no difference; a test compares the rows both paths write.

Only plain ``sqlite:///PATH`` and ``postgresql[+psycopg]://`` URLs are handled:
:func:`connect` answers ``None`` for anything else and the caller takes the full path.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mlgrove.domain.datasets import parse_version_ref

__all__ = ["QuickDB", "connect"]

# The same connection settings as store/db.py gives SQLite connections.
_SQLITE_BUSY_TIMEOUT_S = 10.0
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
)


def connect(url: str) -> QuickDB | None:
    """A connection for ``url``, or ``None`` when this module does not handle it."""
    if url.startswith("sqlite:///") and "?" not in url and len(url) > len("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(
            url[len("sqlite:///") :],
            timeout=_SQLITE_BUSY_TIMEOUT_S,
            isolation_level=None,  # BEGIN is ours to emit, as in store/db.py
        )
        for pragma in _SQLITE_PRAGMAS:
            conn.execute(pragma)
        return QuickDB(conn, postgres=False)
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            import psycopg

            pg = psycopg.connect(
                "postgresql://" + url[len(prefix) :], connect_timeout=5, autocommit=True
            )
            return QuickDB(pg, postgres=True)
    return None


class QuickDB:
    """One connection; SQL is written with ``?`` placeholders on both backends."""

    def __init__(self, conn: Any, *, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(self._sql(sql), tuple(params))
        return list(cur.fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self._sql(sql), tuple(params))

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT and return the new row's id."""
        (row,) = self.rows(sql + " RETURNING id", params)
        return int(row[0])

    def insert_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        cur = self.conn.cursor()
        cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        cur.close()

    def begin_read(self) -> None:
        """One snapshot for the reads that follow (end it with :meth:`rollback`)."""
        self.execute("BEGIN")

    def begin_write(self) -> None:
        # BEGIN IMMEDIATE on SQLite, as store/db.py's writer: the write lock is taken now,
        # so the snapshot read next is the one the writes land on.
        self.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        # Nothing may have been begun yet, or the connection is gone: either is fine.
        with contextlib.suppress(Exception):
            self.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    # -- values, as the ORM's column types store them ---------------------------------

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value)

    @staticmethod
    def from_json(value: Any) -> Any:
        # psycopg decodes json columns itself; SQLite hands back the text.
        return json.loads(value) if isinstance(value, str | bytes) else value

    def time(self, value: datetime) -> Any:
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive if self.postgres else naive.isoformat(sep=" ", timespec="microseconds")


# -- queries -------------------------------------------------------------------------


def schema_revision(db: QuickDB) -> str | None:
    try:
        found = db.rows("SELECT version_num FROM alembic_version")
    except Exception:  # no such table: an empty database
        return None
    return str(found[0][0]) if found else None


def pipeline_record(db: QuickDB, name: str) -> dict[str, Any] | None:
    found = db.rows(
        "SELECT id, project_id, path, description, steps, promotion FROM pipelines WHERE name = ?",
        (name,),
    )
    if not found:
        return None
    pid, project_id, path, description, steps, promotion = found[0]
    return {
        "id": pid,
        "project_id": project_id,
        "path": path,
        "description": description,
        "steps": db.from_json(steps),
        "promotion": db.from_json(promotion),
    }


def rule_specs(db: QuickDB, pipeline_id: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (str(kind), dict(db.from_json(spec)))
        for kind, spec in db.rows(
            "SELECT kind, spec FROM pipeline_rules WHERE pipeline_id = ?", (pipeline_id,)
        )
    ]


def project_ids(db: QuickDB, name: str | None) -> list[int]:
    """The project named ``name``; without a name, up to three projects (by name)."""
    if name is not None:
        return [int(r[0]) for r in db.rows("SELECT id FROM projects WHERE name = ?", (name,))]
    return [int(r[0]) for r in db.rows("SELECT id FROM projects ORDER BY name LIMIT 3")]


def dataset_version(
    db: QuickDB, project_id: int, dataset: str, ref: str
) -> tuple[int, int, str] | None:
    """``(id, number, address)`` of a dataset's version by ``latest`` or ``vN`` (a
    version named by an address prefix is left to the full path: ``None``)."""
    parsed = parse_version_ref(ref)
    found = db.rows(
        "SELECT id FROM datasets WHERE project_id = ? AND name = ?", (project_id, dataset)
    )
    if not found:
        return None
    query = "SELECT id, number, address FROM dataset_versions WHERE dataset_id = ?"
    if parsed.latest:
        rows = db.rows(query + " ORDER BY number DESC LIMIT 1", (found[0][0],))
    elif parsed.number is not None:
        rows = db.rows(query + " AND number = ?", (found[0][0], parsed.number))
    else:
        return None
    return (int(rows[0][0]), int(rows[0][1]), str(rows[0][2])) if rows else None


def split_assignment(db: QuickDB, version_id: int) -> tuple[str, dict[str, int]] | None:
    """The version's current split assignment: its address and its counts per split."""
    rows = db.rows(
        "SELECT address, counts FROM dataset_splits WHERE version_id = ? ORDER BY id DESC LIMIT 1",
        (version_id,),
    )
    return (str(rows[0][0]), dict(db.from_json(rows[0][1]))) if rows else None


def last_fingerprints(
    db: QuickDB, pipeline_id: int
) -> dict[str, tuple[str, dict[str, str], dict[str, Any], str]]:
    """Each step's (code, inputs, params, env) from its newest successful or cached run,
    as ``services.pipelines.last_fingerprints`` reads them."""
    found: dict[str, tuple[str, dict[str, str], dict[str, Any], str]] = {}
    rows = db.rows(
        "SELECT s.step, s.code_hash, s.input_addresses, s.params, s.env_hash"
        " FROM pipeline_step_runs s JOIN pipeline_runs r ON r.id = s.run_id"
        " WHERE r.pipeline_id = ? AND s.status IN ('succeeded', 'cached')"
        " ORDER BY s.id DESC LIMIT 5000",
        (pipeline_id,),
    )
    for step, code, inputs, params, env in rows:
        if step not in found and code is not None and env is not None:
            found[step] = (code, dict(db.from_json(inputs)), dict(db.from_json(params)), env)
    return found


def known_inputs(db: QuickDB, pipeline_id: int) -> dict[str, str]:
    """What each dataset input address was in recent runs (``reviews/v3:train``)."""
    known: dict[str, str] = {}
    for (inputs,) in db.rows(
        "SELECT inputs FROM pipeline_runs WHERE pipeline_id = ? ORDER BY id DESC LIMIT 50",
        (pipeline_id,),
    ):
        for pin in dict(db.from_json(inputs)).values():
            known.setdefault(str(pin.get("address")), str(pin.get("version")))
    return known


def running_runs(db: QuickDB, host: str) -> list[tuple[int, int | None]]:
    return [
        (int(i), None if p is None else int(p))
        for i, p in db.rows(
            "SELECT id, pid FROM pipeline_runs WHERE status = 'running' AND host = ?", (host,)
        )
    ]


def cache_addresses(db: QuickDB, steps: Sequence[str]) -> dict[str, str]:
    """Cache key -> output address, for every entry of these steps."""
    found: dict[str, str] = {}
    for i in range(0, len(steps), 500):
        chunk = steps[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        found.update(
            (str(k), str(a))
            for k, a in db.rows(
                f"SELECT key, address FROM pipeline_step_cache WHERE step IN ({marks})", chunk
            )
        )
    return found


def insert_run(db: QuickDB, run: Mapping[str, Any]) -> int:
    """A finished pipeline run row (its step rows come with :func:`insert_steps`)."""
    return db.insert_id(
        "INSERT INTO pipeline_runs (pipeline_id, status, trigger, reason, executor, params,"
        " forced, inputs, steps_total, steps_cached, steps_failed, tracking_run_id, error,"
        " started_by, started_at, ended_at, host, pid)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run["pipeline_id"],
            run["status"],
            run["trigger"],
            run["reason"],
            run["executor"],
            db.json(run["params"]),
            db.json(run["forced"]),
            db.json(run["inputs"]),
            run["steps_total"],
            run["steps_cached"],
            run["steps_failed"],
            None,
            run["error"],
            run["started_by"],
            db.time(run["started_at"]),
            db.time(run["ended_at"]),
            run["host"],
            run["pid"],
        ),
    )


def insert_steps(db: QuickDB, rows: Sequence[Mapping[str, Any]], ended_at: datetime) -> None:
    at = db.time(ended_at)
    db.insert_many(
        "INSERT INTO pipeline_step_runs (run_id, step, status, cache_key, code_hash,"
        " input_addresses, params, env_hash, output_address, attempts, seconds, error,"
        " traceback, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                r["run_id"],
                r["step"],
                r["status"],
                r["cache_key"],
                r["code_hash"],
                db.json(r["input_addresses"]),
                db.json(r["params"]),
                r["env_hash"],
                r["output_address"],
                r["attempts"],
                r["seconds"],
                r["error"],
                r["traceback"],
                at,
            )
            for r in rows
        ),
    )


def insert_decision(db: QuickDB, d: Mapping[str, Any], at: datetime) -> None:
    db.execute(
        "INSERT INTO pipeline_decisions (pipeline_id, rule_id, run_id, kind, outcome, reason,"
        " detail, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d["pipeline_id"],
            d["rule_id"],
            d["run_id"],
            d["kind"],
            d["outcome"],
            d["reason"],
            db.json(d["detail"]),
            d["actor"],
            db.time(at),
        ),
    )


def insert_lineage(
    db: QuickDB,
    source: tuple[str, str],
    relation: str,
    target: tuple[str, str],
    detail: Mapping[str, Any],
    at: datetime,
) -> None:
    db.execute(
        "INSERT INTO lineage_edges (from_kind, from_id, relation, to_kind, to_id, detail,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (*source, relation, *target, db.json(dict(detail)), db.time(at)),
    )


def insert_audit(
    db: QuickDB, actor: str, action: str, subject: str, detail: str, at: datetime
) -> None:
    db.execute(
        "INSERT INTO audit_events (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (db.time(at), actor, action, subject, detail),
    )
