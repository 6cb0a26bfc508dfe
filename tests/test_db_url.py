"""Settings the platform cannot run with (``QILIN_DATABASE_URL``, ``QILIN_ENV`` …) are named in a bilingual
message and every command exits with status 2, never a traceback, and never repeats a password held in the
database URL. Found by fuzzing: ``nonsense``, ``postgresql://:bad`` and ``sqlite:`` gave tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from qilin import config as qilin_config
from qilin.config import Settings, SettingsError
from qilin.db import DatabaseUrlError, make_engine, parse_database_url

SECRET = "s3cret-pw"


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("QILIN_DATABASE_URL", "QILIN_ENV", "QILIN_SECRET_KEY", "QILIN_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    qilin_config.get_settings.cache_clear()
    yield
    qilin_config.get_settings.cache_clear()


def qilin(*args: str, **env: str) -> Result:
    from qilin.cli import app

    qilin_config.get_settings.cache_clear()
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **env})


BAD_URLS = [
    "nonsense",
    "",
    "sqlite:",
    "sqlite:relative/path",
    "sqlite://",  # in memory: a new, empty database on every connection
    "sqlite:///:memory:",
    "postgresql://:bad",
    f"postgresql://qilin:{SECRET}@db:notaport/qilin",
    f"postgresql://qilin:{SECRET}@[::1/qilin",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_database_url_is_named_without_a_traceback(fresh_settings: None, url: str) -> None:
    result = qilin("users", "list", QILIN_DATABASE_URL=url)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "QILIN_DATABASE_URL 不是有效的数据库地址" in result.output
    assert "not a valid database URL" in result.output
    assert SECRET not in result.output


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"mysql://qilin:{SECRET}@db/qilin", ("数据库 mysql 不受支持", "unsupported database mysql")),
        (f"postgresql+asyncpg://qilin:{SECRET}@db/q", ("不受支持", "postgresql+asyncpg")),
        (f"postgresql://qilin:{SECRET}@db:0/qilin", ("端口应为 1 至 65535", "between 1 and 65535")),
        (f"postgresql://qilin:{SECRET}@db:70000/qilin", ("端口", "port")),
    ],
)
def test_an_unsupported_database_or_port_is_named(
    fresh_settings: None, url: str, words: tuple[str, ...]
) -> None:
    result = qilin("scoring", "rank", "--as-of", "2024-06-30", QILIN_DATABASE_URL=url)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    for word in words:
        assert word in result.output, word
    assert SECRET not in result.output


def test_a_sqlite_location_that_cannot_hold_the_file_is_named(fresh_settings: None, tmp_path: Path) -> None:
    for place, reason in (
        (tmp_path, "it is a folder"),
        (Path("/proc/no/such/qilin.sqlite3"), "no such file"),
    ):
        result = qilin("users", "list", QILIN_DATABASE_URL=f"sqlite:///{place}")
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert (
            "QILIN_DATABASE_URL" in result.output and str(place) in result.output and reason in result.output
        )
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match="SQLite"):
        make_engine(f"sqlite:///{blocker / 'qilin.sqlite3'}")


def test_qilin_env_is_refused_in_both_languages(fresh_settings: None) -> None:
    result = qilin("users", "list", QILIN_ENV="prod")
    assert result.exit_code == 2, result.output
    assert "QILIN_ENV 应为 development、test 或 production 之一" in result.output
    assert "QILIN_ENV must be development, test or production (not prod)" in result.output
    # Another variable of the wrong kind is named too, each problem on its own line.
    result = qilin("users", "list", QILIN_ENV="prod", QILIN_LOGIN_MAX_FAILURES="many")
    assert result.exit_code == 2, result.output
    assert "环境变量 QILIN_LOGIN_MAX_FAILURES 的值无效" in result.output and "QILIN_ENV" in result.output


def test_get_settings_raises_one_bilingual_error(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QILIN_DATABASE_URL", f"postgresql://qilin:{SECRET}@db:x/qilin")
    monkeypatch.setenv("QILIN_ENV", "staging")
    with pytest.raises(SettingsError) as refused:
        qilin_config.get_settings()
    message = str(refused.value)
    assert message.count("\n") == 1 and "QILIN_DATABASE_URL" in message and "QILIN_ENV" in message
    assert SECRET not in message and SECRET not in repr(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/qilin.sqlite3",
        "sqlite:////tmp/qilin.sqlite3",
        "sqlite+pysqlite:///x.sqlite3",
        "postgresql://qilin:secret@db:5432/qilin",
        "postgresql+psycopg://postgres@127.0.0.1/test?options=-csearch_path%3Dx",
        "postgres://qilin@db/qilin",
    ],
)
def test_usable_database_urls_are_accepted(fresh_settings: None, url: str) -> None:
    assert Settings(database_url=url).database_url == url
    parse_database_url(url)


def test_parse_database_url_never_repeats_the_url() -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        parse_database_url(f"postgresql://qilin:{SECRET}@db:port/qilin")
    assert SECRET not in str(refused.value) and "QILIN_DATABASE_URL" in str(refused.value)


def test_the_shown_database_url_masks_the_password() -> None:
    settings = Settings(database_url=f"postgresql://qilin:{SECRET}@db:5432/qilin")
    assert settings.database_url_shown == "postgresql://qilin:***@db:5432/qilin"
    assert Settings(database_url="sqlite:///var/q.sqlite3").database_url_shown == "sqlite:///var/q.sqlite3"
