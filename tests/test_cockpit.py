"""The cockpit summary (驾驶舱) is plain data computed inside the viewer's scope: checked against the
snapshot entries directly."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qilin.auth.roles import Role
from qilin.auth.scope import Principal
from qilin.registry.models import Enterprise
from qilin.tiers.models import TierSnapshotEntry
from qilin.tiers.service import take_snapshot
from qilin.web import cockpit
from webkit import REGION_OF, WEST, YINZHOU, YUHANG, build_dataset


def _entries(session: Session, snapshot_id: int) -> dict[str, str]:
    rows = session.execute(
        select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier).where(
            TierSnapshotEntry.snapshot_id == snapshot_id
        )
    )
    return {eid: tier for eid, tier in rows}


def test_cockpit_counts_follow_the_latest_snapshot_and_the_scope(session: Session) -> None:
    build_dataset(session)
    later = take_snapshot(session, as_of=dt.date(2026, 6, 30), taken_by="test")
    session.commit()
    tiers = _entries(session, later.id)
    admin = cockpit.summary(session, principal=Principal(1, "a", Role.province_admin))
    expected = Counter(t for t in tiers.values() if t != "none")
    assert expected, tiers  # the dataset has tiered enterprises, so the counts below mean something
    assert {t["code"]: t["count"] for t in admin["tiers"] if t["count"]} == dict(expected)
    assert admin["as_of"] == "2026-06-30" and admin["enterprises"] == 3
    assert admin["unicorns"] == expected["unicorn"] + expected["super_unicorn"]
    assert sum(c["tiered"] for c in admin["by_city"]) == sum(expected.values())
    assert [r["year"] for r in admin["trend"]] == [2025, 2026]
    assert admin["leads"] == {"total": 2, "accepted": 0}
    assert admin["funnel"][0] == {"stage": "企业库企业", "count": 3}

    county = cockpit.summary(
        session, principal=Principal(2, "c", Role.county_officer, region_code=REGION_OF[WEST])
    )
    assert county["enterprises"] == 1 and county["leads"]["total"] == 1
    assert sum(t["count"] for t in county["tiers"]) == (tiers[WEST] != "none")
    assert [c["name"] for c in county["by_city"]] == ["杭州市"]  # its own city, not ten rows of zeros
    assert not county["province_view"] and admin["province_view"]
    assert len(admin["by_city"]) == 11
    ningbo = cockpit.summary(session, principal=Principal(1, "a", Role.province_admin), city="330200")
    assert ningbo["city"] == {"code": "330200", "name": "宁波市"} and ningbo["enterprises"] == 1
    assert sum(t["count"] for t in ningbo["tiers"]) == (tiers[YINZHOU] != "none")
    # A city code outside Zhejiang (or a county) is ignored, never an error.
    assert (
        cockpit.summary(session, principal=Principal(1, "a", Role.province_admin), city="110100")["city"]
        is None
    )


def test_a_city_view_maps_the_citys_counties_within_the_scope(session: Session) -> None:
    build_dataset(session)
    later = take_snapshot(session, as_of=dt.date(2026, 6, 30), taken_by="test")
    session.commit()
    tiers = _entries(session, later.id)
    admin = Principal(1, "a", Role.province_admin)
    province = cockpit.summary(session, principal=admin)
    assert province["map"] == {"level": "city", "code": "330000", "name": "浙江省"}
    assert province["by_county"] == [] and province["outside_counties"] == 0

    hangzhou = cockpit.summary(session, principal=admin, city="330100")
    assert hangzhou["map"] == {"level": "county", "code": "330100", "name": "杭州市"}
    counties = {c["code"]: c for c in hangzhou["by_county"]}
    assert len(counties) == 13 and all(
        code[:4] == "3301" for code in counties
    )  # 杭州市's 13 districts/counties
    for eid in (WEST, YUHANG):
        row = counties[REGION_OF[eid]]
        assert row["tiered"] == (tiers[eid] != "none"), (eid, tiers[eid])
        if tiers[eid] != "none":
            assert row[tiers[eid]] >= 1
    assert sum(c["tiered"] for c in counties.values()) == sum(tiers[e] != "none" for e in (WEST, YUHANG))
    assert hangzhou["outside_counties"] == 0

    # an officer's cockpit maps its own city without choosing it; a county officer's lists its county only
    city_officer = Principal(3, "c", Role.city_officer, region_code="330100")
    assert cockpit.summary(session, principal=city_officer)["map"]["code"] == "330100"
    county = cockpit.summary(
        session, principal=Principal(2, "c", Role.county_officer, region_code=REGION_OF[WEST])
    )
    assert county["map"]["code"] == "330100"
    assert [c["code"] for c in county["by_county"]] == [REGION_OF[WEST]]


def test_an_enterprise_registered_with_the_city_is_counted_outside_its_counties(session: Session) -> None:
    build_dataset(session)
    session.execute(update(Enterprise).where(Enterprise.id == WEST).values(region_code="330100"))
    later = take_snapshot(session, as_of=dt.date(2026, 6, 30), taken_by="test")
    session.commit()
    west_tiered = _entries(session, later.id)[WEST] != "none"
    assert west_tiered  # otherwise the count below would be 0 either way
    hangzhou = cockpit.summary(session, principal=Principal(1, "a", Role.province_admin), city="330100")
    assert hangzhou["outside_counties"] == 1
    assert REGION_OF[WEST] not in {c["code"] for c in hangzhou["by_county"] if c["tiered"]}
