"""index on enterprises.updated_at: the registry's change fingerprint (count, latest change) in one probe

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_enterprises_updated_at", "enterprises", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_enterprises_updated_at", table_name="enterprises")
