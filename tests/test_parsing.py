"""Round labels (融资轮次) and amounts (融资金额) as Chinese databases write them."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qilin.common.currency import KNOWN
from qilin.common.messages import CATALOG
from qilin.registry import parsing
from qilin.registry.package import ROUND_TYPES
from qilin.registry.parsing import ParsedAmount, ParseError, RoundTypeResult, parse_amount, parse_round_type

E4, E5, E6, E7, E8, E9, E10 = (Decimal(10) ** n for n in range(4, 11))

# --------------------------------------------------------------------------------------------- round types


@pytest.mark.parametrize("code", ROUND_TYPES)
def test_canonical_codes_map_to_themselves_without_label(code: str) -> None:
    assert parse_round_type(code) == RoundTypeResult(code, None)
    assert parse_round_type(code.upper()) == RoundTypeResult(code, None)
    assert parse_round_type(f"  {code.title()} ") == RoundTypeResult(code, None)


@pytest.mark.parametrize(
    ("text", "round_type"),
    [
        # English
        ("Seed", "seed"),
        ("Angel", "angel"),
        ("Series A", "series-a"),
        ("series_a", "series-a"),
        ("SERIES-A", "series-a"),
        ("Series B", "series-b"),
        ("Series C", "series-c+"),
        ("Series D", "series-c+"),
        ("Series E", "series-c+"),
        ("Series C+", "series-c+"),
        ("Pre-IPO", "series-c+"),
        ("Post-IPO", "post-ipo"),
        ("Private Equity", "private-equity"),
        ("PE", "private-equity"),
        ("IPO", "ipo"),
        # 种子 / 天使
        ("种子轮", "seed"),
        ("种子+轮", "seed"),
        ("种子", "seed"),
        ("天使轮", "angel"),
        ("天使+轮", "angel"),
        ("Pre-天使", "angel"),
        ("Pre-天使轮", "angel"),
        ("天使", "angel"),
        # A
        ("Pre-A轮", "series-a"),
        ("Pre-A+轮", "series-a"),
        ("A轮", "series-a"),
        ("A+轮", "series-a"),
        ("A++轮", "series-a"),
        ("A1轮", "series-a"),
        ("A2轮", "series-a"),
        ("A轮融资", "series-a"),
        ("A", "series-a"),
        # B
        ("Pre-B轮", "series-b"),
        ("B轮", "series-b"),
        ("B+轮", "series-b"),
        ("B2轮", "series-b"),
        # C and later
        ("Pre-C", "series-c+"),
        ("Pre-C轮", "series-c+"),
        ("C轮", "series-c+"),
        ("C+轮", "series-c+"),
        ("D轮", "series-c+"),
        ("D+轮", "series-c+"),
        ("E轮", "series-c+"),
        ("E+轮", "series-c+"),
        ("F轮", "series-c+"),
        ("F轮-上市前", "series-c+"),
        ("F轮(上市前)", "series-c+"),
        ("G轮", "series-c+"),
        ("Pre-IPO轮", "series-c+"),
        # the rest
        ("战略投资", "strategic"),
        ("战略融资", "strategic"),
        ("新三板定增", "private-equity"),
        ("定向增发", "private-equity"),
        ("私募股权", "private-equity"),
        ("股权融资", "private-equity"),
        ("IPO上市", "ipo"),
        ("首次公开发行", "ipo"),
        ("IPO上市后", "post-ipo"),
        ("上市后", "post-ipo"),
        ("定增", "post-ipo"),
        ("债权融资", "debt"),
        ("债务融资", "debt"),
        ("贷款", "debt"),
        ("政府资助", "grant"),
        ("补助", "grant"),
        ("grant", "grant"),
        ("众筹", "crowdfunding"),
        ("股权众筹", "crowdfunding"),
        ("并购", "other"),
        ("被收购", "other"),
        ("股权转让", "other"),
        ("其他", "other"),
        ("未知", "venture"),
        ("未披露", "venture"),
        ("融资", "venture"),
    ],
)
def test_labels_map_to_round_types_and_keep_the_label(text: str, round_type: str) -> None:
    result = parse_round_type(text)
    assert result.round_type == round_type
    assert result.label == (None if text.lower() == round_type else text)


@pytest.mark.parametrize(
    ("text", "round_type", "label"),
    [
        ("Ａ轮", "series-a", "Ａ轮"),
        ("Ａ＋轮", "series-a", "Ａ＋轮"),
        ("Ａ＋＋ 轮", "series-a", "Ａ＋＋ 轮"),
        ("ＰＲＥ－Ａ", "series-a", "ＰＲＥ－Ａ"),
        ("Ｐｒｅ－ＩＰＯ", "series-c+", "Ｐｒｅ－ＩＰＯ"),
        ("Ｂ　轮", "series-b", "Ｂ　轮"),  # ideographic space
        ("pre a", "series-a", "pre a"),
        ("b+", "series-b", "b+"),  # 轮 missing
        ("E+", "series-c+", "E+"),
        ("  C轮\t", "series-c+", "C轮"),  # surrounding space is not part of the label
        ("ＳＥＥＤ", "seed", "ＳＥＥＤ"),  # full-width code: a spelling, so the label is kept
    ],
)
def test_round_labels_tolerate_full_width_spaces_and_missing_suffix(
    text: str, round_type: str, label: str
) -> None:
    assert parse_round_type(text) == RoundTypeResult(round_type, label)


def test_every_table_label_maps_to_its_own_type() -> None:
    # a label listed under two types would silently take the last one
    for round_type, labels in parsing._ROUND_LABELS.items():
        assert round_type in ROUND_TYPES
        for label in labels:
            assert parse_round_type(label).round_type == round_type, label


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_empty_round_label_raises_field_required(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_round_type(text)
    assert info.value.key == "field.required"


@pytest.mark.parametrize(
    "text", ["Z轮", "X轮", "A-B轮", "A+B", "轮", "Pre", "Series", "foo", "天使投资人", "A+++++"]
)
def test_unknown_round_label_raises(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_round_type(text)
    assert info.value.key == "round.unknown_type"
    assert info.value.fields == {"text": text}
    assert isinstance(info.value, ValueError)


def test_round_lookups_are_cached() -> None:
    assert parse_round_type("Pre-A轮") is parse_round_type("Pre-A轮")


# ------------------------------------------------------------------------------------------ exact amounts


@pytest.mark.parametrize(
    ("text", "currency", "value", "code"),
    [
        ("7000000", "CNY", "7000000", "CNY"),
        ("7000000.0", "USD", "7000000", "USD"),
        ("1234.50", "USD", "1234.5", "USD"),
        ("0.01", "CNY", "0.01", "CNY"),
        ("007", "CNY", "7", "CNY"),
        ("0", "CNY", "0", "CNY"),
        (" 7000000 ", "usd", "7000000", "USD"),  # the argument may be any spelling of a currency
        ("7000000", "美元", "7000000", "USD"),
        ("7000000", "人民币", "7000000", "CNY"),
        ("1,000,000", "CNY", "1000000", "CNY"),
        ("1,234,567.89", "HKD", "1234567.89", "HKD"),
        ("１，０００，０００", "CNY", "1000000", "CNY"),
        ("7000000美元", None, "7000000", "USD"),
        ("USD 7,000,000", None, "7000000", "USD"),
        ("7000000元", None, "7000000", "CNY"),
        ("¥7000000", None, "7000000", "CNY"),
        ("9999999999999999.99", "KRW", "9999999999999999.99", "KRW"),
        # Chinese units, exactly
        ("1000万", None, "10000000", "CNY"),
        ("1.44亿", None, "144000000", "CNY"),
        ("2.7亿美元", None, "270000000", "USD"),
        ("500万元", None, "5000000", "CNY"),
        ("5000万人民币", None, "50000000", "CNY"),
        ("5000万元人民币", None, "50000000", "CNY"),
        ("人民币5000万元", None, "50000000", "CNY"),
        ("3亿港元", None, "300000000", "HKD"),
        ("1.2 亿元", None, "120000000", "CNY"),
        ("1千万", None, "10000000", "CNY"),
        ("3千万", None, "30000000", "CNY"),
        ("2百万", None, "2000000", "CNY"),
        ("5十万", None, "500000", "CNY"),
        ("1.5万亿", None, "1500000000000", "CNY"),
        ("12十亿", None, "12000000000", "CNY"),
        ("0.3亿", None, "30000000", "CNY"),
        ("1.23456万", None, "12345.6", "CNY"),
        ("1.234567亿", None, "123456700", "CNY"),
        ("1000万", "USD", "10000000", "USD"),  # Chinese unit, currency from the argument
        ("500万元", "USD", "5000000", "USD"),  # 元 names money, not RMB: the argument wins
        ("2.7亿美元", "USD", "270000000", "USD"),  # agreeing with the argument is fine
        ("１０００万", None, "10000000", "CNY"),  # full-width digits
        ("１．４４亿", None, "144000000", "CNY"),
        ("HK$ 3亿", None, "300000000", "HKD"),
        # English multipliers
        ("US$5M", None, "5000000", "USD"),
        ("5 million", "USD", "5000000", "USD"),
        ("1.2B", "USD", "1200000000", "USD"),
        ("$1.5bn", None, "1500000000", "USD"),
    ],
)
def test_exact_amounts(text: str, currency: str | None, value: str, code: str) -> None:
    p = parse_amount(text, currency)
    assert p == ParsedAmount(Decimal(value), None, None, False, code, text)
    assert p.value == Decimal(value)
    assert str(p.value) == value  # tidy: no exponent, no trailing zeros
    assert p.text == text
    assert p.disclosed


def test_chinese_unit_arithmetic_is_exact_not_float() -> None:
    # float(1.1) * 10**8 == 110000000.00000001
    assert parse_amount("1.1亿").value == Decimal("110000000")
    assert parse_amount("0.07亿").value == Decimal("7000000")
    assert parse_amount("2.3万").value == Decimal("23000")


# ----------------------------------------------------------------------------------------- vague amounts


@pytest.mark.parametrize(
    ("text", "currency", "low", "high", "code"),
    [
        ("数万", None, E4, E5, "CNY"),
        ("数十万", None, E5, E6, "CNY"),
        ("数百万", None, E6, E7, "CNY"),
        ("数千万", None, E7, E8, "CNY"),
        ("数亿", None, E8, E9, "CNY"),
        ("数十亿", None, E9, E10, "CNY"),
        ("几千万", None, E7, E8, "CNY"),
        ("数百万美元", None, E6, E7, "USD"),
        ("数千万元人民币", None, E7, E8, "CNY"),
        ("数千万", "USD", E7, E8, "USD"),
        ("千万级", None, E7, E8, "CNY"),
        ("亿级", None, E8, E9, "CNY"),
        ("5000万级", None, 5 * E7, 5 * E8, "CNY"),
        ("近亿", None, Decimal(80_000_000), E8, "CNY"),
        ("近亿元", None, Decimal(80_000_000), E8, "CNY"),
        ("将近1亿", None, Decimal(80_000_000), E8, "CNY"),
        ("近千万", None, Decimal(8_000_000), E7, "CNY"),
        ("近5000万美元", None, Decimal(40_000_000), Decimal(50_000_000), "USD"),
        ("超亿", None, E8, None, "CNY"),
        ("逾亿", None, E8, None, "CNY"),
        ("上亿", None, E8, None, "CNY"),
        ("过亿", None, E8, None, "CNY"),
        ("亿元以上", None, E8, None, "CNY"),
        ("1亿+", None, E8, None, "CNY"),
        ("1亿元以上", None, E8, None, "CNY"),
        ("超千万", None, E7, None, "CNY"),
        ("超过5000万", None, 5 * E7, None, "CNY"),
        ("逾2亿美元", None, 2 * E8, None, "USD"),
        ("5000余万", None, 5 * E7, None, "CNY"),
        ("1亿多元", None, E8, None, "CNY"),
        ("数 千 万", None, E7, E8, "CNY"),
        ("１亿＋", None, E8, None, "CNY"),  # full-width plus
    ],
)
def test_vague_amounts_are_ranges_never_points(
    text: str, currency: str | None, low: Decimal, high: Decimal | None, code: str
) -> None:
    p = parse_amount(text, currency)
    assert p == ParsedAmount(None, low, high, True, code, text)
    assert p.value is None
    assert p.vague
    assert p.disclosed


# ----------------------------------------------------------------------------------- undisclosed amounts


@pytest.mark.parametrize(
    "text",
    [
        "未透露",
        "未披露",
        "不详",
        "保密",
        "-",
        "--",
        "—",
        "",
        "   ",
        "N/A",
        "n/a",
        "undisclosed",
        "Undisclosed",
    ],
)
@pytest.mark.parametrize(("currency", "code"), [(None, None), ("USD", "USD"), ("美元", "USD")])
def test_undisclosed_amounts(text: str, currency: str | None, code: str | None) -> None:
    p = parse_amount(text, currency)
    assert p == ParsedAmount(None, None, None, False, code, text)
    assert not p.disclosed
    assert p.canonical_text() == ""


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "currency", "key"),
    [
        ("7000000", None, "currency.missing"),
        ("7,000,000", None, "currency.missing"),
        ("7000000", "", "currency.missing"),
        ("5M", None, "currency.missing"),  # English multipliers do not imply RMB
        ("7000000", "dollars", "currency.unknown"),
        ("数千万", "XYZ", "currency.unknown"),
        ("未披露", "XYZ", "currency.unknown"),
        ("500万卢布", None, "currency.unknown"),
        ("100XYZ", None, "currency.unknown"),
        ("-5", "CNY", "amount.negative"),
        ("-5", None, "amount.negative"),
        ("-5万", None, "amount.negative"),
        ("−1.2亿", None, "amount.negative"),  # U+2212 minus
        ("－100", "USD", "amount.negative"),  # full-width hyphen-minus
        ("-abc", None, "amount.invalid"),
        ("1e6", "USD", "amount.invalid"),  # no exponent notation: a record should not carry floats
        ("1E+6", "USD", "amount.invalid"),
        ("1.5e3万", None, "amount.invalid"),
        ("NaN", "USD", "amount.invalid"),
        ("Infinity", "USD", "amount.invalid"),
        ("0x10", "USD", "amount.invalid"),
        ("1.2.3", "USD", "amount.invalid"),
        ("1,00", "USD", "amount.invalid"),  # not a thousands grouping
        ("1,0000,000", "USD", "amount.invalid"),
        (".5", "USD", "amount.invalid"),
        ("5.", "USD", "amount.invalid"),
        ("1.234", "USD", "amount.invalid"),  # more than two decimals (分) cannot be stored
        ("1.0000001万", None, "amount.invalid"),
        ("1" + "0" * 16, "USD", "amount.invalid"),  # beyond what an Amount column holds
        ("1亿亿", None, "amount.invalid"),
        ("亿", None, "amount.invalid"),  # a unit is not an amount
        ("千万", None, "amount.invalid"),
        ("数", None, "amount.invalid"),
        ("数100万", None, "amount.invalid"),
        ("数M", "USD", "amount.invalid"),
        ("近数千万", None, "amount.invalid"),
        ("近0", None, "amount.invalid"),
        ("超0", None, "amount.invalid"),
        ("近0.01", None, "amount.invalid"),  # 0.008 has three decimals
        ("500万左右", None, "amount.invalid"),
        ("约500万", None, "amount.invalid"),
        ("一千万", None, "amount.invalid"),
        ("abc", None, "amount.invalid"),
        ("١٢٣", "USD", "amount.invalid"),  # Arabic-Indic digits: Decimal would accept them, we do not
        ("人民币500万美元", None, "amount.invalid"),  # two currencies
        ("2.7亿美元", "CNY", "amount.invalid"),  # text contradicts the argument
        ("5000万人民币", "USD", "amount.invalid"),
        ("HK$3亿", "USD", "amount.invalid"),
    ],
)
def test_amount_errors(text: str, currency: str | None, key: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_amount(text, currency)
    assert info.value.key == key
    assert info.value.fields["text"] == text
    assert key in CATALOG


def test_parse_error_is_a_value_error_that_pickles() -> None:
    error = ParseError("amount.invalid", {"text": "x"})
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.key, copy.fields) == ("amount.invalid", {"text": "x"})
    assert "amount.invalid" in str(error)


# -------------------------------------------------------------------------------------- canonical text


@pytest.mark.parametrize(
    ("text", "currency", "canonical"),
    [
        ("1.44亿", None, "144000000"),
        ("7000000.0", "USD", "7000000"),
        ("1234.50", "USD", "1234.5"),
        ("1,000,000.00", "USD", "1000000"),
        ("0.00", "USD", "0"),
        ("数千万", None, "数千万"),
        ("数 千 万元人民币", None, "数千万"),
        ("千万级", None, "数千万"),
        ("数百万美元", None, "数百万"),
        ("数十亿", None, "数十亿"),
        ("近亿", None, "近1亿"),
        ("近千万", None, "近1000万"),
        ("超亿", None, "1亿以上"),
        ("亿元以上", None, "1亿以上"),
        ("5000余万", None, "5000万以上"),
        ("5000万级", None, "5000万级"),
        ("未透露", "CNY", ""),
    ],
)
def test_canonical_text_reimports_to_the_same_amount(text: str, currency: str | None, canonical: str) -> None:
    p = parse_amount(text, currency)
    assert p.canonical_text() == canonical
    again = parse_amount(p.canonical_text(), p.currency)
    assert again == p
    assert (again.value, again.low, again.high, again.vague, again.currency) == (
        p.value,
        p.low,
        p.high,
        p.vague,
        p.currency,
    )


def test_equality_ignores_the_original_text() -> None:
    assert parse_amount("1.44亿") == parse_amount("144000000", "CNY")
    assert parse_amount("1.44亿") != parse_amount("144000000", "USD")
    assert parse_amount("1.44亿") != parse_amount("1.45亿")
    assert parse_amount("千万级") == parse_amount("数千万")
    assert parse_amount("近亿") != parse_amount("数千万")


def test_canonical_text_refuses_a_range_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="no canonical text"):
        ParsedAmount(None, Decimal(3), Decimal(7), True, "CNY").canonical_text()


# ------------------------------------------------------------------------------------------- properties

_currencies = st.sampled_from(sorted(KNOWN))
_amounts = st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2)


@given(_amounts, _currencies)
def test_plain_amounts_round_trip(amount: Decimal, currency: str) -> None:
    p = parse_amount(format(amount, "f"), currency)
    assert p.value == amount
    assert p.currency == currency
    text = p.canonical_text()
    assert "E" not in text and (not text.endswith("0") or "." not in text)
    assert parse_amount(text, p.currency) == p


@given(
    st.decimals(min_value=0, max_value=Decimal("99999999.999999"), places=6),
    st.sampled_from(["万", "十万", "百万", "千万", "亿"]),
    _currencies,
)
def test_chinese_unit_amounts_are_exact_and_round_trip(mantissa: Decimal, unit: str, currency: str) -> None:
    exponent = parsing._CN_UNITS[unit]
    expected = mantissa.scaleb(exponent)
    if expected >= Decimal(10) ** 16 or expected != expected.quantize(Decimal("0.01")):
        return  # out of an Amount column's range, or finer than 分: refused, tested above
    p = parse_amount(f"{format(mantissa, 'f')}{unit}", currency)
    assert p.value == expected
    assert parse_amount(p.canonical_text(), p.currency) == p


@given(
    st.sampled_from(["数{u}", "近{n}{u}", "超{n}{u}", "{n}{u}以上", "{n}{u}+", "{n}{u}级", "{n}余{u}"]),
    st.integers(min_value=1, max_value=9999),
    st.sampled_from(["万", "十万", "百万", "千万", "亿", "十亿"]),
    _currencies,
)
def test_vague_amounts_round_trip(form: str, number: int, unit: str, currency: str) -> None:
    p = parse_amount(form.format(n=number, u=unit), currency)
    assert p.vague and p.value is None and p.low is not None
    assert parse_amount(p.canonical_text(), p.currency) == p
