"""Normalisation (无量纲化) of one indicator column, always oriented so that **higher is better**.

A ``cost`` indicator (成本型, smaller is better) is flipped here, once, so that every later step (weights,
weighted sum, TOPSIS) treats all columns alike:

* ``min-max``: benefit ``(x − min) / (max − min)``, cost ``(max − x) / (max − min)``; values in [0, 1].
* ``z-score``: ``(x − mean) / std`` with the population standard deviation; cost is the negative.
* ``vector`` (TOPSIS's textbook normalisation): ``x / sqrt(Σ x²)``; cost is the negative, which leaves
  every TOPSIS distance exactly as the textbook's "ideal = minimum" rule gives.

A constant column carries no information: every enterprise gets 0 (for all three methods).

>>> min_max([1.0, 2.0, 3.0], "benefit").tolist(), min_max([1.0, 2.0, 3.0], "cost").tolist()
([0.0, 0.5, 1.0], [1.0, 0.5, 0.0])
>>> z_score([1.0, 2.0, 3.0], "cost").round(4).tolist()
[1.2247, 0.0, -1.2247]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

Direction = Literal["benefit", "cost"]
Method = Literal["min-max", "z-score", "vector"]
DIRECTIONS: tuple[Direction, ...] = ("benefit", "cost")
METHODS: tuple[Method, ...] = ("min-max", "z-score", "vector")

FloatArray = npt.NDArray[np.float64]

_EPS = 1e-12


def _column(values: Sequence[float] | FloatArray) -> FloatArray:
    column = np.asarray(values, dtype=np.float64)
    if column.ndim != 1:
        raise ValueError("normalise one column at a time")
    if not np.all(np.isfinite(column)):
        raise ValueError("impute missing values before normalising: the column holds NaN or infinity")
    return column


def _oriented(column: FloatArray, direction: Direction) -> FloatArray:
    if direction == "benefit":
        return column
    if direction == "cost":
        return -column
    raise ValueError(f"unknown direction {direction!r}")


def min_max(values: Sequence[float] | FloatArray, direction: Direction) -> FloatArray:
    """Min-max (极差) normalisation to [0, 1], 1 for the best value."""
    column = _oriented(_column(values), direction)
    if column.size == 0:
        return column
    low, high = float(column.min()), float(column.max())
    if high - low <= _EPS * max(1.0, abs(high), abs(low)):
        return np.zeros_like(column)
    return (column - low) / (high - low)


def z_score(values: Sequence[float] | FloatArray, direction: Direction) -> FloatArray:
    """Z-score (标准差标准化): distance from the mean in population standard deviations."""
    column = _oriented(_column(values), direction)
    if column.size == 0:
        return column
    std = float(column.std())
    if std <= _EPS * max(1.0, float(np.abs(column).max())):
        return np.zeros_like(column)
    result: FloatArray = (column - column.mean()) / std
    return result


def vector(values: Sequence[float] | FloatArray, direction: Direction) -> FloatArray:
    """Vector (向量) normalisation ``x / ‖x‖``, negated for a cost indicator."""
    column = _column(values)
    if column.size == 0:
        return column
    norm = float(np.sqrt(np.square(column).sum()))
    if norm <= _EPS or float(np.ptp(column)) <= _EPS * norm:
        return np.zeros_like(column)
    return _oriented(column / norm, direction)


def normalize(values: Sequence[float] | FloatArray, method: Method, direction: Direction) -> FloatArray:
    """The column normalised by ``method`` (``min-max``, ``z-score`` or ``vector``) in ``direction``."""
    if method == "min-max":
        return min_max(values, direction)
    if method == "z-score":
        return z_score(values, direction)
    if method == "vector":
        return vector(values, direction)
    raise ValueError(f"unknown normalisation {method!r}")
