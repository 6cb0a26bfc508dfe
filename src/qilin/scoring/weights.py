"""Indicator weights (权重): AHP (层次分析法) with Saaty's consistency ratio, the entropy method (熵权法),
and their combination (组合赋权).

**AHP.** A pairwise comparison matrix (判断矩阵) ``A`` on Saaty's 1–9 scale says how much more important
row ``i`` is than column ``j``; the weights are the principal eigenvector normalised to sum 1. The
consistency index is ``CI = (λmax − n) / (n − 1)`` and the consistency ratio ``CR = CI / RI(n)`` with
Saaty's random index ``RI``; a matrix with ``CR ≥ 0.10`` is not acceptable. Matrices of order 1 and 2 are
always consistent (``RI = 0``, ``CR = 0``).

>>> result = ahp([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])   # perfectly consistent
>>> [round(w, 4) for w in result.weights], round(result.consistency_ratio, 6)
([0.5714, 0.2857, 0.1429], 0.0)

**Entropy.** For a non-negative matrix (rows = enterprises, columns = indicators, already oriented so that
higher is better, e.g. min-max normalised), ``p_ij = x_ij / Σ_i x_ij``, the entropy
``e_j = −Σ_i p_ij ln p_ij / ln n`` (with ``0 · ln 0 = 0``), the divergence ``d_j = 1 − e_j`` and the weight
``w_j = d_j / Σ d``. A column that does not vary (or is all zero) has ``d_j = 0`` and weight 0; when no
column varies every indicator gets the same weight.

>>> [round(w, 4) for w in entropy([[0, 0], [0.5, 0], [1, 1]]).weights]
[0.2961, 0.7039]

**Combination.** ``linear``: ``w = α · w_AHP + (1 − α) · w_entropy`` (both sum to 1, so does ``w``);
``multiplicative``: ``w ∝ w_AHP · w_entropy``, renormalised to sum 1.

>>> [round(w, 4) for w in combine([0.5, 0.5], [0.2, 0.8], alpha=0.5)]
[0.35, 0.65]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

RANDOM_INDEX = MappingProxyType(
    {
        1: 0.0,
        2: 0.0,
        3: 0.58,
        4: 0.90,
        5: 1.12,
        6: 1.24,
        7: 1.32,
        8: 1.41,
        9: 1.45,
        10: 1.49,
        11: 1.51,
        12: 1.48,
        13: 1.56,
        14: 1.57,
        15: 1.59,
    }
)
"""Saaty's random consistency index RI by matrix order (Saaty 1980; orders 11–15 from Saaty's later table)."""

CR_LIMIT = 0.10
"""A pairwise matrix is acceptable only when its consistency ratio is below this."""

SAATY_MIN, SAATY_MAX = 1.0 / 9.0, 9.0

CombineMethod = Literal["linear", "multiplicative"]
COMBINE_METHODS: tuple[CombineMethod, ...] = ("linear", "multiplicative")


@dataclass(frozen=True, slots=True)
class AhpResult:
    """AHP weights of one pairwise matrix with its consistency figures."""

    weights: tuple[float, ...]
    lambda_max: float
    consistency_index: float
    random_index: float
    consistency_ratio: float

    @property
    def acceptable(self) -> bool:
        """True when ``CR < 0.10`` (Saaty's rule)."""
        return self.consistency_ratio < CR_LIMIT


def ahp(matrix: Sequence[Sequence[float]] | npt.NDArray[np.float64]) -> AhpResult:
    """Principal-eigenvector weights and the consistency ratio of a positive square ``matrix``.

    The caller decides what to do with an unacceptable matrix (see :attr:`AhpResult.acceptable`);
    :mod:`qilin.scoring.index` refuses the index file.
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError("a pairwise comparison matrix is square and not empty")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("a pairwise comparison matrix holds positive numbers only")
    n = a.shape[0]
    if n not in RANDOM_INDEX:
        raise ValueError(f"Saaty's random index is tabulated up to order {max(RANDOM_INDEX)}, not {n}")
    eigenvalues, eigenvectors = np.linalg.eig(a)
    k = int(np.argmax(eigenvalues.real))
    vector = np.abs(eigenvectors[:, k].real)
    weights = vector / vector.sum()
    lambda_max = float(eigenvalues[k].real)
    random_index = RANDOM_INDEX[n]
    if n <= 2:
        ci = cr = 0.0
    else:
        # λmax ≥ n for a positive reciprocal matrix; clip rounding noise below n to exactly 0.
        ci = max(0.0, (lambda_max - n) / (n - 1))
        if ci < 1e-12:
            ci = 0.0
        cr = ci / random_index
    return AhpResult(
        weights=tuple(float(w) for w in weights),
        lambda_max=lambda_max,
        consistency_index=ci,
        random_index=random_index,
        consistency_ratio=cr,
    )


@dataclass(frozen=True, slots=True)
class EntropyResult:
    """Entropy weights with each column's entropy ``e_j`` and divergence ``d_j = 1 − e_j``."""

    weights: tuple[float, ...]
    entropy: tuple[float, ...]
    divergence: tuple[float, ...]


def entropy(matrix: Sequence[Sequence[float]] | npt.NDArray[np.float64]) -> EntropyResult:
    """Entropy weights of a non-negative ``matrix`` (rows = enterprises, columns = indicators)."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError("the entropy method needs a matrix with at least one column")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("the entropy method needs finite, non-negative values (normalise first)")
    n, m = x.shape
    e = np.ones(m)
    if n >= 2:
        totals = x.sum(axis=0)
        for j in range(m):
            if totals[j] <= 0:
                continue  # all zero: no information, e = 1
            p = x[:, j] / totals[j]
            nonzero = p[p > 0]
            e[j] = float(-(nonzero * np.log(nonzero)).sum() / np.log(n))
    d = np.clip(1.0 - e, 0.0, None)
    d[d < 1e-12] = 0.0
    weights = np.full(m, 1.0 / m) if d.sum() == 0 else d / d.sum()
    return EntropyResult(
        weights=tuple(float(w) for w in weights),
        entropy=tuple(float(v) for v in e),
        divergence=tuple(float(v) for v in d),
    )


def combine(
    ahp_weights: Sequence[float],
    entropy_weights: Sequence[float],
    *,
    alpha: float,
    method: CombineMethod = "linear",
) -> tuple[float, ...]:
    """Subjective (AHP) and objective (entropy) weights combined; ``alpha`` is the AHP share (linear)."""
    a = np.asarray(ahp_weights, dtype=np.float64)
    e = np.asarray(entropy_weights, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError("both weight vectors must cover the same indicators")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], not {alpha}")
    if method == "linear":
        w = alpha * a + (1.0 - alpha) * e
    elif method == "multiplicative":
        w = a * e
        if w.sum() <= 0:
            w = a.copy()  # no indicator varies: fall back to the judgements alone
    else:
        raise ValueError(f"unknown combination {method!r}")
    w = w / w.sum()
    return tuple(float(v) for v in w)
