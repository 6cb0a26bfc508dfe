"""Rendering pages: one Jinja2 environment (autoescaping on), the base context every page needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from qilin.auth.roles import ROLE_LABELS, Permission
from qilin.auth.scope import Principal
from qilin.web.messages import name, t
from qilin.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals["t"] = t
TEMPLATES.env.globals["name"] = name

# (path, message key, permission needed to see the entry)
NAV: tuple[tuple[str, str, Permission], ...] = (
    ("/", "nav.cockpit", Permission.read_registry),
    ("/enterprises", "nav.enterprises", Permission.read_registry),
    ("/tiers", "nav.tiers", Permission.read_registry),
    ("/discovery", "nav.discovery", Permission.read_registry),
    ("/standards", "nav.standards", Permission.read_registry),
    ("/leads", "nav.leads", Permission.read_leads),
    ("/audit", "nav.audit", Permission.read_audit),
)


def home_path(principal: Principal | None) -> str:
    """The first page of the navigation the user may open: the cockpit for registry readers, the leads
    for a recommender (who sees nothing of the registry)."""
    for href, _, permission in NAV:
        if principal is not None and principal.can(permission):
            return href
    return "/login"


def json_data(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


TEMPLATES.env.filters["json_data"] = json_data


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    base: dict[str, Any] = {
        "principal": principal,
        "role_label": ROLE_LABELS[principal.role] if principal else "",
        "nav": [(href, key) for href, key, perm in NAV if principal and principal.can(perm)],
        "home": home_path(principal),
        "active": request.url.path,
        "csrf_token": csrf_token(request),
        "financial": bool(principal and principal.can(Permission.financial)),
    }
    base.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, base, status_code=status_code)
