"""The FastAPI application factory (``qilin serve`` runs ``create_app()``)."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qilin.audit import hooks as _audit_hooks  # noqa: F401  (workflow records into the audit log)
from qilin.common.messages import both, t
from qilin.config import Settings, get_settings
from qilin.web.security import LoginRequired, authenticate, forget_principals, is_api

log = logging.getLogger("qilin.web")

STATIC_DIR = Path(__file__).parent / "web" / "static"

# Pages use only the platform's own scripts and styles (ECharts is served from /static/vendor/).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Pure ASGI middleware adding security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RefuseNul:
    """Pure ASGI middleware refusing a request whose path or query holds a NUL character (``%00``):
    PostgreSQL cannot store or compare text with one, so it would fail deep in a query; SQLite would not.
    One place for every route, with a bilingual 400."""

    BODY = (
        '{"detail":"请求中含有空字符（%00），已拒绝 / the request contains a NUL character (%00)"}'.encode()
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = bytes(scope.get("query_string", b"")).lower()
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [(b"content-type", b"application/json; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": self.BODY})
                return
        await self.app(scope, receive, send)


API_DOCS_PATH = "/api/v1/docs"
API_DOCS_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>麒麟 Qilin API 文档</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


async def api_docs(request: Request) -> Response:
    """The API's browsable documentation: Swagger UI served from the platform itself (an air-gapped server
    reaches no CDN) under the same content security policy as every page. Like the OpenAPI description it
    reads, it holds no data: calling the API from it needs a token."""
    return HTMLResponse(API_DOCS_PAGE)


def _bilingual_detail(status: int, detail: Any) -> Any:
    """A framework's bare English detail ("Not Found", "Method Not Allowed") in both languages; a detail
    the application wrote itself is kept as it is."""
    if not isinstance(detail, str):
        return detail
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return detail
    if detail.strip().lower() not in (phrase.lower(), "not found"):
        return detail
    key = f"http.{status}" if status in (404, 405) else "http.other"
    return both(key, status=status, phrase=phrase)


def _error_page(request: Request, status: int, message: str) -> Response:
    from qilin.web.pages import render_error

    return render_error(request, status, message)


def _build_ahead(settings: Settings) -> None:
    """What the first view of a page would otherwise wait for, built beside the first requests: the names
    the enterprise list searches (0.6-0.7 s at 100,000 enterprises), the registry's name index of the lead
    pages (4.6 s) and the 梯度培育库 page's diff of the two latest snapshots (1.0-1.3 s). A failure (a
    database not migrated yet) is logged; the page builds its part then."""
    from qilin.db import get_engine
    from qilin.discovery.leads import build_suggestion_index
    from qilin.registry.search import load_names_ahead
    from qilin.tiers.service import build_latest_diff

    engine = get_engine(settings.database_url)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("the enterprise list's names for searching", lambda: load_names_ahead(engine)),
        ("the lead pages' name index", lambda: build_suggestion_index(engine)),
        ("the tier page's diff", lambda: build_latest_diff(engine, standard_id=settings.default_standard)),
    ]
    for what, step in steps:
        try:
            step()
        except Exception:
            log.exception("building %s ahead failed; the page builds it when first viewed", what)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    forget_principals()
    from qilin.auth.service import forget_address_failures

    forget_address_failures()
    from qilin.registry.api import forget_cached

    forget_cached()
    from qilin.audit.api import router as audit_api
    from qilin.auth.api import router as auth_api
    from qilin.discovery.api import router as discovery_api
    from qilin.registry.api import router as registry_api
    from qilin.tiers.api import router as tiers_api
    from qilin.web.pages import router as pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests run their database work in worker threads. A few threads, not anyio's default 40: under
        # load the rest wait their turn in order instead of sharing the GIL in slices, which would stretch
        # every request (the tail latency) without adding throughput on a CPU-bound server.
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        # Everything loaded at start-up (modules, reference tables, the model) lives as long as the process:
        # kept out of the garbage collector's full passes, which otherwise pause requests to re-walk it.
        gc.collect()
        gc.freeze()
        # A request allocates thousands of short-lived objects: collect the youngest generation less often.
        gc.set_threshold(50_000, 20, 100)
        if settings.env != "test":  # tests empty the database between cases: nothing to build ahead
            threading.Thread(
                target=_build_ahead, args=(settings,), name="qilin-build-ahead", daemon=True
            ).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="麒麟 Qilin API",
        version="1",
        description="独角兽企业发现与培育平台 JSON API。除 /api/v1/auth/token 外均需 Bearer 令牌。",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN, with an inline script: see api_docs
        redoc_url=None,
        dependencies=[Depends(authenticate)],
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="qilin_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(RefuseNul)  # inside SecurityHeaders, so its answer carries the headers too
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)

    for router in (auth_api, registry_api, tiers_api, discovery_api, audit_api):
        app.include_router(router, prefix="/api/v1")
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_route(API_DOCS_PATH, api_docs, methods=["GET", "HEAD"], include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    # Starlette's HTTPException too: unmatched paths (404) and wrong methods (405) raise that one.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = _bilingual_detail(exc.status_code, exc.detail)
        if is_api(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
        if getattr(request.state, "principal", None) is None:
            # An unmatched path ran no route, so no login was read: read it, for the page's navigation.
            with suppress(LoginRequired, StarletteHTTPException):
                await authenticate(request)
        return _error_page(request, exc.status_code, str(detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        from qilin.common import validation

        errors = list(exc.errors())
        if not is_api(request):
            summary = validation.page_summary(errors)
            message = f"{t('http.422')}：{summary}" if summary else t("http.422")
            return _error_page(request, 422, message)
        body = {"detail": both("http.422"), "errors": validation.api_errors(errors)}
        return JSONResponse(jsonable_encoder(body), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        message = "服务器内部错误，已记录 / internal error; it has been logged"
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=500)
        return HTMLResponse(message, status_code=500)

    return app
