"""Shared fixtures and helpers of the web tests (``test_web_security``, ``test_web_api``, ``test_audit``).

- a small registry in three counties: 杭州市西湖区 330106 (the county officer's), 杭州市余杭区 330110 (same
  city, other county) and 宁波市鄞州区 330212 (other city), with rounds, valuations, an event, a tier
  snapshot, a discovery run and two leads (one from the recommender user's own organisation);
- one user of each of the seven roles, and a bearer token for each (issued directly: no password check);
- an app on the test's database with failed logins costing no delay, and a client that never follows
  redirects;
- a walk over every route of the app, whatever router included it.

Import ``TestClient`` from here (see the note at its import). Test modules import the fixtures they use by
name and list them in ``__all__`` (pytest finds fixtures among a module's names; ``__all__`` tells linters
that the import is used).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient as TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin import config as qilin_config
from qilin.audit.models import AuditEntry
from qilin.audit.service import Actor
from qilin.auth import passwords
from qilin.auth import service as users_service
from qilin.auth.models import User
from qilin.auth.roles import Role
from qilin.config import Settings
from qilin.discovery.leads_models import Lead, Recommender
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.reference import uscc
from qilin.registry.models import Enterprise, EnterpriseTrack, FundingRound, LifecycleEvent, Valuation
from qilin.tiers.service import take_snapshot
from qilin.web import security

API = "/api/v1"
PASSWORD = "correct-horse-battery-staple"
D = dt.date.fromisoformat

# Enterprises: 西湖 (the county officer's and the enterprise user's own), 余杭 (same city), 鄞州 (Ningbo).
WEST, YUHANG, YINZHOU = "zj-westlake", "zj-yuhang", "zj-yinzhou"
REGION_OF = {WEST: "330106", YUHANG: "330110", YINZHOU: "330212"}
NAME_OF = {
    WEST: "杭州西湖智能科技有限公司",
    YUHANG: "杭州余杭数据科技有限公司",
    YINZHOU: "宁波鄞州新材料股份有限公司",
}
USCC_OF = {
    WEST: uscc.build("330106", "MA27XK01"),
    YUHANG: uscc.build("330110", "MA27Y8Q3"),
    YINZHOU: uscc.build("330212", "MA2CH4E0"),
}
# Exact amounts with cents: the API must carry them as decimal strings, never floats.
WEST_ROUND_AMOUNT = Decimal("123456789.01")
WEST_VALUATION = Decimal("2000000000.50")
SNAPSHOT_AS_OF = D("2025-06-30")

OWN_ORGANIZATION = "西湖创投"  # the recommender user's institution
OTHER_ORGANIZATION = "某咨询"

# One user per role; the user name is the role's value.
ROLE_SCOPES: dict[Role, dict[str, str]] = {
    Role.province_admin: {},
    Role.province_viewer: {},
    Role.department: {},
    Role.city_officer: {"region_code": "330100"},  # 杭州市
    Role.county_officer: {"region_code": "330106"},  # 杭州市西湖区
    Role.recommender: {"organization": OWN_ORGANIZATION},
    Role.enterprise: {"enterprise_id": WEST},
}
ROLES: tuple[Role, ...] = tuple(ROLE_SCOPES)

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Dataset:
    own_lead: int  # recommended by OWN_ORGANIZATION, in 330106
    other_lead: int  # recommended by OTHER_ORGANIZATION, in 330212
    snapshot_id: int


# ---- data ------------------------------------------------------------------------------------------------


def build_dataset(session: Session) -> Dataset:
    """The three enterprises with their records, a tier snapshot as of 2025-06-30, a discovery run and two
    leads; committed."""
    for eid in (WEST, YUHANG, YINZHOU):
        session.add(
            Enterprise(
                id=eid,
                name=NAME_OF[eid],
                uscc=USCC_OF[eid],
                country="CN",
                region_code=REGION_OF[eid],
                founded_on=D("2019-01-01") if eid == WEST else D("2021-03-01"),
                industry_code="6513",
            )
        )
    session.flush()
    session.add_all(
        [
            EnterpriseTrack(enterprise_id=WEST, track_code="ai"),
            EnterpriseTrack(enterprise_id=YINZHOU, track_code="advanced_materials"),
        ]
    )
    for eid, amount, valuation in (
        (WEST, WEST_ROUND_AMOUNT, WEST_VALUATION),
        (YINZHOU, Decimal("50000000"), Decimal("150000000")),
    ):
        session.add(
            FundingRound(
                enterprise_id=eid,
                announced_on=D("2023-05-01"),
                round_type="series-b",
                amount=amount,
                currency="USD",
                post_money_valuation=valuation,
                post_money_currency="USD",
            )
        )
        session.add(
            Valuation(
                enterprise_id=eid,
                as_of=D("2024-06-01"),
                value=valuation,
                currency="USD",
                evidence="disclosed",
                source="test",
            )
        )
    session.add(LifecycleEvent(enterprise_id=WEST, kind="unicorn_list_entry", occurred_on=D("2024-12-01")))
    session.commit()
    snapshot = take_snapshot(session, as_of=SNAPSHOT_AS_OF, taken_by="test")
    run = DiscoveryRun(as_of=SNAPSHOT_AS_OF, model_version="test-1", enterprises=3)
    session.add(run)
    session.flush()
    for rank, eid in enumerate((WEST, YINZHOU, YUHANG), start=1):
        session.add(
            DiscoveryScore(
                run_id=run.id,
                enterprise_id=eid,
                score=1.0 / rank,
                rank=rank,
                reasons={"zh": ["测试"], "en": ["test"]},
                rank_total_raised=rank + 1,
                rank_raised_2y=rank,
                rank_latest_round=None,
            )
        )
    own = Recommender(name=OWN_ORGANIZATION, kind="investor")
    other = Recommender(name=OTHER_ORGANIZATION, kind="consultancy")
    session.add_all([own, other])
    session.flush()
    leads = [
        Lead(
            channel="leading_fund",
            recommender_id=own.id,
            identity="name:西湖新星",
            name="西湖新星科技有限公司",
            region_code="330106",
            tracks=["ai"],
            submitted={"name": "西湖新星科技有限公司"},
            submitted_on=D("2025-01-10"),
            recorded_by="test",
        ),
        Lead(
            channel="third_party",
            recommender_id=other.id,
            identity="name:鄞州新星",
            name="鄞州新星材料有限公司",
            region_code="330212",
            tracks=["advanced_materials"],
            submitted={"name": "鄞州新星材料有限公司"},
            submitted_on=D("2025-02-10"),
            recorded_by="test",
        ),
    ]
    session.add_all(leads)
    session.commit()
    return Dataset(own_lead=leads[0].id, other_lead=leads[1].id, snapshot_id=snapshot.id)


def create_users(session: Session, roles: Sequence[Role] = ROLES) -> dict[Role, User]:
    """One user per role (user name = role value, password :data:`PASSWORD`); committed."""
    out: dict[Role, User] = {}
    for role in roles:
        out[role] = users_service.create(
            session,
            username=role.value,
            password=PASSWORD,
            role=role.value,
            actor=Actor("test", "cli", "local"),
            **ROLE_SCOPES[role],
        )
    session.commit()
    return out


def audit_entries(session: Session, **where: Any) -> list[AuditEntry]:
    """Audit rows (oldest first) whose columns equal ``where``; ends the read transaction."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    rows = list(session.scalars(query))
    session.commit()
    return rows


# ---- HTTP ------------------------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no csrf_token field"
    return found.group(1)


def page_login(
    client: TestClient, username: str, password: str = PASSWORD, next: str = "/"
) -> httpx.Response:
    """Log in through the login form (GET for the CSRF token, then POST); the client keeps the cookie."""
    form = client.get("/login")
    assert form.status_code == 200
    response: httpx.Response = client.post(
        "/login",
        data={"csrf_token": csrf_of(form.text), "username": username, "password": password, "next": next},
    )
    return response


def api_token(client: TestClient, username: str, password: str) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{API}/auth/token", data={"username": username, "password": password}
    )
    return response


# ---- routes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteInfo:
    path: str  # the path template, e.g. /api/v1/enterprises/{enterprise_id}
    methods: frozenset[str]  # empty for a mount
    endpoint: Any
    route: Any  # the route object (has ``path_regex``)
    is_mount: bool

    @property
    def params(self) -> list[str]:
        return re.findall(r"{([^}:]+)(?::[^}]*)?}", self.path)

    def concrete(self, value: str = "1") -> str:
        """The path with every parameter replaced by ``value``."""
        return re.sub(r"{[^}]+}", value, self.path)

    def matches(self, path: str) -> bool:
        regex = getattr(self.route, "path_regex", None)
        return bool(regex is not None and regex.match(path))


def flat_routes(app: Any) -> list[RouteInfo]:
    """Every route of ``app``, including those of included routers (FastAPI ≥ 0.16x keeps included routers
    as lazy ``_IncludedRouter`` entries in ``app.routes``; ``iter_route_contexts`` flattens them)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    contexts: list[Any] = list(iterate(app.routes)) if iterate is not None else list(app.routes)
    out = []
    for r in contexts:
        path = getattr(r, "path", None)
        if path is None:
            raise AssertionError(f"a route without a path: {r!r}")
        methods = getattr(r, "methods", None)
        is_mount = type(getattr(r, "original_route", r)).__name__ == "Mount"
        out.append(
            RouteInfo(
                path=path,
                methods=frozenset(methods or ()),
                endpoint=getattr(r, "endpoint", None),
                route=r,
                is_mount=is_mount,
            )
        )
    return out


def page_routes(app: Any) -> list[RouteInfo]:
    return [r for r in flat_routes(app) if not r.path.startswith("/api/") and not r.is_mount]


def has_page(app: Any, path: str) -> bool:
    """Whether a GET page route answers ``path`` (pages are being written while these tests run)."""
    return any("GET" in r.methods and r.matches(path) for r in page_routes(app))


# ---- fixtures --------------------------------------------------------------------------------------------


_hashes: dict[str, str] = {}
_verified: dict[tuple[str, str], bool] = {}


def _cached_hash(password: str) -> str:
    if password not in _hashes:
        _hashes[password] = passwords.hash_password(password)
    return _hashes[password]


def _cached_verify(password_hash: str, password: str) -> bool:
    key = (password_hash, password)
    if key not in _verified:
        _verified[key] = passwords.verify_password(password_hash, password)
    return _verified[key]


def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id costs about half a second per hash or check on this machine: the user service reuses each
    (real) hash and check result once computed, for the whole test session."""
    monkeypatch.setattr(users_service, "hash_password", _cached_hash)
    monkeypatch.setattr(users_service, "verify_password", _cached_verify)


@pytest.fixture
def web_settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The test database's settings, with failed logins costing no delay (and cached password hashing)."""
    fast_passwords(monkeypatch)
    monkeypatch.setenv("QILIN_LOGIN_FAILURE_DELAY_SECONDS", "0")
    monkeypatch.delenv("QILIN_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("QILIN_SECRET_KEY", raising=False)
    qilin_config.get_settings.cache_clear()
    # Principals are cached for a few seconds per (database, user id, token version); user ids start again at
    # 1 in every test's emptied database, so a principal of the previous test must not answer for this one.
    security.forget_principals()
    yield qilin_config.get_settings()
    security.forget_principals()
    qilin_config.get_settings.cache_clear()


@pytest.fixture
def web_app(web_settings: Settings) -> FastAPI:
    from qilin.app import create_app

    return create_app(web_settings)


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def dataset(session: Session, web_settings: Settings) -> Dataset:
    return build_dataset(session)


@pytest.fixture
def role_users(session: Session, dataset: Dataset) -> dict[Role, User]:
    return create_users(session)


@pytest.fixture
def tokens(role_users: dict[Role, User], web_settings: Settings) -> dict[Role, str]:
    return {role: users_service.issue_token(user, settings=web_settings) for role, user in role_users.items()}
