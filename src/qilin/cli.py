"""The ``qilin`` command (Typer root). Commands are thin: parse, call a service, render."""

from __future__ import annotations

import typer
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.console import Console

from qilin.common.messages import both
from qilin.config import get_settings
from qilin.db import get_engine
from qilin.migrations import config as alembic_config
from qilin.registry import cli as registry_cli

app = typer.Typer(
    help="麒麟 Qilin — 独角兽企业发现、遴选、培育与报告平台 / unicorn discovery and cultivation platform",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def migration_heads() -> tuple[str | None, set[str]]:
    """The database's current revision and the heads the code knows."""
    url = get_settings().database_url
    script = ScriptDirectory.from_config(alembic_config(url))
    with get_engine().connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, set(script.get_heads())


def upgrade_database() -> None:
    url = get_settings().database_url
    cfg = alembic_config(url)
    with get_engine().begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def require_migrated() -> None:
    current, heads = migration_heads()
    if current not in heads:
        Console(stderr=True).print(both("db.not_migrated"), style="bold red")
        raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """迁移数据库到最新版本 / Migrate the database to the latest schema."""
    upgrade_database()
    current, _ = migration_heads()
    console.print(f"数据库已是最新版本 / database at revision {current}")


app.command("import")(registry_cli.import_command)
app.command("export")(registry_cli.export_command)
app.command("summary")(registry_cli.summary_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
