"""The one typed Settings class. Every setting is a ``QILIN_*`` environment variable."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qilin.common.messages import both
from qilin.db import parse_database_url

DEFAULT_DATABASE_URL = "sqlite:///var/qilin.sqlite3"
# Signs session cookies and API tokens in development and tests only; production refuses it.
DEVELOPMENT_SECRET_KEY = "qilin-development-secret-not-for-production"


ENVIRONMENTS = ("development", "test", "production")


class InsecureSettingsError(ValueError):
    """Production settings that would put real data at risk (a default secret, cookies over plain HTTP)."""


class SettingsError(Exception):
    """Settings the platform cannot start with: one bilingual line per problem, naming the ``QILIN_*``
    variable. The ``qilin`` command prints it as a message and exits with status 2 rather than a traceback
    (:class:`qilin.cli.RootGroup`); the web server refuses to start with it."""


class Settings(BaseSettings):
    """Platform settings, read from the environment (``QILIN_DATABASE_URL`` …)."""

    model_config = SettingsConfigDict(env_prefix="QILIN_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # Extra tier standards (YAML), e.g. a new version of zhejiang-2024 written by an administrator.
    standards_dir: Path | None = None
    # Excel input is read into memory: bound what one upload may cost.
    xlsx_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    xlsx_max_rows: int = Field(default=500_000, gt=0)
    # Uncompressed size of the sheets inside an .xlsx (a zip); guards against zip bombs.
    xlsx_max_uncompressed_bytes: int = Field(default=500 * 1024 * 1024, gt=0)

    # Web platform (qilin serve).
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    # Session cookies only over HTTPS (required in production).
    cookie_secure: bool = False
    session_max_age_seconds: int = Field(default=8 * 3600, gt=0)
    token_max_age_seconds: int = Field(default=8 * 3600, gt=0)
    # Failed logins: each failure waits a little longer; after this many in a row the account locks.
    login_max_failures: int = Field(default=5, gt=0)
    login_lock_seconds: int = Field(default=15 * 60, gt=0)
    login_failure_delay_seconds: float = Field(default=0.5, ge=0)
    # Failures from one source address (over all accounts) within login_lock_seconds before it is refused.
    login_max_failures_per_address: int = Field(default=20, gt=0)
    # Worker threads per server process for request handlers (database work).
    web_threads: int = Field(default=4, ge=1, le=64)
    # The tier standard behind the tiers shown in lists and on the cockpit.
    default_standard: str = "zhejiang-2024"

    @field_validator("env", mode="before")
    @classmethod
    def _known_env(cls, value: Any) -> Any:
        if value not in ENVIRONMENTS:
            raise ValueError(both("settings.env", value=str(value)[:40]))
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: str) -> str:
        parse_database_url(value)  # DatabaseUrlError, a ValueError, says what is wrong
        return value

    @property
    def database_url_shown(self) -> str:
        """The database URL to print (``qilin run`` shows where it works): the password masked as ***."""
        return parse_database_url(self.database_url).render_as_string(hide_password=True)

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env != "production":
            return self
        if (
            self.secret_key.get_secret_value() in ("", DEVELOPMENT_SECRET_KEY)
            or len(self.secret_key.get_secret_value()) < 32
        ):
            raise InsecureSettingsError(
                "生产环境必须设置至少32个字符的 QILIN_SECRET_KEY，不能使用默认值 / "
                "production needs QILIN_SECRET_KEY of at least 32 characters, not the default"
            )
        if not self.cookie_secure:
            raise InsecureSettingsError(
                "生产环境必须设置 QILIN_COOKIE_SECURE=true（仅通过 HTTPS 发送会话 Cookie）/ "
                "production needs QILIN_COOKIE_SECURE=true (session cookies over HTTPS only)"
            )
        return self


def describe_problems(error: ValidationError) -> str:
    """The bilingual message of refused settings, one line each; never the refused values themselves
    (a database URL or a secret key)."""
    lines = []
    for problem in error.errors():
        if problem["type"] == "value_error":  # our validators: already bilingual and naming the variable
            lines.append(str(problem["msg"]).removeprefix("Value error, "))
        else:
            variable = "QILIN_" + str(problem["loc"][0]).upper() if problem["loc"] else "QILIN_*"
            lines.append(both("settings.invalid", variable=variable, detail=problem["msg"]))
    return "\n".join(lines)


@cache
def get_settings() -> Settings:
    """The settings from the environment (cached); :class:`SettingsError` when they are refused."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_problems(exc)) from None
