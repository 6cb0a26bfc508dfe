"""Test fixtures: every database test runs on SQLite and on the local PostgreSQL, both built by the real
Alembic migrations. PostgreSQL being unreachable is an error, never a skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from qilin import config as qilin_config
from qilin import db as qilin_db
from qilin.migrations.models import Base
from qilin.registry.search import forget_counts

ROOT = Path(__file__).resolve().parent.parent
BACKTEST_DIR = ROOT / "data" / "backtest" / "dev"
POSTGRES_URL = os.environ.get("QILIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def _migrate(url: str) -> None:
    from alembic import command

    from qilin.migrations import config

    command.upgrade(config(url), "head")


@contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema of its own, dropped (with the engines) on leaving."""
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = qilin_db.make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the suite must fail, not skip, without PostgreSQL
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}", pytrace=False)
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        qilin_db.dispose_engines()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session (a private schema on PostgreSQL)."""
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'qilin.sqlite3'}"
    with private_schema("qilin_test") as pg_url:
        urls = {"sqlite": sqlite_url, "postgresql": pg_url}
        for url in urls.values():
            _migrate(url)
        yield urls


def _clear(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # TRUNCATE: immutable tables refuse row deletes, and it is faster.
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, database_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated, empty database on each backend; also the configured database of CLI calls."""
    url = database_urls[request.param]
    _clear(qilin_db.get_engine(url))
    forget_counts()  # per-process caches of list totals and names describe the previous test's data
    monkeypatch.setenv("QILIN_DATABASE_URL", url)
    monkeypatch.setenv("QILIN_ENV", "test")
    qilin_config.get_settings.cache_clear()
    yield url
    qilin_config.get_settings.cache_clear()


@pytest.fixture
def engine(db_url: str) -> Engine:
    return qilin_db.get_engine(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessionmaker(bind=engine, expire_on_commit=False)() as s:
        yield s


@pytest.fixture
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> str:
    """Freeze the platform's clock: dates after 2026-06-30 are 'in the future'."""
    monkeypatch.setenv("QILIN_TODAY", "2026-06-30")
    return "2026-06-30"
