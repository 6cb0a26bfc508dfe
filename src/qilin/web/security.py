"""Authentication, declared once for every route.

Every route is authenticated unless its endpoint is marked :func:`public`. The app-level dependency
:func:`authenticate` resolves the :class:`~qilin.auth.scope.Principal` once per request:

- ``/api/…``: a bearer token (``Authorization: Bearer …`` from ``POST /api/v1/auth/token``); without a valid
  one the answer is 401. Cookies are ignored there, so the API needs no CSRF protection.
- pages: the signed session cookie (HttpOnly, SameSite=Lax, Secure in production); without one, a
  redirect to the login page. Forms carry a CSRF token checked by :func:`verify_csrf`.

Permissions are declared on the route with :func:`require` (403 when missing).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from qilin.auth import service as users
from qilin.auth.models import User
from qilin.auth.roles import Permission, Role
from qilin.auth.scope import Principal
from qilin.common.ttl import TtlCache
from qilin.config import Settings, get_settings
from qilin.db import get_engine, session_scope

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

PUBLIC_ATTRIBUTE = "__qilin_public__"


def public(endpoint: F) -> F:
    """Mark a route as answering without authentication (login, token, health, static assets)."""
    setattr(endpoint, PUBLIC_ATTRIBUTE, True)
    return endpoint


def is_public(endpoint: Any) -> bool:
    return bool(getattr(endpoint, PUBLIC_ATTRIBUTE, False))


class LoginRequired(Exception):
    """A page asked for without a session: answered by a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def db_session() -> Iterator[Session]:
    """One transaction per request: committed at the end, rolled back on error."""
    with session_scope(get_engine()) as session:
        yield session


async def in_session(work: Callable[[Session], T]) -> T:
    """``work`` run with one transaction in the thread pool: a single hop for all of a request's database
    work. (A sync endpoint with the :func:`db_session` dependency hops to a thread three or four times —
    the session's start and end, the endpoint, the response's validation — and under load each hop waits
    its turn for a thread.)"""

    def run() -> T:
        with session_scope(get_engine()) as session:
            return work(session)

    return await run_in_threadpool(run)


def json_response(model: BaseModel) -> Response:
    """``model`` as the JSON answer. The route still declares it as ``response_model`` (for OpenAPI);
    returning a Response spares FastAPI validating again what was just built and validated."""
    return Response(model.model_dump_json(), media_type="application/json")


def settings_dep() -> Settings:
    return get_settings()


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        region_code=user.region_code,
        organization=user.organization,
        enterprise_id=user.enterprise_id,
    )


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


UNAUTHENTICATED = "未登录或令牌无效 / not authenticated or the token is invalid"


# Resolved principals, kept briefly so that a burst of API calls does not read the users table each time.
# A deactivated user or a revoked token (token_version raised) is refused at most this long afterwards.
PRINCIPAL_CACHE_SECONDS = 5.0
_principals: TtlCache[tuple[str, int, int], Principal] = TtlCache(seconds=PRINCIPAL_CACHE_SECONDS)


def _principal_key(user_id: int, version: int) -> tuple[str, int, int]:
    return get_settings().database_url, user_id, version


def _principal_for(user_id: int, version: int) -> Principal | None:
    """The user's principal read from the database (and cached), or None for a revoked token."""
    key = _principal_key(user_id, version)
    with session_scope(get_engine()) as session:
        user = users.get(session, user_id=user_id)
        if user is None or not user.active or user.token_version != version:
            _principals.pop(key)
            return None
        principal = principal_of(user)
    _principals.put(key, principal)
    return principal


def forget_principals() -> None:
    """Drop the cache (tests; after changing a user's role or revoking tokens in this process)."""
    _principals.clear()


async def _resolve(user_id: int, version: int) -> Principal | None:
    """The principal from the cache, or from the database in the thread pool (never blocking the loop)."""
    cached = _principals.get(_principal_key(user_id, version))
    if cached is not None:
        return cached
    return await run_in_threadpool(_principal_for, user_id, version)


# Dependencies that do no blocking work are ``async``: FastAPI runs a sync dependency in the thread pool,
# and those hops cost more than the checks themselves.
async def authenticate(request: Request) -> None:
    """App-wide dependency: sets ``request.state.principal`` or refuses the request."""
    endpoint = request.scope.get("endpoint")
    if endpoint is not None and is_public(endpoint):
        request.state.principal = None
        return
    settings = get_settings()
    principal: Principal | None = None
    if is_api(request):
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            ids = users.read_token(token.strip(), settings=settings)
            if ids is not None:
                principal = await _resolve(*ids)
        if principal is None:
            raise HTTPException(401, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
    else:
        uid, version = request.session.get("uid"), request.session.get("v")
        if isinstance(uid, int) and isinstance(version, int):
            principal = await _resolve(uid, version)
        if principal is None:
            request.session.pop("uid", None)
            raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    request.state.principal = principal


async def current_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # a public route asked for a principal: a programming error, refuse safely
        raise HTTPException(401, UNAUTHENTICATED)
    return principal


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A route dependency: the principal, if its role has ``permission``; 403 otherwise."""

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.can(permission):
            raise HTTPException(403, "无权执行此操作 / you are not allowed to do this")
        return principal

    check.__name__ = f"require_{permission.value}"
    return check


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use), put in every form as ``csrf_token``."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse a form post whose ``csrf_token`` does not match the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            403, "表单已过期或来源无效，请刷新后重试 / the form expired or is forged; reload it"
        )
