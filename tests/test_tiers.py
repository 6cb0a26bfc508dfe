"""The tier explainer (梯队评定) on hand-built facts, without a database: every boundary of the four shipped
standards (age, valuation in USD and RMB, cumulative financing), the records that count as of a date, the
exclusion reasons, the standards loader and the read-out in Chinese and English."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from qilin.reference.fx import default_table
from qilin.tiers import standards
from qilin.tiers.evaluate import CriterionResult, TierResult, evaluate
from qilin.tiers.explain import render
from qilin.tiers.facts import EnterpriseFacts, EventFact, RoundFact, StatusFact, ValuationFact
from qilin.tiers.standards import StandardError, Threshold, UnknownStandardError

AS_OF = dt.date(2025, 6, 30)
DAY = dt.timedelta(days=1)
STANDARDS = {s.id: s for s in standards.packaged_standards()}
GBT = STANDARDS["gbt-41464-2022"]
SHENZHEN = STANDARDS["shenzhen-2023"]
HANGZHOU = STANDARDS["hangzhou-quasi"]
ZHEJIANG = STANDARDS["zhejiang-2024"]
YUAN = 100  # cents per unit
YI = 100_000_000 * YUAN  # 1亿
WAN = 10_000 * YUAN  # 1万


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def val(
    amount_cents: int,
    currency: str = "USD",
    on: dt.date = dt.date(2024, 6, 30),
    evidence: str = "disclosed",
    record_id: str = "v1",
) -> ValuationFact:
    return ValuationFact(record_id, on, amount_cents, currency, evidence, "test")


def rnd(
    record_id: str,
    on: dt.date,
    round_type: str = "series-a",
    amount: int | None = 50 * YI,
    currency: str | None = "CNY",
    *,
    low: int | None = None,
    post_money: int | None = None,
    post_money_currency: str | None = None,
) -> RoundFact:
    return RoundFact(record_id, on, round_type, amount, low, currency, post_money, post_money_currency)


def company(**fields: object) -> EnterpriseFacts:
    """A young company (3.5 years old at AS_OF) registered in 杭州市西湖区, in the AI track, with one ¥50亿
    A round (so every cumulative-financing floor is met) and no valuation unless given."""
    base: dict[str, object] = {
        "enterprise_id": "zj-test",
        "name": "杭州测试科技有限公司",
        "founded_on": dt.date(2022, 1, 1),
        "country": "CN",
        "region_code": "330106",
        "tracks": ("ai",),
        "rounds": (rnd("r1", dt.date(2022, 6, 1)),),
    }
    return EnterpriseFacts(**(base | fields))  # type: ignore[arg-type]


def crit(result: TierResult, tier: str, name: str, alternative: int = 0) -> CriterionResult:
    """The result of criterion ``name`` in ``tier`` (route ``alternative``)."""
    (check,) = [c for c in result.checks if c.tier == tier]
    (found,) = [r for r in check.alternatives[alternative] if r.criterion == name]
    return found


def route_passed(result: TierResult, tier: str, alternative: int) -> bool:
    (check,) = [c for c in result.checks if c.tier == tier]
    return all(r.passed for r in check.alternatives[alternative])


def exact_cents(amount: int, from_currency: str, to_currency: str, year: int) -> int:
    """``amount`` cents converted at ``year``'s yearly average from the FX table, exactly (Decimal), rounded
    down to whole cents."""
    table = default_table()

    def per_usd(currency: str) -> Decimal:
        if currency == "USD":
            return Decimal(1)
        row = table.rate(currency, year)
        assert row is not None
        return row.per_usd

    return math.floor(Decimal(amount) * per_usd(to_currency) / per_usd(from_currency))


# ---- age -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("founded_on", "tier"),
    [(dt.date(2015, 6, 30), "unicorn"), (dt.date(2015, 6, 29), "none"), (dt.date(2015, 7, 1), "unicorn")],
)
def test_ten_year_limit_is_inclusive(founded_on: dt.date, tier: str) -> None:
    result = evaluate(GBT, company(founded_on=founded_on, valuations=(val(cents("2e9")),)), AS_OF)
    assert result.tier == tier
    age = crit(result, "unicorn", "max_age_years")
    assert age.passed is (tier == "unicorn")
    assert age.threshold == 10
    if tier == "none":
        assert age.reason == "too_old"
        assert "too_old" in result.exclusions
    else:
        assert result.exclusions == ()


def test_five_year_limit_switches_the_potential_route() -> None:
    # US$600 million meets both potential routes: ≤ 5 years (US$100 million) and 5–9 years (US$500 million).
    exactly_five = evaluate(
        GBT, company(founded_on=dt.date(2020, 6, 30), valuations=(val(cents("6e8")),)), AS_OF
    )
    assert exactly_five.tier == "potential_unicorn"
    assert route_passed(exactly_five, "potential_unicorn", 0)
    assert not route_passed(exactly_five, "potential_unicorn", 1)
    assert crit(exactly_five, "potential_unicorn", "min_age_years", 1).reason == "too_young"

    one_day_more = evaluate(
        GBT, company(founded_on=dt.date(2020, 6, 29), valuations=(val(cents("6e8")),)), AS_OF
    )
    assert one_day_more.tier == "potential_unicorn"
    assert not route_passed(one_day_more, "potential_unicorn", 0)
    assert crit(one_day_more, "potential_unicorn", "max_age_years", 0).reason == "too_old"
    assert route_passed(one_day_more, "potential_unicorn", 1)


@pytest.mark.parametrize(
    ("founded_on", "tier"), [(dt.date(2020, 6, 30), "potential_unicorn"), (dt.date(2020, 6, 29), "none")]
)
def test_five_year_limit_with_a_small_valuation(founded_on: dt.date, tier: str) -> None:
    # US$200 million: enough for the ≤ 5-year route only.
    result = evaluate(GBT, company(founded_on=founded_on, valuations=(val(cents("2e8")),)), AS_OF)
    assert result.tier == tier
    assert crit(result, "potential_unicorn", "max_age_years", 0).passed is (tier != "none")
    assert crit(result, "potential_unicorn", "min_valuation", 1).reason == "valuation_insufficient"


@pytest.mark.parametrize(
    ("founded_on", "tier"), [(dt.date(2016, 6, 30), "potential_unicorn"), (dt.date(2016, 6, 29), "none")]
)
def test_nine_year_limit_is_inclusive(founded_on: dt.date, tier: str) -> None:
    result = evaluate(GBT, company(founded_on=founded_on, valuations=(val(cents("6e8")),)), AS_OF)
    assert result.tier == tier
    nine = crit(result, "potential_unicorn", "max_age_years", 1)
    assert nine.threshold == 9
    assert nine.passed is (tier != "none")
    assert crit(result, "potential_unicorn", "min_age_years", 1).passed
    if tier == "none":
        assert nine.reason == "too_old"
        assert "too_old" in result.exclusions


@pytest.mark.parametrize(
    ("as_of", "tier"), [(dt.date(2026, 2, 28), "unicorn"), (dt.date(2026, 3, 1), "none")]
)
def test_founded_on_29_february_ten_years(as_of: dt.date, tier: str) -> None:
    # Founded 2016-02-29: its tenth anniversary falls on 2026-02-28 (there is no 29 February in 2026).
    facts = company(founded_on=dt.date(2016, 2, 29), valuations=(val(cents("2e9"), on=dt.date(2025, 1, 1)),))
    result = evaluate(GBT, facts, as_of)
    assert result.tier == tier
    assert crit(result, "unicorn", "max_age_years").passed is (tier == "unicorn")


@pytest.mark.parametrize(
    ("as_of", "first_route"), [(dt.date(2025, 2, 28), True), (dt.date(2025, 3, 1), False)]
)
def test_founded_on_29_february_five_years(as_of: dt.date, first_route: bool) -> None:
    facts = company(founded_on=dt.date(2020, 2, 29), valuations=(val(cents("6e8"), on=dt.date(2024, 1, 1)),))
    result = evaluate(GBT, facts, as_of)
    assert result.tier == "potential_unicorn"
    assert route_passed(result, "potential_unicorn", 0) is first_route
    assert route_passed(result, "potential_unicorn", 1) is not first_route


@pytest.mark.parametrize(
    ("founded_on", "passed"),
    [(dt.date(2014, 3, 1), True), (dt.date(2014, 2, 28), False), (dt.date(2014, 2, 27), False)],
)
def test_as_of_29_february(founded_on: dt.date, passed: bool) -> None:
    # Counted forward from the founding (民法典 art. 202): founded 2014-02-28, the tenth anniversary was
    # 2024-02-28, so on 2024-02-29 the company is 10 years and 1 day old; founded 2014-03-01 it is not 10.
    facts = company(founded_on=founded_on, valuations=(val(cents("2e9"), on=dt.date(2023, 1, 1)),))
    result = evaluate(GBT, facts, dt.date(2024, 2, 29))
    assert crit(result, "unicorn", "max_age_years").passed is passed
    assert result.tier == ("unicorn" if passed else "none")


def test_unknown_founding_date() -> None:
    result = evaluate(GBT, company(founded_on=None, valuations=(val(cents("2e9")),)), AS_OF)
    assert result.tier == "none"
    age = crit(result, "unicorn", "max_age_years")
    assert (age.passed, age.value, age.reason) == (False, None, "founding_date_unknown")
    assert "founding_date_unknown" in result.exclusions
    assert "too_old" not in result.exclusions


# ---- valuation thresholds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("standard_id", "founded_on", "amount", "at", "below"),
    [
        ("gbt-41464-2022", dt.date(2022, 1, 1), "10000000000", "super_unicorn", "unicorn"),
        ("gbt-41464-2022", dt.date(2022, 1, 1), "1000000000", "unicorn", "potential_unicorn"),
        ("gbt-41464-2022", dt.date(2022, 1, 1), "100000000", "potential_unicorn", "none"),
        ("gbt-41464-2022", dt.date(2018, 1, 1), "500000000", "potential_unicorn", "none"),
        ("hangzhou-quasi", dt.date(2018, 1, 1), "100000000", "quasi_unicorn", "none"),
        ("zhejiang-2024", dt.date(2018, 1, 1), "1000000000", "unicorn", "potential_unicorn"),
        ("zhejiang-2024", dt.date(2018, 1, 1), "500000000", "potential_unicorn", "quasi_unicorn"),
        ("zhejiang-2024", dt.date(2018, 1, 1), "100000000", "quasi_unicorn", "none"),
    ],
)
def test_usd_valuation_thresholds(
    standard_id: str, founded_on: dt.date, amount: str, at: str, below: str
) -> None:
    standard = STANDARDS[standard_id]
    exact = cents(amount)
    on = evaluate(standard, company(founded_on=founded_on, valuations=(val(exact),)), AS_OF)
    under = evaluate(standard, company(founded_on=founded_on, valuations=(val(exact - 1),)), AS_OF)
    assert on.tier == at
    assert under.tier == below
    # The route that needs exactly this amount passes at it and fails one cent below.
    passing = [
        r
        for c in on.checks
        if c.tier == at
        for alt in c.alternatives
        for r in alt
        if r.criterion == "min_valuation" and r.threshold == {"cents": exact, "currency": "USD"}
    ]
    assert passing and all(r.passed and r.value["cents"] == exact for r in passing)
    failing = [
        r
        for c in under.checks
        if c.tier == at
        for alt in c.alternatives
        for r in alt
        if r.criterion == "min_valuation" and r.threshold == {"cents": exact, "currency": "USD"}
    ]
    assert failing
    assert all(not r.passed and r.reason == "valuation_insufficient" for r in failing)
    assert all(r.value["cents"] == exact - 1 and r.fx == () for r in failing)
    if below == "none":
        assert "valuation_insufficient" in under.exclusions


@pytest.mark.parametrize(
    ("founded_on", "amount", "at", "below"),
    [
        (dt.date(2022, 1, 1), 700 * YI, "super_unicorn", "unicorn"),
        (dt.date(2022, 1, 1), 70 * YI, "unicorn", "potential_unicorn"),
        (dt.date(2022, 1, 1), 7 * YI, "potential_unicorn", "seed"),
        (dt.date(2018, 1, 1), 35 * YI, "potential_unicorn", "none"),
        (dt.date(2022, 1, 1), 3 * YI, "seed", "none"),
    ],
)
def test_shenzhen_rmb_valuation_thresholds(founded_on: dt.date, amount: int, at: str, below: str) -> None:
    facts = company(founded_on=founded_on, valuations=(val(amount, "CNY"),))
    assert evaluate(SHENZHEN, facts, AS_OF).tier == at
    under = evaluate(SHENZHEN, company(founded_on=founded_on, valuations=(val(amount - 1, "CNY"),)), AS_OF)
    assert under.tier == below
    if below == "none":
        assert "valuation_insufficient" in under.exclusions


@pytest.mark.parametrize(("amount", "tier"), [(3 * YI, "seed"), (3 * YI - 1, "none")])
def test_zhejiang_seed_rmb_threshold(amount: int, tier: str) -> None:
    result = evaluate(ZHEJIANG, company(valuations=(val(amount, "CNY"),)), AS_OF)
    assert result.tier == tier
    seed = crit(result, "seed", "min_valuation")
    assert seed.threshold == {"cents": 3 * YI, "currency": "CNY"}
    assert seed.value["cents"] == amount
    assert seed.passed is (tier == "seed")


@pytest.mark.parametrize(("year", "month"), [(2023, 6), (2022, 12), (2025, 3)])
def test_rmb_valuation_against_usd_threshold_at_its_year_rate(year: int, month: int) -> None:
    # The RMB amount worth exactly US$1,000,000,000 at the valuation year's average rate.
    per_usd = default_table().rate("CNY", year)
    assert per_usd is not None
    amount = int(per_usd.per_usd * cents("1000000000"))
    on = dt.date(year, month, 15)
    expected_rate = float(default_table().quote("CNY", "USD", on).rate)
    for value, tier in ((amount, "unicorn"), (amount - 1, "potential_unicorn")):
        result = evaluate(GBT, company(valuations=(val(value, "CNY", on),)), AS_OF)
        assert result.tier == tier
        unicorn = crit(result, "unicorn", "min_valuation")
        assert unicorn.value == {
            "cents": exact_cents(value, "CNY", "USD", year),
            "currency": "USD",
            "original": {"cents": value, "currency": "CNY"},
        }
        assert unicorn.passed is (tier == "unicorn")
        (fx,) = unicorn.fx
        assert (fx.from_currency, fx.to_currency, fx.year) == ("CNY", "USD", year)
        assert fx.rate == pytest.approx(expected_rate, rel=1e-12)
        assert fx.rate == pytest.approx(1 / float(per_usd.per_usd), rel=1e-12)


def test_rate_is_the_valuation_year_not_the_as_of_year() -> None:
    # ¥6,737,158,000 is exactly US$1 billion at the 2022 average (6.737158) but less at 2025's (7.189847).
    amount = 673_715_800_000
    assert exact_cents(amount, "CNY", "USD", 2025) < cents("1000000000")
    result = evaluate(GBT, company(valuations=(val(amount, "CNY", dt.date(2022, 12, 31)),)), AS_OF)
    assert result.tier == "unicorn"
    (fx,) = crit(result, "unicorn", "min_valuation").fx
    assert fx.year == 2022


def test_usd_valuation_against_rmb_threshold() -> None:
    # US$1 billion in 2023 at 7.083998 = ¥7,083,998,000 ≥ ¥70亿 (Shenzhen unicorn).
    result = evaluate(
        SHENZHEN, company(valuations=(val(cents("1000000000"), "USD", dt.date(2023, 5, 1)),)), AS_OF
    )
    assert result.tier == "unicorn"
    unicorn = crit(result, "unicorn", "min_valuation")
    assert unicorn.value["cents"] == exact_cents(cents("1000000000"), "USD", "CNY", 2023) == 708_399_800_000
    (fx,) = unicorn.fx
    assert (fx.from_currency, fx.to_currency, fx.year) == ("USD", "CNY", 2023)
    assert fx.rate == pytest.approx(7.083998)


def test_valuation_after_the_fx_table_uses_the_latest_year() -> None:
    last = max(default_table().years("CNY"))
    on = dt.date(last + 1, 3, 1)
    result = evaluate(GBT, company(valuations=(val(80 * YI, "CNY", on),)), dt.date(last + 1, 6, 30))
    (fx,) = crit(result, "unicorn", "min_valuation").fx
    assert fx.year == last
    assert crit(result, "unicorn", "min_valuation").value["cents"] == exact_cents(80 * YI, "CNY", "USD", last)


def test_valuation_before_2000_has_no_fx_rate() -> None:
    facts = company(
        founded_on=dt.date(1998, 1, 1),
        rounds=(rnd("r1", dt.date(1999, 1, 1), amount=YI),),
        valuations=(val(200 * YI, "CNY", dt.date(1999, 12, 31)),),
    )
    result = evaluate(GBT, facts, dt.date(2005, 6, 30))
    assert result.tier == "none"
    unicorn = crit(result, "unicorn", "min_valuation")
    assert (unicorn.passed, unicorn.reason, unicorn.fx) == (False, "no_fx_rate", ())
    assert unicorn.value == {"cents": 200 * YI, "currency": "CNY"}
    assert "no_fx_rate" in result.exclusions
    assert "valuation_insufficient" not in result.exclusions
    # The first year of the table converts.
    later = company(
        founded_on=dt.date(1998, 1, 1),
        rounds=(rnd("r1", dt.date(1999, 1, 1), amount=YI),),
        valuations=(val(200 * YI, "CNY", dt.date(2000, 1, 1)),),
    )
    assert evaluate(GBT, later, dt.date(2005, 6, 30)).tier == "unicorn"


# ---- cumulative financing (Shenzhen) ---------------------------------------------------------------------


def _shenzhen(founded_on: dt.date, valuation: int, *rounds: RoundFact) -> TierResult:
    return evaluate(
        SHENZHEN, company(founded_on=founded_on, rounds=rounds, valuations=(val(valuation, "CNY"),)), AS_OF
    )


@pytest.mark.parametrize(
    ("founded_on", "valuation", "floor", "tier", "below"),
    [
        (dt.date(2022, 1, 1), 80 * YI, cents("350000000"), "unicorn", "potential_unicorn"),
        (dt.date(2022, 1, 1), 800 * YI, cents("350000000"), "super_unicorn", "potential_unicorn"),
        (dt.date(2022, 1, 1), 10 * YI, cents("35000000"), "potential_unicorn", "seed"),
        (dt.date(2018, 1, 1), 40 * YI, cents("175000000"), "potential_unicorn", "none"),
        (dt.date(2022, 1, 1), 5 * YI, cents("10000000"), "seed", "none"),
    ],
)
def test_shenzhen_cumulative_financing_floors(
    founded_on: dt.date, valuation: int, floor: int, tier: str, below: str
) -> None:
    at = _shenzhen(founded_on, valuation, rnd("r1", dt.date(2023, 1, 1), amount=floor))
    assert at.tier == tier
    under = _shenzhen(founded_on, valuation, rnd("r1", dt.date(2023, 1, 1), amount=floor - 1))
    assert under.tier == below
    failing = [
        r
        for c in under.checks
        if c.tier == tier
        for alt in c.alternatives
        for r in alt
        if r.criterion == "min_cumulative_financing" and r.threshold["cents"] == floor
    ]
    assert failing
    assert all(not r.passed and r.reason == "financing_insufficient" for r in failing)
    assert all(r.value == {"cents": floor - 1, "currency": "CNY"} for r in failing)
    if below == "none":
        assert "financing_insufficient" in under.exclusions


def test_vague_round_counts_at_its_lower_bound() -> None:
    # A vague round ("3亿多", low bound ¥3亿) plus an exact ¥5000万 round make exactly the ¥3.5亿 floor.
    result = _shenzhen(
        dt.date(2022, 1, 1),
        80 * YI,
        rnd("r1", dt.date(2023, 1, 1), amount=None, low=3 * YI),
        rnd("r2", dt.date(2024, 1, 1), amount=5000 * WAN),
    )
    assert result.tier == "unicorn"
    financing = crit(result, "unicorn", "min_cumulative_financing")
    assert financing.value == {"cents": 3 * YI + 5000 * WAN, "currency": "CNY"}
    assert financing.passed
    assert "vague:1" in financing.note
    assert {e.record_id for e in financing.evidence} == {"r1", "r2"}


def test_vague_round_lower_bound_one_cent_short() -> None:
    result = _shenzhen(
        dt.date(2022, 1, 1),
        80 * YI,
        rnd("r1", dt.date(2023, 1, 1), amount=None, low=3 * YI - 1),
        rnd("r2", dt.date(2024, 1, 1), amount=5000 * WAN),
    )
    assert result.tier == "potential_unicorn"
    assert crit(result, "unicorn", "min_cumulative_financing").reason == "financing_insufficient"


def test_undisclosed_round_counts_as_zero() -> None:
    result = _shenzhen(
        dt.date(2022, 1, 1),
        80 * YI,
        rnd("r1", dt.date(2023, 1, 1), amount=cents("349999999.99")),
        rnd("r2", dt.date(2024, 1, 1), amount=None, currency=None),
    )
    assert result.tier == "potential_unicorn"
    financing = crit(result, "unicorn", "min_cumulative_financing")
    assert financing.value == {"cents": cents("349999999.99"), "currency": "CNY"}
    assert financing.reason == "financing_insufficient"
    assert "undisclosed:1" in financing.note
    # The undisclosed round is still private financing.
    assert crit(result, "unicorn", "has_private_financing").value == 2


def test_only_private_rounds_count_towards_financing() -> None:
    result = _shenzhen(
        dt.date(2022, 1, 1),
        80 * YI,
        rnd("r1", dt.date(2023, 1, 1), amount=3 * YI),
        rnd("r2", dt.date(2023, 6, 1), "debt", amount=YI),
        rnd("r3", dt.date(2024, 1, 1), "grant", amount=YI),
    )
    assert result.tier == "potential_unicorn"
    assert crit(result, "unicorn", "min_cumulative_financing").value["cents"] == 3 * YI


def test_usd_round_converts_at_its_own_year() -> None:
    # US$50 million in 2023 = ¥354,199,900 ≥ ¥3.5亿; the same in 2021 (6.448975) would not be enough.
    amount = cents("50000000")
    assert exact_cents(amount, "USD", "CNY", 2021) < cents("350000000")
    result = _shenzhen(
        dt.date(2022, 1, 1), 80 * YI, rnd("r1", dt.date(2023, 3, 1), amount=amount, currency="USD")
    )
    assert result.tier == "unicorn"
    financing = crit(result, "unicorn", "min_cumulative_financing")
    assert financing.value["cents"] == exact_cents(amount, "USD", "CNY", 2023)
    (fx,) = financing.fx
    assert (fx.from_currency, fx.year) == ("USD", 2023)


def test_rounds_after_the_as_of_date_do_not_count() -> None:
    result = _shenzhen(
        dt.date(2022, 1, 1),
        80 * YI,
        rnd("r1", dt.date(2023, 1, 1), amount=3 * YI),
        rnd("r2", AS_OF + DAY, amount=YI),
    )
    assert result.tier == "potential_unicorn"
    assert crit(result, "unicorn", "min_cumulative_financing").value["cents"] == 3 * YI


# ---- listing, financing, exits ---------------------------------------------------------------------------

LISTED = {
    "ipo_event": {"events": (EventFact("e-ipo", "ipo", dt.date(2025, 3, 1)),)},
    "ipo_status": {"statuses": (StatusFact("ipo", dt.date(2025, 3, 1)),)},
    "ipo_round": {
        "rounds": (rnd("r1", dt.date(2022, 6, 1)), rnd("r-ipo", dt.date(2025, 3, 1), "ipo", amount=10 * YI))
    },
}


@pytest.mark.parametrize("how", sorted(LISTED))
def test_listed_company_is_not_a_unicorn(how: str) -> None:
    facts = company(valuations=(val(cents("2e9")),), **LISTED[how])
    result = evaluate(GBT, facts, AS_OF)
    assert result.tier == "none"
    assert result.exclusions[0] == "listed"
    listed = crit(result, "unicorn", "not_listed")
    assert (listed.passed, listed.value, listed.reason) == (False, "listed", "listed")
    assert listed.evidence and listed.evidence[0].date == "2025-03-01"
    # Before the listing it was a unicorn.
    assert evaluate(GBT, facts, dt.date(2025, 2, 28)).tier == "unicorn"


def test_only_grants_and_debt_are_no_private_financing() -> None:
    facts = company(
        rounds=(rnd("r1", dt.date(2022, 6, 1), "grant"), rnd("r2", dt.date(2023, 6, 1), "debt")),
        valuations=(val(cents("2e9")),),
    )
    result = evaluate(GBT, facts, AS_OF)
    assert result.tier == "none"
    private = crit(result, "unicorn", "has_private_financing")
    assert (private.passed, private.value, private.reason) == (False, 0, "no_private_financing")
    assert result.exclusions[0] == "no_private_financing"
    assert crit(result, "unicorn", "min_valuation").passed


@pytest.mark.parametrize(
    "exit_facts",
    [
        {"events": (EventFact("e-acq", "acquisition", dt.date(2025, 1, 10)),)},
        {"statuses": (StatusFact("acquired", dt.date(2025, 1, 10)),)},
    ],
    ids=["acquisition_event", "acquired_status"],
)
def test_acquired_company(exit_facts: dict[str, object]) -> None:
    facts = company(valuations=(val(cents("2e9")),), **exit_facts)
    result = evaluate(GBT, facts, AS_OF)
    assert result.tier == "none"
    assert result.exclusions[0] == "acquired"
    operating = crit(result, "unicorn", "operating")
    assert (operating.passed, operating.value, operating.reason) == (False, "acquired", "acquired")
    assert evaluate(GBT, facts, dt.date(2025, 1, 9)).tier == "unicorn"


# ---- which valuation counts ------------------------------------------------------------------------------


def test_later_down_round_wins() -> None:
    facts = company(
        valuations=(
            val(cents("2e9"), on=dt.date(2023, 6, 30), record_id="high"),
            val(cents("6e8"), on=dt.date(2024, 6, 30), record_id="down"),
        )
    )
    result = evaluate(GBT, facts, AS_OF)
    assert result.tier == "potential_unicorn"
    unicorn = crit(result, "unicorn", "min_valuation")
    assert unicorn.value["cents"] == cents("6e8")
    assert unicorn.evidence[0].record_id == "down"
    assert evaluate(GBT, facts, dt.date(2024, 6, 29)).tier == "unicorn"


def test_valuation_after_the_as_of_date_is_ignored() -> None:
    facts = company(
        valuations=(
            val(cents("6e8"), on=dt.date(2024, 6, 30), record_id="old"),
            val(cents("2e9"), on=AS_OF + DAY, record_id="future"),
        )
    )
    result = evaluate(GBT, facts, AS_OF)
    assert result.tier == "potential_unicorn"
    assert crit(result, "unicorn", "min_valuation").evidence[0].record_id == "old"
    assert evaluate(GBT, facts, AS_OF + DAY).tier == "unicorn"
    # Only a valuation after the date: none at all.
    only_future = evaluate(GBT, company(valuations=(val(cents("2e9"), on=AS_OF + DAY),)), AS_OF)
    assert only_future.tier == "none"
    assert "no_valuation" in only_future.exclusions


@pytest.mark.parametrize(
    ("better", "worse"),
    [("disclosed", "estimated"), ("third-party-list", "self-declared"), ("disclosed", "third-party-list")],
)
def test_same_date_the_better_evidence_wins(better: str, worse: str) -> None:
    day = dt.date(2024, 6, 30)
    low_good = company(
        valuations=(
            val(cents("2e9"), on=day, evidence=worse, record_id="a-worse"),
            val(cents("6e8"), on=day, evidence=better, record_id="b-better"),
        )
    )
    result = evaluate(GBT, low_good, AS_OF)
    assert result.tier == "potential_unicorn"
    assert crit(result, "unicorn", "min_valuation").evidence[0].record_id == "b-better"
    high_good = company(
        valuations=(
            val(cents("6e8"), on=day, evidence=worse, record_id="a-worse"),
            val(cents("2e9"), on=day, evidence=better, record_id="b-better"),
        )
    )
    assert evaluate(GBT, high_good, AS_OF).tier == "unicorn"


def test_round_post_money_is_a_disclosed_valuation() -> None:
    post = rnd(
        "r2", dt.date(2024, 9, 1), "series-b", post_money=cents("1200000000"), post_money_currency="USD"
    )
    facts = company(rounds=(rnd("r1", dt.date(2022, 6, 1)), post))
    result = evaluate(GBT, facts, AS_OF)
    assert result.tier == "unicorn"
    unicorn = crit(result, "unicorn", "min_valuation")
    assert unicorn.value["cents"] == cents("1200000000")
    assert unicorn.evidence[0].record_id == "round:r2"
    assert unicorn.evidence[0].detail.startswith("disclosed")
    # It is newer than an older, lower valuation record, so it wins; an estimate of the same day loses to it.
    facts = company(
        rounds=(rnd("r1", dt.date(2022, 6, 1)), post),
        valuations=(
            val(cents("3e8"), on=dt.date(2024, 1, 1)),
            val(cents("3e8"), on=dt.date(2024, 9, 1), evidence="estimated", record_id="est"),
        ),
    )
    assert evaluate(GBT, facts, AS_OF).tier == "unicorn"


# ---- region ----------------------------------------------------------------------------------------------


def test_outside_zhejiang_passes_the_national_standard_only() -> None:
    facts = company(region_code="110105", valuations=(val(cents("2e9")),))
    zhejiang = evaluate(ZHEJIANG, facts, AS_OF)
    assert zhejiang.tier == "none"
    assert "not_in_province" in zhejiang.exclusions
    province = crit(zhejiang, "unicorn", "registered_in_province")
    assert (province.passed, province.value, province.threshold) == (False, "110105", "330000")
    national = evaluate(GBT, facts, AS_OF)
    assert national.tier == "unicorn"
    assert national.exclusions == ()


def test_a_mainland_enterprise_without_a_region_code_is_region_unknown_not_elsewhere() -> None:
    valuations = (val(cents("2e9")),)
    unknown = evaluate(ZHEJIANG, company(region_code=None, valuations=valuations), AS_OF)
    province = crit(unknown, "unicorn", "registered_in_province")
    assert (province.passed, province.reason) == (False, "region_unknown")
    assert "region_unknown" in unknown.exclusions and "not_in_province" not in unknown.exclusions
    abroad = evaluate(ZHEJIANG, company(region_code=None, country="US", valuations=valuations), AS_OF)
    assert crit(abroad, "unicorn", "registered_in_province").reason == "not_in_province"
    assert "not_in_province" in abroad.exclusions and "region_unknown" not in abroad.exclusions


def test_relocation_into_zhejiang_after_the_as_of_date() -> None:
    moved_in = dt.date(2025, 9, 1)
    facts = company(
        region_code="330106",
        valuations=(val(cents("2e9")),),
        events=(EventFact("e-move", "relocation", moved_in, "110105", "330106"),),
    )
    before = evaluate(ZHEJIANG, facts, AS_OF)
    assert before.tier == "none"
    assert before.region_code == "110105"
    assert "not_in_province" in before.exclusions
    after = evaluate(ZHEJIANG, facts, moved_in)
    assert after.tier == "unicorn"
    assert after.region_code == "330106"


def test_relocation_out_of_zhejiang_after_the_as_of_date() -> None:
    facts = company(
        region_code="440305",
        valuations=(val(cents("2e9")),),
        events=(EventFact("e-move", "relocation", dt.date(2025, 9, 1), "330106", "440305"),),
    )
    assert evaluate(ZHEJIANG, facts, AS_OF).tier == "unicorn"
    later = evaluate(ZHEJIANG, facts, dt.date(2025, 9, 1))
    assert later.tier == "none"
    assert "not_in_province" in later.exclusions


def test_zhejiang_cultivation_tiers_need_a_track() -> None:
    facts = company(tracks=("integrated_circuits",), valuations=(val(cents("2e8")),))
    result = evaluate(ZHEJIANG, facts, AS_OF)
    assert result.tier == "none"
    assert crit(result, "potential_unicorn", "in_tracks").reason == "not_in_track"
    assert evaluate(ZHEJIANG, company(valuations=(val(cents("2e8")),)), AS_OF).tier == "potential_unicorn"
    # A unicorn needs no track.
    assert evaluate(ZHEJIANG, company(tracks=(), valuations=(val(cents("2e9")),)), AS_OF).tier == "unicorn"


# ---- standards -------------------------------------------------------------------------------------------


def test_shipped_standards_load() -> None:
    shipped = standards.packaged_standards()
    assert {s.id for s in shipped} == {"gbt-41464-2022", "shenzhen-2023", "hangzhou-quasi", "zhejiang-2024"}
    tiers = {s.id: [t.tier for t in s.tiers] for s in shipped}
    assert tiers == {
        "gbt-41464-2022": ["super_unicorn", "unicorn", "potential_unicorn"],
        "shenzhen-2023": ["super_unicorn", "unicorn", "potential_unicorn", "seed"],
        "hangzhou-quasi": ["quasi_unicorn"],
        "zhejiang-2024": ["super_unicorn", "unicorn", "potential_unicorn", "quasi_unicorn", "seed"],
    }
    assert standards.DEFAULT_STANDARD == "zhejiang-2024"
    assert (ZHEJIANG.effective_from, ZHEJIANG.effective_to) == (dt.date(2024, 1, 1), dt.date(2027, 12, 31))
    unicorn = GBT.tiers[1].alternatives[0]
    assert standards.Criterion("min_valuation", Threshold(cents("1000000000"), "USD")) in unicorn
    assert standards.Criterion("max_age_years", 10) in unicorn
    assert len(SHENZHEN.tiers[2].alternatives) == 2


GOOD = """\
id: test-std
version: 1
name_zh: 测试
name_en: test
effective_from: 2022-01-01
tiers:
  - tier: unicorn
    criteria:
      - max_age_years: 10
      - min_valuation: {amount: 1000000000, currency: USD}
"""


def test_a_well_formed_standard_loads() -> None:
    s = standards.load_standard(GOOD, path="test.yaml")
    assert (s.id, s.version, s.effective_from, s.effective_to, s.path) == (
        "test-std",
        1,
        dt.date(2022, 1, 1),
        None,
        "test.yaml",
    )
    assert s.tiers[0].alternatives == (
        (
            standards.Criterion("max_age_years", 10),
            standards.Criterion("min_valuation", Threshold(cents("1e9"), "USD")),
        ),
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # malformed YAML: a key indented under a scalar
        (GOOD.replace("name_zh: 测试", "  name_zh: 测试"), 3, "YAML"),
        # a tab cannot start a token
        (GOOD.replace("name_en: test", "\tname_en: test"), 4, "YAML"),
        (
            GOOD.replace("      - max_age_years: 10", "      - min_revenue: 5"),
            9,
            "unknown criterion 'min_revenue'",
        ),
        (GOOD.replace("  - tier: unicorn", "  - tier: dragon"), 7, "unknown tier 'dragon'"),
        (GOOD.replace("max_age_years: 10", "max_age_years: ten"), 9, "max_age_years"),
        (GOOD.replace("currency: USD", "currency: XXX"), 10, "unknown currency"),
        (
            GOOD.replace("effective_from: 2022-01-01", "effective_from: 2022-01-01 10:00:00"),
            5,
            "effective_from",
        ),
        (
            GOOD + "  - tier: super_unicorn\n    criteria:\n      - bogus: 1\n",
            13,
            "unknown criterion 'bogus'",
        ),
    ],
    ids=["indent", "tab", "criterion", "tier", "years", "currency", "date", "late_criterion"],
)
def test_bad_standards_are_refused_with_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(StandardError) as refused:
        standards.load_standard(text, path="zhejiang-2025.yaml")
    message = str(refused.value)
    assert message.startswith(f"zhejiang-2025.yaml:{line}:"), message
    assert words in message


def _version(version: int, start: str, end: str | None = None, path: str = "v.yaml") -> standards.Standard:
    text = GOOD.replace("version: 1", f"version: {version}").replace(
        "effective_from: 2022-01-01", f"effective_from: {start}" + (f"\neffective_to: {end}" if end else "")
    )
    return standards.load_standard(text, path=path)


def test_consecutive_versions_are_accepted_and_resolved() -> None:
    v1 = _version(1, "2020-01-01", "2022-12-31", "test-v1.yaml")
    v2 = _version(2, "2023-01-01", None, "test-v2.yaml")
    standards.check_versions([v2, v1])
    both = (v1, v2)
    assert standards.resolve("test-std", dt.date(2021, 6, 30), both) == (v1, False)
    assert standards.resolve("test-std", dt.date(2022, 12, 31), both) == (v1, False)
    assert standards.resolve("test-std", dt.date(2023, 1, 1), both) == (v2, False)
    assert standards.resolve("test-std", dt.date(2030, 1, 1), both) == (v2, False)
    # Before the first version: the first is applied, and flagged as retroactive.
    assert standards.resolve("test-std", dt.date(2019, 12, 31), both) == (v1, True)


def test_repeated_version_is_refused() -> None:
    with pytest.raises(StandardError, match=r"test-v1b\.yaml.*version 1"):
        standards.check_versions(
            [
                _version(1, "2020-01-01", "2020-12-31", "test-v1.yaml"),
                _version(1, "2022-01-01", None, "test-v1b.yaml"),
            ]
        )


def test_resolve_the_shipped_standards() -> None:
    assert standards.resolve("zhejiang-2024", dt.date(2025, 6, 30)) == (ZHEJIANG, False)
    assert standards.resolve("zhejiang-2024", dt.date(2023, 6, 30)) == (ZHEJIANG, True)
    assert standards.resolve("shenzhen-2023", dt.date(2023, 1, 1)) == (SHENZHEN, False)
    with pytest.raises(UnknownStandardError) as unknown:
        standards.resolve("beijing-2030", AS_OF)
    message = str(unknown.value)
    assert "未知的标准" in message and "unknown standard" in message and "zhejiang-2024" in message


def test_retroactive_result_is_flagged_in_the_read_out() -> None:
    standard, retroactive = standards.resolve("zhejiang-2024", dt.date(2023, 6, 30))
    result = evaluate(
        standard,
        company(valuations=(val(cents("2e9"), on=dt.date(2023, 1, 1)),)),
        dt.date(2023, 6, 30),
        retroactive=retroactive,
    )
    assert result.retroactive
    assert "追溯" in render(result, standard)
    assert "precedes" in render(result, standard, lang="en")


# ---- the read-out ----------------------------------------------------------------------------------------


def test_render_a_tier_in_chinese_and_english() -> None:
    facts = company(valuations=(val(80 * YI, "CNY", dt.date(2023, 6, 30)),))
    result = evaluate(ZHEJIANG, facts, AS_OF)
    assert result.tier == "unicorn"
    zh = render(result, ZHEJIANG, name=facts.name)
    assert "评定为：独角兽" in zh
    assert "杭州测试科技有限公司（zj-test）" in zh
    assert "2023 年平均汇率" in zh
    assert "zhejiang-2024@v1" in zh
    en = render(result, ZHEJIANG, name=facts.name, lang="en")
    assert en.splitlines()[0].endswith(": unicorn")
    assert "2023 yearly average" in en


def test_render_every_failing_reason_in_chinese_and_english() -> None:
    facts = company(
        region_code="110105",
        tracks=(),
        valuations=(val(5 * YI, "CNY", dt.date(2023, 6, 30)),),
        events=(EventFact("e-ipo", "ipo", dt.date(2025, 3, 1)),),
    )
    result = evaluate(ZHEJIANG, facts, AS_OF)
    assert result.tier == "none"
    assert {"listed", "not_in_province", "not_in_track", "valuation_insufficient"} <= set(result.exclusions)
    zh = render(result, ZHEJIANG, name=facts.name)
    assert "评定为：未入库" in zh
    head = zh.splitlines()[1]
    assert head.startswith("未入库原因：")
    for word in ("已上市", "非本省注册", "非重点赛道", "估值不足"):
        assert word in head
    assert "2023 年平均汇率" in zh
    en = render(result, ZHEJIANG, name=facts.name, lang="en")
    head = en.splitlines()[1]
    assert head.startswith("excluded because: ")
    for words in (
        "listed",
        "not registered in the province",
        "not in a plan track",
        "valuation below the threshold",
    ):
        assert words in head
    assert "2023 yearly average" in en
    assert "[synthetic]" in render(result, ZHEJIANG, synthetic=True, lang="en")
    assert "【模拟数据】" in render(result, ZHEJIANG, synthetic=True)


def test_render_financing_notes() -> None:
    result = _shenzhen(
        dt.date(2022, 1, 1),
        80 * YI,
        rnd("r1", dt.date(2023, 1, 1), amount=None, low=3 * YI),
        rnd("r2", dt.date(2024, 1, 1), amount=None, currency=None),
    )
    zh = render(result, SHENZHEN)
    assert "模糊金额按下限计 1 笔" in zh
    assert "未披露金额计为 0 1 笔" in zh
    assert "累计融资不足" in zh
    en = render(result, SHENZHEN, lang="en")
    assert "vague amounts at their lower bound: 1" in en
    assert "undisclosed amounts count as 0: 1" in en
