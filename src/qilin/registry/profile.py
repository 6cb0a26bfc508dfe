"""An enterprise's records for its profile (企业画像) and the API: detail, rounds, valuations, events.
Money is hidden (``None``) unless the caller may see financial figures."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from qilin.common.money import Money, format_cn
from qilin.registry import schemas
from qilin.registry.models import Enterprise, FundingRound, LifecycleEvent, Valuation
from qilin.registry.search import city_name, county_name
from qilin.tiers.models import TierSnapshotEntry


class NotFound(LookupError):
    """No such record in the caller's scope (the same answer as a missing record)."""


def money(amount: Decimal | None, currency: str | None) -> schemas.MoneyOut | None:
    if amount is None or not currency:
        return None
    return schemas.MoneyOut(
        amount=format(amount, "f"), currency=currency, text=format_cn(Money.of(amount, currency))
    )


def get_in_scope(session: Session, *, enterprise_id: str, scope: ColumnElement[bool]) -> Enterprise:
    enterprise = session.scalar(select(Enterprise).where(Enterprise.id == enterprise_id, scope))
    if enterprise is None:
        raise NotFound(enterprise_id)
    return enterprise


def latest_valuation(session: Session, *, enterprise_id: str) -> Valuation | None:
    return session.scalar(
        select(Valuation)
        .where(Valuation.enterprise_id == enterprise_id)
        .order_by(Valuation.as_of.desc(), Valuation.id.desc())
        .limit(1)
    )


def detail(
    session: Session, *, enterprise: Enterprise, financial: bool, snapshot_id: int | None
) -> schemas.EnterpriseDetail:
    tier = None
    if snapshot_id is not None:
        tier = session.scalar(
            select(TierSnapshotEntry.tier).where(
                TierSnapshotEntry.snapshot_id == snapshot_id, TierSnapshotEntry.enterprise_id == enterprise.id
            )
        )
    latest_round = session.scalar(
        select(FundingRound.round_type)
        .where(FundingRound.enterprise_id == enterprise.id)
        .order_by(FundingRound.announced_on.desc(), FundingRound.id.desc())
        .limit(1)
    )
    valuation = latest_valuation(session, enterprise_id=enterprise.id) if financial else None
    return schemas.EnterpriseDetail(
        id=enterprise.id,
        name=enterprise.name,
        name_en=enterprise.name_en,
        uscc=enterprise.uscc,
        region_code=enterprise.region_code,
        city=city_name(enterprise.region_code) or enterprise.city,
        county=county_name(enterprise.region_code),
        founded_on=enterprise.founded_on,
        status=enterprise.status,
        tier=tier,
        latest_stage=latest_round,
        tracks=sorted(t.track_code for t in enterprise.tracks),
        is_synthetic=enterprise.is_synthetic,
        industry_code=enterprise.industry_code,
        category=enterprise.category,
        country=enterprise.country,
        status_as_of=enterprise.status_as_of,
        source=enterprise.source,
        latest_valuation=money(valuation.value, valuation.currency) if valuation else None,
        latest_valuation_as_of=valuation.as_of if valuation else None,
        latest_valuation_evidence=valuation.evidence if valuation else None,
        financial_hidden=not financial,
    )


def rounds(session: Session, *, enterprise_id: str, financial: bool) -> list[schemas.RoundOut]:
    out = []
    for r in session.scalars(
        select(FundingRound)
        .where(FundingRound.enterprise_id == enterprise_id)
        .order_by(FundingRound.announced_on, FundingRound.id)
    ):
        amount_range = None
        if financial and r.amount_low is not None and r.amount_high is not None and r.currency:
            low, high = money(r.amount_low, r.currency), money(r.amount_high, r.currency)
            amount_range = f"{low.text if low else ''}–{high.text if high else ''}"
        out.append(
            schemas.RoundOut(
                id=r.id,
                announced_on=r.announced_on,
                round_type=r.round_type,
                round_label=r.round_label,
                amount=money(r.amount, r.currency) if financial else None,
                amount_range=amount_range,
                amount_text=r.amount_text if financial else None,
                post_money_valuation=money(r.post_money_valuation, r.post_money_currency)
                if financial
                else None,
                investors=[ri.investor.name for ri in sorted(r.investors, key=lambda x: x.position)],
                is_synthetic=r.is_synthetic,
            )
        )
    return out


def valuations(session: Session, *, enterprise_id: str) -> list[schemas.ValuationOut]:
    out = []
    for v in session.scalars(
        select(Valuation)
        .where(Valuation.enterprise_id == enterprise_id)
        .order_by(Valuation.as_of, Valuation.id)
    ):
        value = money(v.value, v.currency)
        assert value is not None
        out.append(
            schemas.ValuationOut(
                id=v.id,
                as_of=v.as_of,
                value=value,
                evidence=v.evidence,
                source=v.source,
                is_synthetic=v.is_synthetic,
            )
        )
    return out


def events(session: Session, *, enterprise_id: str) -> list[schemas.EventOut]:
    return [
        schemas.EventOut(
            id=e.id,
            kind=e.kind,
            occurred_on=e.occurred_on,
            counterpart=e.counterpart,
            detail=e.detail,
            from_region_code=e.from_region_code,
            to_region_code=e.to_region_code,
        )
        for e in session.scalars(
            select(LifecycleEvent)
            .where(LifecycleEvent.enterprise_id == enterprise_id)
            .order_by(LifecycleEvent.occurred_on, LifecycleEvent.id)
        )
    ]
