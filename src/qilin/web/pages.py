"""Page routes (server-rendered, zh-CN). Thin: parse the query, call services with the principal's scope,
render a template. Every page needs a session except the login page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from qilin.auth import service as users
from qilin.auth.errors import AuthError
from qilin.auth.scope import Principal
from qilin.config import get_settings
from qilin.reference import regions
from qilin.web import cockpit
from qilin.web.messages import t
from qilin.web.render import render
from qilin.web.security import (
    client_address,
    current_principal,
    db_session,
    public,
    verify_csrf,
)

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(db_session)]
Current = Annotated[Principal, Depends(current_principal)]


def render_error(request: Request, status: int, message: str) -> Response:
    if status == 404:
        message = t("error.404")
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): never an open redirect."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login", response_class=HTMLResponse)
@public
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
@public
def login(
    request: Request,
    session: DB,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        user = users.authenticate(
            session,
            username=username,
            password=password,
            settings=get_settings(),
            actor_address=client_address(request),
        )
    except AuthError as exc:
        context = {"next": _safe_next(next), "error": exc.zh, "username": username}
        return render(request, "login.html", context, status_code=401)
    # A fresh session on login (no fixation): new CSRF token, the user's id and token version.
    request.session.clear()
    request.session["uid"] = user.id
    request.session["v"] = user.token_version
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, principal: Current) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def cockpit_page(request: Request, principal: Current, session: DB, city: str | None = None) -> Response:
    data = cockpit.summary(session, principal=principal, city=city)
    return render(request, "cockpit.html", {"data": data})


@router.get("/geo/zhejiang-cities.geojson")
def zhejiang_cities(principal: Current) -> Response:
    return FileResponse(
        Path(regions.__file__).parent / "data" / "geo" / "zhejiang_cities_tianditu_cgcs2000.geojson",
        media_type="application/geo+json",
    )
