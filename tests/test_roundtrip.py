"""``qilin export`` → ``qilin import`` into an empty database → ``qilin export`` gives identical files."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from conftest import BACKTEST_DIR
from factories import (
    USCC_WESTLAKE,
    binjiang,
    clear_database,
    cli,
    overseas,
    qilin_import,
    round_,
    table_counts,
    westlake,
    write_package,
    yinzhou,
)
from qilin.registry.models import Enterprise, FundingRound, Investor, LifecycleEvent
from qilin.registry.package import FILES


def _export(out: Path) -> dict[str, bytes]:
    result = cli("export", "--out", out)
    assert result.exit_code == 0, result.output
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert set(files) == {f"{kind}.csv" for kind in FILES}, "exactly one file per kind, no leftovers"
    return files


def _round_trip(engine: Engine, tmp_path: Path, source: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Import ``source``, export; import that export into an emptied database, export again."""
    first = qilin_import(source)
    assert first.exit_code == 0, first.output
    exported = _export(tmp_path / "export1")
    clear_database(engine)
    assert all(n == 0 for n in table_counts(engine).values())
    second = qilin_import(tmp_path / "export1")
    assert second.exit_code == 0, second.output
    return exported, _export(tmp_path / "export2")


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(data.decode("utf-8").splitlines()))


def test_export_of_an_empty_registry_writes_every_file_with_its_header(db_url: str, tmp_path: Path) -> None:
    files = _export(tmp_path / "out")
    for kind, spec in FILES.items():
        assert files[f"{kind}.csv"] == (",".join(spec.columns) + "\n").encode("utf-8"), kind


def test_backtest_round_trip_is_byte_identical(engine: Engine, tmp_path: Path) -> None:
    exported, again = _round_trip(engine, tmp_path, BACKTEST_DIR)
    assert exported == again
    companies = _rows(exported["companies.csv"])
    rounds = _rows(exported["rounds.csv"])
    assert len(companies) == 10_627
    assert len(rounds) == 19_051
    assert len(_rows(exported["unicorn_events.csv"])) == 110
    assert len(_rows(exported["acquisitions.csv"])) == 1_034
    # the unknown columns of the back-test (state, metro) come back after the listed ones, sorted
    header = exported["companies.csv"].decode("utf-8").splitlines()[0].split(",")
    assert header == [*FILES["companies"].columns, "metro", "state"]
    club = next(c for c in companies if c["id"] == "/company/club-domains")
    assert (club["state"], club["metro"], club["founded_on"]) == ("FL", "Fort Lauderdale", "2011-10-10")
    # rows are sorted by their identity, so exports are comparable across databases
    ids = [c["id"] for c in companies]
    assert ids == sorted(ids)
    keys = [(r["company_id"], r["announced_on"]) for r in rounds]
    assert keys == sorted(keys)
    assert {
        "company_id": "/company/club-domains",
        "announced_on": "2013-05-31",
        "amount": "7000000",
    }.items() <= next(r for r in rounds if r["company_id"] == "/company/club-domains").items()


def _rich_package(folder: Path) -> Path:
    """Chinese labels, vague amounts, investors, valuations, operating reports, events, statuses and
    unknown columns."""
    westlake_source = "浙江省独角兽培育库"
    package = write_package(
        folder,
        companies=[
            westlake(
                name_en="West Lake AI",
                category="人工智能",
                source=westlake_source,
                tracks="人工智能;人形机器人",
                status="ipo",
                status_as_of="2025-03-01",
                培育梯队="种子",  # unknown extra columns: kept as attributes
                contact="张三, 李四",
            ),
            yinzhou(synthetic="1", 培育梯队="雏鹰", source="模拟"),
            binjiang(status="closed", status_as_of="2024-12-31", contact='带"引号"的值'),
            overseas(),
        ],
        rounds=[
            round_("zj-westlake", "2019-05-01", round_type="天使轮", amount="数百万", investors="梧桐树资本"),
            round_("zj-westlake", "2020-06-01", round_type="Pre-A轮", amount="数千万",
                   investors="红杉中国;梧桐树资本"),
            round_("zj-westlake", "2021-07-01", round_type="A+轮", amount="1.44亿",
                   post_money_valuation="10亿", investors="高瓴资本；红杉中国；IDG资本"),
            round_("zj-westlake", "2022-08-01", round_type="B轮", amount="2.7亿美元", investors="软银愿景"),
            round_("zj-westlake", "2023-09-01", round_type="F轮-上市前", amount="近亿"),
            round_("zj-westlake", "2024-01-15", round_type="IPO上市", amount="未透露"),
            round_("zj-westlake", "2024-06-01", round_type="IPO上市后", amount="数亿",
                   post_money_valuation="近百亿"),
            round_("zj-yinzhou", "2018-01-01", round_type="种子轮", amount="100万", synthetic="1"),
            round_("zj-yinzhou", "2019-01-01", round_type="新三板定增", amount="5000万",
                   source="全国股转系统公告"),
            round_("zj-yinzhou", "2020-01-01", round_type="战略投资", amount="1000万",
                   investors="宁波产业基金"),
            round_("zj-binjiang", "2021-03-03", round_type="Series A", amount="1,500,000", currency="USD",
                   round_label="A1轮"),
            round_("us-acme", "2015-01-01", round_type="seed", amount="750000", currency="USD"),
            round_("us-acme", "2016-01-01", round_type="series-b", amount="12500000.5", currency="USD"),
        ],
        valuations=[
            {"company_id": "zj-westlake", "as_of": "2021-07-01", "value": "10亿", "evidence": "disclosed",
             "source": "公司公告"},
            {"company_id": "zj-westlake", "as_of": "2023-01-01", "value": "15亿", "currency": "USD",
             "evidence": "third-party-list", "source": "胡润全球独角兽榜"},
            {"company_id": "zj-westlake", "as_of": "2023-01-01", "value": "100亿", "currency": "CNY",
             "evidence": "estimated"},
        ],
        operating_reports=[
            {"company_id": "zj-westlake", "year": "2023", "revenue": "123456789.12",
             "net_profit": "-2500000.5", "employees": "350", "rd_expense": "45000000", "rd_staff": "120",
             "invention_patents": "37"},
            {"company_id": "zj-westlake", "year": "2024", "revenue": "300000000", "employees": "420"},
            {"company_id": "zj-yinzhou", "year": "2024", "revenue": "88000000", "synthetic": "1"},
        ],
        lifecycle_events=[
            {"company_id": "zj-westlake", "kind": "ipo", "occurred_on": "2024-01-15",
             "detail": "上交所科创板"},
            {"company_id": "zj-binjiang", "kind": "relocation", "occurred_on": "2022-05-01",
             "from_region_code": "330106", "to_region_code": "330108", "detail": "迁入滨江区"},
            {"company_id": "zj-binjiang", "kind": "closure", "occurred_on": "2024-12-31"},
        ],
        unicorn_events=[
            {"company_id": "zj-westlake", "joined_on": "2023-01-01", "source": "胡润全球独角兽榜"},
        ],
        acquisitions=[
            {"company_id": "us-acme", "acquired_on": "2020-02-02", "acquirer_name": "Big Robotics",
             "price_amount": "2.5亿", "price_currency": "USD"},
            {"company_id": "us-acme", "acquired_on": "2020-02-02", "acquirer_name": "Other Buyer",
             "price_currency": "USD"},
        ],
        status_history=[
            {"company_id": "zj-westlake", "status": "operating", "as_of": "2018-03-12", "source": "工商登记"},
            # the latest observation comes from the same source as the company row
            {"company_id": "zj-westlake", "status": "ipo", "as_of": "2025-03-01", "source": westlake_source},
            {"company_id": "zj-yinzhou", "status": "operating", "as_of": "2024-06-30", "source": "模拟",
             "synthetic": "1"},
        ],
    )  # fmt: skip
    return package


def test_rich_package_round_trip_is_byte_identical(engine: Engine, session: Session, tmp_path: Path) -> None:
    exported, again = _round_trip(engine, tmp_path, _rich_package(tmp_path / "pkg"))
    assert exported == again

    # the second database holds what the package said
    westlake_row = session.get(Enterprise, "zj-westlake")
    assert westlake_row is not None
    assert (westlake_row.uscc, westlake_row.status, westlake_row.status_as_of) == (
        USCC_WESTLAKE,
        "ipo",
        dt.date(2025, 3, 1),
    )
    assert westlake_row.attributes == {"培育梯队": "种子", "contact": "张三, 李四"}
    amounts = dict(
        session.execute(
            select(FundingRound.round_label, FundingRound.amount).where(
                FundingRound.enterprise_id == "zj-westlake"
            )
        )
        .tuples()
        .all()
    )
    assert amounts["A+轮"] == Decimal("144000000")
    assert amounts["B轮"] == Decimal("270000000")
    assert amounts["天使轮"] is None
    assert sorted(session.scalars(select(Investor.name))) == sorted(
        ["梧桐树资本", "红杉中国", "高瓴资本", "IDG资本", "软银愿景", "宁波产业基金"]
    )
    kinds = sorted(session.scalars(select(LifecycleEvent.kind)))
    assert kinds == ["acquisition", "acquisition", "closure", "ipo", "relocation", "unicorn_list_entry"]

    companies = _rows(exported["companies.csv"])
    header = exported["companies.csv"].decode("utf-8").splitlines()[0].split(",")
    assert header == [*FILES["companies"].columns, "contact", "培育梯队"]
    by_id = {c["id"]: c for c in companies}
    assert [c["id"] for c in companies] == sorted(by_id)
    assert by_id["zj-westlake"]["tracks"] == "ai;humanoid_robots"
    assert by_id["zj-westlake"]["培育梯队"] == "种子"
    assert by_id["zj-binjiang"]["contact"] == '带"引号"的值'
    assert by_id["zj-binjiang"]["培育梯队"] == ""
    assert (by_id["zj-yinzhou"]["synthetic"], by_id["zj-westlake"]["synthetic"]) == ("1", "")

    rounds = {(r["company_id"], r["announced_on"]): r for r in _rows(exported["rounds.csv"])}
    shown = ("round_type", "round_label", "amount", "currency", "post_money_valuation", "investors")
    assert {k: rounds[("zj-westlake", "2021-07-01")][k] for k in shown} == {
        "round_type": "series-a",
        "round_label": "A+轮",
        "amount": "144000000",
        "currency": "CNY",
        "post_money_valuation": "1000000000",
        "investors": "高瓴资本;红杉中国;IDG资本",
    }  # fmt: skip
    assert rounds[("zj-westlake", "2019-05-01")]["amount"] == "数百万"
    assert rounds[("zj-westlake", "2023-09-01")]["amount"] == "近1亿"
    assert rounds[("zj-westlake", "2024-01-15")]["amount"] == ""
    assert rounds[("zj-westlake", "2024-06-01")]["post_money_valuation"] == "近100亿"
    assert rounds[("zj-westlake", "2022-08-01")]["currency"] == "USD"
    assert rounds[("us-acme", "2016-01-01")]["amount"] == "12500000.5"
    assert rounds[("zj-binjiang", "2021-03-03")]["round_label"] == "A1轮"

    reports = _rows(exported["operating_reports.csv"])
    assert reports[0] | {} == {
        "company_id": "zj-westlake", "year": "2023", "revenue": "123456789.12", "net_profit": "-2500000.5",
        "employees": "350", "rd_expense": "45000000", "rd_staff": "120", "invention_patents": "37",
        "source": "", "synthetic": "",
    }  # fmt: skip
    assert len(_rows(exported["valuations.csv"])) == 3
    assert len(_rows(exported["status_history.csv"])) == 4  # 3 listed + binjiang's from its company row
    assert len(_rows(exported["acquisitions.csv"])) == 2


def test_export_overwrites_a_previous_export(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "companies.csv").write_text("stale\n", encoding="utf-8")
    assert qilin_import(write_package(tmp_path / "pkg", companies=[westlake()])).exit_code == 0
    files = _export(out)
    assert _rows(files["companies.csv"])[0]["id"] == "zj-westlake"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
