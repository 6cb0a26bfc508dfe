"""Tiers in the API: an enterprise's current tier with its full trace, its tier history, the counts by
city and tier from the latest snapshot, and the standards."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.auth.roles import Permission
from qilin.auth.scope import Principal, enterprise_filter
from qilin.common.dates import today
from qilin.config import get_settings
from qilin.reference import regions
from qilin.registry.api import enterprise_or_404
from qilin.registry.models import Enterprise
from qilin.tiers import explain, service
from qilin.tiers.models import TierSnapshot, TierSnapshotEntry
from qilin.tiers.standards import TIER_CODES, UnknownStandardError, all_standards
from qilin.web.security import db_session, require

router = APIRouter(tags=["梯度培育库 tiers"])
Reader = Annotated[Principal, Depends(require(Permission.read_registry))]
DB = Annotated[Session, Depends(db_session)]


def enterprise_trace(
    session: Session, *, enterprise_id: str, as_of: dt.date, standard_id: str, financial: bool
) -> dict[str, Any]:
    evaluation = service.explain(session, enterprise_id=enterprise_id, as_of=as_of, standard_id=standard_id)
    return explain.structured(evaluation.results[0], evaluation.standard, financial=financial)


@router.get("/enterprises/{enterprise_id}/tier", summary="当前梯队及评定过程 / tier with its trace")
def enterprise_tier(
    enterprise_id: str,
    principal: Reader,
    session: DB,
    as_of: Annotated[dt.date | None, Query(description="默认今天 / default today")] = None,
    standard: Annotated[str | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    enterprise_or_404(session, principal, enterprise_id)
    day = as_of or today()
    try:
        return enterprise_trace(
            session,
            enterprise_id=enterprise_id,
            as_of=day,
            standard_id=standard or get_settings().default_standard,
            financial=principal.can(Permission.financial),
        )
    except (UnknownStandardError, service.TierError) as exc:
        raise HTTPException(422, str(exc)) from None


def tier_history(session: Session, *, enterprise_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            TierSnapshot.as_of,
            TierSnapshot.standard_id,
            TierSnapshot.standard_version,
            TierSnapshotEntry.tier,
        )
        .join(TierSnapshotEntry, TierSnapshotEntry.snapshot_id == TierSnapshot.id)
        .where(TierSnapshotEntry.enterprise_id == enterprise_id)
        .order_by(TierSnapshot.as_of, TierSnapshot.standard_id)
    )
    return [
        {
            "as_of": r.as_of,
            "standard": r.standard_id,
            "version": r.standard_version,
            "tier": r.tier,
            "tier_name": explain.tier_name(r.tier),
        }
        for r in rows
    ]


@router.get("/enterprises/{enterprise_id}/tier-history", summary="梯队历史 / tier history from snapshots")
def enterprise_tier_history(enterprise_id: str, principal: Reader, session: DB) -> list[dict[str, Any]]:
    enterprise_or_404(session, principal, enterprise_id)
    return tier_history(session, enterprise_id=enterprise_id)


def tier_counts(
    session: Session, *, principal: Principal, snapshot: TierSnapshot
) -> dict[str, dict[str, int]]:
    """city code → tier → enterprises, inside the principal's scope."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TIER_CODES, 0))
    rows = session.execute(
        select(Enterprise.region_code, TierSnapshotEntry.tier, func.count())
        .join(Enterprise, Enterprise.id == TierSnapshotEntry.enterprise_id)
        .where(TierSnapshotEntry.snapshot_id == snapshot.id, enterprise_filter(principal))
        .group_by(Enterprise.region_code, TierSnapshotEntry.tier)
    )
    for region_code, tier, n in rows:
        city = regions.city_of(region_code) if region_code else None
        out[city.code if city else "other"][tier] += n
    return dict(out)


@router.get("/tiers/summary", summary="各市各梯队企业数 / enterprises by city and tier")
def summary(
    principal: Reader,
    session: DB,
    standard: Annotated[str | None, Query(max_length=60)] = None,
    as_of: Annotated[dt.date | None, Query()] = None,
) -> dict[str, Any]:
    standard_id = standard or get_settings().default_standard
    known = {s.id for s in all_standards()}
    if standard_id not in known:
        raise HTTPException(
            422, f"未知的标准 / unknown standard {standard_id!r} (known: {', '.join(sorted(known))})"
        )
    snapshot = service.latest_snapshot(session, standard_id=standard_id, on_or_before=as_of)
    if snapshot is None:
        raise HTTPException(404, "尚无梯队快照 / no tier snapshot yet (qilin tiers snapshot)")
    return {
        "standard": snapshot.standard_id,
        "as_of": snapshot.as_of,
        "by_city": tier_counts(session, principal=principal, snapshot=snapshot),
    }


@router.get("/tiers/snapshots", summary="梯队快照 / tier snapshots")
def list_snapshots(principal: Reader, session: DB) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "standard": s.standard_id,
            "version": s.standard_version,
            "as_of": s.as_of,
            "taken_at": s.taken_at,
        }
        for s in service.snapshots(session)
    ]


@router.get("/standards", summary="遴选标准 / tier standards and their criteria")
def standards(principal: Reader) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "version": s.version,
            "name": s.name_zh,
            "name_en": s.name_en,
            "source": s.source,
            "effective_from": s.effective_from,
            "effective_to": s.effective_to,
            "tiers": [
                {
                    "tier": rule.tier,
                    "tier_name": explain.tier_name(rule.tier),
                    "routes": [
                        [
                            {"criterion": c.name, "text": explain.criterion_text(c.name, c.param)}
                            for c in route
                        ]
                        for route in rule.alternatives
                    ],
                }
                for rule in s.tiers
            ],
        }
        for s in all_standards()
    ]
