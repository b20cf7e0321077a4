"""growing engineers: mentorship, learning time, help requests, design reviews, rotations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 04:00:00.000000

Reserved so that work on several areas can proceed in parallel without forking the
revision chain; the area's tables are added here.
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
