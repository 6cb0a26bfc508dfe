"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from typer.testing import CliRunner

from qilin.cli import app
from qilin.db import make_engine
from qilin.migrations import config
from qilin.migrations.models import Base


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (ix_enterprises_city_name): checked below instead.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based")
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_city_list_index_exists_and_serves_city_queries(engine: Engine) -> None:
    """The expression index behind city-scoped lists exists, and the planner uses it (SQLite) for "in this
    city, ordered by name" — the query shape of a city officer's registry list."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'")))
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT id FROM enterprises "
                        "WHERE substr(region_code, 1, 4) = '3301' ORDER BY name LIMIT 20"
                    )
                )
            )
            assert "ix_enterprises_city_name" in plan and "TEMP B-TREE" not in plan
        else:
            names = set(
                conn.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'enterprises'"))
            )
    assert {"ix_enterprises_city_name", "ix_enterprises_region_name"} <= names


def test_db_upgrade_is_repeatable(db_url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(config(db_url)).get_current_head()
    assert head is not None and f"revision {head}" in result.output


def test_sqlite_database_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'qilin.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "var").is_dir()


def test_suite_fails_rather_than_skips_without_postgresql(tmp_path: Path) -> None:
    """CI must go red, not quietly skip, when PostgreSQL is unreachable."""
    env = dict(os.environ, QILIN_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:9/test")
    test_file = str(Path(__file__).parent / "test_schema.py")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        test_file,
        "-k",
        "match_models",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "is unreachable" in result.stdout
    assert "skipped" not in result.stdout
