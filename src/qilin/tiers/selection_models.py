"""Yearly selection tables (年度遴选): the round, its list, its transition log, list changes and objections.

A selection is built from one tier snapshot; its list (名单) copies the snapshot's enterprises in a tier.
What the database itself enforces (migration ``0003``):

- one selection per year (unique ``year``);
- the transition log and the list-change log are append-only;
- a published selection's row can no longer change;
- an entry's enterprise, tier and region never change, a removed entry (提供虚假材料) never changes again, and
  once the selection is published the only change an entry accepts is its removal;
- a resolved objection can no longer change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from qilin.db import Base, utcnow

# Workflow states, in the order a selection normally passes them: 草稿, 市级审核, 省级审核, 公示, 发布.
STATES: tuple[str, ...] = ("draft", "city_review", "provincial_review", "public_notice", "published")
# An entry is on the list (入选), excluded during review (剔除), or removed for false data (撤销).
ENTRY_STATUSES: tuple[str, ...] = ("included", "excluded", "removed")
ENTRY_ACTIONS: tuple[str, ...] = ("exclude", "restore", "remove")
RESOLUTIONS: tuple[str, ...] = ("upheld", "dismissed")


def one_of(column: str, values: Sequence[str]) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite keeps no offset, so UTC is stored and
    re-attached on reading); naive datetimes are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware time")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Selection(Base):
    """年度遴选: one selection round per year, built from a tier snapshot."""

    __tablename__ = "selections"
    __table_args__ = (CheckConstraint(one_of("state", STATES), name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tier_snapshots.id"))
    standard_id: Mapped[str] = mapped_column(String(60))
    as_of: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    # The current objection period (公示期), both days included; each entry into public notice sets it and
    # the transition log keeps every period.
    notice_start: Mapped[dt.date | None] = mapped_column(Date)
    notice_end: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class SelectionEntry(Base):
    """One enterprise of a selection's list, with its tier from the snapshot. Never deleted: an enterprise
    that supplied false data (提供虚假材料) is marked removed, with the reason, actor and time."""

    __tablename__ = "selection_entries"
    __table_args__ = (
        CheckConstraint(one_of("status", ENTRY_STATUSES), name="status"),
        CheckConstraint(
            "(status = 'removed' AND removed_at IS NOT NULL AND removed_by IS NOT NULL "
            "AND removed_reason IS NOT NULL) OR (status <> 'removed' AND removed_at IS NULL)",
            name="removal",
        ),
    )

    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tier: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(20), default="included")
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(100))
    removed_reason: Mapped[str | None] = mapped_column(Text)


class SelectionTransition(Base):
    """One step of the workflow: who moved the selection from which state to which, when and why.
    Append-only; ``id`` gives the order."""

    __tablename__ = "selection_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    notice_start: Mapped[dt.date | None] = mapped_column(Date)
    notice_end: Mapped[dt.date | None] = mapped_column(Date)


class SelectionEntryChange(Base):
    """One change of the list: an entry excluded, restored or removed for false data, with the reason.
    Append-only."""

    __tablename__ = "selection_entry_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["selection_id", "enterprise_id"],
            ["selection_entries.selection_id", "selection_entries.enterprise_id"],
        ),
        CheckConstraint(one_of("action", ENTRY_ACTIONS), name="action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    selection_id: Mapped[int] = mapped_column(Integer, index=True)
    enterprise_id: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SelectionObjection(Base):
    """异议: an objection to an enterprise on the list, received during public notice, then resolved as
    upheld (成立) or dismissed (不成立) with a recorded resolution."""

    __tablename__ = "selection_objections"
    __table_args__ = (
        ForeignKeyConstraint(
            ["selection_id", "enterprise_id"],
            ["selection_entries.selection_id", "selection_entries.enterprise_id"],
        ),
        CheckConstraint(f"resolution IS NULL OR {one_of('resolution', RESOLUTIONS)}", name="resolution"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    selection_id: Mapped[int] = mapped_column(Integer, index=True)
    enterprise_id: Mapped[str] = mapped_column(String(255))
    objector: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    received_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_comment: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
