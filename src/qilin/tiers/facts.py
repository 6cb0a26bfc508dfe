"""The plain facts a tier evaluation reads: one enterprise's registry records, cut to an as-of date.

Pure data, no database: the service builds :class:`EnterpriseFacts` from the registry, tests and the property
test build them by hand. Amounts are whole hundredths (cents, 分) as stored, so both evaluation paths read
exactly the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cache

from qilin.reference.fx import NoRateError, default_table

# Round types that are private financing (私募融资). IPO, post-IPO, debt and grants are not.
PRIVATE_ROUND_TYPES: frozenset[str] = frozenset(
    {"angel", "seed", "series-a", "series-b", "series-c+", "venture", "private-equity", "strategic",
     "crowdfunding", "other"}
)  # fmt: skip
# Better evidence first: the tie-break between valuations of the same date.
EVIDENCE_RANK: dict[str, int] = {"disclosed": 0, "third-party-list": 1, "estimated": 2, "self-declared": 3}
EXIT_STATUSES = frozenset({"acquired", "closed"})


@dataclass(frozen=True, slots=True)
class RoundFact:
    record_id: str
    announced_on: dt.date
    round_type: str
    amount_cents: int | None  # exact amount
    low_cents: int | None  # lower bound of a vague amount (数千万 → 1000万)
    currency: str | None
    post_money_cents: int | None = None
    post_money_currency: str | None = None


@dataclass(frozen=True, slots=True)
class ValuationFact:
    record_id: str
    as_of: dt.date
    value_cents: int
    currency: str
    evidence: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class StatusFact:
    status: str
    as_of: dt.date


@dataclass(frozen=True, slots=True)
class EventFact:
    record_id: str
    kind: str  # ipo / acquisition / closure / relocation / unicorn_list_entry
    occurred_on: dt.date
    from_region_code: str | None = None
    to_region_code: str | None = None


@dataclass(frozen=True, slots=True)
class EnterpriseFacts:
    enterprise_id: str
    name: str = ""
    founded_on: dt.date | None = None
    country: str | None = None
    region_code: str | None = None  # where it is registered now
    tracks: tuple[str, ...] = ()
    rounds: tuple[RoundFact, ...] = ()
    valuations: tuple[ValuationFact, ...] = ()
    statuses: tuple[StatusFact, ...] = ()
    events: tuple[EventFact, ...] = field(default=())

    def as_of(self, date: dt.date) -> EnterpriseFacts:
        """The facts known on ``date``: records dated after it are dropped, and the registered region is
        taken back through any later relocation (迁出/迁入)."""
        region = self.region_code
        for event in sorted(self.events, key=lambda e: (e.occurred_on, e.record_id), reverse=True):
            if event.kind == "relocation" and event.occurred_on > date and event.from_region_code:
                region = event.from_region_code
        return replace(
            self,
            region_code=region,
            rounds=tuple(r for r in self.rounds if r.announced_on <= date),
            valuations=tuple(v for v in self.valuations if v.as_of <= date),
            statuses=tuple(s for s in self.statuses if s.as_of <= date),
            events=tuple(e for e in self.events if e.occurred_on <= date),
        )


def round_valuations(rounds: tuple[RoundFact, ...]) -> tuple[ValuationFact, ...]:
    """A round's disclosed post-money valuation (投后估值) is a valuation of that date."""
    return tuple(
        ValuationFact(f"round:{r.record_id}", r.announced_on, r.post_money_cents, r.post_money_currency,
                      "disclosed", "funding round")
        for r in rounds
        if r.post_money_cents is not None and r.post_money_currency
    )  # fmt: skip


def valuation_order(v: ValuationFact) -> tuple[dt.date, int, int, str]:
    """Sort key whose maximum is "the latest valuation": latest date, then better evidence, then the
    higher value, then the record id (so the choice never depends on input order)."""
    return (v.as_of, -EVIDENCE_RANK.get(v.evidence, 9), v.value_cents, v.record_id)


@cache
def fx_factor(from_currency: str, to_currency: str, year: int) -> float | None:
    """The yearly-average rate as a float, the same number for the explainer and the batch path; None when
    no rate is known for the year (the table starts in 2000)."""
    try:
        return float(default_table().quote(from_currency, to_currency, dt.date(year, 12, 31)).rate)
    except NoRateError:
        return None


@cache
def fx_ratio(from_currency: str, to_currency: str, year: int) -> tuple[int, int] | None:
    """The yearly-average rate as an exact fraction ``(numerator, denominator)`` of whole numbers: the two
    currencies' per-US-dollar rates in millionths (the table has six decimals). None without a rate."""
    table = default_table()
    try:
        used = table.quote(from_currency, to_currency, dt.date(year, 12, 31)).rate_year
    except NoRateError:
        return None

    def micro(currency: str) -> int:
        if currency == "USD":
            return 1_000_000
        row = table.rate(currency, used)
        assert row is not None  # quote() found this year for both currencies
        return int(row.per_usd.scaleb(6))

    if from_currency == to_currency:
        return (1, 1)
    return (micro(to_currency), micro(from_currency))


def convert_cents(cents: int, from_currency: str, to_currency: str, on: dt.date) -> int | None:
    """``cents`` converted at ``on``'s yearly average, rounded down to whole cents; None without a rate.

    Exact integer arithmetic (the rate as a fraction), so a valuation of exactly US$1 billion in yuan at
    that year's rate is exactly US$1 billion; the vectorised path computes the same with 128-bit integers.
    """
    ratio = fx_ratio(from_currency, to_currency, on.year)
    if ratio is None:
        return None
    numerator, denominator = ratio
    return cents * numerator // denominator
