"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Engine, column, inspect, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import qilin.db
from conftest import BACKENDS, private_schema
from qilin.cli import app
from qilin.db import dispose_engines, make_engine, unpack_json
from qilin.migrations import config
from qilin.migrations.models import Base
from qilin.tiers.models import TierSnapshotEntry


def _schema_diff(engine: Engine) -> list[Any]:
    """What the migrated database lacks or has beyond the models (empty when they match)."""
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (ix_enterprises_city_name): checked below instead.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based")
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_match_models(engine: Engine) -> None:
    assert _schema_diff(engine) == []
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


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own on each backend (a private schema on PostgreSQL), not migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        dispose_engines()
        return
    with private_schema("qilin_fresh") as url:
        yield url


ENTRIES = table(
    "tier_snapshot_entries",
    column("snapshot_id"),
    column("enterprise_id"),
    column("tier"),
    column("exclusions", JSON()),
    column("trace", JSON()),
)


def _traces_at_0009(url: str) -> dict[str, Any]:
    """A database migrated to 0009 (traces stored as JSON) holding a snapshot of 5,000 entries; their
    traces by enterprise."""
    command.upgrade(config(url), "0009")
    traces = {
        f"e{i}": {
            "tier": "none",
            "checks": [{"tier": "unicorn", "n": i, "名称": "杭州" * i}],
            "ok": i % 2 == 0,
        }
        for i in range(5_000)  # more than one chunk of the conversion
    }
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tier_snapshots (id, standard_id, standard_version, as_of, retroactive, "
                "taken_at, enterprises, counts) VALUES (1, 'zhejiang-2024', 1, '2025-06-30', false, "
                "'2025-07-01', :n, '{}')"
            ),
            {"n": len(traces)},
        )
        conn.execute(
            ENTRIES.insert(),
            [
                {"snapshot_id": 1, "enterprise_id": eid, "tier": "none", "exclusions": [], "trace": trace}
                for eid, trace in traces.items()
            ],
        )
    engine.dispose()
    return traces


def test_traces_written_before_compression_are_converted_both_ways(fresh_url: str) -> None:
    """0010 stores traces compressed: the traces of snapshots taken before it read the same after the
    upgrade, the snapshots stay immutable, and a downgrade gives the JSON back."""
    traces = _traces_at_0009(fresh_url)
    command.upgrade(config(fresh_url), "head")
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        stored = dict(
            session.execute(select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.trace)).tuples().all()
        )
        assert stored == traces
        raw = session.execute(text("SELECT trace FROM tier_snapshot_entries WHERE enterprise_id = 'e4999'"))
        packed = raw.scalar_one()
        assert isinstance(packed, bytes | memoryview) and unpack_json(bytes(packed)) == traces["e4999"]
        assert len(packed) < len(json.dumps(traces["e4999"])) / 5
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text("UPDATE tier_snapshot_entries SET tier = 'unicorn'"))
    assert "immutable" in str(refused.value)
    assert _schema_diff(engine) == []
    engine.dispose()

    command.downgrade(config(fresh_url), "0009")
    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        back = dict(conn.execute(select(ENTRIES.c.enterprise_id, ENTRIES.c.trace)).tuples().all())
    assert back == traces
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text("UPDATE tier_snapshot_entries SET tier = 'unicorn'"))
    assert "immutable" in str(refused.value)
    engine.dispose()


def test_a_migration_failing_halfway_leaves_nothing_of_itself(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that fails halfway (here 0010 on its 3,001st trace, as a full disk would) leaves the
    database as it was, its DDL too (the sqlite3 module would have committed the table 0010 creates and
    the trigger it drops), and the next attempt completes."""
    traces = _traces_at_0009(fresh_url)
    engine = make_engine(fresh_url)
    tables_before = set(inspect(engine).get_table_names())
    engine.dispose()
    converted = 0
    pack = qilin.db.pack_json

    def failing(value: Any) -> bytes:
        nonlocal converted
        converted += 1
        if converted > 3_000:
            raise OSError(28, "No space left on device (simulated)")
        return pack(value)

    with monkeypatch.context() as patch:
        patch.setattr(qilin.db, "pack_json", failing)  # 0010 imports it when alembic loads it
        with pytest.raises(OSError, match="simulated"):
            command.upgrade(config(fresh_url), "head")
    assert converted > 3_000

    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0009"
        assert dict(conn.execute(select(ENTRIES.c.enterprise_id, ENTRIES.c.trace)).tuples().all()) == traces
    assert set(inspect(engine).get_table_names()) == tables_before
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:  # the trigger is still there
        conn.execute(text("UPDATE tier_snapshot_entries SET tier = 'unicorn'"))
    assert "immutable" in str(refused.value)
    engine.dispose()

    command.upgrade(config(fresh_url), "head")
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        stored = session.execute(select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.trace)).tuples()
        assert dict(stored.all()) == traces
    engine.dispose()
