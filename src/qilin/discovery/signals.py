"""Signals (关注信号): recent events in the registry worth an officer's attention.

Four kinds, each dated by the record that raises it and computed only from records dated on or before that
date (time honesty: a signal never depends on anything that happened after it):

* ``round_doubled`` (融资额翻倍): a private round whose exact amount is at least ``round_ratio`` (2×) the
  previous round's exact amount. The previous round is the enterprise's latest private round announced on
  an earlier date; if that round (or any round of that date) has a vague or undisclosed amount, there is
  nothing to compare and no signal.
* ``quick_follow_on`` (快速再融资): a private round at most ``follow_on_months`` (12) calendar months after
  the previous one; one signal per enterprise and date.
* ``valuation_step_up`` (估值跃升): a valuation — a valuations-table row or a round's post-money (投后估值) —
  at least ``valuation_ratio`` (1.5×) the previous one. One valuation per date counts: the best evidence
  grade, then the higher value, as the tier evaluator chooses the latest valuation.
* ``strong_investor`` (优质机构入局): an investor in a private round whose track record is strong on the
  round's date: of the other enterprises it backed before that date, at least ``min_hit_rate`` (20%) had
  joined a unicorn list (``unicorn_list_entry``) or listed (``ipo``) after it first backed them and before
  the round date, over at least ``min_backed`` (3) such enterprises. An enterprise that was already a
  unicorn or listed when the investor first backed it says nothing about picking and is left out.

Amounts are compared in one currency: directly when both records share a currency, otherwise both are
converted to yuan with :func:`~qilin.tiers.facts.convert_cents` at each record's own date (yearly average
rate). Ratios are exact fractions, so exactly 2× signals and 1.99× does not.

:func:`compute_signals` is the pure core over plain records (:class:`RegistryRecords`); :func:`find_signals`
loads them from the registry and calls it.

>>> records = RegistryRecords(
...     enterprises={"e": EnterpriseRecord("e", "某科技")},
...     rounds=(RoundRecord(1, "e", dt.date(2024, 1, 5), "series-a", 100_000_000_00, "CNY"),
...             RoundRecord(2, "e", dt.date(2024, 9, 1), "series-b", 200_000_000_00, "CNY")),
... )
>>> [s.kind for s in compute_signals(records, since=dt.date(2024, 6, 1), until=dt.date(2024, 12, 31))]
['round_doubled', 'quick_follow_on']
"""

from __future__ import annotations

import calendar
import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from itertools import islice, pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.common.dates import today
from qilin.common.messages import CATALOG
from qilin.common.money import Money, format_cn
from qilin.registry.models import (
    Enterprise,
    FundingRound,
    Investor,
    LifecycleEvent,
    RoundInvestor,
    Valuation,
)
from qilin.tiers.facts import EVIDENCE_RANK, PRIVATE_ROUND_TYPES, convert_cents

__all__ = [
    "KINDS",
    "KIND_NAMES",
    "OUTCOME_KINDS",
    "EnterpriseRecord",
    "OutcomeRecord",
    "RegistryRecords",
    "RoundRecord",
    "Signal",
    "SignalParams",
    "SignalRecord",
    "ValuationRecord",
    "compute_signals",
    "find_signals",
    "load_records",
]

KINDS: tuple[str, ...] = ("round_doubled", "quick_follow_on", "valuation_step_up", "strong_investor")
KIND_NAMES: dict[str, tuple[str, str]] = {
    "round_doubled": ("融资额翻倍", "round doubled"),
    "quick_follow_on": ("快速再融资", "quick follow-on"),
    "valuation_step_up": ("估值跃升", "valuation step-up"),
    "strong_investor": ("优质机构入局", "strong investor"),
}
# Outcomes that make an earlier backing a hit: 入选独角兽榜单 and 上市.
OUTCOME_KINDS: frozenset[str] = frozenset({"unicorn_list_entry", "ipo"})
COMPARISON_CURRENCY = "CNY"
EVIDENCE_NAMES: dict[str, str] = {
    "disclosed": "公开披露",
    "third-party-list": "第三方榜单",
    "estimated": "估算",
    "self-declared": "企业自报",
}
OUTCOME_NAMES: dict[str, tuple[str, str]] = {
    "unicorn_list_entry": ("入选独角兽榜单", "joined a unicorn list"),
    "ipo": ("上市", "listed"),
}


@dataclass(frozen=True, slots=True)
class SignalParams:
    """Thresholds of the four signals (all inclusive: a value exactly at the threshold signals)."""

    round_ratio: Decimal = Decimal(2)
    follow_on_months: int = 12
    valuation_ratio: Decimal = Decimal("1.5")
    min_backed: int = 3
    min_hit_rate: Decimal = Decimal("0.2")


# ---- plain records ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    id: str
    name: str
    is_synthetic: bool = False


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """A funding round; ``amount_cents`` only for an exact amount (None for a vague or undisclosed one)."""

    id: int
    enterprise_id: str
    announced_on: dt.date
    round_type: str
    amount_cents: int | None = None
    currency: str | None = None
    investors: tuple[str, ...] = ()
    post_money_cents: int | None = None
    post_money_currency: str | None = None
    amount_text: str | None = None  # as written, e.g. 数千万 — shown, never compared


@dataclass(frozen=True, slots=True)
class ValuationRecord:
    ref: str  # "valuation:<id>" or "round:<id>" for a round's post-money
    enterprise_id: str
    as_of: dt.date
    value_cents: int
    currency: str
    evidence: str


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    id: int
    enterprise_id: str
    kind: str  # unicorn_list_entry / ipo
    occurred_on: dt.date


@dataclass(frozen=True, slots=True)
class RegistryRecords:
    enterprises: dict[str, EnterpriseRecord]
    rounds: tuple[RoundRecord, ...] = ()
    valuations: tuple[ValuationRecord, ...] = ()  # the valuations table only; post-money comes from rounds
    outcomes: tuple[OutcomeRecord, ...] = ()


# ---- signals ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """One registry record behind a signal (依据)."""

    ref: str  # "round:12", "valuation:3", "event:7"
    on: dt.date
    enterprise_id: str
    amount: Money | None = None
    investors: tuple[str, ...] = ()
    note: str = ""  # round type, evidence grade or event kind


@dataclass(frozen=True, slots=True)
class Signal:
    enterprise_id: str
    enterprise_name: str
    is_synthetic: bool
    kind: str
    on: dt.date
    description_zh: str
    description_en: str
    records: tuple[SignalRecord, ...]
    ratio: Fraction | None = None  # round_doubled, valuation_step_up
    investor: str | None = None  # strong_investor
    backed: tuple[str, ...] = field(default=())  # strong_investor: enterprises counted in the hit rate
    hits: tuple[str, ...] = field(default=())  # strong_investor: those that joined the list or listed

    def ratio_text(self) -> str:
        return "" if self.ratio is None else _ratio_text(self.ratio)


def _ratio_text(ratio: Fraction) -> str:
    """Two decimals rounded down, so a signal at 2× never reads below 2.00 and 1.999× never reads 2.00."""
    value = Decimal(ratio.numerator) / Decimal(ratio.denominator)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def _money(cents: int, currency: str) -> Money:
    return Money(Decimal(cents).scaleb(-2), currency)


def _round_name(round_type: str, lang: str) -> str:
    entry = CATALOG.get(f"round_type.{round_type}")
    return entry[lang] if entry else round_type


def add_months(on: dt.date, months: int) -> dt.date:
    """``on`` plus calendar months; the day is clamped to the month's end (2024-02-29 + 12 → 2025-02-28)."""
    index = on.year * 12 + on.month - 1 + months
    year, month = divmod(index, 12)
    day = min(on.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def _comparable(new: tuple[int, str, dt.date], old: tuple[int, str, dt.date]) -> tuple[int, int, bool] | None:
    """``(new, old, converted)`` in one currency, or None without a rate for either date."""
    if new[1] == old[1]:
        return new[0], old[0], False
    new_cny = convert_cents(new[0], new[1], COMPARISON_CURRENCY, new[2])
    old_cny = convert_cents(old[0], old[1], COMPARISON_CURRENCY, old[2])
    if new_cny is None or old_cny is None:
        return None
    return new_cny, old_cny, True


_CONVERTED = (
    "（币种不同，按各自日期的年平均汇率折合人民币比较）",
    " (currencies differ: compared in CNY at each date's yearly average rate)",
)


def _round_record(r: RoundRecord) -> SignalRecord:
    amount = _money(r.amount_cents, r.currency) if r.amount_cents is not None and r.currency else None
    note = r.round_type if amount is not None or not r.amount_text else f"{r.round_type} {r.amount_text}"
    return SignalRecord(f"round:{r.id}", r.announced_on, r.enterprise_id, amount, r.investors, note)


class _InvestorRecord:
    """An investor's first round in each enterprise it backed (``firsts``, by date) and each such
    enterprise's earliest outcome (listed, or joined a unicorn list), counted so that its picks and hits
    before any day are two binary searches, not a pass over its portfolio.

    Before day ``on``, a first round ``e`` in an enterprise whose earliest outcome is ``o`` is a pick unless
    ``o <= e`` (already an outcome when backed: then ``o < on`` too); a pick is a hit when ``o < on``, that
    is ``e < o < on``."""

    def __init__(self, firsts: dict[str, RoundRecord], outcomes: dict[str, list[OutcomeRecord]]) -> None:
        self.by_enterprise = firsts
        self.firsts = list(firsts.values())
        self.dates = [r.announced_on for r in self.firsts]
        self.earliest = {eid: found[0] for eid in firsts if (found := outcomes.get(eid))}
        self.excluded = [0]  # excluded[k]: of the first k, those already an outcome when backed
        hit_dates = []
        for r in self.firsts:
            earliest = self.outcome_date(r.enterprise_id)
            self.excluded.append(self.excluded[-1] + (earliest is not None and earliest <= r.announced_on))
            if earliest is not None and earliest > r.announced_on:
                hit_dates.append(earliest)
        self.hit_dates = sorted(hit_dates)

    def outcome_date(self, enterprise_id: str) -> dt.date | None:
        found = self.earliest.get(enterprise_id)
        return found.occurred_on if found else None

    def counts(self, on: dt.date, *, leaving_out: str) -> tuple[int, int]:
        """(picks, hits) before ``on``, the enterprise ``leaving_out`` left out."""
        before = bisect_left(self.dates, on)
        picks, hits = before - self.excluded[before], bisect_left(self.hit_dates, on)
        own = self.by_enterprise.get(leaving_out)
        if own is not None and own.announced_on < on:
            earliest = self.outcome_date(leaving_out)
            if earliest is None or earliest > own.announced_on:
                picks -= 1
                hits -= earliest is not None and earliest < on
        return picks, hits


class _Builder:
    """Signals of one run: the records, indexed once, and the window."""

    def __init__(
        self,
        records: RegistryRecords,
        since: dt.date,
        until: dt.date,
        params: SignalParams,
        focus: frozenset[str] | None = None,
    ) -> None:
        self.records, self.since, self.until, self.params = records, since, until, params
        self.focus = focus  # only these enterprises' signals (the others' records are context)
        self.rounds: dict[str, list[RoundRecord]] = defaultdict(list)
        for r in sorted(records.rounds, key=lambda r: (r.announced_on, r.id)):
            if r.round_type in PRIVATE_ROUND_TYPES:
                self.rounds[r.enterprise_id].append(r)
        self.backings: dict[str, list[RoundRecord]] = defaultdict(list)  # investor → rounds, by date
        for r in sorted(records.rounds, key=lambda r: (r.announced_on, r.id)):
            for name in r.investors:
                self.backings[name].append(r)
        self.outcomes: dict[str, list[OutcomeRecord]] = defaultdict(list)
        for o in sorted(records.outcomes, key=lambda o: (o.occurred_on, o.id)):
            if o.kind in OUTCOME_KINDS:
                self.outcomes[o.enterprise_id].append(o)
        self._records: dict[str, _InvestorRecord] = {}

    def investor_record(self, investor: str) -> _InvestorRecord:
        """``investor``'s first round in each enterprise it backed, and what counting its picks needs (made
        once per investor). Its first rounds dated before a day are its first rounds among the rounds before
        that day."""
        found = self._records.get(investor)
        if found is None:
            firsts: dict[str, RoundRecord] = {}
            for r in self.backings[investor]:
                firsts.setdefault(r.enterprise_id, r)
            found = _InvestorRecord(firsts, self.outcomes)
            self._records[investor] = found
        return found

    def in_window(self, on: dt.date) -> bool:
        return self.since <= on <= self.until

    def wanted(self, enterprise_id: str) -> bool:
        return self.focus is None or enterprise_id in self.focus

    def signal(
        self,
        enterprise_id: str,
        kind: str,
        on: dt.date,
        text: tuple[str, str],
        records: Iterable[SignalRecord],
        *,
        ratio: Fraction | None = None,
        investor: str | None = None,
        backed: tuple[str, ...] = (),
        hits: tuple[str, ...] = (),
    ) -> Signal:
        e = self.records.enterprises.get(enterprise_id) or EnterpriseRecord(enterprise_id, enterprise_id)
        return Signal(
            e.id,
            e.name,
            e.is_synthetic,
            kind,
            on,
            text[0],
            text[1],
            tuple(records),
            ratio,
            investor,
            backed,
            hits,
        )

    # -- rounds ---------------------------------------------------------------------------------------------

    def round_signals(self) -> list[Signal]:
        out: list[Signal] = []
        for eid, rounds in self.rounds.items():
            if not self.wanted(eid):
                continue
            by_date: dict[dt.date, list[RoundRecord]] = defaultdict(list)
            for r in rounds:
                by_date[r.announced_on].append(r)
            dates = sorted(by_date)
            for previous_date, on in pairwise(dates):
                if not self.in_window(on):
                    continue
                previous = by_date[previous_date]
                for r in by_date[on]:
                    doubled = self.doubled(eid, r, previous)
                    if doubled is not None:
                        out.append(doubled)
                follow_on = self.follow_on(eid, by_date[on], previous)
                if follow_on is not None:
                    out.append(follow_on)
        return out

    def doubled(self, eid: str, new: RoundRecord, previous: list[RoundRecord]) -> Signal | None:
        if new.amount_cents is None or new.currency is None:
            return None
        compared: list[tuple[Fraction, RoundRecord, bool]] = []
        for old in previous:
            if old.amount_cents is None or old.currency is None:
                return None  # the previous amount is unknown: nothing to compare with
            pair = _comparable(
                (new.amount_cents, new.currency, new.announced_on),
                (old.amount_cents, old.currency, old.announced_on),
            )
            if pair is None or pair[1] <= 0:
                return None
            compared.append((Fraction(pair[0], pair[1]), old, pair[2]))
        ratio, old, converted = min(compared, key=lambda c: (c[0], c[1].id))  # against the largest
        if ratio < Fraction(self.params.round_ratio):
            return None
        assert old.amount_cents is not None and old.currency is not None
        new_text = format_cn(_money(new.amount_cents, new.currency))
        old_text = format_cn(_money(old.amount_cents, old.currency))
        times = _ratio_text(ratio)
        zh = (
            f"{_round_name(new.round_type, 'zh')}融资{new_text}，为上一轮（{old.announced_on}，"
            f"{_round_name(old.round_type, 'zh')}{old_text}）的{times}倍"
            + (_CONVERTED[0] if converted else "")
        )
        en = (
            f"{_round_name(new.round_type, 'en')} round of {_money(new.amount_cents, new.currency)} is "
            f"{times}× the previous round ({old.announced_on}, {_round_name(old.round_type, 'en')}, "
            f"{_money(old.amount_cents, old.currency)})" + (_CONVERTED[1] if converted else "")
        )
        records = [_round_record(new), *(_round_record(r) for r in previous)]
        return self.signal(eid, "round_doubled", new.announced_on, (zh, en), records, ratio=ratio)

    def follow_on(self, eid: str, new: list[RoundRecord], previous: list[RoundRecord]) -> Signal | None:
        on, before = new[0].announced_on, previous[0].announced_on
        if on > add_months(before, self.params.follow_on_months):
            return None
        days = (on - before).days
        names_zh = "、".join(_round_name(r.round_type, "zh") for r in new)
        names_en = ", ".join(_round_name(r.round_type, "en") for r in new)
        zh = f"{names_zh}融资距上一轮（{before}）仅 {days} 天"
        en = f"{names_en} round {days} days after the previous one ({before})"
        records = [*(_round_record(r) for r in new), *(_round_record(r) for r in previous)]
        return self.signal(eid, "quick_follow_on", on, (zh, en), records)

    # -- valuations -----------------------------------------------------------------------------------------

    def valuation_signals(self) -> list[Signal]:
        by_enterprise: dict[str, list[ValuationRecord]] = defaultdict(list)
        for v in self.records.valuations:
            by_enterprise[v.enterprise_id].append(v)
        for r in self.records.rounds:
            if r.post_money_cents is not None and r.post_money_currency:
                by_enterprise[r.enterprise_id].append(
                    ValuationRecord(f"round:{r.id}", r.enterprise_id, r.announced_on, r.post_money_cents,
                                    r.post_money_currency, "disclosed")
                )  # fmt: skip
        out: list[Signal] = []
        for eid, valuations in by_enterprise.items():
            if not self.wanted(eid):
                continue
            best: dict[dt.date, ValuationRecord] = {}
            for v in valuations:
                kept = best.get(v.as_of)
                if kept is None or _valuation_rank(v) > _valuation_rank(kept):
                    best[v.as_of] = v
            dates = sorted(best)
            for previous_date, on in pairwise(dates):
                if self.in_window(on):
                    signal = self.step_up(eid, best[on], best[previous_date])
                    if signal is not None:
                        out.append(signal)
        return out

    def step_up(self, eid: str, new: ValuationRecord, old: ValuationRecord) -> Signal | None:
        pair = _comparable(
            (new.value_cents, new.currency, new.as_of), (old.value_cents, old.currency, old.as_of)
        )
        if pair is None or pair[1] <= 0:
            return None
        ratio = Fraction(pair[0], pair[1])
        if ratio < Fraction(self.params.valuation_ratio):
            return None
        new_money, old_money = _money(new.value_cents, new.currency), _money(old.value_cents, old.currency)
        times = _ratio_text(ratio)
        zh = (
            f"估值{format_cn(new_money)}（{_evidence_zh(new)}），为上次估值（{old.as_of}，"
            f"{format_cn(old_money)}）的{times}倍" + (_CONVERTED[0] if pair[2] else "")
        )
        en = (
            f"valuation of {new_money} ({_evidence_en(new)}) is {times}× the previous one "
            f"({old.as_of}, {old_money})" + (_CONVERTED[1] if pair[2] else "")
        )
        records = [
            SignalRecord(
                v.ref, v.as_of, v.enterprise_id, _money(v.value_cents, v.currency), (), _evidence_en(v)
            )
            for v in (new, old)
        ]
        return self.signal(eid, "valuation_step_up", new.as_of, (zh, en), records, ratio=ratio)

    # -- investors ------------------------------------------------------------------------------------------

    def investor_signals(self) -> list[Signal]:
        out: list[Signal] = []
        for eid, rounds in self.rounds.items():
            if not self.wanted(eid):
                continue
            for r in rounds:
                if not self.in_window(r.announced_on):
                    continue
                for name in r.investors:
                    signal = self.strong(r, name)
                    if signal is not None:
                        out.append(signal)
        return out

    def strong(self, new: RoundRecord, investor: str) -> Signal | None:
        on = new.announced_on
        record = self.investor_record(investor)
        backed_count, hit_count = record.counts(on, leaving_out=new.enterprise_id)
        if backed_count < max(1, self.params.min_backed):
            return None
        rate = Fraction(hit_count, backed_count)
        if rate < Fraction(self.params.min_hit_rate):
            return None  # most investors are turned down by counting; the picks are listed for a signal only
        backed: list[str] = []
        hits: list[tuple[RoundRecord, OutcomeRecord]] = []
        for entry in islice(record.firsts, bisect_left(record.dates, on)):  # its first rounds before ``on``
            eid = entry.enterprise_id
            if eid == new.enterprise_id:
                continue
            # Only outcomes known before the round date; the earliest decides whether it was a pick.
            outcome = record.earliest.get(eid)
            known = outcome if outcome is not None and outcome.occurred_on < on else None
            if known is not None and known.occurred_on <= entry.announced_on:
                continue  # already a unicorn or listed when backed
            backed.append(eid)
            if known is not None:
                hits.append((entry, known))
        percent = (Decimal(rate.numerator) * 100 / Decimal(rate.denominator)).quantize(Decimal(1), ROUND_DOWN)
        zh = (
            f"投资机构「{investor}」参投{_round_name(new.round_type, 'zh')}；"
            f"此前投资的 {len(backed)} 家企业中 {len(hits)} 家已入选独角兽榜单或上市（{percent}%）"
        )
        en = (
            f"investor {investor} joins the {_round_name(new.round_type, 'en')} round; {len(hits)} of the "
            f"{len(backed)} enterprises it backed earlier joined a unicorn list or listed ({percent}%)"
        )
        records = [_round_record(new)]
        for entry, outcome in hits:
            records.append(_round_record(entry))
            records.append(
                SignalRecord(
                    f"event:{outcome.id}", outcome.occurred_on, outcome.enterprise_id, note=outcome.kind
                )
            )
        return self.signal(
            new.enterprise_id, "strong_investor", on, (zh, en), records, investor=investor,
            backed=tuple(sorted(backed)), hits=tuple(sorted(h[0].enterprise_id for h in hits)),
        )  # fmt: skip


def _valuation_rank(v: ValuationRecord) -> tuple[int, int, str]:
    return (-EVIDENCE_RANK.get(v.evidence, 9), v.value_cents, v.ref)


def _evidence_zh(v: ValuationRecord) -> str:
    if v.ref.startswith("round:"):
        return "融资投后估值"
    return EVIDENCE_NAMES.get(v.evidence, v.evidence)


def _evidence_en(v: ValuationRecord) -> str:
    return "post-money" if v.ref.startswith("round:") else v.evidence


def compute_signals(
    records: RegistryRecords,
    *,
    since: dt.date,
    until: dt.date,
    params: SignalParams | None = None,
    kinds: Sequence[str] | None = None,
    enterprise_ids: Collection[str] | None = None,
) -> list[Signal]:
    """The signals dated ``since`` … ``until`` (both inclusive), ordered by date, enterprise, kind; of
    ``enterprise_ids`` only when given (the other records still count, e.g. an investor's earlier picks)."""
    focus = None if enterprise_ids is None else frozenset(enterprise_ids)
    builder = _Builder(records, since, until, params or SignalParams(), focus)
    wanted = set(KINDS if kinds is None else kinds)
    found: list[Signal] = []
    if wanted & {"round_doubled", "quick_follow_on"}:
        found += builder.round_signals()
    if "valuation_step_up" in wanted:
        found += builder.valuation_signals()
    if "strong_investor" in wanted:
        found += builder.investor_signals()
    order = {k: i for i, k in enumerate(KINDS)}
    found = [s for s in found if s.kind in wanted]
    return sorted(
        found, key=lambda s: (s.on, s.enterprise_id, order[s.kind], s.investor or "", s.records[0].ref)
    )


# ---- the registry edge ------------------------------------------------------------------------------------


def _cents(value: Decimal | None) -> int | None:
    return None if value is None else int(value.scaleb(2))


def _round_records(session: Session, *where: Any) -> tuple[RoundRecord, ...]:
    """The rounds matching ``where``, each with its investors in their order."""
    fr = FundingRound
    investors: dict[int, list[str]] = defaultdict(list)
    for round_id, name in session.execute(
        select(RoundInvestor.round_id, Investor.name)
        .join(Investor, Investor.id == RoundInvestor.investor_id)
        .join(fr, fr.id == RoundInvestor.round_id)
        .where(*where)
        .order_by(RoundInvestor.round_id, RoundInvestor.position)
    ):
        investors[round_id].append(name)
    return tuple(
        RoundRecord(
            r.id, r.enterprise_id, r.announced_on, r.round_type,
            _cents(r.amount) if r.currency else None, r.currency if r.amount is not None else None,
            tuple(investors[r.id]), _cents(r.post_money_valuation), r.post_money_currency, r.amount_text,
        )
        for r in session.execute(
            select(fr.id, fr.enterprise_id, fr.announced_on, fr.round_type, fr.amount, fr.currency,
                   fr.post_money_valuation, fr.post_money_currency, fr.amount_text).where(*where)
        )
    )  # fmt: skip


def _outcomes(session: Session, *where: Any) -> tuple[OutcomeRecord, ...]:
    """Lifecycle events that count as outcomes (list entry, IPO …) matching ``where``."""
    ev = LifecycleEvent
    return tuple(
        OutcomeRecord(e.id, e.enterprise_id, e.kind, e.occurred_on)
        for e in session.execute(
            select(ev.id, ev.enterprise_id, ev.kind, ev.occurred_on).where(
                ev.kind.in_(sorted(OUTCOME_KINDS)), *where
            )
        )
    )


def load_focused_records(
    session: Session, enterprise_ids: Collection[str], *, since: dt.date, until: dt.date
) -> RegistryRecords:
    """What the signals of ``enterprise_ids`` dated ``since`` … ``until`` read, and no more: their own
    records, and, for the strong-investor signal, the rounds up to ``until`` (with all their investors) of
    the investors in their rounds of the window, and the outcomes of the enterprises those rounds funded.

    A strong-investor signal is dated at a round of the window and counts its investor's first rounds
    before that day, so an investor seen only in earlier rounds, or a round after ``until``, cannot change
    one (a profile's enterprise without a round in the window reads no portfolio at all). Signals of these
    enterprises in the window computed from it equal those computed from the whole registry (a test checks
    it)."""
    own = load_records(session, enterprise_ids=enterprise_ids)
    their_investors = (
        select(RoundInvestor.investor_id)
        .join(FundingRound, FundingRound.id == RoundInvestor.round_id)
        .where(
            FundingRound.enterprise_id.in_(sorted(enterprise_ids)),
            FundingRound.announced_on.between(since, until),
        )
    )
    in_context = (
        FundingRound.id.in_(
            select(RoundInvestor.round_id).where(RoundInvestor.investor_id.in_(their_investors))
        ),
        FundingRound.enterprise_id.not_in(sorted(enterprise_ids)),
        FundingRound.announced_on <= until,
    )
    context = _round_records(session, *in_context)
    rounds = own.rounds + context
    # the enterprises those rounds funded, asked of the database as a subquery: as a list, 24,296 ids at
    # 100,000 enterprises, beyond the 32,766 parameters many SQLite builds allow at a larger registry
    backed = select(FundingRound.enterprise_id).where(*in_context)
    outcomes = own.outcomes + _outcomes(session, LifecycleEvent.enterprise_id.in_(backed))
    return RegistryRecords(own.enterprises, rounds, own.valuations, outcomes)


def load_records(session: Session, *, enterprise_ids: Collection[str] | None = None) -> RegistryRecords:
    """Every record the signals read: enterprises, rounds with their investors, valuations, outcomes —
    of ``enterprise_ids`` only when given."""
    only = None if enterprise_ids is None else sorted(enterprise_ids)

    def scoped(query: Any, column: Any) -> Any:
        return query if only is None else query.where(column.in_(only))

    enterprises = {
        e.id: EnterpriseRecord(e.id, e.name, bool(e.is_synthetic))
        for e in session.execute(
            scoped(select(Enterprise.id, Enterprise.name, Enterprise.is_synthetic), Enterprise.id)
        )
    }
    rounds = _round_records(session, *([] if only is None else [FundingRound.enterprise_id.in_(only)]))
    va = Valuation
    valuations = tuple(
        ValuationRecord(
            f"valuation:{v.id}", v.enterprise_id, v.as_of, _cents(v.value) or 0, v.currency, v.evidence
        )
        for v in session.execute(
            scoped(
                select(va.id, va.enterprise_id, va.as_of, va.value, va.currency, va.evidence),
                va.enterprise_id,
            )
        )
    )
    outcomes = _outcomes(session, *([] if only is None else [LifecycleEvent.enterprise_id.in_(only)]))
    return RegistryRecords(enterprises, rounds, valuations, outcomes)


def find_signals(
    session: Session,
    *,
    since: dt.date,
    until: dt.date | None = None,
    params: SignalParams | None = None,
    kinds: Sequence[str] | None = None,
    enterprise_ids: Collection[str] | None = None,
) -> list[Signal]:
    """The signals dated ``since`` … ``until`` (default: today) from the registry; of ``enterprise_ids``
    only when given (reading just their records and their investors' portfolios, not the registry)."""
    until = until or today()
    if enterprise_ids is None:
        records = load_records(session)
    else:
        records = load_focused_records(session, enterprise_ids, since=since, until=until)
    return compute_signals(
        records,
        since=since,
        until=until,
        params=params,
        kinds=kinds,
        enterprise_ids=enterprise_ids,
    )
