"""Discovery in the API: the ranked watch-list (智能发现) of the latest run, an enterprise's score with its
reasons and signals, and leads (线索) inside the caller's scope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.audit.service import Actor, acting
from qilin.auth.roles import Permission
from qilin.auth.scope import Principal, enterprise_filter, lead_filter
from qilin.common.dates import today
from qilin.common.messages import both
from qilin.db import MAX_ID, code_prefix
from qilin.discovery import leads as leads_service
from qilin.discovery.leads_models import Lead, Recommender
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.discovery.signals import KIND_NAMES, Signal, find_signals
from qilin.discovery.signals_cli import signal_json
from qilin.registry.api import enterprise_or_404
from qilin.registry.models import Enterprise, FundingRound, Valuation
from qilin.registry.search import region_condition, region_prefix
from qilin.web.security import client_address, db_session, require

router = APIRouter(tags=["智能发现 discovery"])
Reader = Annotated[Principal, Depends(require(Permission.read_registry))]
LeadReader = Annotated[Principal, Depends(require(Permission.read_leads))]
LeadProcessor = Annotated[Principal, Depends(require(Permission.process_leads))]
DB = Annotated[Session, Depends(db_session)]


def latest_run(session: Session) -> DiscoveryRun | None:
    return session.scalar(
        select(DiscoveryRun).order_by(DiscoveryRun.as_of.desc(), DiscoveryRun.created_at.desc()).limit(1)
    )


def watch_list(
    session: Session,
    *,
    principal: Principal,
    run: DiscoveryRun,
    region_prefix: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    conditions = [DiscoveryScore.run_id == run.id, enterprise_filter(principal)]
    if region_prefix:
        conditions.append(code_prefix(Enterprise.region_code, region_prefix))
    base = (
        select(DiscoveryScore)
        .join(Enterprise, Enterprise.id == DiscoveryScore.enterprise_id)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(
            DiscoveryScore.enterprise_id,
            DiscoveryScore.score,
            DiscoveryScore.rank,
            DiscoveryScore.reasons,
            DiscoveryScore.rank_total_raised,
            DiscoveryScore.rank_raised_2y,
            DiscoveryScore.rank_latest_round,
            Enterprise.name,
            Enterprise.region_code,
            Enterprise.is_synthetic,
        )
        .join(Enterprise, Enterprise.id == DiscoveryScore.enterprise_id)
        .where(*conditions)
        .order_by(DiscoveryScore.rank)
        .offset(offset)
        .limit(limit)
    )
    items = [
        {
            "enterprise_id": r.enterprise_id,
            "name": r.name,
            "region_code": r.region_code,
            "is_synthetic": r.is_synthetic,
            "score": round(r.score, 6),
            "rank": r.rank,
            "reasons": (r.reasons or {}).get("zh", []),
            "reasons_en": (r.reasons or {}).get("en", []),
            "baseline_ranks": _places(r),
        }
        for r in rows
    ]
    return items, total


def _places(row: Any) -> dict[str, int | None]:
    """An enterprise's place in each baseline ranking (by total raised, raised in 2 years, latest round)."""
    return {
        "total_raised": row.rank_total_raised,
        "raised_2y": row.rank_raised_2y,
        "latest_round": row.rank_latest_round,
    }


def hide_financial(item: dict[str, Any]) -> dict[str, Any]:
    """A watch-list item for a role without ``financial``: reasons quote funding amounts and the baseline
    places order enterprises by them, so both are withheld (None), as on the web page."""
    return {**item, "reasons": None, "reasons_en": None, "baseline_ranks": None}


@router.get("/discovery/scores", summary="智能发现榜单 / the ranked watch-list of the latest run")
def scores(
    principal: Reader,
    session: DB,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    run = latest_run(session)
    if run is None:
        return {"run": None, "items": [], "total": 0}
    items, total = watch_list(
        session,
        principal=principal,
        run=run,
        region_prefix=region_prefix(region) if region else None,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    if not principal.can(Permission.financial):
        items = [hide_financial(item) for item in items]
    return {
        "run": {
            "as_of": run.as_of,
            "model_version": run.model_version,
            "enterprises": run.enterprises,
            "backtest": run.backtest,
        },
        "items": items,
        "total": total,
    }


def enterprise_score(session: Session, *, enterprise_id: str) -> dict[str, Any] | None:
    row = session.execute(
        select(DiscoveryScore, DiscoveryRun)
        .join(DiscoveryRun, DiscoveryRun.id == DiscoveryScore.run_id)
        .where(DiscoveryScore.enterprise_id == enterprise_id)
        .order_by(DiscoveryRun.as_of.desc(), DiscoveryRun.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    score, run = row
    return {
        "as_of": run.as_of,
        "model_version": run.model_version,
        "of": run.enterprises,
        "score": round(score.score, 6),
        "rank": score.rank,
        "reasons": (score.reasons or {}).get("zh", []),
        "reasons_en": (score.reasons or {}).get("en", []),
        "baseline_ranks": _places(score),
    }


# Signals are dated at a round or valuation: only enterprises with one in the window can have any. Up to
# this many, only their records (and their investors' portfolios) are read; beyond it, the whole registry
# once (long IN lists cost more).
FOCUSED_SIGNALS_LIMIT = 10_000


def recent_signals(
    session: Session, *, since: dt.date, enterprise_ids: set[str] | None = None
) -> list[Signal]:
    """Signals since ``since`` of ``enterprise_ids`` (all when None), newest first."""
    active = set(
        session.scalars(select(FundingRound.enterprise_id).where(FundingRound.announced_on >= since))
    )
    active |= set(session.scalars(select(Valuation.enterprise_id).where(Valuation.as_of >= since)))
    if enterprise_ids is not None:
        active &= enterprise_ids
    if not active:
        return []
    focused = len(active) <= FOCUSED_SIGNALS_LIMIT
    found = find_signals(session, since=since, enterprise_ids=active if focused else None)
    if not focused:
        found = [s for s in found if s.enterprise_id in active]
    return sorted(found, key=lambda s: (s.on, s.enterprise_id), reverse=True)


def scoped_ids(session: Session, principal: Principal, *, region: str | None = None) -> set[str]:
    """The enterprises ``principal`` may see, in ``region`` (a province, city or county code) when given."""
    query = select(Enterprise.id).where(enterprise_filter(principal))
    if region:
        query = query.where(region_condition(region))
    return set(session.scalars(query))


SIGNALS_MAX_DAYS = 730  # the list's window: signals further back are asked of one enterprise at a time


@router.get("/discovery/signals", summary="近期关注信号 / recent signals of the enterprises in your scope")
def signals(
    principal: Reader,
    session: DB,
    since: Annotated[dt.date | None, Query(description="起始日期，默认 180 天前，最早两年前")] = None,
    kind: Annotated[str | None, Query(pattern=f"^({'|'.join(KIND_NAMES)})$")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Newest first, with the records behind each; as the 智能发现 page lists them."""
    if not principal.can(Permission.financial):  # signals describe round sizes and valuations
        raise HTTPException(403, "无权查看关注信号 / signals need the financial permission")
    now = today()
    start = since or now - dt.timedelta(days=180)
    if not now - dt.timedelta(days=SIGNALS_MAX_DAYS) <= start <= now:
        raise HTTPException(
            422,
            f"起始日期须在 {SIGNALS_MAX_DAYS} 天内（{now - dt.timedelta(days=SIGNALS_MAX_DAYS)} 至 {now}）/ "
            f"since must be within the last {SIGNALS_MAX_DAYS} days",
        )
    found = recent_signals(session, since=start, enterprise_ids=scoped_ids(session, principal, region=region))
    found = [s for s in found if kind is None or s.kind == kind]
    first = (page - 1) * page_size
    return {
        "since": start,
        "items": [signal_json(s) for s in found[first : first + page_size]],
        "total": len(found),
    }


@router.get(
    "/enterprises/{enterprise_id}/discovery", summary="发现评分、理由与信号 / score, reasons, signals"
)
def enterprise_discovery(
    enterprise_id: str,
    principal: Reader,
    session: DB,
    since: Annotated[dt.date | None, Query(description="信号起始日期，默认两年前")] = None,
) -> dict[str, Any]:
    enterprise_or_404(session, principal, enterprise_id)
    signals: list[dict[str, Any]] | None = None
    if principal.can(Permission.financial):  # signals describe round sizes and valuations
        start = since or today() - dt.timedelta(days=730)
        signals = [
            signal_json(s) for s in recent_signals(session, since=start, enterprise_ids={enterprise_id})
        ]
    score = enterprise_score(session, enterprise_id=enterprise_id)
    if score is not None and not principal.can(Permission.financial):  # reasons quote funding amounts
        score = hide_financial(score)
    return {"score": score, "signals": signals}


def lead_json(lead: Lead, recommender: str) -> dict[str, Any]:
    return {
        "id": lead.id,
        "channel": lead.channel,
        "channel_name": leads_service.channel_label(lead.channel),
        "recommender": recommender,
        "name": lead.name,
        "name_en": lead.name_en,
        "uscc": lead.uscc,
        "region_code": lead.region_code,
        "tracks": lead.tracks,
        "submitted_on": lead.submitted_on,
        "status": lead.status,
        "enterprise_id": lead.enterprise_id,
        "rejection_reason": lead.rejection_reason,
        "is_synthetic": lead.is_synthetic,
    }


def list_leads(
    session: Session,
    *,
    principal: Principal,
    status: str | None,
    offset: int,
    limit: int,
    channel: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    conditions = [lead_filter(principal)]
    if status:
        conditions.append(Lead.status == status)
    if channel:
        conditions.append(Lead.channel == channel)
    total = session.scalar(select(func.count()).select_from(Lead).where(*conditions)) or 0
    rows = session.execute(
        select(Lead, Recommender.name)
        .join(Recommender, Recommender.id == Lead.recommender_id)
        .where(*conditions)
        .order_by(Lead.submitted_on.desc(), Lead.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [lead_json(lead, name) for lead, name in rows], total


@router.get("/leads", summary="线索 / leads in your scope (a recommender: its own)")
def leads(
    principal: LeadReader,
    session: DB,
    status: Annotated[str | None, Query(pattern="^(new|verifying|accepted|rejected)$")] = None,
    channel: Annotated[str | None, Query(pattern=f"^({'|'.join(leads_service.CHANNELS)})$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    items, total = list_leads(
        session,
        principal=principal,
        status=status,
        channel=channel,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return {"items": items, "total": total}


NO_LEAD = "线索不存在或不在您的权限范围内 / no such lead in your scope"


def lead_in_scope(session: Session, principal: Principal, lead_id: int) -> tuple[Lead, str] | None:
    """The lead and its recommender's name, when the lead is in ``principal``'s scope."""
    row = session.execute(
        select(Lead, Recommender.name)
        .join(Recommender, Recommender.id == Lead.recommender_id)
        .where(Lead.id == lead_id, lead_filter(principal))
    ).first()
    return None if row is None else (row[0], row[1])


def move_lead_in_scope(
    session: Session,
    principal: Principal,
    *,
    lead_id: int,
    to_state: str,
    comment: str | None,
    enterprise_id: str | None,
    actor: Actor,
) -> tuple[Lead, str] | None:
    """Move a lead in ``principal``'s scope (None when it is not) under the workflow's rules, as the API and
    the web form do. Accepting links an enterprise ``principal`` may read: ``enterprise_id``, or else the
    one with the lead's USCC (:class:`~qilin.discovery.leads.LeadError` otherwise). The transition is
    logged with the lead and audited as ``actor``'s."""
    found = lead_in_scope(session, principal, lead_id)
    if found is None:
        return None
    lead = found[0]
    chosen = (enterprise_id or "").strip() or None
    target = chosen or lead.matched_enterprise_id
    if to_state == "accepted" and target is not None:
        visible = select(Enterprise.id).where(Enterprise.id == target, enterprise_filter(principal))
        if session.scalar(visible) is None:
            raise leads_service.LeadError(
                both("leads.enterprise_out_of_scope", id=target), key="leads.enterprise_out_of_scope"
            )
    acting(session, actor)
    leads_service.advance(
        session,
        lead_id=lead_id,
        to_state=to_state,
        actor=principal.username,
        comment=comment,
        enterprise_id=chosen if to_state == "accepted" else None,
    )
    session.flush()
    return found


@router.get("/leads/{lead_id}", summary="一条线索 / one lead")
def lead(
    lead_id: Annotated[int, PathParam(ge=1, le=MAX_ID)], principal: LeadReader, session: DB
) -> dict[str, Any]:
    found = lead_in_scope(session, principal, lead_id)
    if found is None:
        raise HTTPException(404, NO_LEAD)
    return lead_json(*found)


class LeadMove(BaseModel):
    """A move of a lead: 开始核实 (verifying), 采纳入库 (accepted, linking ``enterprise_id`` or the
    enterprise with the lead's USCC), 不予采纳 (rejected, with a reason in ``comment``), 退回 (new, with a
    comment)."""

    model_config = ConfigDict(extra="forbid")

    to_state: Literal["new", "verifying", "accepted", "rejected"]
    comment: str | None = Field(default=None, max_length=leads_service.NOTE_MAX)
    enterprise_id: str | None = Field(default=None, max_length=255)


@router.post(
    "/leads/{lead_id}/transitions", summary="处理线索 / move a lead (verify, accept, reject, send back)"
)
def move_lead(
    lead_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
    move: Annotated[LeadMove, Body()],
    principal: LeadProcessor,
    session: DB,
    request: Request,
) -> dict[str, Any]:
    """The workflow's rules hold as on the command line and the web page; accepting links only an
    enterprise the caller may read. The move is logged with the lead and audited as the caller's."""
    try:
        moved = move_lead_in_scope(
            session,
            principal,
            lead_id=lead_id,
            actor=Actor(principal.username, "api", client_address(request)),
            **move.model_dump(),
        )
    except leads_service.LeadError as exc:
        raise HTTPException(422, exc.naming({})) from None
    if moved is None:
        raise HTTPException(404, NO_LEAD)
    return lead_json(*moved)
