"""``qilin discover signals`` on both backends: each signal kind at and just past its threshold, FX between
rounds, vague and undisclosed amounts, the investors' hit rate cut to the round date, the window, the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import sqlite3
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from factories import qilin_import, write_package
from qilin.discovery import signals
from qilin.discovery.signals import (
    EnterpriseRecord,
    OutcomeRecord,
    RegistryRecords,
    RoundRecord,
    Signal,
    SignalParams,
    add_months,
    compute_signals,
    find_signals,
)
from qilin.discovery.signals_cli import signals_command
from qilin.registry.models import Enterprise
from qilin.tiers.facts import convert_cents

SINCE = dt.date(2024, 1, 1)
UNTIL = dt.date(2026, 6, 30)

# USD 10,000,000 in 2022, in yuan cents at that year's rate: the FX cases are built on it.
USD_ROUND_CNY_CENTS = convert_cents(10_000_000_00, "USD", "CNY", dt.date(2022, 5, 1))
assert USD_ROUND_CNY_CENTS is not None


def _yuan(cents: int) -> str:
    return f"{Decimal(cents).scaleb(-2):.2f}"


def _round(
    cid: str, on: str, amount: str | None = "100000000", currency: str = "CNY", **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "company_id": cid,
        "announced_on": on,
        "round_type": "series-a",
        "currency": currency,
    }
    if amount is not None:
        row["amount"] = amount
    return row | extra


def _valuation(cid: str, on: str, value: str, currency: str = "USD") -> dict[str, Any]:
    return {"company_id": cid, "as_of": on, "value": value, "currency": currency, "evidence": "disclosed",
            "source": "test"}  # fmt: skip


PORTFOLIO = {  # company → investors in its 2020 round
    "p1": "甲资本;乙资本;丙资本;丁资本",
    "p2": "甲资本;乙资本;丙资本;丁资本;己资本",
    "p3": "甲资本;乙资本;丁资本;己资本",
    "p4": "甲资本;乙资本;己资本",
    "p5": "甲资本;乙资本",
    "p6": "乙资本",
    "p7": "戊资本",
    "p8": "戊资本",
    "p9": "戊资本",
}
TARGETS = {  # company → (round date, investor)
    "t-jia": ("2024-02-01", "甲资本"),  # 1 hit of 5: exactly 20%
    "t-yi": ("2024-02-01", "乙资本"),  # 1 of 6: 16.7%
    "t-bing": ("2024-02-01", "丙资本"),  # 1 of 2: 50% but too few enterprises
    "t-ding": ("2024-02-01", "丁资本"),  # 1 of 3: exactly the minimum
    "t-wu-early": ("2024-06-01", "戊资本"),  # p7 joins the list only on 2024-09-01
    "t-wu-late": ("2025-01-01", "戊资本"),  # … which this later round may count
    "t-ji": ("2024-02-01", "己资本"),  # backed p1 only after it was a unicorn: 0 of 3
}


def _package(folder: Path) -> Path:
    fx_at = USD_ROUND_CNY_CENTS * 2
    names = {
        "dbl-exact": "恰好翻倍科技", "dbl-under": "差一点科技", "dbl-old": "早年翻倍科技",
        "fx-at": "美元转人民币科技", "fx-under": "美元转人民币差一分科技",
        "vague-prev": "模糊金额科技", "undisclosed": "未透露科技",
        "q-12m": "一年再融资科技", "q-12m1d": "一年零一天科技",
        "val-at": "估值一点五倍科技", "val-under": "估值不足科技", "val-post": "投后估值科技",
    } | {cid: f"组合企业{cid}" for cid in PORTFOLIO} | {cid: f"目标企业{cid}" for cid in TARGETS}  # fmt: skip
    companies = [
        {"id": cid, "name": name, "country": "USA", "synthetic": "1" if cid == "dbl-exact" else "0"}
        for cid, name in names.items()
    ]
    rounds = [
        _round("dbl-exact", "2022-03-01", "100000000"),
        _round("dbl-exact", "2024-03-01", "200000000", round_type="series-b", investors="某基金"),
        _round("dbl-under", "2022-03-01", "100000000"),
        _round("dbl-under", "2024-03-01", "199999999.99"),
        _round("dbl-old", "2019-01-01", "10000000"),
        _round("dbl-old", "2021-01-01", "30000000"),
        _round("fx-at", "2022-05-01", "10000000", "USD"),
        _round("fx-at", "2024-05-01", _yuan(fx_at)),
        _round("fx-under", "2022-05-01", "10000000", "USD"),
        _round("fx-under", "2024-05-01", _yuan(fx_at - 1)),
        # an exact amount, then a vague one, then a large exact one: the vague one is the previous round
        _round("vague-prev", "2020-01-01", "10000000"),
        _round("vague-prev", "2022-01-01", "数千万"),
        _round("vague-prev", "2024-06-01", "500000000"),
        _round("undisclosed", "2022-01-01", "10000000"),
        _round("undisclosed", "2024-06-01", "未透露"),
        _round("q-12m", "2023-06-15"),
        _round("q-12m", "2024-06-15"),
        _round("q-12m1d", "2023-06-15"),
        _round("q-12m1d", "2024-06-16"),
        _round(
            "val-post",
            "2023-03-01",
            "100000000",
            post_money_valuation="1000000000",
            post_money_currency="CNY",
        ),
        *(_round(cid, "2020-01-10", "10000000", investors=who) for cid, who in PORTFOLIO.items()),
        _round("p1", "2022-01-01", "10000000", round_type="series-b", investors="己资本"),
        *(_round(cid, on, "10000000", investors=who) for cid, (on, who) in TARGETS.items()),
    ]
    return write_package(
        folder,
        companies=companies,
        rounds=rounds,
        valuations=[
            _valuation("val-at", "2023-01-01", "1000000000"),
            _valuation("val-at", "2024-07-01", "1500000000"),
            _valuation("val-under", "2023-01-01", "1000000000"),
            _valuation("val-under", "2024-07-01", "1499999999.99"),
            _valuation("val-post", "2025-02-01", "2000000000", "CNY"),
        ],
        unicorn_events=[
            {"company_id": "p1", "joined_on": "2021-06-01", "source": "test"},
            {"company_id": "p7", "joined_on": "2024-09-01", "source": "test"},
        ],
    )


@pytest.fixture
def registry(db_url: str, frozen_today: str, tmp_path: Path) -> str:
    result = qilin_import(_package(tmp_path / "pkg"))
    assert result.exit_code == 0, result.output
    return db_url


def _by(signals: list[Signal], kind: str) -> dict[str, Signal]:
    found = [s for s in signals if s.kind == kind]
    by_company = {s.enterprise_id: s for s in found}
    assert len(by_company) == len(found), "one signal of a kind per enterprise in these cases"
    return by_company


def test_round_doubled_at_threshold_fx_and_unknown_amounts(registry: str, session: Session) -> None:
    signals = find_signals(session, since=SINCE, until=UNTIL)
    doubled = _by(signals, "round_doubled")
    assert set(doubled) == {"dbl-exact", "fx-at"}  # not 1.99×, not one cent short, not vague/undisclosed

    exact = doubled["dbl-exact"]
    assert exact.on == dt.date(2024, 3, 1)
    assert exact.ratio == 2 and exact.ratio_text() == "2.00"
    assert exact.is_synthetic and exact.enterprise_name == "恰好翻倍科技"
    assert (
        "2亿元" in exact.description_zh
        and "1亿元" in exact.description_zh
        and "2.00倍" in exact.description_zh
    )
    assert "2.00×" in exact.description_en
    new, old = exact.records
    assert (new.on, new.amount and new.amount.amount, new.investors) == (
        dt.date(2024, 3, 1), Decimal("200000000.00"), ("某基金",)
    )  # fmt: skip
    assert (old.on, old.amount and old.amount.amount) == (dt.date(2022, 3, 1), Decimal("100000000.00"))

    fx = doubled["fx-at"]  # RMB after USD: both in yuan, each at its own year's rate
    assert fx.ratio == 2
    assert fx.records[1].amount is not None and fx.records[1].amount.currency == "USD"
    assert "折合人民币" in fx.description_zh and "CNY" in fx.description_en
    # the yuan amount is 13× the dollar figure: a comparison without FX would call "fx-under" doubled too
    assert "fx-under" not in doubled

    # a stricter threshold drops the exact 2× rounds
    strict = find_signals(session, since=SINCE, until=UNTIL, params=SignalParams(round_ratio=Decimal("2.01")))
    assert not _by(strict, "round_doubled")


def test_quick_follow_on_twelve_months_and_not_a_day_more(registry: str, session: Session) -> None:
    quick = _by(find_signals(session, since=SINCE, until=UNTIL), "quick_follow_on")
    assert "q-12m" in quick and "q-12m1d" not in quick
    assert quick["q-12m"].on == dt.date(2024, 6, 15)
    assert "366 天" in quick["q-12m"].description_zh  # 2024 is a leap year
    assert [r.ref.split(":")[0] for r in quick["q-12m"].records] == ["round", "round"]
    # the other rounds are two years or more apart
    assert set(quick) == {"q-12m"}
    shorter = find_signals(session, since=SINCE, until=UNTIL, params=SignalParams(follow_on_months=11))
    assert not _by(shorter, "quick_follow_on")
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_valuation_step_up_at_threshold_and_post_money(registry: str, session: Session) -> None:
    steps = _by(find_signals(session, since=SINCE, until=UNTIL), "valuation_step_up")
    assert set(steps) == {"val-at", "val-post"}
    assert steps["val-at"].ratio == Fraction(3, 2) and steps["val-at"].ratio_text() == "1.50"
    assert "15亿美元" in steps["val-at"].description_zh
    post = steps["val-post"]  # a round's post-money is the earlier valuation
    assert post.ratio == 2 and post.on == dt.date(2025, 2, 1)
    assert post.records[0].ref.startswith("valuation:") and post.records[1].ref.startswith("round:")
    assert post.records[1].note == "post-money"
    higher = find_signals(session, since=SINCE, until=UNTIL, params=SignalParams(valuation_ratio=Decimal(2)))
    assert set(_by(higher, "valuation_step_up")) == {"val-post"}


def test_strong_investor_thresholds(registry: str, session: Session) -> None:
    strong = _by(
        find_signals(session, since=SINCE, until=UNTIL, kinds=["strong_investor"]), "strong_investor"
    )
    jia = strong["t-jia"]
    assert (jia.investor, jia.backed, jia.hits) == ("甲资本", ("p1", "p2", "p3", "p4", "p5"), ("p1",))
    assert "20%" in jia.description_zh and "1 of the 5" in jia.description_en
    assert strong["t-ding"].backed == ("p1", "p2", "p3")
    # the records behind it: the round, the investor's round in the hit, and the hit's list entry
    assert [r.ref.split(":")[0] for r in jia.records] == ["round", "round", "event"]
    assert jia.records[2].enterprise_id == "p1" and jia.records[2].note == "unicorn_list_entry"
    # 16.7%, two enterprises only, and a backing made after p1 was already a unicorn: no signal
    assert "t-yi" not in strong and "t-bing" not in strong and "t-ji" not in strong
    looser = find_signals(
        session, since=SINCE, until=UNTIL, kinds=["strong_investor"],
        params=SignalParams(min_backed=2, min_hit_rate=Decimal("0.15")),
    )  # fmt: skip
    assert {"t-yi", "t-bing"} <= set(_by(looser, "strong_investor"))
    assert "t-ji" not in _by(looser, "strong_investor")


def test_strong_investor_ignores_outcomes_after_the_round(registry: str, session: Session) -> None:
    strong = _by(
        find_signals(session, since=SINCE, until=UNTIL, kinds=["strong_investor"]), "strong_investor"
    )
    assert "t-wu-early" not in strong  # p7 joined the list on 2024-09-01, after this 2024-06-01 round
    assert strong["t-wu-late"].hits == ("p7",)
    assert strong["t-wu-late"].records[-1].on == dt.date(2024, 9, 1)


def test_every_signal_uses_only_records_up_to_its_date(registry: str, session: Session) -> None:
    signals = find_signals(session, since=dt.date(2000, 1, 1), until=UNTIL)
    assert {s.kind for s in signals} == {
        "round_doubled",
        "quick_follow_on",
        "valuation_step_up",
        "strong_investor",
    }
    for s in signals:
        assert s.records and all(r.on <= s.on for r in s.records), s
        assert all(r.on < s.on for r in s.records if r.ref.startswith("event:")), s


def test_since_and_until_bound_the_window(registry: str, session: Session) -> None:
    everything = find_signals(session, since=dt.date(2000, 1, 1), until=UNTIL)
    assert "dbl-old" in _by(everything, "round_doubled")  # 3× in 2021
    assert "dbl-old" not in _by(find_signals(session, since=SINCE, until=UNTIL), "round_doubled")
    since_march_2 = find_signals(session, since=dt.date(2024, 3, 2), until=UNTIL)
    assert "dbl-exact" not in _by(since_march_2, "round_doubled")
    on_the_day = find_signals(session, since=dt.date(2024, 3, 1), until=dt.date(2024, 3, 1))
    assert [(s.enterprise_id, s.kind) for s in on_the_day] == [("dbl-exact", "round_doubled")]
    assert all(SINCE <= s.on <= UNTIL for s in find_signals(session, since=SINCE))  # until: frozen today
    dates = [s.on for s in everything]
    assert dates == sorted(dates)


# ---- CLI --------------------------------------------------------------------------------------------------


def _invoke(*args: str) -> Result:
    app = typer.Typer()
    app.command("signals")(signals_command)
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_table_csv_json_and_kind(registry: str) -> None:
    table = _ok(_invoke("--since", "2024-01-01"))
    for word in (
        "日期",
        "企业",
        "信号",
        "说明",
        "依据",
        "【模拟】恰好翻倍科技",
        "融资额翻倍",
        "优质机构入局",
    ):
        assert word in table, word
    assert "B轮 2亿元" in table and "投后估值 10亿元" in table and "入选独角兽榜单" in table
    assert "【模拟】美元转人民币科技" not in table and "美元转人民币科技" in table

    rows = list(csv.DictReader(io.StringIO(_ok(_invoke("--since", "2024-01-01", "--format", "csv")))))
    assert {(r["company_id"], r["kind"]) for r in rows} >= {
        ("dbl-exact", "round_doubled"), ("fx-at", "round_doubled"), ("q-12m", "quick_follow_on"),
        ("val-at", "valuation_step_up"), ("t-jia", "strong_investor"),
    }  # fmt: skip
    exact = next(r for r in rows if r["company_id"] == "dbl-exact")
    assert (exact["synthetic"], exact["ratio"], exact["date"]) == ("1", "2.00", "2024-03-01")
    assert exact["records"].count("round:") == 2

    payload = json.loads(
        _ok(_invoke("--since", "2024-01-01", "--format", "json", "--kind", "strong_investor"))
    )
    assert {p["kind"] for p in payload} == {"strong_investor"}
    jia = next(p for p in payload if p["company_id"] == "t-jia")
    assert jia["investor"] == "甲资本" and jia["hits"] == ["p1"] and jia["synthetic"] is False
    assert jia["records"][0]["investors"] == ["甲资本"] and jia["records"][0]["amount"] == "10000000.00"

    later = json.loads(_ok(_invoke("--since", "2024-03-02", "--until", "2024-12-31", "--format", "json")))
    assert later and all("2024-03-02" <= p["date"] <= "2024-12-31" for p in later)
    assert not any(p["company_id"] == "dbl-exact" for p in later)


def test_cli_table_shows_names_holding_rich_markup_as_they_are(registry: str, session: Session) -> None:
    """Found by fuzzing: an enterprise or investor named like "Evil[/bold]" made the table raise."""
    session.get(Enterprise, "dbl-exact").name = "Evil[/bold] :smile:"  # type: ignore[union-attr]
    session.get(Enterprise, "t-jia").name = "[red]红[/red]"  # type: ignore[union-attr]
    session.commit()
    table = _ok(_invoke("--since", "2024-01-01"))
    assert "【模拟】Evil[/bold] :smile:" in table and "[red]红[/red]" in table


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--since", "2024-13-01"), ("日期", "YYYY-MM-DD", "--since")),
        (("--since", "2024-01-01", "--until", "soon"), ("日期", "YYYY-MM-DD", "--until")),
        (("--since", "2025-01-01", "--until", "2024-01-01"), ("晚于", "after")),
        (("--since", "2024-01-01", "--kind", "rumour"), ("未知的信号类型", "unknown kind")),
    ],
)
def test_cli_rejects_bad_input_in_both_languages(
    db_url: str, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    result = _invoke(*args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr


def test_focused_signals_equal_the_whole_registry_filtered(registry: str, session: Session) -> None:
    """Reading only the enterprises' records and their investors' portfolios (企业画像) finds exactly the
    signals that reading the whole registry finds for them — strong-investor records included."""
    since = dt.date(2000, 1, 1)
    everything = find_signals(session, since=since)
    assert {s.kind for s in everything} >= {"strong_investor", "round_doubled"}
    for enterprise_id in sorted({s.enterprise_id for s in everything}):
        focused = find_signals(session, since=since, enterprise_ids={enterprise_id})
        assert focused == [s for s in everything if s.enterprise_id == enterprise_id]
    # Windows that start or end at each strong-investor signal's day: only the investors of the window's
    # rounds, and their rounds up to its end, are read, and that must lose nothing and add nothing.
    until = max(s.on for s in everything)
    windows = set()
    for day in {s.on for s in everything if s.kind == "strong_investor"}:
        windows |= {(day, day), (day, until), (since, day), (day + dt.timedelta(days=1), until)}
    for start, end in sorted(windows):
        whole = find_signals(session, since=start, until=end)
        ids = {s.enterprise_id for s in whole}
        assert find_signals(session, since=start, until=end, enterprise_ids=ids) == whole
        for enterprise_id in sorted(ids):
            focused = find_signals(session, since=start, until=end, enterprise_ids={enterprise_id})
            assert focused == [s for s in whole if s.enterprise_id == enterprise_id]


def test_a_large_portfolio_is_read_without_a_parameter_per_enterprise(
    db_url: str, frozen_today: str, tmp_path: Path, session: Session
) -> None:
    """The outcomes of the enterprises a window's investors backed are asked of the database, not passed as
    a list of their ids (24,296 at 100,000 enterprises, beyond the 32,766 parameters many SQLite builds
    allow at a larger registry). Here SQLite's limit is lowered to 20 and one fund backed 60 enterprises."""
    backed = [f"b{i:02d}" for i in range(60)]
    companies = [{"id": cid, "name": f"被投企业{cid}", "country": "USA"} for cid in [*backed, "target"]]
    rounds = [_round(cid, "2020-01-10", "10000000", investors="大基金") for cid in backed]
    rounds.append(_round("target", "2024-03-01", "10000000", investors="大基金"))
    listed = [{"company_id": cid, "joined_on": "2022-01-01", "source": "test"} for cid in backed[::3]]
    folder = write_package(tmp_path / "pkg", companies=companies, rounds=rounds, unicorn_events=listed)
    assert qilin_import(folder).exit_code == 0
    whole = [s for s in find_signals(session, since=SINCE) if s.enterprise_id == "target"]
    assert [(s.kind, len(s.backed), len(s.hits)) for s in whole] == [("strong_investor", 60, 20)]
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name != "sqlite":
        assert find_signals(session, since=SINCE, enterprise_ids={"target"}) == whole
        return
    before = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)
    try:
        assert find_signals(session, since=SINCE, enterprise_ids={"target"}) == whole
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_cli_since_after_today_says_today(db_url: str, frozen_today: str) -> None:
    """Without --until, a --since after today was refused as "after --until 2026-06-30", an option never
    given."""
    result = _invoke("--since", "2099-01-01")
    assert result.exit_code == 1, result.output
    assert "起始日期 2099-01-01 晚于今天（2026-06-30）" in result.stderr
    assert (
        "--since 2099-01-01 is after today (2026-06-30)" in result.stderr and "--until" not in result.stderr
    )


def _picks_by_walking(
    records: RegistryRecords, investor: str, new: RoundRecord
) -> tuple[list[str], list[str]]:
    """An investor's picks and hits before ``new`` by walking its portfolio, as the signal defines them: its
    first round in each other enterprise before the day, not a pick when an outcome came on or before that
    round, a hit when one came after it and before the day."""
    on, first = new.announced_on, {}
    for r in sorted(records.rounds, key=lambda r: (r.announced_on, r.id)):
        if investor in r.investors and r.announced_on < on and r.enterprise_id != new.enterprise_id:
            first.setdefault(r.enterprise_id, r)
    outcomes = sorted(
        (o for o in records.outcomes if o.occurred_on < on), key=lambda o: (o.occurred_on, o.id)
    )
    picks, hits = [], []
    for eid, entry in first.items():
        known = [o for o in outcomes if o.enterprise_id == eid]
        if known and known[0].occurred_on <= entry.announced_on:
            continue
        picks.append(eid)
        if known:
            hits.append(eid)
    return sorted(picks), sorted(hits)


def test_strong_investors_counted_by_binary_search_as_by_walking_their_portfolios() -> None:
    rng = random.Random(11)
    day = dt.date(2020, 1, 1)
    enterprises = {f"e{i}": EnterpriseRecord(f"e{i}", f"企业{i}") for i in range(40)}
    investors = ["甲资本", "乙创投", "丙基金"]
    rounds = tuple(
        RoundRecord(i, rng.choice(list(enterprises)), day + dt.timedelta(days=rng.randint(0, 2000)),
                    "series-a", investors=tuple(rng.sample(investors, rng.randint(1, 2))))
        for i in range(300)
    )  # fmt: skip
    outcomes = tuple(
        OutcomeRecord(i, f"e{rng.randrange(40)}", rng.choice(["ipo", "unicorn_list_entry"]),
                      day + dt.timedelta(days=rng.randint(0, 2400)))
        for i in range(25)
    )  # fmt: skip
    records = RegistryRecords(enterprises, rounds=rounds, outcomes=outcomes)
    params = SignalParams(min_backed=2, min_hit_rate=Decimal("0.1"))
    found = {
        (s.enterprise_id, s.on, s.investor): s
        for s in compute_signals(records, since=day, until=day + dt.timedelta(days=3000), params=params)
        if s.kind == "strong_investor"
    }
    builder = signals._Builder(records, day, day + dt.timedelta(days=3000), params)
    given = 0
    for r in rounds:
        for investor in r.investors:
            picks, hits = _picks_by_walking(records, investor, r)
            counted = builder.investor_record(investor).counts(r.announced_on, leaving_out=r.enterprise_id)
            assert counted == (len(picks), len(hits)), (r, investor)
            expected = len(picks) >= 2 and Fraction(len(hits), len(picks)) >= Fraction(1, 10)
            signal = found.get((r.enterprise_id, r.announced_on, investor))
            if expected:
                given += 1
                assert signal is not None and (list(signal.backed), list(signal.hits)) == (picks, hits)
            elif signal is not None:  # another round of the same day and enterprise may give it
                assert any(
                    o.enterprise_id == r.enterprise_id and o.announced_on == r.announced_on and o.id != r.id
                    for o in rounds
                )
    assert given > 50  # many signals given, and many turned down by the counts alone
    assert given < sum(len(r.investors) for r in rounds) - 50
