"""The registry list's name search: the in-memory name index and the database's LIKE agree, for rare and
common fragments, Chinese and English, with LIKE's wildcards taken literally."""

from __future__ import annotations

import pytest
from sqlalchemy import true
from sqlalchemy.orm import Session

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
