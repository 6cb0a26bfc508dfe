"""``qilin import``: the back-test split, refusal of bad packages, --skip-invalid, --dry-run, the validation
rules, Chinese funding records, histories, upserts and investors. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from conftest import BACKTEST_DIR
from factories import (
    USCC_WESTLAKE,
    binjiang,
    company,
    overseas,
    qilin_import,
    read_csv_rows,
    report_counts,
    round_,
    table_counts,
    table_dump,
    westlake,
    write_package,
    yinzhou,
)
from qilin.common.messages import t
from qilin.registry.issues import ImportIssue
from qilin.registry.models import (
    Enterprise,
    EnterpriseTrack,
    FundingRound,
    ImportRun,
    Investor,
    LifecycleEvent,
    RoundInvestor,
    StatusRecord,
    Valuation,
)

WRONG_CHECK = USCC_WESTLAKE[:17] + ("0" if USCC_WESTLAKE[17] != "0" else "1")


def _empty(engine: Engine) -> bool:
    return all(n == 0 for n in table_counts(engine).values())


def _issue_lines(output: str) -> list[str]:
    """The Chinese lines of the printed issues (each is followed by its English line)."""
    return [line for line in output.splitlines() if "：" in line and " 第 " in line]


# ------------------------------------------------------------------------------------------- back-test


def test_backtest_imports_completely_and_reimport_changes_nothing(engine: Engine, session: Session) -> None:
    first = qilin_import(BACKTEST_DIR)
    assert first.exit_code == 0, first.output
    counts = report_counts(first.output)
    expected = {"companies": 10_627, "rounds": 19_051, "unicorn_events": 110, "acquisitions": 1_034}
    for kind, n in expected.items():
        assert counts[kind] == {"read": n, "inserted": n, "updated": 0, "unchanged": 0, "rejected": 0}

    assert session.scalar(select(func.count()).select_from(Enterprise)) == 10_627
    assert session.scalar(select(func.count()).select_from(FundingRound)) == 19_051
    events = dict(
        session.execute(select(LifecycleEvent.kind, func.count()).group_by(LifecycleEvent.kind))
        .tuples()
        .all()
    )
    assert events == {"unicorn_list_entry": 110, "acquisition": 1_034}

    # one record, field by field: unknown columns (state, metro) are kept as attributes
    club = session.get(Enterprise, "/company/club-domains")
    assert club is not None
    assert (club.name, club.founded_on, club.country, club.city, club.category) == (
        ".Club Domains",
        dt.date(2011, 10, 10),
        "USA",
        "Oakland Park",
        "software",
    )
    assert club.attributes == {"state": "FL", "metro": "Fort Lauderdale"}
    assert (club.status, club.status_as_of) == ("operating", dt.date(2013, 10, 1))
    rounds = session.scalars(
        select(FundingRound).where(FundingRound.enterprise_id == "/company/club-domains")
    ).all()
    assert [(r.announced_on, r.round_type, r.amount, r.currency) for r in rounds] == [
        (dt.date(2013, 5, 31), "series-b", Decimal("7000000"), "USD")
    ]
    session.rollback()

    before = table_dump(engine, exclude=["import_runs"])
    runs_before = table_counts(engine)["import_runs"]

    second = qilin_import(BACKTEST_DIR)
    assert second.exit_code == 0, second.output
    again = report_counts(second.output)
    assert set(again) >= set(expected)
    for kind, c in again.items():
        assert (c["inserted"], c["updated"], c["rejected"]) == (0, 0, 0), kind
    for kind, n in expected.items():
        assert again[kind]["unchanged"] == n
    assert table_dump(engine, exclude=["import_runs"]) == before
    # the run itself is recorded (audit), with the same counts as the printed report
    assert table_counts(engine)["import_runs"] == runs_before + 1
    run = session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert run is not None
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in run.counts.values())
    assert {f["kind"] for f in run.files} == set(expected)
    assert all(len(f["sha256"]) == 64 for f in run.files)


# --------------------------------------------------------------------------------------------- refusal


def _bad_package(folder: Path) -> Path:
    return write_package(
        folder,
        companies=[
            westlake(id="bad-uscc", uscc=WRONG_CHECK),  # line 2
            yinzhou(id="bad-date", founded_on="2023-02-30"),  # line 3
            binjiang(id="bad-format", founded_on="2023/01/05"),  # line 4
            overseas(),  # line 5, valid
        ],
        rounds=[
            round_("us-acme", "2024-01-01", round_type="A轮", amount="1000万"),  # line 2, valid
            round_("nobody", "2024-01-01", round_type="A轮", amount="1000万"),  # line 3
        ],
    )


BAD_DATE_ZH = "日期无效，应为存在的日期，格式 YYYY-MM-DD"


def _assert_refusal_messages(output: str) -> None:
    expected = [
        ("companies.csv", 2, "uscc", WRONG_CHECK, "校验位", "check digit"),
        ("companies.csv", 3, "founded_on", "2023-02-30", BAD_DATE_ZH, "dates must be ISO"),
        ("companies.csv", 4, "founded_on", "2023/01/05", BAD_DATE_ZH, "dates must be ISO"),
        ("rounds.csv", 3, "company_id", "nobody", "引用的企业不存在", "refers to a company"),
    ]
    lines = output.splitlines()
    for file, line, column, value, zh, en in expected:
        zh_lines = [x for x in lines if x.startswith(f"{file} 第 {line} 行")]
        en_lines = [x for x in lines if x.strip().startswith(f"{file}, line {line},")]
        assert len(zh_lines) == 1, (file, line, output)
        assert len(en_lines) == 1, (file, line, output)
        assert f"{column} 列" in zh_lines[0] and f"值“{value}”" in zh_lines[0] and zh in zh_lines[0]
        assert f"column {column}" in en_lines[0] and f"value '{value}'" in en_lines[0] and en in en_lines[0]
    assert len(_issue_lines(output)) == 4
    assert "发现 4 处错误，未写入任何数据" in output
    assert "4 errors found; nothing was written" in output


def test_bad_package_is_refused_with_one_message_per_bad_row(engine: Engine, tmp_path: Path) -> None:
    result = qilin_import(_bad_package(tmp_path / "pkg"))
    assert result.exit_code != 0
    _assert_refusal_messages(result.output)
    assert _empty(engine)
    assert not list((tmp_path / "pkg").glob("*.rejects.csv"))


def test_bad_package_leaves_existing_data_exactly_as_it_was(engine: Engine, tmp_path: Path) -> None:
    good = write_package(
        tmp_path / "good",
        companies=[westlake(status="operating", status_as_of="2024-01-01"), overseas()],
        rounds=[
            round_("zj-westlake", "2023-05-01", round_type="天使轮", amount="500万", investors="红杉中国")
        ],
        valuations=[{"company_id": "zj-westlake", "as_of": "2024-01-01", "value": "10亿", "currency": "CNY"}],
    )
    assert qilin_import(good).exit_code == 0
    before = table_dump(engine)
    # the bad package also changes a stored company (a valid row): that must not be written either
    bad = _bad_package(tmp_path / "bad")
    write_package(bad, companies=[*read_csv_rows(bad / "companies.csv"), westlake(name="改了名字")])
    result = qilin_import(bad)
    assert result.exit_code != 0
    _assert_refusal_messages(result.output)
    assert table_dump(engine) == before


# -------------------------------------------------------------------------------------- --skip-invalid


def test_skip_invalid_writes_valid_rows_and_a_rejects_file(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake(), yinzhou(uscc=WRONG_CHECK), overseas()],
        rounds=[
            round_("zj-westlake", "2024-01-01", round_type="A轮", amount="1000万"),  # line 2: valid
            round_("zj-yinzhou", "2024-02-01", round_type="B轮", amount="1亿"),  # line 3: company rejected
            round_("us-acme", "2024/03/01", round_type="seed"),  # line 4: bad date
            round_("us-acme", "2024-03-01", round_type="seed", amount="500000", currency="USD"),  # line 5
        ],
    )
    result = qilin_import(pkg, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert set(session.scalars(select(Enterprise.id))) == {"zj-westlake", "us-acme"}
    stored = session.execute(select(FundingRound.enterprise_id, FundingRound.announced_on)).tuples().all()
    assert sorted(stored) == [("us-acme", dt.date(2024, 3, 1)), ("zj-westlake", dt.date(2024, 1, 1))]

    companies_rejects = read_csv_rows(pkg / "companies.rejects.csv")
    assert len(companies_rejects) == 1
    rejected = companies_rejects[0]
    assert (rejected["line"], rejected["column"], rejected["id"], rejected["uscc"]) == (
        "3",
        "uscc",
        "zj-yinzhou",
        WRONG_CHECK,
    )
    assert "校验位" in rejected["error_zh"] and "check digit" in rejected["error_en"]

    rounds_rejects = read_csv_rows(pkg / "rounds.rejects.csv")
    assert [(r["line"], r["column"], r["company_id"]) for r in rounds_rejects] == [
        ("3", "company_id", "zj-yinzhou"),
        ("4", "announced_on", "us-acme"),
    ]
    assert rounds_rejects[0]["error_en"] == t("company.unknown", lang="en")
    assert rounds_rejects[0]["error_zh"] == t("company.unknown", lang="zh")
    assert rounds_rejects[1]["announced_on"] == "2024/03/01"
    counts = report_counts(result.output)
    assert counts["companies"]["rejected"] == 1 and counts["companies"]["inserted"] == 2
    assert counts["rounds"]["rejected"] == 2 and counts["rounds"]["inserted"] == 2


def test_skip_invalid_refuses_the_import_when_a_rejects_file_cannot_be_written(
    engine: Engine, tmp_path: Path
) -> None:
    """Rejected rows must land somewhere: if their file cannot be written the import is refused whole,
    and a rejects file already written for it is removed (it would describe an import that did not happen)."""
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake(), yinzhou(uscc=WRONG_CHECK)],
        rounds=[round_("zj-westlake", "2024/01/01", round_type="A轮")],
    )
    (pkg / "rounds.rejects.csv").mkdir()  # stands where the second rejects file goes
    result = qilin_import(pkg, "--skip-invalid")
    assert result.exit_code == 1
    assert "无法写入拒绝行文件" in result.output and "这是一个文件夹；未写入任何数据" in result.output
    assert "cannot write the rejects file" in result.output
    assert _empty(engine)
    assert not (pkg / "companies.rejects.csv").exists()
    assert sorted(p.name for p in pkg.iterdir()) == ["companies.csv", "rounds.csv", "rounds.rejects.csv"]


def test_skip_invalid_again_ignores_the_rejects_files(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", companies=[westlake(), yinzhou(uscc=WRONG_CHECK)])
    assert qilin_import(pkg, "--skip-invalid").exit_code == 0
    first = (pkg / "companies.rejects.csv").read_text(encoding="utf-8")
    before = table_dump(engine, exclude=["import_runs"])
    again = qilin_import(pkg, "--skip-invalid")
    assert again.exit_code == 0, again.output
    assert report_counts(again.output)["companies"] == {
        "read": 2,
        "inserted": 0,
        "updated": 0,
        "unchanged": 1,
        "rejected": 1,
    }
    assert (pkg / "companies.rejects.csv").read_text(encoding="utf-8") == first
    assert table_dump(engine, exclude=["import_runs"]) == before


# ------------------------------------------------------------------------------------------- --dry-run


def test_dry_run_of_a_valid_package_reports_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake(), overseas()],
        rounds=[round_("zj-westlake", "2024-01-01", round_type="A轮", amount="1000万", investors="甲;乙")],
    )
    result = qilin_import(pkg, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试运行：未写入任何数据" in result.output and "dry run: nothing was written" in result.output
    counts = report_counts(result.output)
    assert counts["companies"]["inserted"] == 2 and counts["rounds"]["inserted"] == 1
    assert _empty(engine)
    assert not list(pkg.glob("*.rejects.csv"))


def test_dry_run_of_an_invalid_package_fails_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    assert qilin_import(write_package(tmp_path / "seed", companies=[overseas()])).exit_code == 0
    before = table_dump(engine)
    result = qilin_import(_bad_package(tmp_path / "pkg"), "--dry-run")
    assert result.exit_code != 0
    assert len(_issue_lines(result.output)) == 4
    assert table_dump(engine) == before
    assert not list((tmp_path / "pkg").glob("*.rejects.csv"))


def test_dry_run_with_skip_invalid_writes_neither_rows_nor_rejects(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", companies=[westlake(), yinzhou(uscc=WRONG_CHECK)])
    result = qilin_import(pkg, "--dry-run", "--skip-invalid")
    assert result.exit_code != 0
    assert _empty(engine)
    assert not list(pkg.glob("*.rejects.csv"))


# ------------------------------------------------------------------------------------ validation rules

TODAY = "2026-06-30"
TOMORROW = "2026-07-01"

# (package, file, line, column, value, zh reason, en reason)
RULES: dict[str, tuple[dict[str, list[dict[str, Any]]], str, int, str, str, str, str]] = {
    "uscc-required-in-zhejiang": (
        {"companies": [westlake(uscc="")]},
        "companies.csv", 2, "uscc", "",
        "在浙江登记的企业必须填写统一社会信用代码",
        "a USCC is required for enterprises registered in Zhejiang",
    ),
    "uscc-wrong-check-digit": (
        {"companies": [westlake(uscc=WRONG_CHECK.lower())]},
        "companies.csv", 2, "uscc", WRONG_CHECK,
        f"校验位错误（应为 {USCC_WESTLAKE[17]}）", f"check digit is wrong (expected {USCC_WESTLAKE[17]})",
    ),
    "uscc-length": (
        {"companies": [overseas(uscc="9133010071610585")]},
        "companies.csv", 2, "uscc", "9133010071610585", "应为18位", "a USCC has 18 characters",
    ),
    "unknown-region": (
        {"companies": [westlake(region_code="339999")]},
        "companies.csv", 2, "region_code", "339999", "未知的行政区划代码", "unknown region code",
    ),
    "unknown-industry": (
        {"companies": [westlake(industry_code="6518")]},
        "companies.csv", 2, "industry_code", "6518",
        "未知的行业代码", "unknown industry code (GB/T 4754-2017)",
    ),
    "unknown-track": (
        {"companies": [westlake(tracks="人工智能;区块链")]},
        "companies.csv", 2, "tracks", "人工智能;区块链", "未知的赛道：区块链", "unknown track: 区块链",
    ),
    "unknown-status": (
        {"companies": [westlake(status="bankrupt")]},
        "companies.csv", 2, "status", "bankrupt", "未知的经营状态", "unknown status",
    ),
    "future-founding-date": (
        {"companies": [westlake(founded_on=TOMORROW)]},
        "companies.csv", 2, "founded_on", TOMORROW, f"日期晚于今天（{TODAY}）", f"(today is {TODAY})",
    ),
    "founding-date-before-1900": (
        {"companies": [westlake(founded_on="0001-01-01")]},
        "companies.csv", 2, "founded_on", "0001-01-01", "日期早于 1900-01-01", "date is before 1900-01-01",
    ),
    "round-date-before-1900": (
        {"companies": [overseas()], "rounds": [round_("us-acme", "1899-12-31", amount="1", currency="USD")]},
        "rounds.csv", 2, "announced_on", "1899-12-31", "日期早于 1900-01-01", "date is before 1900-01-01",
    ),
    "future-round-date": (
        {"companies": [overseas()], "rounds": [round_("us-acme", TOMORROW, amount="1", currency="USD")]},
        "rounds.csv", 2, "announced_on", TOMORROW, "日期晚于今天", "date is in the future",
    ),
    "negative-amount": (
        {"companies": [overseas()], "rounds": [round_("us-acme", "2024-01-01", amount="-500万")]},
        "rounds.csv", 2, "amount", "-500万", "金额不能为负数", "amount must not be negative",
    ),
    "negative-plain-amount": (
        {"companies": [overseas()],
         "rounds": [round_("us-acme", "2024-01-01", amount="-100", currency="USD")]},
        "rounds.csv", 2, "amount", "-100", "金额不能为负数", "amount must not be negative",
    ),
    "unknown-currency-column": (
        {"companies": [overseas()],
         "rounds": [round_("us-acme", "2024-01-01", amount="100", currency="XYZ")]},
        "rounds.csv", 2, "currency", "XYZ", "未知的币种", "unknown currency",
    ),
    "unknown-currency-in-amount": (
        {"companies": [overseas()], "rounds": [round_("us-acme", "2024-01-01", amount="100万卢布")]},
        "rounds.csv", 2, "amount", "100万卢布", "未知的币种", "unknown currency",
    ),
    "plain-amount-without-currency": (
        {"companies": [overseas()], "rounds": [round_("us-acme", "2024-01-01", amount="7000000")]},
        "rounds.csv", 2, "amount", "7000000", "有金额但缺少币种", "an amount needs a currency",
    ),
    "unknown-round-type": (
        {"companies": [overseas()], "rounds": [round_("us-acme", "2024-01-01", round_type="Z轮")]},
        "rounds.csv", 2, "round_type", "Z轮", "未知的融资轮次", "unknown round type",
    ),
    "round-date-required": (
        {"companies": [overseas()], "rounds": [round_("us-acme", "", round_type="seed")]},
        "rounds.csv", 2, "announced_on", "", "必填项为空", "required value is empty",
    ),
    "duplicate-company-id": (
        {"companies": [westlake(), overseas(id="zj-westlake", name="另一家")]},
        "companies.csv", 3, "id", "zj-westlake", "企业编号与第 2 行重复", "company id repeats line 2",
    ),
    "duplicate-uscc-in-file": (
        {"companies": [westlake(), yinzhou(uscc=USCC_WESTLAKE)]},
        "companies.csv", 3, "uscc", USCC_WESTLAKE, "与第 2 行重复", "this USCC repeats line 2",
    ),
    "valuation-vague": (
        {"companies": [overseas()],
         "valuations": [{"company_id": "us-acme", "as_of": "2024-01-01", "value": "数亿"}]},
        "valuations.csv", 2, "value", "数亿", "金额无法识别", "amount not understood",
    ),
    "valuation-unknown-evidence": (
        {
            "companies": [overseas()],
            "valuations": [
                {"company_id": "us-acme", "as_of": "2024-01-01", "value": "10亿", "evidence": "rumour"}
            ],
        },
        "valuations.csv", 2, "evidence", "rumour", "未知的估值证据等级", "unknown evidence grade",
    ),
    "unknown-lifecycle-kind": (
        {
            "companies": [overseas()],
            "lifecycle_events": [{"company_id": "us-acme", "kind": "merger", "occurred_on": "2024-01-01"}],
        },
        "lifecycle_events.csv", 2, "kind", "merger", "未知的生命周期事件类型", "unknown lifecycle event kind",
    ),
    "operating-report-year-in-future": (
        {"companies": [overseas()], "operating_reports": [{"company_id": "us-acme", "year": "2027"}]},
        "operating_reports.csv", 2, "year", "2027", "年份无效", "invalid year",
    ),
}  # fmt: skip


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("rule", sorted(RULES))
def test_validation_rule(rule: str, engine: Engine, tmp_path: Path) -> None:
    package, file, line, column, value, zh, en = RULES[rule]
    result = qilin_import(write_package(tmp_path / "pkg", **package))
    assert result.exit_code != 0, result.output
    issues = _issue_lines(result.output)
    assert len(issues) == 1, result.output
    assert issues[0].startswith(f"{file} 第 {line} 行 {column} 列 值“{value}”：")
    assert zh in issues[0]
    english = f"{file}, line {line}, column {column}, value {value!r}: "
    en_lines = [x.strip() for x in result.output.splitlines() if x.strip().startswith(english)]
    assert len(en_lines) == 1 and en in en_lines[0], result.output
    assert _empty(engine)


@pytest.mark.usefixtures("frozen_today")
def test_dates_up_to_today_are_accepted(session: Session, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake(founded_on=TODAY)],
        rounds=[round_("zj-westlake", TODAY, round_type="seed", amount="100万")],
    )
    result = qilin_import(pkg)
    assert result.exit_code == 0, result.output
    assert session.get(Enterprise, "zj-westlake").founded_on == dt.date(2026, 6, 30)  # type: ignore[union-attr]


def test_uscc_is_optional_outside_zhejiang(session: Session, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[
            company("bj-1", "北京朝阳科技有限公司", region_code="110105", country="CN"),
            overseas(),
            # a Zhejiang company may also be recorded without a region (then its USCC is not demanded)
            company("zj-noregion", "某浙江企业", city="杭州市"),
        ],
    )
    result = qilin_import(pkg)
    assert result.exit_code == 0, result.output
    stored = dict(session.execute(select(Enterprise.id, Enterprise.uscc)).tuples().all())
    assert stored == {"bj-1": None, "us-acme": None, "zj-noregion": None}


def test_reference_codes_are_stored_canonically(session: Session, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[
            westlake(
                uscc=f" {USCC_WESTLAKE.lower()} ",
                industry_code="i",
                tracks="Artificial intelligence；生物医药;ai",
            )
        ],
    )
    assert qilin_import(pkg).exit_code == 0
    stored = session.get(Enterprise, "zj-westlake")
    assert stored is not None
    assert (stored.uscc, stored.industry_code) == (USCC_WESTLAKE, "I")
    assert sorted(session.scalars(select(EnterpriseTrack.track_code))) == ["ai", "biomedicine"]


def test_uscc_already_owned_by_another_enterprise_is_refused(engine: Engine, tmp_path: Path) -> None:
    assert qilin_import(write_package(tmp_path / "first", companies=[westlake()])).exit_code == 0
    before = table_dump(engine)
    pkg = write_package(tmp_path / "second", companies=[yinzhou(uscc=USCC_WESTLAKE)])
    result = qilin_import(pkg)
    assert result.exit_code != 0
    issues = _issue_lines(result.output)
    assert len(issues) == 1
    assert issues[0].startswith(f"companies.csv 第 2 行 uscc 列 值“{USCC_WESTLAKE}”：")
    assert "统一社会信用代码已属于企业 zj-westlake" in issues[0]
    assert "this USCC already belongs to enterprise zj-westlake" in result.output
    assert table_dump(engine) == before
    # the owner itself may of course be imported again with its code
    assert qilin_import(write_package(tmp_path / "third", companies=[westlake()])).exit_code == 0


def test_missing_required_column_is_refused(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "rounds.csv").write_text("company_id,amount\nx,1\n", encoding="utf-8")
    result = qilin_import(folder)
    assert result.exit_code != 0
    assert "缺少必需列：announced_on" in result.output
    assert "missing required columns: announced_on" in result.output
    assert _empty(engine)


# ------------------------------------------------------------------------------------- Chinese records

# label → (round_type, kept label)
CHINESE_LABELS = {
    "种子轮": "seed",
    "天使轮": "angel",
    "Pre-A轮": "series-a",
    "A+轮": "series-a",
    "Pre-B轮": "series-b",
    "B+轮": "series-b",
    "C+轮": "series-c+",
    "D+轮": "series-c+",
    "F轮-上市前": "series-c+",
    "战略投资": "strategic",
    "新三板定增": "private-equity",
    "IPO上市": "ipo",
    "IPO上市后": "post-ipo",
}

E = Decimal(10)
# amount text → (amount, low, high, vague, currency)
CHINESE_AMOUNTS: dict[str, tuple[Decimal | None, Decimal | None, Decimal | None, bool, str | None]] = {
    "1000万": (Decimal("10000000"), None, None, False, "CNY"),
    "1.44亿": (Decimal("144000000"), None, None, False, "CNY"),
    "2.7亿美元": (Decimal("270000000"), None, None, False, "USD"),
    "数百万": (None, E**6, E**7, True, "CNY"),
    "数千万": (None, E**7, E**8, True, "CNY"),
    "数亿": (None, E**8, E**9, True, "CNY"),
    "近亿": (None, Decimal("80000000"), E**8, True, "CNY"),
    "未透露": (None, None, None, False, None),
}


def test_chinese_round_labels_are_mapped_and_kept(session: Session, tmp_path: Path) -> None:
    start = dt.date(2010, 1, 1)
    labels = list(CHINESE_LABELS)
    rounds = [
        round_("zj-westlake", (start + dt.timedelta(days=30 * i)).isoformat(), round_type=label)
        for i, label in enumerate(labels)
    ]
    result = qilin_import(write_package(tmp_path / "pkg", companies=[westlake()], rounds=rounds))
    assert result.exit_code == 0, result.output
    stored = session.execute(
        select(FundingRound.round_label, FundingRound.round_type).order_by(FundingRound.announced_on)
    ).all()
    assert [tuple(r) for r in stored] == [(label, CHINESE_LABELS[label]) for label in labels]


def test_canonical_round_type_has_no_label(session: Session, tmp_path: Path) -> None:
    rounds = [
        round_("zj-westlake", "2020-01-01", round_type="series-b"),
        round_("zj-westlake", "2021-01-01", round_type="series-c+", round_label="C2轮"),
        round_("zj-westlake", "2022-01-01"),
    ]
    assert qilin_import(write_package(tmp_path / "pkg", companies=[westlake()], rounds=rounds)).exit_code == 0
    stored = session.execute(
        select(FundingRound.round_type, FundingRound.round_label).order_by(FundingRound.announced_on)
    ).all()
    assert [tuple(r) for r in stored] == [("series-b", None), ("series-c+", "C2轮"), ("venture", None)]


def test_chinese_amounts(session: Session, tmp_path: Path) -> None:
    texts = list(CHINESE_AMOUNTS)
    rounds = [
        round_("zj-westlake", f"20{10 + i}-06-01", round_type="A轮", amount=text)
        for i, text in enumerate(texts)
    ]
    result = qilin_import(write_package(tmp_path / "pkg", companies=[westlake()], rounds=rounds))
    assert result.exit_code == 0, result.output
    stored = session.scalars(select(FundingRound).order_by(FundingRound.announced_on)).all()
    assert len(stored) == len(texts)
    for text, r in zip(texts, stored, strict=True):
        amount, low, high, vague, currency = CHINESE_AMOUNTS[text]
        got = (r.amount, r.amount_low, r.amount_high, r.amount_vague, r.currency)
        assert got == (amount, low, high, vague, currency), text
        if amount is not None:
            assert isinstance(r.amount, Decimal)
    by_text = dict(zip(texts, stored, strict=True))
    assert by_text["近亿"].amount_text == "近1亿"
    assert by_text["数千万"].amount_text == "数千万"
    assert by_text["1.44亿"].amount_text is None


def test_amount_with_currency_column_and_post_money(session: Session, tmp_path: Path) -> None:
    rounds = [
        round_(
            "us-acme",
            "2024-01-01",
            round_type="Series B",
            amount="12,500,000.50",
            currency="美元",
            post_money_valuation="1.2亿",
        ),
        round_("us-acme", "2024-06-01", round_type="Series C", amount="3000万", currency="USD"),
    ]
    assert qilin_import(write_package(tmp_path / "pkg", companies=[overseas()], rounds=rounds)).exit_code == 0
    first, second = session.scalars(select(FundingRound).order_by(FundingRound.announced_on)).all()
    assert (first.amount, first.currency) == (Decimal("12500000.50"), "USD")
    assert (first.post_money_valuation, first.post_money_currency) == (Decimal("120000000"), "USD")
    assert (second.amount, second.currency) == (Decimal("30000000"), "USD")


# ------------------------------------------------------------------------------------------- histories


def _statuses(session: Session, eid: str) -> list[tuple[str, dt.date]]:
    rows = session.execute(
        select(StatusRecord.status, StatusRecord.as_of)
        .where(StatusRecord.enterprise_id == eid)
        .order_by(StatusRecord.as_of)
    ).tuples()
    return list(rows)


def _current(session: Session, eid: str) -> tuple[str, dt.date | None]:
    row = session.execute(
        select(Enterprise.status, Enterprise.status_as_of).where(Enterprise.id == eid)
    ).one()
    return row[0], row[1]


def test_status_history(session: Session, tmp_path: Path) -> None:
    def load(name: str, **fields: str) -> None:
        result = qilin_import(write_package(tmp_path / name, companies=[westlake(**fields)]))
        assert result.exit_code == 0, result.output
        session.rollback()

    load("1", status="operating", status_as_of="2024-01-01")
    assert _statuses(session, "zj-westlake") == [("operating", dt.date(2024, 1, 1))]
    assert _current(session, "zj-westlake") == ("operating", dt.date(2024, 1, 1))

    load("2", status="ipo", status_as_of="2025-03-01")
    assert _statuses(session, "zj-westlake") == [
        ("operating", dt.date(2024, 1, 1)),
        ("ipo", dt.date(2025, 3, 1)),
    ]
    assert _current(session, "zj-westlake") == ("ipo", dt.date(2025, 3, 1))

    # an older observation learnt later joins the history but does not replace the current status
    load("3", status="closed", status_as_of="2023-06-01")
    assert _statuses(session, "zj-westlake") == [
        ("closed", dt.date(2023, 6, 1)),
        ("operating", dt.date(2024, 1, 1)),
        ("ipo", dt.date(2025, 3, 1)),
    ]
    assert _current(session, "zj-westlake") == ("ipo", dt.date(2025, 3, 1))

    # the same observation again adds nothing
    load("4", status="ipo", status_as_of="2025-03-01")
    assert len(_statuses(session, "zj-westlake")) == 3


def test_status_history_file_sets_the_current_status(session: Session, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake()],
        status_history=[
            {"company_id": "zj-westlake", "status": "operating", "as_of": "2020-01-01"},
            {"company_id": "zj-westlake", "status": "acquired", "as_of": "2025-05-05"},
            {"company_id": "zj-westlake", "status": "ipo", "as_of": "2022-02-02"},
        ],
    )
    assert qilin_import(pkg).exit_code == 0
    assert len(_statuses(session, "zj-westlake")) == 3
    assert _current(session, "zj-westlake") == ("acquired", dt.date(2025, 5, 5))


def _adds_up(output: str) -> dict[str, dict[str, int]]:
    """The printed counts, after checking that every row read is accounted for exactly once."""
    counts = report_counts(output)
    assert counts, output
    for kind, c in counts.items():
        assert c["read"] == c["inserted"] + c["updated"] + c["unchanged"] + c["rejected"], (kind, c)
    return counts


def test_status_counts_add_up_to_the_rows_read(session: Session, tmp_path: Path) -> None:
    """A companies row's status joins the history too, but is a companies row: it once was counted again
    under status_history (read 2, inserted 2, unchanged 1), so the printed counts did not add up."""
    history = [
        {"company_id": "zj-westlake", "status": "operating", "as_of": "2020-01-01"},
        {"company_id": "zj-westlake", "status": "ipo", "as_of": "2024-01-01"},
    ]

    def load(name: str, *args: str, **kinds: Any) -> dict[str, dict[str, int]]:
        result = qilin_import(write_package(tmp_path / name, **kinds), *args)
        assert result.exit_code == 0, result.output
        return _adds_up(result.output)

    first = load("1", companies=[westlake(status="ipo", status_as_of="2024-01-01"), overseas()],
                 status_history=history)  # fmt: skip
    assert first["companies"]["inserted"] == 2 and first["status_history"]["inserted"] == 2
    again = load("2", companies=[westlake(status="ipo", status_as_of="2024-01-01"), overseas()],
                 status_history=history)  # fmt: skip
    assert again["status_history"]["unchanged"] == 2 and again["companies"]["unchanged"] == 2
    # a new status in the companies file: that company changed (its status), the history file did not
    closed = load("3", companies=[westlake(status="closed", status_as_of="2025-01-01"), overseas()],
                  status_history=history)  # fmt: skip
    assert (closed["companies"]["updated"], closed["companies"]["unchanged"]) == (1, 1)
    # read, inserted, updated, unchanged, rejected
    assert list(closed["status_history"].values()) == [2, 0, 0, 2, 0]
    # companies alone: no status_history row in the report at all
    alone = load("4", companies=[westlake(status="ipo", status_as_of="2025-02-01")])
    assert "status_history" not in alone and alone["companies"]["updated"] == 1
    # the history file alone, with a row rejected
    bad = [*history, {"company_id": "zj-westlake", "status": "bankrupt", "as_of": "2025-03-01"},
           {"company_id": "zj-westlake", "status": "acquired", "as_of": "2025-04-01"}]  # fmt: skip
    skipped = load("5", "--skip-invalid", status_history=bad)
    assert list(skipped["status_history"].values()) == [4, 1, 0, 2, 1]
    assert _current(session, "zj-westlake") == ("acquired", dt.date(2025, 4, 1))


def _valuations(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(Valuation.as_of, Valuation.value, Valuation.currency, Valuation.evidence).order_by(
            Valuation.as_of, Valuation.value
        )
    )
    return [tuple(r) for r in rows]


def test_valuations_keep_their_history(session: Session, tmp_path: Path) -> None:
    first = [{"company_id": "zj-westlake", "as_of": "2024-01-01", "value": "10亿", "evidence": "disclosed"}]
    second = [
        {"company_id": "zj-westlake", "as_of": "2025-01-01", "value": "1.5亿", "currency": "USD"},
        {"company_id": "zj-westlake", "as_of": "2024-01-01", "value": "1000000000", "currency": "CNY",
         "evidence": "disclosed"},  # the first one again, written differently
    ]  # fmt: skip
    assert (
        qilin_import(write_package(tmp_path / "a", companies=[westlake()], valuations=first)).exit_code == 0
    )
    result = qilin_import(write_package(tmp_path / "b", valuations=second))
    assert result.exit_code == 0, result.output
    counts = report_counts(result.output)["valuations"]
    assert (counts["inserted"], counts["unchanged"]) == (1, 1)
    session.rollback()
    expected = [
        (dt.date(2024, 1, 1), Decimal("1000000000"), "CNY", "disclosed"),
        (dt.date(2025, 1, 1), Decimal("150000000"), "USD", "estimated"),
    ]
    assert _valuations(session) == expected
    # re-importing an identical valuation adds nothing
    again = qilin_import(tmp_path / "b")
    assert again.exit_code == 0
    assert report_counts(again.output)["valuations"]["inserted"] == 0
    session.rollback()
    assert _valuations(session) == expected


# ---------------------------------------------------------------------------------------------- upsert


def test_changed_name_updates_the_enterprise_and_keeps_its_rounds(session: Session, tmp_path: Path) -> None:
    first = write_package(
        tmp_path / "a",
        companies=[westlake(), overseas()],
        rounds=[round_("zj-westlake", "2024-01-01", round_type="A轮", amount="1000万")],
    )
    assert qilin_import(first).exit_code == 0
    round_ids = list(session.scalars(select(FundingRound.id)))
    session.rollback()

    result = qilin_import(
        write_package(tmp_path / "b", companies=[westlake(name="杭州西湖人工智能有限公司"), overseas()])
    )
    assert result.exit_code == 0, result.output
    assert report_counts(result.output)["companies"] == {
        "read": 2,
        "inserted": 0,
        "updated": 1,
        "unchanged": 1,
        "rejected": 0,
    }
    stored = session.get(Enterprise, "zj-westlake")
    assert stored is not None and stored.name == "杭州西湖人工智能有限公司"
    assert list(session.scalars(select(FundingRound.id))) == round_ids


def test_empty_cells_do_not_erase_stored_values(session: Session, tmp_path: Path) -> None:
    full = westlake(name_en="West Lake AI", category="software", source="企查查", extra_note="重点培育")
    assert qilin_import(write_package(tmp_path / "a", companies=[full])).exit_code == 0
    session.rollback()
    # only id, name and a new city; every other cell empty (region empty, so no USCC is demanded)
    partial = {k: "" for k in full} | {"id": "zj-westlake", "name": full["name"], "city": "杭州"}
    result = qilin_import(write_package(tmp_path / "b", companies=[partial]))
    assert result.exit_code == 0, result.output
    assert report_counts(result.output)["companies"]["updated"] == 1
    stored = session.get(Enterprise, "zj-westlake")
    assert stored is not None
    assert (stored.uscc, stored.name_en, stored.founded_on, stored.region_code, stored.industry_code) == (
        USCC_WESTLAKE,
        "West Lake AI",
        dt.date(2018, 3, 12),
        "330106",
        "6513",
    )
    assert (stored.category, stored.source, stored.city) == ("software", "企查查", "杭州")
    assert stored.attributes == {"extra_note": "重点培育"}
    assert [t.track_code for t in stored.tracks] == ["ai"]


def test_identical_reimport_reports_unchanged(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake(status="ipo", status_as_of="2024-01-01"), yinzhou(), binjiang(), overseas()],
        rounds=[round_("zj-yinzhou", "2020-01-01", round_type="天使轮", amount="数百万", investors="甲;乙")],
        operating_reports=[
            {"company_id": "zj-binjiang", "year": "2024", "revenue": "1234.56", "employees": "80"}
        ],
        lifecycle_events=[
            {"company_id": "zj-westlake", "kind": "ipo", "occurred_on": "2024-01-01", "detail": "科创板"}
        ],
        unicorn_events=[{"company_id": "zj-westlake", "joined_on": "2023-01-01"}],
        acquisitions=[{"company_id": "us-acme", "acquired_on": "2022-01-01", "acquirer_name": "Big Co"}],
    )
    assert qilin_import(pkg).exit_code == 0
    before = table_dump(engine, exclude=["import_runs"])
    again = qilin_import(pkg)
    assert again.exit_code == 0
    for kind, c in report_counts(again.output).items():
        assert (c["inserted"], c["updated"], c["rejected"]) == (0, 0, 0), kind
    assert table_dump(engine, exclude=["import_runs"]) == before


def test_operating_report_is_updated_in_place(session: Session, tmp_path: Path) -> None:
    rows = [{"company_id": "zj-binjiang", "year": "2024", "revenue": "1,000,000", "employees": "80"}]
    assert (
        qilin_import(write_package(tmp_path / "a", companies=[binjiang()], operating_reports=rows)).exit_code
        == 0
    )
    update = [{"company_id": "zj-binjiang", "year": "2024", "net_profit": "-250000.5", "rd_staff": "12"}]
    result = qilin_import(write_package(tmp_path / "b", operating_reports=update))
    assert result.exit_code == 0, result.output
    assert report_counts(result.output)["operating_reports"]["updated"] == 1
    from qilin.registry.models import OperatingReport

    (report,) = session.scalars(select(OperatingReport)).all()
    assert (report.year, report.revenue, report.net_profit, report.employees, report.rd_staff) == (
        2024,
        Decimal("1000000"),
        Decimal("-250000.5"),
        80,
        12,
    )


# ------------------------------------------------------------------------------------------- investors


def test_investors_are_created_once_and_keep_their_order(session: Session, tmp_path: Path) -> None:
    rounds = [
        round_(
            "zj-westlake",
            "2022-01-01",
            round_type="A轮",
            amount="1亿",
            investors="红杉中国;高瓴资本；IDG资本",
        ),
        round_("zj-westlake", "2023-01-01", round_type="B轮", amount="3亿", investors=" IDG资本 ; 红杉中国 "),
        round_(
            "zj-yinzhou", "2023-05-01", round_type="天使轮", amount="数百万", investors="高瓴资本;高瓴资本"
        ),
    ]
    pkg = write_package(tmp_path / "pkg", companies=[westlake(), yinzhou()], rounds=rounds)
    assert qilin_import(pkg).exit_code == 0
    assert sorted(session.scalars(select(Investor.name))) == sorted(["红杉中国", "高瓴资本", "IDG资本"])

    def names(eid: str, on: dt.date) -> list[str]:
        return list(
            session.scalars(
                select(Investor.name)
                .join(RoundInvestor, RoundInvestor.investor_id == Investor.id)
                .join(FundingRound, FundingRound.id == RoundInvestor.round_id)
                .where(FundingRound.enterprise_id == eid, FundingRound.announced_on == on)
                .order_by(RoundInvestor.position)
            )
        )

    assert names("zj-westlake", dt.date(2022, 1, 1)) == ["红杉中国", "高瓴资本", "IDG资本"]
    assert names("zj-westlake", dt.date(2023, 1, 1)) == ["IDG资本", "红杉中国"]
    assert names("zj-yinzhou", dt.date(2023, 5, 1)) == ["高瓴资本"]

    # a later import naming a known investor reuses it
    later = [
        round_("zj-yinzhou", "2024-05-01", round_type="A轮", amount="5000万", investors="红杉中国;新基金")
    ]
    assert qilin_import(write_package(tmp_path / "later", rounds=later)).exit_code == 0
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Investor)) == 4
    assert names("zj-yinzhou", dt.date(2024, 5, 1)) == ["红杉中国", "新基金"]


# -------------------------------------------------------------------------------------------- messages


def test_issue_message_names_file_line_column_value_in_both_languages() -> None:
    issue = ImportIssue("companies.csv", 3, "uscc", WRONG_CHECK, "uscc.check_digit", {"expected": "6"})
    assert (
        issue.message("zh")
        == f"companies.csv 第 3 行 uscc 列 值“{WRONG_CHECK}”：统一社会信用代码校验位错误（应为 6）"
    )
    assert (
        issue.message("en")
        == f"companies.csv, line 3, column uscc, value '{WRONG_CHECK}': check digit is wrong (expected 6)"
    )
    assert issue.bilingual() == f"{issue.message('zh')}\n    {issue.message('en')}"


def test_issue_message_without_line_or_value() -> None:
    issue = ImportIssue("rounds.xlsx", None, None, None, "import.encoding")
    assert issue.message("zh") == "rounds.xlsx：文件不是 UTF-8 编码"
    assert issue.message("en") == "rounds.xlsx: file is not UTF-8 encoded"


def test_issue_message_shortens_long_values() -> None:
    issue = ImportIssue("companies.csv", 2, "name", "名" * 300, "field.too_long", {"max": 200})
    zh = issue.message("zh")
    assert "名" * 57 + "..." in zh and "名" * 58 not in zh
    assert zh.endswith("内容过长（最多 200 个字符）")
    assert issue.message("en").endswith("value too long (at most 200 characters)")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_issue_reason_matches_the_catalog(lang: str) -> None:
    issue = ImportIssue("x.csv", 1, "c", "v", "uscc.conflict", {"other": "E1"})
    assert issue.reason(lang) == t("uscc.conflict", lang=lang, other="E1")
    assert "E1" in issue.message(lang)


# ----------------------------------------------------------------------------------------------- files


def test_non_utf8_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "companies.csv").write_bytes("id,name\nx,杭州某公司\n".encode("gbk"))
    result = qilin_import(folder)
    assert result.exit_code != 0
    assert "companies.csv：文件不是 UTF-8 编码" in result.output
    assert "companies.csv: file is not UTF-8 encoded" in result.output
    assert _empty(engine)


def test_line_numbers_count_physical_lines_with_bom_and_crlf(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    text = '\ufeffid,name,founded_on\r\nx,"两行的\r\n名称",2020-01-01\r\n\r\ny,好,2020/01/01\r\n'
    (folder / "companies.csv").write_bytes(text.encode("utf-8"))
    result = qilin_import(folder)
    assert result.exit_code != 0
    issues = _issue_lines(result.output)
    assert issues == [f"companies.csv 第 5 行 founded_on 列 值“2020/01/01”：{BAD_DATE_ZH}"], result.output
    assert _empty(engine)


def test_bom_header_and_multiline_cell_import(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    text = '\ufeffid,name,founded_on\r\nx,"两行的\r\n名称",2020-01-01\r\n'
    (folder / "companies.csv").write_bytes(text.encode("utf-8"))
    assert qilin_import(folder).exit_code == 0
    stored = session.get(Enterprise, "x")
    assert stored is not None and stored.name == "两行的\r\n名称" and stored.founded_on == dt.date(2020, 1, 1)


def test_single_files_and_kind_from_header(session: Session, tmp_path: Path) -> None:
    assert qilin_import(write_package(tmp_path / "a", companies=[westlake()])).exit_code == 0
    # a file named neither after its kind: the header tells it holds rounds
    other = tmp_path / "b"
    write_package(other, rounds=[round_("zj-westlake", "2024-01-01", round_type="天使轮", amount="500万")])
    (other / "rounds.csv").rename(other / "融资记录.csv")
    result = qilin_import(other / "融资记录.csv")
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(FundingRound)) == 1


def test_unknown_file_and_missing_path_are_refused(engine: Engine, tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", companies=[westlake()])
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = qilin_import(folder)
    assert result.exit_code != 0
    assert (
        "无法识别的文件：notes.csv" in result.output and "cannot tell what notes.csv holds" in result.output
    )
    missing = qilin_import(tmp_path / "nowhere")
    assert missing.exit_code != 0
    assert "路径不存在" in missing.output and "no such file or folder" in missing.output
    assert _empty(engine)
