"""行政区划 (GB/T 2260, 民政部 2024): Zhejiang's 102 divisions and the national list of 3,213."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from qilin.reference._files import read_csv

ZHEJIANG = "330000"


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str  # province / prefecture / county
    parent_code: str | None
    province_code: str

    @property
    def in_zhejiang(self) -> bool:
        return self.province_code == ZHEJIANG


@cache
def all_regions() -> dict[str, Region]:
    """Every division nationwide, by 6-digit code."""
    out: dict[str, Region] = {}
    for row in read_csv("china_divisions_2024.csv"):
        out[row["code"]] = Region(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_code=row["parent_code"] or None,
            province_code=row["province_code"],
        )
    return out


@cache
def zhejiang_regions() -> dict[str, Region]:
    """The 102 Zhejiang units: the province, 11 cities and 90 counties/districts."""
    return {code: r for code, r in all_regions().items() if r.in_zhejiang}


def get(code: str) -> Region | None:
    return all_regions().get(code)


def is_zhejiang(code: str | None) -> bool:
    return bool(code) and str(code).startswith("33")


def city_of(code: str) -> Region | None:
    """The prefecture-level city (地级市) containing ``code`` (itself when it is a city)."""
    region = all_regions().get(code)
    while region is not None and region.level == "county":
        region = all_regions().get(region.parent_code or "")
    if region is None or region.level != "prefecture":
        return None
    return region


def zhejiang_cities() -> list[Region]:
    return [r for r in zhejiang_regions().values() if r.level == "prefecture"]


def zhejiang_counties(city_code: str | None = None) -> list[Region]:
    return [
        r
        for r in zhejiang_regions().values()
        if r.level == "county" and (city_code is None or r.parent_code == city_code)
    ]
