"""Fit the funding-history model (融资历程模型) that the demo generator draws from.

The model is learnt from the real back-test rounds (the Crunchbase October 2013 export, CC-BY, in the
data-package format) and written to ``qilin/demo/data/round_model.json``::

    python -m qilin.demo.fit data/backtest/dev src/qilin/demo/data/round_model.json

What it holds, and how each part is estimated:

``stages``
    The staged round types, in order: seed, angel, series-a, series-b, series-c+. (Seed comes before
    angel, as 种子轮 does before 天使轮.) Other round types (venture = stage unknown, other,
    private-equity, crowdfunding, post-ipo, …) are "unstaged".
``entry_stage``
    The stage of a funded company's first staged round.
``progression``
    For each stage, the empirical probability that the company's next staged round is each stage at
    or after it (the same stage again is an extension: 天使+轮, A+轮, or the next letter after C), or
    ``none``: no further staged round. A staged round earlier than one already seen (a data slip) is
    dropped. Only rounds announced at least ``censoring_guard_days`` before the export's last date count,
    so that "no further round" is not mostly "the export stopped".
``round_size_usd``
    Per stage (and ``unstaged``): a log-normal fit of the USD amounts (``mu``/``sigma`` of ln USD), with
    the empirical median and 10th/90th percentiles beside it.
``gap_days``
    Per stage: days from a staged round to the company's next staged round, as empirical quantiles
    (0 %, 5 %, …, 100 %); draw by inverse-CDF interpolation. Same-day pairs are left out.
``unstaged``
    How many unstaged rounds follow a staged round before the next one (mean per stage) and precede the
    first one (mean), the share of funded companies with unstaged rounds only, the distribution of their
    number of rounds (``"5+"`` lumps the tail) and the gaps between their consecutive rounds.
``rounds_per_company``
    The distribution of the number of rounds (of any type) per funded company (``"10+"`` lumps the tail).
``first_round_age_days``
    Days from ``founded_on`` to the first round of any type, where ``founded_on`` is known and not after
    that round, as empirical quantiles.

A stage without observations (the export has no ``seed`` rounds) borrows the figures of the nearest
stage and says so in ``fallback``. The output is deterministic for a given input and fitting date:
sorted keys, floats rounded to 6 decimals, probabilities adjusted to sum to exactly 1 at that precision.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

SOURCE_TEMPLATE = "Crunchbase 2013 export, CC-BY, {path}"
STAGES: tuple[str, ...] = ("seed", "angel", "series-a", "series-b", "series-c+")
STAGE_RANK: dict[str, int] = {stage: i for i, stage in enumerate(STAGES)}
NONE = "none"
UNSTAGED = "unstaged"
CENSORING_GUARD_DAYS = 730
QUANTILE_LEVELS: tuple[float, ...] = tuple(i / 20 for i in range(21))
ROUNDS_TAIL = 10
ONLY_ROUNDS_TAIL = 5
DIGITS = 6
FALLBACK: dict[str, str] = {"seed": "angel", "angel": "seed"}


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _probabilities(counts: dict[str, int]) -> dict[str, float]:
    """Counts → probabilities rounded to ``DIGITS``, the largest adjusted so that they sum to 1."""
    total = sum(counts.values())
    if total == 0:
        return {}
    probs = {k: _r(v / total) for k, v in counts.items()}
    largest = max(probs, key=lambda k: (probs[k], k))
    probs[largest] = _r(1.0 - sum(v for k, v in probs.items() if k != largest))
    return probs


def _quantiles(values: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, Any]:
    if values.size == 0:
        return {"n": 0}
    qs = np.quantile(values, QUANTILE_LEVELS)
    return {
        "n": int(values.size),
        "median": _r(float(np.median(values))),
        "values": [_r(v) for v in qs],
    }


def _lognormal(values: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, Any]:
    values = values[values > 0]
    if values.size < 2:
        return {"n": int(values.size)}
    logs = np.log(values)
    return {
        "n": int(values.size),
        "mu": _r(float(logs.mean())),
        "sigma": _r(float(logs.std(ddof=1))),
        "median": _r(float(np.median(values))),
        "p10": _r(float(np.quantile(values, 0.1))),
        "p90": _r(float(np.quantile(values, 0.9))),
    }


def _read(backtest_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    rounds = pl.read_csv(
        backtest_dir / "rounds.csv",
        schema_overrides={"company_id": pl.String, "round_type": pl.String, "currency": pl.String},
        infer_schema_length=0,
    ).select(
        pl.col("company_id"),
        pl.col("announced_on").str.to_date("%Y-%m-%d", strict=False),
        pl.col("round_type").str.strip_chars().str.to_lowercase(),
        pl.col("amount").cast(pl.Float64, strict=False),
        pl.col("currency"),
    )
    rounds = rounds.filter(pl.col("announced_on").is_not_null())
    companies = pl.read_csv(backtest_dir / "companies.csv", infer_schema_length=0).select(
        pl.col("id").alias("company_id"),
        pl.col("founded_on").str.to_date("%Y-%m-%d", strict=False),
    )
    return rounds, companies


def fit_round_model(backtest_dir: Path | str, *, fitted_on: dt.date | None = None) -> dict[str, Any]:
    """The round model fitted from ``backtest_dir``'s ``rounds.csv`` and ``companies.csv``."""
    backtest_dir = Path(backtest_dir)
    rounds, companies = _read(backtest_dir)
    cutoff: dt.date = rounds["announced_on"].max()  # type: ignore[assignment]
    guard = cutoff - dt.timedelta(days=CENSORING_GUARD_DAYS)
    rounds = rounds.with_columns(
        pl.col("round_type").replace_strict(STAGE_RANK, default=-1, return_dtype=pl.Int64).alias("rank")
    ).sort(["company_id", "announced_on", "rank"])

    entry: dict[str, int] = dict.fromkeys(STAGES, 0)
    progression: dict[str, dict[str, int]] = {
        s: dict.fromkeys([*STAGES[i:], NONE], 0) for i, s in enumerate(STAGES)
    }
    gaps: dict[str, list[float]] = {s: [] for s in STAGES}
    unstaged_after: dict[str, list[int]] = {s: [] for s in STAGES}
    unstaged_before_first: list[int] = []
    unstaged_only_gaps: list[float] = []
    unstaged_only_rounds: list[int] = []
    sizes: dict[str, list[float]] = {s: [] for s in (*STAGES, UNSTAGED)}
    rounds_per_company: list[int] = []
    unstaged_only = 0
    funded = 0

    for (company_id,), group in rounds.group_by(["company_id"], maintain_order=True):
        del company_id
        dates: list[dt.date] = group["announced_on"].to_list()
        ranks: list[int] = group["rank"].to_list()
        amounts: list[float | None] = group["amount"].to_list()
        funded += 1
        rounds_per_company.append(len(dates))
        for rank, amount in zip(ranks, amounts, strict=True):
            if amount is not None and amount > 0:
                sizes[STAGES[rank] if rank >= 0 else UNSTAGED].append(amount)
        # The monotone staged sequence, and the unstaged rounds between its members.
        kept: list[tuple[dt.date, int]] = []
        between: list[int] = []
        before_first = 0
        current = -1
        for date, rank in zip(dates, ranks, strict=True):
            if rank < 0:
                if kept:
                    between[-1] += 1
                else:
                    before_first += 1
                continue
            if rank < current or (kept and kept[-1] == (date, rank)):
                continue
            kept.append((date, rank))
            between.append(0)
            current = rank
        if not kept:
            unstaged_only += 1
            unstaged_only_rounds.append(len(dates))
            ordinals = [d.toordinal() for d in dates]
            unstaged_only_gaps.extend(float(b - a) for a, b in itertools.pairwise(ordinals) if b > a)
            continue
        unstaged_before_first.append(before_first)
        entry[STAGES[kept[0][1]]] += 1
        for i, (date, rank) in enumerate(kept):
            stage = STAGES[rank]
            if i + 1 < len(kept):
                next_date, next_rank = kept[i + 1]
                gap = (next_date - date).days
                if gap > 0:
                    gaps[stage].append(float(gap))
                if date <= guard:
                    progression[stage][STAGES[next_rank]] += 1
                    unstaged_after[stage].append(between[i])
            elif date <= guard:
                progression[stage][NONE] += 1
                unstaged_after[stage].append(between[i])

    first = (
        rounds.group_by("company_id")
        .agg(pl.col("announced_on").min().alias("first_round"))
        .join(companies, on="company_id", how="inner")
        .filter(pl.col("founded_on").is_not_null())
        .with_columns((pl.col("first_round") - pl.col("founded_on")).dt.total_days().alias("age"))
    )
    ages = first.filter(pl.col("age") >= 0)["age"].cast(pl.Float64).to_numpy()

    model: dict[str, Any] = {
        "source": SOURCE_TEMPLATE.format(path=backtest_dir.as_posix()),
        "fitted_on": (fitted_on or dt.date.today()).isoformat(),
        "data_last_date": cutoff.isoformat(),
        "censoring_guard_days": CENSORING_GUARD_DAYS,
        "quantile_levels": [_r(q) for q in QUANTILE_LEVELS],
        "stages": list(STAGES),
        "methods": {
            "progression": "empirical next-staged-round frequencies (same stage = extension), "
            "from rounds at least censoring_guard_days before data_last_date",
            "round_size_usd": "log-normal: mu, sigma of ln(USD amount); median, p10, p90 empirical",
            "gap_days": "empirical quantiles of days to the next staged round; inverse-CDF sampling",
            "first_round_age_days": "empirical quantiles of days from founded_on to the first round",
        },
        "counts": {
            "funded_companies": funded,
            "rounds": rounds.height,
            "companies_with_founded_on_and_round": first.height,
            "first_round_before_founded_dropped": first.height - int(ages.size),
        },
        "fallback": {},
    }

    entry_probs = _probabilities(entry)
    model["entry_stage"] = entry_probs
    model["progression"] = {}
    model["progression_n"] = {}
    model["round_size_usd"] = {UNSTAGED: _lognormal(np.asarray(sizes[UNSTAGED], dtype=np.float64))}
    model["gap_days"] = {}
    unstaged_after_mean: dict[str, float] = {}
    for stage in STAGES:
        n = sum(progression[stage].values())
        source_stage = stage
        if n == 0:
            source_stage = FALLBACK[stage]
            model["fallback"][stage] = source_stage
        counts = dict(progression[source_stage])
        if source_stage != stage:
            # Borrowed from a stage that may sit before or after this one; keep only outcomes at or
            # after this stage (an earlier stage's extension becomes this stage's extension).
            rank = STAGE_RANK[stage]
            moved = {k: v for k, v in counts.items() if k != NONE and STAGE_RANK[k] < rank}
            counts = {k: v for k, v in counts.items() if k == NONE or STAGE_RANK[k] >= rank}
            counts[stage] = counts.get(stage, 0) + sum(moved.values())
            for later in STAGES[rank:]:
                counts.setdefault(later, 0)
        model["progression"][stage] = _probabilities(counts)
        model["progression_n"][stage] = n
        model["round_size_usd"][stage] = _lognormal(np.asarray(sizes[source_stage], dtype=np.float64))
        model["gap_days"][stage] = _quantiles(np.asarray(gaps[source_stage], dtype=np.float64))
        after = unstaged_after[source_stage]
        unstaged_after_mean[stage] = _r(sum(after) / len(after)) if after else 0.0

    tail = {str(k): 0 for k in range(1, ROUNDS_TAIL)} | {f"{ROUNDS_TAIL}+": 0}
    for k in rounds_per_company:
        tail[str(k) if k < ROUNDS_TAIL else f"{ROUNDS_TAIL}+"] += 1
    model["rounds_per_company"] = {
        "n": len(rounds_per_company),
        "mean": _r(sum(rounds_per_company) / max(len(rounds_per_company), 1)),
        "p": _probabilities(tail),
    }
    only_tail = {str(k): 0 for k in range(1, ONLY_ROUNDS_TAIL)} | {f"{ONLY_ROUNDS_TAIL}+": 0}
    for k in unstaged_only_rounds:
        only_tail[str(k) if k < ONLY_ROUNDS_TAIL else f"{ONLY_ROUNDS_TAIL}+"] += 1
    model["unstaged"] = {
        "after_stage_mean": unstaged_after_mean,
        "before_first_staged_mean": _r(sum(unstaged_before_first) / max(len(unstaged_before_first), 1)),
        "only_share": _r(unstaged_only / max(funded, 1)),
        "only_gap_days": _quantiles(np.asarray(unstaged_only_gaps, dtype=np.float64)),
        "only_rounds": _probabilities(only_tail),
    }
    model["first_round_age_days"] = _quantiles(ages.astype(np.float64))
    return model


def dumps(model: dict[str, Any]) -> str:
    """The model as deterministic JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(model, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite number in the fitted model")
    if isinstance(value, dict):
        for v in value.values():
            _check_finite(v)
    if isinstance(value, list):
        for v in value:
            _check_finite(v)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m qilin.demo.fit BACKTEST_DIR OUT_JSON", file=sys.stderr)
        return 2
    model = fit_round_model(Path(args[0]))
    _check_finite(model)
    Path(args[1]).write_text(dumps(model), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
