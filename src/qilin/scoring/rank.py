"""Ranking methods over a normalised matrix (rows = enterprises, columns = indicators, higher is better).

* **weighted sum** (线性加权): ``score_i = Σ_j w_j · r_ij``; each term is the indicator's contribution.
* **TOPSIS** (逼近理想解排序法, Hwang & Yoon 1981): ``v_ij = w_j · r_ij``; the ideal ``A⁺_j = max_i v_ij``
  and anti-ideal ``A⁻_j = min_i v_ij`` (columns are already oriented, so cost indicators need no special
  case); ``D⁺_i = ‖v_i − A⁺‖``, ``D⁻_i = ‖v_i − A⁻‖`` and the closeness ``C_i = D⁻_i / (D⁺_i + D⁻_i)``.
  When every enterprise is identical (``D⁺ = D⁻ = 0``) the closeness is 0.5.

>>> weighted_sum([[1.0, 0.0], [0.5, 1.0]], [0.6, 0.4]).scores.tolist()
[0.6, 0.7]
>>> [round(c, 4) for c in topsis([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], [0.5, 0.5]).closeness.tolist()]
[0.5, 0.5, 0.5]
>>> competition_ranks([0.9, 0.7, 0.9, 0.1], ["b", "c", "a", "d"])
[1, 3, 1, 4]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

RankingMethod = Literal["topsis", "weighted_sum"]
RANKING_METHODS: tuple[RankingMethod, ...] = ("topsis", "weighted_sum")

FloatArray = npt.NDArray[np.float64]

TIE_DECIMALS = 12
"""Scores equal to this many decimals share a rank (floating-point noise must not split a tie)."""


def _inputs(
    normalized: Sequence[Sequence[float]] | FloatArray, weights: Sequence[float] | FloatArray
) -> tuple[FloatArray, FloatArray]:
    r = np.asarray(normalized, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if r.ndim != 2 or w.ndim != 1 or r.shape[1] != w.shape[0]:
        raise ValueError("the matrix needs one column per weight")
    return r, w


@dataclass(frozen=True, slots=True)
class WeightedSum:
    """``contributions[i, j] = w_j · r_ij``; ``scores[i]`` is the row sum."""

    contributions: FloatArray
    scores: FloatArray


def weighted_sum(
    normalized: Sequence[Sequence[float]] | FloatArray, weights: Sequence[float] | FloatArray
) -> WeightedSum:
    """The weighted sum of each row of ``normalized``."""
    r, w = _inputs(normalized, weights)
    contributions = r * w
    return WeightedSum(contributions=contributions, scores=contributions.sum(axis=1))


@dataclass(frozen=True, slots=True)
class Topsis:
    """Every intermediate of TOPSIS, so a closeness can be explained indicator by indicator."""

    weighted: FloatArray
    ideal: FloatArray
    anti_ideal: FloatArray
    distance_best: FloatArray
    distance_worst: FloatArray
    closeness: FloatArray


def topsis(
    normalized: Sequence[Sequence[float]] | FloatArray, weights: Sequence[float] | FloatArray
) -> Topsis:
    """TOPSIS closeness of each row of ``normalized`` (oriented so that higher is better)."""
    r, w = _inputs(normalized, weights)
    v = r * w
    if v.shape[0] == 0:
        empty = np.zeros(0)
        return Topsis(v, np.zeros(w.shape[0]), np.zeros(w.shape[0]), empty, empty, empty)
    ideal, anti = v.max(axis=0), v.min(axis=0)
    d_best = np.sqrt(np.square(v - ideal).sum(axis=1))
    d_worst = np.sqrt(np.square(v - anti).sum(axis=1))
    total = d_best + d_worst
    safe = np.where(total > 0, total, 1.0)
    closeness = np.where(total > 0, d_worst / safe, 0.5)
    return Topsis(v, ideal, anti, d_best, d_worst, closeness)


def competition_ranks(scores: Sequence[float] | FloatArray, keys: Sequence[str]) -> list[int]:
    """Ranks by descending score, 1 = best; equal scores share a rank ("1224" competition ranking).

    ``keys`` (e.g. company ids) only fix the order of listing within a tie, never the rank.
    """
    values = [round(float(s), TIE_DECIMALS) for s in scores]
    if len(values) != len(keys):
        raise ValueError("one key per score")
    order = sorted(range(len(values)), key=lambda i: (-values[i], keys[i]))
    ranks = [0] * len(values)
    for position, i in enumerate(order):
        if position > 0 and values[i] == values[order[position - 1]]:
            ranks[i] = ranks[order[position - 1]]
        else:
            ranks[i] = position + 1
    return ranks
