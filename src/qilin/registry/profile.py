"""An enterprise's records for its profile (企业画像) and the API: detail, rounds, valuations, events.
Money is hidden (``None``) unless the caller may see financial figures."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from qilin.common.money import Money, format_cn
from qilin.registry import schemas
from qilin.registry.models import Enterprise, FundingRound, LifecycleEvent, Valuation
from qilin.registry.search import item_columns, item_fields
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


def detail(
    session: Session,
    *,
    enterprise_id: str,
    financial: bool,
    snapshot_id: int | None,
    scope: ColumnElement[bool] | None = None,
) -> schemas.EnterpriseDetail:
    """The enterprise's facts with its tier in the snapshot, latest stage, tracks and (for financial roles)
    latest valuation, read in one query. Raises :class:`NotFound` when it is missing or outside ``scope``."""
    tier = (
        select(TierSnapshotEntry.tier)
        .where(
            TierSnapshotEntry.snapshot_id == (snapshot_id or -1),
            TierSnapshotEntry.enterprise_id == Enterprise.id,
        )
        .correlate(Enterprise)
        .scalar_subquery()
    )
    latest_valuation_id = (
        select(Valuation.id)
        .where(Valuation.enterprise_id == Enterprise.id)
        .order_by(Valuation.as_of.desc(), Valuation.id.desc())
        .limit(1)
        .correlate(Enterprise)
        .scalar_subquery()
    )
    e = Enterprise
    query = select(
        *item_columns(),
        tier.label("tier"),
        e.industry_code,
        e.category,
        e.country,
        e.status_as_of,
        e.source,
        *([Valuation.value, Valuation.currency, Valuation.as_of, Valuation.evidence] if financial else []),
    ).where(Enterprise.id == enterprise_id, *([] if scope is None else [scope]))
    if financial:
        query = query.outerjoin(Valuation, Valuation.id == latest_valuation_id)
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound(enterprise_id)
    valued = financial and row.as_of is not None
    return schemas.EnterpriseDetail(
        **item_fields(row),
        industry_code=row.industry_code,
        category=row.category,
        country=row.country,
        status_as_of=row.status_as_of,
        source=row.source,
        latest_valuation=money(row.value, row.currency) if valued else None,
        latest_valuation_as_of=row.as_of if valued else None,
        latest_valuation_evidence=row.evidence if valued else None,
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
