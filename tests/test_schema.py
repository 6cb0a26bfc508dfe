"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from typer.testing import CliRunner

from qilin.cli import app
from qilin.db import make_engine
from qilin.migrations import config
from qilin.migrations.models import Base


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)


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
