"""users and audit log; indexes for registry lists (by city/county and name, by tier)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=255), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("source_address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("organization", sa.String(length=200), nullable=True),
        sa.Column("enterprise_id", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('province_admin', 'province_viewer', 'department', 'city_officer', "
            "'county_officer', 'recommender', 'enterprise')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_users_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    _append_only("audit_log")
    # The id completes each index so that paging (ORDER BY name, id … OFFSET) walks the index alone, and the
    # English name so that a name search (LIKE) is answered from the index without reading the rows.
    op.drop_index("ix_enterprises_name", table_name="enterprises")
    op.create_index("ix_enterprises_name_id", "enterprises", ["name", "id", "name_en"], unique=False)
    op.create_index(
        "ix_enterprises_region_name", "enterprises", ["region_code", "name", "id", "name_en"], unique=False
    )
    city = sa.text("substr(region_code, 1, 4)")
    op.create_index("ix_enterprises_city_name", "enterprises", [city, "name", "id", "name_en"], unique=False)
    op.create_index(
        "ix_tier_snapshot_entries_snapshot_tier",
        "tier_snapshot_entries",
        ["snapshot_id", "tier", "enterprise_id"],
        unique=False,
    )


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


# The audit log is history: PostgreSQL refuses updates and deletes (``qilin_refuse_change()`` from 0002; a
# test database is emptied with TRUNCATE, which row triggers do not see); SQLite refuses updates.
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
    op.drop_index("ix_tier_snapshot_entries_snapshot_tier", table_name="tier_snapshot_entries")
    op.drop_index("ix_enterprises_city_name", table_name="enterprises")
    op.drop_index("ix_enterprises_region_name", table_name="enterprises")
    op.drop_index("ix_enterprises_name_id", table_name="enterprises")
    op.create_index("ix_enterprises_name", "enterprises", ["name"], unique=False)
    on = " ON audit_log" if _postgresql() else ""
    op.execute(f"DROP TRIGGER IF EXISTS audit_log_append_only{on}")
    op.drop_table("users")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
