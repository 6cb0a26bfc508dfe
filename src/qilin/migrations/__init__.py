"""Alembic migrations. ``qilin db upgrade`` runs them; ``qilin.migrations.config()`` builds the config."""

from __future__ import annotations

from alembic.config import Config


def config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "qilin:migrations")
    cfg.attributes["database_url"] = database_url
    return cfg
