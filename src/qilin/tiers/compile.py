"""The vectorised twin of the tier explainer (梯队批量评定): a standard compiled to Polars expressions.

:func:`evaluate_batch` reaches, for every enterprise at once, the tier that
:func:`qilin.tiers.evaluate.evaluate` reaches for one. The records are cut to the as-of date and
aggregated per enterprise (group-bys and joins over lazy frames); each criterion becomes a boolean
expression over those per-enterprise columns, and each column reproduces one ``check_*`` function of
:mod:`qilin.tiers.evaluate` exactly:

* region as of the date: the registered region taken back through relocations after the date — the
  ``from_region_code`` of the earliest such relocation by (date, record id), as :meth:`EnterpriseFacts.as_of`;
* age: the cut-off dates are computed in Python with :func:`~qilin.tiers.evaluate.age_cutoff`;
* listing: an ipo event, an ``ipo`` status, or a round of type ipo / post-ipo;
* exit: the latest acquisition / closure signal, unless a later non-exit status (a tie is an exit);
* valuation: the valuations and the rounds' post-money valuations, the latest chosen by exactly
  :func:`~qilin.tiers.facts.valuation_order` (date, better evidence, higher value, record id);
* money: ``cents * numerator // denominator`` with the exact rate of the record's own year from
  :func:`~qilin.tiers.facts.fx_ratio` (a small lookup frame of the distinct currency-years), whole cents
  summed as integers for the cumulative financing (vague rounds at their low bound).

Nothing is computed per row in Python: only per distinct value (currency-year, country spelling).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, Select, select, type_coerce
from sqlalchemy.orm import Session

from qilin.reference import regions
from qilin.registry.models import (
    Enterprise,
    EnterpriseTrack,
    FundingRound,
    LifecycleEvent,
    StatusRecord,
    Valuation,
)
from qilin.tiers.evaluate import MAINLAND_COUNTRIES, NOT_MAINLAND_PREFIXES, age_cutoff
from qilin.tiers.facts import EVIDENCE_RANK, EXIT_STATUSES, PRIVATE_ROUND_TYPES, EnterpriseFacts, fx_ratio
from qilin.tiers.standards import Criterion, Standard, Threshold

ENTERPRISES_SCHEMA = pl.Schema(
    {"enterprise_id": pl.String, "founded_on": pl.Date, "country": pl.String, "region_code": pl.String}
)
TRACKS_SCHEMA = pl.Schema({"enterprise_id": pl.String, "track_code": pl.String})
ROUNDS_SCHEMA = pl.Schema(
    {
        "enterprise_id": pl.String,
        "record_id": pl.String,
        "announced_on": pl.Date,
        "round_type": pl.String,
        "amount_cents": pl.Int64,
        "low_cents": pl.Int64,
        "currency": pl.String,
        "post_money_cents": pl.Int64,
        "post_money_currency": pl.String,
    }
)
VALUATIONS_SCHEMA = pl.Schema(
    {
        "enterprise_id": pl.String,
        "record_id": pl.String,
        "as_of": pl.Date,
        "value_cents": pl.Int64,
        "currency": pl.String,
        "evidence": pl.String,
        "source": pl.String,
    }
)
STATUSES_SCHEMA = pl.Schema({"enterprise_id": pl.String, "status": pl.String, "as_of": pl.Date})
EVENTS_SCHEMA = pl.Schema(
    {
        "enterprise_id": pl.String,
        "record_id": pl.String,
        "kind": pl.String,
        "occurred_on": pl.Date,
        "from_region_code": pl.String,
        "to_region_code": pl.String,
    }
)
LISTING_ROUND_TYPES = ("ipo", "post-ipo")
EXIT_EVENT_KINDS = ("acquisition", "closure")
UNKNOWN_EVIDENCE_RANK = 9  # as ``EVIDENCE_RANK.get(evidence, 9)`` in valuation_order
ID = "enterprise_id"


@dataclass(frozen=True, slots=True)
class TierFrames:
    """The registry's records as Polars frames, one row per record (see the ``*_SCHEMA`` constants)."""

    enterprises: pl.DataFrame
    tracks: pl.DataFrame
    rounds: pl.DataFrame
    valuations: pl.DataFrame
    statuses: pl.DataFrame
    events: pl.DataFrame

    def __post_init__(self) -> None:
        """Each frame is cut to its schema's columns, cast to its types (a no-op when they already are)."""
        for name, schema in _SCHEMAS.items():
            frame: pl.DataFrame = getattr(self, name)
            missing = [c for c in schema.names() if c not in frame.columns]
            if missing:
                raise ValueError(f"TierFrames.{name} lacks columns {missing}")
            if frame.schema != schema:
                object.__setattr__(self, name, frame.select(schema.names()).cast(schema))


_SCHEMAS: dict[str, pl.Schema] = {
    "enterprises": ENTERPRISES_SCHEMA,
    "tracks": TRACKS_SCHEMA,
    "rounds": ROUNDS_SCHEMA,
    "valuations": VALUATIONS_SCHEMA,
    "statuses": STATUSES_SCHEMA,
    "events": EVENTS_SCHEMA,
}


def _frame(rows: Sequence[Sequence[Any]], schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def frames_from_facts(facts: Sequence[EnterpriseFacts]) -> TierFrames:
    """The frames holding exactly the records of ``facts`` (uncut: :func:`evaluate_batch` cuts them)."""
    enterprises: list[tuple[Any, ...]] = []
    tracks: list[tuple[Any, ...]] = []
    rounds: list[tuple[Any, ...]] = []
    valuations: list[tuple[Any, ...]] = []
    statuses: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for f in facts:
        eid = f.enterprise_id
        enterprises.append((eid, f.founded_on, f.country, f.region_code))
        tracks.extend((eid, t) for t in f.tracks)
        rounds.extend(
            (eid, r.record_id, r.announced_on, r.round_type, r.amount_cents, r.low_cents, r.currency,
             r.post_money_cents, r.post_money_currency)
            for r in f.rounds
        )  # fmt: skip
        valuations.extend(
            (eid, v.record_id, v.as_of, v.value_cents, v.currency, v.evidence, v.source) for v in f.valuations
        )
        statuses.extend((eid, s.status, s.as_of) for s in f.statuses)
        events.extend(
            (eid, e.record_id, e.kind, e.occurred_on, e.from_region_code, e.to_region_code) for e in f.events
        )
    return TierFrames(
        enterprises=_frame(enterprises, ENTERPRISES_SCHEMA),
        tracks=_frame(tracks, TRACKS_SCHEMA),
        rounds=_frame(rounds, ROUNDS_SCHEMA),
        valuations=_frame(valuations, VALUATIONS_SCHEMA),
        statuses=_frame(statuses, STATUSES_SCHEMA),
        events=_frame(events, EVENTS_SCHEMA),
    )


def _read(session: Session, stmt: Select[Any], schema: pl.Schema, *, ids: Iterable[str] = ()) -> pl.DataFrame:
    """One columnar query into a frame; the integer ``ids`` columns become text record ids (``str(id)``,
    as :func:`qilin.tiers.service.load_facts` writes them)."""
    ids = tuple(ids)
    raw = pl.Schema({name: pl.Int64 if name in ids else dtype for name, dtype in schema.items()})
    frame = pl.DataFrame(session.execute(stmt).all(), schema=raw, orient="row")
    return frame.with_columns(pl.col(c).cast(pl.String) for c in ids) if ids else frame


def frames_from_db(session: Session) -> TierFrames:
    """The registry's records read straight into frames: amounts as their stored whole cents."""

    def cents(column: Any) -> Any:
        return type_coerce(column, BigInteger)

    r, v, e = FundingRound, Valuation, LifecycleEvent
    enterprises = _read(
        session,
        select(Enterprise.id, Enterprise.founded_on, Enterprise.country, Enterprise.region_code).order_by(
            Enterprise.id
        ),
        ENTERPRISES_SCHEMA,
    )
    tracks = _read(session, select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code), TRACKS_SCHEMA)
    rounds = _read(
        session,
        select(
            r.enterprise_id, r.id, r.announced_on, r.round_type, cents(r.amount), cents(r.amount_low),
            r.currency, cents(r.post_money_valuation), r.post_money_currency,
        ),
        ROUNDS_SCHEMA,
        ids=("record_id",),
    )  # fmt: skip
    valuations = _read(
        session,
        select(v.enterprise_id, v.id, v.as_of, cents(v.value), v.currency, v.evidence, v.source),
        VALUATIONS_SCHEMA,
        ids=("record_id",),
    ).with_columns(pl.col("value_cents").fill_null(0))  # as load_facts: ``_cents(v.value) or 0``
    statuses = _read(
        session, select(StatusRecord.enterprise_id, StatusRecord.status, StatusRecord.as_of), STATUSES_SCHEMA
    )
    events = _read(
        session,
        select(e.enterprise_id, e.id, e.kind, e.occurred_on, e.from_region_code, e.to_region_code),
        EVENTS_SCHEMA,
        ids=("record_id",),
    )
    return TierFrames(enterprises, tracks, rounds, valuations, statuses, events)


# --- compiling a standard ----------------------------------------------------------------------------


@cache
def _mainland_region_codes() -> tuple[str, ...]:
    """The region codes that :func:`~qilin.tiers.evaluate.is_mainland` accepts."""
    return tuple(c for c in regions.all_regions() if not c.startswith(NOT_MAINLAND_PREFIXES))


def _mainland_spellings(countries: pl.Series) -> list[str]:
    """The distinct country values that name the mainland (``strip().upper()`` applied in Python, once per
    distinct value, so that its exact whitespace and case rules hold)."""
    return [c for c in countries.drop_nulls().unique().to_list() if c.strip().upper() in MAINLAND_COUNTRIES]


@dataclass(frozen=True, slots=True)
class _Needs:
    """What a standard reads, so that only those per-enterprise columns are derived."""

    names: frozenset[str]
    valuation_currencies: tuple[str, ...]
    financing_currencies: tuple[str, ...]
    track_sets: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, standard: Standard) -> _Needs:
        criteria = [c for rule in standard.tiers for alt in rule.alternatives for c in alt]

        def currencies(name: str) -> tuple[str, ...]:
            return tuple(sorted({c.param.currency for c in criteria if c.name == name}))

        return cls(
            names=frozenset(c.name for c in criteria),
            valuation_currencies=currencies("min_valuation"),
            financing_currencies=currencies("min_cumulative_financing"),
            track_sets=tuple(
                dict.fromkeys(tuple(sorted(c.param)) for c in criteria if c.name == "in_tracks")
            ),
        )

    @property
    def region(self) -> bool:
        return bool(self.names & {"registered_in_mainland", "registered_in_province"})

    @property
    def listing(self) -> bool:
        return "not_listed" in self.names

    @property
    def exits(self) -> bool:
        return "operating" in self.names

    @property
    def rounds(self) -> bool:
        return self.listing or "has_private_financing" in self.names or bool(self.financing_currencies)


def _fx_column(currency: str, part: str) -> str:
    return f"_fx{part}_{currency}"


def _fx_lookup(pairs: list[pl.LazyFrame], to_currencies: Sequence[str]) -> pl.LazyFrame:
    """``fx_ratio(currency, to, year)`` for every distinct (currency, year) of ``pairs``; None → null."""
    distinct = pl.concat(pairs).drop_nulls().unique().sort(["currency", "year"]).collect()
    currencies = distinct["currency"].to_list()
    years = distinct["year"].to_list()
    columns: dict[str, pl.Series] = {
        "currency": pl.Series(currencies, dtype=pl.String),
        "year": pl.Series(years, dtype=pl.Int32),
    }
    for to in to_currencies:
        ratios = [fx_ratio(c, to, y) for c, y in zip(currencies, years, strict=True)]
        columns[_fx_column(to, "n")] = pl.Series([r[0] if r else None for r in ratios], dtype=pl.Int128)
        columns[_fx_column(to, "d")] = pl.Series([r[1] if r else None for r in ratios], dtype=pl.Int128)
    return pl.DataFrame(columns).lazy()


def _converted(cents: str, to: str) -> pl.Expr:
    """``convert_cents``: whole cents of ``to``, ``cents * numerator // denominator``, exact in 128-bit
    integers (amounts are never negative, so floor division is the explainer's); null without a rate."""
    return (pl.col(cents).cast(pl.Int128) * pl.col(_fx_column(to, "n"))) // pl.col(_fx_column(to, "d"))


def _currency_years(frame: pl.DataFrame, currency: str, date: str) -> pl.LazyFrame:
    return (
        frame.lazy()
        .select(pl.col(currency).alias("currency"), pl.col(date).dt.year().cast(pl.Int32).alias("year"))
        .unique()
    )


def _region_as_of(frames: TierFrames, day: pl.Expr) -> pl.LazyFrame:
    """Per enterprise, the region it had on the date when a later relocation moved it away."""
    return (
        frames.events.lazy()
        .filter(
            (pl.col("kind") == "relocation")
            & (pl.col("occurred_on") > day)
            & pl.col("from_region_code").is_not_null()
            & (pl.col("from_region_code") != "")
        )
        .group_by(ID)
        .agg(pl.col("from_region_code").sort_by(["occurred_on", "record_id"]).first().alias("_region_back"))
    )


def _latest_valuations(frames: TierFrames, day: pl.Expr) -> pl.LazyFrame:
    """Per enterprise, the latest valuation (``max(..., key=valuation_order)``), post-money included."""
    rank = pl.col("evidence").replace_strict(
        EVIDENCE_RANK, default=UNKNOWN_EVIDENCE_RANK, return_dtype=pl.Int32
    )
    own = (
        frames.valuations.lazy()
        .filter(pl.col("as_of") <= day)
        .select(
            ID,
            pl.col("as_of"),
            rank.fill_null(UNKNOWN_EVIDENCE_RANK).alias("_rank"),
            pl.col("value_cents"),
            pl.col("record_id"),
            pl.col("currency"),
        )
    )
    post_money = (
        frames.rounds.lazy()
        .filter(
            (pl.col("announced_on") <= day)
            & pl.col("post_money_cents").is_not_null()
            & pl.col("post_money_currency").is_not_null()
            & (pl.col("post_money_currency") != "")
        )
        .select(
            ID,
            pl.col("announced_on").alias("as_of"),
            pl.lit(EVIDENCE_RANK["disclosed"], dtype=pl.Int32).alias("_rank"),
            pl.col("post_money_cents").alias("value_cents"),
            (pl.lit("round:") + pl.col("record_id")).alias("record_id"),
            pl.col("post_money_currency").alias("currency"),
        )
    )
    # Sort by the key (better evidence = lower rank, hence descending) and keep each enterprise's last row:
    # a group-by keeps the order of the rows within each group.
    return (
        pl.concat([own, post_money])
        .sort(
            [ID, "as_of", "_rank", "value_cents", "record_id"],
            descending=[False, False, True, False, False],
        )
        .group_by(ID)
        .agg(pl.col("as_of", "value_cents", "currency").last())
    )


def _derived(frames: TierFrames, as_of: dt.date, needs: _Needs) -> pl.LazyFrame:
    """One row per enterprise with the columns the criteria read, all as of ``as_of``."""
    day = pl.lit(as_of, dtype=pl.Date)
    out = frames.enterprises.lazy().select(ID, "founded_on", "country", "region_code")
    parts: list[pl.LazyFrame] = []
    fx_pairs: list[pl.LazyFrame] = []
    to_currencies = sorted(set(needs.valuation_currencies) | set(needs.financing_currencies))
    if needs.valuation_currencies:
        fx_pairs += [
            _currency_years(frames.valuations, "currency", "as_of"),
            _currency_years(frames.rounds, "post_money_currency", "announced_on"),
        ]
    if needs.financing_currencies:
        fx_pairs.append(_currency_years(frames.rounds, "currency", "announced_on"))
    fx = _fx_lookup(fx_pairs, to_currencies) if fx_pairs else None

    if needs.region:
        parts.append(_region_as_of(frames, day))
    if needs.rounds:
        private = pl.col("round_type").is_in(sorted(PRIVATE_ROUND_TYPES))
        rounds = frames.rounds.lazy().filter(pl.col("announced_on") <= day)
        aggs = [
            pl.col("round_type").is_in(LISTING_ROUND_TYPES).any().alias("_listed_round"),
            private.any().alias("_private"),
        ]
        if needs.financing_currencies:
            assert fx is not None
            rounds = rounds.with_columns(
                pl.coalesce("amount_cents", "low_cents").alias("_cents"),
                pl.col("announced_on").dt.year().cast(pl.Int32).alias("_year"),
            ).join(fx, left_on=["currency", "_year"], right_on=["currency", "year"], how="left")
            aggs += [
                _converted("_cents", c).filter(private).sum().alias(f"_financing_{c}")
                for c in needs.financing_currencies
            ]
        parts.append(rounds.group_by(ID).agg(aggs))
    if needs.listing or needs.exits:
        exit_status = pl.col("status").is_in(sorted(EXIT_STATUSES)).fill_null(False)
        parts.append(
            frames.statuses.lazy()
            .filter(pl.col("as_of") <= day)
            .group_by(ID)
            .agg(
                (pl.col("status") == "ipo").any().alias("_listed_status"),
                pl.col("as_of").filter(exit_status).max().alias("_exit_status_on"),
                pl.col("as_of").filter(~exit_status).max().alias("_going_on"),
            )
        )
        parts.append(
            frames.events.lazy()
            .filter(pl.col("occurred_on") <= day)
            .group_by(ID)
            .agg(
                (pl.col("kind") == "ipo").any().alias("_listed_event"),
                pl.col("occurred_on")
                .filter(pl.col("kind").is_in(EXIT_EVENT_KINDS))
                .max()
                .alias("_exit_event_on"),
            )
        )
    if needs.valuation_currencies:
        assert fx is not None
        latest = (
            _latest_valuations(frames, day)
            .with_columns(pl.col("as_of").dt.year().cast(pl.Int32).alias("_year"))
            .join(fx, left_on=["currency", "_year"], right_on=["currency", "year"], how="left")
            .select(
                ID,
                *(_converted("value_cents", c).alias(f"_valuation_{c}") for c in needs.valuation_currencies),
            )
        )
        parts.append(latest)
    if needs.track_sets:
        parts.append(
            frames.tracks.lazy()
            .group_by(ID)
            .agg(
                pl.col("track_code").is_in(list(allowed)).any().alias(f"_tracks_{i}")
                for i, allowed in enumerate(needs.track_sets)
            )
        )
    for part in parts:
        out = out.join(part, on=ID, how="left", maintain_order="left")

    columns: list[pl.Expr] = []
    if needs.region:
        region = pl.coalesce("_region_back", "region_code")
        known = region.is_not_null() & (region != "")
        country = pl.col("country").is_in(_mainland_spellings(frames.enterprises["country"]))
        columns += [
            region.alias("_region"),
            pl.when(known)
            .then(region.is_in(_mainland_region_codes()))
            .otherwise(country.fill_null(False))
            .alias("_mainland"),
        ]
    if needs.listing:
        columns.append(
            pl.any_horizontal(
                pl.col(c).fill_null(False) for c in ("_listed_round", "_listed_status", "_listed_event")
            ).alias("_listed")
        )
    if needs.exits:
        exit_on = pl.max_horizontal("_exit_status_on", "_exit_event_on")
        columns.append(
            (exit_on.is_null() | (pl.col("_going_on") > exit_on).fill_null(False)).alias("_operating")
        )
    return out.with_columns(columns) if columns else out


def _criterion(c: Criterion, as_of: dt.date, needs: _Needs) -> pl.Expr:
    """One criterion as a boolean expression over :func:`_derived`'s columns (never null)."""
    name, param = c.name, c.param
    if name == "registered_in_mainland":
        expr = pl.col("_mainland")
    elif name == "registered_in_province":
        expr = (pl.col("_region") != "") & (pl.col("_region").str.slice(0, 2) == str(param)[:2])
    elif name == "operating":
        expr = pl.col("_operating")
    elif name == "not_listed":
        expr = ~pl.col("_listed")
    elif name == "has_private_financing":
        expr = pl.col("_private")
    elif name == "max_age_years":
        expr = pl.col("founded_on") >= pl.lit(age_cutoff(as_of, param), dtype=pl.Date)
    elif name == "min_age_years":
        expr = pl.col("founded_on") < pl.lit(age_cutoff(as_of, param), dtype=pl.Date)
    elif name in ("min_valuation", "min_cumulative_financing"):
        threshold: Threshold = param
        prefix = "_valuation_" if name == "min_valuation" else "_financing_"
        expr = pl.col(f"{prefix}{threshold.currency}") >= pl.lit(threshold.cents, dtype=pl.Int128)
    elif name == "in_tracks":
        expr = pl.col(f"_tracks_{needs.track_sets.index(tuple(sorted(param)))}")
    else:
        raise ValueError(f"unknown criterion {name}")
    return expr.fill_null(False)


def tier_expression(standard: Standard, as_of: dt.date) -> pl.Expr:
    """The tier as one expression over the derived columns: the highest tier with a passing alternative."""
    needs = _Needs.of(standard)
    expr = pl.lit("none")
    for rule in reversed(standard.tiers):
        passed = pl.any_horizontal(
            pl.all_horizontal(_criterion(c, as_of, needs) for c in alt) for alt in rule.alternatives
        )
        expr = pl.when(passed).then(pl.lit(rule.tier)).otherwise(expr)
    return expr


def evaluate_batch(standard: Standard, frames: TierFrames, as_of: dt.date) -> pl.DataFrame:
    """Every enterprise's tier of ``standard`` as of ``as_of``: columns ``enterprise_id`` and ``tier`` (a
    code of :data:`~qilin.tiers.standards.TIER_CODES`, ``none`` when no tier passes), in the order of
    ``frames.enterprises``; the same tiers as :func:`~qilin.tiers.evaluate.evaluate` one by one."""
    needs = _Needs.of(standard)
    return _derived(frames, as_of, needs).select(ID, tier_expression(standard, as_of).alias("tier")).collect()
