"""review queue claim path: keep item updates in place on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 08:00:00.000000

Every next item takes a slot of an item (``slots - 1``) and every verdict counts one
(``verdict_count + 1``); neither column is indexed, so PostgreSQL can keep the new row
version on the same page (a HOT update) with no new index entries, if the page has room.
Bulk-filled pages have none (fillfactor 100): each claim then added an entry to every
index of the table, at the top of the priority index where every claim starts reading,
and those constant changes kept PostgreSQL from marking the dead entries there as dead
(a claim at 1M items read 5,000 buffers after 3,000 verdicts). Leaving 20% of each page
free makes these updates HOT; vacuuming after 10,000 dead rows, instead of 20% of the
table (200,000 at 1M items), clears the entries a resolved item leaves behind.

Only pages written from now on get the room (existing pages fill it as they are
rewritten). SQLite updates in place and needs nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPTIONS = {
    "fillfactor": "80",
    "autovacuum_vacuum_scale_factor": "0.0",
    "autovacuum_vacuum_threshold": "10000",
    "autovacuum_analyze_scale_factor": "0.02",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    settings = ", ".join(f"{k} = {v}" for k, v in OPTIONS.items())
    op.execute(f"ALTER TABLE review_items SET ({settings})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE review_items RESET ({', '.join(OPTIONS)})")
