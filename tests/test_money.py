"""Money, the dated FX table (汇率表) and Chinese amount read-outs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from qilin.common.money import Conversion, Money, format_cn
from qilin.reference.fx import FxRate, FxTable, NoRateError, default_table, format_rate

D = Decimal


# --- the packaged table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "year", "per_usd"),
    [
        ("CNY", 2000, "8.278504"),
        ("CNY", 2008, "6.948655"),
        ("CNY", 2015, "6.227489"),
        ("CNY", 2023, "7.083998"),
        ("CNY", 2025, "7.189847"),
        ("EUR", 2015, "0.901296"),
        ("JPY", 2015, "121.044026"),
        ("GBP", 2016, "0.740634"),
        ("HKD", 2015, "7.751750"),
        ("CAD", 2015, "1.278786"),
    ],
)
def test_known_rates_from_the_packaged_table(currency: str, year: int, per_usd: str) -> None:
    quote = default_table().quote("USD", currency, dt.date(year, 7, 1))
    assert quote.rate == D(per_usd)
    assert quote.rate_year == year
    assert quote.source == "wdi"


def test_every_currency_covers_2000_to_2025() -> None:
    table = default_table()
    for currency in ("CNY", "EUR", "HKD", "JPY", "GBP", "CAD"):
        assert table.years(currency) == tuple(range(2000, 2026)), currency
    assert table.currencies() == {"USD", "CNY", "EUR", "HKD", "JPY", "GBP", "CAD"}


def test_default_table_is_cached() -> None:
    assert default_table() is default_table()


def test_rate_from_cny_is_the_inverse() -> None:
    quote = default_table().quote("CNY", "USD", dt.date(2015, 1, 1))
    assert quote.rate == D(1) / D("6.227489")
    assert quote.from_currency == "CNY"
    assert quote.to_currency == "USD"


def test_same_currency_is_rate_one_even_without_a_table_row() -> None:
    quote = default_table().quote("CNY", "CNY", dt.date(1990, 1, 1))
    assert quote.rate == 1
    assert quote.is_identity
    assert "无需换算" in quote.describe("zh")


# --- nearest earlier year, never a later one ---------------------------------------------------


def _small_table() -> FxTable:
    return FxTable(
        [
            FxRate("CNY", 2010, D("6.8"), "test"),
            FxRate("CNY", 2012, D("6.3"), "test"),
            FxRate("EUR", 2010, D("0.75"), "test"),
            FxRate("EUR", 2011, D("0.72"), "test"),
            FxRate("EUR", 2012, D("0.78"), "test"),
        ]
    )


def test_missing_year_uses_the_nearest_earlier_year() -> None:
    quote = _small_table().quote("USD", "CNY", dt.date(2011, 12, 31))
    assert quote.rate_year == 2010  # not 2012, although 2012 is just as near
    assert quote.rate == D("6.8")
    assert quote.is_fallback
    assert "2011 年尚无年平均汇率" in quote.describe("zh")
    assert "2010" in quote.describe("en")


def test_cross_rate_uses_a_year_both_currencies_have() -> None:
    quote = _small_table().quote("EUR", "CNY", dt.date(2011, 6, 1))
    assert quote.rate_year == 2010
    assert quote.rate == D("6.8") / D("0.75")


def test_dates_after_the_last_year_use_the_last_year() -> None:
    quote = default_table().quote("USD", "CNY", dt.date(2027, 3, 1))
    assert quote.rate_year == 2025
    assert quote.rate == D("7.189847")
    assert "2027" in quote.describe("zh")


def test_no_rate_before_the_first_year() -> None:
    with pytest.raises(NoRateError) as info:
        default_table().quote("USD", "CNY", dt.date(1999, 12, 31))
    message = str(info.value)
    assert "CNY" in message
    assert "1999-12-31" in message
    assert "汇率" in message  # the Chinese half of messages.both()
    assert isinstance(info.value, LookupError)


def test_no_rate_before_the_first_year_for_the_source_currency_too() -> None:
    with pytest.raises(NoRateError, match="EUR"):
        default_table().quote("EUR", "USD", dt.date(1999, 1, 1))


def test_currency_without_rows_has_no_rate() -> None:
    with pytest.raises(NoRateError, match="AUD"):
        default_table().quote("AUD", "CNY", dt.date(2015, 1, 1))


def test_first_day_of_the_first_year_has_a_rate() -> None:
    assert default_table().quote("USD", "CNY", dt.date(2000, 1, 1)).rate == D("8.278504")


# --- cross rates through USD -------------------------------------------------------------------


def test_cross_rate_goes_through_usd() -> None:
    quote = default_table().quote("EUR", "CNY", dt.date(2015, 6, 30))
    assert quote.rate == D("6.227489") / D("0.901296")
    assert quote.via_usd
    assert D("6.909") < quote.rate < D("6.910")
    assert "经美元套算" in quote.describe("zh")
    assert "via USD" in quote.describe("en")


def test_cross_rate_inverse_multiplies_to_one() -> None:
    on = dt.date(2020, 5, 1)
    there = default_table().quote("JPY", "HKD", on).rate
    back = default_table().quote("HKD", "JPY", on).rate
    assert abs(there * back - 1) < D("1e-20")


# --- describe ----------------------------------------------------------------------------------


def test_describe_names_year_rate_and_source() -> None:
    quote = default_table().quote("USD", "CNY", dt.date(2015, 6, 30))
    zh = quote.describe("zh")
    assert zh.startswith("按 2015 年平均汇率 1 美元 = 6.2275 元人民币（来源：")
    assert "PA.NUS.FCRF" in zh
    en = quote.describe("en")
    assert "2015" in en
    assert "1 USD = 6.2275 CNY" in en
    assert "World Bank" in en


def test_format_rate_keeps_four_significant_digits_below_one() -> None:
    assert format_rate(D("6.227489")) == "6.2275"
    assert format_rate(D("0.0646303")) == "0.06463"


# --- Money -------------------------------------------------------------------------------------


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")  # type: ignore[arg-type]


def test_money_accepts_int_and_str_as_exact_decimals() -> None:
    assert Money(100, "CNY").amount == D(100)  # type: ignore[arg-type]
    assert Money.of("0.1", "USD").amount == D("0.1")
    assert Money.of("1,200.50", "USD").amount == D("1200.50")
    assert isinstance(Money.of(7, "USD").amount, Decimal)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_money_refuses_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError):
        Money.of(bad, "CNY")


@pytest.mark.parametrize("code", ["XXX", "RMB", "人民币", "", "US"])
def test_money_refuses_unknown_currencies(code: str) -> None:
    with pytest.raises(ValueError):
        Money.of(1, code)


def test_money_normalises_currency_case() -> None:
    assert Money.of(1, "usd").currency == "USD"


def test_money_is_frozen() -> None:
    money = Money.of(1, "CNY")
    with pytest.raises(AttributeError):
        money.amount = D(2)  # type: ignore[misc]


def test_add_same_currency_only() -> None:
    assert Money.of("1.10", "CNY") + Money.of("2.20", "CNY") == Money.of("3.30", "CNY")
    with pytest.raises(ValueError):
        Money.of(1, "CNY") + Money.of(1, "USD")
    with pytest.raises(TypeError):
        Money.of(1, "CNY") + 1


def test_comparisons_same_currency_only() -> None:
    assert Money.of(1, "CNY") < Money.of(2, "CNY")
    assert Money.of(2, "CNY") >= Money.of(2, "CNY")
    assert Money.of(1, "CNY") - Money.of(3, "CNY") == Money.of(-2, "CNY")
    with pytest.raises(ValueError):
        _ = Money.of(1, "CNY") < Money.of(2, "USD")


# --- conversions -------------------------------------------------------------------------------


def test_convert_usd_to_cny() -> None:
    conversion = Money.of(1_000_000, "USD").convert("CNY", on=dt.date(2015, 6, 30))
    assert isinstance(conversion, Conversion)
    assert conversion.result == Money.of("6227489.00", "CNY")
    assert conversion.original == Money.of(1_000_000, "USD")
    assert conversion.quote.rate_year == 2015


def test_convert_rounds_half_even_to_cents() -> None:
    table = FxTable([FxRate("CNY", 2020, D("1.005"), "test")])
    # 1 USD -> 1.005 CNY exactly; half-even rounds to 1.00 (half-up would give 1.01)
    assert Money.of(1, "USD").convert("CNY", on=dt.date(2020, 1, 1), table=table).result.amount == D("1.00")
    assert Money.of(3, "USD").convert("CNY", on=dt.date(2020, 1, 1), table=table).result.amount == D("3.02")


def test_round_trip_cny_usd_cny_within_cents() -> None:
    on = dt.date(2021, 9, 1)
    original = Money.of("123456789.12", "CNY")
    usd = original.convert("USD", on=on).result
    back = usd.convert("CNY", on=on).result
    assert usd.currency == "USD"
    assert usd.amount != original.amount
    # one rounding to a US cent is worth at most half a cent times the rate (~3.2 fen), plus half a fen
    assert abs(back.amount - original.amount) <= D("0.04")


def test_convert_before_2000_raises() -> None:
    with pytest.raises(NoRateError):
        Money.of(1, "USD").convert("CNY", on=dt.date(1998, 1, 1))


def test_convert_to_unknown_currency_raises_value_error() -> None:
    with pytest.raises(ValueError):
        Money.of(1, "USD").convert("XYZ", on=dt.date(2015, 1, 1))


def test_conversion_describe_says_rate_year_and_date() -> None:
    conversion = Money.of(100_000_000, "USD").convert("CNY", on=dt.date(2026, 2, 1))
    zh = conversion.describe("zh")
    assert "100,000,000.00 美元" in zh
    assert "2026-02-01" in zh
    assert "按 2025 年平均汇率 1 美元 = 7.1898 元人民币" in zh
    assert "718,984,700.00 元人民币" in zh
    en = conversion.describe("en")
    assert "USD 100,000,000.00 on 2026-02-01 = CNY 718,984,700.00" in en
    assert "2025 yearly average" in en


# --- format_cn ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("144000000", "CNY", "1.44亿元"),
        ("20000000", "CNY", "2,000万元"),
        ("5000", "CNY", "5,000元"),
        ("270000000", "USD", "2.7亿美元"),
        ("5000000", "USD", "500万美元"),
        ("5000000", "EUR", "500万欧元"),
        ("300000000", "HKD", "3亿港元"),
        ("123456789", "JPY", "1.23亿日元"),
        ("12345", "GBP", "1.23万英镑"),
        ("80000", "CAD", "8万加元"),
        ("5000000", "SEK", "500万 SEK"),
        ("100000000", "CNY", "1亿元"),
        ("10000", "CNY", "1万元"),
        ("9999.5", "CNY", "9,999.5元"),
        ("99999999.999", "CNY", "1亿元"),  # rounding carries into the next scale
        ("1234567890123", "CNY", "12,345.68亿元"),
        ("-25000000", "CNY", "-2,500万元"),
        ("0", "CNY", "0元"),
        ("0.5", "USD", "0.5美元"),
    ],
)
def test_format_cn(amount: str, currency: str, expected: str) -> None:
    assert format_cn(Money.of(amount, currency)) == expected


def test_format_cn_rounds_half_up() -> None:
    assert format_cn(Money.of("144500000", "CNY")) == "1.45亿元"
