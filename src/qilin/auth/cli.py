"""``qilin users``: create and list platform users."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qilin.audit.service import Actor
from qilin.auth import service
from qilin.auth.errors import UserError
from qilin.auth.passwords import generate_password, read_password
from qilin.auth.roles import ROLE_LABELS, Role
from qilin.db import session_scope

app = typer.Typer(help="用户与角色 / users and roles", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _say(message: str) -> None:
    # Names are printed as they are: no Rich markup ([/bold]) and no emoji codes (:smile:) in them.
    console.print(message, markup=False, emoji=False, highlight=False)


def _fail(message: str) -> typer.Exit:
    err.print(message, style="bold red", markup=False, emoji=False, highlight=False)
    return typer.Exit(1)


@app.command("create")
def create_command(
    username: str = typer.Argument(..., help="用户名 / user name"),
    role: str = typer.Option(..., "--role", help="角色 / role: " + ", ".join(r.value for r in Role)),
    region: str | None = typer.Option(None, "--region", help="区划代码（市、县级角色必填）/ region code"),
    organization: str | None = typer.Option(None, "--organization", help="推荐机构名称 / recommender"),
    enterprise: str | None = typer.Option(None, "--enterprise", help="企业编号（企业用户）/ enterprise id"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="从标准输入读取密码 / read the password from stdin"
    ),
) -> None:
    """创建用户 / Create a user. Without --password-stdin a password is generated and printed once."""
    from qilin.cli import require_migrated

    require_migrated()
    actor = Actor.cli()
    try:
        if password_stdin:
            password, generated = read_password(sys.stdin.buffer), False
        else:
            password, generated = generate_password(), True
        with session_scope() as session:
            user = service.create(
                session,
                username=username,
                password=password,
                role=role,
                region_code=region,
                organization=organization,
                enterprise_id=enterprise,
                actor=actor,
            )
            label = ROLE_LABELS[Role(user.role)]
            created = user.username
    except UserError as exc:
        raise _fail(str(exc)) from None
    _say(f"已创建用户 / created user {created}（{label}）")
    if generated:
        _say(f"初始密码（仅显示一次）/ password, shown once: {password}")


@app.command("list")
def list_command() -> None:
    """列出用户 / List users."""
    from qilin.cli import require_migrated

    require_migrated()
    table = Table(title="用户 / users")
    for column in ("用户名 user", "角色 role", "区域 region", "机构 organization", "锁定至 locked until"):
        table.add_column(column)
    with session_scope() as session:
        for u in service.list_(session):
            # Text, not str: stored names are shown as they are, never read as Rich markup.
            table.add_row(
                Text(u.username),
                ROLE_LABELS[Role(u.role)],
                Text(u.region_code or ""),
                Text(u.organization or u.enterprise_id or ""),
                u.locked_until.isoformat(timespec="minutes") if u.locked_until else "",
            )
    console.print(table)
