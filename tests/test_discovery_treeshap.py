"""The per-pattern TreeSHAP (:mod:`qilin.discovery.treeshap`) gives LightGBM's own ``pred_contrib`` numbers:
on the shipped model over the developer split, and on boosters built to exercise every split rule (NaN,
zero and no missing handling, categorical splits with unseen, negative and missing codes, trees too big for
patterns, single-leaf trees). The replayed decisions reach the leaf LightGBM reaches for every row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from qilin.discovery import treeshap
from qilin.discovery.backtest import training_frame
from qilin.discovery.data import read_package
from qilin.discovery.model import DEFAULT_MODEL_PATH, load_model
from qilin.discovery.treeshap import TreeSplits, contributions
from test_discovery_fixtures import DEV


def _assert_replay(booster: lgb.Booster, matrix: np.ndarray) -> None:
    splits = TreeSplits(booster)
    leaves = booster.predict(matrix, pred_leaf=True).reshape(matrix.shape[0], -1)
    columns = np.asfortranarray(matrix)
    for t in range(len(splits.trees)):
        code = splits.patterns(t, columns)
        reached = np.array([splits.leaf(t, int(p)) for p in code])
        np.testing.assert_array_equal(reached, leaves[:, t], err_msg=f"tree {t}")
    expected = booster.predict(matrix, pred_contrib=True)
    np.testing.assert_allclose(contributions(booster, matrix, splits), expected, rtol=0, atol=1e-12)


def test_shipped_model_on_the_dev_split(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = load_model(DEFAULT_MODEL_PATH)
    frame = training_frame(read_package(DEV), dt.date(2013, 10, 1), 12)
    matrix = model._matrix(frame, model.feature_names_, model.categories_)
    assert np.isnan(matrix).any()  # missing values and unseen categories are exercised
    _assert_replay(model.booster_, matrix)
    expected = model.booster_.predict(matrix, pred_contrib=True)
    np.testing.assert_allclose(model.contributions(frame), expected, rtol=0, atol=1e-12)
    monkeypatch.setattr(treeshap, "CHUNK_ROWS", 1500)  # 9,048 rows: six whole blocks and a part
    np.testing.assert_allclose(model.contributions(frame), expected, rtol=0, atol=1e-12)


def _data(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    x[rng.random(n) < 0.2, 0] = np.nan
    x[rng.random(n) < 0.3, 1] = 0.0
    x[:, 2] = rng.integers(0, 12, n)  # a categorical column
    x[rng.random(n) < 0.1, 2] = np.nan
    logit = x[:, 1] + np.nan_to_num(x[:, 0]) + (x[:, 2] % 3 == 0) - 0.5 * x[:, 3] * x[:, 4]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return x, y


@pytest.mark.parametrize(
    ("params", "kinds"),
    [
        ({"num_leaves": 7}, {"NaN", "None", "categorical"}),
        ({"num_leaves": 7, "zero_as_missing": True}, {"Zero", "categorical"}),
        ({"num_leaves": 7, "use_missing": False}, {"None", "categorical"}),
        # 30 internal nodes: more than the pattern limit, scored by pred_contrib per tree
        ({"num_leaves": 31, "min_data_in_leaf": 5}, {"NaN", "None", "categorical"}),
        ({"num_leaves": 7, "min_gain_to_split": 1e9}, set()),  # single-leaf trees
    ],
)
def test_split_rules(params: dict[str, Any], kinds: set[str]) -> None:
    x, y = _data(0)
    train = lgb.Dataset(x, label=y.astype(float), categorical_feature=[2], params={"verbose": -1})
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "seed": 0, "min_data_per_group": 5, **params},
        train,
        num_boost_round=25,
    )
    seen = {"categorical" if n.categorical else n.missing for t in TreeSplits(booster).trees for n in t}
    assert seen == kinds  # the rules this case is meant to exercise are in the trees
    test, _ = _data(1, 2000)
    test[:50, 2] = 40.0  # a category never seen in training
    test[50:60, 2] = -3.0  # a negative code
    test[60:70, 1] = 1e-40  # below LightGBM's zero threshold
    test[70:80, 0] = 0.0
    _assert_replay(booster, test)
