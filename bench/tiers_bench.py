"""Tier batch benchmark: N generated enterprises (default 1,000,000) evaluated against every shipped standard
with :func:`qilin.tiers.compile.evaluate_batch`. Prints, per standard, the seconds of the first run and the
best of ``--repeat`` runs, enterprises per second (best run) and the tier counts; then the peak memory.

    .venv/bin/python bench/tiers_bench.py [--enterprises 1000000] [--as-of 2025-06-30] [--repeat 3]

The frames are drawn directly with NumPy and Polars (no database): founding 2008–2025, about 60% with
rounds (≈ 1.5 rounds and ≈ 1 valuation per enterprise overall, in CNY and USD, some vague or undisclosed,
some with a post-money valuation), ≈ 0.2 status records each, a few ipo / acquisition / closure /
relocation events, Zhejiang and other regions, and tracks. The machine is shared and noisy: compare runs
side by side, not absolute seconds across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import numpy as np
import numpy.typing as npt
import polars as pl

from qilin.reference import regions, tracks
from qilin.tiers.compile import (
    ENTERPRISES_SCHEMA,
    EVENTS_SCHEMA,
    ROUNDS_SCHEMA,
    STATUSES_SCHEMA,
    TRACKS_SCHEMA,
    VALUATIONS_SCHEMA,
    TierFrames,
    evaluate_batch,
)
from qilin.tiers.standards import TIER_CODES, packaged_standards

EPOCH = dt.date(1970, 1, 1)
FIRST_DAY = (dt.date(2008, 1, 1) - EPOCH).days
LAST_DAY = (dt.date(2025, 12, 31) - EPOCH).days
PRIVATE = ("angel", "seed", "series-a", "series-b", "series-c+", "venture", "private-equity", "strategic")
OTHER_ROUNDS = ("ipo", "post-ipo", "debt", "grant")
EVIDENCE = ("disclosed", "third-party-list", "estimated", "self-declared")
IntArray = npt.NDArray[np.int64]


def _ids(prefix: str, n: int, start: int = 0) -> pl.Series:
    return pl.select(pl.format(prefix + "{}", pl.int_range(start, start + n, dtype=pl.Int64))).to_series()


def _dates(days: IntArray) -> pl.Series:
    return pl.Series(days, dtype=pl.Int32).cast(pl.Date)


def _strings(values: npt.NDArray[np.str_], null: npt.NDArray[np.bool_] | None = None) -> pl.Series:
    """Text values, null where ``null`` is set."""
    series = pl.Series(values, dtype=pl.String)
    return series if null is None else series.set(pl.Series(null), None)


def _pick(
    rng: np.random.Generator, values: tuple[str, ...], n: int, p: list[float] | None = None
) -> pl.Series:
    return pl.Series(np.asarray(values)[rng.choice(len(values), size=n, p=p)], dtype=pl.String)


def generate(n: int, seed: int = 7) -> TierFrames:
    """Frames of ``n`` enterprises drawn with NumPy (see the module docstring for the distributions)."""
    rng = np.random.default_rng(seed)
    ids = _ids("E", n)
    founded = rng.integers(FIRST_DAY, LAST_DAY + 1, size=n)

    zhejiang = np.array(sorted(r.code for r in regions.zhejiang_counties()))
    elsewhere = np.array(
        sorted(c for c, r in regions.all_regions().items() if r.level == "county" and not c.startswith("33")),
    )
    where = rng.choice(4, size=n, p=[0.7, 0.25, 0.03, 0.02])  # Zhejiang, elsewhere, HK/TW/MO, unknown
    region = np.where(
        where == 0,
        zhejiang[rng.integers(0, zhejiang.size, size=n)],
        np.where(
            where == 1,
            elsewhere[rng.integers(0, elsewhere.size, size=n)],
            np.array(["810000", "710000", "820000"])[rng.integers(0, 3, n)],
        ),
    )
    country = np.where(where == 2, "HK", np.where(rng.random(n) < 0.98, "CN", "US"))
    founded_null = rng.random(n) < 0.02
    enterprises = pl.DataFrame(
        {
            "enterprise_id": ids,
            "founded_on": _dates(founded),
            "country": pl.Series(country, dtype=pl.String),
            "region_code": _strings(region, null=where == 3),
        },
        schema=ENTERPRISES_SCHEMA,
    ).with_columns(
        pl.when(pl.Series(founded_null)).then(None).otherwise(pl.col("founded_on")).alias("founded_on")
    )

    # Tracks: 0–2 per enterprise.
    codes = tuple(sorted(tracks.all_tracks()))
    per = rng.choice(3, size=n, p=[0.3, 0.5, 0.2])
    owner = np.repeat(np.arange(n), per)
    track_frame = pl.DataFrame(
        {"enterprise_id": ids.gather(owner), "track_code": _pick(rng, codes, owner.size)},
        schema=TRACKS_SCHEMA,
    ).unique()

    # Rounds: 60% of enterprises raise, 2.5 rounds on average each, dated after founding.
    funded = np.flatnonzero(rng.random(n) < 0.6)
    counts = rng.geometric(1 / 2.5, size=funded.size)
    owner = np.repeat(funded, counts)
    m = owner.size
    offset = np.minimum(rng.exponential(900, size=m).astype(np.int64), 6000)
    announced = np.minimum(founded[owner] + 30 + offset, LAST_DAY + 200)
    kind = rng.random(m)
    round_type = np.where(
        kind < 0.97,
        np.asarray(PRIVATE)[rng.integers(0, len(PRIVATE), m)],
        np.asarray(OTHER_ROUNDS)[rng.integers(0, len(OTHER_ROUNDS), m)],
    )
    in_usd = rng.random(m) < 0.2
    amount = np.round(np.exp(rng.normal(np.log(3e9), 1.6, size=m))).astype(np.int64)  # cents, median ¥3000万
    amount = np.where(in_usd, amount // 7, amount)
    disclosure = rng.random(m)  # exact / vague (low bound) / undisclosed
    exact = disclosure < 0.75
    vague = (disclosure >= 0.75) & (disclosure < 0.9)
    post = rng.random(m) < 0.3
    post_value = amount * np.round(rng.uniform(4, 15, size=m)).astype(np.int64)
    rounds = pl.DataFrame(
        {
            "enterprise_id": ids.gather(owner),
            "record_id": _ids("", m),
            "announced_on": _dates(announced),
            "round_type": pl.Series(round_type, dtype=pl.String),
            "amount_cents": pl.Series(np.where(exact, amount, 0)),
            "low_cents": pl.Series(np.where(vague, amount // 2, 0)),
            "currency": pl.Series(np.where(in_usd, "USD", "CNY"), dtype=pl.String),
            "post_money_cents": pl.Series(post_value),
            "post_money_currency": pl.Series(np.where(in_usd, "USD", "CNY"), dtype=pl.String),
        }
    ).with_columns(
        pl.when(pl.Series(exact)).then(pl.col("amount_cents")).alias("amount_cents"),
        pl.when(pl.Series(vague)).then(pl.col("low_cents")).alias("low_cents"),
        pl.when(pl.Series(exact | vague)).then(pl.col("currency")).alias("currency"),
        pl.when(pl.Series(post)).then(pl.col("post_money_cents")).alias("post_money_cents"),
        pl.when(pl.Series(post)).then(pl.col("post_money_currency")).alias("post_money_currency"),
    )
    rounds = rounds.select(ROUNDS_SCHEMA.names()).cast(ROUNDS_SCHEMA)

    # Valuations: ≈ 1.67 per funded enterprise, log-normal around ¥3亿 with a long tail.
    vcount = rng.poisson(1.67, size=funded.size)
    owner = np.repeat(funded, vcount)
    k = owner.size
    v_usd = rng.random(k) < 0.35
    value = np.round(np.exp(rng.normal(np.log(3e10), 1.8, size=k))).astype(np.int64)
    value = np.where(v_usd, value // 7, value)
    v_gap = 200 + np.minimum(rng.exponential(1200, size=k).astype(np.int64), 6000)
    v_day = np.minimum(founded[owner] + v_gap, LAST_DAY + 200)
    valuations = pl.DataFrame(
        {
            "enterprise_id": ids.gather(owner),
            "record_id": _ids("", k, start=m),
            "as_of": _dates(v_day),
            "value_cents": pl.Series(value),
            "currency": pl.Series(np.where(v_usd, "USD", "CNY"), dtype=pl.String),
            "evidence": _pick(rng, EVIDENCE, k, [0.4, 0.2, 0.3, 0.1]),
            "source": pl.Series(["bench"] * k, dtype=pl.String),
        },
        schema=VALUATIONS_SCHEMA,
    )

    # Status records: ≈ 0.2 per enterprise.
    owner = np.flatnonzero(rng.random(n) < 0.2)
    s = owner.size
    statuses = pl.DataFrame(
        {
            "enterprise_id": ids.gather(owner),
            "status": _pick(rng, ("operating", "ipo", "acquired", "closed"), s, [0.6, 0.15, 0.15, 0.1]),
            "as_of": _dates(np.minimum(founded[owner] + rng.integers(100, 4000, size=s), LAST_DAY + 200)),
        },
        schema=STATUSES_SCHEMA,
    )

    # Events: a few ipos, acquisitions, closures and relocations (some after the as-of date).
    kinds = ("ipo", "acquisition", "closure", "relocation", "unicorn_list_entry")
    has_event = np.flatnonzero(rng.random(n) < 0.05)
    e = has_event.size
    e_kind = rng.choice(len(kinds), size=e, p=[0.2, 0.2, 0.1, 0.45, 0.05])
    relocation = e_kind == 3
    events = pl.DataFrame(
        {
            "enterprise_id": ids.gather(has_event),
            "record_id": _ids("", e, start=m + k),
            "kind": pl.Series(np.asarray(kinds)[e_kind], dtype=pl.String),
            "occurred_on": _dates(
                np.minimum(founded[has_event] + rng.integers(100, 5000, size=e), LAST_DAY + 300)
            ),
            "from_region_code": _strings(
                elsewhere[rng.integers(0, elsewhere.size, size=e)], null=~relocation
            ),
            "to_region_code": _strings(region[has_event], null=~relocation),
        },
        schema=EVENTS_SCHEMA,
    )
    return TierFrames(enterprises, track_frame, rounds, valuations, statuses, events)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 6, 30))
    parser.add_argument("--repeat", type=int, default=3, help="runs per standard: the first and the best")
    args = parser.parse_args()

    started = time.perf_counter()
    frames = generate(args.enterprises, args.seed)
    generated = time.perf_counter() - started
    sizes = {name: getattr(frames, name).height for name in TierFrames.__dataclass_fields__}
    print(
        f"generated in {generated:.1f}s: {sizes} (polars {pl.__version__}, {pl.thread_pool_size()} threads)"
    )

    print(f"{'standard':<22}{'first s':>9}{'best s':>9}{'enterprises/s':>15}  tiers (first run)")
    for standard in packaged_standards():
        times = []
        result = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run = evaluate_batch(standard, frames, args.as_of)
            times.append(time.perf_counter() - t0)
            result = run if result is None else result
            assert run.equals(result), "evaluate_batch is not deterministic"
        assert result is not None and result.height == args.enterprises
        counts = dict(result["tier"].value_counts().iter_rows())
        shown = ", ".join(f"{t}={counts[t]:,}" for t in TIER_CODES if t in counts)
        best = min(times)
        print(f"{standard.key:<22}{times[0]:>9.2f}{best:>9.2f}{args.enterprises / best:>15,.0f}  {shown}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
