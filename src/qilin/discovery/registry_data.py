"""The registry (企业库) as a discovery data package: :func:`package_from_db` reads the registry tables
straight into the frames :func:`qilin.discovery.data.read_package` produces from a folder, so that
``qilin discover train|rank|backtest --db`` and ``qilin discover run`` work on the registry itself.

The mapping, column by column (every text column is :class:`polars.String`, dates :class:`polars.Date`,
amounts :class:`polars.Float64` in their own currency, as data.py gives them):

* companies — ``company_id, name, founded_on, country, region_code, city, industry_code, category, status,
  status_as_of``; the status is the latest observed one on or before today (``status_history``, else the
  enterprise's own ``status``/``status_as_of``), so that features use it only from the day it was seen;
* rounds — ``company_id, announced_on, round_type, post_money_valuation, post_money_currency, investors,
  amount, currency``: an exact amount as it is; a vague one (数千万, ``amount_low``/``amount_high``) as
  data.py's ``_amount`` treats it — the middle of its range, or its lower bound when open-ended; an
  undisclosed one null. ``post_money_valuation`` is text (as read from a CSV); ``investors`` are the round's
  investors joined with ``;`` in their recorded order (null when none);
* acquisitions / unicorn_events / lifecycle_events — from ``lifecycle_events`` (kinds ``acquisition`` and
  ``unicorn_list_entry``; all kinds for ``lifecycle_events``);
* valuations — ``company_id, as_of, value, currency``.

Amounts are read as their stored whole cents (``type_coerce(column, BigInteger)``, as
:func:`qilin.tiers.compile.frames_from_db`), never through Python :class:`~decimal.Decimal` per row.
The fingerprint is a sha256 over each table's row count and largest id (and latest update), so a changed
registry gives a new fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, Select, func, select, type_coerce
from sqlalchemy.orm import Session

from qilin.common.dates import today
from qilin.discovery.data import DataPackage, _round_type
from qilin.registry.models import (
    Enterprise,
    FundingRound,
    Investor,
    LifecycleEvent,
    RoundInvestor,
    StatusRecord,
    Valuation,
)

__all__ = [
    "COMPANIES_SCHEMA",
    "ROUNDS_SCHEMA",
    "package_from_db",
    "registry_fingerprint",
]

COMPANIES_SCHEMA = pl.Schema(
    {
        "company_id": pl.String,
        "name": pl.String,
        "founded_on": pl.Date,
        "country": pl.String,
        "region_code": pl.String,
        "city": pl.String,
        "industry_code": pl.String,
        "category": pl.String,
        "status": pl.String,
        "status_as_of": pl.Date,
    }
)
ROUNDS_SCHEMA = pl.Schema(
    {
        "company_id": pl.String,
        "announced_on": pl.Date,
        "round_type": pl.String,
        "post_money_valuation": pl.String,
        "post_money_currency": pl.String,
        "investors": pl.String,
        "amount": pl.Float64,
        "currency": pl.String,
    }
)
ACQUISITIONS_SCHEMA = pl.Schema(
    {
        "company_id": pl.String,
        "acquired_on": pl.Date,
        "acquirer_name": pl.String,
        "price_amount": pl.String,
        "price_currency": pl.String,
    }
)
UNICORN_EVENTS_SCHEMA = pl.Schema({"company_id": pl.String, "joined_on": pl.Date, "source": pl.String})
VALUATIONS_SCHEMA = pl.Schema(
    {"company_id": pl.String, "as_of": pl.Date, "value": pl.Float64, "currency": pl.String}
)
LIFECYCLE_SCHEMA = pl.Schema(
    {"company_id": pl.String, "kind": pl.String, "occurred_on": pl.Date, "counterpart": pl.String}
)


def _cents(column: Any) -> Any:
    return type_coerce(column, BigInteger)


def _read(session: Session, stmt: Select[Any], schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(session.execute(stmt).all(), schema=dict(schema), orient="row")


def _money(cents: pl.Expr) -> pl.Expr:
    """Whole cents → the amount (Float64), as data.py's ``float(text)``."""
    return cents.cast(pl.Float64) / 100.0


def _money_text(cents: pl.Expr) -> pl.Expr:
    """Whole cents → the amount as exact text (``12345`` → ``"123.45"``), as a CSV cell would hold it."""
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = cents.abs() // 100
    frac = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([sign, whole.cast(pl.String), pl.lit("."), frac])


def registry_fingerprint(session: Session) -> str:
    """sha256 over every read table's row count, largest id and latest change: changes when the registry
    changes (an insert, a deletion, an updated enterprise)."""
    digest = hashlib.sha256()
    probes: list[tuple[str, Select[Any]]] = [
        ("enterprises", select(func.count(), func.max(Enterprise.id), func.max(Enterprise.updated_at))),
        ("funding_rounds", select(func.count(), func.max(FundingRound.id))),
        ("round_investors", select(func.count(), func.max(RoundInvestor.round_id))),
        ("valuations", select(func.count(), func.max(Valuation.id))),
        ("lifecycle_events", select(func.count(), func.max(LifecycleEvent.id))),
        ("status_history", select(func.count(), func.max(StatusRecord.id))),
    ]
    for name, stmt in probes:
        row = session.execute(stmt).one()
        digest.update(f"{name}:{'|'.join(str(v) for v in row)}\n".encode())
    return digest.hexdigest()


def _companies(session: Session, now: dt.date) -> pl.DataFrame:
    e = Enterprise
    enterprises = _read(
        session,
        select(
            e.id, e.name, e.founded_on, e.country, e.region_code, e.city, e.industry_code, e.category,
            e.status, e.status_as_of,
        ).order_by(e.id),
        dict(COMPANIES_SCHEMA),
    )  # fmt: skip
    history = _read(
        session,
        select(StatusRecord.enterprise_id, StatusRecord.status, StatusRecord.as_of, StatusRecord.id).where(
            StatusRecord.as_of <= now
        ),
        {"company_id": pl.String, "h_status": pl.String, "h_as_of": pl.Date, "h_id": pl.Int64},
    )
    latest = history.sort("company_id", "h_as_of", "h_id").group_by("company_id").last().drop("h_id")
    use_own = pl.col("h_status").is_null() & (
        pl.col("status_as_of").is_null() | (pl.col("status_as_of") <= now)
    )
    return (
        enterprises.join(latest, on="company_id", how="left")
        .with_columns(
            pl.when(pl.col("h_status").is_not_null())
            .then(pl.col("h_status"))
            .when(use_own)
            .then(pl.col("status"))
            .alias("status"),
            pl.when(pl.col("h_status").is_not_null())
            .then(pl.col("h_as_of"))
            .when(use_own)
            .then(pl.col("status_as_of").fill_null(now))
            .alias("status_as_of"),
        )
        .select(COMPANIES_SCHEMA.names())
        .cast(COMPANIES_SCHEMA)
    )


def _rounds(session: Session) -> pl.DataFrame:
    r = FundingRound
    raw = _read(
        session,
        select(
            r.id, r.enterprise_id, r.announced_on, r.round_type, _cents(r.amount), _cents(r.amount_low),
            _cents(r.amount_high), r.currency, _cents(r.post_money_valuation), r.post_money_currency,
        ),
        {
            "round_id": pl.Int64, "company_id": pl.String, "announced_on": pl.Date, "round_type": pl.String,
            "amount_cents": pl.Int64, "low_cents": pl.Int64, "high_cents": pl.Int64, "currency": pl.String,
            "post_cents": pl.Int64, "post_money_currency": pl.String,
        },
    )  # fmt: skip
    investors = _read(
        session,
        select(RoundInvestor.round_id, RoundInvestor.position, Investor.name).join(
            Investor, Investor.id == RoundInvestor.investor_id
        ),
        {"round_id": pl.Int64, "position": pl.Int64, "investor": pl.String},
    )
    names = (
        investors.sort("round_id", "position", "investor")
        .group_by("round_id")
        .agg(pl.col("investor").str.join(";").alias("investors"))
    )
    mapping = {label: _round_type(label) for label in raw["round_type"].drop_nulls().unique().to_list()}
    exact = _money(pl.col("amount_cents"))
    low, high = _money(pl.col("low_cents")), _money(pl.col("high_cents"))
    vague = pl.when(pl.col("high_cents").is_null()).then(low).otherwise((low + high) / 2.0)
    return (
        raw.join(names, on="round_id", how="left")
        .sort("company_id", "announced_on", "round_id")
        .with_columns(
            pl.col("round_type").replace_strict(mapping, default=None, return_dtype=pl.String),
            pl.when(pl.col("amount_cents").is_not_null()).then(exact).otherwise(vague).alias("amount"),
            pl.when(pl.col("post_cents").is_not_null())
            .then(_money_text(pl.col("post_cents")))
            .alias("post_money_valuation"),
        )
        .select(ROUNDS_SCHEMA.names())
        .cast(ROUNDS_SCHEMA)
    )


def _events(session: Session) -> pl.DataFrame:
    e = LifecycleEvent
    return _read(
        session,
        select(
            e.enterprise_id, e.kind, e.occurred_on, e.counterpart, e.acquirer_name, _cents(e.price_amount),
            e.price_currency, e.source, e.id,
        ).order_by(e.enterprise_id, e.occurred_on, e.id),
        {
            "company_id": pl.String, "kind": pl.String, "occurred_on": pl.Date, "counterpart": pl.String,
            "acquirer_name": pl.String, "price_cents": pl.Int64, "price_currency": pl.String,
            "source": pl.String, "event_id": pl.Int64,
        },
    )  # fmt: skip


def package_from_db(session: Session, *, now: dt.date | None = None) -> DataPackage:
    """The registry as a :class:`~qilin.discovery.data.DataPackage` (see the module's mapping). ``now``
    (default: :func:`qilin.common.dates.today`) is the day the statuses are read as of."""
    now = now or today()
    events = _events(session)
    acquisitions = events.filter(pl.col("kind") == "acquisition").select(
        "company_id",
        pl.col("occurred_on").alias("acquired_on"),
        pl.coalesce(pl.col("acquirer_name"), pl.col("counterpart").replace("", None)).alias("acquirer_name"),
        pl.when(pl.col("price_cents").is_not_null())
        .then(_money_text(pl.col("price_cents")))
        .alias("price_amount"),
        "price_currency",
    )
    unicorns = events.filter(pl.col("kind") == "unicorn_list_entry").select(
        "company_id", pl.col("occurred_on").alias("joined_on"), "source"
    )
    v = Valuation
    valuations = _read(
        session,
        select(v.enterprise_id, v.as_of, _cents(v.value), v.currency).order_by(
            v.enterprise_id, v.as_of, v.id
        ),
        {"company_id": pl.String, "as_of": pl.Date, "cents": pl.Int64, "currency": pl.String},
    ).select("company_id", "as_of", _money(pl.col("cents")).alias("value"), "currency")
    return DataPackage(
        companies=_companies(session, now),
        rounds=_rounds(session),
        acquisitions=acquisitions.cast(ACQUISITIONS_SCHEMA),
        unicorn_events=unicorns.cast(UNICORN_EVENTS_SCHEMA),
        valuations=valuations.filter(pl.col("value").is_not_null()).cast(VALUATIONS_SCHEMA),
        lifecycle_events=events.select(LIFECYCLE_SCHEMA.names()).cast(LIFECYCLE_SCHEMA),
        fingerprint=registry_fingerprint(session),
    )
