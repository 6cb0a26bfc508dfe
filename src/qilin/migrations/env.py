"""Alembic environment: runs migrations against ``config.attributes['database_url']``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from qilin.db import make_engine, migrating
from qilin.migrations.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # its owner began the transaction (inside qilin.db.migrating)
        _run(connection)
        return
    engine = make_engine(context.config.attributes["database_url"])
    try:
        with engine.connect() as conn, migrating(conn):
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
