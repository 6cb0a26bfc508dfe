"""Leads from the discovery channels (多元发现渠道线索): import checks (bilingual, all-or-nothing), idempotent
re-import, USCC links and name suggestions that never link, the transition table and its log, and the
recommenders' hit rates — on SQLite and PostgreSQL, service and CLI."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from factories import (
    USCC_BINJIANG,
    USCC_WESTLAKE,
    USCC_YINZHOU,
    USCC_YUHANG,
    cli,
    start_up,
    table_counts,
    write_csv,
)
from qilin.audit.service import Actor
from qilin.discovery import leads
from qilin.discovery.leads import RETURNS, STATES, TRANSITIONS, LeadError
from qilin.discovery.leads_models import Lead, LeadTransition, Recommender
from qilin.reference import uscc
from qilin.registry import service as registry_service
from qilin.registry.models import Enterprise, EnterpriseTrack, FundingRound, LifecycleEvent, Valuation
from qilin.tiers.models import TierSnapshotEntry
from qilin.tiers.service import take_snapshot

D = dt.date.fromisoformat
COLUMNS = [
    "channel",
    "recommender",
    "name",
    "name_en",
    "uscc",
    "region_code",
    "tracks",
    "founded_on",
    "submitted_on",
    "latest_financing",
    "contact",
    "note",
]
LEAD_TABLES = ("leads", "lead_transitions", "recommenders")


def write_leads(path: Path, rows: list[dict[str, str]]) -> Path:
    return write_csv(path, COLUMNS, rows)


def import_rows(
    session: Session, tmp_path: Path, rows: list[dict[str, str]], **options: object
) -> leads.LeadImportReport:
    path = write_leads(tmp_path / "leads.csv", rows)
    report = leads.import_leads(session, path=path, actor="省经信厅", **options)  # type: ignore[arg-type]
    session.commit()
    return report


def enterprise(session: Session, id: str, name: str, code: str | None, **fields: object) -> Enterprise:
    e = Enterprise(id=id, name=name, uscc=code, country="CN", **fields)
    session.add(e)
    session.flush()
    return e


def lead_rows(session: Session) -> list[Lead]:
    return list(session.scalars(select(Lead).order_by(Lead.id)))


# ---- import: validation -----------------------------------------------------------------------------------


def test_invalid_rows_are_reported_bilingually_by_line_and_column_and_nothing_is_written(
    session: Session, engine: Engine, tmp_path: Path, frozen_today: str
) -> None:
    wrong = USCC_WESTLAKE[:17] + ("0" if USCC_WESTLAKE[17] != "0" else "1")
    rows = [
        {
            "channel": "tech_plan",
            "name": "杭州良好科技有限公司",
            "uscc": USCC_YUHANG,
            "region_code": "330110",
        },
        {"channel": "lottery", "name": "甲公司"},  # line 3: unknown channel
        {"channel": "university", "name": "乙公司", "uscc": wrong},  # line 4: check digit
        {"channel": "spin_off", "name": "丙公司", "founded_on": "2021/05/01"},  # line 5: not ISO
        {"channel": "bjsgs", "name": "丁公司", "region_code": "999999"},  # line 6: unknown region
        {"channel": "startup_contest", "name": "戊公司", "founded_on": "2027-01-01"},  # line 7: future
        {"channel": "", "name": "己公司"},  # line 8: no channel, no --channel
    ]
    path = write_leads(tmp_path / "推荐线索.csv", rows)
    before = table_counts(engine)

    report = leads.import_leads(session, path=path, actor="省经信厅", recommender="西湖创投")
    session.rollback()
    assert report.refused and report.outcomes == [] and report.rejected == 6
    found = {(i.line, i.column, i.value, i.key) for i in report.issues}
    assert found == {
        (3, "channel", "lottery", "leads.channel_unknown"),
        (4, "uscc", wrong, "uscc.check_digit"),
        (5, "founded_on", "2021/05/01", "date.invalid"),
        (6, "region_code", "999999", "region.unknown"),
        (7, "founded_on", "2027-01-01", "date.future"),
        (8, "channel", "", "leads.channel_required"),
    }
    check = next(i for i in report.issues if i.key == "uscc.check_digit")
    assert check.message("zh") == (
        f"推荐线索.csv 第 4 行 uscc 列 值“{wrong}”：统一社会信用代码校验位错误（应为 {USCC_WESTLAKE[17]}）"
    )
    assert check.message("en") == (
        f"推荐线索.csv, line 4, column uscc, value '{wrong}': "
        f"check digit is wrong (expected {USCC_WESTLAKE[17]})"
    )

    result = cli("leads", "import", path, "--recommender", "西湖创投")
    assert result.exit_code == 1
    assert "推荐线索.csv 第 3 行 channel 列 值“lottery”：未知的发现渠道" in result.output
    assert "推荐线索.csv, line 3, column channel, value 'lottery': unknown discovery channel" in result.output
    assert "未写入任何数据" in result.output and "nothing was written" in result.output
    assert table_counts(engine) == before
    assert all(before[t] == 0 for t in LEAD_TABLES)


def test_chinese_headers_are_understood_and_named_as_written(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    path = write_csv(
        tmp_path / "leads.csv",
        ["渠道", "推荐单位", "企业名称", "统一社会信用代码"],
        [{"渠道": "科技计划", "推荐单位": "省科技厅", "企业名称": "甲公司", "统一社会信用代码": "12345"}],
    )
    report = leads.import_leads(session, path=path, actor="t")
    assert report.refused
    (issue,) = report.issues
    assert (issue.line, issue.column, issue.key) == (2, "统一社会信用代码", "uscc.length")


def test_two_headers_for_one_column_refuse_the_file(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    """企业名称 and 名称 both mean the name: keeping one would silently drop the other's values."""
    path = tmp_path / "leads.csv"
    path.write_text("渠道,推荐单位,企业名称,名称\n科技计划,省科技厅,甲公司,乙公司\n", encoding="utf-8")
    report = leads.import_leads(session, path=path, actor="t")
    assert report.refused
    (issue,) = report.issues
    assert issue.key == "import.duplicate_columns" and issue.fields == {"columns": "企业名称, 名称"}
    assert lead_rows(session) == []


def test_a_file_that_is_neither_csv_nor_xlsx_is_named_as_a_lead_file(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    path = tmp_path / "线索.txt"
    path.write_text("name\n甲公司\n", encoding="utf-8")
    report = leads.import_leads(session, path=path, actor="t", channel="tech_plan", recommender="省科技厅")
    assert report.refused
    (issue,) = report.issues
    assert issue.reason("zh") == "线索文件应为 CSV（.csv）或 Excel（.xlsx）：线索.txt"
    assert "companies" not in issue.reason("en")  # not the registry package's file names
    assert lead_rows(session) == []


def test_skip_invalid_imports_the_valid_rows_only(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    rows = [
        {"name": "杭州良好科技有限公司", "uscc": USCC_YUHANG},
        {"name": "甲公司", "tracks": "炼金术"},
    ]
    report = import_rows(
        session, tmp_path, rows, channel="第三方推荐", recommender="某咨询", skip_invalid=True
    )
    assert not report.refused and report.added == 1 and report.rejected == 1
    assert [(i.line, i.column, i.key) for i in report.issues] == [(3, "tracks", "track.unknown")]
    (lead,) = lead_rows(session)
    assert (lead.channel, lead.uscc, lead.status) == ("third_party", USCC_YUHANG, "new")


# ---- import: identity, USCC links, suggestions ------------------------------------------------------------


def test_reimport_adds_nothing_and_uscc_matches_link(
    session: Session, engine: Engine, tmp_path: Path, frozen_today: str
) -> None:
    enterprise(session, "zj-westlake", "杭州西湖智能科技有限公司", USCC_WESTLAKE, region_code="330106")
    session.commit()
    rows = [
        {
            "channel": "leading_fund",
            "recommender": "西湖创投",
            "name": "西湖智能",
            "uscc": USCC_WESTLAKE.lower(),
            "latest_financing": "B轮 3亿元",
            "contact": "张三 138xxxx",
        },
        {
            "channel": "leading_fund",
            "recommender": "西湖创投",
            "name": "鄞州新材料股份有限公司",
            "uscc": USCC_YINZHOU,
            "founded_on": "2019-04-01",
            "submitted_on": "2025-03-01",
        },
        {
            "channel": "startup_contest",
            "recommender": "创新创业大赛组委会",
            "name": "ＡＢＣ机器人（中国）有限公司",
            "note": "全国总决赛一等奖",
        },
        {
            "channel": "tech_plan",
            "recommender": "省科技厅",
            "name": "宁波鄞州新材料有限公司",
            "uscc": USCC_YINZHOU,
        },
    ]
    first = import_rows(session, tmp_path, rows)
    assert (first.added, first.existing, first.rejected) == (4, 0, 0)
    westlake, yinzhou, abc, again = lead_rows(session)
    # the USCC links to the registry; the name differs a lot and does not matter
    assert westlake.uscc == USCC_WESTLAKE and westlake.matched_enterprise_id == "zj-westlake"
    assert (
        westlake.submitted["latest_financing"] == "B轮 3亿元"
        and westlake.submitted["uscc"] == USCC_WESTLAKE.lower()
    )
    assert westlake.submitted_on == D(frozen_today)
    assert yinzhou.matched_enterprise_id is None and yinzhou.submitted_on == D("2025-03-01")
    assert yinzhou.founded_on == D("2019-04-01")
    assert abc.identity == "name:abc机器人" and abc.note == "全国总决赛一等奖"
    # the same USCC from another channel: a lead of its own, pointing at the first
    assert again.duplicate_of_id == yinzhou.id and again.matched_enterprise_id is None
    assert {r.name for r in session.scalars(select(Recommender))} == {
        "西湖创投",
        "创新创业大赛组委会",
        "省科技厅",
    }

    counts = table_counts(engine)
    second = import_rows(session, tmp_path, rows)
    assert (second.added, second.existing) == (0, 4)
    assert [o.lead_id for o in second.outcomes] == [westlake.id, yinzhou.id, abc.id, again.id]
    assert table_counts(engine) == counts

    result = cli("leads", "import", tmp_path / "leads.csv")
    assert result.exit_code == 0, result.output
    assert (
        "新增线索 0 条，已存在 4 条" in result.output and "0 leads added, 4 already present" in result.output
    )
    assert table_counts(engine) == counts


def test_repeated_identity_in_one_file_is_an_error(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    rows = [{"name": "杭州甲科技有限公司"}, {"name": "杭州甲有限公司"}]
    report = import_rows(session, tmp_path, rows, channel="university", recommender="浙江大学")
    assert report.refused
    assert [(i.line, i.column, i.key, i.fields) for i in report.issues] == [
        (3, "name", "leads.duplicate_in_file", {"line": 2})
    ]


def test_names_are_normalised_before_comparison() -> None:
    assert leads.normalize_name("ＡＢＣ机器人（中国）股份有限公司") == "abc机器人"
    assert leads.normalize_name("杭州西湖集团有限公司") == "杭州西湖"
    assert leads.normalize_name("Westlake Robotics (China) Co., Ltd.") == "westlakerobotics"
    assert leads.similarity("西湖智能科技有限公司", "西湖智能有限公司") == 1.0
    assert leads.similarity("杭州西湖智能科技有限公司", "宁波鄞州新材料股份有限公司") == 0.0


def test_the_leading_division_is_not_compared_but_stays_in_the_identity() -> None:
    # 行政区划 + 字号 + 行业 + 组织形式: a shared 浙江省杭州市余杭区 made every firm there look alike
    assert leads.comparison_key("浙江省杭州市余杭区西湖智能科技有限公司") == "西湖智能"
    yuhang = "浙江省杭州市余杭区"
    assert leads.similarity(f"{yuhang}西湖智能科技有限公司", f"{yuhang}鼎丰储能科技有限公司") == 0.0
    assert leads.similarity("杭州市西湖智能科技有限公司", "宁波市西湖智能科技有限公司") == 1.0
    assert leads.name_key("杭州市西湖智能科技有限公司") != leads.name_key("宁波市西湖智能科技有限公司")
    # a division's name followed by 场 or 块 is a word of the name (市场, 区块链), and a bare division stays
    assert leads.comparison_key("杭州市场研究有限公司") == "杭州市场研究"
    assert leads.comparison_key("北京市东城区块链科技有限公司") == "东城区块链"
    assert leads.comparison_key("杭州市") == "杭州市"
    # short forms are kept: 杭州银行 and 宁波银行 are not alike
    assert leads.similarity("杭州银行股份有限公司", "宁波银行股份有限公司") < leads.SUGGESTION_THRESHOLD


def _every_pair(
    kind: str, names: list[str], english: list[str | None], codes: list[str | None], i: int, others: range
) -> list[tuple[str, str, float]]:
    """The suggestions for name ``i`` among ``others``, by comparing it with each of them."""
    expected = []
    for j in others:
        if j == i or (codes[i] is not None and codes[j] == codes[i]):
            continue
        pairs = [(a, b) for a in (names[i], english[i]) if a for b in (names[j], english[j]) if b]
        keys = [(leads._key(a), leads._key(b)) for a, b in pairs]
        scores = [len(x & y) / len(x | y) for x, y in keys if x and y]
        if scores and max(scores) >= leads.SUGGESTION_THRESHOLD:
            expected.append((kind, str(j), round(max(scores), 2)))
    return sorted(expected)


def _random_names(seed: int) -> tuple[list[str], list[str | None], list[str | None]]:
    rng = random.Random(seed)
    alphabet = "杭州西湖智能数字生物安达"
    names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(400)]
    words = [None, "Westlake AI", "West Lake", "Lake Data", "Data AI", "Westlake Data Labs", "Hangzhou AI"]
    english = [rng.choice(words) for _ in names]
    codes = [rng.choice([None, "A", "B"]) for _ in names]
    return names, english, codes


def test_the_name_index_finds_exactly_what_comparing_every_pair_finds() -> None:
    names, english, codes = _random_names(4)
    index = leads.NameIndex(names[:200])  # rarity from half the names: any order gives the same results
    for i, (name, name_en, code) in enumerate(zip(names, english, codes, strict=True)):
        index.add("lead", str(i), name, name_en, code)
        found = index.suggest(name, name_en, code=code, skip=[("lead", str(i))], limit=len(names))
        expected = _every_pair("lead", names, english, codes, i, range(i))
        assert sorted((s.kind, s.id, s.score) for s in found) == expected, name
    assert sum(len(index.suggest(n, None, limit=len(names))) for n in names) > 400  # many similar pairs


def test_an_index_built_at_once_finds_exactly_what_comparing_every_pair_finds() -> None:
    # NameIndex.of (how pages and imports index the registry): each comparison key computed once
    names, english, codes = _random_names(5)
    rows = enumerate(zip(names, english, codes, strict=True))
    entries = [("enterprise", str(i), n, e, c) for i, (n, e, c) in rows]
    index = leads.NameIndex.of(entries, incoming=["西湖数据", "Lake AI"])
    for i, (name, name_en, code) in enumerate(zip(names, english, codes, strict=True)):
        found = index.suggest(name, name_en, code=code, skip=[("enterprise", str(i))], limit=len(names))
        assert sorted((s.kind, s.id, s.score) for s in found) == _every_pair(
            "enterprise", names, english, codes, i, range(len(names))
        ), name


def test_a_refreshed_registry_index_finds_what_a_new_index_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lead pages' registry index is brought up to date by re-indexing only the enterprises whose names
    or USCC changed (and dropping the deleted ones); it must find exactly what an index built afresh finds."""
    monkeypatch.setattr(leads, "REBUILD_SHARE", 1.0)  # always refresh, never rebuild
    rng = random.Random(6)
    names, english, codes = _random_names(6)
    rows = [(f"e{i}", n, e, c) for i, (n, e, c) in enumerate(zip(names, english, codes, strict=True))]
    cached = leads._RegistryIndex(("version", 0), rows)
    index = cached.index
    for step in range(6):
        rows = list(rows)
        for _ in range(12):
            k = rng.randrange(len(rows))
            id, name, name_en, code = rows[k]
            change = rng.randrange(4)
            if change == 0:
                rows[k] = (id, name + rng.choice("湖智数生"), name_en, code)
            elif change == 1:
                rows[k] = (id, name, rng.choice([None, "Lake AI", "Westlake Bio"]), code)
            elif change == 2:
                rows[k] = (id, name, name_en, rng.choice([None, "A", "B", "C"]))
            else:
                del rows[k]
        rows += [(f"new{step}-{j}", rng.choice(names) + "安", None, None) for j in range(4)]
        rng.shuffle(rows)
        assert cached.refresh(rows) and cached.index is index
        assert set(cached.positions) == {r[0] for r in rows}
        fresh = leads.NameIndex.of(("enterprise", *row) for row in rows)
        for _, name, name_en, code in rows[:150]:
            found = index.suggest(name, name_en, code=code, limit=len(rows))
            assert found == fresh.suggest(name, name_en, code=code, limit=len(rows)), name
    assert index.removed > 50
    # many changes at once: built again
    monkeypatch.setattr(leads, "REBUILD_SHARE", 0.25)
    assert not cached.refresh([(id, name + "新", name_en, code) for id, name, name_en, code in rows])


def test_names_in_latin_letters_are_compared_by_trigrams() -> None:
    # 26 letters make few bigrams, shared by most English names; Chinese characters are compared in pairs
    assert leads._grams("westlake") == {"wes", "est", "stl", "tla", "lak", "ake"}
    assert leads._grams("西湖智能") == {"西湖", "湖智", "智能"}
    assert leads._grams("ai") == {"ai"} and leads._grams("湖") == {"湖"}
    assert leads.similarity("Westlake Data Co., Ltd.", "WESTLAKE DATA") == 1.0


def test_similar_names_give_suggestions_but_never_a_link(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    enterprise(
        session, "zj-westlake", "杭州西湖智能科技有限公司", USCC_WESTLAKE, name_en="Westlake AI Co., Ltd."
    )
    enterprise(session, "zj-yinzhou", "宁波鄞州新材料股份有限公司", USCC_YINZHOU)
    session.commit()
    rows = [
        {"name": "西湖智能（杭州）科技有限公司"},
        {"name": "某某生物", "name_en": "WESTLAKE AI Technology Inc."},
        {"name": "完全不同的名字有限公司"},
    ]
    report = import_rows(session, tmp_path, rows, channel="third_party", recommender="某咨询")
    by_name, by_english, unrelated = report.outcomes
    assert [(s.kind, s.id) for s in by_name.suggestions] == [("enterprise", "zj-westlake")]
    assert 0.5 <= by_name.suggestions[0].score < 1
    assert [(s.kind, s.id, s.score) for s in by_english.suggestions] == [("enterprise", "zj-westlake", 1.0)]
    assert unrelated.suggestions == ()
    # never linked on a name, whatever the score
    assert all(
        lead.matched_enterprise_id is None and lead.enterprise_id is None for lead in lead_rows(session)
    )
    first = lead_rows(session)[0]
    assert [(s.kind, s.id) for s in leads.suggestions(session, lead_id=first.id)] == [
        ("enterprise", "zj-westlake")
    ]
    # a later lead of a similar name suggests the earlier lead as well
    later = import_rows(
        session, tmp_path, [{"name": "杭州西湖智能有限公司"}], channel="tech_plan", recommender="省科技厅"
    )
    assert {(s.kind, s.id) for s in later.outcomes[0].suggestions} == {
        ("enterprise", "zj-westlake"),
        ("lead", str(first.id)),
    }
    # accepting needs an enterprise named explicitly: a similar name is not enough
    leads.advance(session, lead_id=first.id, to_state="verifying", actor="杭州市经信局")
    with pytest.raises(LeadError) as refused:
        leads.advance(session, lead_id=first.id, to_state="accepted", actor="杭州市经信局")
    assert refused.value.key == "leads.enterprise_required"
    assert "不在此处新建企业" in str(refused.value) and "not created here" in str(refused.value)


@pytest.mark.parametrize("rebuild_share", [0.0, 1.0], ids=["rebuilt", "refreshed"])
def test_a_leads_suggestions_follow_the_registry_and_match_one_index_of_everything(
    session: Session, tmp_path: Path, frozen_today: str, rebuild_share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leads, "REBUILD_SHARE", rebuild_share)
    for i, name in enumerate(["杭州西湖智能科技有限公司", "西湖智能装备有限公司", "宁波西湖数据有限公司"]):
        enterprise(session, f"e{i}", name, None)
    session.commit()
    rows = [{"name": n} for n in ("西湖智能（杭州）科技有限公司", "西湖智能数据", "湖州某某生物")]
    report = import_rows(session, tmp_path, rows, channel="third_party", recommender="某咨询")
    first = report.outcomes[0].lead_id
    everything = leads._index_of(session, ["enterprise", "lead"])
    for outcome in report.outcomes:
        lead = session.get_one(Lead, outcome.lead_id)
        expected = everything.suggest(lead.name, lead.name_en, code=lead.uscc, skip=[("lead", str(lead.id))])
        assert leads.suggestions(session, lead_id=lead.id) == expected
    before = leads.suggestions(session, lead_id=first)
    assert ("enterprise", "e0") in {(s.kind, s.id) for s in before}
    # the registry changes (a new enterprise, a correction): the next page sees it, not a stale copy
    enterprise(session, "e9", "西湖智能科技（杭州）有限公司", None)
    session.commit()
    assert ("enterprise", "e9") in {(s.kind, s.id) for s in leads.suggestions(session, lead_id=first)}
    registry_service.update(
        session, enterprise=session.get_one(Enterprise, "e9"), changes={"name": "完全无关有限公司"},
        actor=Actor.cli(), allowed_region=lambda code: True,
    )  # fmt: skip
    session.commit()
    assert ("enterprise", "e9") not in {(s.kind, s.id) for s in leads.suggestions(session, lead_id=first)}


def test_the_server_builds_the_registry_index_at_start_up(
    session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server (not under test settings) builds the lead pages' registry index as it starts, in the
    background; the first lead page then finds it current instead of indexing the registry."""
    for i, name in enumerate(["杭州西湖智能科技有限公司", "西湖智能装备有限公司"]):
        enterprise(session, f"e{i}", name, None)
    session.commit()
    url = str(session.get_bind().engine.url)
    assert url not in leads._enterprise_indexes
    built: list[int] = []
    real = leads._RegistryIndex.__init__

    def counted(self: leads._RegistryIndex, *args: Any) -> None:
        built.append(1)
        real(self, *args)

    monkeypatch.setattr(leads._RegistryIndex, "__init__", counted)
    start_up(db_url)
    assert built == [1]
    index = leads._enterprise_indexes[url]
    assert {c.id for _, c in index.index.candidates()} == {"e0", "e1"}
    leads._enterprise_index(session)  # what a lead page asks for
    assert built == [1]


# ---- the workflow ------------------------------------------------------------------------------------------


def test_transition_table_is_explicit() -> None:
    assert isinstance(TRANSITIONS, frozenset)
    assert all(a in STATES and b in STATES for a, b in TRANSITIONS)
    assert {
        ("new", "verifying"),
        ("verifying", "accepted"),
        ("verifying", "rejected"),
        ("verifying", "new"),
    } == TRANSITIONS
    assert {("verifying", "new")} == RETURNS
    assert leads.allowed_next("accepted") == () and leads.allowed_next("rejected") == ()
    assert leads.allowed_next("verifying") == ("new", "accepted", "rejected")


def test_moves_are_checked_and_logged(
    session: Session, engine: Engine, tmp_path: Path, frozen_today: str
) -> None:
    enterprise(session, "zj-binjiang", "杭州滨江生物医药有限公司", USCC_BINJIANG)
    enterprise(session, "zj-westlake", "杭州西湖智能科技有限公司", USCC_WESTLAKE)
    session.commit()
    rows = [{"name": "滨江生物", "uscc": USCC_BINJIANG}, {"name": "无码公司"}, {"name": "拒绝公司"}]
    import_rows(session, tmp_path, rows, channel="university", recommender="浙江大学")
    coded, uncoded, refused = (lead.id for lead in lead_rows(session))

    def refuse(lead_id: int, to: str, key: str, **kw: str) -> None:
        with pytest.raises(LeadError) as exc:
            leads.advance(session, lead_id=lead_id, to_state=to, actor=kw.pop("actor", "杭州市经信局"), **kw)
        assert exc.value.key == key
        session.rollback()

    refuse(coded, "accepted", "leads.transition_refused")  # new → accepted skips verification
    refuse(coded, "rejected", "leads.transition_refused")
    refuse(coded, "verifying", "leads.actor_required", actor="  ")
    refuse(999, "verifying", "leads.not_found")
    for lead_id in (coded, uncoded, refused):
        leads.advance(session, lead_id=lead_id, to_state="verifying", actor="杭州市经信局")
    session.commit()
    refuse(coded, "new", "leads.comment_required")
    refuse(refused, "rejected", "leads.reason_required", comment="  ")
    refuse(coded, "verifying", "leads.transition_refused")
    refuse(uncoded, "accepted", "leads.enterprise_required")  # no USCC, no enterprise given
    refuse(uncoded, "accepted", "leads.enterprise_unknown", enterprise_id="zj-nowhere")
    refuse(coded, "accepted", "leads.enterprise_uscc_mismatch", enterprise_id="zj-westlake")
    refuse(coded, "rejected", "leads.enterprise_unexpected", comment="重复", enterprise_id="zj-binjiang")

    leads.advance(session, lead_id=coded, to_state="new", actor="浙江大学", comment="请补充融资材料")
    leads.advance(session, lead_id=coded, to_state="verifying", actor="浙江大学", comment="已补充")
    leads.advance(session, lead_id=coded, to_state="accepted", actor="省经信厅")  # by its USCC
    leads.advance(
        session, lead_id=uncoded, to_state="accepted", actor="省经信厅", enterprise_id="zj-westlake"
    )
    leads.advance(session, lead_id=refused, to_state="rejected", actor="省经信厅", comment="注册地不在浙江")
    session.commit()
    refuse(coded, "verifying", "leads.transition_refused")
    refuse(refused, "new", "leads.transition_refused")

    session.expire_all()
    assert [(lead.status, lead.enterprise_id, lead.rejection_reason) for lead in lead_rows(session)] == [
        ("accepted", "zj-binjiang", None),
        ("accepted", "zj-westlake", None),
        ("rejected", None, "注册地不在浙江"),
    ]
    log = leads.transitions(session, lead_id=coded)
    assert [(tr.from_state, tr.to_state, tr.actor, tr.comment, tr.enterprise_id) for tr in log] == [
        ("new", "verifying", "杭州市经信局", None, None),
        ("verifying", "new", "浙江大学", "请补充融资材料", None),
        ("new", "verifying", "浙江大学", "已补充", None),
        ("verifying", "accepted", "省经信厅", None, "zj-binjiang"),
    ]
    assert all(tr.at.tzinfo is not None and tr.at.utcoffset() == dt.timedelta(0) for tr in log)
    assert [tr.at for tr in log] == sorted(tr.at for tr in log)

    # the database keeps the log append-only and final leads final
    for statement in (
        "UPDATE lead_transitions SET actor = 'someone else'",
        f"UPDATE leads SET status = 'verifying' WHERE id = {refused}",
        f"UPDATE leads SET note = 'changed' WHERE id = {coded}",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    assert session.scalar(select(func.count()).select_from(LeadTransition)) == 8


def test_cli_list_show_and_advance(session: Session, tmp_path: Path, frozen_today: str) -> None:
    enterprise(session, "zj-westlake", "杭州西湖智能科技有限公司", USCC_WESTLAKE)
    session.commit()
    rows = [
        {"name": "西湖智能（杭州）科技有限公司", "contact": "李四"},
        {"name": "滨江生物", "uscc": USCC_BINJIANG},
    ]
    import_rows(session, tmp_path, rows, channel="spin_off", recommender="阿里巴巴")
    first, second = (lead.id for lead in lead_rows(session))

    moved = cli("leads", "advance", str(first), "--to", "verifying", "--actor", "杭州市经信局")
    assert moved.exit_code == 0, moved.output
    assert f"线索 {first}：新线索（new） → 核实中（verifying）" in moved.output
    accepted = cli(
        "leads",
        "advance",
        str(first),
        "--to",
        "accepted",
        "--actor",
        "省经信厅",
        "--enterprise-id",
        "zj-westlake",
    )
    assert accepted.exit_code == 0, accepted.output
    bad = cli("leads", "advance", str(second), "--to", "accepted", "--actor", "省经信厅")
    assert bad.exit_code == 1
    assert (
        "不能从 新线索（new） 转为 已采纳入库（accepted）" in bad.output and "cannot move from" in bad.output
    )

    listed = cli("leads", "list", "--status", "new")
    assert listed.exit_code == 0, listed.output
    assert "滨江生物" in listed.output and "西湖智能（杭州）" not in listed.output
    assert cli("leads", "list", "--channel", "lottery").exit_code == 1

    shown = cli("leads", "show", str(first))
    assert shown.exit_code == 0, shown.output
    assert "李四" in shown.output  # the submitted values
    assert re.search(
        r"enterprise\s*│\s*zj-westlake\s*│\s*杭州西湖智能科技有限公司\s*│\s*0\.\d\d", shown.output
    )
    assert "杭州市经信局" in shown.output and "已入库企业 accepted as enterprise: zj-westlake" in shown.output

    # a refusal that asks for an input names the command's option for it
    assert cli("leads", "advance", str(second), "--to", "verifying", "--actor", "省经信厅").exit_code == 0
    unreasoned = cli("leads", "advance", str(second), "--to", "rejected", "--actor", "省经信厅")
    assert unreasoned.exit_code == 1 and "rejecting needs a reason（--comment）" in unreasoned.output


# ---- recommenders' hit rates ------------------------------------------------------------------------------


def _registry_with_a_snapshot(session: Session) -> None:
    """Three Zhejiang enterprises: a unicorn, a potential unicorn, and one no tier sees (but which later
    enters the unicorn list); a snapshot as of 2025-06-30."""
    unicorn = enterprise(
        session,
        "zj-unicorn",
        "杭州独角兽科技有限公司",
        USCC_WESTLAKE,
        region_code="330106",
        founded_on=D("2019-01-01"),
    )
    potential = enterprise(
        session,
        "zj-potential",
        "宁波潜力科技有限公司",
        USCC_YINZHOU,
        region_code="330212",
        founded_on=D("2022-03-01"),
    )
    enterprise(session, "zj-plain", "杭州平凡科技有限公司", USCC_BINJIANG, region_code="330108")
    session.add(EnterpriseTrack(enterprise_id=potential.id, track_code="ai"))
    for e, value in ((unicorn, "2000000000"), (potential, "150000000")):
        session.add(
            FundingRound(
                enterprise_id=e.id,
                announced_on=D("2023-05-01"),
                round_type="series-b",
                amount=Decimal("50000000"),
                currency="USD",
            )
        )
        session.add(
            Valuation(
                enterprise_id=e.id,
                as_of=D("2024-06-01"),
                value=Decimal(value),
                currency="USD",
                evidence="disclosed",
                source="test",
            )
        )
    session.add(
        LifecycleEvent(enterprise_id="zj-plain", kind="unicorn_list_entry", occurred_on=D("2025-01-01"))
    )
    session.commit()
    take_snapshot(session, as_of=D("2025-06-30"), taken_by="test")
    session.commit()
    tiers = dict(
        session.execute(select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier)).tuples().all()
    )
    assert tiers == {"zj-unicorn": "unicorn", "zj-potential": "potential_unicorn", "zj-plain": "none"}


def lead_row(channel: str, recommender: str, name: str, code: str, submitted_on: str) -> dict[str, str]:
    return {
        "channel": channel,
        "recommender": recommender,
        "name": name,
        "uscc": code,
        "submitted_on": submitted_on,
    }


def test_recommenders_report_measures_hit_rates(session: Session, tmp_path: Path, frozen_today: str) -> None:
    _registry_with_a_snapshot(session)
    other = uscc.build("330110", "MA27Y8Q4")
    rows = [
        lead_row("leading_fund", "西湖创投", "独角兽", USCC_WESTLAKE, "2024-01-10"),
        lead_row("leading_fund", "西湖创投", "潜力", USCC_YINZHOU, "2024-01-10"),
        lead_row("leading_fund", "西湖创投", "另一家", other, "2024-01-10"),
        lead_row("third_party", "某咨询", "平凡", USCC_BINJIANG, "2024-03-01"),
        # recommended after the snapshot: no tier credit
        lead_row("third_party", "某咨询", "独角兽", USCC_WESTLAKE, "2025-07-15"),
        # recommended after the unicorn-list entry: no unicorn credit
        lead_row("bjsgs", "上海某协会", "平凡", USCC_BINJIANG, "2025-02-01"),
    ]
    import_rows(session, tmp_path, rows)
    all_leads = lead_rows(session)
    for lead in all_leads:
        leads.advance(session, lead_id=lead.id, to_state="verifying", actor="省经信厅")
        if lead.uscc == other:
            leads.advance(session, lead_id=lead.id, to_state="rejected", actor="省经信厅", comment="不在浙江")
        else:
            leads.advance(session, lead_id=lead.id, to_state="accepted", actor="省经信厅")
    session.add(Recommender(name="沉默的推荐单位", kind="association"))
    session.commit()

    report = {
        s.name: (s.leads, s.accepted, s.entered_tier, s.unicorns) for s in leads.recommender_report(session)
    }
    assert report == {
        "西湖创投": (3, 2, 2, 1),
        "某咨询": (2, 2, 0, 1),
        "上海某协会": (1, 1, 0, 0),
        "沉默的推荐单位": (0, 0, 0, 0),
    }
    first = leads.recommender_report(session)[0]
    assert first.name == "西湖创投" and first.rate(first.accepted) == pytest.approx(2 / 3)

    result = cli("leads", "recommenders")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "西湖创投" in x)
    assert re.search(r"3\s*│\s*2\s*│\s*67%\s*│\s*2\s*│\s*67%\s*│\s*1\s*│\s*33%", line), line
    silent = next(x for x in result.output.splitlines() if "沉默的推荐单位" in x)
    assert silent.count("—") == 3


def test_a_leads_workbook_is_guarded_like_an_import(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged or oversized .xlsx of leads is refused whole with the registry import's bilingual message."""
    from openpyxl import Workbook

    from qilin import config as qilin_config

    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not a workbook")
    report = leads.import_leads(session, path=damaged, actor="省经信厅")
    assert report.refused and [i.key for i in report.issues] == ["import.xlsx_invalid"]
    assert "无法读取 Excel 文件" in report.issues[0].message("zh")

    book = Workbook()
    book.active.append(["name", "channel", "recommender"])  # type: ignore[union-attr]
    for i in range(4):
        book.active.append([f"线索{i}", "高校院所", "浙江大学"])  # type: ignore[union-attr]
    path = tmp_path / "leads.xlsx"
    book.save(path)
    try:  # the settings are cached: rebuilt after each change, and once more at the end
        monkeypatch.setenv("QILIN_XLSX_MAX_ROWS", "3")
        qilin_config.get_settings.cache_clear()
        report = leads.import_leads(session, path=path, actor="省经信厅")
        assert report.refused and [i.key for i in report.issues] == ["import.xlsx_too_many_rows"]
        monkeypatch.setenv("QILIN_XLSX_MAX_ROWS", "4")
        monkeypatch.setenv("QILIN_XLSX_MAX_BYTES", str(path.stat().st_size - 1))
        qilin_config.get_settings.cache_clear()
        report = leads.import_leads(session, path=path, actor="省经信厅")
        assert report.refused and [i.key for i in report.issues] == ["import.xlsx_too_big"]
        monkeypatch.delenv("QILIN_XLSX_MAX_BYTES")
        qilin_config.get_settings.cache_clear()
        report = leads.import_leads(session, path=path, actor="省经信厅")
        session.commit()
        assert not report.refused and session.scalar(select(func.count()).select_from(Lead)) == 4
    finally:
        qilin_config.get_settings.cache_clear()


# ---- hostile input on the command line (found by fuzzing) ----------------------------------------------


def test_cli_shows_names_holding_rich_markup_as_they_are(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    enterprise(session, "zj-evil", "Evil[/bold] 科技", USCC_WESTLAKE)
    session.commit()
    path = write_leads(
        tmp_path / "leads.csv",
        [{"name": "Evil[/bold] 科技", "uscc": USCC_WESTLAKE, "contact": "[red]张三[/red] :smile:"}],
    )
    imported = cli(
        "leads", "import", path, "--channel", "spin_off", "--recommender", "Rec[/i]", "--actor", "op[/u]"
    )
    assert imported.exit_code == 0, imported.output
    assert "Evil[/bold] 科技" in imported.stdout
    (lead,) = lead_rows(session)
    moved = cli(
        "leads", "advance", str(lead.id), "--to", "verifying", "--actor", "op[/u]", "--comment", "ok[/b]"
    )
    assert moved.exit_code == 0, moved.output
    listed = cli("leads", "list")
    assert listed.exit_code == 0, listed.output
    assert "Evil[/bold] 科技" in listed.stdout and "Rec[/i]" in listed.stdout
    shown = cli("leads", "show", str(lead.id))
    assert shown.exit_code == 0, shown.output
    for text_ in ("[red]张三[/red] :smile:", "op[/u]", "ok[/b]", "Rec[/i]", "Evil[/bold] 科技"):
        assert text_ in shown.stdout, text_
    hit_rates = cli("leads", "recommenders")
    assert hit_rates.exit_code == 0, hit_rates.output
    assert "Rec[/i]" in hit_rates.stdout


def test_cli_refuses_control_characters_in_the_actor_and_comment(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    path = write_leads(tmp_path / "leads.csv", [{"name": "滨江生物", "uscc": USCC_BINJIANG}])
    options = ("--channel", "spin_off", "--recommender", "阿里巴巴")
    refused = cli("leads", "import", path, *options, "--actor", "op\x01")
    assert refused.exit_code == 1, refused.output
    assert "操作人名称含不可见的控制字符（U+0001）" in refused.stderr and "actor name" in refused.stderr
    refused = cli("leads", "import", path, "--channel", "spin_off", "--recommender", "阿里\x1b巴巴")
    assert refused.exit_code == 1 and "--recommender" in refused.stderr and "U+001B" in refused.stderr
    assert lead_rows(session) == []

    assert cli("leads", "import", path, *options, "--actor", "省经信厅").exit_code == 0
    (lead,) = lead_rows(session)
    transitions = session.scalar(select(func.count()).select_from(LeadTransition))
    for args, words in (
        (("--actor", "op\x7f"), ("U+007F", "actor name")),
        (("--actor", "\u200b"), ("请填写操作人", "an actor is required")),
        (("--actor", "op", "--comment", "a\x02b"), ("--comment", "U+0002", "control character")),
    ):
        result = cli("leads", "advance", str(lead.id), "--to", "verifying", *args)
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        for word in words:
            assert word in result.stderr, word
    assert session.scalar(select(func.count()).select_from(LeadTransition)) == transitions


def test_control_characters_in_the_note_other_columns_and_headers_are_refused(
    session: Session, engine: Engine, tmp_path: Path, frozen_today: str
) -> None:
    """A note or a column the import does not know is kept and shown by ``leads show``: an escape sequence
    there would act on the officer's terminal, and PostgreSQL refuses NUL outright (a traceback)."""
    path = tmp_path / "leads.csv"
    path.write_text(
        "channel,recommender,name,note,简介\n"
        'tech_plan,省科技厅,甲公司,"clear\x1b[2J",\n'
        "tech_plan,省科技厅,乙公司,a\x00b,\n"
        "tech_plan,省科技厅,丙公司,,red\x1b[31m\n",
        encoding="utf-8",
    )
    report = leads.import_leads(session, path=path, actor="t")
    assert report.refused
    assert [(i.line, i.column, i.key, i.fields) for i in report.issues] == [
        (2, "note", "field.control_char", {"char": "U+001B"}),
        (3, "note", "field.control_char", {"char": "U+0000"}),
        (4, "简介", "field.control_char", {"char": "U+001B"}),
    ]
    session.rollback()
    header = tmp_path / "header.csv"
    header.write_text("channel,recommender,name,x\x1by\ntech_plan,省科技厅,甲公司,1\n", encoding="utf-8")
    report = leads.import_leads(session, path=header, actor="t")
    assert report.refused and [i.key for i in report.issues] == ["field.control_char"]
    session.rollback()
    assert lead_rows(session) == []
    # what the command prints quotes the value escaped in both halves: the terminal never sees ESC
    shown = cli("leads", "import", path)
    assert shown.exit_code == 1 and "\x1b" not in shown.stderr and "\x00" not in shown.stderr
    assert "clear\\x1b[2J" in shown.stderr and "U+001B" in shown.stderr
    assert table_counts(engine)["leads"] == 0


def test_a_cell_beyond_the_csv_limit_is_an_issue_not_a_traceback(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "channel,recommender,name,note\ntech_plan,省科技厅,甲公司," + "x" * 200_000 + "\n", "utf-8"
    )
    report = leads.import_leads(session, path=path, actor="t")
    assert report.refused
    (issue,) = report.issues
    assert issue.key == "leads.csv_unreadable" and issue.fields["line"] == 2
    result = cli("leads", "import", path, "--actor", "t")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "无法按 CSV 读取" in result.stderr and "cannot be read as CSV" in result.stderr
    assert lead_rows(session) == []


def test_refusals_name_states_and_statuses_in_each_language(
    session: Session, tmp_path: Path, frozen_today: str
) -> None:
    import_rows(session, tmp_path, [{"name": "甲公司"}], channel="tech_plan", recommender="省科技厅")
    (lead,) = lead_rows(session)
    with pytest.raises(LeadError) as exc:
        leads.advance(session, lead_id=lead.id, to_state="accepted", actor="t")
    zh, en = str(exc.value).split(" / ")
    assert "新线索（new）" in zh and "已采纳入库（accepted）" in zh and "核实中（verifying）" in zh
    assert "from new (new) to accepted (accepted); allowed: verifying (verifying)" in en
    assert not re.search(r"[\u4e00-\u9fff]", en), en
    session.rollback()
    listed = cli("leads", "list", "--status", "bogus")
    assert listed.exit_code == 1
    assert "未知的线索状态：bogus（应为 new, verifying, accepted, rejected）" in listed.stderr
    assert "unknown lead status: bogus" in listed.stderr
    leads.advance(session, lead_id=lead.id, to_state="verifying", actor="t")
    session.commit()
    typed = cli(
        "leads", "advance", lead.id, "--to", "accepted", "--actor", "t", "--enterprise-id", "zj\x1b[2J"
    )
    assert typed.exit_code == 1 and "\x1b" not in typed.stderr and "zj\\x1b[2J" in typed.stderr
