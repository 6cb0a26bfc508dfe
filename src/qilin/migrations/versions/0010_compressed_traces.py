"""tier_snapshot_entries.trace stored compressed (zlib of compact JSON): about a tenth of the size

A trace is 9 KB of JSON per enterprise and snapshot: the demo's 5,000 enterprises and nine snapshots made a
353 MB SQLite file, 100,000 enterprises 8.8 GB. Traces are read whole (a profile, a diff's reasons) and never
queried into, so they are stored as :func:`qilin.db.pack_json` bytes. Existing traces are converted here,
in chunks, with a line on stderr every 100,000; the snapshots' immutability trigger is lifted for the
conversion and put back. On SQLite the file keeps its size until ``VACUUM`` (run it once, with the platform
stopped, to give the space back); new snapshots take a tenth of the space from the start. Measured on SQLite:
180,171 traces (1.6 GB) converted in 157-164 s with 2.4 GB of memory at the peak, in the table copy that
drops the old column; 702,356 traces (a 7.1 GB file) in 934 s with 8.3 GB.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sys
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from qilin.db import pack_json, unpack_json

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "tier_snapshot_entries"
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
    op.add_column(TABLE, sa.Column("trace_new", target, nullable=True))
    entries = sa.table(
        TABLE,
        sa.column("snapshot_id", sa.Integer()),
        sa.column("enterprise_id", sa.String()),
        sa.column("trace", source),
        sa.column("trace_new", target),
    )
    key = sa.tuple_(entries.c.snapshot_id, entries.c.enterprise_id)
    update = (
        entries.update()
        .where(entries.c.snapshot_id == sa.bindparam("sid"), entries.c.enterprise_id == sa.bindparam("eid"))
        .values(trace_new=sa.bindparam("value", type_=target))
    )
    total = bind.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
    done = 0
    last: tuple[int, str] | None = None
    while True:  # in key order, a chunk at a time (never the whole table in memory)
        query = sa.select(entries.c.snapshot_id, entries.c.enterprise_id, entries.c.trace)
        if last is not None:
            query = query.where(key > sa.tuple_(sa.literal(last[0]), sa.literal(last[1])))
        rows = bind.execute(query.order_by(*key.clauses).limit(CHUNK)).all()
        if not rows:
            break
        bind.execute(update, [{"sid": s, "eid": e, "value": change(trace)} for s, e, trace in rows])
        last = (rows[-1][0], rows[-1][1])
        done += len(rows)
        if done % PROGRESS_EVERY < CHUNK or done == total:  # a long conversion shows it is moving
            print(f"梯队评定过程 / tier traces: {done:,} / {total:,}", file=sys.stderr, flush=True)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("trace")
        batch.alter_column("trace_new", new_column_name="trace", nullable=False, existing_type=target)
    if postgresql:  # qilin_refuse_change() is 0002's
        op.execute(
            f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION qilin_refuse_change()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is immutable / 不可修改'); END"
        )
