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
from qilin.demo import cli as demo_cli
from qilin.discovery import cli as discovery_cli
from qilin.discovery import leads_cli
from qilin.migrations import config as alembic_config
from qilin.registry import cli as registry_cli
from qilin.scoring import cli as scoring_cli
from qilin.tiers import cli as tiers_cli
from qilin.tiers import selection_cli

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
app.add_typer(demo_cli.app, name="demo")
app.add_typer(scoring_cli.app, name="scoring")
app.add_typer(tiers_cli.app, name="tiers")
app.add_typer(selection_cli.app, name="selection")
app.add_typer(discovery_cli.app, name="discover")
app.add_typer(leads_cli.app, name="leads")


@app.command("run")
def run() -> None:
    """运行平台：迁移、首次运行加载演示数据、显示企业库概况 / Run the platform on its default database."""
    from qilin.common.progress import RichProgress
    from qilin.db import session_scope
    from qilin.demo.service import build_demo, is_empty

    settings = get_settings()
    console.print(f"数据库 / database: {settings.database_url}")
    upgrade_database()
    with session_scope() as session:
        empty = is_empty(session)
    if empty:
        console.print("首次运行：加载演示数据 / first run: loading the demo data …")
        with RichProgress() as progress, session_scope() as session:
            build_demo(session, progress=progress)
    registry_cli.summary_command()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
