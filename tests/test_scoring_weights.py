"""AHP weights and consistency ratio, entropy weights and their combination, checked against numbers worked
out by hand (the working is in each test)."""

from __future__ import annotations

import math

import pytest

from qilin.scoring.weights import CR_LIMIT, RANDOM_INDEX, ahp, combine, entropy


def test_consistent_matrix_gives_its_ratios_and_zero_cr() -> None:
    # a_ij = w_i / w_j with w ∝ (4, 2, 1): λmax = n = 3, CI = 0, weights 4/7, 2/7, 1/7.
    result = ahp([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    assert result.weights == pytest.approx((4 / 7, 2 / 7, 1 / 7), abs=1e-12)
    assert result.lambda_max == pytest.approx(3.0, abs=1e-12)
    assert result.consistency_index == 0.0
    assert result.consistency_ratio == 0.0
    assert result.acceptable


def test_saaty_textbook_matrix() -> None:
    # The classic 1-3-5 matrix: w ≈ (0.6370, 0.2583, 0.1047), λmax ≈ 3.0385,
    # CI = (3.0385 − 3) / 2 ≈ 0.01926, CR = CI / 0.58 ≈ 0.0332 < 0.10.
    result = ahp([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    assert result.weights == pytest.approx((0.6370, 0.2583, 0.1047), abs=5e-5)
    assert result.lambda_max == pytest.approx(3.0385, abs=5e-5)
    assert result.consistency_index == pytest.approx(0.01926, abs=5e-5)
    assert result.random_index == 0.58
    assert result.consistency_ratio == pytest.approx(0.0332, abs=5e-5)
    assert result.acceptable


def test_cyclic_judgements_are_inconsistent() -> None:
    # A circulant matrix (1, 2, 1/2): each row sums to 3.5, so (1, 1, 1) is an eigenvector with
    # λmax = 3.5; CI = 0.5 / 2 = 0.25; CR = 0.25 / 0.58 ≈ 0.431 ≥ 0.10. Weights are equal.
    result = ahp([[1, 2, 1 / 2], [1 / 2, 1, 2], [2, 1 / 2, 1]])
    assert result.weights == pytest.approx((1 / 3, 1 / 3, 1 / 3), abs=1e-12)
    assert result.lambda_max == pytest.approx(3.5, abs=1e-12)
    assert result.consistency_ratio == pytest.approx(0.25 / 0.58, abs=1e-12)
    assert not result.acceptable and result.consistency_ratio >= CR_LIMIT


def test_order_one_and_two_are_always_consistent() -> None:
    assert ahp([[1]]).weights == (1.0,)
    two = ahp([[1, 3], [1 / 3, 1]])
    assert two.weights == pytest.approx((0.75, 0.25), abs=1e-12)
    assert two.consistency_ratio == 0.0


def test_saaty_random_index_table() -> None:
    assert [RANDOM_INDEX[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_ahp_refuses_non_matrices() -> None:
    with pytest.raises(ValueError):
        ahp([[1, 2, 3], [1, 2, 3]])
    with pytest.raises(ValueError):
        ahp([[1, -2], [1, 1]])


def test_entropy_by_hand() -> None:
    # Column 1 = (0, 0.5, 1): p = (0, 1/3, 2/3), e = −(1/3 ln 1/3 + 2/3 ln 2/3) / ln 3 ≈ 0.5794.
    # Column 2 = (0, 0, 1): p = (0, 0, 1), e = 0 → d = 1.
    # d = (0.4206, 1) → w = (0.2961, 0.7039).
    result = entropy([[0, 0], [0.5, 0], [1, 1]])
    e1 = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3)) / math.log(3)
    assert result.entropy == pytest.approx((e1, 0.0), abs=1e-12)
    assert e1 == pytest.approx(0.5794, abs=5e-5)
    assert result.weights == pytest.approx(((1 - e1) / (2 - e1), 1 / (2 - e1)), abs=1e-12)
    assert result.weights == pytest.approx((0.2961, 0.7039), abs=5e-5)


def test_entropy_gives_no_weight_to_a_column_that_does_not_vary() -> None:
    result = entropy([[1, 0], [1, 1], [1, 3]])
    assert result.divergence[0] == 0.0
    assert result.weights == pytest.approx((0.0, 1.0))
    # Nothing varies: equal weights, not a division by zero.
    assert entropy([[2, 0], [2, 0]]).weights == (0.5, 0.5)


def test_entropy_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        entropy([[-1.0], [1.0]])


def test_combination() -> None:
    # linear: 0.6 · (0.5, 0.5) + 0.4 · (0.2, 0.8) = (0.38, 0.62)
    assert combine([0.5, 0.5], [0.2, 0.8], alpha=0.6) == pytest.approx((0.38, 0.62))
    # multiplicative: (0.5·0.2, 0.5·0.8) = (0.1, 0.4) → (0.2, 0.8)
    assert combine([0.5, 0.5], [0.2, 0.8], alpha=0.6, method="multiplicative") == pytest.approx((0.2, 0.8))
    assert combine([0.7, 0.3], [0.1, 0.9], alpha=1.0) == pytest.approx((0.7, 0.3))
    with pytest.raises(ValueError):
        combine([0.5, 0.5], [0.2, 0.8], alpha=1.5)
