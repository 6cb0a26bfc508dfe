"""Scoring over the registry as of a date (time-honest): builds plain facts, then calls the pure scorer.

What counts as known on ``as_of``:

* **enterprises** founded on or before it (or of unknown founding date) whose latest status dated on or
  before it is ``operating``; with no dated status the enterprise is taken as operating, unless its
  current status is something else and undated (then it cannot be shown to have been operating);
* **operating reports** of years that had ended by then: ``year ≤ as_of.year − 1``, or ``≤ as_of.year``
  when ``as_of`` is 31 December. The latest such year is used, and the year before it for growth;
* **valuations** dated on or before it: the latest date and the one before, the best evidence grade on a
  date (disclosed > third-party-list > estimated > self-declared). A previous valuation in another currency
  is converted into the latest one's currency at the yearly rate of the latest one's date;
* **tracks** as registered (tracks carry no date).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.common.money import Money
from qilin.reference.fx import NoRateError
from qilin.registry.models import Enterprise, EnterpriseTrack, OperatingReport, StatusRecord, Valuation
from qilin.scoring.evaluate import ScoringResult, evaluate
from qilin.scoring.index import IndexDefinition
from qilin.scoring.indicators import EnterpriseFacts

EVIDENCE_ORDER = {"disclosed": 0, "third-party-list": 1, "estimated": 2, "self-declared": 3}


def last_report_year(as_of: dt.date) -> int:
    """The latest report year that had ended by ``as_of``.

    >>> last_report_year(dt.date(2025, 6, 30)), last_report_year(dt.date(2025, 12, 31))
    (2024, 2025)
    """
    return as_of.year if (as_of.month, as_of.day) == (12, 31) else as_of.year - 1


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class _Valuation:
    on: dt.date
    value: Decimal
    currency: str


def _operating_ids(session: Session, as_of: dt.date) -> list[tuple[str, str]]:
    """(id, name) of the enterprises operating on ``as_of``, by id."""
    latest_status: dict[str, str] = {}
    rows = session.execute(
        select(StatusRecord.enterprise_id, StatusRecord.status)
        .where(StatusRecord.as_of <= as_of)
        .order_by(StatusRecord.enterprise_id, StatusRecord.as_of, StatusRecord.id)
    )
    for enterprise_id, status in rows:
        latest_status[enterprise_id] = status
    out: list[tuple[str, str]] = []
    enterprises = session.execute(
        select(
            Enterprise.id, Enterprise.name, Enterprise.founded_on, Enterprise.status, Enterprise.status_as_of
        ).order_by(Enterprise.id)
    )
    for enterprise_id, name, founded_on, status, status_as_of in enterprises:
        if founded_on is not None and founded_on > as_of:
            continue
        known = latest_status.get(enterprise_id)
        if known is None and status_as_of is not None and status_as_of <= as_of:
            known = status
        if known is None and status_as_of is None and status != "operating":
            continue
        if known not in (None, "operating"):
            continue
        out.append((enterprise_id, name))
    return out


def _valuations(session: Session, as_of: dt.date) -> dict[str, list[_Valuation]]:
    """Per enterprise, one valuation per date (the best evidence), newest first."""
    best: dict[tuple[str, dt.date], tuple[tuple[int, int], _Valuation]] = {}
    rows = session.execute(
        select(
            Valuation.id,
            Valuation.enterprise_id,
            Valuation.as_of,
            Valuation.value,
            Valuation.currency,
            Valuation.evidence,
        ).where(Valuation.as_of <= as_of)
    )
    for row_id, enterprise_id, on, value, currency, evidence in rows:
        key = (EVIDENCE_ORDER.get(evidence, len(EVIDENCE_ORDER)), -row_id)
        current = best.get((enterprise_id, on))
        if current is None or key < current[0]:
            best[(enterprise_id, on)] = (key, _Valuation(on, value, currency))
    out: dict[str, list[_Valuation]] = defaultdict(list)
    for (enterprise_id, _), (_, valuation) in best.items():
        out[enterprise_id].append(valuation)
    for items in out.values():
        items.sort(key=lambda v: v.on, reverse=True)
    return out


class _Report(NamedTuple):
    year: int
    revenue: Decimal | None
    net_profit: Decimal | None
    employees: int | None
    rd_expense: Decimal | None
    rd_staff: int | None
    invention_patents: int | None


def _with_report(facts: EnterpriseFacts, years: dict[int, _Report]) -> EnterpriseFacts:
    if not years:
        return facts
    latest = years[max(years)]
    previous = years.get(latest.year - 1)
    return replace(
        facts,
        report_year=latest.year,
        revenue=_float(latest.revenue),
        net_profit=_float(latest.net_profit),
        employees=latest.employees,
        rd_expense=_float(latest.rd_expense),
        rd_staff=latest.rd_staff,
        invention_patents=latest.invention_patents,
        previous_revenue=None if previous is None else _float(previous.revenue),
    )


def _with_valuations(facts: EnterpriseFacts, items: list[_Valuation]) -> EnterpriseFacts:
    if not items:
        return facts
    latest = items[0]
    facts = replace(
        facts, valuation=float(latest.value), valuation_on=latest.on, valuation_currency=latest.currency
    )
    if len(items) < 2:
        return facts
    previous = items[1]
    facts = replace(facts, previous_valuation_on=previous.on)
    if previous.currency == latest.currency:
        return replace(facts, previous_valuation=float(previous.value))
    try:
        conversion = Money.of(previous.value, previous.currency).convert(latest.currency, on=latest.on)
    except NoRateError as exc:
        note = f"前次估值无法换算 / previous valuation not converted: {exc}"
        return replace(facts, notes=(*facts.notes, note))
    note = f"前次估值换算 / previous valuation converted: {conversion.describe('zh')}"
    return replace(facts, previous_valuation=float(conversion.result.amount), notes=(*facts.notes, note))


def list_facts(session: Session, *, as_of: dt.date) -> list[EnterpriseFacts]:
    """Plain facts of every enterprise operating on ``as_of``, from records known on that date."""
    enterprises = _operating_ids(session, as_of)

    tracks: dict[str, list[str]] = defaultdict(list)
    for enterprise_id, code in session.execute(
        select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code).order_by(
            EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code
        )
    ):
        tracks[enterprise_id].append(code)

    reports: dict[str, dict[int, _Report]] = defaultdict(dict)
    for row in session.execute(
        select(
            OperatingReport.enterprise_id,
            OperatingReport.year,
            OperatingReport.revenue,
            OperatingReport.net_profit,
            OperatingReport.employees,
            OperatingReport.rd_expense,
            OperatingReport.rd_staff,
            OperatingReport.invention_patents,
        ).where(OperatingReport.year <= last_report_year(as_of))
    ):
        reports[row[0]][row[1]] = _Report(*row[1:])

    valuations = _valuations(session, as_of)
    out: list[EnterpriseFacts] = []
    for enterprise_id, name in enterprises:
        facts = EnterpriseFacts(enterprise_id, name, tuple(tracks.get(enterprise_id, ())))
        facts = _with_report(facts, reports.get(enterprise_id, {}))
        out.append(_with_valuations(facts, valuations.get(enterprise_id, [])))
    return out


def first_data_on(session: Session) -> dt.date | None:
    """The first date on which any dated fact an indicator reads was known: the earliest valuation, or
    the last day of the earliest report year (a year's report counts once the year has ended). None when
    the registry holds neither; before this date every dated indicator of every enterprise is imputed."""
    first_valuation = session.scalar(select(func.min(Valuation.as_of)))
    first_year = session.scalar(select(func.min(OperatingReport.year)))
    known = [d for d in (first_valuation, None if first_year is None else dt.date(first_year, 12, 31)) if d]
    return min(known, default=None)


def rank(session: Session, *, as_of: dt.date, index: IndexDefinition) -> ScoringResult:
    """Scores and ranks of the enterprises operating on ``as_of`` under ``index``."""
    return evaluate(list_facts(session, as_of=as_of), index, as_of=as_of)
