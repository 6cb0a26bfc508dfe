"""The action plan's tracks (赛道): emerging industries (新兴产业), future industries (未来产业) and the key
fields of task 13 (重点领域)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from qilin.reference._files import read_csv

GROUPS = ("emerging", "future", "key_field")


@dataclass(frozen=True, slots=True)
class Track:
    code: str
    group: str
    name_zh: str
    name_en: str


@cache
def all_tracks() -> dict[str, Track]:
    return {
        r["code"]: Track(r["code"], r["group"], r["name_zh"], r["name_en"]) for r in read_csv("tracks.csv")
    }


@cache
def _by_any_name() -> dict[str, str]:
    out: dict[str, str] = {}
    for t in all_tracks().values():
        out[t.code] = t.code
        out[t.name_zh] = t.code
        out[t.name_en.casefold()] = t.code
    return out


def resolve(text: str) -> str | None:
    """The track code for a code, a Chinese name or an English name; None when unknown."""
    key = text.strip()
    return _by_any_name().get(key) or _by_any_name().get(key.casefold())
