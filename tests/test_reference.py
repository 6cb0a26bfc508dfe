"""Reference tables: regions (GB/T 2260), industries (GB/T 4754-2017), tracks, 415X clusters, USCC."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qilin.reference import clusters, industries, regions, tracks, uscc
from qilin.reference._files import read_csv

# --------------------------------------------------------------------------------------------- regions


def test_zhejiang_has_102_divisions() -> None:
    zj = regions.zhejiang_regions()
    assert len(zj) == 102
    assert Counter(r.level for r in zj.values()) == {"province": 1, "prefecture": 11, "county": 90}
    assert zj[regions.ZHEJIANG].name == "浙江省"
    assert all(r.in_zhejiang and r.code.startswith("33") for r in zj.values())
    assert len(regions.zhejiang_cities()) == 11
    assert len(regions.zhejiang_counties()) == 90


def test_national_list_has_3213_divisions() -> None:
    everything = regions.all_regions()
    assert len(everything) == 3213
    assert Counter(r.level for r in everything.values())["province"] == 34
    # every parent exists
    assert all(r.parent_code in everything for r in everything.values() if r.parent_code)


def test_zhejiang_file_agrees_with_the_national_list() -> None:
    zj = regions.zhejiang_regions()
    rows = read_csv("zhejiang_divisions_2024.csv")
    assert {r["code"] for r in rows} == set(zj)
    for row in rows:
        region = zj[row["code"]]
        assert (region.name, region.level, region.parent_code or "") == (
            row["name"],
            row["level"],
            row["parent_code"],
        )
        if row["level"] == "county":
            city = regions.city_of(row["code"])
            assert city is not None
            assert (city.code, city.name) == (row["city_code"], row["city_name"])


@pytest.mark.parametrize(
    ("county", "city", "city_name"),
    [
        ("330106", "330100", "杭州市"),  # 西湖区
        ("330108", "330100", "杭州市"),  # 滨江区
        ("330212", "330200", "宁波市"),  # 鄞州区
        ("330100", "330100", "杭州市"),  # a city is its own city
    ],
)
def test_city_of_maps_a_county_to_its_city(county: str, city: str, city_name: str) -> None:
    found = regions.city_of(county)
    assert found is not None
    assert (found.code, found.name, found.level) == (city, city_name, "prefecture")


def test_city_of_unknown_or_province_is_none() -> None:
    assert regions.city_of("330000") is None
    assert regions.city_of("339999") is None
    assert regions.get("339999") is None


def test_hangzhou_counties() -> None:
    names = {r.name for r in regions.zhejiang_counties("330100")}
    assert {"西湖区", "滨江区", "余杭区"} <= names
    assert all(r.parent_code == "330100" for r in regions.zhejiang_counties("330100"))


def test_is_zhejiang() -> None:
    assert regions.is_zhejiang("330106")
    assert not regions.is_zhejiang("110105")
    assert not regions.is_zhejiang(None)
    assert not regions.is_zhejiang("")


# ------------------------------------------------------------------------------------------ industries


def test_gbt4754_codes_resolve_at_every_level() -> None:
    section = industries.get("I")
    division = industries.get("65")
    group = industries.get("651")
    klass = industries.get("6511")
    assert section is not None and section.level == "section"
    assert section.name == "信息传输、软件和信息技术服务业"
    assert division is not None and (division.level, division.parent_code) == ("division", "I")
    assert division.name == "软件和信息技术服务业"
    assert group is not None and (group.level, group.parent_code) == ("group", "65")
    assert klass is not None and (klass.level, klass.parent_code, klass.name) == (
        "class",
        "651",
        "基础软件开发",
    )
    assert industries.get(" i ") == section  # blanks and case are forgiven
    assert industries.get("6518") is None
    assert industries.get("I6511") is None  # codes are numeric below the section letter


def test_gbt4754_structure() -> None:
    table = industries.gbt4754()
    levels = Counter(i.level for i in table.values())
    assert (levels["section"], levels["division"], levels["group"]) == (20, 97, 473)
    assert all(i.parent_code in table for i in table.values() if i.parent_code)
    assert all(i.parent_code is None for i in table.values() if i.level == "section")


# ---------------------------------------------------------------------------------------------- tracks


def test_fifteen_tracks_in_three_groups() -> None:
    everything = tracks.all_tracks()
    assert len(everything) == 15
    assert tracks.GROUPS == ("emerging", "future", "key_field")
    by_group = {g: [t.name_zh for t in everything.values() if t.group == g] for g in tracks.GROUPS}
    assert by_group == {
        "emerging": ["人工智能", "前沿新材料", "新型储能", "生物制造", "商业航天", "低空经济"],
        "future": ["人形机器人", "脑机接口", "元宇宙", "原子级制造", "深海空天开发"],
        "key_field": ["新能源汽车", "集成电路", "高端新材料", "生物医药"],
    }
    names = [t.name_zh for t in everything.values()]
    assert names[0] == "人工智能" and names[-1] == "生物医药"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ai", "ai"),
        ("人工智能", "ai"),
        (" 人工智能 ", "ai"),
        ("Artificial intelligence", "ai"),
        ("ARTIFICIAL INTELLIGENCE", "ai"),
        ("生物医药", "biomedicine"),
        ("Low-altitude economy", "low_altitude_economy"),
        ("集成电路", "integrated_circuits"),
    ],
)
def test_tracks_resolve_by_code_or_name(text: str, code: str) -> None:
    assert tracks.resolve(text) == code


def test_unknown_track() -> None:
    assert tracks.resolve("区块链") is None


# ------------------------------------------------------------------------------------------------ 415X


def test_415x_clusters() -> None:
    everything = clusters.all_clusters()
    world = [c for c in everything.values() if c.level == "世界级先进产业群"]
    provincial = [c for c in everything.values() if c.level == "省级特色产业集群"]
    assert len(world) == 4
    assert {c.name for c in world} == {"新一代信息技术", "高端装备", "现代消费与健康", "绿色石化与新材料"}
    assert len(provincial) == 15
    assert {c.parent_code for c in provincial} == {c.code for c in world}
    assert all(c.parent_code is None for c in world)


def test_415x_unverified_rows_say_so() -> None:
    everything = clusters.all_clusters()
    unverified = {c.code for c in everything.values() if not c.verified}
    assert unverified == {c.code for c in everything.values() if c.status.startswith("unverified")}
    assert unverified == {"C06", "C08", "C09", "C10", "C12"}
    assert everything["C06"].verified is False
    assert everything["G1"].verified is True
    assert everything["C02"].verified is True  # name confirmed, relation unclear: still a confirmed name


# ------------------------------------------------------------------------------------------------ USCC

EXAMPLES = read_csv("uscc_examples.csv")


@pytest.mark.parametrize("row", EXAMPLES, ids=[r["uscc"] for r in EXAMPLES])
def test_uscc_examples_are_judged_as_expected(row: dict[str, str]) -> None:
    code = row["uscc"]
    expected = row["expected"]
    assert uscc.is_valid(code) is (expected == "valid")
    assert (
        uscc.problem(code)
        == {
            "valid": None,
            "invalid_check_digit": "uscc.check_digit",
            "invalid_charset": "uscc.charset",
        }[expected]
    )
    assert str(uscc.is_valid(code)) == row["uscc_check_ok"]
    if row["computed_check_char"]:
        assert uscc.check_char(code[:17]) == row["computed_check_char"]
    if expected != "invalid_charset":
        assert str(uscc.org_code_check_char(code[8:16]) == code[16]) == row["embedded_org_code_check_ok"]


def test_uscc_examples_cover_every_verdict() -> None:
    assert {r["expected"] for r in EXAMPLES} == {"valid", "invalid_check_digit", "invalid_charset"}


def test_uscc_problems() -> None:
    assert uscc.problem("91330100716105852") == "uscc.length"
    assert uscc.problem("91AB0100716105852F") == "uscc.region"
    assert uscc.problem("91330100716105852E") == "uscc.check_digit"
    assert uscc.normalize(" 91330100716105852f ") == "91330100716105852F"


def test_uscc_build_docstring_example() -> None:
    assert uscc.build("330100", "71610585") == "91330100716105852F"


ORG_CHARS = st.sampled_from(uscc.ALPHABET)


@given(
    region=st.sampled_from(sorted(regions.zhejiang_regions())),
    body=st.text(ORG_CHARS, min_size=8, max_size=8),
)
def test_uscc_build_makes_valid_codes(region: str, body: str) -> None:
    code = uscc.build(region, body)
    assert len(code) == 18
    assert uscc.is_valid(code)
    assert uscc.region_of(code) == region
    assert code[8:16] == body
    assert uscc.org_code_check_char(body) == code[16]
    # changing the check character makes it invalid
    wrong = next(c for c in uscc.ALPHABET if c != code[17])
    assert uscc.problem(code[:17] + wrong) == "uscc.check_digit"
