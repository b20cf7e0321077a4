"""review hot path: next item in one call on PostgreSQL; resolved count in tallies

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 10:30:00.000000

``grove_review_next`` does on the server what a next-item call did in five statements
from Python (lock the reviewer, look up queue and leases, give back expired leases,
extend the reviewer's live lease or claim the best free item and lease it), so the call
is a single ``SELECT`` in autocommit: one round trip and one Python-side statement
instead of six round trips. With 20 reviewers in one server process the GIL hand-overs
between those round trips, not the database, were most of the p99 (ADR 0013).

It mirrors ``store/repos/review_claim.py`` statement for statement, including the lock
order (reviewer, lease, item), SKIP LOCKED with one waiting retry when every candidate
is locked, and ``synchronous_commit = off`` for this transaction only. Each statement in
a VOLATILE PL/pgSQL function takes a fresh snapshot (READ COMMITTED), so the look-ups
after the reviewer lock see a lease a concurrent call of the same reviewer committed.

``ok`` is false when the reviewer identity or the queue does not exist: the caller's
ORM path then makes the identity (first use) or explains what is missing. A null item
with ``ok`` means nothing is left for this reviewer.

The queue's one row stops being every verdict's meeting point (both databases, so the
schema stays one):

- its resolved counter moves to ``review_queue_tallies``, a few rows per queue (one per
  shard of reviewers): every verdict that settled an item updated the queue's row and
  held its lock through the commit's WAL flush, so a queue's verdicts went one at a time;
- the foreign keys from ``review_leases.queue_id`` and ``review_verdicts.queue_id`` to
  it go: each insert share-locked the queue's row, which on PostgreSQL, next to the
  counter's updates, made a new multixact per insert that every reader of the row (each
  next item reads it) had to look up. The item's key still ties both to the queue and
  deletes them with its items.

On SQLite the column is dropped with ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35+), not
batch mode: batch mode drops and recreates the table, and dropping ``review_queues``
with foreign keys on would delete every queue's items. ``review_leases`` and
``review_verdicts`` are rebuilt in batch mode (nothing references them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION grove_review_next(
    p_project text, p_queue text, p_person integer, p_rname text, p_now timestamp,
    OUT ok boolean, OUT q_resolved integer, OUT q_total integer,
    OUT lease_expires timestamp, OUT item review_items)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_me integer;
    v_queue integer;
    v_seconds integer;
    v_held integer;
    v_held_item integer;
    v_gone integer;
BEGIN
    ok := false;
    -- The reviewer's row, locked (NO KEY UPDATE: verdict inserts, which take KEY SHARE,
    -- still pass): one reviewer's two concurrent calls (two tabs) run one after the
    -- other, and the second finds the lease the first took.
    IF p_person IS NOT NULL THEN
        SELECT r.id INTO v_me FROM review_reviewers r
         WHERE r.person_id = p_person FOR NO KEY UPDATE;
    ELSE
        SELECT r.id INTO v_me FROM review_reviewers r
         WHERE r.name = p_rname FOR NO KEY UPDATE;
    END IF;
    IF v_me IS NULL THEN
        RETURN;
    END IF;
    SELECT q.id, q.lease_seconds, q.items_total
      INTO v_queue, v_seconds, q_total
      FROM review_queues q JOIN projects p ON p.id = q.project_id
     WHERE p.name = p_project AND q.name = p_queue;
    IF v_queue IS NULL THEN
        RETURN;
    END IF;
    SELECT coalesce(sum(t.resolved), 0) INTO q_resolved
      FROM review_queue_tallies t WHERE t.queue_id = v_queue;
    -- A crash may lose the last fraction of a second of claims, whole and in order;
    -- the reviewer just asks again. Verdicts stay durable.
    PERFORM set_config('synchronous_commit', 'off', true);
    ok := true;
    lease_expires := p_now + make_interval(secs => v_seconds);
    SELECT l.id, l.item_id INTO v_held, v_held_item FROM review_leases l
     WHERE l.queue_id = v_queue AND l.reviewer_id = v_me AND l.expires_at > p_now
     ORDER BY l.id LIMIT 1;
    -- Expired leases of the queue (the reviewer's own included) give their slots back;
    -- only leases this call really deleted count, items locked in id order.
    FOR v_gone IN
        WITH gone AS (
            DELETE FROM review_leases l
             WHERE l.queue_id = v_queue AND l.expires_at <= p_now
            RETURNING l.item_id)
        SELECT g.item_id FROM gone g ORDER BY g.item_id
    LOOP
        UPDATE review_items SET slots = slots + 1 WHERE id = v_gone;
    END LOOP;
    IF v_held IS NOT NULL THEN
        -- A page reload keeps your place, and the lease its full time.
        UPDATE review_leases SET expires_at = lease_expires WHERE id = v_held;
        SELECT * INTO item FROM review_items WHERE id = v_held_item;
        RETURN;
    END IF;
    UPDATE review_items i SET slots = i.slots - 1
     WHERE i.id = (
        SELECT c.id FROM review_items c
         WHERE c.queue_id = v_queue AND c.status = 'open' AND c.slots > 0
           AND NOT EXISTS (SELECT 1 FROM review_verdicts v
                            WHERE v.item_id = c.id AND v.reviewer_id = v_me)
           AND NOT EXISTS (SELECT 1 FROM review_skips s
                            WHERE s.item_id = c.id AND s.reviewer_id = v_me)
         ORDER BY c.priority DESC, c.id DESC LIMIT 1
         FOR NO KEY UPDATE SKIP LOCKED)
    RETURNING i.* INTO item;
    IF item.id IS NULL THEN
        -- Every candidate may just be locked (the last items of a queue, each being
        -- claimed or judged this instant): wait for those locks once before saying
        -- that nothing is left.
        UPDATE review_items i SET slots = i.slots - 1
         WHERE i.id = (
            SELECT c.id FROM review_items c
             WHERE c.queue_id = v_queue AND c.status = 'open' AND c.slots > 0
               AND NOT EXISTS (SELECT 1 FROM review_verdicts v
                                WHERE v.item_id = c.id AND v.reviewer_id = v_me)
               AND NOT EXISTS (SELECT 1 FROM review_skips s
                                WHERE s.item_id = c.id AND s.reviewer_id = v_me)
             ORDER BY c.priority DESC, c.id DESC LIMIT 1
             FOR NO KEY UPDATE)
        RETURNING i.* INTO item;
    END IF;
    IF item.id IS NOT NULL THEN
        INSERT INTO review_leases (queue_id, item_id, reviewer_id, expires_at)
        VALUES (v_queue, item.id, v_me, lease_expires);
    END IF;
END
$fn$
"""


QUEUE_KEYS = {
    "review_leases": "fk_review_leases_queue_id_review_queues",
    "review_verdicts": "fk_review_verdicts_queue_id_review_queues",
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "review_queue_tallies",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_queue_tallies_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_id", "shard", name=op.f("pk_review_queue_tallies")),
    )
    op.execute(
        "INSERT INTO review_queue_tallies (queue_id, shard, resolved)"
        " SELECT id, 0, items_resolved FROM review_queues WHERE items_resolved <> 0"
    )
    if postgres:
        op.drop_column("review_queues", "items_resolved")
    else:
        op.execute("ALTER TABLE review_queues DROP COLUMN items_resolved")
    for table, key in QUEUE_KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(key, type_="foreignkey")
    if postgres:
        op.execute(FUNCTION)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "DROP FUNCTION IF EXISTS grove_review_next(text, text, integer, text, timestamp)"
        )
    for table, key in QUEUE_KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(key, "review_queues", ["queue_id"], ["id"], ondelete="CASCADE")
    op.add_column(
        "review_queues",
        sa.Column("items_resolved", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE review_queues SET items_resolved = (SELECT coalesce(sum(t.resolved), 0)"
        " FROM review_queue_tallies t WHERE t.queue_id = review_queues.id)"
    )
    op.drop_table("review_queue_tallies")
