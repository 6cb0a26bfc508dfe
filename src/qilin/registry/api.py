"""``/api/v1/enterprises``: the registry for other government systems. Every query goes through the
caller's scope (:func:`qilin.auth.scope.enterprise_filter`); outside it a record answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from qilin.audit.service import Actor
from qilin.auth.roles import Permission, Role
from qilin.auth.scope import Principal, enterprise_filter
from qilin.common.ttl import TtlCache
from qilin.config import get_settings
from qilin.registry import profile, schemas, search, service
from qilin.registry.models import Enterprise
from qilin.tiers import service as tiers_service
from qilin.web.security import client_address, db_session, in_session, json_response, require

router = APIRouter(prefix="/enterprises", tags=["企业库 enterprises"])

NOT_FOUND = "企业不存在或不在您的权限范围内 / no such enterprise in your scope"

Reader = Annotated[Principal, Depends(require(Permission.read_registry))]
Writer = Annotated[Principal, Depends(require(Permission.write_registry))]
DB = Annotated[Session, Depends(db_session)]


# The latest snapshot changes only when one is taken (a yearly or monthly act): looked up at most every
# SNAPSHOT_CACHE_SECONDS per process and database.
SNAPSHOT_CACHE_SECONDS = 30.0
_snapshots: TtlCache[tuple[str, str, int], tuple[int | None, dt.date | None]] = TtlCache(
    seconds=SNAPSHOT_CACHE_SECONDS
)


def current_snapshot(session: Session) -> tuple[int | None, dt.date | None]:
    """(id, as-of date) of the latest snapshot of the platform's standard, or (None, None)."""
    standard = get_settings().default_standard
    key = (str(session.get_bind().engine.url), standard, tiers_service.SNAPSHOTS_TAKEN[0])
    value = _snapshots.get(key)
    if value is None:
        snapshot = tiers_service.latest_snapshot(session, standard_id=standard)
        value = (snapshot.id, snapshot.as_of) if snapshot else (None, None)
        _snapshots.put(key, value)
    return value


def forget_cached() -> None:
    """Drop the cached snapshot and list totals (tests; after taking a snapshot in this process)."""
    _snapshots.clear()
    search.forget_counts()


def enterprise_or_404(session: Session, principal: Principal, enterprise_id: str) -> Enterprise:
    try:
        return profile.get_in_scope(session, enterprise_id=enterprise_id, scope=enterprise_filter(principal))
    except profile.NotFound:
        raise HTTPException(404, NOT_FOUND) from None


@router.get("", response_model=schemas.EnterprisePage, summary="企业列表 / list enterprises")
async def list_enterprises(
    principal: Reader,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$", description="省、市或县区划代码")] = None,
    track: Annotated[str | None, Query(max_length=40)] = None,
    tier: Annotated[str | None, Query(max_length=20)] = None,
    stage: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=100, description="中英文名称或统一社会信用代码")] = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(search.SORTS) + ")$")] = "name",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=search.MAX_PAGE_SIZE)] = 20,
) -> Response:
    def work(session: Session) -> schemas.EnterprisePage:
        snapshot_id, as_of = current_snapshot(session)
        result = search.search(
            session,
            scope=enterprise_filter(principal),
            filters=search.EnterpriseFilters(region=region, track=track, tier=tier, stage=stage, q=q),
            snapshot_id=snapshot_id,
            sort=sort,
            page=page,
            page_size=page_size,
            count_key=(principal.role, principal.region_code, principal.enterprise_id),
            scope_region=principal.region_prefix(),
        )
        return schemas.EnterprisePage(
            items=[
                schemas.EnterpriseItem.model_validate(item, from_attributes=True) for item in result.items
            ],
            total=result.total,
            page=result.page,
            page_size=result.page_size,
            tier_snapshot_as_of=as_of,
        )

    return json_response(await in_session(work))


@router.get("/{enterprise_id}", response_model=schemas.EnterpriseDetail, summary="企业详情 / one enterprise")
async def get_enterprise(enterprise_id: str, principal: Reader) -> Response:
    def work(session: Session) -> schemas.EnterpriseDetail:
        snapshot_id, _ = current_snapshot(session)
        try:
            return profile.detail(
                session,
                enterprise_id=enterprise_id,
                scope=enterprise_filter(principal),
                financial=principal.can(Permission.financial),
                snapshot_id=snapshot_id,
            )
        except profile.NotFound:
            raise HTTPException(404, NOT_FOUND) from None

    return json_response(await in_session(work))


@router.patch("/{enterprise_id}", response_model=schemas.EnterpriseDetail, summary="更正企业信息 / correct")
def patch_enterprise(
    enterprise_id: str,
    principal: Writer,
    session: DB,
    request: Request,
    patch: Annotated[schemas.EnterprisePatch, Body()],
) -> schemas.EnterpriseDetail:
    enterprise = enterprise_or_404(session, principal, enterprise_id)
    changes = patch.model_dump(exclude_unset=True)
    if principal.role is Role.enterprise and "region_code" in changes:
        raise HTTPException(403, "企业用户不能修改所属区域 / enterprise users cannot change the region")
    try:
        service.update(
            session,
            enterprise=enterprise,
            changes=changes,
            actor=Actor(principal.username, "api", client_address(request)),
            allowed_region=principal.covers_region,
        )
    except service.UpdateRefused as exc:
        raise HTTPException(422, str(exc)) from None
    session.flush()
    snapshot_id, _ = current_snapshot(session)
    return profile.detail(
        session,
        enterprise_id=enterprise.id,
        financial=principal.can(Permission.financial),
        snapshot_id=snapshot_id,
    )


@router.get("/{enterprise_id}/rounds", response_model=list[schemas.RoundOut], summary="融资轮次 / rounds")
def list_rounds(enterprise_id: str, principal: Reader, session: DB) -> list[schemas.RoundOut]:
    enterprise_or_404(session, principal, enterprise_id)
    return profile.rounds(session, enterprise_id=enterprise_id, financial=principal.can(Permission.financial))


@router.get(
    "/{enterprise_id}/valuations", response_model=list[schemas.ValuationOut], summary="估值 / valuations"
)
def list_valuations(enterprise_id: str, principal: Reader, session: DB) -> list[schemas.ValuationOut]:
    enterprise_or_404(session, principal, enterprise_id)
    if not principal.can(Permission.financial):
        raise HTTPException(403, "无权查看估值 / valuations need the financial permission")
    return profile.valuations(session, enterprise_id=enterprise_id)


@router.get("/{enterprise_id}/events", response_model=list[schemas.EventOut], summary="生命周期事件 / events")
def list_events(enterprise_id: str, principal: Reader, session: DB) -> list[schemas.EventOut]:
    enterprise_or_404(session, principal, enterprise_id)
    return profile.events(session, enterprise_id=enterprise_id)
