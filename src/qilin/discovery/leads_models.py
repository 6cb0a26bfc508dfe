"""Lead tables (线索) of the discovery channels (多元发现渠道): recommenders, leads, the transition log.

A lead is one candidate enterprise put forward through one channel by one recommender (推荐单位). It keeps
the submitted values exactly as they came (``submitted``, JSON) beside the parsed key fields. What the
database itself enforces (migration ``0004``):

- one lead per channel, recommender and identity (the USCC, or else the normalised name), so that importing
  the same file twice adds nothing;
- an accepted lead names its enterprise; a rejected lead has its reason;
- a lead that is accepted or rejected no longer changes;
- the transition log is append-only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from qilin.db import Base, utcnow
from qilin.tiers.selection_models import UTCDateTime, one_of

# Discovery channels of the action plan: 科技计划, 高校院所, 头部企业裂变, 投资并购, 双创赛事, 头部基金,
# 北上广深优质企业, 第三方推荐, AI 发现.
CHANNELS: tuple[str, ...] = (
    "tech_plan",
    "university",
    "spin_off",
    "investment_ma",
    "startup_contest",
    "leading_fund",
    "bjsgs",
    "third_party",
    "ai_discovery",
)
# Kinds of recommending institution: government department, university or institute, enterprise, investor
# (fund), consultancy, association, technology broker, the platform itself (AI discovery), other.
RECOMMENDER_KINDS: tuple[str, ...] = (
    "government",
    "university",
    "enterprise",
    "investor",
    "consultancy",
    "association",
    "tech_broker",
    "platform",
    "other",
)
# Lead states, in their normal order: 新线索, 核实中, 已采纳（入库）, 不予采纳.
STATES: tuple[str, ...] = ("new", "verifying", "accepted", "rejected")
FINAL_STATES: tuple[str, ...] = ("accepted", "rejected")


class Recommender(Base):
    """推荐单位: the institution that puts leads forward; its hit rate is measured."""

    __tablename__ = "recommenders"
    __table_args__ = (CheckConstraint(one_of("kind", RECOMMENDER_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lead(Base):
    """线索: one candidate from one channel and recommender, with its submitted facts and status.

    ``identity`` is ``uscc:<code>`` or ``name:<normalised name>``. ``matched_enterprise_id`` is the registry
    enterprise with the lead's USCC (never a name match); ``duplicate_of_id`` the earliest other lead with
    the same USCC; ``enterprise_id`` the enterprise the lead was accepted into.
    """

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("channel", "recommender_id", "identity"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("status", STATES), name="status"),
        CheckConstraint("status <> 'accepted' OR enterprise_id IS NOT NULL", name="accepted_enterprise"),
        CheckConstraint("status <> 'rejected' OR rejection_reason IS NOT NULL", name="rejected_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    recommender_id: Mapped[int] = mapped_column(ForeignKey("recommenders.id"), index=True)
    identity: Mapped[str] = mapped_column(String(210))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    tracks: Mapped[list[str]] = mapped_column(JSON)
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    submitted: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_line: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    matched_enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # 模拟数据: a demo lead (qilin.demo.leads); shown as such wherever listed
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LeadTransition(Base):
    """One move of a lead between states: who, when (UTC), from, to, comment. Append-only."""

    __tablename__ = "lead_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    enterprise_id: Mapped[str | None] = mapped_column(String(255))
