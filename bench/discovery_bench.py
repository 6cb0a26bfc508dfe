"""Discovery benchmark: rank N synthetic companies (default 1,000,000, ≈ 3 rounds each) with the shipped
model, and train on the developer split. Prints seconds per phase and the peak resident memory.

    .venv/bin/python bench/discovery_bench.py [--companies 1000000] [--as-of 2024-06-30] [--skip-train]

The package is drawn directly as a :class:`~qilin.discovery.data.DataPackage` with NumPy and Polars (no CSV,
no database): founding 2000–2023; rounds follow a stage progression (angel/seed → series-a → series-b →
series-c+ → private-equity, with venture/strategic rounds in between) at 6–30 month gaps, sizes growing by
stage (log-normal, CNY or USD, ≈ 10% undisclosed), investors on most rounds; a few acquisitions, IPO rounds,
closures and unicorn-list entries; valuations for ≈ 10%. The goal: ranking 1M companies in under 60 s and
4 GB, training in under 2 minutes. The machine is shared and noisy: compare runs side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from qilin.discovery.data import DataPackage, read_package
from qilin.discovery.features import build_features
from qilin.discovery.model import DEFAULT_MODEL_PATH, load_model, rank, train

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "data" / "backtest" / "dev"
EPOCH = dt.date(1970, 1, 1)
FIRST_DAY = (dt.date(2000, 1, 1) - EPOCH).days
LAST_FOUNDED = (dt.date(2023, 12, 31) - EPOCH).days
LAST_DAY = (dt.date(2025, 12, 31) - EPOCH).days

STAGES = ("seed", "series-a", "series-b", "series-c+", "private-equity")
ROUND_SIZE_USD = (1.0e6, 5.0e6, 1.5e7, 4.0e7, 1.0e8)  # median round by stage
CATEGORIES = tuple(f"cat-{i:02d}" for i in range(40))
CITIES = tuple(f"33{i:02d}00" for i in range(1, 12)) + tuple(f"{p}0100" for p in (11, 31, 32, 44, 51))
INVESTORS = tuple(f"investor-{i:04d}" for i in range(3000))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _take(values: tuple[str, ...], index: npt.NDArray[np.int64]) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(index))


def _days(values: npt.NDArray[np.int64]) -> pl.Series:
    return pl.Series(values.astype(np.int32), dtype=pl.Int32).cast(pl.Date)


def synthetic_package(n: int, seed: int = 0) -> DataPackage:
    """N companies with ≈ 3 rounds each (see the module's description)."""
    rng = np.random.default_rng(seed)
    id_series = ("c" + pl.Series("company_id", np.arange(n)).cast(pl.String).str.zfill(8)).alias("company_id")
    founded = rng.integers(FIRST_DAY, LAST_FOUNDED, n)
    founded_known = rng.random(n) > 0.05
    region = rng.integers(0, len(CITIES), n)
    companies = pl.DataFrame(
        {
            "company_id": id_series,
            "name": id_series,
            "founded_on": _days(founded).set(pl.Series(~founded_known), None),
            "country": pl.Series(["CN"] * n, dtype=pl.String),
            "region_code": _take(CITIES, region),
            "city": _take(CITIES, region).str.slice(0, 4),
            "industry_code": None,
            "category": _take(CATEGORIES, rng.integers(0, len(CATEGORIES), n)),
            "status": pl.Series(["operating"] * n, dtype=pl.String),
            "status_as_of": _days(np.full(n, LAST_DAY)),
        }
    ).with_columns(pl.col("industry_code").cast(pl.String))
    # rounds: 0..8 per company, ≈ 3 on or before the last day
    n_rounds = np.minimum(rng.poisson(3.4, n), 8)
    total = int(n_rounds.sum())
    company = np.repeat(np.arange(n), n_rounds)
    starts = np.cumsum(n_rounds) - n_rounds
    position = np.arange(total) - np.repeat(starts, n_rounds)
    gap = rng.integers(180, 900, total)
    first_gap = rng.integers(90, 1500, total)
    gap = np.where(position == 0, first_gap, gap)
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[starts] - gap[starts], n_rounds)
    announced = founded[company] + offset
    # stage progression: the k-th round reaches stage min(k, 4), sometimes skipping one or staying
    step = np.clip(position + rng.integers(-1, 2, total), 0, len(STAGES) - 1)
    stage = (
        pl.DataFrame({"company": company, "step": step})
        .select(pl.col("step").cum_max().over("company"))
        .to_series()
        .to_numpy()
    )
    kind = rng.random(total)
    labels = np.asarray((*STAGES, "venture", "strategic"))
    round_type = np.where(kind < 0.1, 5, np.where(kind < 0.15, 6, stage))
    size = np.asarray(ROUND_SIZE_USD)[stage] * rng.lognormal(0.0, 0.8, total)
    cny = rng.random(total) < 0.6
    amount = np.where(cny, size * 7.0, size).round(-3)
    disclosed = rng.random(total) > 0.1
    investors = rng.integers(0, len(INVESTORS), (total, 3))
    n_investors = rng.integers(0, 4, total)
    investor_text = pl.DataFrame(
        {f"i{k}": _take(INVESTORS, investors[:, k]) for k in range(3)} | {"n": n_investors}
    ).select(
        pl.when(pl.col("n") == 0)
        .then(None)
        .when(pl.col("n") == 1)
        .then(pl.col("i0"))
        .when(pl.col("n") == 2)
        .then(pl.concat_str("i0", "i1", separator=";"))
        .otherwise(pl.concat_str("i0", "i1", "i2", separator=";"))
        .alias("investors")
    )
    rounds = pl.DataFrame(
        {
            "company_id": id_series.gather(pl.Series(company)),
            "announced_on": _days(announced),
            "round_type": pl.Series(labels[round_type].tolist(), dtype=pl.String),
            "investors": investor_text["investors"],
            "amount": pl.Series(np.where(disclosed, amount, np.nan)).fill_nan(None),
            "currency": pl.Series(np.where(cny, "CNY", "USD").tolist(), dtype=pl.String),
        }
    ).filter(pl.col("announced_on") <= _days(np.array([LAST_DAY]))[0])
    # exits and unicorns
    acquired = rng.choice(n, n // 50, replace=False)
    acquisitions = pl.DataFrame(
        {
            "company_id": id_series.gather(pl.Series(acquired)),
            "acquired_on": _days(
                np.minimum(founded[acquired] + rng.integers(700, 5000, acquired.size), LAST_DAY)
            ),
        }
    )
    unicorn = rng.choice(n, n // 1000, replace=False)
    unicorn_events = pl.DataFrame(
        {
            "company_id": id_series.gather(pl.Series(unicorn)),
            "joined_on": _days(
                np.minimum(founded[unicorn] + rng.integers(1500, 4000, unicorn.size), LAST_DAY)
            ),
        }
    )
    valued = rng.choice(n, n // 10, replace=False)
    valuations = pl.DataFrame(
        {
            "company_id": id_series.gather(pl.Series(valued)),
            "as_of": _days(np.minimum(founded[valued] + rng.integers(400, 4000, valued.size), LAST_DAY)),
            "value": rng.lognormal(np.log(5e7), 1.2, valued.size),
            "currency": pl.Series(["USD"] * valued.size, dtype=pl.String),
        }
    )
    lifecycle = pl.DataFrame(schema={"company_id": pl.String, "kind": pl.String, "occurred_on": pl.Date})
    return DataPackage(
        companies=companies,
        rounds=rounds,
        acquisitions=acquisitions,
        unicorn_events=unicorn_events,
        valuations=valuations,
        lifecycle_events=lifecycle,
        fingerprint=f"synthetic-{n}-{seed}",
    )


def timed(label: str, action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"{label:<38} {seconds:8.1f} s   peak RSS {peak_rss_mb():8.0f} MB", flush=True)
    return result, seconds


def breakdown(package: DataPackage, model: Any, as_of: dt.date) -> None:
    """Where rank's time goes: the same steps as :func:`qilin.discovery.model.rank`, one by one."""
    from qilin.discovery.features import eligibility

    eligible, _ = timed("  eligibility", lambda: eligibility(package, as_of).filter(pl.col("eligible")))
    frame, _ = timed(
        "  build_features + join",
        lambda: build_features(package, as_of).join(
            eligible.select("company_id"), on="company_id", how="semi"
        ),
    )
    timed("  predict_proba (calibrated score)", lambda: model.predict_proba(frame))
    timed("  contributions (pred_contrib, SHAP)", lambda: model.contributions(frame))
    timed("  reasons (contributions + phrases)", lambda: model.reasons(frame, top=3, lang="zh"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-rank", action="store_true")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time rank's parts: features, score, contributions, reasons",
    )
    args = parser.parse_args(argv)
    if not args.skip_rank:
        package, _ = timed(
            f"generate {args.companies:,} companies", lambda: synthetic_package(args.companies)
        )
        print(f"  {package.companies.height:,} companies, {package.rounds.height:,} rounds", flush=True)
        model, _ = load_model(DEFAULT_MODEL_PATH)
        features, _ = timed("build_features", lambda: build_features(package, args.as_of))
        print(f"  {features.height:,} feature rows", flush=True)
        del features
        ranking, _ = timed(
            "rank (features + score + reasons)", lambda: rank(package, as_of=args.as_of, model=model)
        )
        print(f"  {ranking.height:,} ranked; goal < 60 s and < 4096 MB", flush=True)
        del ranking
        if args.breakdown:
            breakdown(package, model, args.as_of)
        del package
    if not args.skip_train:
        from qilin.discovery.build import AS_OF, HORIZON_YEARS, PARAMS

        dev, _ = timed("read data/backtest/dev", lambda: read_package(DEV))
        timed(
            "train (shipped parameters)",
            lambda: train(dev, as_of=AS_OF, horizon_years=HORIZON_YEARS, params=PARAMS),
        )
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
