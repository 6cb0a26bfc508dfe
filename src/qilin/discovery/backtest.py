"""Back-tests (回测) of the discovery model beside simple baselines.

Two modes, both time-honest (features from records dated on or before each as-of date; ``status`` only
where it had been observed):

* :func:`cross_validate` — at one as-of date, folds by company (stratified, seeded); the model and the
  baselines' calibrations are fitted on the training folds and scored on the held-out fold.
* :func:`walk_forward` — over several as-of dates: for each test date, train on the earlier dates with
  labels known by the test date (joined the list after the training date and on or before the test date),
  then test at the test date with the full horizon.

Metrics: precision in the top 1%, recall in the top 5%, average precision, Brier score and the median
lead time (years from the as-of date to joining the list, for hits in the top 5%); each with a seeded
bootstrap 90% interval over companies. Baselines rank by total raised, by raised in the last two years, and
by the latest round size; their Brier score is that of a Platt calibration of log(1 + score) fitted on the
same training data as the model, so the four Brier scores are comparable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from qilin.discovery.data import DataPackage, DiscoveryError
from qilin.discovery.features import add_years, build_features, labels
from qilin.discovery.model import UnicornModel, _sigmoid, fit_platt

__all__ = [
    "BASELINES",
    "METRICS",
    "BacktestReport",
    "Interval",
    "cross_validate",
    "evaluate",
    "training_frame",
    "walk_forward",
    "walk_forward_dates",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

BASELINES: dict[str, str] = {
    "total_raised": "total_raised_usd",
    "raised_2y": "raised_2y_usd",
    "latest_round": "latest_round_usd",
}
"""Baseline name → the feature it ranks by."""

METRICS: dict[str, str] = {
    "precision_at_1pct": "precision in the top 1% (higher is better)",
    "recall_at_5pct": "recall in the top 5% (higher is better)",
    "average_precision": "average precision (higher is better)",
    "brier": "Brier score of the calibrated probability (lower is better)",
    "median_lead_years": "median years from the as-of date to joining the list, hits in the top 5%",
}


class Progress(Protocol):
    def stage(self, name: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...


@dataclass(frozen=True)
class Interval:
    """A metric with its bootstrap 90% interval; None when undefined (e.g. no hit for a lead time)."""

    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "low": self.low, "high": self.high}


@dataclass
class BacktestReport:
    """The result of one test: metrics per scorer ("model" first, then the baselines)."""

    mode: str
    as_of: dt.date
    horizon_years: float
    n_companies: int
    n_positives: int
    scorers: dict[str, dict[str, Interval]] = field(default_factory=dict)
    train_as_of: list[dt.date] = field(default_factory=list)
    n_train_positives: int = 0
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "as_of": self.as_of.isoformat(),
            "horizon_years": self.horizon_years,
            "n_companies": self.n_companies,
            "n_positives": self.n_positives,
            "train_as_of": [d.isoformat() for d in self.train_as_of],
            "n_train_positives": self.n_train_positives,
            "note": self.note,
            "scorers": {
                name: {metric: interval.as_dict() for metric, interval in metrics.items()}
                for name, metrics in self.scorers.items()
            },
        }


# -- metrics ---------------------------------------------------------------------------------------------


def _order(scores: FloatArray, tiebreak: FloatArray) -> NDArray[np.intp]:
    """Indices by descending score; ties broken by a seeded random key (not by id or input order)."""
    return np.lexsort((tiebreak, -np.nan_to_num(scores, nan=-np.inf)))


def _point(
    scores: FloatArray, probs: FloatArray | None, y: BoolArray, lead: FloatArray, tiebreak: FloatArray
) -> dict[str, float | None]:
    n = len(y)
    order = _order(scores, tiebreak)
    k1 = max(1, math.ceil(0.01 * n))
    k5 = max(1, math.ceil(0.05 * n))
    positives = int(y.sum())
    top5 = order[:k5]
    hits5 = top5[y[top5]]
    ranked = y[order]
    ap: float | None = None
    if positives:
        # average precision over the ranking (ties already broken), as sklearn computes it on ranks
        ap = float(average_precision_score(ranked, np.arange(n, 0, -1)))
    return {
        "precision_at_1pct": float(y[order[:k1]].mean()),
        "recall_at_5pct": float(len(hits5) / positives) if positives else None,
        "average_precision": ap,
        "brier": float(np.mean((probs - y) ** 2)) if probs is not None else None,
        "median_lead_years": float(np.median(lead[hits5])) if len(hits5) else None,
    }


def evaluate(
    scores: FloatArray,
    y: BoolArray,
    lead_years: FloatArray,
    *,
    probs: FloatArray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, Interval]:
    """All :data:`METRICS` for one scorer, each with a bootstrap 90% interval (companies resampled with
    replacement, ``n_boot`` times, seeded)."""
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(len(y))
    point = _point(scores, probs, y, lead_years, tiebreak)
    samples: dict[str, list[float]] = {name: [] for name in METRICS}
    boot = np.random.default_rng(seed + 1)
    for _ in range(n_boot):
        idx = boot.integers(0, len(y), len(y))
        values = _point(
            scores[idx], probs[idx] if probs is not None else None, y[idx], lead_years[idx], tiebreak[idx]
        )
        for name, value in values.items():
            if value is not None:
                samples[name].append(value)
    out = {}
    for name in METRICS:
        value = point[name]
        if value is None or len(samples[name]) < max(2, n_boot // 2):
            out[name] = Interval(value, None, None)
        else:
            low, high = np.quantile(samples[name], [0.05, 0.95])
            out[name] = Interval(value, float(low), float(high))
    return out


# -- data --------------------------------------------------------------------------------------------------


def training_frame(
    package: DataPackage, as_of: dt.date, horizon_years: float, *, until: dt.date | None = None
) -> pl.DataFrame:
    """Features of the companies eligible on ``as_of`` with ``label`` and ``lead_years`` columns."""
    frame = build_features(package, as_of).join(
        labels(package, as_of, horizon_years, until=until), on="company_id", how="inner"
    )
    return frame.with_columns(
        ((pl.col("joined_on") - pl.lit(as_of)).dt.total_days() / 365.25).alias("lead_years")
    )


def _baseline_score(frame: pl.DataFrame, feature: str) -> FloatArray:
    return frame[feature].cast(pl.Float64).fill_null(-1.0).to_numpy()


def _log_score(score: FloatArray) -> FloatArray:
    out: FloatArray = np.log1p(np.maximum(score, 0.0))
    return out


def _fit_and_score(
    train: pl.DataFrame, test: pl.DataFrame, params: dict[str, Any]
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """(ranking score, calibrated probability) on ``test`` for the model and each baseline."""
    y = train["label"].to_numpy()
    model = UnicornModel(**params).fit(train, y)
    probs = model.predict_proba(test)[:, 1]
    out = {"model": (probs, probs)}
    for name, feature in BASELINES.items():
        a, b = fit_platt(_log_score(_baseline_score(train, feature)), y)
        score = _baseline_score(test, feature)
        out[name] = (score, _sigmoid(a * _log_score(score) + b))
    return out


def _report(
    mode: str,
    as_of: dt.date,
    horizon_years: float,
    test: pl.DataFrame,
    scored: dict[str, tuple[FloatArray, FloatArray]],
    *,
    n_boot: int,
    seed: int,
) -> BacktestReport:
    y = test["label"].to_numpy().astype(bool)
    lead = test["lead_years"].fill_null(np.nan).to_numpy()
    report = BacktestReport(mode, as_of, horizon_years, test.height, int(y.sum()))
    for name, (score, probs) in scored.items():
        report.scorers[name] = evaluate(score, y, lead, probs=probs, n_boot=n_boot, seed=seed)
    return report


def cross_validate(
    package: DataPackage,
    as_of: dt.date,
    horizon_years: float,
    *,
    folds: int = 5,
    seed: int = 0,
    n_boot: int = 200,
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> BacktestReport:
    """Out-of-fold scores over ``folds`` folds by company at ``as_of``; metrics on the pooled scores."""
    frame = training_frame(package, as_of, horizon_years)
    y = frame["label"].to_numpy().astype(bool)
    if y.sum() < 2:
        raise DiscoveryError("data.no_positives", as_of=as_of.isoformat(), horizon=horizon_years)
    if y.sum() < folds:
        raise DiscoveryError(
            "data.too_few_positives",
            folds=folds,
            positives=int(y.sum()),
            as_of=as_of.isoformat(),
            horizon=horizon_years,
        )
    params = {"random_state": seed, **(params or {})}
    pooled: dict[str, tuple[FloatArray, FloatArray]] = {}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    if progress is not None:
        progress.stage("backtest:cv", folds)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        scored = _fit_and_score(frame[train_idx], frame[test_idx], params)
        for name, (score, probs) in scored.items():
            if name not in pooled:
                pooled[name] = (np.full(len(y), np.nan), np.full(len(y), np.nan))
            pooled[name][0][test_idx] = score
            pooled[name][1][test_idx] = probs
        if progress is not None:
            progress.advance()
    report = _report("cv", as_of, horizon_years, frame, pooled, n_boot=n_boot, seed=seed)
    report.train_as_of = [as_of]
    report.n_train_positives = int(y.sum())
    report.note = f"{folds}-fold CV by company"
    return report


def walk_forward_dates(as_of: dt.date, steps: int = 4) -> list[dt.date]:
    """``as_of`` and the ``steps`` yearly dates before it, oldest first."""
    return [add_years(as_of, -k) for k in range(steps, -1, -1)]


def walk_forward(
    package: DataPackage,
    dates: Sequence[dt.date],
    horizon_years: float,
    *,
    seed: int = 0,
    n_boot: int = 200,
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> list[BacktestReport]:
    """For each date after the first: train on all earlier dates (labels known by the test date), test
    at the date with the full horizon. A test whose training labels hold no positive is reported with
    the baselines only and a note."""
    dates = sorted(dates)
    params = {"random_state": seed, **(params or {})}
    reports = []
    if progress is not None:
        progress.stage("backtest:walk-forward", len(dates) - 1)
    for k in range(1, len(dates)):
        test_date = dates[k]
        train = pl.concat(
            [training_frame(package, d, horizon_years, until=test_date) for d in dates[:k]], how="vertical"
        )
        test = training_frame(package, test_date, horizon_years)
        n_train_pos = int(train["label"].sum())
        if n_train_pos >= 2:
            scored = _fit_and_score(train, test, params)
            note = ""
        else:
            scored = _fit_and_score_baselines_only(train, test)
            note = "no model: fewer than 2 positive training labels"
        report = _report("walk-forward", test_date, horizon_years, test, scored, n_boot=n_boot, seed=seed)
        report.train_as_of = list(dates[:k])
        report.n_train_positives = n_train_pos
        report.note = note
        reports.append(report)
        if progress is not None:
            progress.advance()
    return reports


def _fit_and_score_baselines_only(
    train: pl.DataFrame, test: pl.DataFrame
) -> dict[str, tuple[FloatArray, FloatArray]]:
    y = train["label"].to_numpy()
    out = {}
    for name, feature in BASELINES.items():
        a, b = fit_platt(_log_score(_baseline_score(train, feature)), y)
        score = _baseline_score(test, feature)
        out[name] = (score, _sigmoid(a * _log_score(score) + b))
    return out
