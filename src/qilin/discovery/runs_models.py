"""Discovery runs (AI 发现运行记录): each ``qilin discover run`` scores the registry's enterprises that are
operating and not yet unicorns on an as-of date with one model, and keeps the result as history.

- ``discovery_runs``: one row per run — the as-of date, the model version (the model file's training as-of
  date and sha256), when it ran (UTC), how many enterprises were scored. One run per as-of date and model:
  a second one is refused (the database enforces it too), never replaced;
- ``discovery_scores``: per run and enterprise, the calibrated score, the rank (1 = most likely future
  unicorn), the reasons (理由, JSON ``{"zh": [...], "en": [...]}``) and the enterprise's place in the three
  simple rankings the model is measured against (by total raised, raised in the last two years, latest
  round; null when the amount is unknown, and in runs made before migration ``0008``).

A run also keeps the model's back-test (model beside the same baselines, from the model file), so the
watch-list is always shown with the evidence for it.

Both tables are append-only (migration ``0005``): no updates; on PostgreSQL no row deletes either.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qilin.db import Base, utcnow
from qilin.tiers.selection_models import UTCDateTime

__all__ = ["DiscoveryRun", "DiscoveryScore"]


class DiscoveryRun(Base):
    """One scoring run of the registry on an as-of date with one model version."""

    __tablename__ = "discovery_runs"
    __table_args__ = (UniqueConstraint("as_of", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    enterprises: Mapped[int] = mapped_column(Integer)
    # the model file's back-test metrics (model and baselines, with intervals) at the time of the run
    backtest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class DiscoveryScore(Base):
    """One enterprise's score, rank and reasons in one run."""

    __tablename__ = "discovery_scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("discovery_runs.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True, index=True)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON)
    # place in the simple rankings (对照排名) among the run's enterprises; equal amounts share a place
    rank_total_raised: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rank_raised_2y: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rank_latest_round: Mapped[int | None] = mapped_column(Integer, nullable=True)
