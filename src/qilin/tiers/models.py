"""Tier snapshots (梯队快照): the tiers of every enterprise under one standard as of one date, with traces.

A snapshot is immutable once taken: the service offers no way to change it, and database triggers refuse
updates (and, on PostgreSQL, deletes) of its rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qilin.db import Base, CompressedJSON, utcnow


class TierSnapshot(Base):
    __tablename__ = "tier_snapshots"
    __table_args__ = (UniqueConstraint("standard_id", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    standard_id: Mapped[str] = mapped_column(String(60))
    standard_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    retroactive: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    taken_by: Mapped[str | None] = mapped_column(String(100))
    enterprises: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class TierSnapshotEntry(Base):
    __tablename__ = "tier_snapshot_entries"
    # Lists filter one snapshot's entries by tier (企业库 tier filter, cockpit counts).
    __table_args__ = (
        Index("ix_tier_snapshot_entries_snapshot_tier", "snapshot_id", "tier", "enterprise_id"),
    )

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tier_snapshots.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    tier: Mapped[str] = mapped_column(String(20), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    exclusions: Mapped[list[str]] = mapped_column(JSON)
    trace: Mapped[dict[str, Any]] = mapped_column(CompressedJSON)  # read whole, never queried into
