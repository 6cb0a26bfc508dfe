"""Web security: authentication by default on every route (a walk over the whole app), the role × endpoint
permission matrix with region scopes, escaping of hostile input, logins (lock-out, CSRF, cookies, revoked
and forged tokens) and the refusal of insecure production settings. Database tests run on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from qilin import config as qilin_config
from qilin.app import STATIC_DIR, create_app
from qilin.auth import service as users_service
from qilin.auth.models import User
from qilin.auth.roles import Role
from qilin.config import Settings
from qilin.discovery.leads_models import Lead, Recommender
from qilin.registry.models import Enterprise
from qilin.web import security
from qilin.web.security import is_public
from webkit import (
    API,
    OWN_ORGANIZATION,
    PASSWORD,
    ROLES,
    WEST,
    XSS_IMG,
    XSS_SCRIPT,
    YINZHOU,
    YUHANG,
    Dataset,
    TestClient,
    api_token,
    bearer,
    client,
    create_users,
    csrf_of,
    dataset,
    flat_routes,
    has_page,
    page_login,
    role_users,
    tokens,
    web_app,
    web_settings,
)

__all__ = ["client", "dataset", "role_users", "tokens", "web_app", "web_settings"]  # fixtures

# ---- authentication by default: a walk over every route ---------------------------------------------------

# Routes marked @public in the code: a new one needs a conscious change here.
MARKED_PUBLIC = {
    "GET /login",
    "POST /login",
    f"POST {API}/auth/token",
}
# Routes FastAPI or the app add outside the APIRoute machinery, so the app-wide authentication dependency
# does not apply to them: the API description, its documentation page and the static files.
FRAMEWORK_PUBLIC = {
    f"GET {API}/openapi.json",
    f"HEAD {API}/openapi.json",
    f"GET {API}/docs",  # Swagger UI from /static/vendor: static HTML, no data
    f"HEAD {API}/docs",
    "MOUNT /static",
}


def _keys(route: Any) -> set[str]:
    if route.is_mount:
        return {f"MOUNT {route.path}"}
    return {f"{method} {route.path}" for method in route.methods}


def _original(route: Any) -> Any:
    return getattr(route.route, "original_route", route.route)


def test_every_route_needs_credentials_except_an_explicit_allow_list(
    web_app: FastAPI, client: TestClient
) -> None:
    routes = flat_routes(web_app)
    marked = set().union(*(_keys(r) for r in routes if is_public(r.endpoint)))
    # Not an APIRoute: the app-level dependency `authenticate` never runs for it.
    unguarded = set().union(*(_keys(r) for r in routes if not isinstance(_original(r), APIRoute)))
    assert marked == MARKED_PUBLIC
    assert unguarded == FRAMEWORK_PUBLIC

    checked_api, checked_pages = 0, 0
    for route in routes:
        keys = _keys(route)
        if keys & (MARKED_PUBLIC | FRAMEWORK_PUBLIC):
            assert keys <= MARKED_PUBLIC | FRAMEWORK_PUBLIC
            continue
        path = route.concrete("1")
        for method in sorted(route.methods):
            response = client.request(method, path)
            where = f"{method} {route.path}"
            if path.startswith("/api/"):
                assert response.status_code == 401, where
                assert response.headers.get("www-authenticate") == "Bearer", where
                assert response.headers["content-type"].startswith("application/json"), where
                checked_api += 1
            else:
                assert response.status_code == 303, where
                assert response.headers["location"] == f"/login?next={quote(path, safe='/')}", where
                checked_pages += 1
    # The walk really walked: all of the API, and at least the cockpit and logout.
    assert checked_api >= 17 and checked_pages >= 2


def test_framework_routes_answer_without_credentials_and_hold_no_data(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
    assert client.get(f"{API}/docs").status_code == 200
    asset = next(p for p in sorted(STATIC_DIR.rglob("*")) if p.is_file())
    served = client.get("/static/" + asset.relative_to(STATIC_DIR).as_posix())
    assert served.status_code == 200 and served.content == asset.read_bytes()
    assert client.get("/static/%2e%2e/%2e%2e/config.py").status_code == 404


def test_the_token_endpoint_is_the_only_api_route_answering_without_a_token(client: TestClient) -> None:
    # It answers 422 (missing form fields), not 401: it needs no token.
    assert client.post(f"{API}/auth/token").status_code == 422
    # Everything else: 401 whatever the wrong credentials.
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token abc"},
    ):
        response = client.get(f"{API}/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_api_ignores_session_cookies_and_pages_ignore_bearer_tokens(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    # A page client holding a valid session cookie is still refused by the API (no CSRF exposure).
    assert page_login(client, "province_admin").status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.get(f"{API}/auth/me").status_code == 401
    # A bearer token does not open pages.
    with TestClient(client.app, follow_redirects=False) as fresh:
        response = fresh.get("/", headers=bearer(tokens[Role.province_admin]))
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/"
        assert fresh.get(f"{API}/auth/me", headers=bearer(tokens[Role.province_admin])).status_code == 200


def test_a_page_redirect_keeps_the_query_and_the_login_never_redirects_off_site(
    client: TestClient, role_users: dict[Role, User]
) -> None:
    response = client.get("/?city=330100")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote("/?city=330100", safe="/")
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        with TestClient(client.app, follow_redirects=False) as fresh:
            login = page_login(fresh, "province_admin", next=hostile)
        assert login.status_code == 303 and login.headers["location"] == "/", hostile
    login = page_login(client, "province_admin", next="/?city=330100")
    assert login.status_code == 303 and login.headers["location"] == "/?city=330100"


# ---- the permission matrix --------------------------------------------------------------------------------

ROLE_COLUMNS = (
    Role.province_admin,
    Role.province_viewer,
    Role.department,
    Role.city_officer,
    Role.county_officer,
    Role.recommender,
    Role.enterprise,
)
assert set(ROLE_COLUMNS) == set(ROLES) == set(Role)

# Derived from auth/roles.py and auth/scope.py: a missing permission answers 403 before any look-up; a record
# outside the scope answers 404 like a missing one; valuations need `financial` (department: 403); request
# validation (422) comes after the permission check. {west} 330106 is in every regional scope, {yuhang}
# 330110 only in the city's, {yinzhou} 330212 in no regional scope. The lead {own} was recommended by the
# recommender user's organisation in 330106, {other} by another one in 330212.
PATCH_OK = {"category": "矩阵测试"}
MATRIX: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    # method  path                                  body            admin view dept city cnty rec  ent
    ("GET", "/auth/me", None, (200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/enterprises", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises?region=abc", None, (422, 422, 422, 422, 422, 403, 422)),
    ("GET", "/enterprises/{west}", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yuhang}", None, (200, 200, 200, 200, 404, 403, 404)),
    ("GET", "/enterprises/{yinzhou}", None, (200, 200, 200, 404, 404, 403, 404)),
    ("GET", "/enterprises/no-such-id", None, (404, 404, 404, 404, 404, 403, 404)),
    ("PATCH", "/enterprises/{west}", PATCH_OK, (200, 403, 403, 200, 200, 403, 200)),
    ("PATCH", "/enterprises/{yuhang}", PATCH_OK, (200, 403, 403, 200, 404, 403, 404)),
    ("PATCH", "/enterprises/{yinzhou}", PATCH_OK, (200, 403, 403, 404, 404, 403, 404)),
    ("PATCH", "/enterprises/no-such-id", PATCH_OK, (404, 403, 403, 404, 404, 403, 404)),
    ("PATCH", "/enterprises/{west}", {"region_code": "999999"}, (422, 403, 403, 422, 422, 403, 403)),
    ("PATCH", "/enterprises/{west}", {"bogus": 1}, (422, 403, 403, 422, 422, 403, 422)),
    ("GET", "/enterprises/{west}/rounds", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yuhang}/rounds", None, (200, 200, 200, 200, 404, 403, 404)),
    ("GET", "/enterprises/{yinzhou}/rounds", None, (200, 200, 200, 404, 404, 403, 404)),
    ("GET", "/enterprises/{west}/valuations", None, (200, 200, 403, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yuhang}/valuations", None, (200, 200, 403, 200, 404, 403, 404)),
    ("GET", "/enterprises/{yinzhou}/valuations", None, (200, 200, 403, 404, 404, 403, 404)),
    ("GET", "/enterprises/{west}/events", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yinzhou}/events", None, (200, 200, 200, 404, 404, 403, 404)),
    ("GET", "/enterprises/{west}/tier", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yuhang}/tier", None, (200, 200, 200, 200, 404, 403, 404)),
    ("GET", "/enterprises/{yinzhou}/tier", None, (200, 200, 200, 404, 404, 403, 404)),
    ("GET", "/enterprises/{west}/tier-history", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yinzhou}/tier-history", None, (200, 200, 200, 404, 404, 403, 404)),
    ("GET", "/enterprises/{west}/discovery", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/enterprises/{yinzhou}/discovery", None, (200, 200, 200, 404, 404, 403, 404)),
    ("GET", "/tiers/summary", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/tiers/snapshots", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/standards", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/discovery/scores", None, (200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/discovery/signals", None, (200, 200, 403, 200, 200, 403, 200)),
    ("GET", "/leads", None, (200, 200, 200, 200, 200, 200, 403)),
    ("GET", "/leads/{own}", None, (200, 200, 200, 200, 200, 200, 403)),
    ("GET", "/leads/{other}", None, (200, 200, 200, 404, 404, 404, 403)),
    ("GET", "/leads/999999", None, (404, 404, 404, 404, 404, 404, 403)),
    ("GET", "/leads/not-a-number", None, (422, 422, 422, 422, 422, 422, 403)),
    # new → accepted is not a move the workflow allows: 422 once the role may process and sees the lead
    ("POST", "/leads/{own}/transitions", {"to_state": "accepted"}, (422, 403, 403, 422, 422, 403, 403)),
    ("POST", "/leads/{other}/transitions", {"to_state": "accepted"}, (422, 403, 403, 404, 404, 403, 403)),
    ("POST", "/leads/{own}/transitions", {"to_state": "done"}, (422, 403, 403, 422, 422, 403, 403)),
    ("GET", "/audit", None, (200, 403, 403, 403, 403, 403, 403)),
]


def _path(template: str, data: Dataset) -> str:
    return API + template.format(
        west=WEST, yuhang=YUHANG, yinzhou=YINZHOU, own=data.own_lead, other=data.other_lead
    )


def test_every_role_gets_exactly_the_expected_status_on_every_endpoint(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    mismatches = []
    for method, template, body, expected in MATRIX:
        for role, status in zip(ROLE_COLUMNS, expected, strict=True):
            response = client.request(
                method, _path(template, dataset), headers=bearer(tokens[role]), json=body
            )
            if response.status_code != status:
                mismatches.append(
                    f"{role.value:16} {method} {template} {body or ''}: {response.status_code} ≠ {status}"
                )
            if response.status_code == 422:
                assert isinstance(response.json()["detail"], str)
    assert not mismatches, "\n".join(mismatches)


def test_the_matrix_covers_every_api_route(web_app: FastAPI) -> None:
    covered = {(method, template.split("?")[0]) for method, template, _, _ in MATRIX}
    for route in flat_routes(web_app):
        if not route.path.startswith(API) or not isinstance(_original(route), APIRoute):
            continue
        if is_public(route.endpoint):
            continue
        for method in route.methods:
            generic = route.path.removeprefix(API)
            assert any(m == method and _same_shape(t, generic) for m, t in covered), (
                f"{method} {route.path} is missing from MATRIX"
            )


def _same_shape(template: str, route_path: str) -> bool:
    a, b = template.strip("/").split("/"), route_path.strip("/").split("/")
    return len(a) == len(b) and all(x == y or y.startswith("{") for x, y in zip(a, b, strict=True))


def _get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(API + path, headers=bearer(token), params=params)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def test_lists_hold_exactly_the_scope(client: TestClient, dataset: Dataset, tokens: dict[Role, str]) -> None:
    everything = {WEST, YUHANG, YINZHOU}
    expected = {
        Role.province_admin: everything,
        Role.province_viewer: everything,
        Role.department: everything,
        Role.city_officer: {WEST, YUHANG},
        Role.county_officer: {WEST},
        Role.enterprise: {WEST},
    }
    for role, ids in expected.items():
        page = _get(client, tokens[role], "/enterprises", page_size=100)
        assert {item["id"] for item in page["items"]} == ids, role
        assert page["total"] == len(ids), role
        scores = _get(client, tokens[role], "/discovery/scores")
        assert {item["enterprise_id"] for item in scores["items"]} == ids, role
        assert scores["total"] == len(ids), role
        # Asking for a region outside the scope narrows, never widens.
        ningbo = _get(client, tokens[role], "/enterprises", region="330200")
        assert {item["id"] for item in ningbo["items"]} == ids & {YINZHOU}, role
    county = _get(client, tokens[Role.county_officer], "/enterprises")
    assert all(item["region_code"] == "330106" for item in county["items"])

    # Tier counts by city, inside the scope.
    def tiered(role: Role) -> dict[str, int]:
        by_city = _get(client, tokens[role], "/tiers/summary")["by_city"]
        return {city: sum(counts.values()) for city, counts in by_city.items()}

    assert tiered(Role.province_admin) == {"330100": 2, "330200": 1}
    assert tiered(Role.city_officer) == {"330100": 2}
    assert tiered(Role.county_officer) == {"330100": 1}

    # Leads: a recommender sees its own organisation's only; regional roles their region's.
    def lead_ids(role: Role) -> set[int]:
        body = _get(client, tokens[role], "/leads")
        assert body["total"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    both = {dataset.own_lead, dataset.other_lead}
    assert lead_ids(Role.province_admin) == both
    assert lead_ids(Role.department) == both
    assert lead_ids(Role.city_officer) == {dataset.own_lead}
    assert lead_ids(Role.county_officer) == {dataset.own_lead}
    assert lead_ids(Role.recommender) == {dataset.own_lead}
    assert _get(client, tokens[Role.recommender], f"/leads/{dataset.own_lead}")["recommender"] == "西湖创投"


def test_figures_are_hidden_without_the_financial_permission(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    # The department reads the registry without `financial`.
    rounds = _get(client, tokens[Role.department], f"/enterprises/{WEST}/rounds")
    assert rounds, "the enterprise has a round"
    for r in rounds:
        assert r["amount"] is None and r["post_money_valuation"] is None
        assert r["amount_range"] is None and r["amount_text"] is None
    detail = _get(client, tokens[Role.department], f"/enterprises/{WEST}")
    assert detail["financial_hidden"] is True and detail["latest_valuation"] is None
    discovery = _get(client, tokens[Role.department], f"/enterprises/{WEST}/discovery")
    assert discovery["signals"] is None and discovery["score"]["rank"] == 1
    assert discovery["score"]["reasons"] is None and discovery["score"]["baseline_ranks"] is None
    # the watch-list: reasons quote amounts and the baseline places order by them, so neither is shown
    watch = _get(client, tokens[Role.department], "/discovery/scores")["items"]
    assert watch and all(i["reasons"] is None and i["baseline_ranks"] is None for i in watch)
    assert [i["rank"] for i in watch] == [1, 2, 3]
    hidden_text = json.dumps(_get(client, tokens[Role.department], f"/enterprises/{WEST}/tier"))
    assert "2000000000" not in hidden_text and "20亿" not in hidden_text

    # The county officer has it: the same records carry the exact amounts.
    rounds = _get(client, tokens[Role.county_officer], f"/enterprises/{WEST}/rounds")
    assert rounds[0]["amount"]["amount"] == "123456789.01"
    detail = _get(client, tokens[Role.county_officer], f"/enterprises/{WEST}")
    assert detail["financial_hidden"] is False
    assert detail["latest_valuation"]["amount"] == "2000000000.5"
    assert _get(client, tokens[Role.county_officer], f"/enterprises/{WEST}/discovery")["signals"] is not None
    watch = _get(client, tokens[Role.province_viewer], "/discovery/scores")["items"]
    assert [i["reasons"] for i in watch] == [["测试"]] * 3
    assert watch[0]["baseline_ranks"] == {"total_raised": 2, "raised_2y": 1, "latest_round": None}


# ---- hostile input is data, never markup ------------------------------------------------------------------

XSS_ID = "zj-xss"


def test_hostile_names_and_queries_come_back_as_json_or_escaped_html(
    client: TestClient, session: Session, dataset: Dataset, role_users: dict[Role, User]
) -> None:
    session.add(Enterprise(id=XSS_ID, name=XSS_SCRIPT, name_en=XSS_IMG, country="CN", region_code="330106"))
    own = session.scalar(select(Recommender.id).where(Recommender.name == OWN_ORGANIZATION))
    assert own is not None
    session.add(
        Lead(
            channel="third_party",
            recommender_id=own,
            identity="name:xss",
            name=XSS_SCRIPT,
            region_code="330106",
            tracks=[XSS_IMG],
            submitted={"name": XSS_SCRIPT},
            submitted_on=dt.date(2025, 3, 1),
            recorded_by=XSS_SCRIPT,
        )
    )
    session.commit()
    token = users_service.issue_token(role_users[Role.province_admin], settings=qilin_config.get_settings())
    # A correction with a hostile value: it reaches the audit log (and its page) as well.
    corrected = client.patch(f"{API}/enterprises/{XSS_ID}", headers=bearer(token), json={"category": XSS_IMG})
    assert corrected.status_code == 200 and corrected.json()["category"] == XSS_IMG

    # The API answers JSON, with the hostile text as a plain string value.
    for path, params in (
        (f"/enterprises/{XSS_ID}", {}),
        ("/enterprises", {"q": XSS_IMG}),
        ("/enterprises", {"q": XSS_SCRIPT}),
        ("/enterprises/" + quote(XSS_SCRIPT, safe=""), {}),  # 404, still JSON
    ):
        response = client.get(API + path, headers=bearer(token), params=params)
        assert response.headers["content-type"] == "application/json", path
        assert response.status_code in (200, 404), path
    found = client.get(f"{API}/enterprises", headers=bearer(token), params={"q": "<script>"}).json()
    assert [item["name"] for item in found["items"]] == [XSS_SCRIPT]
    assert client.get(f"{API}/enterprises/{XSS_ID}", headers=bearer(token)).json()["name_en"] == XSS_IMG

    # Pages: whatever exists of these, none holds the hostile markup unescaped. (path, must show it escaped)
    assert page_login(client, "province_admin").status_code == 303
    # (path, the escaped text the page must show, if it shows the hostile value)
    script, img = "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"
    candidates: list[tuple[str, tuple[str, ...]]] = [
        ("/login?next=" + quote("/" + XSS_SCRIPT), (script,)),
        ("/", ()),
        ("/?city=" + quote(XSS_SCRIPT), ()),
        ("/enterprises", (script,)),
        ("/enterprises?q=" + quote(XSS_IMG), (img,)),
        (f"/enterprises/{XSS_ID}", (script, img)),
        ("/discovery", ()),
        ("/tiers", ()),
        ("/standards", ()),
        ("/leads", (script,)),
        ("/audit", ()),
    ]
    pages = [(path, shown) for path, shown in candidates if has_page(client.app, path.split("?")[0])]
    assert [p for p, _ in pages][:3] == [p for p, _ in candidates][:3]  # the login page and the cockpit exist
    for path, shown in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), path
        html = response.text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        for escaped in shown:
            assert escaped in html, (path, escaped)

    # A missing page does not echo its path. (It answers with FastAPI's JSON 404 today, not the HTML error
    # page: the app's handler is registered for FastAPI's HTTPException, not Starlette's.)
    missing = client.get("/no-such-page/" + quote(XSS_SCRIPT))
    assert missing.status_code == 404
    assert "<script>" not in missing.text and "alert" not in missing.text

    # A failed login shows the typed user name, escaped.
    with TestClient(client.app, follow_redirects=False) as fresh:
        form = fresh.get("/login")
        failed = fresh.post(
            "/login",
            data={"csrf_token": csrf_of(form.text), "username": XSS_SCRIPT, "password": "wrong-password"},
        )
    assert failed.status_code == 401
    assert "<script>alert" not in failed.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in failed.text


# ---- logins, tokens, cookies ------------------------------------------------------------------------------


def _failed_logins(session: Session, username: str) -> int:
    user = users_service.get_by_username(session, username=username)
    assert user is not None
    session.refresh(user)
    count = user.failed_logins
    session.commit()
    return count


def test_failed_logins_count_and_lock_the_account(
    client: TestClient, session: Session, web_settings: Settings
) -> None:
    create_users(session, [Role.province_viewer, Role.department])
    limit = web_settings.login_max_failures
    assert limit >= 2

    wrong = api_token(client, "province_viewer", "wrong-password")
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert _failed_logins(session, "province_viewer") == 1
    # An unknown user gets the very same answer (no user enumeration).
    unknown = api_token(client, "nobody", "wrong-password")
    assert unknown.status_code == 401 and unknown.json() == wrong.json()
    # ... and so does a user name with a NUL (PostgreSQL refused to compare it: a 500)
    assert api_token(client, "province\x00viewer", "wrong-password").json() == wrong.json()

    for n in range(2, limit):
        assert api_token(client, "province_viewer", "wrong-password").status_code == 401
        assert _failed_logins(session, "province_viewer") == n
    locking = api_token(client, "province_viewer", "wrong-password")
    assert locking.status_code == 429 and "锁定" in locking.json()["detail"]
    # Locked: the right password is refused too, through the API and the login page.
    assert api_token(client, "province_viewer", PASSWORD).status_code == 429
    assert page_login(client, "province_viewer").status_code == 401
    # The other account is unaffected.
    assert api_token(client, "department", PASSWORD).status_code == 200


def test_a_successful_login_resets_the_failure_count(
    client: TestClient, session: Session, web_settings: Settings
) -> None:
    create_users(session, [Role.department])
    for _ in range(web_settings.login_max_failures - 1):
        assert api_token(client, "department", "wrong-password").status_code == 401
    ok = api_token(client, "department", PASSWORD)
    assert ok.status_code == 200
    assert _failed_logins(session, "department") == 0
    # One more failure is the first of a new series, not the one that locks.
    assert api_token(client, "department", "wrong-password").status_code == 401
    assert _failed_logins(session, "department") == 1
    assert api_token(client, "department", PASSWORD).status_code == 200


def test_forged_revoked_and_inactive_tokens_are_refused(
    client: TestClient, session: Session, web_settings: Settings
) -> None:
    user = create_users(session, [Role.department])[Role.department]
    good = users_service.issue_token(user, settings=web_settings)
    assert client.get(f"{API}/auth/me", headers=bearer(good)).json()["username"] == "department"

    other_key = Settings(secret_key="another-secret-key-of-forty-characters!!")
    forged = users_service.issue_token(user, settings=other_key)
    assert client.get(f"{API}/auth/me", headers=bearer(forged)).status_code == 401
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert client.get(f"{API}/auth/me", headers=bearer(tampered)).status_code == 401

    # Revoking: raising token_version refuses every token issued before, once the short principal cache
    # (security.PRINCIPAL_CACHE_SECONDS) has let go of it.
    assert security.PRINCIPAL_CACHE_SECONDS <= 5
    session.execute(update(User).where(User.id == user.id).values(token_version=User.token_version + 1))
    session.commit()
    security.forget_principals()
    assert client.get(f"{API}/auth/me", headers=bearer(good)).status_code == 401
    session.refresh(user)
    renewed = users_service.issue_token(user, settings=web_settings)
    assert client.get(f"{API}/auth/me", headers=bearer(renewed)).status_code == 200

    session.execute(update(User).where(User.id == user.id).values(active=False))
    session.commit()
    security.forget_principals()
    assert client.get(f"{API}/auth/me", headers=bearer(renewed)).status_code == 401
    assert api_token(client, "department", PASSWORD).status_code == 401


def test_login_forms_need_the_session_csrf_token(client: TestClient, session: Session) -> None:
    create_users(session, [Role.department])
    form = client.get("/login")
    token = csrf_of(form.text)
    credentials = {"username": "department", "password": PASSWORD}
    assert client.post("/login", data=credentials).status_code == 403
    assert client.post("/login", data={**credentials, "csrf_token": "forged"}).status_code == 403
    # A token from another session is no good either.
    with TestClient(client.app, follow_redirects=False) as other:
        assert other.post("/login", data={**credentials, "csrf_token": token}).status_code == 403
        own = csrf_of(other.get("/login").text)
        assert own != token
        assert other.post("/login", data={**credentials, "csrf_token": token}).status_code == 403
    assert client.get("/").status_code == 303  # still logged out
    ok = client.post("/login", data={**credentials, "csrf_token": token})
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert client.get("/").status_code == 200
    # Logging out also needs the token; afterwards pages redirect to the login again.
    assert client.post("/logout").status_code == 403
    page = client.get("/")
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert client.get("/").status_code == 303


def _session_cookie(response: httpx.Response) -> str:
    cookies = [v for v in response.headers.get_list("set-cookie") if v.startswith("qilin_session=")]
    assert len(cookies) == 1, response.headers.get_list("set-cookie")
    return cookies[0].lower()


def test_session_cookie_flags_and_security_headers(
    client: TestClient, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = _session_cookie(client.get("/login"))
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.replace("samesite", "")

    for response in (client.get("/login"), client.get(f"{API}/auth/me"), client.get("/")):
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in headers

    monkeypatch.setenv("QILIN_COOKIE_SECURE", "true")
    qilin_config.get_settings.cache_clear()
    secure_settings = qilin_config.get_settings()
    assert secure_settings.cookie_secure is True
    with TestClient(
        create_app(secure_settings), base_url="https://testserver", follow_redirects=False
    ) as https:
        response = https.get("/login")
        cookie = _session_cookie(response)
        assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=")


# ---- production settings ----------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("QILIN_ENV", "QILIN_SECRET_KEY", "QILIN_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    qilin_config.get_settings.cache_clear()
    yield
    qilin_config.get_settings.cache_clear()


SECRET_40 = "s" * 20 + "0123456789abcdefghij"


def test_production_refuses_default_or_short_secrets_and_insecure_cookies(clean_env: Any) -> None:
    with pytest.raises(ValidationError, match="QILIN_SECRET_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="QILIN_SECRET_KEY"):
        Settings(env="production", secret_key="too-short-secret", cookie_secure=True)
    with pytest.raises(ValidationError, match="QILIN_SECRET_KEY"):
        Settings(env="production", secret_key=qilin_config.DEVELOPMENT_SECRET_KEY, cookie_secure=True)
    with pytest.raises(ValidationError, match="QILIN_COOKIE_SECURE"):
        Settings(env="production", secret_key=SECRET_40)
    ok = Settings(env="production", secret_key=SECRET_40, cookie_secure=True)
    assert ok.secret_key.get_secret_value() == SECRET_40
    assert SECRET_40 not in repr(ok)
    # Development and tests keep working with the built-in key.
    assert Settings(env="development").cookie_secure is False


def test_qilin_serve_refuses_insecure_production_settings(
    clean_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qilin.cli

    served: list[tuple[str, int, int]] = []
    # Never start a real server, even if the check regressed.
    monkeypatch.setattr(qilin.cli, "_serve", lambda host, port, workers: served.append((host, port, workers)))
    monkeypatch.setattr(qilin.cli, "require_migrated", lambda: None)
    runner = CliRunner()

    def serve(**env: str | None) -> Any:
        return runner.invoke(
            qilin.cli.app, ["serve"], env={"COLUMNS": "400", "QILIN_ENV": "production", **env}
        )

    no_secret = serve()
    assert no_secret.exit_code == 2
    assert "生产环境必须设置至少32个字符的 QILIN_SECRET_KEY" in no_secret.output
    insecure_cookie = serve(QILIN_SECRET_KEY=SECRET_40)
    assert insecure_cookie.exit_code == 2
    assert "生产环境必须设置 QILIN_COOKIE_SECURE=true" in insecure_cookie.output
    assert SECRET_40 not in insecure_cookie.output
    assert served == []
    # The control: secure settings pass the check and reach the server.
    secure = serve(QILIN_SECRET_KEY=SECRET_40, QILIN_COOKIE_SECURE="true")
    assert secure.exit_code == 0, secure.output
    assert served == [("127.0.0.1", 8000, 1)]


def test_hostile_characters_and_out_of_range_values_get_a_clear_4xx(
    client: TestClient, session: Session, dataset: Dataset, role_users: dict[Role, User]
) -> None:
    """Found by fuzzing: each of these once gave a 500 (on PostgreSQL, or on both databases), or stored a
    name that broke every later Excel export."""
    token = users_service.issue_token(role_users[Role.province_admin], settings=qilin_config.get_settings())
    auth = bearer(token)
    # A NUL anywhere in the URL is refused in one place, before any query (PostgreSQL cannot hold one).
    for path in (f"{API}/enterprises?q=%00", f"{API}/enterprises?track=a%00b", f"{API}/enterprises/{WEST}%00",
                 f"{API}/audit?actor=%00", "/enterprises?q=x%00"):  # fmt: skip
        response = client.get(path, headers=auth)
        assert response.status_code == 400, path
        assert "空字符" in response.json()["detail"] and "NUL" in response.json()["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"
    # Control characters and names that show nothing are refused; an empty category clears it.
    for body in ({"name": "数梦\u0001工场"}, {"name": "a\u0000b"}, {"category": "\u0000"}):
        response = client.patch(f"{API}/enterprises/{WEST}", headers=auth, json=body)
        assert response.status_code == 422, body
        assert "控制字符" in response.text and "control character" in response.text
    for body in ({"name": "\u200b"}, {"name": "\u3000 "}):
        assert client.patch(f"{API}/enterprises/{WEST}", headers=auth, json=body).status_code == 422, body
    cleared = client.patch(f"{API}/enterprises/{WEST}", headers=auth, json={"category": ""})
    assert cleared.status_code == 200 and cleared.json()["category"] is None
    # A region outside any prefecture city leaves no stale city behind.
    moved = client.patch(f"{API}/enterprises/{WEST}", headers=auth, json={"region_code": "330000"})
    assert moved.status_code == 200 and moved.json()["city"] is None
    # The last representable day and ids beyond the database's integers.
    assert client.get(f"{API}/audit", headers=auth, params={"until": "9999-12-31"}).status_code == 200
    for lead_id in ("99999999999999999999", "2147483648", "0"):
        assert client.get(f"{API}/leads/{lead_id}", headers=auth).status_code == 422, lead_id
    assert client.get(f"{API}/leads/{dataset.own_lead}", headers=auth).status_code == 200
    # an unknown standard is named as such, not as "no snapshot yet"
    unknown = client.get(f"{API}/tiers/summary", headers=auth, params={"standard": "bogus"})
    assert unknown.status_code == 422 and "未知的标准" in unknown.json()["detail"]
