"""国民经济行业分类 GB/T 4754-2017 (sections, divisions, groups, classes) and the
战略性新兴产业分类 (2018) categories."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from qilin.reference._files import read_csv


@dataclass(frozen=True, slots=True)
class Industry:
    code: str
    level: str  # section / division / group / class
    name: str
    parent_code: str | None


@cache
def gbt4754() -> dict[str, Industry]:
    return {
        row["code"]: Industry(row["code"], row["level"], row["name"], row["parent_code"] or None)
        for row in read_csv("gbt4754_2017.csv")
    }


def get(code: str) -> Industry | None:
    return gbt4754().get(code.strip().upper())


@cache
def sei_2018() -> dict[str, str]:
    """战略性新兴产业 categories: code → name."""
    return {row["code"]: row["name"] for row in read_csv("sei_2018_categories_level1_2.csv")}
