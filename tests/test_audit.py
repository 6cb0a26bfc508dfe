"""The audit log (审计日志): one row per write in the write's own transaction (API corrections, imports, user
creation, logins), nothing for refused writes, no password material, append-only in the database, and a
read-only API for the province administrator. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from factories import qilin_import, westlake, write_package
from qilin.audit.models import AuditEntry
from qilin.audit.service import Actor, record
from qilin.auth.models import User
from qilin.auth.roles import Role
from qilin.common.dates import CHINA_TIME
from qilin.registry import profile
from qilin.registry.models import Enterprise
from webkit import (
    API,
    NAME_OF,
    PASSWORD,
    WEST,
    YINZHOU,
    Dataset,
    TestClient,
    api_token,
    audit_entries,
    bearer,
    client,
    create_users,
    dataset,
    flat_routes,
    page_login,
    role_users,
    tokens,
    web_app,
    web_settings,
)

__all__ = ["client", "dataset", "role_users", "tokens", "web_app", "web_settings"]  # fixtures


def _count(session: Session) -> int:
    n = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    session.commit()
    return n


def _patch(client: TestClient, token: str, body: Any, eid: str = WEST) -> Any:
    return client.patch(f"{API}/enterprises/{eid}", headers=bearer(token), json=body)


# ---- writes through the API -------------------------------------------------------------------------------


def test_a_correction_adds_exactly_one_row_with_who_what_and_from_where(
    client: TestClient, session: Session, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    before = _count(session)
    response = _patch(
        client, tokens[Role.county_officer], {"name": "杭州西湖更正科技有限公司", "category": "B"}
    )
    assert response.status_code == 200
    rows = audit_entries(session, action="enterprise.update")
    assert _count(session) == before + 1 and len(rows) == 1
    row = rows[0]
    assert (row.actor, row.channel, row.subject_type, row.subject_id) == (
        "county_officer",
        "api",
        "enterprise",
        WEST,
    )
    assert row.old == {"name": NAME_OF[WEST], "category": None}
    assert row.new == {"name": "杭州西湖更正科技有限公司", "category": "B"}
    assert row.source_address == "testclient"  # the test client's address
    assert row.at is not None and abs(row.at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)

    # Only what changed is recorded; an unchanged value adds nothing.
    assert (
        _patch(client, tokens[Role.county_officer], {"name": "杭州西湖更正科技有限公司"}).status_code == 200
    )
    assert _count(session) == before + 1
    dates = _patch(client, tokens[Role.city_officer], {"founded_on": "2019-02-01", "category": "B"})
    assert dates.status_code == 200
    last = audit_entries(session, action="enterprise.update")[-1]
    assert (last.actor, last.old, last.new) == (
        "city_officer",
        {"founded_on": "2019-01-01"},
        {"founded_on": "2019-02-01"},
    )


def test_refused_writes_add_no_row(
    client: TestClient, session: Session, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    before = _count(session)
    county, viewer = tokens[Role.county_officer], tokens[Role.province_viewer]
    refused = [
        (county, {"bogus": 1}, WEST, 422),
        (county, {"name": ""}, WEST, 422),
        (county, {"region_code": "330110"}, WEST, 422),  # out of the county
        (county, {"region_code": "999999"}, WEST, 422),
        (
            county,
            {"industry_code": "9999", "name": "改名"},
            WEST,
            422,
        ),  # one bad field refuses the whole patch
        (county, {"name": "改名"}, YINZHOU, 404),
        (viewer, {"name": "改名"}, WEST, 403),
        (tokens[Role.enterprise], {"region_code": "330106"}, WEST, 403),
    ]
    for token, body, eid, status in refused:
        assert _patch(client, token, body, eid).status_code == status, body
    assert _count(session) == before
    stored = session.scalar(select(Enterprise.name).where(Enterprise.id == WEST))
    session.commit()
    assert stored == NAME_OF[WEST]


def test_the_change_and_its_row_share_one_transaction(
    web_app: Any, session: Session, dataset: Dataset, tokens: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the change is written (while building the answer) rolls back the change and its row."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(profile, "detail", broken)
    before = _count(session)
    with TestClient(web_app, raise_server_exceptions=False) as failing:
        response = _patch(failing, tokens[Role.county_officer], {"name": "不会保存的名称"})
    assert response.status_code == 500
    assert _count(session) == before
    assert session.scalar(select(Enterprise.name).where(Enterprise.id == WEST)) == NAME_OF[WEST]
    session.commit()


def test_logins_are_audited_without_passwords(client: TestClient, session: Session) -> None:
    create_users(session, [Role.department])
    assert api_token(client, "department", "wrong-password-1").status_code == 401
    assert page_login(client, "department").status_code == 303
    failures = audit_entries(session, action="auth.failure")
    logins = audit_entries(session, action="auth.login")
    assert [(r.actor, r.subject_type, r.source_address) for r in failures] == [
        ("department", "user", "testclient")
    ]
    assert [(r.actor, r.channel) for r in logins] == [("department", "web")]
    everything = json.dumps([[r.old, r.new, r.actor] for r in audit_entries(session)], ensure_ascii=False)
    assert "wrong-password-1" not in everything and PASSWORD not in everything


# ---- writes from the command line -------------------------------------------------------------------------


def test_qilin_import_adds_one_registry_import_row(tmp_path: Path, session: Session, db_url: str) -> None:
    package = write_package(tmp_path / "pkg", companies=[westlake()])
    dry = qilin_import(package, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert audit_entries(session) == []
    result = qilin_import(package)
    assert result.exit_code == 0, result.output
    rows = audit_entries(session)
    assert [(r.action, r.channel, r.subject_type) for r in rows] == [("registry.import", "cli", "import_run")]
    assert rows[0].actor.startswith("cli:") and rows[0].source_address == "local"
    assert rows[0].new is not None and rows[0].new["counts"]["companies"]["inserted"] == 1
    assert rows[0].subject_id is not None and int(rows[0].subject_id) > 0


def test_qilin_users_create_adds_one_row_without_password_material(session: Session, db_url: str) -> None:
    password = "a-long-secret-passphrase-9"
    result = cli_with_input(
        [
            "users",
            "create",
            "hz_county",
            "--role",
            "county_officer",
            "--region",
            "330106",
            "--password-stdin",
        ],
        password + "\n",
    )
    assert result.exit_code == 0, result.output
    assert password not in result.output
    user = session.scalar(select(User).where(User.username == "hz_county"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    rows = audit_entries(session)
    assert [(r.action, r.channel, r.subject_type, r.subject_id) for r in rows] == [
        ("user.create", "cli", "user", str(user.id))
    ]
    assert rows[0].new == {
        "username": "hz_county",
        "role": "county_officer",
        "region_code": "330106",
        "organization": None,
        "enterprise_id": None,
        "active": True,
    }
    stored = json.dumps([rows[0].old, rows[0].new], ensure_ascii=False)
    assert password not in stored and user.password_hash not in stored and "argon2" not in stored

    # A refused user adds no row.
    refused = cli_with_input(
        ["users", "create", "bad", "--role", "county_officer", "--region", "330100", "--password-stdin"],
        password + "\n",
    )
    assert refused.exit_code == 1
    assert len(audit_entries(session)) == 1


def cli_with_input(args: list[str], stdin: str) -> Any:
    from typer.testing import CliRunner

    from qilin.cli import app

    return CliRunner().invoke(app, args, input=stdin, env={"COLUMNS": "400"})


# ---- append-only ------------------------------------------------------------------------------------------


def test_the_database_refuses_changes_to_the_log(engine: Engine, session: Session) -> None:
    record(
        session,
        actor=Actor("someone", "cli", "local"),
        action="test.write",
        subject_type="test",
        subject_id=1,
    )
    session.commit()
    postgresql = engine.dialect.name == "postgresql"

    with pytest.raises(DBAPIError, match=r"append-only|immutable"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    if postgresql:
        with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    rows = audit_entries(session)
    assert [(r.actor, r.action) for r in rows] == [("someone", "test.write")]
    # Through the ORM too.
    rows[0].actor = "rewritten"
    with pytest.raises(DBAPIError):
        session.commit()
    session.rollback()
    assert [r.actor for r in audit_entries(session)] == ["someone"]


# ---- reading the log --------------------------------------------------------------------------------------


def test_days_and_times_are_beijing_time_on_the_page_and_in_the_filters(
    client: TestClient, session: Session, role_users: dict[Role, User], tokens: dict[Role, str]
) -> None:
    # 17:30 UTC on the 27th is 01:30 on the 28th in Beijing: the entry belongs to the 28th
    entry = record(session, actor=Actor("夜班", "cli", "local"), action="test.write", subject_type="test")
    entry.at = dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC)
    session.commit()
    admin = tokens[Role.province_admin]

    def found(**filters: str) -> bool:
        answer = client.get(f"{API}/audit", headers=bearer(admin), params={"actor": "夜班", **filters})
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["total"])

    assert found(since="2026-11-28", until="2026-11-28")
    assert found(since="0001-01-01") and found(until="9999-12-31")  # the calendar's ends
    assert not found(until="2026-11-27")
    assert not found(since="2026-11-29")
    page_login(client, role_users[Role.province_admin].username)
    page = client.get("/audit", params={"actor": "夜班", "since": "2026-11-28", "until": "2026-11-28"}).text
    assert "2026-11-28 01:30:00" in page and "时间（北京时间）" in page


def test_the_audit_api_lists_newest_first_with_filters(
    client: TestClient, session: Session, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    admin = tokens[Role.province_admin]
    assert _patch(client, tokens[Role.county_officer], {"category": "C1"}).status_code == 200
    assert _patch(client, tokens[Role.city_officer], {"category": "C2"}).status_code == 200
    assert _patch(client, admin, {"category": "N1"}, YINZHOU).status_code == 200

    def log(**params: Any) -> dict[str, Any]:
        response = client.get(f"{API}/audit", headers=bearer(admin), params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everything = log(page_size=100)
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True) and everything["total"] == len(ids)
    # the dataset's snapshot, discovery run and two leads (mirrored workflow records), seven users, three
    # corrections
    entries = 4 + 7 + 3
    assert len(ids) == entries
    newest = everything["items"][0]
    assert (newest["actor"], newest["action"], newest["subject_id"]) == (
        "province_admin",
        "enterprise.update",
        YINZHOU,
    )
    assert (
        newest["channel"] == "api"
        and newest["new"] == {"category": "N1"}
        and newest["old"] == {"category": None}
    )
    assert set(newest) == {
        "id",
        "at",
        "actor",
        "channel",
        "action",
        "subject_type",
        "subject_id",
        "old",
        "new",
        "source_address",
    }

    updates = log(action="enterprise.update")
    assert [(e["actor"], e["new"]["category"]) for e in updates["items"]] == [
        ("province_admin", "N1"),
        ("city_officer", "C2"),
        ("county_officer", "C1"),
    ]
    assert [e["new"]["category"] for e in log(subject_id=WEST)["items"]] == ["C2", "C1"]
    assert log(actor="county_officer")["total"] == 1
    assert log(actor="nobody")["total"] == 0
    assert log(action="user.create")["total"] == 7
    today = dt.datetime.now(CHINA_TIME).date()  # the filter's days are Beijing days
    assert log(since=today.isoformat())["total"] == entries
    assert log(since=(today + dt.timedelta(days=1)).isoformat())["total"] == 0
    assert log(until=(today - dt.timedelta(days=1)).isoformat())["total"] == 0
    assert log(since=today.isoformat(), until=today.isoformat())["total"] == entries
    paged = log(page=2, page_size=4)
    assert [e["id"] for e in paged["items"]] == ids[4:8] and paged["total"] == entries
    for bad in ({"since": "yesterday"}, {"page_size": 101}, {"page": 0}, {"actor": "x" * 101}):
        assert client.get(f"{API}/audit", headers=bearer(admin), params=bad).status_code == 422, bad


def test_no_route_changes_the_log(
    client: TestClient, web_app: Any, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    audit_routes = [r for r in flat_routes(web_app) if r.path.startswith(f"{API}/audit")]
    assert [(r.path, set(r.methods)) for r in audit_routes] == [(f"{API}/audit", {"GET"})]
    admin = bearer(tokens[Role.province_admin])
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in (f"{API}/audit", f"{API}/audit/1"):
            status = client.request(method, path, headers=admin, json={"actor": "x"}).status_code
            assert status in (404, 405), (method, path, status)
