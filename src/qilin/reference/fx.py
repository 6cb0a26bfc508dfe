"""The dated FX table: yearly average exchange rates (年平均汇率) and quotes between currencies.

The packaged table ``data/fx_rates.csv`` gives, for each currency and year, how many units of the
currency buy 1 US dollar on that year's average (World Bank WDI ``PA.NUS.FCRF``, from IMF IFS; see
``data/FX_PROVENANCE.md``). A quote for a date uses the rate of the date's year; when that year is
not in the table it uses the nearest **earlier** year (never a later one, so a figure is never
converted with a rate that was not yet known) and says which year it used. Cross rates (套算汇率)
go through the US dollar. Dates before the first year in the table raise :class:`NoRateError`.

This module must not import :mod:`qilin.common.money` (money imports this module).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from types import MappingProxyType

from qilin.common.currency import KNOWN
from qilin.common.messages import both
from qilin.reference._files import read_csv

BASE_CURRENCY = "USD"
"""Every rate in the table is quoted against the US dollar; cross rates go through it."""

CURRENCY_NAMES_ZH: Mapping[str, str] = MappingProxyType(
    {
        "CNY": "元人民币",
        "USD": "美元",
        "EUR": "欧元",
        "HKD": "港元",
        "JPY": "日元",
        "GBP": "英镑",
        "CAD": "加元",
        "AUD": "澳元",
        "SGD": "新加坡元",
        "CHF": "瑞士法郎",
        "KRW": "韩元",
    }
)
"""Chinese names used when a rate is read out ("1 美元 = 6.2275 元人民币"); other codes are shown as is."""

SOURCE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "wdi": (
            "世界银行《世界发展指标》PA.NUS.FCRF 官方汇率年平均值",
            "World Bank WDI PA.NUS.FCRF, official exchange rate, yearly average",
        ),
        "identity": ("同币种", "same currency"),
    }
)
"""Readable (zh, en) names of the source ids in the ``source`` column; FX_PROVENANCE.md explains them."""


class NoRateError(LookupError):
    """No yearly average rate (年平均汇率) is known for a currency on or before a date."""


@dataclass(frozen=True, slots=True)
class FxRate:
    """One row of the table: ``per_usd`` units of ``currency`` = 1 US dollar, on ``year``'s average."""

    currency: str
    year: int
    per_usd: Decimal
    source: str


def _currency_name_zh(code: str) -> str:
    return CURRENCY_NAMES_ZH.get(code, code)


def _source_label(source: str, lang: str) -> str:
    labels = []
    for part in source.split("+"):
        zh, en = SOURCE_LABELS.get(part, (part, part))
        labels.append(zh if lang == "zh" else en)
    return "；".join(labels) if lang == "zh" else "; ".join(labels)


def format_rate(rate: Decimal) -> str:
    """A rate as read out: 4 decimal places, or 4 significant digits when the rate is below 1.

    >>> format_rate(Decimal("6.227489")), format_rate(Decimal("0.00826"))
    ('6.2275', '0.008260')
    """
    if rate == 0:
        return "0"
    if abs(rate) >= 1:
        return str(rate.quantize(Decimal("0.0001")))
    exponent = rate.adjusted() - 3  # keep 4 significant digits
    return str(rate.quantize(Decimal(1).scaleb(exponent)))


@dataclass(frozen=True, slots=True)
class FxQuote:
    """A rate between two currencies for a date.

    ``rate`` is the number of units of ``to_currency`` per 1 unit of ``from_currency``;
    ``rate_year`` is the year whose average was actually used (it can be earlier than ``on.year``);
    ``source`` is the source id (or ids joined by ``+`` for a cross rate) from ``fx_rates.csv``.
    """

    from_currency: str
    to_currency: str
    rate: Decimal
    rate_year: int
    source: str
    on: dt.date
    via_usd: bool = False

    @property
    def is_identity(self) -> bool:
        """True when no conversion is needed (same currency)."""
        return self.from_currency == self.to_currency

    @property
    def is_fallback(self) -> bool:
        """True when the date's own year had no rate and an earlier year's average was used."""
        return self.rate_year != self.on.year

    def describe(self, lang: str = "zh") -> str:
        """Which rate was used, in words, e.g. "按 2015 年平均汇率 1 美元 = 6.2275 元人民币（来源：…）"."""
        if self.is_identity:
            return "同币种，无需换算" if lang == "zh" else "same currency, no conversion"
        rate = format_rate(self.rate)
        source = _source_label(self.source, lang)
        if lang == "zh":
            text = (
                f"按 {self.rate_year} 年平均汇率 1 {_currency_name_zh(self.from_currency)} = "
                f"{rate} {_currency_name_zh(self.to_currency)}"
            )
            notes = []
            if self.via_usd:
                notes.append("经美元套算")
            if self.is_fallback:
                notes.append(f"{self.on.year} 年尚无年平均汇率，采用此前最近的 {self.rate_year} 年")
            notes.append(f"来源：{source}")
            return f"{text}（{'；'.join(notes)}）"
        text = (
            f"at the {self.rate_year} yearly average rate 1 {self.from_currency} = {rate} {self.to_currency}"
        )
        en_notes = []
        if self.via_usd:
            en_notes.append("cross rate via USD")
        if self.is_fallback:
            en_notes.append(
                f"no yearly average for {self.on.year} yet; used the latest earlier year, {self.rate_year}"
            )
        en_notes.append(f"source: {source}")
        return f"{text} ({'; '.join(en_notes)})"


class FxTable:
    """Yearly average rates per currency against the US dollar, with dated quotes between any two."""

    def __init__(self, rates: Iterable[FxRate]) -> None:
        by_currency: dict[str, dict[int, FxRate]] = {}
        for rate in rates:
            if rate.currency not in KNOWN:
                raise ValueError(f"{both('currency.unknown')}: {rate.currency!r}")
            if rate.currency == BASE_CURRENCY:
                raise ValueError("the table is quoted against USD; it holds no USD rows")
            if not rate.per_usd.is_finite() or rate.per_usd <= 0:
                raise ValueError(f"rate for {rate.currency} {rate.year} must be positive: {rate.per_usd}")
            years = by_currency.setdefault(rate.currency, {})
            if rate.year in years:
                raise ValueError(f"two rates for {rate.currency} {rate.year}")
            years[rate.year] = rate
        self._rates: dict[str, dict[int, FxRate]] = by_currency
        self._years: dict[str, tuple[int, ...]] = {c: tuple(sorted(ys)) for c, ys in by_currency.items()}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> FxTable:
        """A table from CSV rows with the columns ``currency, year, per_usd, source``."""
        rates = []
        for row in rows:
            try:
                per_usd = Decimal(row["per_usd"].strip())
            except InvalidOperation as exc:
                raise ValueError(f"not a number: {row['per_usd']!r}") from exc
            rates.append(
                FxRate(
                    currency=row["currency"].strip().upper(),
                    year=int(row["year"]),
                    per_usd=per_usd,
                    source=row["source"].strip(),
                )
            )
        return cls(rates)

    def currencies(self) -> frozenset[str]:
        """Every currency the table can quote, USD included."""
        return frozenset(self._rates) | {BASE_CURRENCY}

    def years(self, currency: str) -> tuple[int, ...]:
        """The years that have a rate for ``currency``, in order (empty for USD and unknown codes)."""
        return self._years.get(currency, ())

    def rate(self, currency: str, year: int) -> FxRate | None:
        """The table row for ``currency`` in exactly ``year``, or None."""
        return self._rates.get(currency, {}).get(year)

    def _usable_years(self, currency: str) -> set[int] | None:
        """Years with a rate for ``currency``; None means "any year" (USD)."""
        if currency == BASE_CURRENCY:
            return None
        return set(self._years.get(currency, ()))

    def quote(self, from_currency: str, to_currency: str, on: dt.date) -> FxQuote:
        """How many ``to_currency`` one ``from_currency`` buys on ``on``'s yearly average.

        Uses the year of ``on``, else the nearest earlier year that has rates for both currencies.
        Raises :class:`NoRateError` when no such year exists (e.g. a date before 2000).
        """
        if from_currency == to_currency:
            return FxQuote(from_currency, to_currency, Decimal(1), on.year, "identity", on)
        usable: set[int] | None = None
        for currency in (from_currency, to_currency):
            years = self._usable_years(currency)
            if years is None:
                continue
            if not any(y <= on.year for y in years):
                raise NoRateError(both("fx.no_rate", currency=currency, date=on.isoformat()))
            usable = years if usable is None else usable & years
        assert usable is not None  # at least one side is not USD
        candidates = [y for y in usable if y <= on.year]
        if not candidates:
            missing = from_currency if from_currency != BASE_CURRENCY else to_currency
            raise NoRateError(both("fx.no_rate", currency=missing, date=on.isoformat()))
        year = max(candidates)
        from_row = None if from_currency == BASE_CURRENCY else self._rates[from_currency][year]
        to_row = None if to_currency == BASE_CURRENCY else self._rates[to_currency][year]
        from_per_usd = Decimal(1) if from_row is None else from_row.per_usd
        to_per_usd = Decimal(1) if to_row is None else to_row.per_usd
        sources: list[str] = []
        for row in (from_row, to_row):
            if row is not None and row.source not in sources:
                sources.append(row.source)
        return FxQuote(
            from_currency=from_currency,
            to_currency=to_currency,
            rate=to_per_usd / from_per_usd,
            rate_year=year,
            source="+".join(sources),
            on=on,
            via_usd=from_row is not None and to_row is not None,
        )


@cache
def default_table() -> FxTable:
    """The packaged table (``qilin/reference/data/fx_rates.csv``), read once."""
    return FxTable.from_rows(read_csv("fx_rates.csv"))
