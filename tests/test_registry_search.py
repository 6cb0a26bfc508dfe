"""The registry list's name search: the in-memory name index and the database's LIKE agree, for rare and
common fragments, Chinese and English, with LIKE's wildcards taken literally."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import true
from sqlalchemy.orm import Session

from factories import start_up
from qilin.db import code_prefix, utcnow
from qilin.registry import search
from qilin.registry.models import Enterprise

NAMES = [
    ("E01", "杭州星河科技有限公司", "Hangzhou Galaxy Tech"),
    ("E02", "宁波星河材料有限公司", "Ningbo GALAXY Materials"),
    ("E03", "温州百分百_科技有限公司", "Wenzhou 100%_Tech"),
    ("E04", "嘉兴云端智能有限公司", None),
    ("E05", "湖州云端生物有限公司", "Huzhou Cloud Bio"),
    ("E06", "台州海洋科技有限公司", "Taizhou Ocean Tech"),
]


def _ids(session: Session, q: str) -> list[str]:
    page = search.search(
        session, scope=true(), filters=search.EnterpriseFilters(q=q), snapshot_id=None, page_size=100
    )
    assert page.total == len(page.items)
    return [item.id for item in page.items]


@pytest.fixture
def registry(session: Session) -> Session:
    for eid, name, name_en in NAMES:
        session.add(Enterprise(id=eid, name=name, name_en=name_en, region_code="330106", country="CN"))
    session.commit()
    return session


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("星河", ["E02", "E01"]),  # ordered by name (code point order: 宁 < 杭)
        ("galaxy", ["E02", "E01"]),
        ("云端", ["E05", "E04"]),
        ("%", ["E03"]),
        ("_", ["E03"]),
        ("100%_", ["E03"]),
        ("科技", ["E06", "E01", "E03"]),
        ("不存在", []),
    ],
)
def test_in_memory_names_and_like_agree(
    registry: Session, monkeypatch: pytest.MonkeyPatch, q: str, expected: list[str]
) -> None:
    by_memory = _ids(registry, q)
    monkeypatch.setattr(search, "NAME_MATCH_LIMIT", 0)  # every fragment "too common": the database's LIKE
    search.forget_counts()
    by_like = _ids(registry, q)
    assert sorted(by_memory) == sorted(by_like) == sorted(expected)
    assert by_memory == by_like


def test_names_are_reloaded_after_a_write_in_this_process(registry: Session) -> None:
    assert _ids(registry, "新名字") == []
    enterprise = registry.get(Enterprise, "E04")
    assert enterprise is not None
    enterprise.name = "嘉兴新名字有限公司"
    registry.commit()
    search.REGISTRY_WRITES[0] += 1  # what registry.service.update and imports do
    assert _ids(registry, "新名字") == ["E04"]


def test_names_follow_another_process_write_once_the_version_moves(
    registry: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename by another process (this one's REGISTRY_WRITES unchanged) is seen after the check interval,
    through the registry's version; while the version stands still the names are not read again."""
    loads: list[int] = []
    real_load = search._load_names
    monkeypatch.setattr(search, "_load_names", lambda s: loads.append(1) or real_load(s))
    monkeypatch.setattr(search, "NAMES_CHECK_SECONDS", 0.0)  # every search checks the version
    assert _ids(registry, "新名字") == []
    assert _ids(registry, "星河") == ["E02", "E01"]
    assert len(loads) == 1  # unchanged version: the second search reused the names

    enterprise = registry.get(Enterprise, "E04")
    assert enterprise is not None
    enterprise.name = "嘉兴新名字有限公司"
    enterprise.updated_at = utcnow()  # what every write path does (registry.service.update, imports)
    registry.commit()
    assert _ids(registry, "新名字") == ["E04"]
    registry.add(Enterprise(id="E07", name="丽水新名字有限公司", region_code="331100", country="CN"))
    registry.commit()
    assert _ids(registry, "新名字") == ["E07", "E04"]  # 丽 < 嘉
    assert len(loads) == 3


def test_names_inside_a_region_narrow_before_the_match_limit(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fragment too common province-wide but rare in a city is matched in memory within the city's
    prefix, with the same answer as the database's LIKE; the scope still applies."""
    for i in range(6):
        region = "330106" if i < 2 else "330203"  # two in Hangzhou (西湖区), four in Ningbo (海曙区)
        session.add(Enterprise(id=f"R{i}", name=f"浙江星河{i}号有限公司", region_code=region, country="CN"))
    session.commit()
    monkeypatch.setattr(search, "NAME_MATCH_LIMIT", 3)
    scanned: list[str | None] = []
    real = search._name_matches
    monkeypatch.setattr(search, "_name_matches", lambda s, t, r: scanned.append(r) or real(s, t, r))

    def ids(scope_region: str | None, region: str | None = None) -> list[str]:
        scope = code_prefix(Enterprise.region_code, scope_region) if scope_region else true()
        page = search.search(
            session,
            scope=scope,
            scope_region=scope_region,
            filters=search.EnterpriseFilters(q="星河", region=region),
            snapshot_id=None,
            page_size=100,
        )
        return [item.id for item in page.items]

    assert search._name_matches(session, "星河", "") is None  # 6 > 3: province-wide it is "too common"
    assert search._name_matches(session, "星河", "3301") == ["R0", "R1"]
    assert ids("3301") == ["R0", "R1"]
    assert ids(None, region="330100") == ["R0", "R1"]  # the filter's region narrows the same way
    assert ids("3302") == ["R2", "R3", "R4", "R5"]  # 4 > 3: left to LIKE, same answer
    assert ids("3301", region="330200") == []  # a filter outside the scope finds nothing
    assert ids(None) == [f"R{i}" for i in range(6)]
    assert scanned[-5:] == ["3301", "3301", "3302", "3301", ""]  # disjoint prefixes: either narrows soundly


def test_ids_in_scope_asks_in_lists_the_database_allows(
    registry: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many ids are asked a list at a time: with SQLite's parameter limit lowered to 5, 200 ids (six of
    them enterprises, one outside the scope) in lists of 4."""
    ids = [f"X{i:03d}" for i in range(194)] + [eid for eid, _, _ in NAMES]
    outside_ningbo = Enterprise.id != "E02"
    monkeypatch.setattr(search, "IDS_PER_QUERY", 4)
    raw = registry.connection().connection.driver_connection
    limited = registry.get_bind().dialect.name == "sqlite"
    before = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 5) if limited else None
    try:
        found = search.ids_in_scope(registry, scope=outside_ningbo, ids=ids)
    finally:
        if before is not None:
            raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)
    assert found == {"E01", "E03", "E04", "E05", "E06"}


def test_the_server_loads_the_names_for_searching_at_start_up(registry: Session, db_url: str) -> None:
    """A server (not under test settings) loads the names the enterprise list searches as it starts, in
    the background; the first search finds them current."""
    url = str(registry.get_bind().engine.url)
    assert url not in search._names
    start_up(db_url)
    loaded = search._names[url]
    assert set(loaded.ids) == {eid for eid, _, _ in NAMES}
    assert _ids(registry, "星河") == ["E02", "E01"]
    assert search._names[url] is loaded  # not loaded again
