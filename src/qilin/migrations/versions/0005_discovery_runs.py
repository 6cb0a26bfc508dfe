"""discovery runs: registry scores per as-of date and model

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("discovery_runs", "discovery_scores")


def upgrade() -> None:
    op.create_table(
        "discovery_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovery_runs")),
        sa.UniqueConstraint("as_of", "model_version", name=op.f("uq_discovery_runs_as_of_model_version")),
    )
    with op.batch_alter_table("discovery_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discovery_runs_as_of"), ["as_of"], unique=False)

    op.create_table(
        "discovery_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_discovery_scores_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["discovery_runs.id"], name=op.f("fk_discovery_scores_run_id_discovery_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "enterprise_id", name=op.f("pk_discovery_scores")),
    )
    with op.batch_alter_table("discovery_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_discovery_scores_enterprise_id"), ["enterprise_id"], unique=False
        )
    for table in _TABLES:
        _append_only(table)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


# Runs are history: SQLite refuses updates; PostgreSQL refuses updates and deletes (a test database is
# emptied with TRUNCATE, which row triggers do not see). ``qilin_refuse_change()`` comes from 0002.
def _append_only(table: str) -> None:
    if _postgresql():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION qilin_refuse_change()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only / 只能追加'); END"
        )


def downgrade() -> None:
    for table in _TABLES:
        on = f" ON {table}" if _postgresql() else ""
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only{on}")
    with op.batch_alter_table("discovery_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discovery_scores_enterprise_id"))

    op.drop_table("discovery_scores")
    with op.batch_alter_table("discovery_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discovery_runs_as_of"))

    op.drop_table("discovery_runs")
