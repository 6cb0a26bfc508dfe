"""The vectorised tier evaluation (:mod:`qilin.tiers.compile`) agrees with the explainer
(:func:`qilin.tiers.evaluate.evaluate`) enterprise by enterprise: on random facts biased to every boundary
the criteria have, and on the demo database on both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from functools import cache
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from qilin.demo.service import build_demo
from qilin.reference import tracks
from qilin.tiers.compile import (
    ENTERPRISES_SCHEMA,
    EVENTS_SCHEMA,
    ROUNDS_SCHEMA,
    STATUSES_SCHEMA,
    TRACKS_SCHEMA,
    VALUATIONS_SCHEMA,
    TierFrames,
    evaluate_batch,
    frames_from_db,
    frames_from_facts,
)
from qilin.tiers.evaluate import evaluate, years_before
from qilin.tiers.facts import (
    EVIDENCE_RANK,
    PRIVATE_ROUND_TYPES,
    EnterpriseFacts,
    EventFact,
    RoundFact,
    StatusFact,
    ValuationFact,
    fx_factor,
)
from qilin.tiers.service import load_facts
from qilin.tiers.standards import TIER_CODES, Standard, Threshold, packaged_standards

STANDARDS = packaged_standards()
DAY = dt.timedelta(days=1)
# Leap days, a year end, a plain mid-year date, and dates past the FX table's last year.
AS_OF_DATES = (
    dt.date(2024, 2, 29),
    dt.date(2025, 2, 28),
    dt.date(2025, 6, 30),
    dt.date(2023, 3, 1),
    dt.date(2021, 12, 31),
    dt.date(2028, 2, 29),
)
THRESHOLDS: tuple[Threshold, ...] = tuple(
    sorted(
        {
            c.param
            for s in STANDARDS
            for rule in s.tiers
            for alt in rule.alternatives
            for c in alt
            if c.name in ("min_valuation", "min_cumulative_financing")
        },
        key=lambda t: (t.currency, t.cents),
    )
)
AGES = sorted(
    {c.param for s in STANDARDS for r in s.tiers for a in r.alternatives for c in a if "age" in c.name}
)
# CNY and USD most often; HKD and EUR convert; SGD has no rate in the table; "" is a blank currency.
CURRENCIES = ("CNY", "CNY", "USD", "USD", "HKD", "EUR", "SGD")
REGIONS = ("330106", "330106", "330100", "330000", "110105", "440305", "810000", "710000", "820000",
           "999999", "33", "", None)  # fmt: skip
COUNTRIES = ("CN", "CN", " china ", "中国", "CHN", "US", "HK", "", None)
GOOD_TRACKS = tuple(sorted(t.code for t in tracks.all_tracks().values() if t.group in ("emerging", "future")))
OTHER_TRACKS = (*sorted(t.code for t in tracks.all_tracks().values() if t.group == "key_field"), "unknown")
_Record = RoundFact | ValuationFact | StatusFact | EventFact
ROUND_TYPES = (*sorted(PRIVATE_ROUND_TYPES), "series-a", "series-b", "ipo", "post-ipo", "debt", "grant")


@cache
def _boundary_cents(threshold: Threshold, currency: str, on: dt.date) -> list[int]:
    """Amounts in ``currency`` that convert to exactly the threshold and to one cent below it."""
    factor = fx_factor(currency, threshold.currency, on.year)
    if factor is None:
        return [threshold.cents]
    cents = max(1, math.ceil(threshold.cents / factor) - 2)
    while math.floor(float(cents) * factor) < threshold.cents:
        cents += 1
    return [cents, cents - 1]


@st.composite
def record_dates(draw: st.DrawFn, as_of: dt.date) -> dt.date:
    """Mostly dates on and around the as-of date (shared, so that records tie), sometimes any date from
    before the FX table (no rate before 2000) to after the as-of date."""
    near = (as_of, as_of, as_of - DAY, as_of + DAY, as_of - 400 * DAY, dt.date(as_of.year, 1, 1),
            dt.date(1999, 12, 31), dt.date(2000, 1, 1))  # fmt: skip
    return draw(st.one_of(st.sampled_from(near), st.dates(dt.date(1996, 1, 1), dt.date(2030, 12, 31))))


@st.composite
def cents_in(draw: st.DrawFn, currency: str | None, on: dt.date) -> int:
    """An amount at a threshold (±1 cent), at a threshold's conversion boundary from ``currency`` (the
    amount converting to exactly the threshold, and the one a cent less), near a threshold, or anything."""
    threshold = draw(st.sampled_from(THRESHOLDS))
    choice = draw(st.integers(0, 6))
    if choice <= 1:
        return threshold.cents + draw(st.sampled_from((0, 0, -1, 1)))
    if choice <= 3 and currency:
        return draw(st.sampled_from(_boundary_cents(threshold, currency, on)))
    if choice == 6:  # up to the largest BIGINT, where float(cents) rounds
        return draw(st.one_of(st.integers(0, 10**15), st.integers(2**53, 2**63 - 1)))
    return threshold.cents * draw(st.integers(1, 40)) // 10


@st.composite
def founding(draw: st.DrawFn, as_of: dt.date) -> dt.date | None:
    """Unknown, exactly N years before the as-of date ± 1 day, a 29 February, a young company, or any date."""
    choice = draw(st.integers(0, 6))
    if choice == 0:
        return None
    if choice <= 2:
        return years_before(as_of, draw(st.sampled_from(AGES))) + draw(st.sampled_from((-1, 0, 1))) * DAY
    if choice == 3:
        return draw(st.sampled_from((dt.date(2016, 2, 29), dt.date(2020, 2, 29), dt.date(2019, 2, 28),
                                     dt.date(2019, 3, 1), dt.date(2015, 2, 28))))  # fmt: skip
    if choice <= 5:
        return as_of - draw(st.integers(0, 2000)) * DAY
    return draw(st.dates(dt.date(1995, 1, 1), as_of + 400 * DAY))


@st.composite
def valuations(draw: st.DrawFn, as_of: dt.date) -> ValuationFact:
    on = draw(record_dates(as_of))
    currency = draw(st.sampled_from(CURRENCIES))
    evidence = draw(st.sampled_from((*EVIDENCE_RANK, "disclosed", "rumour")))
    return ValuationFact("", on, draw(cents_in(currency, on)), currency, evidence, "test")


@st.composite
def rounds(draw: st.DrawFn, as_of: dt.date) -> RoundFact:
    on = draw(record_dates(as_of))
    currency = draw(st.sampled_from((*CURRENCIES, "", None)))
    disclosure = draw(st.sampled_from(("exact", "exact", "vague", "undisclosed")))
    cents = draw(cents_in(currency, on))
    post_currency = draw(st.sampled_from((*CURRENCIES, "", None)))
    post_money = draw(st.one_of(st.none(), cents_in(post_currency, on)))
    return RoundFact(
        "", on, draw(st.sampled_from(ROUND_TYPES)),
        cents if disclosure == "exact" else None,
        cents if disclosure == "vague" else None,
        currency, post_money, post_currency,
    )  # fmt: skip


@st.composite
def statuses(draw: st.DrawFn, as_of: dt.date) -> StatusFact:
    status = draw(st.sampled_from(("operating", "operating", "acquired", "closed", "ipo", "suspended")))
    return StatusFact(status, draw(record_dates(as_of)))


@st.composite
def events(draw: st.DrawFn, as_of: dt.date) -> EventFact:
    kind = draw(st.sampled_from(("ipo", "acquisition", "closure", "relocation", "relocation",
                                 "unicorn_list_entry")))  # fmt: skip
    if kind != "relocation":
        return EventFact("", kind, draw(record_dates(as_of)))
    return EventFact("", kind, draw(record_dates(as_of)), draw(st.sampled_from(REGIONS)),
                     draw(st.sampled_from(REGIONS)))  # fmt: skip


@st.composite
def exits(draw: st.DrawFn, as_of: dt.date) -> list[_Record]:
    """An acquisition or closure (status or event) and a non-exit status a day before, on, or after it."""
    on = draw(record_dates(as_of))
    choices: list[_Record] = [StatusFact("acquired", on), StatusFact("closed", on),
                              EventFact("", "acquisition", on), EventFact("", "closure", on)]  # fmt: skip
    exit_record = draw(st.sampled_from(choices))
    going = StatusFact(
        draw(st.sampled_from(("operating", "operating", "suspended"))), on + draw(st.integers(-1, 1)) * DAY
    )
    return [exit_record, going]


@st.composite
def moves(draw: st.DrawFn, as_of: dt.date) -> list[_Record]:
    """One to three relocations around the as-of date, often on one day (ordered by record id as text)."""
    days = st.sampled_from((as_of + DAY, as_of + DAY, as_of + 30 * DAY, as_of, as_of - DAY))
    regions = st.sampled_from(REGIONS)
    return [
        EventFact("", "relocation", draw(days), draw(regions), draw(regions))
        for _ in range(draw(st.integers(1, 3)))
    ]


@st.composite
def twins(draw: st.DrawFn, as_of: dt.date) -> list[_Record]:
    """Two valuations equal in date, evidence and cents but not in currency (one may be a round's
    post-money): only the record id decides which is the latest."""
    on = as_of - draw(st.integers(0, 400)) * DAY
    cents = draw(cents_in("CNY", on))
    evidence = draw(st.sampled_from(("disclosed", "disclosed", "estimated")))
    twin: _Record = (
        RoundFact("", on, "series-b", None, None, None, cents, "USD")
        if evidence == "disclosed" and draw(st.booleans())
        else ValuationFact("", on, cents, "USD", evidence)
    )
    return [ValuationFact("", on, cents, "CNY", evidence), twin]


def _with_ids(draw: st.DrawFn, records: list[_Record]) -> list[_Record]:
    """Record ids unique within the enterprise, as in the registry, compared as text ("10" < "9")."""
    ids = iter(draw(st.lists(st.integers(1, 120), min_size=len(records), max_size=len(records), unique=True)))
    return [
        r if isinstance(r, StatusFact) else dataclasses.replace(r, record_id=str(next(ids))) for r in records
    ]


@st.composite
def enterprises(draw: st.DrawFn, as_of: dt.date, enterprise_id: str) -> EnterpriseFacts:
    """Two in three built to pass most criteria (Zhejiang, a private round before the date, a valuation at
    a threshold boundary, a track), then disturbed by up to two random records; the others all random."""
    if draw(st.integers(0, 2)):
        region = draw(st.sampled_from(("330106", "330106", "330106", *REGIONS)))
        country: str | None = "CN"
        track_codes: tuple[str, ...] = (draw(st.sampled_from((*GOOD_TRACKS, OTHER_TRACKS[0]))),)
        currency = draw(st.sampled_from(("CNY", "USD")))
        on = as_of - draw(st.integers(0, 900)) * DAY
        base: list[_Record] = [
            RoundFact("", on, draw(st.sampled_from(sorted(PRIVATE_ROUND_TYPES))),
                      draw(cents_in(currency, on)), None, currency),
            ValuationFact("", as_of - draw(st.integers(0, 900)) * DAY, draw(cents_in(currency, on)), currency,
                          draw(st.sampled_from(tuple(EVIDENCE_RANK)))),
        ]  # fmt: skip
        extra = st.one_of(rounds(as_of), valuations(as_of), statuses(as_of), events(as_of))
        records = (
            base
            + draw(st.lists(extra, max_size=2))
            + draw(st.one_of(st.just([]), exits(as_of), moves(as_of), twins(as_of)))
        )
    else:
        region = draw(st.sampled_from(REGIONS))
        country = draw(st.sampled_from(COUNTRIES))
        track_codes = tuple(draw(st.lists(st.sampled_from((*GOOD_TRACKS[:2], *OTHER_TRACKS)), max_size=2)))
        records = [
            *draw(st.lists(rounds(as_of), max_size=3)),
            *draw(st.lists(valuations(as_of), max_size=3)),
            *draw(st.lists(statuses(as_of), max_size=2)),
            *draw(st.lists(events(as_of), max_size=2)),
        ]
    records = _with_ids(draw, records)
    return EnterpriseFacts(
        enterprise_id=enterprise_id,
        founded_on=draw(founding(as_of)),
        country=country,
        region_code=region,
        tracks=track_codes,
        rounds=tuple(r for r in records if isinstance(r, RoundFact)),
        valuations=tuple(r for r in records if isinstance(r, ValuationFact)),
        statuses=tuple(r for r in records if isinstance(r, StatusFact)),
        events=tuple(r for r in records if isinstance(r, EventFact)),
    )


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[dt.date, list[EnterpriseFacts]]:
    as_of = draw(st.sampled_from(AS_OF_DATES))
    size = draw(st.integers(1, 8))
    return as_of, [draw(enterprises(as_of, f"E{i:02d}")) for i in range(size)]


def _batch_tiers(standard: Standard, frames: TierFrames, as_of: dt.date) -> dict[str, str]:
    result = evaluate_batch(standard, frames, as_of)
    assert result.columns == ["enterprise_id", "tier"]
    assert result["enterprise_id"].to_list() == frames.enterprises["enterprise_id"].to_list()
    return dict(result.iter_rows())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_batch_agrees_with_the_explainer(cohort: tuple[dt.date, list[EnterpriseFacts]]) -> None:
    as_of, facts = cohort
    frames = frames_from_facts(facts)
    for standard in STANDARDS:
        batch = _batch_tiers(standard, frames, as_of)
        for f in facts:
            expected = evaluate(standard, f, as_of).tier
            assert batch[f.enterprise_id] == expected, (standard.key, f)
            event(f"{standard.id}: {expected}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_a_trace_is_stored_as_dataclasses_asdict_makes_it(
    cohort: tuple[dt.date, list[EnterpriseFacts]],
) -> None:
    """TierResult.to_dict (what a snapshot stores) walks the trace itself, asdict being slow: it must give
    exactly what asdict gives, tuples as tuples, thresholds and FX uses as dicts."""
    as_of, facts = cohort
    for standard in STANDARDS:
        for f in facts:
            result = evaluate(standard, f, as_of)
            expected = {**dataclasses.asdict(result), "as_of": as_of.isoformat()}
            assert result.to_dict() == expected
            assert repr(result.to_dict()) == repr(expected)  # same types throughout (a tuple is not a list)


BASE = EnterpriseFacts(
    enterprise_id="E",
    founded_on=dt.date(2022, 3, 1),
    country="CN",
    region_code="330106",
    tracks=("ai",),
    rounds=(RoundFact("1", dt.date(2023, 5, 1), "series-a", 5_000_000_000, None, "CNY"),),
)


def _facts(**fields: Any) -> EnterpriseFacts:
    """A three-year-old Hangzhou AI company with a ¥5000万 series A, changed by ``fields``."""
    return dataclasses.replace(BASE, **fields)


def _tiers(facts: list[EnterpriseFacts], as_of: dt.date, standard_id: str) -> list[str]:
    (standard,) = [s for s in STANDARDS if s.id == standard_id]
    batch = _batch_tiers(standard, frames_from_facts(facts), as_of)
    explained = [evaluate(standard, f, as_of).tier for f in facts]
    assert [batch[f.enterprise_id] for f in facts] == explained
    return explained


def test_known_cases_reach_the_expected_tiers() -> None:
    """Hand-made cases at the boundaries, so that agreement is not only on ``none``."""
    as_of = dt.date(2025, 6, 30)
    at, below = _boundary_cents(Threshold(100_000_000_00, "USD"), "CNY", dt.date(2024, 1, 1))
    cases = [
        # RMB valuation converting to exactly US$100 million (at the 2024 average), and one cent below.
        _facts(
            enterprise_id="at", valuations=(ValuationFact("v", dt.date(2024, 6, 1), at, "CNY", "disclosed"),)
        ),
        _facts(
            enterprise_id="below",
            valuations=(ValuationFact("v", dt.date(2024, 6, 1), below, "CNY", "disclosed"),),
        ),
        # Same date: the disclosed value wins over a higher self-declared one.
        _facts(
            enterprise_id="evidence",
            valuations=(
                ValuationFact("a", dt.date(2025, 1, 1), 200_000_000_000_00, "USD", "self-declared"),
                ValuationFact("b", dt.date(2025, 1, 1), 150_000_000_00, "USD", "disclosed"),
            ),
        ),
        # A post-money valuation of the latest round is the latest valuation.
        _facts(
            enterprise_id="post-money",
            rounds=(
                RoundFact(
                    "r", dt.date(2025, 3, 1), "series-b", None, 10_000_000_00, "CNY", 10_000_000_000_00, "CNY"
                ),
            ),
        ),
        # Acquired, then an operating status a day later: operating again.
        _facts(
            enterprise_id="revived",
            valuations=(ValuationFact("v", dt.date(2025, 1, 1), 2_000_000_000_00, "USD", "disclosed"),),
            statuses=(
                StatusFact("acquired", dt.date(2025, 2, 1)),
                StatusFact("operating", dt.date(2025, 2, 2)),
            ),
        ),
        # Moved into Zhejiang after the as-of date: not yet in the province.
        _facts(
            enterprise_id="moved-later",
            valuations=(ValuationFact("v", dt.date(2025, 1, 1), 2_000_000_000_00, "USD", "disclosed"),),
            events=(EventFact("m", "relocation", dt.date(2025, 7, 1), "110105", "330106"),),
        ),
    ]
    # One cent below US$100 million is still above ¥300 million: a seed unicorn, not a potential one.
    assert _tiers(cases, as_of, "zhejiang-2024") == [
        "potential_unicorn", "seed", "potential_unicorn", "unicorn", "unicorn", "none",
    ]  # fmt: skip
    assert _tiers(cases, as_of, "hangzhou-quasi")[:2] == ["quasi_unicorn", "none"]


def test_empty_frames_give_an_empty_result() -> None:
    frames = TierFrames(
        *(
            pl.DataFrame(schema=schema)
            for schema in (ENTERPRISES_SCHEMA, TRACKS_SCHEMA, ROUNDS_SCHEMA, VALUATIONS_SCHEMA,
                           STATUSES_SCHEMA, EVENTS_SCHEMA)
        )
    )  # fmt: skip
    for standard in STANDARDS:
        result = evaluate_batch(standard, frames, dt.date(2025, 6, 30))
        assert result.height == 0 and result.columns == ["enterprise_id", "tier"]


@pytest.mark.slow
def test_batch_agrees_with_the_explainer_on_the_demo_database(session: Session) -> None:
    build_demo(session, enterprises=1500, seed=9)
    session.commit()
    facts = load_facts(session)
    frames = frames_from_db(session)
    assert frames.enterprises["enterprise_id"].to_list() == [f.enterprise_id for f in facts]
    reached: Counter[str] = Counter()
    for as_of in (dt.date(2024, 6, 30), dt.date(2025, 12, 31)):
        for standard in STANDARDS:
            batch = _batch_tiers(standard, frames, as_of)
            explained = {f.enterprise_id: evaluate(standard, f, as_of).tier for f in facts}
            assert batch == explained, standard.key
            reached.update(t for t in explained.values() if t != "none")
    assert reached, "no enterprise reached a tier: the comparison proves nothing"
    assert set(reached) <= set(TIER_CODES)
