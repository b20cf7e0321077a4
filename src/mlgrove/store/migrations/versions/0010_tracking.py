"""tracking bulk logging (reserved; filled by the tracking work)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 08:00:00.000000

Reserved so that parallel work on separate areas cannot fork the migration chain; a
revision that needs no schema change stays a no-op.
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
