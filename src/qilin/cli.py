"""The ``qilin`` command (Typer root). Commands are thin: parse, call a service, render."""

from __future__ import annotations

import errno
import re
import socket
from typing import Any

import typer
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from qilin.audit import hooks as _audit_hooks  # noqa: F401  (workflow records into the audit log)
from qilin.auth import cli as users_cli
from qilin.common.messages import both, t
from qilin.common.validation import explain
from qilin.config import SettingsError, get_settings
from qilin.db import get_engine, migrating
from qilin.demo import cli as demo_cli
from qilin.demo.service import DEFAULT_ENTERPRISES, MAX_ENTERPRISES, MIN_RUN_ENTERPRISES
from qilin.discovery import cli as discovery_cli
from qilin.discovery import leads_cli
from qilin.migrations import config as alembic_config
from qilin.registry import cli as registry_cli
from qilin.scoring import cli as scoring_cli
from qilin.tiers import cli as tiers_cli
from qilin.tiers import selection_cli


def refuse(message: str, code: int) -> typer.Exit:
    """Print why a command stops (bilingual, as text: no Rich markup) and the exit to raise."""
    Console(stderr=True, soft_wrap=True).print(message, style="bold red", markup=False, highlight=False)
    return typer.Exit(code)


_INVALID = re.compile(r"^Invalid value for (?P<hint>.+?): ")
_MISSING = re.compile(r"^Missing (?:option|argument|parameter) (?P<hint>.+?)\.$")
_NO_COMMAND = re.compile(r"^No such command (?P<name>.+?)\.$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def bilingual_usage_error(error: typer.TyperException) -> None:
    """Put Chinese before click's English usage error ("Missing option '--as-of'.", "Invalid value for
    '--seed': Input should be greater than or equal to 0"): a missing or unknown option, a value out of
    range named with its bound. Typer prints ``format_message()`` in its error panel, so that is what is
    replaced. A message of ours (already bilingual) and the bare ``qilin`` (help) are left alone."""
    kind = type(error).__name__  # click's classes are typer's private copy: told apart by name, as typer does
    if kind == "NoArgsIsHelpError" or not hasattr(error, "format_message"):
        return
    english = str(error.format_message())
    if _CJK.search(english):
        return
    zh = t("cli.usage")
    if (found := _MISSING.match(english)) is not None:
        zh = t("cli.missing", hint=found["hint"])
    elif (found := _INVALID.match(english)) is not None:
        cause = error.__cause__  # typer checks bounds and types with pydantic
        problems = cause.errors() if isinstance(cause, ValidationError) else []
        reason = explain(problems[0])[0] if problems else ""
        reason = "" if reason == t("validation.invalid") else reason  # nothing more than "invalid"
        zh = t("cli.invalid", hint=found["hint"], reason=f"：{reason}" if reason else "")
    elif kind == "NoSuchOption":
        zh = t("cli.no_such_option", name=str(getattr(error, "option_name", "")))
    elif (found := _NO_COMMAND.match(english)) is not None:
        zh = t("cli.no_such_command", name=found["name"])
    text = f"{zh} / {english}"
    error.format_message = lambda: text  # type: ignore[method-assign]


class RootGroup(TyperGroup):
    """The ``qilin`` command group: settings it cannot start with (a malformed ``QILIN_DATABASE_URL``, an
    unknown ``QILIN_ENV`` …), found by whichever command reads them first, end the command with their
    bilingual message and status 2 instead of a traceback; usage errors are told in Chinese too."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except typer.TyperException as exc:  # an unknown option of ``qilin`` itself
            bilingual_usage_error(exc)
            raise

    def invoke(self, ctx: Any) -> Any:  # the context class of typer's own click copy
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:  # subcommands parse their options in here
            bilingual_usage_error(exc)
            raise
        except SettingsError as exc:
            raise refuse(str(exc), 2) from None


app = typer.Typer(
    cls=RootGroup,
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
    with get_engine().connect() as conn, migrating(conn), conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def require_migrated() -> None:
    current, heads = migration_heads()
    if current not in heads:
        raise refuse(both("db.not_migrated"), 2)


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
app.add_typer(users_cli.app, name="users")


def _check_settings() -> None:
    """Refuse to serve with insecure production settings (a default secret, cookies over plain HTTP): read
    afresh, a :class:`SettingsError` that :class:`RootGroup` reports."""
    get_settings.cache_clear()
    get_settings()


def check_address(host: str, port: int) -> None:
    """Refuse, in both languages, an address the server could not listen on (the port taken by another
    ``qilin run``, a host name that does not resolve): uvicorn would log it in English and exit."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        key = "serve.in_use" if exc.errno == errno.EADDRINUSE else "serve.no_host"
        message = both("serve.address", host=host, port=port, reason=lambda lang: t(key, lang=lang))
        raise refuse(message, 2) from None


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    check_address(host, port)
    console.print(f"平台地址 / open: [bold]http://{host}:{port}/[/bold]  （Ctrl+C 停止 / to stop）")
    uvicorn.run(
        "qilin.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=False,
    )


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="端口 / port"),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="工作进程数 / worker processes"),
) -> None:
    """启动 Web 平台 / Serve the web platform and the JSON API."""
    _check_settings()
    require_migrated()
    _serve(host, port, workers)


@app.command("run")
def run(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="端口 / port"),
    serve_: bool = typer.Option(
        True, "--serve/--no-serve", help="之后启动 Web 平台 / then serve the platform"
    ),
    enterprises: int = typer.Option(
        DEFAULT_ENTERPRISES,
        "--enterprises",
        help=f"首次运行的模拟企业数（{MIN_RUN_ENTERPRISES}–{MAX_ENTERPRISES:,}）/ synthetic enterprises "
        f"on the first run ({MIN_RUN_ENTERPRISES} to {MAX_ENTERPRISES:,})",
    ),
) -> None:
    """运行平台：迁移、首次加载演示数据与账户、启动 Web 平台 / Run the platform on its default database.

    The first run (an empty registry) loads the demo data, the tier snapshots and the discovery run in one
    transaction: all of them or, when any part fails, none, so the next run starts again from scratch."""
    from rich.table import Table

    from qilin.common.dates import today
    from qilin.common.progress import RichProgress
    from qilin.db import session_scope
    from qilin.demo.leads import build_demo_leads
    from qilin.demo.service import (
        DEFAULT_SEED,
        build_demo,
        build_platform_views,
        create_demo_accounts,
        has_platform_views,
        is_empty,
    )
    from qilin.discovery.data import DiscoveryError
    from qilin.tiers.service import TierError

    if not MIN_RUN_ENTERPRISES <= enterprises <= MAX_ENTERPRISES:
        range_ = {"min": MIN_RUN_ENTERPRISES, "max": f"{MAX_ENTERPRISES:,}", "value": enterprises}
        raise refuse(both("demo.enterprises_range", **range_), 2)
    _check_settings()
    if serve_:
        check_address(host, port)  # before the first run's minutes of work, not after them
    settings = get_settings()
    console.print(f"数据库 / database: {settings.database_url_shown}", markup=False)
    upgrade_database()
    with session_scope() as session:
        empty = is_empty(session)
        views = has_platform_views(session)
    if empty:
        console.print("首次运行：加载演示数据 / first run: loading the demo data …")
        try:
            with session_scope() as session:
                with RichProgress() as progress:
                    build_demo(session, enterprises=enterprises, progress=progress, as_of=today())
                    taken, scored = build_platform_views(session, today=today(), progress=progress)
                leads = build_demo_leads(session, today=today(), seed=DEFAULT_SEED)
        except (DiscoveryError, TierError) as error:  # rolled back: nothing of the demo was kept
            raise refuse(f"{both('demo.not_built')}\n{error}", 1) from None
        zh = f"快照 {taken} 个，评分企业 {scored} 家，演示线索 {leads} 条"
        console.print(f"{zh} / {taken} snapshots, {scored} enterprises scored, {leads} demo leads")
    elif not views:
        console.print(both("demo.views_missing"), style="yellow", markup=False, highlight=False)
    registry_cli.summary_command()
    with session_scope() as session:
        accounts = create_demo_accounts(session)
    if accounts:
        table = Table(title="演示账户（密码仅显示这一次，已加密保存）/ demo accounts: passwords shown once")
        for column in ("用户名 user", "角色 role", "密码 password"):
            table.add_column(column)
        for username, role, password in accounts:
            table.add_row(username, role, password)
        console.print(table)
    else:
        console.print(
            "演示账户已存在（密码只在创建时显示；可用 qilin users create 新建）/ demo accounts exist"
        )
    if serve_:
        _serve(host, port, 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
