"""Scoring over the registry as of a date (SQLite and PostgreSQL): the as-of filter ignores reports and
valuations not yet known, and ``qilin scoring rank`` ranks the demo database in table, CSV and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from factories import cli
from qilin.demo.service import build_demo
from qilin.reference.fx import default_table
from qilin.registry.models import Enterprise, EnterpriseTrack, OperatingReport, StatusRecord, Valuation
from qilin.scoring.index import get_index
from qilin.scoring.indicators import INDICATORS
from qilin.scoring.service import first_data_on, last_report_year, list_facts, rank

AS_OF = "2025-06-30"


def _enterprise(
    session: Session, enterprise_id: str, *, founded: str = "2015-01-01", **fields: object
) -> None:
    session.add(
        Enterprise(
            id=enterprise_id,
            name=f"测试企业{enterprise_id}",
            founded_on=dt.date.fromisoformat(founded),
            **fields,
        )
    )


def _report(session: Session, enterprise_id: str, year: int, revenue: int, **fields: object) -> None:
    session.add(OperatingReport(enterprise_id=enterprise_id, year=year, revenue=Decimal(revenue), **fields))


def _valuation(
    session: Session,
    enterprise_id: str,
    on: str,
    value: int,
    currency: str = "CNY",
    evidence: str = "disclosed",
) -> None:
    session.add(
        Valuation(
            enterprise_id=enterprise_id,
            as_of=dt.date.fromisoformat(on),
            value=Decimal(value),
            currency=currency,
            evidence=evidence,
            source=f"test {evidence}",
        )
    )


@pytest.fixture
def registry(session: Session) -> Session:
    _enterprise(session, "zj-a")
    session.add(EnterpriseTrack(enterprise_id="zj-a", track_code="ai"))
    _report(session, "zj-a", 2022, 100_000_000, rd_expense=Decimal(10_000_000), employees=100, rd_staff=30)
    _report(session, "zj-a", 2023, 150_000_000, rd_expense=Decimal(30_000_000), employees=120, rd_staff=60)
    _report(session, "zj-a", 2024, 600_000_000, rd_expense=Decimal(60_000_000), employees=200, rd_staff=50)
    _valuation(session, "zj-a", "2023-03-01", 1_000_000_000)
    _valuation(session, "zj-a", "2024-05-01", 2_000_000_000)
    _valuation(session, "zj-a", "2024-05-01", 5_000_000_000, evidence="self-declared")  # weaker evidence
    _valuation(session, "zj-a", "2025-02-01", 9_000_000_000)  # after 2024-12-31
    # closed in mid-2024
    _enterprise(session, "zj-closed", status="closed", status_as_of=dt.date(2024, 6, 1))
    session.flush()
    session.add_all(
        [
            StatusRecord(enterprise_id="zj-closed", status="operating", as_of=dt.date(2020, 1, 1)),
            StatusRecord(enterprise_id="zj-closed", status="closed", as_of=dt.date(2024, 6, 1)),
        ]
    )
    _report(session, "zj-closed", 2023, 50_000_000)
    # founded after the first as-of date
    _enterprise(session, "zj-new", founded="2025-01-01")
    # a previous valuation in USD, the latest in CNY
    _enterprise(session, "zj-fx")
    _valuation(session, "zj-fx", "2022-06-01", 100_000_000, currency="USD", evidence="third-party-list")
    _valuation(session, "zj-fx", "2024-05-01", 1_440_000_000)
    session.commit()
    return session


def test_report_year_cut_off() -> None:
    assert last_report_year(dt.date(2024, 12, 30)) == 2023
    assert last_report_year(dt.date(2024, 12, 31)) == 2024
    assert last_report_year(dt.date(2025, 1, 1)) == 2024


def test_as_of_ignores_reports_and_valuations_dated_after_it(registry: Session) -> None:
    facts = {f.company_id: f for f in list_facts(registry, as_of=dt.date(2024, 12, 30))}
    assert set(facts) == {"zj-a", "zj-fx"}  # closed in June; not yet founded
    a = facts["zj-a"]
    # 2024's report had not ended; the 2025 valuation did not exist; the self-declared one loses to disclosed
    assert (a.report_year, a.revenue, a.previous_revenue) == (2023, 150_000_000.0, 100_000_000.0)
    assert (a.valuation, a.valuation_on, a.previous_valuation) == (2e9, dt.date(2024, 5, 1), 1e9)
    assert a.tracks == ("ai",)

    year_end = {f.company_id: f for f in list_facts(registry, as_of=dt.date(2024, 12, 31))}["zj-a"]
    assert (year_end.report_year, year_end.revenue, year_end.previous_revenue) == (2024, 6e8, 1.5e8)

    later = {f.company_id: f for f in list_facts(registry, as_of=dt.date(2025, 6, 30))}
    assert set(later) == {"zj-a", "zj-fx", "zj-new"}
    assert (later["zj-a"].valuation, later["zj-a"].previous_valuation) == (9e9, 2e9)

    before_closure = {f.company_id for f in list_facts(registry, as_of=dt.date(2024, 1, 1))}
    assert "zj-closed" in before_closure


def test_ranking_uses_only_what_was_known(registry: Session) -> None:
    result = rank(registry, as_of=dt.date(2024, 12, 30), index=get_index())
    assert result.as_of == dt.date(2024, 12, 30)
    a = {s.company_id: s for s in result.scores}["zj-a"]
    raw = {c.indicator: c.raw for c in a.contributions}
    assert raw["revenue_growth"] == pytest.approx(0.5)  # 150 / 100 − 1, not 600 / 150 − 1
    assert raw["valuation_step_up"] == pytest.approx(2.0)  # 2e9 / 1e9, not 9e9 / 2e9
    assert raw["rd_intensity"] == pytest.approx(0.2)
    assert raw["rd_staff_share"] == pytest.approx(0.5)
    fx = {s.company_id: s for s in result.scores}["zj-fx"]
    # zj-fx has no report: every report indicator is imputed, and says so
    assert {c.indicator for c in fx.imputed} >= {
        "rd_intensity",
        "revenue_growth",
        "net_margin",
        "revenue_scale",
    }
    assert all(c.missing_reason == "no_report" for c in fx.imputed if c.indicator == "rd_intensity")


def test_previous_valuation_in_another_currency_is_converted_at_a_dated_rate(registry: Session) -> None:
    fx = {f.company_id: f for f in list_facts(registry, as_of=dt.date(2024, 12, 30))}["zj-fx"]
    quote = default_table().quote("USD", "CNY", dt.date(2024, 5, 1))
    assert fx.valuation_currency == "CNY"
    assert fx.previous_valuation == pytest.approx(float(Decimal(100_000_000) * quote.rate), rel=1e-9)
    assert INDICATORS["valuation_step_up"].compute([fx])[0].value == pytest.approx(
        1.44e9 / float(Decimal(100_000_000) * quote.rate), rel=1e-9
    )
    assert fx.notes and str(quote.rate_year) in fx.notes[0] and "汇率" in fx.notes[0]


@pytest.fixture
def demo(session: Session) -> Session:
    build_demo(session, enterprises=300, seed=5)
    session.commit()
    return session


def test_rank_command_on_the_demo(demo: Session) -> None:
    operating = list_facts(demo, as_of=dt.date.fromisoformat(AS_OF))
    assert len(operating) > 250

    # CSV: one row per ranked enterprise, a contribution column per indicator
    result = cli("scoring", "rank", "--as-of", AS_OF, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    index = get_index()
    assert len(rows) == len(operating)
    columns = list(rows[0])
    assert columns[:4] == ["company_id", "name", "score", "rank"]
    assert [c for c in columns if c.startswith("contribution_")] == [
        f"contribution_{leaf.indicator}" for _, leaf in index.leaves
    ]
    assert [int(r["rank"]) for r in rows] == sorted(int(r["rank"]) for r in rows)
    assert rows[0]["rank"] == "1"
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True) and 0.0 <= scores[-1] <= scores[0] <= 1.0
    for row in rows:
        contributions = [float(row[c]) for c in columns if c.startswith("contribution_")]
        assert sum(contributions) == pytest.approx(float(row["weighted_sum"]), abs=1e-9)
        # TOPSIS: C = D⁻ / (D⁺ + D⁻)
        d_best, d_worst = float(row["distance_best"]), float(row["distance_worst"])
        assert float(row["score"]) == pytest.approx(d_worst / (d_best + d_worst), abs=1e-9)

    # JSON: contributions and stated imputations, only records known on the date
    result = cli("scoring", "rank", "--as-of", AS_OF, "--format", "json", "--limit", "50")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == AS_OF and payload["index"]["id"] == "zhejiang-key-2024"
    assert payload["ranked"] == len(operating) and len(payload["scores"]) == 50
    assert sum(g["weight"] for g in payload["groups"]) == pytest.approx(1.0)
    imputed_seen = 0
    for score in payload["scores"]:
        evidence = score["evidence"]
        assert evidence["report_year"] is None or evidence["report_year"] <= 2024
        assert evidence["valuation_on"] is None or evidence["valuation_on"] <= AS_OF
        stated = {i["indicator"]: i for i in score["imputations"]}
        for c in score["contributions"]:
            if c["raw"] is None:
                imputed_seen += 1
                assert c["imputed"] and c["indicator"] in stated
                assert stated[c["indicator"]]["method"] in ("median", "min", "zero")
                assert stated[c["indicator"]]["reason_zh"] and stated[c["indicator"]]["reason_en"]
            else:
                assert not c["imputed"] and c["indicator"] not in stated
    assert imputed_seen > 0

    # table: Chinese headers, the top N only
    result = cli("scoring", "rank", "--as-of", AS_OF, "--limit", "5")
    assert result.exit_code == 0, result.output
    for header in ("排名", "企业名称", "得分", "创新能力", "人才团队", "产品引领", "盈利模式", "补值指标"):
        assert header in result.stdout
    assert rows[0]["company_id"] in result.stdout and rows[5]["company_id"] not in result.stdout


def test_rank_command_refuses_bad_input(db_url: str, tmp_path: Path) -> None:
    result = cli("scoring", "rank", "--as-of", "2025-02-30")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output and "日期" in result.output
    result = cli("scoring", "rank", "--as-of", AS_OF, "--format", "xml")
    assert result.exit_code == 2 and "table" in result.output
    result = cli("scoring", "rank", "--as-of", AS_OF, "--index", "nope")
    assert result.exit_code == 2 and "未找到指标体系" in result.output and "no such index" in result.output
    broken = tmp_path / "broken.yaml"
    shipped = Path(get_index().path).read_text(encoding="utf-8")
    broken.write_text(shipped.replace("indicator: net_margin", "indicator: net_margins"), encoding="utf-8")
    line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "net_margins" in text)
    result = cli("scoring", "rank", "--as-of", AS_OF, "--index", broken)
    assert result.exit_code == 2
    assert (
        f"第 {line} 行" in result.output
        and f"line {line}" in result.output
        and "net_margins" in result.output
    )


def test_rank_command_on_an_empty_registry(db_url: str) -> None:
    result = cli("scoring", "rank", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scores"] == []
    assert "没有可评分" in result.stderr


# ---- hostile input (found by fuzzing the CLI) ------------------------------------------------------------


def test_names_holding_rich_markup_are_shown_as_they_are(registry: Session, tmp_path: Path) -> None:
    registry.get(Enterprise, "zj-a").name = "Evil[/bold] :smile:"  # type: ignore[union-attr]
    registry.commit()
    marked = tmp_path / "marked.yaml"
    shipped = Path(get_index().path).read_text(encoding="utf-8")
    marked.write_text(
        shipped.replace("title_zh: 浙江省", "title_zh: 标题[/red]浙江省").replace(
            "name_zh: 创新能力", "name_zh: 创新[/i]能力"
        ),
        encoding="utf-8",
    )
    result = cli("scoring", "rank", "--as-of", AS_OF, "--index", marked)
    assert result.exit_code == 0, result.output
    for shown in ("Evil[/bold] :smile:", "标题[/red]浙江省", "创新[/i]能力"):
        assert shown in result.stdout, shown


def test_first_data_on(registry: Session) -> None:
    # the earliest valuation (zj-fx, 2022-06-01) precedes the end of the earliest report year (2022)
    assert first_data_on(registry) == dt.date(2022, 6, 1)


def test_an_as_of_date_before_any_data_is_warned_about(registry: Session) -> None:
    before = cli("scoring", "rank", "--as-of", "2020-01-01", "--format", "csv")
    assert before.exit_code == 0, before.output
    assert "截至 2020-01-01 企业库中尚无任何经营数据或估值（最早的为 2022-06-01）" in before.stderr
    assert "the ranking rests on imputed values and tracks only" in before.stderr
    after = cli("scoring", "rank", "--as-of", "2022-06-01", "--format", "csv")
    assert after.exit_code == 0, after.output
    assert "尚无任何经营数据" not in after.stderr


def test_a_registry_without_any_data_is_warned_about(session: Session) -> None:
    _enterprise(session, "zj-bare")
    session.commit()
    assert first_data_on(session) is None
    result = cli("scoring", "rank", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "企业库中没有任何经营数据或估值" in result.stderr and "holds no operating report" in result.stderr


def test_an_as_of_date_after_today_is_refused(db_url: str, frozen_today: str) -> None:
    result = cli("scoring", "rank", "--as-of", "2026-07-01")
    assert result.exit_code == 2, result.output
    assert "评价日期 2026-07-01 晚于今天（2026-06-30）" in result.stderr
    assert "after today (2026-06-30)" in result.stderr
    assert cli("scoring", "rank", "--as-of", frozen_today).exit_code == 0


def test_index_paths_that_cannot_be_read_get_a_bilingual_message(db_url: str, tmp_path: Path) -> None:
    long_name = "a" * 300
    cases = [
        (long_name, ("无法读取指标体系文件", "文件名过长", "file name too long")),
        (str(tmp_path / long_name / "index.yaml"), ("文件名过长", "file name too long")),
        (str(tmp_path), ("这是一个文件夹", "cannot read the index file", "it is a folder")),
        (str(tmp_path / "missing.yaml"), ("未找到指标体系", "no such index")),
    ]
    for name, words in cases:
        result = cli("scoring", "rank", "--as-of", AS_OF, "--index", name)
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        for word in words:
            assert word in result.stderr, (name[:50], word)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("id: x\ntitle_zh: x\ntitle_en: café\n".encode("latin-1"))
    result = cli("scoring", "rank", "--as-of", AS_OF, "--index", latin1)
    assert result.exit_code == 2, result.output
    assert (
        "第 3 行：文件不是 UTF-8 编码" in result.stderr
        and "line 3: the file is not UTF-8 encoded" in result.stderr
    )
