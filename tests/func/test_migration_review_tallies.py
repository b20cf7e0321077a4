"""Migration 0012 on a database with review work in it: the resolved counts move to the
tallies, nothing else is lost (on SQLite the queue table must not be rebuilt: dropping
it with foreign keys on would delete every item), and the hot path works after it."""

from __future__ import annotations

from sqlalchemy import inspect, text

from mlgrove.store import schema
from mlgrove.store.db import Database


def test_upgrade_from_0011_keeps_items_verdicts_and_counts(grove_database_url: str) -> None:
    db = Database(grove_database_url)
    try:
        schema.upgrade(db, "0011")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO teams (id, name, description, created_at)"
                    " VALUES (1, 'Vision', '', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO projects (id, name, team_id, description, created_at)"
                    " VALUES (1, 'pets', 1, '', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO review_queues (id, project_id, name, task_type, labels,"
                    " multi_label, rubric, overlap, lease_seconds, random_share, uncertainty,"
                    " consensus, instructions, items_total, items_resolved, created_by,"
                    " created_at) VALUES (1, 1, 'q', 'label', '[\"a\"]', false, '[]', 1, 600,"
                    " 0, 'confidence', 'majority', '', 3, 2, 'admin', CURRENT_TIMESTAMP)"
                )
            )
            for i in range(3):
                conn.execute(
                    text(
                        "INSERT INTO review_items (id, queue_id, external_id, payload, scores,"
                        " uncertainty, priority, random_slice, status, slots, verdict_count,"
                        " negative_feedback, source, created_at) VALUES (:i, 1, :e, '{}', '{}',"
                        " 0.5, 0.5, false, :s, 1, 0, 0, 'manual', CURRENT_TIMESTAMP)"
                    ),
                    {"i": i + 1, "e": f"t{i}", "s": "resolved" if i < 2 else "open"},
                )
            conn.execute(text("INSERT INTO review_reviewers (id, name) VALUES (1, 'ana')"))
            conn.execute(
                text(
                    "INSERT INTO review_verdicts (queue_id, item_id, reviewer_id, answer, improve,"
                    " tags, created_at) VALUES (1, 1, 1, '{}', '', '[]', CURRENT_TIMESTAMP)"
                )
            )
        schema.upgrade(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM review_items")).scalar_one() == 3
            assert conn.execute(text("SELECT count(*) FROM review_verdicts")).scalar_one() == 1
            tallies = conn.execute(
                text("SELECT queue_id, shard, resolved FROM review_queue_tallies")
            ).all()
            assert [tuple(r) for r in tallies] == [(1, 0, 2)]
            columns = {c["name"] for c in inspect(conn).get_columns("review_queues")}
            assert "items_resolved" not in columns
            assert "items_total" in columns
    finally:
        db.dispose()
