"""The tier explainer (梯队评定): one enterprise, one standard, one as-of date → its tier with a trace.

Pure: it reads :class:`~qilin.tiers.facts.EnterpriseFacts` already cut to the as-of date and returns plain
data. Every criterion reports its value, its threshold, pass or fail, the records it rests on, and the FX
rate and year it used. Money comparisons are made in whole cents of the threshold's currency, converted at
the yearly average of the record's own date (see :func:`~qilin.tiers.facts.convert_cents`), so that the
vectorised path (:mod:`qilin.tiers.compile`) reaches exactly the same decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from decimal import Decimal
from typing import Any

from qilin.reference import regions
from qilin.tiers.facts import (
    EXIT_STATUSES,
    PRIVATE_ROUND_TYPES,
    EnterpriseFacts,
    convert_cents,
    fx_factor,
    round_valuations,
    valuation_order,
)
from qilin.tiers.standards import Criterion, Standard, Threshold

# Exclusion reasons (未入库原因), in the order they are reported.
REASONS: tuple[str, ...] = (
    "listed", "acquired", "closed", "too_old", "founding_date_unknown", "too_young", "not_mainland",
    "not_in_province", "region_unknown", "not_in_track", "no_private_financing", "no_valuation", "no_fx_rate",
    "valuation_insufficient", "financing_insufficient",
)  # fmt: skip
MAINLAND_COUNTRIES = frozenset({"CN", "CHN", "CHINA", "中国", "中华人民共和国"})
NOT_MAINLAND_PREFIXES = ("71", "81", "82")  # 台湾, 香港, 澳门


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # round / valuation / status / event / enterprise
    record_id: str
    date: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FxUse:
    from_currency: str
    to_currency: str
    rate: float
    year: int  # the yearly average used
    on: str  # the record's date (its year may have no average yet)


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: str
    passed: bool
    value: Any
    threshold: Any
    reason: str | None = None  # an exclusion reason (REASONS) when failed
    evidence: tuple[Evidence, ...] = ()
    fx: tuple[FxUse, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class TierCheck:
    tier: str
    passed: bool
    alternatives: tuple[tuple[CriterionResult, ...], ...]


@dataclass(frozen=True, slots=True)
class TierResult:
    enterprise_id: str
    standard_id: str
    standard_version: int
    as_of: dt.date
    tier: str
    retroactive: bool
    checks: tuple[TierCheck, ...]
    exclusions: tuple[str, ...] = field(default=())
    region_code: str | None = None  # where it was registered on the as-of date

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _plain(self)
        data["as_of"] = self.as_of.isoformat()
        return data


# Values passed through as they are: immutable, so the copy dataclasses.asdict makes of them is equal.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), dt.date, Decimal})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class _Box:
    value: Any


def _plain(value: Any) -> Any:
    """What :func:`dataclasses.asdict` makes of ``value``, written for a trace's dataclasses, tuples, lists,
    dicts and scalars: asdict took three quarters of a tier snapshot (575 nodes per enterprise, each asked
    whether it is a dataclass and deep-copied). Anything else goes through asdict itself."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is tuple or kind is list:
        return kind(_plain(v) for v in value)
    if kind is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(kind):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    return asdict(_Box(value))["value"]


def years_before(date: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return date.replace(year=date.year - years)
    except ValueError:
        return date.replace(year=date.year - years, day=28)


def add_years(date: dt.date, years: int) -> dt.date:
    """The anniversary ``years`` later; a 29 February founding's anniversary falls on 28 February (民法典
    第二百零二条: without a corresponding day, the month's last day ends the period)."""
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)


def age_cutoff(as_of: dt.date, years: int) -> dt.date:
    """The earliest founding date still within ``years`` years of ``as_of``: founded on or after it means
    "founded at most ``years`` years ago", counted forward from the founding date.

    Less than ``years`` years after the first representable day (1 January of year 1) no founding date is
    older than that, so the cut-off is that first day rather than an error.
    """
    if as_of.year - years < dt.MINYEAR:
        return dt.date.min
    day = dt.timedelta(days=1)
    same_day = years_before(as_of, years)
    candidate = same_day - 2 * day if same_day - dt.date.min >= 2 * day else dt.date.min
    while add_years(candidate, years) < as_of:
        candidate += day
    return candidate


def _age(facts: EnterpriseFacts, as_of: dt.date) -> dict[str, int] | None:
    """Age in whole years (anniversaries passed) and the days beyond them: 10 years 1 day, not "10.0"."""
    if facts.founded_on is None:
        return None
    years = max(as_of.year - facts.founded_on.year, 0)
    while years > 0 and add_years(facts.founded_on, years) > as_of:
        years -= 1
    return {"years": years, "days": (as_of - add_years(facts.founded_on, years)).days}


def _founded_evidence(facts: EnterpriseFacts) -> tuple[Evidence, ...]:
    if facts.founded_on is None:
        return ()
    return (Evidence("enterprise", facts.enterprise_id, facts.founded_on.isoformat(), "founded_on"),)


def check_max_age(facts: EnterpriseFacts, as_of: dt.date, years: int) -> CriterionResult:
    if facts.founded_on is None:
        return CriterionResult("max_age_years", False, None, years, "founding_date_unknown")
    passed = facts.founded_on >= age_cutoff(as_of, years)
    return CriterionResult(
        "max_age_years",
        passed,
        _age(facts, as_of),
        years,
        None if passed else "too_old",
        _founded_evidence(facts),
    )


def check_min_age(facts: EnterpriseFacts, as_of: dt.date, years: int) -> CriterionResult:
    if facts.founded_on is None:
        return CriterionResult("min_age_years", False, None, years, "founding_date_unknown")
    passed = facts.founded_on < age_cutoff(as_of, years)
    return CriterionResult(
        "min_age_years", passed, _age(facts, as_of), years, None if passed else "too_young",
        _founded_evidence(facts),
    )  # fmt: skip


def is_mainland(facts: EnterpriseFacts) -> bool:
    if facts.region_code:
        return regions.get(facts.region_code) is not None and not facts.region_code.startswith(
            NOT_MAINLAND_PREFIXES
        )
    return (facts.country or "").strip().upper() in MAINLAND_COUNTRIES


def check_mainland(facts: EnterpriseFacts) -> CriterionResult:
    passed = is_mainland(facts)
    value = facts.region_code or facts.country
    return CriterionResult("registered_in_mainland", passed, value, "CN", None if passed else "not_mainland")


def check_province(facts: EnterpriseFacts, province: str) -> CriterionResult:
    passed = bool(facts.region_code) and str(facts.region_code)[:2] == province[:2]
    reason = None
    if not passed:
        # a mainland enterprise without a region code is not known to be elsewhere: say what is missing
        unknown = not facts.region_code and is_mainland(facts)
        reason = "region_unknown" if unknown else "not_in_province"
    return CriterionResult("registered_in_province", passed, facts.region_code, province, reason)


def exit_state(facts: EnterpriseFacts) -> tuple[str | None, tuple[Evidence, ...]]:
    """'acquired' or 'closed' when the latest dated signal says so (on a tie the exit wins), else None."""
    exits: list[tuple[dt.date, str, Evidence]] = []
    going: list[dt.date] = []
    for s in facts.statuses:
        if s.status in EXIT_STATUSES:
            exits.append((s.as_of, s.status, Evidence("status", s.status, s.as_of.isoformat())))
        else:
            going.append(s.as_of)
    for e in facts.events:
        if e.kind in ("acquisition", "closure"):
            state = "acquired" if e.kind == "acquisition" else "closed"
            exits.append(
                (e.occurred_on, state, Evidence("event", e.record_id, e.occurred_on.isoformat(), e.kind))
            )
    if not exits:
        return None, ()
    latest_exit = max(exits, key=lambda x: (x[0], x[1]))
    if going and max(going) > latest_exit[0]:
        return None, ()
    return latest_exit[1], (latest_exit[2],)


def check_operating(facts: EnterpriseFacts) -> CriterionResult:
    state, evidence = exit_state(facts)
    return CriterionResult("operating", state is None, state or "operating", "operating", state, evidence)


def listing_evidence(facts: EnterpriseFacts) -> tuple[Evidence, ...]:
    found = [
        Evidence("event", e.record_id, e.occurred_on.isoformat(), "ipo")
        for e in facts.events
        if e.kind == "ipo"
    ]
    found += [Evidence("status", "ipo", s.as_of.isoformat()) for s in facts.statuses if s.status == "ipo"]
    found += [
        Evidence("round", r.record_id, r.announced_on.isoformat(), r.round_type)
        for r in facts.rounds
        if r.round_type in ("ipo", "post-ipo")
    ]
    return tuple(sorted(found, key=lambda e: (e.date or "", e.record_id)))


def check_not_listed(facts: EnterpriseFacts) -> CriterionResult:
    evidence = listing_evidence(facts)
    listed = bool(evidence)
    value = "listed" if listed else "unlisted"
    return CriterionResult(
        "not_listed", not listed, value, "unlisted", "listed" if listed else None, evidence[:3]
    )


def check_private_financing(facts: EnterpriseFacts) -> CriterionResult:
    private = sorted(
        (r for r in facts.rounds if r.round_type in PRIVATE_ROUND_TYPES), key=lambda r: r.announced_on
    )
    evidence = tuple(
        Evidence("round", r.record_id, r.announced_on.isoformat(), r.round_type) for r in private[:3]
    )
    passed = bool(private)
    return CriterionResult(
        "has_private_financing", passed, len(private), 1, None if passed else "no_private_financing", evidence
    )


def _fx_use(from_currency: str, to_currency: str, on: dt.date) -> tuple[FxUse, ...]:
    factor = fx_factor(from_currency, to_currency, on.year)
    if factor is None or from_currency == to_currency:
        return ()
    from qilin.reference.fx import default_table

    year = default_table().quote(from_currency, to_currency, on).rate_year
    return (FxUse(from_currency, to_currency, factor, year, on.isoformat()),)


def check_min_valuation(facts: EnterpriseFacts, threshold: Threshold) -> CriterionResult:
    candidates = facts.valuations + round_valuations(facts.rounds)
    if not candidates:
        return CriterionResult(
            "min_valuation", False, None, _money(threshold.cents, threshold.currency), "no_valuation"
        )
    latest = max(candidates, key=valuation_order)
    evidence = (
        Evidence(
            "valuation", latest.record_id, latest.as_of.isoformat(), f"{latest.evidence}; {latest.source}"
        ),
    )
    original = _money(latest.value_cents, latest.currency)
    converted = convert_cents(latest.value_cents, latest.currency, threshold.currency, latest.as_of)
    if converted is None:
        return CriterionResult(
            "min_valuation",
            False,
            original,
            _money(threshold.cents, threshold.currency),
            "no_fx_rate",
            evidence,
        )
    passed = converted >= threshold.cents
    return CriterionResult(
        "min_valuation", passed, _money(converted, threshold.currency) | {"original": original},
        _money(threshold.cents, threshold.currency), None if passed else "valuation_insufficient", evidence,
        _fx_use(latest.currency, threshold.currency, latest.as_of),
    )  # fmt: skip


def check_cumulative_financing(facts: EnterpriseFacts, threshold: Threshold) -> CriterionResult:
    total = 0
    evidence: list[Evidence] = []
    fx: dict[tuple[str, int], FxUse] = {}
    vague = undisclosed = unconvertible = 0
    for r in sorted(facts.rounds, key=lambda r: (r.announced_on, r.record_id)):
        if r.round_type not in PRIVATE_ROUND_TYPES:
            continue
        cents = r.amount_cents if r.amount_cents is not None else r.low_cents
        if cents is None or not r.currency:
            undisclosed += 1
            continue
        vague += r.amount_cents is None
        converted = convert_cents(cents, r.currency, threshold.currency, r.announced_on)
        if converted is None:
            unconvertible += 1
            continue
        total += converted
        evidence.append(Evidence("round", r.record_id, r.announced_on.isoformat(), r.round_type))
        for use in _fx_use(r.currency, threshold.currency, r.announced_on):
            fx[(use.from_currency, use.year)] = use
    notes = []
    if vague:
        notes.append(f"vague:{vague}")
    if undisclosed:
        notes.append(f"undisclosed:{undisclosed}")
    if unconvertible:
        notes.append(f"no_fx_rate:{unconvertible}")
    passed = total >= threshold.cents
    return CriterionResult(
        "min_cumulative_financing", passed, _money(total, threshold.currency),
        _money(threshold.cents, threshold.currency), None if passed else "financing_insufficient",
        tuple(evidence), tuple(fx[k] for k in sorted(fx)), ";".join(notes),
    )  # fmt: skip


def check_tracks(facts: EnterpriseFacts, allowed: tuple[str, ...]) -> CriterionResult:
    matching = [t for t in facts.tracks if t in allowed]
    passed = bool(matching)
    return CriterionResult(
        "in_tracks", passed, list(facts.tracks), list(allowed), None if passed else "not_in_track"
    )


def _money(cents: int, currency: str) -> dict[str, Any]:
    return {"cents": cents, "currency": currency}


def check(criterion: Criterion, facts: EnterpriseFacts, as_of: dt.date) -> CriterionResult:
    """One criterion against facts already cut to ``as_of``."""
    name, param = criterion.name, criterion.param
    if name == "registered_in_mainland":
        return check_mainland(facts)
    if name == "registered_in_province":
        return check_province(facts, param)
    if name == "operating":
        return check_operating(facts)
    if name == "not_listed":
        return check_not_listed(facts)
    if name == "has_private_financing":
        return check_private_financing(facts)
    if name == "max_age_years":
        return check_max_age(facts, as_of, param)
    if name == "min_age_years":
        return check_min_age(facts, as_of, param)
    if name == "min_valuation":
        return check_min_valuation(facts, param)
    if name == "min_cumulative_financing":
        return check_cumulative_financing(facts, param)
    if name == "in_tracks":
        return check_tracks(facts, param)
    raise ValueError(f"unknown criterion {name}")


AGE_REASONS = frozenset({"too_old", "too_young", "founding_date_unknown"})


def closest_failures(alternatives: Sequence[Sequence[Any]]) -> set[str]:
    """Why a tier was missed: the failures of its closest alternative, the one with the fewest failed
    criteria and, on a tie, the fewest failures of age (a 7-year-old misses the ≤ 5-year route by its age,
    which says less than what it lacks on the 5-9-year route). Items are CriterionResults or their dicts."""

    def failures(alt: Sequence[Any]) -> list[str]:
        return [_reason(r) or "" for r in alt if not _passed(r)]

    closest = min(
        alternatives, key=lambda alt: (len(failures(alt)), sum(f in AGE_REASONS for f in failures(alt)))
    )
    return {reason for reason in failures(closest) if reason}


def _reason(r: Any) -> str | None:
    return r.get("reason") if isinstance(r, dict) else r.reason


def _passed(r: Any) -> bool:
    return bool(r["passed"] if isinstance(r, dict) else r.passed)


def exclusion_reasons(checks: Sequence[TierCheck]) -> tuple[str, ...]:
    """Why an enterprise is in no tier: for every tier, what its closest alternative lacks."""
    found: set[str] = set()
    for check in checks:
        found |= closest_failures(check.alternatives)
    return tuple(reason for reason in REASONS if reason in found)


def evaluate(
    standard: Standard, facts: EnterpriseFacts, as_of: dt.date, *, retroactive: bool = False
) -> TierResult:
    """The highest tier of ``standard`` whose criteria all pass for ``facts`` as of ``as_of``.

    ``facts`` may hold later records: they are cut to the as-of date here, so nothing dated after it counts.
    """
    known = facts.as_of(as_of)
    checks: list[TierCheck] = []
    tier = "none"
    for rule in standard.tiers:
        alternatives = tuple(tuple(check(c, known, as_of) for c in alt) for alt in rule.alternatives)
        passed = any(all(r.passed for r in alt) for alt in alternatives)
        checks.append(TierCheck(rule.tier, passed, alternatives))
        if passed and tier == "none":
            tier = rule.tier
    exclusions: tuple[str, ...] = ()
    if tier == "none":
        exclusions = exclusion_reasons(checks)
    return TierResult(
        enterprise_id=facts.enterprise_id,
        standard_id=standard.id,
        standard_version=standard.version,
        as_of=as_of,
        tier=tier,
        retroactive=retroactive,
        checks=tuple(checks),
        exclusions=exclusions,
        region_code=known.region_code,
    )
