"""Normalisation (min-max, z-score, vector; benefit and cost) and ranking (weighted sum, TOPSIS), checked by
hand and against Hwang & Yoon's fighter-aircraft example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qilin.scoring.normalize import min_max, normalize, vector, z_score
from qilin.scoring.rank import competition_ranks, topsis, weighted_sum


def test_min_max_benefit_and_cost() -> None:
    assert min_max([10.0, 20.0, 40.0], "benefit").tolist() == pytest.approx([0.0, 1 / 3, 1.0])
    # cost: (max − x) / (max − min) — the cheapest is best.
    assert min_max([10.0, 20.0, 40.0], "cost").tolist() == pytest.approx([1.0, 2 / 3, 0.0])


def test_z_score_benefit_and_cost() -> None:
    # mean 4, population std sqrt(((2)² + 0 + 2²) / 3) = sqrt(8/3)
    std = math.sqrt(8 / 3)
    assert z_score([2.0, 4.0, 6.0], "benefit").tolist() == pytest.approx([-2 / std, 0.0, 2 / std])
    assert z_score([2.0, 4.0, 6.0], "cost").tolist() == pytest.approx([2 / std, 0.0, -2 / std])


def test_vector_normalisation() -> None:
    # ‖(3, 4)‖ = 5
    assert vector([3.0, 4.0], "benefit").tolist() == pytest.approx([0.6, 0.8])
    assert vector([3.0, 4.0], "cost").tolist() == pytest.approx([-0.6, -0.8])


@pytest.mark.parametrize("method", ["min-max", "z-score", "vector"])
def test_a_constant_column_separates_no_one(method: str) -> None:
    assert normalize([5.0, 5.0, 5.0], method, "benefit").tolist() == [0.0, 0.0, 0.0]


def test_normalising_a_missing_value_is_refused() -> None:
    with pytest.raises(ValueError, match="impute"):
        min_max([1.0, float("nan")], "benefit")


def test_weighted_sum_by_hand() -> None:
    result = weighted_sum([[1.0, 0.0], [0.5, 1.0], [0.0, 0.5]], [0.7, 0.3])
    assert result.scores.tolist() == pytest.approx([0.7, 0.65, 0.15])
    assert result.contributions.sum(axis=1).tolist() == pytest.approx(result.scores.tolist())


def test_topsis_fighter_aircraft_example() -> None:
    # Hwang & Yoon (1981): four fighter aircraft, six attributes — max speed, ferry range, max payload,
    # acquisition cost (a cost), reliability, manoeuvrability — weights (0.2, 0.1, 0.1, 0.1, 0.2, 0.3),
    # vector normalisation. Closeness to three decimals A1 0.643, A2 0.268, A3 0.614, A4 0.312 (worked by
    # hand: e.g. ‖speed‖ = sqrt(2² + 2.5² + 1.8² + 2.2²) = sqrt(18.33)); ranking A1 > A3 > A4 > A2.
    data = np.array(
        [
            [2.0, 1500, 20000, 5.5, 5, 9],
            [2.5, 2700, 18000, 6.5, 3, 5],
            [1.8, 2000, 21000, 4.5, 7, 7],
            [2.2, 1800, 20000, 5.0, 5, 5],
        ]
    )
    directions = ["benefit", "benefit", "benefit", "cost", "benefit", "benefit"]
    normalized = np.column_stack([vector(data[:, j], d) for j, d in enumerate(directions)])
    result = topsis(normalized, [0.2, 0.1, 0.1, 0.1, 0.2, 0.3])
    assert normalized[:, 0].tolist() == pytest.approx((data[:, 0] / math.sqrt(18.33)).tolist())
    assert result.closeness.tolist() == pytest.approx([0.643, 0.268, 0.614, 0.312], abs=5e-4)
    assert competition_ranks(result.closeness, ["A1", "A2", "A3", "A4"]) == [1, 4, 2, 3]
    # The pieces agree with the definition C = D⁻ / (D⁺ + D⁻).
    assert result.closeness.tolist() == pytest.approx(
        (result.distance_worst / (result.distance_best + result.distance_worst)).tolist()
    )
    assert result.weighted[:, 0].tolist() == pytest.approx((0.2 * normalized[:, 0]).tolist())


def test_topsis_ideal_and_worst_and_all_equal() -> None:
    # Two enterprises: the one at the ideal point has closeness 1, the other 0.
    result = topsis([[1.0, 1.0], [0.0, 0.0]], [0.5, 0.5])
    assert result.closeness.tolist() == [1.0, 0.0]
    # Everyone identical: D⁺ = D⁻ = 0 → 0.5 by convention.
    assert topsis([[0.3, 0.3], [0.3, 0.3]], [0.5, 0.5]).closeness.tolist() == [0.5, 0.5]


def test_competition_ranks_share_ties() -> None:
    assert competition_ranks([0.5, 0.9, 0.5, 0.1], ["c", "a", "b", "d"]) == [2, 1, 2, 4]
    # floating noise does not split a tie
    assert competition_ranks([0.1 + 0.2, 0.3], ["x", "y"]) == [1, 1]
