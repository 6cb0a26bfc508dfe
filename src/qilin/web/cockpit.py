"""The cockpit (驾驶舱) summary: computed first as plain data (tested), then laid out by the template.

Tiers come from the latest snapshot of the platform's standard, inside the viewer's scope; the plan's
target is more than 80 unicorns by 2027 (浙江省加快培育独角兽企业行动方案 2024–2027).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qilin.auth.scope import Principal, enterprise_filter, lead_filter
from qilin.config import get_settings
from qilin.discovery.leads_models import Lead
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.reference import regions, tracks
from qilin.registry.models import Enterprise, EnterpriseTrack
from qilin.registry.search import region_condition
from qilin.tiers.explain import tier_name
from qilin.tiers.models import TierSnapshot, TierSnapshotEntry
from qilin.tiers.standards import TIER_CODES
from qilin.web.enterprises import allowed_cities, allowed_counties, standard_name
from qilin.web.messages import t

PLAN_TARGET = 80
PLAN_TARGET_YEAR = 2027
UNICORN_TIERS = ("super_unicorn", "unicorn")
TIERED = tuple(c for c in TIER_CODES if c != "none")


def watch_cut(scored: int) -> int:
    """The last rank of the AI watch-list (AI 关注名单): the top 5% of a run's scored enterprises."""
    return max(1, scored // 20)


def chart_labels() -> dict[str, str]:
    """The words the cockpit's charts draw (cockpit.js), from the message catalog."""
    keys = ("tiered", "unicorn", "more", "less", "unit", "map_failed")
    labels = {key: t(f"cockpit.{key}") for key in keys}
    labels["target_line"] = t("cockpit.target_line", year=PLAN_TARGET_YEAR, target=PLAN_TARGET)
    return labels


def _region_row(region: regions.Region, counts: Counter[str]) -> dict[str, Any]:
    """A city's or county's row: its tiered enterprises, unicorns and each tier's count."""
    return {
        "code": region.code,
        "name": region.name,
        "unicorns": sum(counts[t] for t in UNICORN_TIERS),
        "tiered": sum(counts[t] for t in TIERED),
        **{t: counts[t] for t in TIERED},
    }


def summary(session: Session, *, principal: Principal, city: str | None = None) -> dict[str, Any]:
    standard = get_settings().default_standard
    scope = [enterprise_filter(principal)]
    own = allowed_cities(principal)
    city_region = regions.get(city) if city else None
    if city_region is not None and city_region.code in {c.code for c in own}:
        # a Zhejiang city, and one the viewer may look at (another city would only show zeros)
        scope.append(region_condition(city_region.code))
    else:
        city_region = None
    # The map: the province's cities, or one city's counties (the city chosen, or an officer's own city).
    map_city = city_region or (own[0] if not principal.province_wide and len(own) == 1 else None)

    snapshots = session.scalars(
        select(TierSnapshot).where(TierSnapshot.standard_id == standard).order_by(TierSnapshot.as_of)
    ).all()
    latest = snapshots[-1] if snapshots else None

    # Trend: the last snapshot of each year.
    last_of_year: dict[int, TierSnapshot] = {}
    for s in snapshots:
        last_of_year[s.as_of.year] = s
    # (region, tier, enterprises) of each snapshot shown, inside the scope, in one query (one pass over the
    # enterprises, not one per snapshot); only tiered entries are read (the (snapshot_id, tier) index
    # skips the large "none" majority).
    shown = {s.id for s in last_of_year.values()}  # the latest among them
    tiered: dict[int, list[tuple[str | None, str, int]]] = defaultdict(list)
    if shown:
        for snapshot_id, region_code, tier, n in session.execute(
            select(
                TierSnapshotEntry.snapshot_id, Enterprise.region_code, TierSnapshotEntry.tier, func.count()
            )
            .join(Enterprise, Enterprise.id == TierSnapshotEntry.enterprise_id)
            .where(
                TierSnapshotEntry.snapshot_id.in_(sorted(shown)), TierSnapshotEntry.tier.in_(TIERED), *scope
            )
            .group_by(TierSnapshotEntry.snapshot_id, Enterprise.region_code, TierSnapshotEntry.tier)
        ):
            tiered[snapshot_id].append((region_code, tier, n))

    tier_counts: Counter[str] = Counter()
    by_city: dict[str, Counter[str]] = defaultdict(Counter)
    by_county: dict[str, Counter[str]] = defaultdict(Counter)
    if latest is not None:
        for region_code, tier, n in tiered[latest.id]:
            tier_counts[tier] += n
            c = regions.city_of(region_code) if region_code else None
            if c is not None:
                by_city[c.code][tier] += n
            region = regions.get(region_code) if region_code else None
            if region is not None and region.level == "county":
                by_county[region.code][tier] += n

    trend = []
    for year, s in sorted(last_of_year.items()):
        counts: Counter[str] = Counter()
        for _, tier, n in tiered[s.id]:
            counts[tier] += n
        trend.append(
            {
                "year": year,
                "as_of": s.as_of.isoformat(),
                "unicorns": sum(counts[t] for t in UNICORN_TIERS),
                "tiered": sum(counts[t] for t in TIERED),
            }
        )

    by_track: list[dict[str, Any]] = []
    if latest is not None:
        rows = session.execute(
            select(EnterpriseTrack.track_code, func.count())
            .join(Enterprise, Enterprise.id == EnterpriseTrack.enterprise_id)
            .join(
                TierSnapshotEntry,
                (TierSnapshotEntry.enterprise_id == Enterprise.id)
                & (TierSnapshotEntry.snapshot_id == latest.id),
            )
            .where(TierSnapshotEntry.tier.in_(TIERED), *scope)  # an index range, as above
            .group_by(EnterpriseTrack.track_code)
            .order_by(func.count().desc(), EnterpriseTrack.track_code)  # ties in a fixed order
        )
        known = tracks.all_tracks()
        by_track = [
            {"code": code, "name": known[code].name_zh if code in known else code, "count": n}
            for code, n in rows
        ]

    # One pass: the count and the synthetic share (a separate count would pick the is_synthetic index).
    counted = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Enterprise.is_synthetic, 1), else_=0)), 0)).where(
            *scope
        )
    ).one()
    enterprises, synthetic = int(counted[0]), int(counted[1])

    run = session.scalar(
        select(DiscoveryRun).order_by(DiscoveryRun.as_of.desc(), DiscoveryRun.id.desc()).limit(1)
    )
    funnel: list[dict[str, Any]] = [{"stage": t("cockpit.enterprises"), "count": enterprises}]
    if run is not None:
        scored = (
            session.scalar(
                select(func.count())
                .select_from(DiscoveryScore)
                .join(Enterprise, Enterprise.id == DiscoveryScore.enterprise_id)
                .where(DiscoveryScore.run_id == run.id, *scope)
            )
            or 0
        )
        top_cut = watch_cut(run.enterprises)
        watch = (
            session.scalar(
                select(func.count())
                .select_from(DiscoveryScore)
                .join(Enterprise, Enterprise.id == DiscoveryScore.enterprise_id)
                .where(DiscoveryScore.run_id == run.id, DiscoveryScore.rank <= top_cut, *scope)
            )
            or 0
        )
        funnel += [
            {"stage": t("cockpit.scored"), "count": scored},
            {"stage": t("cockpit.watched"), "count": watch},
        ]
    funnel += [
        {"stage": t("cockpit.in_tiers"), "count": sum(tier_counts[code] for code in TIERED)},
        {"stage": t("cockpit.unicorn"), "count": sum(tier_counts[code] for code in UNICORN_TIERS)},
    ]
    leads_total = session.scalar(select(func.count()).select_from(Lead).where(lead_filter(principal))) or 0
    leads_accepted = (
        session.scalar(
            select(func.count()).select_from(Lead).where(lead_filter(principal), Lead.status == "accepted")
        )
        or 0
    )

    unicorns = sum(tier_counts[t] for t in UNICORN_TIERS)
    outside_counties = 0
    if map_city is not None:
        in_counties = sum(
            n for code, counts in by_county.items() if code[:4] == map_city.code[:4] for n in counts.values()
        )
        outside_counties = sum(by_city[map_city.code].values()) - in_counties
    return {
        "standard": standard,
        "standard_name": standard_name(standard),
        # the plan's province-wide target means something for the whole province only
        "province_view": principal.province_wide and city_region is None,
        "as_of": latest.as_of.isoformat() if latest else None,
        "city": {"code": city_region.code, "name": city_region.name} if city_region else None,
        "enterprises": enterprises,
        "synthetic": synthetic,
        "unicorns": unicorns,
        "target": PLAN_TARGET,
        "target_year": PLAN_TARGET_YEAR,
        "target_share": round(min(1.0, unicorns / PLAN_TARGET), 4),
        "tiers": [{"code": c, "name": tier_name(c), "count": tier_counts[c]} for c in TIERED],
        "by_city": [
            _region_row(c, by_city[c.code])
            for c in own  # an officer's own city: the others would be rows of zeros
        ],
        "map": (
            {"level": "county", "code": map_city.code, "name": map_city.name}
            if map_city
            else {
                "level": "city",
                "code": regions.ZHEJIANG,
                "name": regions.zhejiang_regions()[regions.ZHEJIANG].name,
            }
        ),
        "by_county": [
            _region_row(c, by_county[c.code])
            for c in allowed_counties(principal)  # a county officer's own county only
            if map_city is not None and c.parent_code == map_city.code
        ],
        # the map city's tiered enterprises registered with the city itself (市本级), in none of its counties
        "outside_counties": outside_counties,
        "by_track": by_track,
        "trend": trend,
        "funnel": funnel,
        "leads": {"total": leads_total, "accepted": leads_accepted},
        "discovery": {"as_of": run.as_of.isoformat(), "model": run.model_version} if run else None,
    }
