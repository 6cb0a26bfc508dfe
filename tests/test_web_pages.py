"""The server-rendered pages (企业库, 企业画像, 梯度培育库, 智能发现, 标准, 线索, 审计日志) through the
real app: log in through the form, read the HTML, and check scope, money hiding, escaping, the Excel export
and the audited edit form. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from factories import USCC_BINJIANG, USCC_WESTLAKE, USCC_YINZHOU, USCC_YUHANG
from qilin.app import create_app
from qilin.audit.models import AuditEntry
from qilin.audit.service import Actor, record
from qilin.auth import passwords
from qilin.auth import service as users
from qilin.config import get_settings
from qilin.db import get_engine, session_scope
from qilin.discovery.leads_models import Lead, Recommender
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.registry.models import Enterprise, EnterpriseTrack, FundingRound, Valuation
from qilin.tiers.service import take_snapshot
from qilin.web import views

PASSWORD = "Pages-test-Passw0rd!"
SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://evil.example","点击")'
WESTLAKE = "zj-westlake"
BINJIANG = "zj-binjiang"  # the enterprise with a script for a name
YINZHOU = "zj-yinzhou"  # the enterprise with a formula for a name (synthetic)
YUHANG = "zj-yuhang"  # a new entry between the two snapshots
FILLERS = 21  # 宁波 enterprises so that the list has two pages
REASON = "近三年融资 9152 万美元"
# a model file's back-test as `qilin discover backtest --format json` writes it (figures made up for the test)
BACKTEST = {
    "mode": "cv", "as_of": "2013-10-01", "horizon_years": 12, "n_companies": 9048, "n_positives": 95,
    "data": {"zh": "开发集：测试数据", "en": "developer split: test data"},
    "scorers": {
        "model": {"precision_at_1pct": {"value": 0.1978, "low": 0.1319, "high": 0.2747},
                  "brier": {"value": 0.00995, "low": 0.0085, "high": 0.0117},
                  "median_lead_years": {"value": 2.0151, "low": None, "high": None}},
        "raised_2y": {"precision_at_1pct": {"value": 0.0989, "low": 0.0549, "high": 0.1538}},
    },
}  # fmt: skip


def _enterprise(id: str, name: str, region: str, **fields: Any) -> Enterprise:
    tracks = fields.pop("tracks", ("ai",))
    return Enterprise(
        id=id,
        name=name,
        region_code=region,
        country="CN",
        tracks=[EnterpriseTrack(track_code=code) for code in tracks],
        **fields,
    )


def _seed(session: Any) -> None:
    session.add_all(
        [
            _enterprise(
                WESTLAKE, "杭州西湖智能科技有限公司", "330106", uscc=USCC_WESTLAKE, name_en="Westlake AI",
                founded_on=dt.date(2018, 3, 12), industry_code="6513",
            ),
            _enterprise(
                BINJIANG, SCRIPT_NAME, "330108", uscc=USCC_BINJIANG, founded_on=dt.date(2019, 11, 20),
                tracks=("biomedicine",),
            ),
            _enterprise(
                YINZHOU, FORMULA_NAME, "330212", uscc=USCC_YINZHOU, founded_on=dt.date(2015, 7, 1),
                is_synthetic=True,
            ),
            _enterprise(
                YUHANG, "杭州余杭新晋科技有限公司", "330110", uscc=USCC_YUHANG, founded_on=dt.date(2023, 2, 1)
            ),
            *[
                _enterprise(f"nb-{n:02d}", f"宁波填充企业{n:02d}", "330203", founded_on=dt.date(2020, 1, 1))
                for n in range(FILLERS)
            ],
        ]
    )  # fmt: skip
    session.flush()
    session.add_all(
        [
            FundingRound(
                enterprise_id=WESTLAKE, announced_on=dt.date(2024, 1, 10), round_type="series-b",
                amount=Decimal("250000000"), currency="CNY", amount_key="250000000",
            ),
            Valuation(
                enterprise_id=WESTLAKE, as_of=dt.date(2024, 1, 10), value=Decimal("1200000000"),
                currency="USD", evidence="disclosed", source="test",
            ),
            FundingRound(
                enterprise_id=YUHANG, announced_on=dt.date(2025, 12, 1), round_type="series-a",
                amount=Decimal("30000000"), currency="USD", amount_key="30000000",
            ),
            Valuation(
                enterprise_id=YUHANG, as_of=dt.date(2025, 12, 1), value=Decimal("200000000"),
                currency="USD", evidence="estimated", source="test",
            ),
            Valuation(
                enterprise_id=YINZHOU, as_of=dt.date(2025, 3, 1), value=Decimal("300000000"),
                currency="CNY", evidence="self-declared", source="test", is_synthetic=True,
            ),
        ]
    )  # fmt: skip
    session.flush()
    take_snapshot(session, as_of=dt.date(2025, 6, 30))
    take_snapshot(session, as_of=dt.date(2026, 6, 30))
    run = DiscoveryRun(
        as_of=dt.date(2026, 6, 30), model_version="test-model", enterprises=2, backtest=BACKTEST
    )
    session.add(run)
    session.flush()
    session.add_all(
        [
            DiscoveryScore(run_id=run.id, enterprise_id=YUHANG, score=0.42, rank=1,
                           reasons={"zh": [REASON], "en": ["US$91.5M raised"]},
                           rank_total_raised=1, rank_raised_2y=2, rank_latest_round=None),
            DiscoveryScore(run_id=run.id, enterprise_id=BINJIANG, score=0.1, rank=2,
                           reasons={"zh": ["最近一轮 100 万美元"], "en": ["latest round US$1M"]}),
        ]
    )  # fmt: skip
    recommender = Recommender(name="浙江大学", kind="university")
    session.add(recommender)
    session.flush()
    session.add(
        Lead(
            channel="university", recommender_id=recommender.id, identity="name:西湖线索",
            name="西湖线索科技", region_code="330106", tracks=["ai"], submitted={},
            submitted_on=dt.date(2026, 1, 5), recorded_by="test", status="new",
        )
    )  # fmt: skip
    actor = Actor.cli()
    users.create(session, username="admin", password=PASSWORD, role="province_admin", actor=actor)
    users.create(
        session, username="xihu", password=PASSWORD, role="county_officer", region_code="330106", actor=actor
    )
    users.create(session, username="dept", password=PASSWORD, role="department", actor=actor)


_HASHES: dict[str, str] = {}
_CHECKS: dict[tuple[str, str], bool] = {}


def _hash_once(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = passwords.hash_password(password)
    return _HASHES[password]


def _verify_once(password_hash: str, password: str) -> bool:
    if (password_hash, password) not in _CHECKS:
        _CHECKS[password_hash, password] = passwords.verify_password(password_hash, password)
    return _CHECKS[password_hash, password]


@pytest.fixture
def site(db_url: str, frozen_today: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # Argon2id is slow on purpose: each (real) hash and check is computed once for the whole module.
    monkeypatch.setattr(users, "hash_password", _hash_once)
    monkeypatch.setattr(users, "verify_password", _verify_once)
    with session_scope(get_engine()) as session:
        _seed(session)
    yield db_url


@pytest.fixture
def app(site: str) -> Any:
    return create_app()


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert match, f"no table#{table_id}"
    return match.group(1)


def _rows(page: str, table_id: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", _table(page, table_id), re.S)
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1) if body else "", re.S)


def _listed(page: str) -> list[str]:
    """The enterprise ids linked from the list's rows."""
    return [
        html.unescape(m) for m in re.findall(r'class="enterprise-link" href="/enterprises/([^"]+)"', page)
    ]


def _total(page: str) -> int:
    match = re.search(r'id="list-total">共 (\d+) 条<', page)
    assert match
    return int(match.group(1))


def test_every_page_renders_for_a_province_admin(app: Any) -> None:
    client = login(app, "admin")
    for path in ("/enterprises", f"/enterprises/{WESTLAKE}", "/tiers", "/discovery", "/standards", "/leads",
                 "/audit"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "text/html" in response.headers["content-type"]

    listing = client.get("/enterprises").text
    assert _total(listing) == 4 + FILLERS
    # The synthetic enterprise carries the badge in its row, the others do not.
    rows = {(_listed(row) or [""])[0]: row for row in _rows(listing, "enterprise-list")}
    assert '<span class="badge synthetic">模拟数据</span>' in rows[YINZHOU]
    assert "badge synthetic" not in rows[WESTLAKE]

    profile = client.get(f"/enterprises/{WESTLAKE}").text
    assert "杭州西湖智能科技有限公司" in profile
    trace = _rows(profile, "tier-trace")
    assert (
        len(trace) >= 6
        and any('class="pass"' in r for r in trace)
        and any('class="fail"' in r for r in trace)
    )
    assert "独角兽" in profile and "最新估值不低于 10亿美元" in profile
    assert "按 2024 年平均汇率 1 美元" in profile  # the valuation in dollars, converted at its year's rate
    assert "2.5亿元" in profile and "12亿美元" in profile  # the round and the valuation
    assert 'id="profile-data"' in profile and "/static/profile.js" in profile

    tiers = client.get("/tiers").text
    assert "2026-06-30" in tiers and _rows(tiers, "tier-counts")
    diff = _rows(tiers, "tier-diff")
    assert any(YUHANG in row and "新入库" in row for row in diff)

    discovery = client.get("/discovery").text
    assert REASON in discovery and YUHANG in discovery
    # the watch-list beside the simple rankings: places, and the model's back-test beside the baselines
    watch = _rows(discovery, "watch-list")
    assert "1 / 2 / —" in watch[0] and "— / — / —" in watch[1]
    backtest = _rows(discovery, "backtest")
    assert len(backtest) == 2 and "本平台模型" in backtest[0] and "近两年融资额" in backtest[1]
    assert "0.198 [0.132, 0.275]" in backtest[0] and "0.00995 [0.00850, 0.01170]" in backtest[0]
    assert "2.02</td>" in backtest[0] and "0.099 [0.055, 0.154]" in backtest[1]
    assert "按企业分折的交叉验证，截至 2013-10-01 的 9048 家企业中 95 家" in discovery
    assert "回测数据：开发集：测试数据。本省企业的评分用同一模型，但未在本省数据上回测" in discovery
    profile = client.get(f"/enterprises/{YUHANG}").text
    assert re.search(r'id="baseline-ranks">[^<]*：1 / 2 / —<', profile)
    # a score with no place in any baseline (nothing raised known, or a run older than the places): no line
    assert 'id="baseline-ranks"' not in client.get(f"/enterprises/{BINJIANG}").text
    standards = client.get("/standards").text
    assert "浙江省独角兽企业培育标准" in standards and "成立不超过 10 年" in standards
    assert "《浙江省加快培育独角兽企业行动方案（2024—2027年）》" in standards  # sources in Chinese
    assert "issue" not in standards
    leads = client.get("/leads").text
    assert "西湖线索科技" in leads and 'id="recommender-report"' in leads
    by_channel = client.get("/leads", params={"channel": "university"}).text  # 高校院所, the lead's channel
    assert "西湖线索科技" in by_channel and '<option value="university" selected>' in by_channel
    assert "西湖线索科技" not in _table(client.get("/leads", params={"channel": "tech_plan"}).text, "leads")
    assert "badge synthetic" not in _table(leads, "leads")
    with session_scope(get_engine()) as session:  # a demo lead (模拟数据) says so in its row
        session.scalars(select(Lead)).one().is_synthetic = True
    row = _rows(client.get("/leads").text, "leads")[0]
    assert "西湖线索科技" in row and '<span class="badge synthetic">模拟数据</span>' in row
    audit = client.get("/audit?action=user.create").text
    assert len(_rows(audit, "audit-log")) == 3
    first = _rows(audit, "audit-log")[0]
    assert '<td title="user.create">新建用户</td>' in first and "<td>命令行</td>" in first
    assert re.search(r"<td class=\"wrap\">用户 \d+</td>", first), first
    assert '<option value="user.create" selected>新建用户</option>' in audit


def test_recent_signals_follow_the_city_filter_and_a_kind(app: Any) -> None:
    from qilin.common.dates import today

    recent = today() - dt.timedelta(days=20)
    earlier = recent - dt.timedelta(days=90)
    with session_scope(get_engine()) as session:
        session.add_all(
            [  # 西湖: a round 4× the last (融资额翻倍); 宁波: a follow-on within 12 months (快速再融资)
                FundingRound(enterprise_id=WESTLAKE, announced_on=recent, round_type="series-c+",
                             amount=Decimal("1000000000"), currency="CNY", amount_key="1000000000"),
                FundingRound(enterprise_id="nb-01", announced_on=earlier, round_type="angel",
                             amount=Decimal("1000000"), currency="CNY", amount_key="1000000"),
                FundingRound(enterprise_id="nb-01", announced_on=recent, round_type="series-a",
                             amount=Decimal("1200000"), currency="CNY", amount_key="1200000"),
            ]
        )  # fmt: skip
    admin = login(app, "admin")

    def signals(**params: str) -> list[tuple[str, str]]:
        page = admin.get("/discovery", params=params).text
        if 'id="signals"' not in page:
            return []
        rows = _rows(page, "signals")
        return sorted(
            (re.sub(r"<[^>]+>", "", r.split("</td>")[1]).strip(), re.sub(r"<[^>]+>", "", r.split("</td>")[2]))
            for r in rows
        )

    everything = signals()
    assert ("宁波填充企业01", "快速再融资") in everything and (
        "杭州西湖智能科技有限公司",
        "融资额翻倍",
    ) in everything
    assert signals(kind="quick_follow_on") == [("宁波填充企业01", "快速再融资")]
    ningbo = signals(city="330200")
    assert ningbo and all(name.startswith("宁波") for name, _ in ningbo)
    assert signals(city="330200", kind="round_doubled") == []
    page = admin.get("/discovery", params={"city": "330100", "kind": "quick_follow_on"}).text
    assert '<option value="quick_follow_on" selected>' in page and "仅含杭州市的企业" in page
    assert '<input type="hidden" name="kind" value="quick_follow_on">' in page  # the city form keeps the kind
    assert "已忽略无法识别的筛选条件 kind=bogus" in admin.get("/discovery?kind=bogus").text


def test_recent_signals_are_paged(app: Any) -> None:
    """Every recent signal can be reached on the page, 50 at a time, newest first; the pager's links keep
    the filters and come back to the signals."""
    from qilin.common.dates import today

    days = (150, 110, 70, 30)  # four rounds in 180 days, each within 12 months of the one before
    with session_scope(get_engine()) as session:
        session.add_all(
            FundingRound(enterprise_id=f"nb-{n:02d}", announced_on=today() - dt.timedelta(days=d),
                         round_type="venture", amount=Decimal(10**6), currency="CNY", amount_key="1000000")
            for n in range(FILLERS) for d in days
        )  # fmt: skip
    expected = FILLERS * (len(days) - 1)  # a quick follow-on for each round after the first
    assert expected > views.SIGNALS_PAGE_SIZE
    admin = login(app, "admin")

    def shown(page: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", r.split("</td>")[0]).strip() for r in _rows(page, "signals")]

    first = admin.get("/discovery", params={"kind": "quick_follow_on"}).text
    second = admin.get("/discovery", params={"kind": "quick_follow_on", "signals_page": "2"}).text
    dates = shown(first) + shown(second)
    assert len(shown(first)) == views.SIGNALS_PAGE_SIZE and len(dates) == expected
    assert dates == sorted(dates, reverse=True)
    signals_nav = first.split('id="signals-section"')[1]
    assert f"共 {expected} 条" in signals_nav
    assert 'href="/discovery?kind=quick_follow_on&amp;signals_page=2#signals-section"' in signals_nav
    beyond = admin.get("/discovery", params={"kind": "quick_follow_on", "signals_page": "9"}).text
    assert shown(beyond) == shown(second)  # past the last page: the last page


def test_a_bad_query_parameter_is_named_in_chinese(app: Any) -> None:
    admin = login(app, "admin")
    page = admin.get("/enterprises?page=abc")
    assert page.status_code == 422
    assert "<p>请求参数无效：page：应为整数</p>" in page.text


def test_list_filters_search_and_pages(app: Any) -> None:
    client = login(app, "admin")
    ningbo = client.get("/enterprises", params={"city": "330200"}).text
    assert _total(ningbo) == FILLERS + 1
    assert all(id == YINZHOU or id.startswith("nb-") for id in _listed(ningbo))

    unicorns = client.get("/enterprises", params={"tier": "unicorn"}).text
    assert _listed(unicorns) == [WESTLAKE]
    assert _listed(client.get("/enterprises", params={"q": "西湖智能"}).text) == [WESTLAKE]
    assert _listed(client.get("/enterprises", params={"q": "westlake"}).text) == [WESTLAKE]
    assert _listed(client.get("/enterprises", params={"q": USCC_WESTLAKE}).text) == [WESTLAKE]
    assert _listed(client.get("/enterprises", params={"county": "330108"}).text) == [BINJIANG]
    assert _listed(client.get("/enterprises", params={"stage": "series-a"}).text) == [YUHANG]
    # A county outside the chosen city is dropped with a note; the city still filters.
    mixed = client.get("/enterprises", params={"city": "330200", "county": "330106"}).text
    assert _total(mixed) == FILLERS + 1 and "区县不属于所选城市" in mixed

    first = client.get("/enterprises", params={"sort": "name"}).text
    second = client.get("/enterprises", params={"sort": "name", "page": 2}).text
    assert len(_listed(first)) == 20 and len(_listed(second)) == 4 + FILLERS - 20
    assert not set(_listed(first)) & set(_listed(second))
    assert "第 2 / 2 页" in second and "sort=name" in first  # page links keep the filters
    past_the_end = client.get("/enterprises", params={"sort": "name", "page": 99}).text
    assert _listed(past_the_end) == _listed(second)

    # The valuation range (亿元): US$1.2 billion in 2024 is about 85亿元; 3亿元 is the synthetic one's.
    assert _listed(client.get("/enterprises", params={"min_valuation": "50"}).text) == [WESTLAKE]
    low = _listed(client.get("/enterprises", params={"min_valuation": "1", "max_valuation": "20"}).text)
    assert sorted(low) == [YINZHOU, YUHANG]
    bad = client.get("/enterprises", params={"min_valuation": "abc"})
    assert bad.status_code == 200 and "估值应为不小于 0 的数字" in bad.text


def test_cockpit_names_its_standard_and_shows_the_province_target_to_the_province_only(app: Any) -> None:
    from qilin.web.enterprises import standard_name

    name = standard_name(get_settings().default_standard)
    province = login(app, "admin").get("/").text
    assert f"梯队依据《{name}》快照" in province and "全省目标：2027 年超过 80 家" in province
    assert '"target_line": "2027 年目标 80"' in province  # the charts' words come from the catalog
    county = login(app, "xihu").get("/").text
    assert f"梯队依据《{name}》快照" in county and "全省目标" not in county
    assert "独角兽企业（含超级独角兽）" in county


def test_a_city_view_maps_and_lists_the_citys_counties(app: Any) -> None:
    admin = login(app, "admin")
    hangzhou = admin.get("/?city=330100").text
    assert "杭州市各区县梯队企业分布" in hangzhou and "点击区县查看企业" in hangzhou
    counties = _rows(hangzhou, "county-table")
    assert len(counties) == 13 and 'href="/enterprises?county=330106"' in hangzhou
    assert 'id="city-table"' not in hangzhou and 'id="city-table"' in admin.get("/").text
    geo = admin.get("/geo/zhejiang-counties/330100.geojson")
    assert geo.status_code == 200 and geo.headers["content-type"] == "application/geo+json"
    assert sorted(f["properties"]["adcode"][:4] for f in geo.json()["features"]) == ["3301"] * 13
    for other in ("330000", "330106", "110100", "x"):  # the province, a county, another province's city
        assert admin.get(f"/geo/zhejiang-counties/{other}.geojson").status_code == 404, other
    # a county officer's cockpit maps its city and lists its own county only
    county = login(app, "xihu").get("/").text
    assert "杭州市各区县梯队企业分布" in county
    assert [row.count("西湖区") for row in _rows(county, "county-table")] == [1]


def test_profile_shows_records_and_standards_in_words(app: Any) -> None:
    from qilin.web.enterprises import standard_name

    page = login(app, "admin").get(f"/enterprises/{WESTLAKE}").text
    history = _table(page, "tier-history")
    assert f"{standard_name(get_settings().default_standard)}（第 1 版）" in history
    assert "依据：" in page and " 估值（公开披露" in page
    assert not re.search(r"(valuation|round|enterprise)#", page)  # record ids are for the API
    assert "<dd>中国</dd>" in page and "<dd>CN</dd>" not in page  # the country by its name


def test_tier_history_before_the_founding_says_not_yet_founded(app: Any, site: str) -> None:
    with session_scope() as session:
        enterprise = session.get(Enterprise, WESTLAKE)
        assert enterprise is not None
        enterprise.founded_on = dt.date(2025, 7, 1)  # after the 2025-06-30 snapshot
    history = _table(login(app, "admin").get(f"/enterprises/{WESTLAKE}").text, "tier-history")
    assert "<td>2025-06-30</td>" in history and "尚未成立" in history


def test_discovery_marks_the_watch_list_and_names_the_model_in_words(app: Any) -> None:
    from qilin.web.views import model_label

    page = login(app, "admin").get("/discovery").text
    assert "AI 评分排名" in page and "排名前 5%（第 1—1 名）为 AI 关注名单" in page
    rows = _rows(page, "watch-list")
    assert '<span class="badge">关注</span>' in rows[0] and "关注" not in rows[1]
    assert model_label("2013-10-01+sha256:6a509c4de850c279") == "训练截至 2013-10-01，版本 6a509c4d"
    assert model_label("test-model") == "test-model"


def test_a_recommender_starts_on_its_leads_not_an_empty_cockpit(app: Any, site: str) -> None:
    with session_scope() as session:
        users.create(
            session, username="zju", password=PASSWORD, role="recommender", organization="浙江大学",
            actor=Actor.cli(),
        )  # fmt: skip
    client = login(app, "zju")
    start = client.get("/", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"] == "/leads"
    leads = client.get("/leads").text
    assert '<a class="brand" href="/leads">' in leads
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and '<a href="/leads">返回首页</a>' in missing.text
    admin = login(app, "admin")
    assert admin.get("/", follow_redirects=False).status_code == 200


def test_county_officer_sees_only_its_county(app: Any) -> None:
    client = login(app, "xihu")
    listing = client.get("/enterprises").text
    assert _listed(listing) == [WESTLAKE]
    # A filter cannot widen the scope.
    assert _listed(client.get("/enterprises", params={"city": "330200"}).text) == []
    for other in (BINJIANG, YINZHOU, "no-such-enterprise"):
        response = client.get(f"/enterprises/{other}")
        assert response.status_code == 404
        assert "不在您的权限范围内" in response.text
    assert client.get(f"/enterprises/{WESTLAKE}").status_code == 200
    tiers = client.get("/tiers").text
    assert YUHANG not in tiers  # the new entry is in 余杭区, outside 西湖区
    discovery = client.get("/discovery").text
    assert YUHANG not in discovery and BINJIANG not in discovery
    assert "西湖线索科技" in client.get("/leads").text
    assert 'id="recommender-report"' not in client.get("/leads").text
    assert client.get("/audit").status_code == 403

    book = load_workbook(io.BytesIO(client.get("/enterprises/export.xlsx").content))
    ids = [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert ids == [WESTLAKE]


def test_excel_export_neutralises_formulas(app: Any) -> None:
    client = login(app, "admin")
    response = client.get("/enterprises/export.xlsx", params={"city": "330200", "sort": "name"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == FILLERS + 1
    formula = next(r for r in rows if r["企业编号"] == YINZHOU)
    assert formula["企业名称"] == "'" + FORMULA_NAME
    assert formula["模拟数据"] == "是" and formula["最新估值"] == "3亿元"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    notes = " ".join(str(c.value) for row in book.worksheets[1].iter_rows() for c in row if c.value)
    assert "宁波市" in notes and str(FILLERS + 1) in notes
    with session_scope(get_engine()) as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.export")).all()
        assert [(e.actor, e.channel, (e.new or {}).get("rows")) for e in exports] == [("admin", "web", 22)]

    # Without the financial permission the export has no valuation columns.
    dept = load_workbook(io.BytesIO(login(app, "dept").get("/enterprises/export.xlsx").content))
    assert "最新估值" not in [c.value for c in dept.worksheets[0][1]]


def _sheet_rows(content: bytes, index: int = 0) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(content)).worksheets[index].iter_rows(values_only=True))


def test_watch_list_exports_to_excel_in_scope_and_audited(app: Any) -> None:
    client = login(app, "admin")
    page = client.get("/discovery").text
    assert 'id="export-link" href="/discovery/export.xlsx"' in page
    assert 'href="/discovery/export.xlsx?city=330100"' in client.get("/discovery?city=330100").text
    response = client.get("/discovery/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="qilin-watch-list-20260630.xlsx"' in response.headers["content-disposition"]
    header, *rows = _sheet_rows(response.content)
    assert header[:6] == ("排名", "企业编号", "企业名称", "所在地", "评分", "模拟数据")
    assert header[6:] == (
        "对照排名：累计融资额",
        "对照排名：近两年融资额",
        "对照排名：最近一轮金额",
        "理由",
    )
    assert [r[:2] for r in rows] == [(1, YUHANG), (2, BINJIANG)]
    assert rows[0][4] == 0.42 and rows[0][6:] == (1, 2, None, REASON)
    assert rows[1][2] == SCRIPT_NAME  # text in a cell, never a formula
    notes = " ".join(str(v) for row in _sheet_rows(response.content, 1) for v in row if v)
    assert "test-model" in notes and "不是评定结论" in notes and "城市：全部" in notes
    # the city filter and the scope hold as on the page
    header, *rows = _sheet_rows(client.get("/discovery/export.xlsx", params={"city": "330200"}).content)
    assert rows == []
    assert _sheet_rows(login(app, "xihu").get("/discovery/export.xlsx").content)[1:] == []
    with session_scope(get_engine()) as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "discovery.export")).all()
        assert [(e.actor, (e.new or {}).get("city"), (e.new or {}).get("rows")) for e in exports] == [
            ("admin", None, 2),
            ("admin", "330200", 0),
            ("xihu", None, 0),
        ]
    # without the financial permission: no reasons, no places (they quote amounts)
    header, *rows = _sheet_rows(login(app, "dept").get("/discovery/export.xlsx").content)
    assert len(header) == 6 and [r[1] for r in rows] == [YUHANG, BINJIANG]
    assert REASON not in str(rows)


def test_exports_stop_at_the_row_limit_and_say_so(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workbooks write the first MAX_ROWS rows in the page's order and the notes sheet names the cut."""
    from qilin.web import excel

    client = login(app, "admin")
    full_list = _sheet_rows(client.get("/enterprises/export.xlsx", params={"sort": "name"}).content)[1:]
    monkeypatch.setattr(excel, "MAX_ROWS", 1)
    _header, *rows = _sheet_rows(client.get("/discovery/export.xlsx").content)
    assert [r[:2] for r in rows] == [(1, YUHANG)]
    notes = " ".join(
        str(v) for row in _sheet_rows(client.get("/discovery/export.xlsx").content, 1) for v in row if v
    )
    assert "仅导出前 1 行，符合条件的共 2 家" in notes
    monkeypatch.setattr(excel, "MAX_ROWS", 3)
    monkeypatch.setattr(excel, "EXPORT_PAGE_SIZE", 2)  # the rows come from two pages
    content = client.get("/enterprises/export.xlsx", params={"sort": "name"}).content
    assert len(full_list) > 3 and _sheet_rows(content)[1:] == full_list[:3]
    notes = " ".join(str(v) for row in _sheet_rows(content, 1) for v in row if v)
    assert f"仅导出前 3 行，符合条件的共 {len(full_list)} 家" in notes


def test_names_are_escaped(app: Any) -> None:
    client = login(app, "admin")
    escaped = html.escape(SCRIPT_NAME, quote=False)
    for path in ("/enterprises", f"/enterprises/{BINJIANG}", "/discovery"):
        page = client.get(path).text
        assert escaped in page, path
        assert SCRIPT_NAME not in page, path


def test_edit_form_needs_csrf_and_is_audited(app: Any) -> None:
    client = login(app, "xihu")
    page = client.get(f"/enterprises/{WESTLAKE}").text
    assert 'id="edit-form"' in page
    form = {"name": "杭州西湖智能科技股份有限公司", "name_en": "Westlake AI Inc.", "industry_code": "6513",
            "category": ""}  # fmt: skip

    refused = client.post(f"/enterprises/{WESTLAKE}/edit", data=form, follow_redirects=False)
    assert refused.status_code == 403
    forged = client.post(
        f"/enterprises/{WESTLAKE}/edit", data={**form, "csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403

    saved = client.post(
        f"/enterprises/{WESTLAKE}/edit", data={**form, "csrf_token": _csrf(page)}, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/enterprises/{WESTLAKE}?saved=1"
    assert "已保存" in client.get(saved.headers["location"]).text

    bad = client.post(
        f"/enterprises/{WESTLAKE}/edit",
        data={**form, "industry_code": "9999x", "csrf_token": _csrf(page)},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "未知的行业代码" in bad.text
    # the form's own checks answer in Chinese and name the field (pydantic's text is English)
    for changed, needle in (
        ({"name": "x" * 201}, "企业名称：内容过长（最多 200 个字符）"),
        ({"name": "数梦\x01工场"}, "企业名称：含不可见的控制字符（U+0001）"),
        ({"category": "y" * 65}, "：内容过长（最多 64 个字符）"),
    ):
        refused_value = client.post(
            f"/enterprises/{WESTLAKE}/edit", data={**form, **changed, "csrf_token": _csrf(page)}
        )
        assert refused_value.status_code == 422 and needle in refused_value.text, changed
        assert "String should" not in refused_value.text and "Value error" not in refused_value.text
    # Another county's enterprise cannot be edited (the same answer as a missing one).
    other = client.post(
        f"/enterprises/{BINJIANG}/edit", data={**form, "csrf_token": _csrf(page)}, follow_redirects=False
    )
    assert other.status_code == 404

    with session_scope(get_engine()) as session:
        enterprise = session.get(Enterprise, WESTLAKE)
        assert enterprise is not None and enterprise.name == form["name"]
        assert session.get(Enterprise, BINJIANG).name == SCRIPT_NAME  # type: ignore[union-attr]
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "enterprise.update", AuditEntry.subject_id == WESTLAKE
            )
        ).all()
        assert len(entries) == 1
        entry = entries[0]
        assert (entry.actor, entry.channel) == ("xihu", "web")
        assert entry.old == {"name": "杭州西湖智能科技有限公司", "name_en": "Westlake AI"}
        assert entry.new == {"name": form["name"], "name_en": "Westlake AI Inc."}
    # the audit page names the fields in Chinese; a long value (an import's file list) folds away
    with session_scope(get_engine()) as session:
        files = [{"path": f"/data/{n}.csv", "rows": n} for n in range(40)]
        record(session, actor=Actor("导入员", "cli", "local"), action="registry.import",
               subject_type="import_run", subject_id=1, new={"files": files})  # fmt: skip
    log = html.unescape(login(app, "admin").get("/audit").text)
    assert '名称："杭州西湖智能科技有限公司" → "杭州西湖智能科技股份有限公司"' in log
    assert '英文名称："Westlake AI" → "Westlake AI Inc."' in log
    assert "<details><summary>文件：" in log

    # A department may read but not write.
    dept = login(app, "dept")
    dept_page = dept.get(f"/enterprises/{WESTLAKE}").text
    assert 'id="edit-form"' not in dept_page
    response = dept.post(
        f"/enterprises/{WESTLAKE}/edit", data={**form, "csrf_token": _csrf(dept_page)}, follow_redirects=False
    )
    assert response.status_code == 403


def _lead_id(client: TestClient) -> int:
    found = re.search(r'href="/leads/(\d+)"', client.get("/leads").text)
    assert found, "no lead linked from the list"
    return int(found.group(1))


def test_an_officer_processes_a_lead_on_its_page_and_the_audit_names_the_web_user(app: Any) -> None:
    xihu = login(app, "xihu")
    lead_id = _lead_id(xihu)
    page = xihu.get(f"/leads/{lead_id}").text
    assert "西湖线索科技" in page and 'id="lead-form"' in page and "开始核实" in page
    assert "不予采纳（须填写原因）" not in page  # only the moves the workflow allows from 新线索
    url = f"/leads/{lead_id}/advance"
    assert xihu.post(url, data={"to_state": "verifying"}, follow_redirects=False).status_code == 403  # CSRF

    moved = xihu.post(url, data={"to_state": "verifying", "csrf_token": _csrf(page)}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/leads/{lead_id}?moved=verifying"
    page = xihu.get(moved.headers["location"]).text
    assert "已处理：核实中" in page and "不予采纳（须填写原因）" in page and "采纳入库" in page
    token = _csrf(page)
    # refusals name the form's fields, keep what was typed, and move nothing
    refused = xihu.post(url, data={"to_state": "rejected", "comment": " ", "csrf_token": token})
    assert refused.status_code == 422 and "不予采纳必须在“意见 / 原因”中填写原因" in refused.text
    refused = xihu.post(url, data={"to_state": "accepted", "comment": "已核实", "csrf_token": token})
    assert refused.status_code == 422 and "采纳入库须在“关联企业编号”中填写" in html.unescape(refused.text)
    assert "--enterprise-id" not in refused.text and "已核实</textarea>" in refused.text
    outside = xihu.post(
        url, data={"to_state": "accepted", "enterprise_id": BINJIANG, "csrf_token": token}
    )  # 滨江区: outside 西湖区, answered as a missing one
    assert outside.status_code == 422 and f"企业 {BINJIANG} 不存在或不在您的权限范围内" in outside.text
    assert "核实中" in xihu.get(f"/leads/{lead_id}").text

    accepted = xihu.post(
        url,
        data={"to_state": "accepted", "enterprise_id": WESTLAKE, "comment": "实地走访", "csrf_token": token},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    page = xihu.get(accepted.headers["location"]).text
    assert "此线索已办结" in page and f'href="/enterprises/{WESTLAKE}"' in page
    history = _rows(page, "lead-history")
    assert len(history) == 2 and "实地走访" in history[1] and all("xihu" in row for row in history)
    with session_scope(get_engine()) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and (lead.status, lead.enterprise_id) == ("accepted", WESTLAKE)
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lead.transition").order_by(AuditEntry.id)
        ).all()
        assert [(r.actor, r.channel, r.new["to"]) for r in rows if r.new] == [
            ("xihu", "web", "verifying"),
            ("xihu", "web", "accepted"),
        ]
        assert all(r.source_address and r.source_address != "local" for r in rows)
    # the list names the enterprise the lead went into, to those who may open it; the recommender (浙江大学)
    # sees that it is in the registry, not the registry's record
    with session_scope() as session:
        users.create(
            session, username="zju", password=PASSWORD, role="recommender", organization="浙江大学",
            actor=Actor.cli(),
        )  # fmt: skip
    row = next(r for r in _rows(xihu.get("/leads").text, "leads") if "西湖线索科技" in r)
    assert f'<a href="/enterprises/{WESTLAKE}">杭州西湖智能科技有限公司</a>' in row
    row = next(r for r in _rows(login(app, "zju").get("/leads").text, "leads") if "西湖线索科技" in r)
    assert "已入库" in row and WESTLAKE not in row and "杭州西湖智能科技有限公司" not in row


def test_a_lead_page_keeps_to_the_scope_and_the_role(app: Any) -> None:
    admin = login(app, "admin")
    lead_id = _lead_id(admin)
    dept = login(app, "dept")  # reads leads, does not process them
    page = dept.get(f"/leads/{lead_id}").text
    assert "西湖线索科技" in page and 'id="lead-form"' not in page
    refused = dept.post(
        f"/leads/{lead_id}/advance", data={"to_state": "verifying", "csrf_token": _csrf(page)}
    )
    assert refused.status_code == 403
    for missing in (lead_id + 1000, 0, 2**40):
        assert admin.get(f"/leads/{missing}").status_code in (404, 422), missing
    with session_scope(get_engine()) as session:  # the lead moves to another county: 西湖区 loses it
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.region_code = "330108"
    xihu = login(app, "xihu")
    assert xihu.get(f"/leads/{lead_id}").status_code == 404
    token = _csrf(xihu.get("/leads").text)  # the logout form's
    gone = xihu.post(f"/leads/{lead_id}/advance", data={"to_state": "verifying", "csrf_token": token})
    assert gone.status_code == 404


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def test_a_recommender_uploads_a_lead_file_in_its_own_name(app: Any) -> None:
    with session_scope(get_engine()) as session:
        users.create(session, username="zju", password=PASSWORD, role="recommender", organization="浙江大学",
                     actor=Actor.cli())  # fmt: skip
        other = Recommender(name="省科技厅", kind="government")  # another institution's lead, same USCC
        session.add(other)
        session.flush()
        session.add(
            Lead(channel="tech_plan", recommender_id=other.id, identity=f"uscc:{USCC_WESTLAKE}",
                 name="西湖智能", uscc=USCC_WESTLAKE, region_code="330106", tracks=[], submitted={},
                 submitted_on=dt.date(2026, 1, 6), recorded_by="test", status="new")
        )  # fmt: skip
        before = session.scalar(select(func.count()).select_from(Lead))
    zju = login(app, "zju")
    page = zju.get("/leads").text
    assert 'id="lead-upload-form"' in page and "以本机构名义提交：浙江大学" in page
    assert 'value="ai_discovery"' not in page  # the platform's own channel
    report = _rows(page, "recommender-report")  # its own hit rate, no other institution's
    assert len(report) == 1 and "浙江大学" in report[0] and "<td>高校院所</td>" in report[0]  # kind in words
    token = _csrf(page)

    def upload(body: bytes, name: str = "推荐.csv", **fields: str) -> Any:
        return zju.post("/leads/import", data={"csrf_token": token, **fields}, files={"file": (name, body)})

    assert zju.post("/leads/import", files={"file": ("a.csv", b"x")}).status_code == 403  # no CSRF token
    good = upload(
        _csv(
            "企业名称,统一社会信用代码,渠道",
            f"杭州西湖智能科技有限公司,{USCC_WESTLAKE},高校院所",
            "之江量子科技,,高校院所",
        )
    )
    assert good.status_code == 200, good.text[:2000]
    assert "读取 2 行：新增 2 条线索，0 条此前已提交" in good.text
    rows = _rows(good.text, "lead-import-rows")
    assert len(rows) == 2 and all("新增" in row for row in rows)
    assert WESTLAKE not in good.text  # a recommender learns nothing of the registry from its upload
    own_id = int(re.findall(r'href="/leads/(\d+)"', _table(good.text, "lead-import-rows"))[0])
    own_page = zju.get(f"/leads/{own_id}").text
    assert "统一社会信用代码相同的线索" not in own_page  # nor of other institutions' leads
    assert WESTLAKE not in own_page and "<dt>统一社会信用代码匹配的企业</dt><dd>—</dd>" in own_page
    assert "统一社会信用代码相同的线索" in login(app, "admin").get(f"/leads/{own_id}").text
    assert "之江量子科技" in _table(good.text, "leads")
    again = upload(_csv("企业名称,渠道", "之江量子科技,高校院所"))
    assert again.status_code == 200 and "新增 0 条线索，1 条此前已提交" in again.text

    for body, fields, needle in (
        (_csv("企业名称,推荐单位,渠道", "甲科技,某咨询,高校院所"), {}, "只能以本机构（浙江大学）的名义推荐"),
        (_csv("企业名称", "乙科技"), {"channel": "ai_discovery"}, "“AI 发现”渠道仅供平台自身使用"),
        (_csv("企业名称,渠道", "丙科技,不存在的渠道"), {}, "不存在的渠道"),
    ):
        refused = upload(body, **fields)
        assert refused.status_code == 422 and "整份文件未导入" in refused.text, refused.text[:2000]
        assert needle in html.unescape(_table(refused.text, "lead-import-issues")), needle
    assert upload(b"").status_code == 422 and "上传的文件是空的" in upload(b"").text
    big = upload(b"x" * (5 * 1024 * 1024 + 1))
    assert big.status_code == 422 and "文件过大（上限 5 MB）" in big.text
    odd = upload(b"name\n", name="leads.txt")
    assert odd.status_code == 422 and "线索文件应为 CSV（.csv）或 Excel（.xlsx）：leads.txt" in odd.text
    with session_scope(get_engine()) as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == before + 2  # only the good file's
        audit = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["lead.create", "leads.import"]), AuditEntry.actor == "zju")
            .order_by(AuditEntry.id)
        ).all()
        assert [(a.action, a.actor, a.channel) for a in audit] == [
            ("lead.create", "zju", "web"),
            ("lead.create", "zju", "web"),
            ("leads.import", "zju", "web"),
            ("leads.import", "zju", "web"),
        ]


def test_the_lead_template_downloads_and_a_filled_copy_imports(app: Any) -> None:
    admin = login(app, "admin")
    page = admin.get("/leads").text
    assert 'href="/leads/template.xlsx"' in page
    template = admin.get("/leads/template.xlsx")
    assert template.status_code == 200 and "attachment" in template.headers["content-disposition"]
    book = load_workbook(io.BytesIO(template.content))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert sheet.title == "线索" and headers[:3] == ["企业名称", "统一社会信用代码", "行政区划代码"]
    assert sheet.cell(row=2, column=2).number_format == "@"  # an all-digit USCC stays text
    assert book.worksheets[1].title == "填写说明"
    row = {"企业名称": "之江数智科技有限公司", "统一社会信用代码": USCC_YINZHOU, "行政区划代码": "330212",
           "推荐日期": "2026-03-01", "渠道": "双创赛事"}  # fmt: skip
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=2, column=column, value=row.get(header))
    filled = io.BytesIO()
    book.save(filled)
    done = admin.post(
        "/leads/import",
        data={"csrf_token": _csrf(page), "recommender": "省科技厅"},
        files={"file": ("线索填写模板.xlsx", filled.getvalue())},
    )
    assert done.status_code == 200, html.unescape(done.text)[:3000]
    assert "读取 1 行：新增 1 条线索" in done.text and "之江数智科技有限公司" in done.text
    assert login(app, "dept").get("/leads/template.xlsx").status_code == 403  # reads leads, submits none


def test_the_admin_uploads_for_a_named_recommender_and_sees_the_registry_match(app: Any) -> None:
    admin = login(app, "admin")
    page = admin.get("/leads").text
    assert 'name="recommender"' in page and 'value="ai_discovery"' in page
    done = admin.post(
        "/leads/import",
        data={"csrf_token": _csrf(page), "channel": "tech_plan", "recommender": "省科技厅"},
        files={"file": ("plan.csv", _csv("企业名称,统一社会信用代码", f"西湖智能,{USCC_WESTLAKE}"))},
    )
    assert done.status_code == 200 and f'href="/enterprises/{WESTLAKE}"' in done.text
    dept = login(app, "dept")  # reads leads, submits none
    listing = dept.get("/leads").text
    assert 'id="lead-upload-form"' not in listing
    refused = dept.post(
        "/leads/import",
        data={"csrf_token": _csrf(listing)},
        files={"file": ("a.csv", _csv("企业名称", "丁"))},
    )
    assert refused.status_code == 403


def test_the_admin_puts_the_watch_list_forward_as_ai_leads_from_the_discovery_page(app: Any) -> None:
    admin = login(app, "admin")
    page = admin.get("/discovery").text
    assert 'id="push-leads"' in page
    pushed = admin.post(
        "/discovery/leads", data={"csrf_token": _csrf(page), "top": "2"}, follow_redirects=False
    )
    assert pushed.status_code == 303 and pushed.headers["location"].startswith("/discovery?pushed=")
    count = int(pushed.headers["location"].rsplit("=", 1)[1])
    assert count >= 1  # the site has a scored enterprise outside every tier
    assert "已推送" in admin.get(pushed.headers["location"]).text
    with session_scope(get_engine()) as session:
        ai = session.scalars(select(Lead).where(Lead.channel == "ai_discovery")).all()
        assert len(ai) == count and all(lead.note and "AI 发现" in lead.note for lead in ai)
        assert all(lead.recorded_by == "admin" for lead in ai)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.create")).all()
        assert {(a.actor, a.channel) for a in audit if a.new and a.new["channel"] == "ai_discovery"} == {
            ("admin", "web")
        }
    refused = admin.post("/discovery/leads", data={"csrf_token": _csrf(page), "top": "0"})
    assert refused.status_code == 422
    xihu = login(app, "xihu")  # a county officer reads the list, does not speak for the platform
    county_page = xihu.get("/discovery").text
    assert 'id="push-leads"' not in county_page
    denied = xihu.post("/discovery/leads", data={"csrf_token": _csrf(county_page), "top": "2"})
    assert denied.status_code == 403


def test_department_sees_no_amounts(app: Any) -> None:
    client = login(app, "dept")
    profile = client.get(f"/enterprises/{WESTLAKE}").text
    for amount in ("2.5亿元", "12亿美元"):
        assert amount not in profile
    assert "—（无权查看）" in profile and 'id="profile-data"' not in profile
    assert 'id="valuations"' not in profile and 'id="signals"' not in profile
    listing = client.get("/enterprises", params={"min_valuation": "50"}).text
    assert "无权按估值筛选" in listing and _total(listing) == 4 + FILLERS
    assert 'name="min_valuation"' not in listing and "3亿元" not in listing
    discovery = client.get("/discovery").text
    assert REASON not in discovery and "无权查看" in discovery
    assert "1 / 2 / —" not in discovery and "对照排名" not in discovery
    assert "本平台模型" in _rows(discovery, "backtest")[0]  # the model's evidence is no enterprise's figure
    yuhang = client.get(f"/enterprises/{YUHANG}").text
    assert REASON not in yuhang and "2亿美元" not in yuhang


def test_a_filter_that_is_not_used_says_so(app: Any) -> None:
    """Found by fuzzing: unknown filter values were dropped in silence, so the whole list looked filtered."""
    admin = login(app, "admin")
    whole = _total(admin.get("/enterprises").text)
    page = admin.get("/enterprises", params={"tier": "bogus", "sort": "x"}).text
    assert "已忽略无法识别的筛选条件 tier=bogus" in page and "sort=x" in page and _total(page) == whole
    assert "已忽略无法识别的筛选条件 status=bogus" in admin.get("/leads?status=bogus").text
    assert "已忽略无法识别的筛选条件 channel=lottery" in admin.get("/leads?channel=lottery").text
    assert "日期无效（YYYY-MM-DD）：2024-01-01xyz" in admin.get("/audit?since=2024-01-01xyz").text
    reversed_dates = admin.get("/audit", params={"since": "2026-01-01", "until": "2025-01-01"}).text
    assert "起始日期 2026-01-01 晚于截止日期 2025-01-01" in reversed_dates
    assert "驾驶舱 · 宁波市" in admin.get("/?city=330200").text
    # a county officer is offered its own city only, and another city is not shown as if it were empty
    xihu = login(app, "xihu")
    discovery = xihu.get("/discovery", params={"city": "330200"}).text
    assert "已忽略无法识别的筛选条件 city=330200" in discovery
    assert 'value="330100"' in discovery and 'value="330200"' not in discovery
    assert "驾驶舱 · 宁波市" not in xihu.get("/?city=330200").text
    # the framework's English-only answers, in both languages
    wrong_method = admin.post("/enterprises")
    assert wrong_method.status_code == 405 and "不支持该请求方法 / method not allowed" in wrong_method.text
    assert admin.get("/api/v1/no-such-route").json() == {"detail": "未找到 / not found"}
