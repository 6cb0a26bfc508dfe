"""Registry queries: look-ups and the registry summary (企业库概况)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.audit.service import Actor, record
from qilin.common.dates import EARLIEST, today
from qilin.common.messages import both, t
from qilin.db import utcnow
from qilin.reference import industries, regions, tracks
from qilin.registry.models import Enterprise, EnterpriseTrack, FundingRound
from qilin.registry.search import REGISTRY_WRITES


@dataclass(frozen=True, slots=True)
class SummaryRow:
    label: str
    count: int
    synthetic: int


@dataclass(frozen=True, slots=True)
class RegistrySummary:
    enterprises: int
    synthetic: int
    rounds: int
    by_city: list[SummaryRow]
    by_track: list[SummaryRow]
    by_stage: list[SummaryRow]


def get(session: Session, *, enterprise_id: str) -> Enterprise | None:
    return session.get(Enterprise, enterprise_id)


def get_by_uscc(session: Session, *, uscc: str) -> Enterprise | None:
    return session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).one_or_none()


def _rows(total: Counter[str], synthetic: Counter[str]) -> list[SummaryRow]:
    return [
        SummaryRow(label, n, synthetic[label])
        for label, n in sorted(total.items(), key=lambda x: (-x[1], x[0]))
    ]


def registry_summary(session: Session, *, lang: str = "zh") -> RegistrySummary:
    """Counts of enterprises by city, by track and by latest funding stage, with the synthetic share."""
    synthetic_of: dict[str, bool] = {}
    city_total: Counter[str] = Counter()
    city_synth: Counter[str] = Counter()
    for eid, region_code, city, is_synthetic in session.execute(
        select(Enterprise.id, Enterprise.region_code, Enterprise.city, Enterprise.is_synthetic)
    ):
        synthetic_of[eid] = is_synthetic
        region = regions.city_of(region_code) if region_code else None
        label = region.name if region else (city or t("summary.unknown_city", lang=lang))
        city_total[label] += 1
        city_synth[label] += is_synthetic

    track_total: Counter[str] = Counter()
    track_synth: Counter[str] = Counter()
    with_track: set[str] = set()
    names = tracks.all_tracks()
    for eid, code in session.execute(select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code)):
        track = names.get(code)
        label = (track.name_zh if lang == "zh" else track.name_en) if track else code
        track_total[label] += 1
        track_synth[label] += synthetic_of.get(eid, False)
        with_track.add(eid)
    no_track = [eid for eid in synthetic_of if eid not in with_track]
    if no_track:
        label = t("summary.no_track", lang=lang)
        track_total[label] = len(no_track)
        track_synth[label] = sum(synthetic_of[e] for e in no_track)

    latest: dict[str, tuple[dt.date, str]] = {}
    for eid, announced_on, round_type in session.execute(
        select(FundingRound.enterprise_id, FundingRound.announced_on, FundingRound.round_type)
    ):
        if eid not in latest or announced_on >= latest[eid][0]:
            latest[eid] = (announced_on, round_type)
    stage_total: Counter[str] = Counter()
    stage_synth: Counter[str] = Counter()
    for eid, synthetic in synthetic_of.items():
        stage = latest[eid][1] if eid in latest else "none"
        label = t(f"round_type.{stage}", lang=lang)
        stage_total[label] += 1
        stage_synth[label] += synthetic

    rounds = session.scalar(select(func.count()).select_from(FundingRound)) or 0
    return RegistrySummary(
        enterprises=len(synthetic_of),
        synthetic=sum(synthetic_of.values()),
        rounds=rounds,
        by_city=_rows(city_total, city_synth),
        by_track=_rows(track_total, track_synth),
        by_stage=_rows(stage_total, stage_synth),
    )


class UpdateRefused(ValueError):
    """A change that cannot be made as asked; the message is Chinese / English."""


def update(
    session: Session,
    *,
    enterprise: Enterprise,
    changes: dict[str, object],
    actor: Actor,
    allowed_region: Callable[[str], bool],
) -> dict[str, tuple[object, object]]:
    """Apply ``changes`` to ``enterprise`` and audit them (old and new values) in the same transaction.
    A new region must be a known code that ``allowed_region`` accepts (a county officer cannot move an
    enterprise out of its county). Returns what changed."""
    if "region_code" in changes:
        code = changes["region_code"]
        if not isinstance(code, str) or regions.get(code) is None:
            raise UpdateRefused(f"{t('region.unknown')} / {t('region.unknown', lang='en')}: {code}")
        if not allowed_region(code):
            raise UpdateRefused(
                f"不能把企业迁到您的管辖区域之外：{code} / "
                f"cannot move an enterprise outside your region: {code}"
            )
    if changes.get("industry_code") is not None and industries.get(str(changes["industry_code"])) is None:
        raise UpdateRefused(f"{t('industry.unknown')} / {t('industry.unknown', lang='en')}")
    if "name" in changes and not changes["name"]:
        raise UpdateRefused(f"{t('field.required')} / {t('field.required', lang='en')}: name")
    founded = changes.get("founded_on")
    if isinstance(founded, dt.date) and founded > today():
        raise UpdateRefused(
            f"{t('date.future', today=today())} / {t('date.future', lang='en', today=today())}"
        )
    if isinstance(founded, dt.date) and founded < EARLIEST:
        raise UpdateRefused(both("date.too_early", earliest=EARLIEST.isoformat()))
    changed: dict[str, tuple[object, object]] = {}
    for key, value in changes.items():
        old = getattr(enterprise, key)
        if old != value:
            changed[key] = (old, value)
            setattr(enterprise, key, value)
    if "region_code" in changed:
        city = regions.city_of(str(changes["region_code"]))
        enterprise.city = city.name if city else None  # unknown, never the old region's city
    if changed:
        REGISTRY_WRITES[0] += 1
        enterprise.updated_at = utcnow()
        record(
            session,
            actor=actor,
            action="enterprise.update",
            subject_type="enterprise",
            subject_id=enterprise.id,
            old={k: v[0] for k, v in changed.items()},
            new={k: v[1] for k, v in changed.items()},
        )
    return changed
