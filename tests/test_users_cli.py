"""``qilin users create|list`` on hostile input (SQLite and PostgreSQL). Found by fuzzing the CLI: names
holding Rich markup broke ``users list``, look-alike and invisible names were accepted, a non-UTF-8 password
on stdin and a control character in the recorded actor gave tracebacks or dirty audit rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from qilin.audit.models import AuditEntry
from qilin.auth import service
from qilin.auth.models import User

PASSWORD = "a-long-secret-passphrase-9"


def users(*args: str, stdin: str | bytes | None = None, env: dict[str, Any] | None = None) -> Result:
    from qilin.cli import app

    return CliRunner().invoke(app, ["users", *args], input=stdin, env={"COLUMNS": "400", **(env or {})})


def create(name: str, *options: str) -> Result:
    return users("create", name, "--role", "province_viewer", *options, stdin=PASSWORD + "\n")


def created(name: str, *options: str) -> None:
    result = users("create", name, "--role", "province_viewer", "--password-stdin", *options, stdin=PASSWORD)
    assert result.exit_code == 0, result.output
    assert f"created user {name}" in result.stdout


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not a traceback
    for word in words:
        assert word in result.stderr, result.stderr


def test_names_with_rich_markup_are_listed_as_they_are(db_url: str) -> None:
    for name in ("Evil[/bold]", "[red]x[/red]", ":smile:"):
        created(name)
    created("rec[/i]", "--role", "recommender", "--organization", "Org[/bold] :smile:")
    listed = users("list")
    assert listed.exit_code == 0, listed.output
    for shown in ("Evil[/bold]", "[red]x[/red]", ":smile:", "rec[/i]", "Org[/bold] :smile:"):
        assert shown in listed.stdout, shown


def test_look_alike_names_are_refused_naming_the_user_they_resemble(db_url: str, session: Session) -> None:
    created("admin")
    created("张三")
    for look_alike in ("ADMIN", "Admin", "ａｄｍｉｎ", "ＡＤＭＩＮ", "ａdmin"):
        result = users("create", look_alike, "--role", "province_viewer", "--password-stdin", stdin=PASSWORD)
        refused(result, "与已有用户 admin 过于相似", "resembles the existing user admin")
        assert look_alike in result.stderr
    refused(users("create", "admin", "--role", "province_viewer"), "已存在", "already exists")
    # Different names stay different.
    created("admin2")
    created("hz_county.officer-1")
    created("张三丰")
    assert session.scalar(select(func.count()).select_from(User)) == 5


@pytest.mark.parametrize(
    ("name", "char"),
    [
        ("ad\u200bmin", "U+200B"),  # zero-width space
        ("admin\u200d", "U+200D"),  # zero-width joiner
        ("\ufeffadmin", "U+FEFF"),  # byte-order mark
        ("ad\u2066min", "U+2066"),  # a direction isolate
        ("ad\u3164min", "U+3164"),  # the Hangul filler, a letter that shows nothing
        ("adm\ufe0fin", "U+FE0F"),  # a variation selector
    ],
)
def test_names_with_invisible_characters_are_refused(db_url: str, name: str, char: str) -> None:
    refused(create(name, "--password-stdin"), "用户名含不可见字符", "invisible character", char)


@pytest.mark.parametrize(("name", "char"), [("ad\x01min", "U+0001"), ("admin\x7f", "U+007F")])
def test_names_with_control_characters_are_refused(
    db_url: str, session: Session, name: str, char: str
) -> None:
    refused(create(name, "--password-stdin"), "控制字符", "control character", char)
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_the_name_key_folds_case_width_and_compatibility_forms() -> None:
    assert service.name_key("ＡＤＭＩＮ") == service.name_key("admin") == service.name_key("Admin")
    assert service.name_key("ad\u200bmin") == "admin"  # an existing name holding one is compared without it
    assert service.name_key("ﬁnance") == service.name_key("finance")  # the ligature fi
    assert service.name_key("张三") != service.name_key("张三丰")


def test_a_password_on_stdin_that_is_not_utf8_is_refused_bilingually(db_url: str, session: Session) -> None:
    result = users(
        "create", "hz", "--role", "province_viewer", "--password-stdin", stdin=b"\xff\xfe-secret-passphrase\n"
    )
    refused(result, "密码不是有效的 UTF-8 文本", "not valid UTF-8")
    assert session.scalar(select(func.count()).select_from(User)) == 0
    # UTF-8 passwords beyond ASCII work.
    accepted = users(
        "create", "hz", "--role", "province_viewer", "--password-stdin", stdin="密码-pässwörd-42\n".encode()
    )
    assert accepted.exit_code == 0, accepted.output


def test_organizations_with_control_characters_or_too_long_are_refused(db_url: str, session: Session) -> None:
    for organization in ("Org\x00x", "Org\x1bx", "\u200b", "机" * 201):
        result = users(
            "create", "rec", "--role", "recommender", "--organization", organization, "--password-stdin",
            stdin=PASSWORD,
        )  # fmt: skip
        refused(result, "机构名称", "organization")
    assert session.scalar(select(func.count()).select_from(User)) == 0
    created("rec", "--role", "recommender", "--organization", "机" * 200)


def test_an_actor_name_with_a_control_character_is_recorded_escaped(db_url: str, session: Session) -> None:
    """The audit actor of the command line comes from the environment (LOGNAME, USER …): a control
    character in it is written as an escape, never into the log as it is."""
    result = users(
        "create", "hz", "--role", "province_viewer", "--password-stdin", stdin=PASSWORD,
        env={"LOGNAME": "ev\x01il"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert session.scalar(select(AuditEntry.actor)) == "cli:ev\\u0001il"
