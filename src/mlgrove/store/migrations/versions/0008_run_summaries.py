"""runs table summaries: latest metric values per run for filtering and sorting

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 04:00:00.000000

Reserved so that work on several areas can proceed in parallel without forking the
revision chain; the area's tables are added here.
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
