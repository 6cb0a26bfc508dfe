"""Time-honest features (按截止日期计算的特征) and labels for discovering future unicorns (潜在独角兽).

Every function here takes a :class:`~qilin.discovery.data.DataPackage` and an as-of date and uses only
records dated on or before that date; a company's ``status`` column is used only when the as-of date is on
or after its ``status_as_of`` (the day it was observed). Adding records dated after the as-of date never
changes a result (``tests/test_discovery_features.py`` checks this property).

>>> import datetime as dt
>>> sorted(FEATURES)[:3]
['age_years', 'category', 'founded_known']
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import polars as pl

from qilin.discovery.data import DataPackage
from qilin.tiers.facts import fx_ratio

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "STAGE_NAMES",
    "build_features",
    "eligibility",
    "labels",
    "population",
]

DAYS_PER_MONTH = 30.4375

STAGES: dict[str, int] = {
    "angel": 1,
    "seed": 1,
    "series-a": 2,
    "series-b": 3,
    "series-c+": 4,
    "private-equity": 5,
    "ipo": 6,
    "post-ipo": 6,
}
"""Ordinal funding stage of a round type; venture (stage unknown), strategic, debt, grant… have none."""

STAGE_NAMES: dict[int, tuple[str, str]] = {
    1: ("天使/种子轮", "angel/seed"),
    2: ("A轮", "Series A"),
    3: ("B轮", "Series B"),
    4: ("C轮及以后", "Series C+"),
    5: ("私募股权轮", "private equity"),
    6: ("上市", "IPO"),
}

FEATURES: dict[str, str] = {
    "age_years": "years from founding to the as-of date (null when the founding date is unknown)",
    "founded_known": "1 when the founding date is known",
    "n_rounds": "funding rounds announced so far",
    "rounds_2y": "funding rounds announced in the last 2 years",
    "highest_stage": "highest stage reached (1 angel/seed … 4 series C+, 5 private equity, 6 IPO)",
    "latest_stage": "stage of the latest staged round",
    "total_raised_usd": "total raised in USD at each round's yearly FX rate (null when no amount is known)",
    "raised_1y_usd": "raised in the last year, USD",
    "raised_2y_usd": "raised in the last 2 years, USD",
    "raised_3y_usd": "raised in the last 3 years, USD",
    "latest_round_usd": "size of the latest round with a known amount, USD",
    "max_round_usd": "largest single round, USD",
    "months_since_latest_round": "months from the latest round to the as-of date",
    "months_since_first_round": "months from the first round to the as-of date",
    "funding_velocity_usd": "USD raised per year since the first round (at least half a year)",
    "mean_months_between_rounds": "mean months between consecutive rounds",
    "round_growth": "latest known round size over the previous known one",
    "mean_log_round_growth": "mean log growth of round size from round to round",
    "latest_round_vs_stage_median": (
        "latest round size over the median round of its type until the as-of date"
    ),
    "years_per_stage": "company age divided by the highest stage reached (speed up the stages)",
    "latest_valuation_usd": "latest known valuation (valuations or post-money), USD",
    "valuation_step_up": "latest valuation over the previous one",
    "n_investors": "distinct investors named in rounds so far (null when the package names none)",
    "investor_hit_rate": (
        "best track record among the company's investors: of the other companies an investor backed (at least"
        " 3), the share that joined the unicorn list or listed after it first backed them, both on or before"
        " the as-of date (null when the package names no investors)"
    ),
    "investor_hits": (
        "most earlier picks of any of the company's investors that joined the unicorn list or listed after"
        " it first backed them, on or before the as-of date (null when the package names no investors)"
    ),
    "category": "industry category (categorical)",
    "state": "state or province (categorical)",
    "metro": "metro area or city (categorical)",
}
"""The feature registry: name → one-line meaning. The model's file records these names."""

CATEGORICAL: tuple[str, ...] = ("category", "state", "metro")
"""Features that are strings; the model encodes them with a vocabulary learnt in ``fit``."""

_UNICORN_EVENT_KINDS = ("unicorn_list_entry",)
_EXIT_EVENT_KINDS = ("ipo", "acquisition", "closure")
_LISTING_ROUND_TYPES = ("ipo", "post-ipo")
"""Round types that mean the company had listed (上市) by the round's date."""


@cache
def _usd_factor(currency: str, year: int) -> float | None:
    if currency == "USD":
        return 1.0
    ratio = fx_ratio(currency, "USD", year)
    return None if ratio is None else ratio[0] / ratio[1]


def _fx_frame(rounds: pl.DataFrame, currency: str, date: str) -> pl.DataFrame:
    keys = (
        rounds.select(pl.col(currency).alias("cur"), pl.col(date).dt.year().alias("year"))
        .unique()
        .drop_nulls()
    )
    factors = [_usd_factor(c, y) for c, y in keys.iter_rows()]
    return keys.with_columns(pl.Series("fx", factors, dtype=pl.Float64))


def _to_usd(frame: pl.DataFrame, amount: str, currency: str, date: str) -> pl.DataFrame:
    """``frame`` with ``usd``: ``amount`` at the yearly FX rate of ``date``; unknown currency → null."""
    fx = _fx_frame(frame, currency, date)
    return (
        frame.with_columns(pl.col(date).dt.year().alias("_year"))
        .join(fx, left_on=[currency, "_year"], right_on=["cur", "year"], how="left")
        .with_columns((pl.col(amount) * pl.col("fx")).alias("usd"))
        .drop("_year", "fx")
    )


def population(package: DataPackage, as_of: dt.date) -> pl.DataFrame:
    """Companies that exist on ``as_of``: founded on or before it, or (founding date unknown) with a round
    on or before it. One column, ``company_id``."""
    funded = package.rounds.filter(pl.col("announced_on") <= as_of).select("company_id").unique()
    companies = package.companies
    founded = companies.filter(pl.col("founded_on") <= as_of).select("company_id")
    unknown = (
        companies.filter(pl.col("founded_on").is_null()).select("company_id").join(funded, on="company_id")
    )
    return pl.concat([founded, unknown]).unique().sort("company_id")


def _unicorn_dates(package: DataPackage) -> pl.DataFrame:
    """The first date each company joined the unicorn list (events file and lifecycle events)."""
    frames = [package.unicorn_events.select("company_id", pl.col("joined_on"))]
    events = package.lifecycle_events
    if not events.is_empty():
        frames.append(
            events.filter(pl.col("kind").is_in(_UNICORN_EVENT_KINDS)).select(
                "company_id", pl.col("occurred_on").alias("joined_on")
            )
        )
    return pl.concat(frames).drop_nulls().group_by("company_id").agg(pl.col("joined_on").min())


def eligibility(package: DataPackage, as_of: dt.date) -> pl.DataFrame:
    """``company_id, operating, unicorn_before, eligible`` for the population on ``as_of``.

    Operating is derived from dated records only — acquisitions, ipo/post-ipo rounds and lifecycle
    events (ipo, acquisition, closure) on or before ``as_of`` — and from ``status`` only for companies whose
    ``status_as_of`` is on or before ``as_of`` (the status had been observed by then).
    """
    pop = population(package, as_of)
    exited: list[pl.DataFrame] = [
        package.acquisitions.filter(pl.col("acquired_on") <= as_of).select("company_id"),
        package.rounds.filter(
            (pl.col("announced_on") <= as_of) & pl.col("round_type").is_in(_LISTING_ROUND_TYPES)
        ).select("company_id"),
    ]
    if not package.lifecycle_events.is_empty():
        exited.append(
            package.lifecycle_events.filter(
                (pl.col("occurred_on") <= as_of) & pl.col("kind").is_in(_EXIT_EVENT_KINDS)
            ).select("company_id")
        )
    companies = package.companies
    if "status" in companies.columns:
        exited.append(
            companies.filter(
                (pl.col("status_as_of") <= as_of)
                & pl.col("status").is_not_null()
                & (pl.col("status") != "operating")
            ).select("company_id")
        )
    exited_ids = pl.concat(exited).unique().with_columns(pl.lit(True).alias("exited"))
    unicorns = (
        _unicorn_dates(package)
        .filter(pl.col("joined_on") <= as_of)
        .select("company_id", pl.lit(True).alias("unicorn_before"))
    )
    return (
        pop.join(exited_ids, on="company_id", how="left")
        .join(unicorns, on="company_id", how="left")
        .select(
            "company_id",
            (~pl.col("exited").fill_null(False)).alias("operating"),
            pl.col("unicorn_before").fill_null(False),
        )
        .with_columns((pl.col("operating") & ~pl.col("unicorn_before")).alias("eligible"))
    )


def add_years(day: dt.date, years: float) -> dt.date:
    """``day`` plus ``years`` (whole years keep the calendar day; 29 February becomes 28 February)."""
    if float(years).is_integer():
        year = day.year + int(years)
        try:
            return day.replace(year=year)
        except ValueError:
            return day.replace(year=year, day=28)
    return day + dt.timedelta(days=round(365.25 * years))


def labels(
    package: DataPackage, as_of: dt.date, horizon_years: float, *, until: dt.date | None = None
) -> pl.DataFrame:
    """``company_id, label, joined_on`` for the companies eligible on ``as_of`` (operating, not yet a
    unicorn): ``label`` is True when the company joined the unicorn list after ``as_of`` and no later than
    ``horizon_years`` after it — or no later than ``until`` when given (walk-forward training labels
    known by a later date)."""
    end = until if until is not None else add_years(as_of, horizon_years)
    joined = _unicorn_dates(package)
    return (
        eligibility(package, as_of)
        .filter(pl.col("eligible"))
        .join(joined, on="company_id", how="left")
        .select(
            "company_id",
            ((pl.col("joined_on") > as_of) & (pl.col("joined_on") <= end)).fill_null(False).alias("label"),
            pl.when(pl.col("joined_on") <= end).then(pl.col("joined_on")).alias("joined_on"),
        )
        .sort("company_id")
    )


def _months(days: pl.Expr) -> pl.Expr:
    return days / DAYS_PER_MONTH


def _round_features(rounds: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    r = _to_usd(rounds, "amount", "currency", "announced_on").with_columns(
        (pl.lit(as_of) - pl.col("announced_on")).dt.total_days().alias("days"),
        pl.col("round_type").replace_strict(STAGES, default=None, return_dtype=pl.Int32).alias("stage"),
    )
    medians = r.group_by("round_type").agg(pl.col("usd").median().alias("type_median"))
    # Rounds announced on one day are ordered by stage, then size, then type (unknowns first), so a
    # package's row order never decides which counts as "latest".
    r = r.join(medians, on="round_type", how="left", nulls_equal=True).sort(
        "company_id", "announced_on", "stage", "usd", "round_type", nulls_last=False
    )
    known = pl.col("usd").is_not_null()
    any_known = known.any()

    def window(days: int) -> pl.Expr:
        return pl.when(any_known).then(pl.col("usd").filter(pl.col("days") <= days).sum())

    usd_known = pl.col("usd").drop_nulls()
    aggregations = [
        pl.len().cast(pl.Float64).alias("n_rounds"),
        (pl.col("days") <= 730).sum().cast(pl.Float64).alias("rounds_2y"),
        pl.col("stage").max().cast(pl.Float64).alias("highest_stage"),
        pl.col("stage").drop_nulls().last().cast(pl.Float64).alias("latest_stage"),
        pl.when(any_known).then(pl.col("usd").sum()).alias("total_raised_usd"),
        window(365).alias("raised_1y_usd"),
        window(730).alias("raised_2y_usd"),
        window(1095).alias("raised_3y_usd"),
        usd_known.last().alias("latest_round_usd"),
        pl.col("usd").max().alias("max_round_usd"),
        _months(pl.col("days").min()).alias("months_since_latest_round"),
        _months(pl.col("days").max()).alias("months_since_first_round"),
        pl.when(pl.len() > 1)
        .then(_months(pl.col("days").max() - pl.col("days").min()) / (pl.len() - 1))
        .alias("mean_months_between_rounds"),
        pl.when(known.sum() > 1)
        .then(usd_known.last() / usd_known.slice(-2, 1).first())
        .alias("round_growth"),
        pl.when(known.sum() > 1)
        .then(usd_known.filter(usd_known > 0).log().diff().mean())
        .alias("mean_log_round_growth"),
        (pl.col("usd") / pl.col("type_median")).drop_nulls().last().alias("latest_round_vs_stage_median"),
    ]
    if "post_money_valuation" in rounds.columns:
        aggregations.append(pl.col("post_money_valuation").drop_nulls().len().alias("_n_post"))
    features = r.group_by("company_id").agg(aggregations)
    years = (pl.col("months_since_first_round") / 12).clip(lower_bound=0.5)
    return features.with_columns(
        (pl.col("total_raised_usd") / years).alias("funding_velocity_usd"),
    ).drop("_n_post", strict=False)


def _valuation_features(package: DataPackage, as_of: dt.date) -> pl.DataFrame:
    frames = []
    vals = package.valuations.filter(pl.col("as_of") <= as_of)
    if not vals.is_empty():
        frames.append(vals.select("company_id", pl.col("as_of").alias("on"), "value", "currency"))
    rounds = package.rounds
    if "post_money_valuation" in rounds.columns:
        post = rounds.filter((pl.col("announced_on") <= as_of) & pl.col("post_money_valuation").is_not_null())
        if not post.is_empty():
            currency = "post_money_currency" if "post_money_currency" in post.columns else "currency"
            values = post.select(
                "company_id",
                pl.col("announced_on").alias("on"),
                pl.col("post_money_valuation").cast(pl.Float64, strict=False).alias("value"),
                pl.col(currency).fill_null(pl.col("currency")).alias("currency"),
            )
            frames.append(values.filter(pl.col("value").is_not_null()))
    schema = {"company_id": pl.String, "latest_valuation_usd": pl.Float64, "valuation_step_up": pl.Float64}
    if not frames:
        return pl.DataFrame(schema=schema)
    v = _to_usd(pl.concat(frames), "value", "currency", "on").filter(pl.col("usd").is_not_null())
    if v.is_empty():
        return pl.DataFrame(schema=schema)
    v = v.sort("company_id", "on", "usd")
    return v.group_by("company_id").agg(
        pl.col("usd").last().alias("latest_valuation_usd"),
        pl.when(pl.len() > 1)
        .then(pl.col("usd").last() / pl.col("usd").slice(-2, 1).first())
        .alias("valuation_step_up"),
    )


MIN_BACKED = 3
"""An investor's hit rate counts once it has backed at least this many other companies (as signals do)."""


def _outcome_dates(package: DataPackage, as_of: dt.date) -> pl.DataFrame:
    """``company_id, outcome_on``: the first date on or before ``as_of`` a company joined the unicorn list or
    listed (an ipo/post-ipo round or an ipo lifecycle event)."""
    frames = [
        _unicorn_dates(package).select("company_id", pl.col("joined_on").alias("outcome_on")),
        package.rounds.filter(pl.col("round_type").is_in(_LISTING_ROUND_TYPES)).select(
            "company_id", pl.col("announced_on").alias("outcome_on")
        ),
    ]
    if not package.lifecycle_events.is_empty():
        frames.append(
            package.lifecycle_events.filter(pl.col("kind") == "ipo").select(
                "company_id", pl.col("occurred_on").alias("outcome_on")
            )
        )
    return (
        pl.concat(frames)
        .filter(pl.col("outcome_on") <= as_of)
        .group_by("company_id")
        .agg(pl.col("outcome_on").min())
    )


def _investor_features(package: DataPackage, rounds: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """``company_id, n_investors, investor_hit_rate, investor_hits`` from ``rounds`` (those dated on or
    before ``as_of``).

    An investor's record (投资机构历史命中率) is computed as the ``strong_investor`` signal computes it,
    on the as-of date: over the other companies it first backed while they were neither unicorns nor listed
    (its picks), the share that joined the unicorn list or listed later, on or before ``as_of``. A
    company's own rounds never count towards its investors' records."""
    backings = (
        rounds.select("company_id", "announced_on", pl.col("investors").str.split(";").alias("investor"))
        .explode("investor", empty_as_null=True)
        .with_columns(pl.col("investor").str.strip_chars())
        .filter(pl.col("investor").is_not_null() & (pl.col("investor") != ""))
        .group_by("investor", "company_id")
        .agg(pl.col("announced_on").min().alias("first_backed"))
        .join(_outcome_dates(package, as_of), on="company_id", how="left")
        .with_columns(
            (pl.col("outcome_on").is_null() | (pl.col("outcome_on") > pl.col("first_backed")))
            .cast(pl.Int64)
            .alias("pick"),
            (pl.col("outcome_on") > pl.col("first_backed")).fill_null(False).cast(pl.Int64).alias("hit"),
        )
    )
    records = backings.group_by("investor").agg(
        pl.col("pick").sum().alias("picks"), pl.col("hit").sum().alias("hits")
    )
    others = backings.join(records, on="investor").with_columns(
        (pl.col("picks") - pl.col("pick")).alias("other_picks"),
        (pl.col("hits") - pl.col("hit")).alias("other_hits"),
    )
    counted = pl.col("other_picks") >= MIN_BACKED
    return others.group_by("company_id").agg(
        pl.col("investor").n_unique().cast(pl.Float64).alias("n_investors"),
        (pl.col("other_hits") / pl.col("other_picks"))
        .filter(counted)
        .max()
        .fill_null(0.0)
        .alias("investor_hit_rate"),
        pl.col("other_hits").max().cast(pl.Float64).alias("investor_hits"),
    )


def _text_column(companies: pl.DataFrame, *candidates: tuple[str, int | None]) -> pl.Expr:
    exprs = []
    for column, prefix in candidates:
        if column in companies.columns:
            expr = pl.col(column).cast(pl.String)
            exprs.append(expr.str.slice(0, prefix) if prefix else expr)
    if not exprs:
        return pl.lit(None, dtype=pl.String)
    return pl.coalesce(exprs)


def build_features(package: DataPackage, as_of: dt.date) -> pl.DataFrame:
    """One row per company existing on ``as_of`` (see :func:`population`): ``company_id`` then the
    columns of :data:`FEATURES`, in that order, from records dated on or before ``as_of`` only."""
    pop = population(package, as_of)
    all_rounds = package.rounds.filter(pl.col("announced_on") <= as_of)
    # stage medians use every round up to as_of (a cross-section known on the day)
    round_features = _round_features(all_rounds, as_of).join(pop, on="company_id", how="semi")
    companies = package.companies.join(pop, on="company_id", how="semi")
    base = companies.select(
        "company_id",
        pl.when(pl.col("founded_on").is_not_null())
        .then((pl.lit(as_of) - pl.col("founded_on")).dt.total_days() / 365.25)
        .alias("age_years"),
        pl.col("founded_on").is_not_null().cast(pl.Float64).alias("founded_known"),
        _text_column(companies, ("category", None), ("industry_code", 2)).alias("category"),
        _text_column(companies, ("state", None), ("region_code", 2)).alias("state"),
        _text_column(companies, ("metro", None), ("region_code", 4), ("city", None)).alias("metro"),
    )
    investor_columns = ["n_investors", "investor_hit_rate", "investor_hits"]
    # investors are "named" when a round dated on or before as_of names one (later rounds must not decide)
    named = package.has_investors and all_rounds["investors"].null_count() < all_rounds.height
    if named:
        investors = _investor_features(package, all_rounds, as_of)
    else:
        schema = {"company_id": pl.String, **dict.fromkeys(investor_columns, pl.Float64)}
        investors = pl.DataFrame(schema=schema)
    frame = (
        base.join(round_features, on="company_id", how="left")
        .join(_valuation_features(package, as_of), on="company_id", how="left")
        .join(investors, on="company_id", how="left")
        .with_columns(
            pl.col("n_rounds").fill_null(0.0),
            pl.col("rounds_2y").fill_null(0.0),
            (pl.col("age_years") / pl.col("highest_stage")).alias("years_per_stage"),
        )
    )
    if named:
        frame = frame.with_columns(pl.col(investor_columns).fill_null(0.0))
    numeric = [name for name in FEATURES if name not in CATEGORICAL]
    return (
        frame.select(
            "company_id",
            *[pl.col(name).cast(pl.Float64) for name in numeric],
            *[pl.col(name).cast(pl.String) for name in CATEGORICAL],
        )
        .sort("company_id")
        .select("company_id", *FEATURES)
    )
