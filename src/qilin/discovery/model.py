"""The unicorn-discovery model (独角兽发现模型): calibrated LightGBM with reasons from tree contributions.

:class:`UnicornModel` follows scikit-learn's conventions: the constructor only stores parameters, ``fit``
learns attributes ending in ``_``. Scores are probabilities. The ranking score blends two percentiles
within the training set: that of the booster's margin and that of the amount raised in the last two years
(the strongest simple baseline), ``baseline_weight`` (0.5) of the latter; the blend goes through a Platt
(sigmoid) calibration fitted on out-of-fold blends of the training set. With ``baseline_weight=0`` the score
is the booster's margin alone. Reasons (理由) are the features
whose tree contributions (``pred_contrib=True``) push a company's score up most, rendered as short Chinese
(or English) sentences. A model is saved as JSON (no pickle): the LightGBM model string, the calibration,
the categorical vocabularies and metadata.

>>> import numpy as np, polars as pl
>>> from qilin.discovery.features import FEATURES
>>> rng = np.random.default_rng(0)
>>> X = pl.DataFrame({n: rng.random(200) for n in FEATURES if n not in ("category", "state", "metro")})
>>> X = X.with_columns(category=pl.lit("ai"), state=pl.lit("ZJ"), metro=pl.lit("3301"))
>>> y = (X["total_raised_usd"] > 0.8).to_numpy()
>>> model = UnicornModel(n_estimators=20, calibration_folds=2).fit(X, y)
>>> model.predict_proba(X).shape
(200, 2)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
import sklearn
from numpy.typing import NDArray
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold

from qilin.common.dates import today
from qilin.common.files import OutputError, write_atomically
from qilin.discovery import booster_text
from qilin.discovery.data import MAX_HORIZON_YEARS, DiscoveryError, output_error
from qilin.discovery.features import CATEGORICAL, FEATURES, STAGE_NAMES
from qilin.discovery.treeshap import TreeSplits
from qilin.discovery.treeshap import contributions as tree_contributions
from qilin.reference import industries

__all__ = ["FORMAT", "UnicornModel", "fit_platt", "load_model", "save_model"]

FORMAT = "qilin-discovery-model"
FORMAT_VERSION = 2

BLEND_FEATURE = "raised_2y_usd"
"""The feature whose training percentile is blended with the booster's (the raised_2y baseline)."""

FloatArray = NDArray[np.float64]


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(x, -35.0, 35.0)))
    return out


def fit_platt(scores: FloatArray, y: NDArray[Any]) -> tuple[float, float]:
    """Platt scaling: (a, b) minimising log loss of ``sigmoid(a·score + b)``, with Platt's smoothed targets
    (so a perfectly separated fold does not send ``a`` to infinity). Deterministic (L-BFGS from a fixed
    start)."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = float(y.sum()), float((~y).sum())
    target = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    s = np.asarray(scores, dtype=np.float64)

    def loss(ab: FloatArray) -> tuple[float, FloatArray]:
        z = ab[0] * s + ab[1]
        value = float(np.sum(np.logaddexp(0.0, z) - target * z))
        residual = _sigmoid(z) - target
        return value, np.array([np.sum(residual * s), np.sum(residual)])

    start = np.array([1.0, math.log((n_pos + 1.0) / (n_neg + 1.0))])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def _baseline_values(X: pl.DataFrame) -> FloatArray:
    """The blend's baseline feature, unknown amounts counted as 0."""
    if BLEND_FEATURE not in X.columns:
        return np.zeros(X.height)
    out: FloatArray = X[BLEND_FEATURE].cast(pl.Float64).fill_null(0.0).fill_nan(0.0).clip(0.0).to_numpy()
    return out


def _distribution(values: FloatArray) -> tuple[list[float], list[int]]:
    """``values`` as (sorted distinct values, cumulative counts)."""
    distinct, counts = np.unique(values, return_counts=True)
    return [float(v) for v in distinct], [int(c) for c in np.cumsum(counts)]


def _percentile(reference: tuple[Sequence[float], Sequence[int]], x: FloatArray) -> FloatArray:
    """Mid-rank percentile of ``x`` in a distribution from :func:`_distribution` (ties count half)."""
    distinct = np.asarray(reference[0], dtype=np.float64)
    cumulative = np.concatenate([[0], np.asarray(reference[1], dtype=np.float64)])
    below = cumulative[np.searchsorted(distinct, x, side="left")]
    at_most = cumulative[np.searchsorted(distinct, x, side="right")]
    out: FloatArray = (below + at_most) / (2.0 * cumulative[-1])
    return out


class UnicornModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Gradient-boosted trees (LightGBM) on :data:`~qilin.discovery.features.FEATURES`, Platt-calibrated.

    Parameters are LightGBM's (``num_leaves``, ``min_child_samples``…); ``scale_pos_weight`` weights the
    rare positives; ``calibration_folds`` is the number of folds whose out-of-fold scores fit the
    calibration; ``baseline_weight`` is the weight of the raised-in-the-last-two-years percentile in the
    blended score (0 = the booster alone); ``random_state`` seeds everything (results are reproducible
    on the same machine).
    """

    def __init__(
        self,
        *,
        n_estimators: int = 150,
        learning_rate: float = 0.03,
        num_leaves: int = 7,
        min_child_samples: int = 40,
        feature_fraction: float = 0.4,
        bagging_fraction: float = 0.8,
        reg_lambda: float = 5.0,
        scale_pos_weight: float = 1.0,
        min_category_count: int = 20,
        calibration_folds: int = 3,
        baseline_weight: float = 0.5,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.reg_lambda = reg_lambda
        self.scale_pos_weight = scale_pos_weight
        self.min_category_count = min_category_count
        self.calibration_folds = calibration_folds
        self.baseline_weight = baseline_weight
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- encoding ------------------------------------------------------------------------------------

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.reg_lambda,
            "scale_pos_weight": self.scale_pos_weight,
            "cat_smooth": 20.0,
            "min_data_per_group": 20,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs,
            "verbose": -1,
        }

    def _matrix(
        self, X: pl.DataFrame, names: Sequence[str], vocab: Mapping[str, Sequence[str]]
    ) -> FloatArray:
        columns = []
        for name in names:
            if name in vocab:
                codes = {v: float(i) for i, v in enumerate(vocab[name])}
                columns.append(
                    X[name].replace_strict(codes, default=None, return_dtype=pl.Float64).to_numpy()
                )
            else:
                columns.append(X[name].cast(pl.Float64).to_numpy())
        return np.column_stack(columns).astype(np.float64) if columns else np.empty((X.height, 0))

    def _dataset(self, matrix: FloatArray, y: NDArray[Any], names: Sequence[str]) -> lgb.Dataset:
        categorical = [i for i, n in enumerate(names) if n in CATEGORICAL]
        return lgb.Dataset(
            matrix,
            label=np.asarray(y, dtype=np.float64),
            feature_name=list(names),
            categorical_feature=categorical,
            params={"verbose": -1, "seed": self.random_state},
            free_raw_data=True,
        )

    def _train(self, matrix: FloatArray, y: NDArray[Any], names: Sequence[str]) -> lgb.Booster:
        return lgb.train(
            self._lgb_params(), self._dataset(matrix, y, names), num_boost_round=self.n_estimators
        )

    # -- blend with the raised_2y baseline ------------------------------------------------------------

    def _fit_references(
        self, booster: lgb.Booster, matrix: FloatArray, X: pl.DataFrame
    ) -> dict[str, tuple[list[float], list[int]]]:
        """The training distributions the blend's percentiles are taken in: the booster's margin (rounded
        to 1e-6 so the file stays small and round-trips exactly) and the baseline feature."""
        raw = np.asarray(booster.predict(matrix, raw_score=True), dtype=np.float64)
        margin: FloatArray = np.round(raw, 6)
        return {"margin": _distribution(margin), "baseline": _distribution(_baseline_values(X))}

    def _score(
        self,
        margin: FloatArray,
        X: pl.DataFrame,
        references: Mapping[str, tuple[Sequence[float], Sequence[int]]],
    ) -> FloatArray:
        """The pre-calibration score: the margin, or the logit of the percentile blend."""
        w = float(self.baseline_weight)
        if w <= 0.0 or not references:
            return margin
        blend = (1.0 - w) * _percentile(references["margin"], np.round(margin, 6)) + w * _percentile(
            references["baseline"], _baseline_values(X)
        )
        p = np.clip(blend, 1e-6, 1.0 - 1e-6)
        out: FloatArray = np.log(p / (1.0 - p))
        return out

    # -- scikit-learn API -----------------------------------------------------------------------------

    def fit(self, X: pl.DataFrame, y: Sequence[bool] | NDArray[Any]) -> UnicornModel:
        """Learn ``feature_names_``, ``categories_``, ``booster_`` and ``calibration_`` (a, b) from the
        features ``X`` (columns of FEATURES; ``company_id`` is ignored) and boolean labels ``y``."""
        labels = np.asarray(y, dtype=bool)
        names = [n for n in FEATURES if n in X.columns]
        vocab: dict[str, list[str]] = {}
        for name in names:
            if name in CATEGORICAL:
                counts = X[name].drop_nulls().value_counts()
                keep = counts.filter(pl.col("count") >= self.min_category_count)[name].to_list()
                vocab[name] = sorted(str(v) for v in keep)
        matrix = self._matrix(X, names, vocab)
        blended = self.baseline_weight > 0.0
        oof = np.zeros(X.height)
        folds = min(self.calibration_folds, int(labels.sum()), int((~labels).sum()))
        if folds >= 2:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            for train, test in splitter.split(matrix, labels):
                booster = self._train(matrix[train], labels[train], names)
                margin = np.asarray(booster.predict(matrix[test], raw_score=True), dtype=np.float64)
                refs = self._fit_references(booster, matrix[train], X[train]) if blended else {}
                oof[test] = self._score(margin, X[test], refs)
            self.calibration_ = fit_platt(oof, labels)
        else:
            self.calibration_ = (1.0, 0.0)
        self.booster_ = self._train(matrix, labels, names)
        self.references_ = self._fit_references(self.booster_, matrix, X) if blended else {}
        self.feature_names_ = names
        self.categories_ = vocab
        self.n_features_in_ = len(names)
        self.classes_ = np.array([False, True])
        return self

    def margin(self, X: pl.DataFrame) -> FloatArray:
        """The booster's raw margin alone."""
        matrix = self._matrix(X, self.feature_names_, self.categories_)
        out: FloatArray = np.asarray(self.booster_.predict(matrix, raw_score=True), dtype=np.float64)
        return out

    def decision_function(self, X: pl.DataFrame) -> FloatArray:
        """The score before calibration: the logit of the percentile blend (the booster's margin alone
        when ``baseline_weight`` is 0). Each row's score depends on that row only."""
        return self._score(self.margin(X), X, self.references_)

    def predict_proba(self, X: pl.DataFrame) -> FloatArray:
        """Calibrated probabilities, columns (not a unicorn, unicorn within the horizon)."""
        a, b = self.calibration_
        p = _sigmoid(a * self.decision_function(X) + b)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pl.DataFrame) -> NDArray[np.bool_]:
        return self.predict_proba(X)[:, 1] >= 0.5

    def contributions(self, X: pl.DataFrame) -> FloatArray:
        """Per-feature contributions to the margin (LightGBM's SHAP values, ``pred_contrib``, computed per
        decision pattern by :mod:`qilin.discovery.treeshap`); last column is the bias."""
        matrix = self._matrix(X, self.feature_names_, self.categories_)
        splits = getattr(self, "_splits", None)
        if splits is None or splits[0] is not self.booster_:
            splits = (self.booster_, TreeSplits(self.booster_))
            self._splits = splits
        return tree_contributions(self.booster_, matrix, splits[1])

    def reasons(
        self,
        X: pl.DataFrame,
        *,
        top: int = 3,
        lang: str = "zh",
        contributions: FloatArray | None = None,
    ) -> list[str]:
        """For each row, a short sentence list of the features that raise its score most (at most ``top``,
        one per feature group of :data:`_GROUP`, skipping a group :func:`describe` has nothing to say of).
        ``contributions``: :meth:`contributions` of ``X`` when already computed (reasons in a second
        language)."""
        if contributions is None:
            contributions = self.contributions(X)
        contrib = contributions[:, : len(self.feature_names_)]
        orders = np.argsort(-contrib, axis=1, kind="stable")
        # numbers as float or None (NaN → None), so describe reads them as they are
        columns = {
            name: (
                X.get_column(name).fill_nan(None) if X.schema[name].is_float() else X.get_column(name)
            ).to_list()
            for name in self.feature_names_
        }
        out = []
        for i in range(contrib.shape[0]):
            row = _RowView(columns, i)
            order = orders[i]
            phrases: list[str] = []
            groups: set[str] = set()
            for j in order:
                if contrib[i, j] <= 0 or len(phrases) >= top:
                    break
                name = self.feature_names_[j]
                group = _GROUP.get(name, name)
                if group in groups:
                    continue
                phrase = describe(group, row, lang)
                if phrase:
                    groups.add(group)
                    phrases.append(phrase)
            if not phrases:
                phrases.append("无突出信号" if lang == "zh" else "no strong signal")
            out.append(("；" if lang == "zh" else "; ").join(phrases))
        return out


# -- reasons ------------------------------------------------------------------------------------------

_GROUP: dict[str, str] = {
    "total_raised_usd": "total",
    "funding_velocity_usd": "velocity",
    "max_round_usd": "max_round",
    "raised_1y_usd": "recent",
    "raised_2y_usd": "recent",
    "raised_3y_usd": "recent3",
    "rounds_2y": "recent",
    "latest_round_usd": "latest",
    "latest_round_vs_stage_median": "latest",
    "round_growth": "growth",
    "mean_log_round_growth": "growth",
    "highest_stage": "stage",
    "latest_stage": "stage",
    "years_per_stage": "stage_speed",
    "months_since_latest_round": "recency",
    "months_since_first_round": "history",
    "mean_months_between_rounds": "cadence",
    "age_years": "age",
    "founded_known": "age",
    "latest_valuation_usd": "valuation",
    "valuation_step_up": "valuation",
    "n_investors": "investors",
    "investor_hit_rate": "investor_record",
    "investor_hits": "investor_record",
    "n_rounds": "rounds",
    "category": "category",
    "state": "location",
    "metro": "location",
}


def money(usd: float | None, lang: str = "zh") -> str:
    """``120000000`` → "1.2 亿美元" (zh) or "US$120M" (en)."""
    if usd is None or (isinstance(usd, float) and math.isnan(usd)):
        return "金额未披露" if lang == "zh" else "undisclosed"
    if lang == "zh":
        if usd >= 1e8:
            return f"{usd / 1e8:.1f} 亿美元"
        if usd >= 1e4:
            return f"{usd / 1e4:.0f} 万美元"
        return f"{usd:.0f} 美元"
    if usd >= 1e9:
        return f"US${usd / 1e9:.1f}B"
    if usd >= 1e6:
        return f"US${usd / 1e6:.1f}M"
    return f"US${usd / 1e3:.0f}K"


def _num(row: Mapping[str, Any], name: str) -> float | None:
    value = row.get(name)
    if value is None or value != value:  # null or NaN
        return None
    return float(value)


class _RowView(Mapping[str, Any]):
    """Row ``i`` of column lists, read on demand (a reason reads a handful of a row's features). The numeric
    columns hold floats or None (never NaN), so :func:`describe` reads its numbers straight from it."""

    __slots__ = ("columns", "i")

    def __init__(self, columns: Mapping[str, list[Any]], i: int) -> None:
        self.columns = columns
        self.i = i

    def __getitem__(self, name: str) -> Any:
        return self.columns[name][self.i]

    def get(self, name: str, default: Any = None) -> Any:
        column = self.columns.get(name)
        return default if column is None else column[self.i]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


class _Numbers:
    """A row's numeric features as floats or None, converted only when read."""

    __slots__ = ("row",)

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def __getitem__(self, name: str) -> float | None:
        return _num(self.row, name)


_Values = _RowView | _Numbers
"""A row's numbers by name, each a float or None (a :class:`_RowView`, or :class:`_Numbers` over any row)."""


def _one_value(
    column: str, zh_text: str, en_text: str, *, amount: bool = False
) -> Callable[[_Values, Mapping[str, Any], bool, str], str | None]:
    """The sentence of a group that quotes one feature: ``column`` put into the template (a USD amount
    written by :func:`money` when ``amount``); None when the feature is unknown."""

    def phrase(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
        value = v[column]
        if value is None:
            return None
        return (zh_text if zh else en_text).format(money(value, lang) if amount else value)

    return phrase


def _recent(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    n = int(v["rounds_2y"] or 0)
    if n == 0:
        return "近两年无新融资" if zh else "no round in the last two years"
    raised = money(v["raised_2y_usd"], lang)
    return f"近两年融资 {n} 轮，共 {raised}" if zh else f"{n} rounds in the last two years, {raised}"


def _total(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if v["total_raised_usd"] is None:
        return None
    total = money(v["total_raised_usd"], lang)
    n = int(v["n_rounds"] or 0)
    return f"累计融资 {n} 轮，共 {total}" if zh else f"{n} rounds, {total} in total"


def _latest(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if v["latest_round_usd"] is None:
        return None
    size = money(v["latest_round_usd"], lang)
    ratio = v["latest_round_vs_stage_median"]
    if ratio is not None and ratio >= 1.5:
        if zh:
            return f"最近一轮 {size}，为同类轮次中位数的 {ratio:.1f} 倍"
        return f"latest round {size}, {ratio:.1f}× the median of its type"
    return f"最近一轮 {size}" if zh else f"latest round {size}"


def _stage(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if v["highest_stage"] is None:
        return None
    zh_name, en_name = STAGE_NAMES.get(int(v["highest_stage"]), ("?", "?"))
    return f"已进入{zh_name}" if zh else f"reached {en_name}"


def _stage_speed(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if v["years_per_stage"] is None or v["highest_stage"] is None:
        return None
    zh_name, en_name = STAGE_NAMES.get(int(v["highest_stage"]), ("?", "?"))
    age = v["age_years"] or 0.0
    return f"成立 {age:.1f} 年即达{zh_name}" if zh else f"reached {en_name} {age:.1f} years after founding"


def _history(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if v["months_since_first_round"] is None:
        return None
    y = v["months_since_first_round"] / 12
    return f"首轮融资至今 {y:.1f} 年" if zh else f"first round {y:.1f} years ago"


def _valuation(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if v["latest_valuation_usd"] is None:
        return None
    val = money(v["latest_valuation_usd"], lang)
    step = v["valuation_step_up"]
    if step is not None:
        return f"最新估值 {val}，较上次提升 {step:.1f} 倍" if zh else f"valued {val}, {step:.1f}× the last"
    return f"最新估值 {val}" if zh else f"valued {val}"


def _investors(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if not v["n_investors"]:
        return None
    n = int(v["n_investors"] or 0)
    return f"投资方 {n} 家" if zh else f"{n} investors"


def _investor_record(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    if not v["investor_hits"]:
        return None
    hits = int(v["investor_hits"] or 0)
    hit_rate = v["investor_hit_rate"]
    if zh:
        best = f"（最高命中率 {hit_rate:.0%}）" if hit_rate else ""
        return f"投资方此前投中 {hits} 家后来成为独角兽或上市的企业{best}"
    best = f" (best hit rate {hit_rate:.0%})" if hit_rate else ""
    return f"its investors' earlier picks include {hits} later unicorns or listings{best}"


def _rounds(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    n = int(v["n_rounds"] or 0)
    return f"累计融资 {n} 轮" if zh else f"{n} rounds so far"


def _category(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    category = row.get("category")
    if not category:
        return None
    # On the registry the category falls back to the industry division (GB/T 4754 大类, "35"): name it.
    division = industries.get(str(category)) if str(category).isdigit() else None
    if division is not None:
        name = division.name.strip()
        category = f"{name}（{category}）" if zh else f"{name} (GB/T 4754 {category})"
    return f"所属领域：{category}" if zh else f"sector: {category}"


def _location(v: _Values, row: Mapping[str, Any], zh: bool, lang: str) -> str | None:
    place = row.get("metro") or row.get("state")
    if not place:
        return None
    return f"所在地：{place}" if zh else f"located in {place}"


_DESCRIBE: dict[str, Callable[[_Values, Mapping[str, Any], bool, str], str | None]] = {
    "recent": _recent,
    "recent3": _one_value("raised_3y_usd", "近三年融资 {}", "{} raised in the last three years", amount=True),
    "total": _total,
    "velocity": _one_value("funding_velocity_usd", "年均融资 {}", "{} raised per year", amount=True),
    "max_round": _one_value("max_round_usd", "单轮最高 {}", "largest round {}", amount=True),
    "latest": _latest,
    "growth": _one_value(
        "round_growth", "最近一轮规模为上一轮的 {:.1f} 倍", "latest round {:.1f}× the previous one"
    ),
    "stage": _stage,
    "stage_speed": _stage_speed,
    "recency": _one_value(
        "months_since_latest_round", "距最近一轮 {:.0f} 个月", "latest round {:.0f} months ago"
    ),
    "history": _history,
    "cadence": _one_value(
        "mean_months_between_rounds", "平均每 {:.0f} 个月融资一轮", "a round every {:.0f} months"
    ),
    "age": _one_value("age_years", "成立 {:.1f} 年", "founded {:.1f} years ago"),
    "valuation": _valuation,
    "investors": _investors,
    "investor_record": _investor_record,
    "rounds": _rounds,
    "category": _category,
    "location": _location,
}
"""The sentence of each feature group of :data:`_GROUP` (one function each; None when it has no data)."""


def describe(group: str, row: Mapping[str, Any], lang: str = "zh") -> str | None:
    """One short sentence about a feature group for a company's feature ``row``; None when it has no data."""
    phrase = _DESCRIBE.get(group)
    if phrase is None:
        return None
    return phrase(row if isinstance(row, _RowView) else _Numbers(row), row, lang == "zh", lang)


# -- file format ----------------------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "lightgbm": lgb.__version__,
        "scikit-learn": sklearn.__version__,
        "polars": pl.__version__,
        "numpy": np.__version__,
    }


def model_to_dict(model: UnicornModel, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-ready content of a model file."""
    a, b = model.calibration_
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": model.get_params(),
        "feature_names": list(model.feature_names_),
        "categories": {k: list(v) for k, v in model.categories_.items()},
        "calibration": {"method": "platt", "a": a, "b": b},
        "blend": {
            "feature": BLEND_FEATURE,
            "references": {
                k: {"values": v[0], "cumulative_counts": v[1]} for k, v in model.references_.items()
            },
        },
        "metadata": dict(metadata),
        "lightgbm_model": model.booster_.model_to_string(),
    }


def save_model(model: UnicornModel, path: Path, metadata: Mapping[str, Any]) -> None:
    """Write ``model`` and ``metadata`` to ``path`` as JSON (stable key order, so rebuilds diff cleanly)."""
    text = json.dumps(model_to_dict(model, metadata), ensure_ascii=False, indent=1, sort_keys=True)
    try:
        write_atomically(Path(path), lambda temporary: temporary.write_text(text + "\n", encoding="utf-8"))
    except OutputError as error:
        raise output_error(error) from None


FORMAT_VERSIONS = (1, 2)
"""The file versions :func:`load_model` reads: 1 (the booster alone) and 2 (the booster blended with the
raised_2y percentile, :data:`FORMAT_VERSION`); a file from a later version is refused, not guessed at."""


def _no_constant(name: str) -> float:
    """``json.loads`` hook: NaN and ±Infinity (which Python's JSON reader accepts) have no place in a model
    file — a NaN calibration would score every company NaN."""
    raise ValueError(f"{name} is not a number a model file holds")


def _real(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is not a number")
    return float(value)


def _params(content: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor parameters, each a number of the default's kind (an int where an int is expected)."""
    params = content["params"]
    if not isinstance(params, dict):
        raise ValueError("params is not an object")
    defaults = UnicornModel().get_params()
    for name, value in params.items():
        if name not in defaults:
            raise ValueError(f"unknown parameter {name!r}")
        if isinstance(defaults[name], int) and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"parameter {name} is not a whole number")
        _real(value, f"parameter {name}")
    if not 0.0 <= float(params.get("baseline_weight", 0.0)) <= 1.0:
        raise ValueError("baseline_weight is not between 0 and 1")
    return params


def _references(content: Mapping[str, Any]) -> dict[str, tuple[list[float], list[int]]]:
    """The blend's training distributions: none, or both (margin and baseline), each sorted values with
    rising cumulative counts, as :func:`_distribution` writes them."""
    blend = content.get("blend", {})
    references = blend.get("references", {}) if isinstance(blend, dict) else None
    if not isinstance(references, dict) or (references and set(references) != {"margin", "baseline"}):
        raise ValueError("blend references are not the margin and baseline distributions")
    out = {}
    for name, reference in references.items():
        values = [_real(v, f"{name} value") for v in reference["values"]]
        counts = [int(_real(c, f"{name} count")) for c in reference["cumulative_counts"]]
        rising = all(a < b for a, b in pairwise(values)) and all(a < b for a, b in pairwise([0, *counts]))
        if not values or len(values) != len(counts) or not rising:
            raise ValueError(f"the {name} distribution is not sorted values with rising counts")
        out[name] = (values, counts)
    return out


def _categories(content: Mapping[str, Any], names: Sequence[str]) -> dict[str, list[str]]:
    """The vocabulary of each categorical feature (every one the model uses, each a list of texts)."""
    categories = content["categories"]
    wanted = {n for n in names if n in CATEGORICAL}
    if not isinstance(categories, dict) or set(categories) != wanted:
        raise ValueError(f"categories are not given for exactly {', '.join(sorted(wanted))}")
    for name, vocabulary in categories.items():
        if not isinstance(vocabulary, list) or not all(isinstance(v, str) for v in vocabulary):
            raise ValueError(f"the categories of {name} are not a list of texts")
    return {k: list(v) for k, v in categories.items()}


def _iso_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def _metadata(content: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata; ``training_as_of`` (part of a run's model version) must be an ISO date when given."""
    metadata = content["metadata"]
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not an object")
    trained = metadata.get("training_as_of")
    if trained is not None and not _iso_date(trained):
        raise ValueError("training_as_of is not a date YYYY-MM-DD")
    if not isinstance(metadata.get("backtest", {}), dict):
        raise ValueError("backtest is not an object")
    return dict(metadata)


def _fitted(content: Mapping[str, Any], names: list[str]) -> tuple[UnicornModel, dict[str, Any]]:
    """The model a file's content describes; raises ValueError (or KeyError, TypeError) naming what is
    wrong. The LightGBM text is checked (:mod:`.booster_text`) before LightGBM reads it."""
    model = UnicornModel(**_params(content))
    text = content["lightgbm_model"]
    if not isinstance(text, str):
        raise ValueError("lightgbm_model is not text")
    damage = booster_text.problem(text, len(names))
    if damage is not None:
        raise ValueError(f"the LightGBM model is damaged: {damage}")
    calibration = content["calibration"]
    model.calibration_ = (_real(calibration["a"], "calibration a"), _real(calibration["b"], "calibration b"))
    model.references_ = _references(content)
    model.categories_ = _categories(content, names)
    metadata = _metadata(content)
    model.booster_ = lgb.Booster(model_str=text)
    model.feature_names_ = names
    model.n_features_in_ = len(names)
    model.classes_ = np.array([False, True])
    return model, metadata


def load_model(path: Path) -> tuple[UnicornModel, dict[str, Any]]:
    """Read a model file written by :func:`save_model`: the fitted model and its metadata.

    Raises :class:`DiscoveryError` when the file is missing or unreadable, of a format version this code
    does not read, damaged (a value of the wrong kind, NaN, a LightGBM text that would crash LightGBM), or
    when its feature set is not the code's :data:`FEATURES` (a model from another feature set must be
    retrained, not guessed at)."""
    path = Path(path)
    if not path.is_file():
        raise DiscoveryError("model.missing", path=str(path))
    try:
        content = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        names = list(content["feature_names"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DiscoveryError("model.bad_file", path=str(path), detail=str(error)) from error
    expected = list(FEATURES)
    if names != expected:
        missing = [n for n in expected if n not in names]
        extra = [str(n) for n in names if n not in expected]
        raise DiscoveryError(
            "model.feature_mismatch",
            missing=", ".join(missing) or "-",
            extra=", ".join(extra) or ("-" if missing else "(order)"),
        )
    try:
        version = content.get("format_version")
        if isinstance(version, bool) or version not in FORMAT_VERSIONS:
            raise ValueError(f"format version {version!r}; this code reads versions 1 to {FORMAT_VERSION}")
        return _fitted(content, names)
    except (lgb.basic.LightGBMError, ValueError, KeyError, TypeError) as error:
        raise DiscoveryError("model.bad_file", path=str(path), detail=str(error)) from error


# -- train and rank (the operations the CLI and build call) --------------------------------------------

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "default.json"
"""The model shipped in the package, rebuilt by ``python -m qilin.discovery.build``."""


def first_round(package: Any) -> dt.date | None:
    """The date of the package's first round; None without rounds."""
    first = package.rounds["announced_on"].min()
    return first if isinstance(first, dt.date) else None


def check_as_of(package: Any, as_of: Any) -> None:
    """Refuse an as-of date after today (no records of it can exist yet), data without any round, or an
    as-of date before the package's first round (there would be nothing to learn from)."""
    now = today()
    if as_of > now:
        raise DiscoveryError("date.after_today", as_of=as_of.isoformat(), today=now.isoformat())
    first = first_round(package)
    if first is None:
        raise DiscoveryError("data.no_rounds")
    if as_of < first:
        raise DiscoveryError("date.before_rounds", as_of=as_of.isoformat(), first=first.isoformat())


def train(
    package: Any,
    *,
    as_of: Any,
    horizon_years: int,
    params: Mapping[str, Any] | None = None,
) -> tuple[UnicornModel, dict[str, Any]]:
    """Fit a model on the companies eligible on ``as_of``, labelled "joined the unicorn list within
    ``horizon_years`` after ``as_of``"; return it with the metadata its file records."""
    from qilin.discovery.backtest import training_frame

    check_as_of(package, as_of)
    if not 1 <= horizon_years <= MAX_HORIZON_YEARS:
        raise DiscoveryError("horizon.invalid", value=horizon_years, max=MAX_HORIZON_YEARS)
    frame = training_frame(package, as_of, horizon_years)
    y = frame["label"].to_numpy().astype(bool)
    if y.sum() < 2:
        raise DiscoveryError("data.no_positives", as_of=as_of.isoformat(), horizon=horizon_years)
    model = UnicornModel(**dict(params or {})).fit(frame, y)
    metadata = {
        "training_as_of": as_of.isoformat(),
        "horizon_years": horizon_years,
        "feature_names": list(model.feature_names_),
        "data_fingerprint": package.fingerprint,
        "library_versions": library_versions(),
        "n_train": frame.height,
        "n_positives": int(y.sum()),
    }
    return model, metadata


BASELINE_RANK_COLUMNS: dict[str, str] = {
    "rank_total_raised": "total_raised_usd",
    "rank_raised_2y": "raised_2y_usd",
    "rank_latest_round": "latest_round_usd",
}
"""The simple rankings shown beside the model's (the back-test's baselines): column → feature."""


def rank(
    package: Any,
    *,
    as_of: Any,
    model: UnicornModel,
    lang: str = "zh",
    top: int = 3,
    baselines: bool = False,
    extra_langs: Sequence[str] = (),
) -> pl.DataFrame:
    """``company_id, score, rank, reasons`` for every company operating and not yet a unicorn on ``as_of``,
    from records dated on or before ``as_of`` only; rank 1 is the most likely future unicorn.

    Each language of ``extra_langs`` adds ``reasons_<lang>`` (the same contributions, worked out once).

    With ``baselines``, also the company's place in each simple ranking of :data:`BASELINE_RANK_COLUMNS`
    among the same companies (1 = the most raised; equal amounts share a place; null when the amount is
    unknown), so the model's list can be read beside what an analyst would otherwise sort by."""
    from qilin.discovery.features import build_features, eligibility

    check_as_of(package, as_of)
    eligible = eligibility(package, as_of).filter(pl.col("eligible")).select("company_id")
    frame = build_features(package, as_of).join(eligible, on="company_id", how="semi")
    if frame.is_empty():
        raise DiscoveryError("data.no_eligible", as_of=as_of.isoformat())
    scores = model.predict_proba(frame)[:, 1]
    contributions = model.contributions(frame)
    reasons = {
        name: model.reasons(frame, top=top, lang=language, contributions=contributions)
        for name, language in [("reasons", lang), *[(f"reasons_{x}", x) for x in extra_langs]]
    }
    ranked = (
        frame.with_columns(
            pl.Series("score", scores, dtype=pl.Float64),
            *[pl.Series(name, texts, dtype=pl.String) for name, texts in reasons.items()],
            *[
                pl.col(feature).rank("min", descending=True).cast(pl.Int64).alias(column)
                for column, feature in BASELINE_RANK_COLUMNS.items()
            ],
        )
        .sort(["score", "company_id"], descending=[True, False])
        .with_row_index("rank", offset=1)
    )
    extra = [name for name in reasons if name != "reasons"] + (
        list(BASELINE_RANK_COLUMNS) if baselines else []
    )
    return ranked.select(
        "company_id", pl.col("score").round(8), pl.col("rank").cast(pl.Int64), "reasons", *extra
    )
