"""The one typed Settings class. Every setting is a ``QILIN_*`` environment variable."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/qilin.sqlite3"


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


@cache
def get_settings() -> Settings:
    return Settings()
