"""Registry tables: 企业 (enterprises), 融资 (funding rounds), 投资机构 (investors), 估值 (valuations with an
evidence grade), 经营数据 (operating reports), 生命周期事件 (lifecycle events), status history, import runs.

Histories are rows, not overwrites: a new valuation or status adds a row; the enterprise's ``status`` is the
latest by as-of date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qilin.db import Amount, Base, utcnow


class Enterprise(Base):
    """企业. Keyed by a stable external id; a Chinese enterprise also by its 统一社会信用代码 (``uscc``)."""

    __tablename__ = "enterprises"
    # The registry list pages by name inside a county or a city (a city officer's scope): these indexes
    # serve "in this region, ordered by name" without sorting the region's rows on every page.
    # The id completes each index so that paging (ORDER BY name, id … OFFSET) walks the index alone, and the
    # English name so that a name search (LIKE) is answered from the index without reading the rows.
    __table_args__ = (
        Index("ix_enterprises_name_id", "name", "id", "name_en"),
        Index("ix_enterprises_region_name", "region_code", "name", "id", "name_en"),
        Index("ix_enterprises_city_name", func.substr(text("region_code"), 1, 4), "name", "id", "name_en"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    country: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    city: Mapped[str | None] = mapped_column(String(64))
    industry_code: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="operating")
    status_as_of: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Indexed: (count, max(updated_at)) fingerprints the registry cheaply for per-process caches.
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    tracks: Mapped[list[EnterpriseTrack]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    rounds: Mapped[list[FundingRound]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="FundingRound.announced_on"
    )


class EnterpriseTrack(Base):
    """An enterprise's track (赛道), e.g. 人工智能."""

    __tablename__ = "enterprise_tracks"

    enterprise_id: Mapped[str] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True
    )
    track_code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class StatusRecord(Base):
    """One observed status (operating/acquired/closed/ipo) as of a date."""

    __tablename__ = "status_history"
    __table_args__ = (UniqueConstraint("enterprise_id", "status", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Investor(Base):
    """投资机构. Investors are identified by name as written in the round records."""

    __tablename__ = "investors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FundingRound(Base):
    """融资轮次. A round is identified by company, date, type and amount (``amount_key``).

    ``amount`` holds an exact amount; a vague one (数千万) is kept as ``amount_low``/``amount_high`` with
    ``amount_vague`` set, never as a guessed point; an undisclosed one (未透露) has neither.
    """

    __tablename__ = "funding_rounds"
    __table_args__ = (UniqueConstraint("enterprise_id", "announced_on", "round_type", "amount_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    announced_on: Mapped[dt.date] = mapped_column(Date, index=True)
    round_type: Mapped[str] = mapped_column(String(20))
    round_label: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal | None] = mapped_column(Amount)
    amount_low: Mapped[Decimal | None] = mapped_column(Amount)
    amount_high: Mapped[Decimal | None] = mapped_column(Amount)
    amount_vague: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_text: Mapped[str | None] = mapped_column(String(40))
    amount_key: Mapped[str] = mapped_column(String(60), default="")
    currency: Mapped[str | None] = mapped_column(String(3))
    post_money_valuation: Mapped[Decimal | None] = mapped_column(Amount)
    post_money_currency: Mapped[str | None] = mapped_column(String(3))
    post_money_text: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(200))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="rounds")
    investors: Mapped[list[RoundInvestor]] = relationship(
        cascade="all, delete-orphan", order_by="RoundInvestor.position"
    )


class RoundInvestor(Base):
    __tablename__ = "round_investors"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("funding_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    investor_id: Mapped[int] = mapped_column(
        ForeignKey("investors.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    investor: Mapped[Investor] = relationship(lazy="joined")


class Valuation(Base):
    """估值 with its evidence grade (证据等级): disclosed / third-party-list / estimated / self-declared."""

    __tablename__ = "valuations"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "as_of", "value", "currency", "evidence", "source"),
        Index("ix_valuations_enterprise_as_of", "enterprise_id", "as_of"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    evidence: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200), default="")
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OperatingReport(Base):
    """经营数据 for one year (amounts in RMB): revenue, net profit, employees, R&D, invention patents."""

    __tablename__ = "operating_reports"
    __table_args__ = (UniqueConstraint("enterprise_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[Decimal | None] = mapped_column(Amount)
    net_profit: Mapped[Decimal | None] = mapped_column(Amount)
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_expense: Mapped[Decimal | None] = mapped_column(Amount)
    rd_staff: Mapped[int | None] = mapped_column(Integer)
    invention_patents: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(200))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LifecycleEvent(Base):
    """生命周期事件: ipo, acquisition, closure, relocation, unicorn_list_entry (入选独角兽榜单).

    ``counterpart`` (acquirer, or destination region) is part of the identity, so that re-importing the
    same event changes nothing while two acquisitions on one day stay two.
    """

    __tablename__ = "lifecycle_events"
    __table_args__ = (UniqueConstraint("enterprise_id", "kind", "occurred_on", "counterpart"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    counterpart: Mapped[str] = mapped_column(String(200), default="")
    acquirer_name: Mapped[str | None] = mapped_column(String(200))
    price_amount: Mapped[Decimal | None] = mapped_column(Amount)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    from_region_code: Mapped[str | None] = mapped_column(String(6))
    to_region_code: Mapped[str | None] = mapped_column(String(6))
    detail: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(200))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImportRun(Base):
    """One run of ``qilin import``: what was read (with SHA-256 digests), what changed, by whom."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str | None] = mapped_column(String(100))
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    skipped_invalid: Mapped[int] = mapped_column(Integer, default=0)
