"""tier_snapshot_entries.trace stored compressed (zlib of compact JSON): about a tenth of the size

A trace is 9 KB of JSON per enterprise and snapshot: the demo's 5,000 enterprises and nine snapshots made a
353 MB SQLite file, 100,000 enterprises 8.8 GB. Traces are read whole (a profile, a diff's reasons) and never
queried into, so they are stored as :func:`qilin.db.pack_json` bytes. Existing traces are converted here,
in chunks, with a line on stderr every 100,000; the snapshots' immutability trigger is lifted for the
conversion and put back. On SQLite the file keeps its size until ``VACUUM`` (run it once, with the platform
stopped, to give the space back); new snapshots take a tenth of the space from the start.

On SQLite the entries are copied into a new table that replaces the old one (dropping a column there copies
the table in one statement, which held gigabytes in memory). Measured, 180,000 synthetic 9 KB traces in a
1.67 GB file, `qilin db upgrade` beside the first version of this migration (add a column, fill it, drop the
old one): 438 MB of memory at the peak against 2.63 GB, 90-100 s against 112-122 s.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from qilin.db import pack_json, unpack_json

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "tier_snapshot_entries"
NEW_TABLE = "_tier_snapshot_entries_new"
INDEXES = {  # 0002's and 0006's
    "ix_tier_snapshot_entries_enterprise_id": ["enterprise_id"],
    "ix_tier_snapshot_entries_tier": ["tier"],
    "ix_tier_snapshot_entries_snapshot_tier": ["snapshot_id", "tier", "enterprise_id"],
}
CHUNK = 2_000
PROGRESS_EVERY = 100_000


def upgrade() -> None:
    _convert(sa.JSON(), sa.LargeBinary(), pack_json)


def downgrade() -> None:
    _convert(sa.LargeBinary(), sa.JSON(), unpack_json)


def _convert(
    source: sa.types.TypeEngine[Any], target: sa.types.TypeEngine[Any], change: Callable[[Any], Any]
) -> None:
    """Rewrite every trace from ``source`` to ``target`` through ``change``, the trigger lifted meanwhile."""
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable" + (f" ON {TABLE}" if postgresql else ""))
    if postgresql:
        _convert_in_place(bind, source, target, change)
        op.execute(  # qilin_refuse_change() is 0002's
            f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION qilin_refuse_change()"
        )
    else:
        _rebuild(bind, source, target, change)
        op.execute(
            f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is immutable / 不可修改'); END"
        )


def _entries(name: str, trace: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("snapshot_id", sa.Integer()),
        sa.column("enterprise_id", sa.String()),
        sa.column("tier", sa.String()),
        sa.column("region_code", sa.String()),
        sa.column("exclusions", sa.JSON()),
        sa.column("trace", trace),
    )


def _chunks(
    bind: sa.Connection, entries: sa.TableClause, *columns: sa.ColumnClause[Any]
) -> Iterator[Sequence[Any]]:
    """The rows of ``entries`` in key order, ``CHUNK`` at a time (never the whole table in memory), with a
    line on stderr every ``PROGRESS_EVERY`` (a long conversion shows it is moving)."""
    key = sa.tuple_(entries.c.snapshot_id, entries.c.enterprise_id)
    total = bind.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
    done = 0
    last: tuple[int, str] | None = None
    while True:
        query = sa.select(entries.c.snapshot_id, entries.c.enterprise_id, *columns)
        if last is not None:
            query = query.where(key > sa.tuple_(sa.literal(last[0]), sa.literal(last[1])))
        rows = bind.execute(query.order_by(*key.clauses).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = (rows[-1][0], rows[-1][1])
        done += len(rows)
        if done % PROGRESS_EVERY < CHUNK or done == total:
            print(f"梯队评定过程 / tier traces: {done:,} / {total:,}", file=sys.stderr, flush=True)


def _convert_in_place(
    bind: sa.Connection,
    source: sa.types.TypeEngine[Any],
    target: sa.types.TypeEngine[Any],
    change: Callable[[Any], Any],
) -> None:
    """PostgreSQL: a new column filled chunk by chunk, then the old one dropped (no table copy there)."""
    op.add_column(TABLE, sa.Column("trace_new", target, nullable=True))
    entries = _entries(TABLE, source)
    written = sa.table(
        TABLE, sa.column("snapshot_id"), sa.column("enterprise_id"), sa.column("trace_new", target)
    )
    update = (
        written.update()
        .where(written.c.snapshot_id == sa.bindparam("sid"), written.c.enterprise_id == sa.bindparam("eid"))
        .values(trace_new=sa.bindparam("value", type_=target))
    )
    for rows in _chunks(bind, entries, entries.c.trace):
        bind.execute(update, [{"sid": s, "eid": e, "value": change(trace)} for s, e, trace in rows])
    op.drop_column(TABLE, "trace")
    op.alter_column(TABLE, "trace_new", new_column_name="trace", nullable=False, existing_type=target)


def _rebuild(
    bind: sa.Connection,
    source: sa.types.TypeEngine[Any],
    target: sa.types.TypeEngine[Any],
    change: Callable[[Any], Any],
) -> None:
    """SQLite: the entries copied chunk by chunk into a new table with the new column, which then replaces
    the old one. SQLite drops a column by copying the whole table in one statement, which on a large
    database held gigabytes in memory. The ``DROP TABLE`` here journals the old table's pages: in a file
    during migrations (``qilin.db.migrating``), not in memory."""
    op.create_table(
        NEW_TABLE,
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=255), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("trace", target, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["tier_snapshots.id"], name=op.f(f"fk_{TABLE}_snapshot_id_tier_snapshots")
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "enterprise_id", name=op.f(f"pk_{TABLE}")),
    )
    old, new = _entries(TABLE, source), _entries(NEW_TABLE, target)
    columns = [old.c.tier, old.c.region_code, old.c.exclusions, old.c.trace]
    for rows in _chunks(bind, old, *columns):
        bind.execute(
            new.insert(),
            [
                {"snapshot_id": s, "enterprise_id": e, "tier": t, "region_code": r, "exclusions": x,
                 "trace": change(trace)}
                for s, e, t, r, x, trace in rows
            ],
        )  # fmt: skip
    op.drop_table(TABLE)  # its indexes go with it
    op.rename_table(NEW_TABLE, TABLE)
    for name, indexed in INDEXES.items():
        op.create_index(name, TABLE, indexed, unique=False)
