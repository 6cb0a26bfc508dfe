"""leads.is_synthetic: the demo's leads (模拟数据) are marked, like every other synthetic record

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing leads are real ones: false for each of them
    op.add_column("leads", sa.Column("is_synthetic", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("leads", "is_synthetic")
