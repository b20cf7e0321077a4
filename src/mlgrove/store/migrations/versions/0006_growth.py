"""growing engineers: ladder, feedback, feedback requests, growth plans, 1:1 notes, notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:00:00.000000

Reserved so that work on several areas can proceed in parallel without forking the
revision chain; the area's tables are added here.
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
