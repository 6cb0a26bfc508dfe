"""Page routes (server-rendered, zh-CN). Thin: parse the query, call services with the principal's scope,
render a template. Every page needs a session except the login page."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from qilin.audit.service import Actor, acting, record
from qilin.auth import service as users
from qilin.auth.errors import AuthError
from qilin.auth.roles import Permission, Role
from qilin.auth.scope import Principal
from qilin.common import validation
from qilin.common.dates import today
from qilin.common.messages import t as shared_t
from qilin.config import get_settings
from qilin.db import MAX_ID
from qilin.discovery import leads as leads_service
from qilin.discovery.ai_leads import MAX_TOP as AI_MAX_TOP
from qilin.discovery.ai_leads import push_watch_list
from qilin.discovery.api import latest_run, move_lead_in_scope
from qilin.discovery.runs import RunError
from qilin.reference import regions
from qilin.registry import schemas
from qilin.registry import service as registry_service
from qilin.tiers.explain import tier_name
from qilin.web import cockpit, enterprises, excel, views
from qilin.web.messages import WEB, both, t
from qilin.web.render import TEMPLATES, home_path, render
from qilin.web.security import (
    client_address,
    current_principal,
    db_session,
    public,
    require,
    verify_csrf,
)

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(db_session)]
Current = Annotated[Principal, Depends(current_principal)]
Reader = Annotated[Principal, Depends(require(Permission.read_registry))]
Writer = Annotated[Principal, Depends(require(Permission.write_registry))]
LeadReader = Annotated[Principal, Depends(require(Permission.read_leads))]
LeadProcessor = Annotated[Principal, Depends(require(Permission.process_leads))]
LeadSubmitter = Annotated[Principal, Depends(require(Permission.submit_leads))]
MAX_LEAD_FILE = 5 * 1024 * 1024  # bytes: a lead file is a list of firms, not a data dump
LeadId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
AuditReader = Annotated[Principal, Depends(require(Permission.read_audit))]
Page = Annotated[int, Query(ge=1, le=100_000)]
Text = Annotated[str | None, Query(max_length=100)]


def _path_segment(value: object) -> str:
    """A value as one URL path segment (ids in links: nothing in them can break out of the segment)."""
    return quote(str(value), safe="")


TEMPLATES.env.filters["segment"] = _path_segment


def render_error(request: Request, status: int, message: str) -> Response:
    if status == 404:
        message = t("error.404")
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


_EDIT_LABELS = {
    "name": "list.name",
    "name_en": "profile.name_en",
    "industry_code": "profile.industry",
    "category": "profile.category",
}


def _field_error(error: Any) -> str:
    """One of the edit form's validation errors in Chinese, naming the field (pydantic's own text is
    English)."""
    field = validation.field_name(error)
    label = t(_EDIT_LABELS[field]) if field in _EDIT_LABELS else field
    return f"{label}：{validation.explain(error)[0]}"


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
    if not principal.can(Permission.read_registry):  # a recommender: its leads are its start page
        return RedirectResponse(home_path(principal), status_code=303)
    data = cockpit.summary(session, principal=principal, city=city)
    return render(request, "cockpit.html", {"data": data, "labels": cockpit.chart_labels()})


GEO = Path(regions.__file__).parent / "data" / "geo"


@router.get("/geo/zhejiang-cities.geojson")
def zhejiang_cities(principal: Current) -> Response:
    return FileResponse(GEO / "zhejiang_cities_tianditu_cgcs2000.geojson", media_type="application/geo+json")


@cache
def _counties_of(city: str) -> bytes:
    """The boundaries of one Zhejiang city's counties, cut from the province's county file."""
    geo = json.loads((GEO / "zhejiang_counties_tianditu_cgcs2000.geojson").read_text(encoding="utf-8"))
    geo["features"] = [f for f in geo["features"] if f["properties"].get("parent_adcode") == city]
    return json.dumps(geo, ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/geo/zhejiang-counties/{city}.geojson")
def zhejiang_counties(principal: Current, city: str) -> Response:
    """A city's county map (the cockpit's city view); the city by its 6-digit code."""
    if city not in {c.code for c in regions.zhejiang_cities()}:
        raise HTTPException(status_code=404)
    return Response(_counties_of(city), media_type="application/geo+json")


# ---- helpers -------------------------------------------------------------------------------------


def pager(
    request: Request, *, page: int, pages: int, total: int, param: str = "page", anchor: str = ""
) -> dict[str, Any]:
    """Links to neighbouring pages (the query parameter ``param``), keeping the request's other query
    parameters; to ``#anchor`` of the page when given (a list further down the page)."""

    def url(n: int) -> str:
        target = request.url.include_query_params(**{param: n})
        return f"{target.path}?{target.query}" + (f"#{anchor}" if anchor else "")

    window = range(max(1, page - 3), min(pages, page + 3) + 1)
    return {
        "page": page,
        "pages": pages,
        "total": total,
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < pages else None,
        "links": [(n, url(n)) for n in window],
        "first": url(1) if window.start > 1 else None,
        "last": url(pages) if window.stop <= pages else None,
    }


LIST_FIELDS = ("city", "county", "track", "tier", "stage", "q", "sort", "min_valuation", "max_valuation")


def _list_query(request: Request, principal: Principal, page: int) -> enterprises.ListQuery:
    raw = {name: request.query_params.get(name) for name in LIST_FIELDS}
    return enterprises.parse_list_query(raw, principal, page)


# ---- 企业库 ----------------------------------------------------------------------------------------------


@router.get("/enterprises", response_class=HTMLResponse)
def enterprise_list(request: Request, principal: Reader, session: DB, page: Page = 1) -> Response:
    query = _list_query(request, principal, page)
    result = enterprises.list_page(session, principal, query)
    export_query = urlencode(query.params())
    context = {
        "query": query,
        "result": result,
        "options": enterprises.filter_options(principal),
        "pager": pager(request, page=result.page, pages=result.pages, total=result.total),
        "export_url": "/enterprises/export.xlsx" + (f"?{export_query}" if export_query else ""),
        "export_max": excel.MAX_ROWS,
        "standard": enterprises.standard_name(
            get_settings().default_standard, result.snapshot.standard_version if result.snapshot else None
        ),
        "track_name": enterprises.track_name,
        "stage_name": enterprises.stage_name,
        "tier_name": tier_name,
    }
    return render(request, "enterprises.html", context)


@router.get("/enterprises/export.xlsx")
def enterprise_export(request: Request, principal: Reader, session: DB) -> Response:
    query = _list_query(request, principal, 1)
    content, written, total = excel.workbook(session, principal, query)
    # Data leaving the platform is recorded like a write (who, which filters, how many rows).
    record(
        session,
        actor=Actor(principal.username, "web", client_address(request)),
        action="enterprise.export",
        subject_type="enterprise_list",
        new={"filters": query.params(), "rows": written, "total": total},
    )
    filename = f"qilin-enterprises-{today():%Y%m%d}.xlsx"
    return Response(
        content,
        media_type=excel.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _profile(
    request: Request,
    session: Session,
    principal: Principal,
    enterprise_id: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    enterprise = enterprises.get_enterprise(session, principal, enterprise_id)
    if enterprise is None:
        raise HTTPException(404, "not found")
    context = enterprises.profile_context(session, principal, enterprise)
    context.update(extra)
    return render(request, "enterprise.html", context, status_code=status_code)


@router.get("/enterprises/{enterprise_id}", response_class=HTMLResponse)
def enterprise_profile(
    request: Request, enterprise_id: str, principal: Reader, session: DB, saved: str | None = None
) -> Response:
    message = {"1": t("profile.saved"), "0": t("profile.unchanged")}.get(saved or "")
    return _profile(request, session, principal, enterprise_id, message=message)


@router.post(
    "/enterprises/{enterprise_id}/edit", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)]
)
def enterprise_edit(
    request: Request,
    enterprise_id: str,
    principal: Writer,
    session: DB,
    name: Annotated[str, Form(max_length=1000)] = "",
    name_en: Annotated[str, Form(max_length=1000)] = "",
    industry_code: Annotated[str, Form(max_length=100)] = "",
    category: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    enterprise = enterprises.get_enterprise(session, principal, enterprise_id)
    if enterprise is None:
        raise HTTPException(404, "not found")
    submitted = {"name": name, "name_en": name_en, "industry_code": industry_code, "category": category}
    error: str | None = None
    changed: dict[str, tuple[object, object]] = {}
    try:
        if not name.strip():
            raise registry_service.UpdateRefused(f"{t('list.name')}：{shared_t('field.required')}")
        patch = schemas.EnterprisePatch(
            name=name.strip(),
            name_en=name_en.strip() or None,
            industry_code=industry_code.strip() or None,
            category=category.strip() or None,
        )
        changed = registry_service.update(
            session,
            enterprise=enterprise,
            changes=patch.model_dump(exclude_unset=True),
            actor=Actor(principal.username, "web", client_address(request)),
            allowed_region=principal.covers_region,
        )
    except ValidationError as exc:
        error = t("profile.edit_invalid", error="；".join(_field_error(e) for e in exc.errors()))
    except registry_service.UpdateRefused as exc:
        error = str(exc)
    if error is not None:
        return _profile(
            request, session, principal, enterprise_id, status_code=422, edit_error=error, submitted=submitted
        )
    session.flush()
    target = f"/enterprises/{_path_segment(enterprise_id)}?saved={1 if changed else 0}"
    return RedirectResponse(target, status_code=303)


# ---- 梯度培育库、智能发现、标准 ----------------------------------------------------------------------


@router.get("/tiers", response_class=HTMLResponse)
def tiers_page(
    request: Request,
    principal: Reader,
    session: DB,
    from_date: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    to_date: Annotated[str | None, Query(alias="to", max_length=20)] = None,
    change: Annotated[str | None, Query(max_length=20)] = None,
    page: Page = 1,
) -> Response:
    context = views.tiers_context(
        session, principal, from_date=from_date, to_date=to_date, change=change, page=page
    )
    if context.get("diff"):
        diff = context["diff"]
        context["pager"] = pager(request, page=diff["page"], pages=diff["pages"], total=diff["total"])
    return render(request, "tiers.html", context)


@router.get("/discovery", response_class=HTMLResponse)
def discovery_page(
    request: Request,
    principal: Reader,
    session: DB,
    city: Annotated[str | None, Query(max_length=6)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    page: Page = 1,
    signals_page: Page = 1,
    pushed: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    message = None
    if pushed is not None and pushed.isdigit():
        message = t("discovery.pushed", count=int(pushed))
    return _discovery_page(
        request, session, principal, city=city, kind=kind, page=page, signals_page=signals_page,
        message=message,
    )  # fmt: skip


def _discovery_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    city: str | None = None,
    kind: str | None = None,
    page: int = 1,
    signals_page: int = 1,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = views.discovery_context(
        session, principal, city=city, page=page, kind=kind, signals_page=signals_page
    )
    if context.get("run") is not None:
        context["pager"] = pager(
            request, page=context["page"], pages=context["pages"], total=context["total"]
        )
    if "signals" in context:
        context["signals_pager"] = pager(
            request, page=context["signals_page"], pages=context["signals_pages"],
            total=context["signals_total"], param="signals_page", anchor="signals-section",
        )  # fmt: skip
    # putting the watch-list forward as leads is the province's (AI 发现渠道: the platform recommends)
    context.update(
        can_push=principal.province_wide and principal.can(Permission.submit_leads),
        message=message,
        push_error=error,
    )
    return render(request, "discovery.html", context, status_code=status_code)


@router.post("/discovery/leads", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
def discovery_push(
    request: Request,
    principal: LeadSubmitter,
    session: DB,
    top: Annotated[int, Form(ge=1, le=AI_MAX_TOP)] = 50,
) -> Response:
    """The latest run's ``top`` best-ranked enterprises not in a tier, put forward as AI discovery leads."""
    if not principal.province_wide:
        raise HTTPException(403, "forbidden")
    acting(session, Actor(principal.username, "web", client_address(request)))
    try:
        pushed = push_watch_list(session, top=top, actor=principal.username)
    except RunError as exc:
        return _discovery_page(request, session, principal, error=str(exc), status_code=422)
    session.flush()
    return RedirectResponse(f"/discovery?pushed={len(pushed.added)}", status_code=303)


@router.get("/discovery/export.xlsx")
def discovery_export(
    request: Request,
    principal: Reader,
    session: DB,
    city: Annotated[str | None, Query(max_length=6)] = None,
) -> Response:
    run = latest_run(session)
    if run is None:
        raise HTTPException(404, "not found")
    cities = {c.code: c.name for c in enterprises.allowed_cities(principal)}
    city = city if city in cities else None
    content, written, total = excel.watch_list_workbook(
        session, principal, run, city=city, city_name=cities.get(city) if city else None
    )
    record(
        session,
        actor=Actor(principal.username, "web", client_address(request)),
        action="discovery.export",
        subject_type="discovery_run",
        subject_id=str(run.id),
        new={"city": city, "rows": written, "total": total},
    )
    return Response(
        content,
        media_type=excel.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="qilin-watch-list-{run.as_of:%Y%m%d}.xlsx"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/standards", response_class=HTMLResponse)
def standards_page(request: Request, principal: Reader) -> Response:
    return render(request, "standards.html", views.standards_context())


# ---- 线索、审计日志 ----------------------------------------------------------------------------------


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    principal: LeadReader,
    session: DB,
    status: Annotated[str | None, Query(max_length=20)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    page: Page = 1,
) -> Response:
    return _leads_page(request, session, principal, status=status, channel=channel, page=page)


def _leads_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    channel: str | None = None,
    page: int = 1,
    status_code: int = 200,
    outcome: dict[str, Any] | None = None,
    upload_error: str | None = None,
) -> Response:
    context = views.leads_context(session, principal, status=status, channel=channel, page=page)
    context["pager"] = pager(request, page=context["page"], pages=context["pages"], total=context["total"])
    context.update(outcome=outcome, upload_error=upload_error)
    return render(request, "leads.html", context, status_code=status_code)


@router.get("/leads/template.xlsx")
def leads_template(principal: LeadSubmitter) -> Response:
    """The lead file template (线索填写模板), whose headers the upload reads."""
    return Response(
        excel.lead_template(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('线索填写模板.xlsx')}"},
    )


@router.post("/leads/import", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
def leads_import(
    request: Request,
    principal: LeadSubmitter,
    session: DB,
    file: UploadFile,
    channel: Annotated[str, Form(max_length=40)] = "",
    recommender: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A lead file (CSV or Excel) uploaded on the leads page, imported as ``qilin leads import`` does: every
    row checked, all rows or none. A recommender submits in its own institution's name only."""
    own = principal.role is Role.recommender
    name = _upload_name(file.filename)
    data = file.file.read(MAX_LEAD_FILE + 1)
    error = None
    if not data:
        error = both("upload.empty")
    elif len(data) > MAX_LEAD_FILE:
        error = both("upload.too_large", max=MAX_LEAD_FILE // (1024 * 1024))
    if error is not None:
        return _leads_page(request, session, principal, status_code=422, upload_error=error)
    acting(session, Actor(principal.username, "web", client_address(request)))
    with tempfile.TemporaryDirectory(prefix="qilin-leads-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            report = leads_service.import_leads(
                session,
                path=path,
                actor=principal.username,
                channel=channel.strip() or None,
                recommender=principal.organization if own else recommender.strip() or None,
                own_recommender=own,
            )
        except leads_service.LeadError as exc:
            session.rollback()
            return _leads_page(request, session, principal, status_code=422, upload_error=str(exc))
    if report.refused:
        session.rollback()
    else:
        record(
            session,
            actor=Actor(principal.username, "web", client_address(request)),
            action="leads.import",
            subject_type="lead_file",
            subject_id=name[:255],
            new={"read": report.read, "added": report.added, "existing": report.existing},
        )
        session.flush()
    outcome = views.import_outcome(report, principal)
    code = 422 if report.refused else 200
    return _leads_page(request, session, principal, status_code=code, outcome=outcome)


def _upload_name(filename: str | None) -> str:
    """The uploaded file's own name, safe as a file name here (no folders, no control characters); its
    suffix (.csv / .xlsx) decides how it is read."""
    base = Path((filename or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '/\\:*?"<>|').strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    return f"{stem[:80] or 'leads'}.{suffix[:10]}" if suffix else (stem[:80] or "leads")


def _lead_page(
    request: Request,
    session: Session,
    principal: Principal,
    lead_id: int,
    *,
    status_code: int = 200,
    message: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    context = views.lead_context(session, principal, lead_id)
    if context is None:
        raise HTTPException(404, "not found")
    context.update(
        message=message,
        error=error,
        form=form or {"to_state": "", "comment": "", "enterprise_id": ""},
    )
    return render(request, "lead.html", context, status_code=status_code)


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(
    request: Request, lead_id: LeadId, principal: LeadReader, session: DB, moved: str | None = None
) -> Response:
    message = None
    if moved in leads_service.STATES:
        message = t("lead.moved", state=shared_t(f"leads.state.{moved}"))
    return _lead_page(request, session, principal, lead_id, message=message)


@router.post("/leads/{lead_id}/advance", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
def lead_advance(
    request: Request,
    lead_id: LeadId,
    principal: LeadProcessor,
    session: DB,
    to_state: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    enterprise_id: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Move a lead in the viewer's scope (开始核实 / 采纳入库 / 不予采纳 / 退回); the transition is logged and
    audited as the web user's. Accepting links an enterprise the viewer may read: the one named, or the one
    holding the lead's USCC."""
    form = {"to_state": to_state, "comment": comment, "enterprise_id": enterprise_id}
    try:
        moved = move_lead_in_scope(
            session,
            principal,
            lead_id=lead_id,
            to_state=to_state,
            comment=comment,
            enterprise_id=enterprise_id,
            actor=Actor(principal.username, "web", client_address(request)),
        )
    except leads_service.LeadError as exc:
        session.rollback()
        key = f"lead.error.{exc.key}"  # a refusal asking for an input names the form's field
        error = both(key) if key in WEB.entries else str(exc)
        return _lead_page(request, session, principal, lead_id, status_code=422, error=error, form=form)
    if moved is None:
        raise HTTPException(404, "not found")
    return RedirectResponse(f"/leads/{lead_id}?moved={to_state}", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: AuditReader,
    session: DB,
    actor: Text = None,
    action: Text = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
    until: Annotated[str | None, Query(max_length=20)] = None,
    page: Page = 1,
) -> Response:
    context = views.audit_context(session, actor=actor, action=action, since=since, until=until, page=page)
    context["pager"] = pager(request, page=context["page"], pages=context["pages"], total=context["total"])
    return render(request, "audit.html", context)
