"""discovery runs keep the model's back-test, and each score its place in the simple baseline rankings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RANKS = ("rank_total_raised", "rank_raised_2y", "rank_latest_round")


def upgrade() -> None:
    # nullable columns: earlier runs keep their rows as they were (the tables are append-only)
    op.add_column("discovery_runs", sa.Column("backtest", sa.JSON(), nullable=True))
    for column in _RANKS:
        op.add_column("discovery_scores", sa.Column(column, sa.Integer(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose its append-only
    # trigger
    for column in _RANKS:
        op.drop_column("discovery_scores", column)
    op.drop_column("discovery_runs", "backtest")
