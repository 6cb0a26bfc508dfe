"""The real Zhejiang unicorns in the demo: public facts from the CB Insights Global Unicorn Club, attributed.

The 19 rows of ``data/zhejiang_unicorns_cbinsights.csv`` become companies ``CBI-<slug>`` with a
third-party-list valuation (证据等级 第三方榜单) at the last snapshot and a ``unicorn_events`` row at the
date joined. Nothing is invented: ``founded_on`` and the industry class stay empty, tracks are filled only
where the business plainly is one, and a 统一社会信用代码 and a region only where
``data/zhejiang_unicorns_registry.csv`` (when present) gives a code that passes the check digit. A
Zhejiang-registered enterprise must carry its code, so without one ``region_code`` stays empty and only
``city`` is filled. The list marks companies still private at each snapshot, so every one stays
``operating`` as of its latest snapshot on or before the package date.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from qilin.reference import regions, uscc

COMPANY_SOURCE = "CB Insights Global Unicorn Club (public facts)"
VALUATION_SOURCE = "CB Insights"
EVENT_SOURCE = "CB Insights Global Unicorn Club"
LIST_FILE = "zhejiang_unicorns_cbinsights.csv"
REGISTRY_FILE = "zhejiang_unicorns_registry.csv"

# Tracks only where the business is plainly one of them; the others stay empty.
TRACKS: Mapping[str, str] = {
    "Leapmotor": "new_energy_vehicles",
    "Unitree Robotics": "humanoid_robots",
    "Fox Ess": "new_energy_storage",
    "Valgen Medtech": "biomedicine",
}
# CB Insights city → (prefecture name, region code used when a USCC is known).
CITIES: Mapping[str, tuple[str, str]] = {
    "Hangzhou": ("杭州市", "330100"),
    "Ningbo": ("宁波市", "330200"),
    "Wenzhou": ("温州市", "330300"),
    "Jiaxing": ("嘉兴市", "330400"),
    "Haining": ("嘉兴市", "330481"),  # 海宁市, a county-level city of 嘉兴
    "Huzhou": ("湖州市", "330500"),
    "Shaoxing": ("绍兴市", "330600"),
    "Jinhua": ("金华市", "330700"),
    "Taizhou": ("台州市", "331000"),
}


def data_text(name: str) -> str | None:
    """The text of ``qilin/demo/data/<name>``, or None when the file is absent."""
    resource = resources.files("qilin.demo").joinpath("data", name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")


def data_csv(name: str) -> list[dict[str, str]]:
    """The rows of ``qilin/demo/data/<name>`` (none when the file is absent)."""
    text = data_text(name)
    return [] if text is None else list(csv.DictReader(text.splitlines()))


def slug(text: str) -> str:
    """A lower-case id fragment: ``"Dxy.cn"`` → ``"dxy-cn"``, ``"We Doctor"`` → ``"we-doctor"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclass(slots=True)
class RealRecords:
    """Rows for three package files, as dicts keyed by column (``synthetic`` left out: it is empty)."""

    companies: list[dict[str, Any]] = field(default_factory=list)
    valuations: list[dict[str, Any]] = field(default_factory=list)
    unicorn_events: list[dict[str, Any]] = field(default_factory=list)


def _region(row: Mapping[str, str], default_region: str) -> str | None:
    """The registry's region when it lies in the listed city, else the city's (or Haining's) code."""
    candidate = (row.get("region_code") or "").strip()
    home = regions.city_of(default_region) if default_region else None
    found = regions.city_of(candidate) if candidate else None
    if home is not None and found is not None and found.code == home.code:
        return candidate
    return default_region or None


def real_unicorns(as_of: dt.date) -> RealRecords:
    """The real Zhejiang unicorns known on ``as_of``: nothing dated after it is included."""
    registry = {row["company"].strip(): row for row in data_csv(REGISTRY_FILE)}
    out = RealRecords()
    for row in data_csv(LIST_FILE):
        company = row["company"].strip()
        joined = _date(row["date_joined"])
        if joined is None or joined > as_of:
            continue
        snapshots = [d for d in map(_date, row["snapshots"].split(";")) if d is not None and d <= as_of]
        city_name, default_region = CITIES.get(row["city"].strip(), ("", ""))
        reg = registry.get(company, {})
        code = uscc.normalize(reg.get("uscc") or "")
        credit_code = code if code and uscc.is_valid(code) else None
        company_id = f"CBI-{slug(company)}"
        out.companies.append(
            {
                "id": company_id,
                "name": row["name_zh"].strip() or company,
                "uscc": credit_code,
                "name_en": company,
                "founded_on": None,
                "country": "CN",
                "region_code": _region(reg, default_region) if credit_code else None,
                "city": city_name or None,
                "industry_code": None,
                "category": row["industry"].strip() or None,
                "tracks": TRACKS.get(company),
                "status": "operating",
                "status_as_of": max([joined, *snapshots]),
                "source": COMPANY_SOURCE,
            }
        )
        last_seen = _date(row["last_seen_snapshot"])
        latest = row["latest_valuation_usd_b"].strip()
        if last_seen is not None and last_seen <= as_of and latest:
            out.valuations.append(
                {
                    "company_id": company_id,
                    "as_of": last_seen,
                    "value": round(float(latest) * 1000) * 1_000_000,
                    "currency": "USD",
                    "evidence": "third-party-list",
                    "source": VALUATION_SOURCE,
                }
            )
        out.unicorn_events.append({"company_id": company_id, "joined_on": joined, "source": EVENT_SOURCE})
    out.companies.sort(key=lambda r: r["id"])
    out.valuations.sort(key=lambda r: (r["company_id"], r["as_of"]))
    out.unicorn_events.sort(key=lambda r: r["company_id"])
    return out
