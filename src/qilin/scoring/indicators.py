"""The indicator registry (指标库): every indicator an index file may name, with its meaning and how it is
computed from plain per-enterprise facts (:class:`EnterpriseFacts`).

An indicator computes one raw value per enterprise for a whole cohort at once (the market-position proxy
compares an enterprise with its track peers), or says why the value is missing (a reason code whose text
lives in :mod:`qilin.scoring.messages` as ``reason.<code>``). Missing values are never filled here: the
index file states the imputation and the evaluator records it per enterprise.

>>> facts = [EnterpriseFacts("a", report_year=2023, revenue=200.0, rd_expense=50.0), EnterpriseFacts("b")]
>>> INDICATORS["rd_intensity"].compute(facts)
[IndicatorValue(value=0.25, reason=None), IndicatorValue(value=None, reason='no_report')]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from qilin.reference.tracks import all_tracks

TRACK_GROUP_SCORES = MappingProxyType({"emerging": 1.0, "future": 1.0, "key_field": 0.5})
"""Plan-track score by track group: emerging (新兴产业) and future (未来产业) tracks 1, key fields (重点领域)
0.5; no plan track 0."""


@dataclass(frozen=True, slots=True)
class EnterpriseFacts:
    """What the scorer knows about one enterprise as of a date (amounts in RMB unless a currency is named).

    ``report_year`` is the year of the latest operating report used; ``previous_revenue`` the revenue of the
    year before it. ``valuation`` is the latest valuation and ``previous_valuation`` the one before it, both
    in ``valuation_currency`` (a previous valuation in another currency is converted at the rate of the
    latest one's date, and ``notes`` say so).
    """

    company_id: str
    name: str = ""
    tracks: tuple[str, ...] = ()
    report_year: int | None = None
    revenue: float | None = None
    net_profit: float | None = None
    employees: int | None = None
    rd_expense: float | None = None
    rd_staff: int | None = None
    invention_patents: int | None = None
    previous_revenue: float | None = None
    valuation: float | None = None
    valuation_on: dt.date | None = None
    previous_valuation: float | None = None
    previous_valuation_on: dt.date | None = None
    valuation_currency: str | None = None
    notes: tuple[str, ...] = ()


class IndicatorValue(NamedTuple):
    """A raw indicator value, or None with the reason code (``reason.<code>`` in the messages)."""

    value: float | None
    reason: str | None = None


Compute = Callable[[Sequence[EnterpriseFacts]], list[IndicatorValue]]


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator: its name, labels, a one-line meaning in both languages, and how it is computed."""

    name: str
    label_zh: str
    label_en: str
    meaning_zh: str
    meaning_en: str
    compute: Compute


def _missing(reason: str) -> IndicatorValue:
    return IndicatorValue(None, reason)


def _per_enterprise(function: Callable[[EnterpriseFacts], IndicatorValue]) -> Compute:
    def compute(cohort: Sequence[EnterpriseFacts]) -> list[IndicatorValue]:
        return [function(f) for f in cohort]

    return compute


def _has_positive_revenue(f: EnterpriseFacts) -> IndicatorValue | None:
    """None when revenue is usable as a denominator, else the reason it is not."""
    if f.report_year is None:
        return _missing("no_report")
    if f.revenue is None or f.revenue <= 0:
        return _missing("revenue_not_positive")
    return None


def _share_of_revenue(amount: Callable[[EnterpriseFacts], float | None]) -> Compute:
    def one(f: EnterpriseFacts) -> IndicatorValue:
        refused = _has_positive_revenue(f)
        if refused is not None:
            return refused
        numerator = amount(f)
        if numerator is None:
            return _missing("no_value")
        assert f.revenue is not None
        return IndicatorValue(numerator / f.revenue)

    return _per_enterprise(one)


def _invention_patents(f: EnterpriseFacts) -> IndicatorValue:
    if f.report_year is None:
        return _missing("no_report")
    if f.invention_patents is None:
        return _missing("no_value")
    return IndicatorValue(float(f.invention_patents))


def _rd_staff_share(f: EnterpriseFacts) -> IndicatorValue:
    if f.report_year is None:
        return _missing("no_report")
    if f.employees is None or f.employees <= 0:
        return _missing("employees_not_positive")
    if f.rd_staff is None:
        return _missing("no_value")
    return IndicatorValue(f.rd_staff / f.employees)


def _revenue_growth(f: EnterpriseFacts) -> IndicatorValue:
    refused = _has_positive_revenue(f)
    if refused is not None:
        return refused
    if f.previous_revenue is None or f.previous_revenue <= 0:
        return _missing("no_previous_year")
    assert f.revenue is not None
    return IndicatorValue(f.revenue / f.previous_revenue - 1.0)


def _valuation_step_up(f: EnterpriseFacts) -> IndicatorValue:
    if f.valuation is None or f.previous_valuation is None or f.previous_valuation <= 0:
        return _missing("valuation_missing")
    return IndicatorValue(f.valuation / f.previous_valuation)


def _plan_track(f: EnterpriseFacts) -> IndicatorValue:
    known = all_tracks()
    scores = [TRACK_GROUP_SCORES.get(known[c].group, 0.0) for c in f.tracks if c in known]
    return IndicatorValue(max(scores, default=0.0))


def _revenue_scale(f: EnterpriseFacts) -> IndicatorValue:
    refused = _has_positive_revenue(f)
    if refused is not None:
        return refused
    assert f.revenue is not None
    return IndicatorValue(math.log10(f.revenue))


def _percentiles(revenues: list[tuple[int, float]]) -> dict[int, float]:
    """Mid-rank percentile in [0, 1] of each (position, revenue); 1 = largest, a lone member 1."""
    n = len(revenues)
    if n == 1:
        return {revenues[0][0]: 1.0}
    ordered = sorted(revenues, key=lambda item: item[1])
    out: dict[int, float] = {}
    start = 0
    while start < n:
        end = start
        while end + 1 < n and ordered[end + 1][1] == ordered[start][1]:
            end += 1
        mid_rank = (start + end) / 2  # 0-based average rank of the tie
        for position, _ in ordered[start : end + 1]:
            out[position] = mid_rank / (n - 1)
        start = end + 1
    return out


def _revenue_rank_in_track(cohort: Sequence[EnterpriseFacts]) -> list[IndicatorValue]:
    """Revenue percentile among the enterprises of the same track (best over an enterprise's tracks)."""
    by_track: dict[str, list[tuple[int, float]]] = {}
    for position, f in enumerate(cohort):
        if f.report_year is None or f.revenue is None:
            continue
        for track in dict.fromkeys(f.tracks):
            by_track.setdefault(track, []).append((position, f.revenue))
    best: dict[int, float] = {}
    for members in by_track.values():
        for position, pct in _percentiles(members).items():
            best[position] = max(best.get(position, 0.0), pct)
    out: list[IndicatorValue] = []
    for position, f in enumerate(cohort):
        if not f.tracks:
            out.append(_missing("no_track"))
        elif f.report_year is None:
            out.append(_missing("no_report"))
        elif f.revenue is None:
            out.append(_missing("no_value"))
        else:
            out.append(IndicatorValue(best[position]))
    return out


def _indicator(name: str, zh: str, en: str, meaning_zh: str, meaning_en: str, compute: Compute) -> Indicator:
    return Indicator(name, zh, en, meaning_zh, meaning_en, compute)


_ALL = (
    _indicator(
        "rd_intensity",
        "研发投入强度",
        "R&D intensity",
        "研发费用 ÷ 营业收入（最近年度）",
        "R&D expense ÷ revenue, latest report year",
        _share_of_revenue(lambda f: f.rd_expense),
    ),
    _indicator(
        "invention_patents",
        "发明专利数",
        "invention patents",
        "有效发明专利件数（最近年度）",
        "invention patents held, latest report year",
        _per_enterprise(_invention_patents),
    ),
    _indicator(
        "rd_staff_share",
        "研发人员占比",
        "R&D staff share",
        "研发人员数 ÷ 员工总数（最近年度）",
        "R&D staff ÷ employees, latest report year",
        _per_enterprise(_rd_staff_share),
    ),
    _indicator(
        "revenue_growth",
        "营业收入同比增长率",
        "revenue growth",
        "最近年度营业收入 ÷ 上一年度营业收入 − 1",
        "latest year's revenue ÷ the year before's − 1",
        _per_enterprise(_revenue_growth),
    ),
    _indicator(
        "valuation_step_up",
        "估值提升倍数",
        "valuation step-up",
        "最近一次估值 ÷ 前一次估值（同一币种）",
        "latest valuation ÷ the previous one, in one currency",
        _per_enterprise(_valuation_step_up),
    ),
    _indicator(
        "plan_track",
        "行动方案赛道",
        "plan track",
        "新兴产业、未来产业赛道记 1，重点领域记 0.5，其他记 0",
        "emerging or future track 1, key field 0.5, none 0",
        _per_enterprise(_plan_track),
    ),
    _indicator(
        "revenue_rank_in_track",
        "赛道内营收位次",
        "revenue rank in track",
        "在同赛道企业中的营业收入百分位（1 为最高；多赛道取最好）",
        "revenue percentile among same-track enterprises (1 = largest; best over its tracks)",
        _revenue_rank_in_track,
    ),
    _indicator(
        "net_margin",
        "净利润率",
        "net margin",
        "净利润 ÷ 营业收入（最近年度）",
        "net profit ÷ revenue, latest report year",
        _share_of_revenue(lambda f: f.net_profit),
    ),
    _indicator(
        "revenue_scale",
        "营收规模",
        "revenue scale",
        "log10（营业收入，元）",
        "log10 of revenue in yuan",
        _per_enterprise(_revenue_scale),
    ),
)

INDICATORS: Mapping[str, Indicator] = MappingProxyType({i.name: i for i in _ALL})
"""Every known indicator by name, in the order they are documented."""
