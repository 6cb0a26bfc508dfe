"""Money (金额): an exact Decimal amount in an ISO 4217 currency, dated conversions, and Chinese read-outs.

Amounts are :class:`~decimal.Decimal` throughout; a float is refused because it cannot hold 0.1
exactly. Conversions use the dated FX table (:mod:`qilin.reference.fx`): the yearly average rate
(年平均汇率) of the date's year, or the nearest earlier year, and the result says which one. Results
are rounded to 2 decimals with ROUND_HALF_EVEN.

:func:`format_cn` writes an amount the way Chinese officials read it: ``1.44亿元``, ``2,000万元``,
``5,000元``, ``2.7亿美元``, ``500万欧元``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

from qilin.common.currency import KNOWN
from qilin.common.messages import both
from qilin.reference.fx import CURRENCY_NAMES_ZH, FxQuote, FxTable, default_table

CENT = Decimal("0.01")
WAN = Decimal(10_000)  # 万
YI = Decimal(100_000_000)  # 亿


def _to_decimal(value: object) -> Decimal:
    """``value`` as a finite Decimal; Decimal, int and str only (never float or bool)."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{both('amount.invalid')}: use Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(f"{both('amount.invalid')}: {value!r}") from exc
    else:
        raise TypeError(f"{both('amount.invalid')}: {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{both('amount.invalid')}: {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An amount (金额) in one currency (币种).

    ``amount`` may be given as Decimal, int or str (``"1,200.50"`` is accepted); a float raises
    TypeError. ``currency`` must be an ISO code from :data:`qilin.common.currency.KNOWN` (case is
    normalised); anything else raises ValueError.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _to_decimal(self.amount))
        code = self.currency.strip().upper() if isinstance(self.currency, str) else self.currency
        if not isinstance(code, str) or code not in KNOWN:
            raise ValueError(f"{both('currency.unknown')}: {self.currency!r}")
        object.__setattr__(self, "currency", code)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """``Money`` from a Decimal, int or str amount (typed entry point for the same coercion)."""
        return cls(_to_decimal(amount), currency)

    def convert(self, to_currency: str, *, on: dt.date, table: FxTable | None = None) -> Conversion:
        """This amount in ``to_currency`` at the yearly average rate for ``on``.

        Raises :class:`qilin.reference.fx.NoRateError` when no rate is known on or before ``on``.
        """
        target = to_currency.strip().upper()
        if target not in KNOWN:
            raise ValueError(f"{both('currency.unknown')}: {to_currency!r}")
        quote = (table if table is not None else default_table()).quote(self.currency, target, on)
        converted = (self.amount * quote.rate).quantize(CENT, rounding=ROUND_HALF_EVEN)
        return Conversion(original=self, result=Money(converted, target), quote=quote)

    def _check_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(
                f"cannot combine {self.currency} and {other.currency}; convert first / 币种不同，须先换算"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"


@dataclass(frozen=True, slots=True)
class Conversion:
    """A converted amount with the quote (rate, rate year, source) that produced it."""

    original: Money
    result: Money
    quote: FxQuote

    def describe(self, lang: str = "zh") -> str:
        """The conversion in words: both amounts, the date, the rate year and rate, and the source."""
        on = self.quote.on.isoformat()
        if lang == "zh":
            return (
                f"{_plain_zh(self.original)}（{on}）折合 {_plain_zh(self.result)}，"
                f"{self.quote.describe('zh')}"
            )
        return f"{self.original} on {on} = {self.result}, {self.quote.describe('en')}"


def _plain_zh(money: Money) -> str:
    """``1,000,000.00 美元`` — the exact amount with the Chinese currency name."""
    return f"{money.amount:,.2f} {CURRENCY_NAMES_ZH.get(money.currency, money.currency)}"


def _unit_zh(currency: str) -> tuple[str, str]:
    """(separator, unit) after the number and 亿/万: ``元`` for CNY, else the Chinese name or ISO code."""
    if currency == "CNY":
        return "", "元"
    name = CURRENCY_NAMES_ZH.get(currency)
    return ("", name) if name else (" ", currency)


def _round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _trimmed(value: Decimal) -> str:
    """``value`` (already rounded to 2 decimals) with thousands separators and trailing zeros trimmed."""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".")


def format_cn(money: Money) -> str:
    """``money`` as Chinese officials read it: from 1亿 up in 亿, from 1万 up in 万, else in units.

    Up to 2 decimals rounded half up (四舍五入), trailing zeros trimmed, thousands separators;
    the scale is chosen after rounding, so 99,999,999.999 reads ``1亿元``, not ``10,000万元``.

    >>> format_cn(Money.of("144000000", "CNY")), format_cn(Money.of(20_000_000, "CNY"))
    ('1.44亿元', '2,000万元')
    >>> format_cn(Money.of(270_000_000, "USD")), format_cn(Money.of(5_000_000, "EUR"))
    ('2.7亿美元', '500万欧元')
    """
    sign = "-" if money.amount < 0 else ""
    amount = abs(money.amount)
    sep, unit = _unit_zh(money.currency)
    number, scale = _round2(amount), ""
    if number >= WAN:
        number, scale = _round2(amount / WAN), "万"
        if number >= WAN:
            number, scale = _round2(amount / YI), "亿"
    return f"{sign}{_trimmed(number)}{scale}{sep}{unit}"
