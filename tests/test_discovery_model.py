"""The discovery model: scikit-learn conventions, reproducible, round-trips through its JSON file (no pickle),
refuses a file from another feature set, ranks companies it never saw (a Chinese package)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone

from qilin.discovery.backtest import training_frame
from qilin.discovery.data import DataPackage, DiscoveryError, read_package
from qilin.discovery.features import FEATURES, build_features
from qilin.discovery.model import (
    _GROUP,
    DEFAULT_MODEL_PATH,
    UnicornModel,
    describe,
    load_model,
    money,
    rank,
    save_model,
    train,
)
from test_discovery_fixtures import write_chinese_package, write_subset

AS_OF = dt.date(2012, 10, 1)
FAST = {"n_estimators": 30, "calibration_folds": 2}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> DataPackage:
    return read_package(write_subset(tmp_path_factory.mktemp("subset"), others=600))


@pytest.fixture(scope="module")
def trained(package: DataPackage) -> tuple[UnicornModel, dict[str, object]]:
    return train(package, as_of=AS_OF, horizon_years=12, params=FAST)


def test_sklearn_conventions(package: DataPackage) -> None:
    model = UnicornModel(n_estimators=10, random_state=3)
    assert clone(model).get_params() == model.get_params()
    assert not [k for k in vars(model) if k.endswith("_")]
    frame = training_frame(package, AS_OF, 12)
    model.fit(frame, frame["label"].to_numpy())
    assert model.n_features_in_ == len(model.feature_names_)


def test_reproducible(package: DataPackage) -> None:
    frame = training_frame(package, AS_OF, 12)
    y = frame["label"].to_numpy()
    a = UnicornModel(**FAST).fit(frame, y).predict_proba(frame)
    b = UnicornModel(**FAST).fit(frame, y).predict_proba(frame)
    np.testing.assert_array_equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()


def test_round_trip(
    tmp_path: Path, package: DataPackage, trained: tuple[UnicornModel, dict[str, object]]
) -> None:
    model, metadata = trained
    path = tmp_path / "model.json"
    save_model(model, path, metadata)
    content = json.loads(path.read_text(encoding="utf-8"))
    assert {"lightgbm_model", "calibration", "metadata", "feature_names"} <= set(content)
    assert content["metadata"]["data_fingerprint"] == package.fingerprint
    assert set(content["metadata"]["library_versions"]) >= {"lightgbm", "scikit-learn"}
    loaded, loaded_meta = load_model(path)
    frame = training_frame(package, AS_OF, 12)
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame), rtol=1e-12)
    assert loaded.reasons(frame[:5]) == model.reasons(frame[:5])
    assert loaded_meta == json.loads(json.dumps(metadata))


def test_refuses_other_feature_set(tmp_path: Path, trained: tuple[UnicornModel, dict[str, object]]) -> None:
    model, metadata = trained
    path = tmp_path / "model.json"
    save_model(model, path, metadata)
    content = json.loads(path.read_text(encoding="utf-8"))
    content["feature_names"] = [*content["feature_names"][:-1], "employees"]
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(DiscoveryError) as error:
        load_model(path)
    assert error.value.key == "model.feature_mismatch"
    assert "employees" in str(error.value) and "metro" in str(error.value)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DiscoveryError, match="cannot read"):
        load_model(path)


def test_reasons_are_sentences(package: DataPackage, trained: tuple[UnicornModel, dict[str, object]]) -> None:
    model, _ = trained
    ranking = rank(package, as_of=AS_OF, model=model)
    assert ranking["rank"].to_list() == list(range(1, ranking.height + 1))
    assert ranking["score"].is_sorted(descending=True)
    top = ranking["reasons"][0]
    assert top and ("；" in top or "融资" in top)
    english = rank(package, as_of=AS_OF, model=model, lang="en")["reasons"]
    assert english[0].isascii() or "×" in english[0]
    both = rank(package, as_of=AS_OF, model=model, extra_langs=("en",))  # one pass, two languages
    assert both["reasons"].to_list() == ranking["reasons"].to_list()
    assert both["reasons_en"].to_list() == english.to_list()
    assert money(1.2e8) == "1.2 亿美元" and money(3.5e7, "en") == "US$35.0M"


def test_every_feature_has_a_phrase() -> None:
    """A reason can name any feature the trees use: each has a sentence in both languages."""
    row = {name: 2.0 for name in FEATURES} | {
        "investor_hit_rate": 0.5,
        "category": "人工智能",
        "metro": "3301",
    }
    for name in FEATURES:
        group = _GROUP.get(name, name)
        for lang in ("zh", "en"):
            assert describe(group, row, lang), (name, lang)
    assert (
        describe("investor_record", row) == "投资方此前投中 2 家后来成为独角兽或上市的企业（最高命中率 50%）"
    )
    assert describe("investor_record", row | {"investor_hits": 0.0}) is None


def test_reasons_read_nan_as_unknown(package: DataPackage) -> None:
    """A NaN feature (0/0 in a ratio) says nothing, like a null: the reasons of a frame with NaN in a
    column equal those with nulls there, and each phrase equals describe() on the plain row."""
    model, _ = load_model(DEFAULT_MODEL_PATH)
    frame = build_features(package, AS_OF).head(300)
    floats = ["round_growth", "latest_round_vs_stage_median", "valuation_step_up", "age_years"]
    nan = frame.with_columns(pl.lit(float("nan")).alias(c) for c in floats)
    null = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in floats)
    for lang in ("zh", "en"):
        assert model.reasons(nan, lang=lang) == model.reasons(null, lang=lang)
    row = nan.row(0, named=True)
    assert describe("age", row) is None and describe("growth", row) is None
    assert describe("age", row | {"age_years": 3.04}) == "成立 3.0 年"


def test_rank_unseen_chinese_package(tmp_path: Path, trained: tuple[UnicornModel, dict[str, object]]) -> None:
    model, _ = trained
    package = read_package(write_chinese_package(tmp_path / "zj"))
    ranking = rank(package, as_of=dt.date(2022, 12, 31), model=model)
    assert ranking.columns == ["company_id", "score", "rank", "reasons"]
    assert set(ranking["company_id"]) == {"zj-001", "zj-002", "zj-003", "zj-004", "zj-005"}
    early = rank(package, as_of=dt.date(2018, 1, 1), model=model)
    assert set(early["company_id"]) == {"zj-001", "zj-002"}  # founded by then; zj-003 in 2018-11


def test_shipped_model_loads() -> None:
    model, metadata = load_model(DEFAULT_MODEL_PATH)
    assert metadata["training_as_of"] == "2013-10-01"
    assert metadata["horizon_years"] == 12
    assert "backtest" in metadata
    assert len(model.feature_names_) == model.n_features_in_ > 20


def test_percentile_mid_rank() -> None:
    from qilin.discovery.model import _distribution, _percentile

    reference = _distribution(np.array([0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 5.0, 9.0]))
    assert reference == ([0.0, 1.0, 2.0, 5.0, 9.0], [3, 4, 6, 7, 8])
    got = _percentile(reference, np.array([-1.0, 0.0, 1.0, 1.5, 2.0, 9.0, 10.0]))
    np.testing.assert_allclose(got, [0.0, 1.5 / 8, 3.5 / 8, 4 / 8, 5 / 8, 7.5 / 8, 1.0])


def test_blend_with_raised_2y(package: DataPackage) -> None:
    frame = training_frame(package, AS_OF, 12)
    y = frame["label"].to_numpy()
    blended = UnicornModel(**FAST).fit(frame, y)
    alone = UnicornModel(**FAST, baseline_weight=0.0).fit(frame, y)
    assert set(blended.references_) == {"margin", "baseline"} and alone.references_ == {}
    # weight 0: the score is the booster's margin; the trees themselves do not depend on the weight
    np.testing.assert_array_equal(alone.decision_function(frame), alone.margin(frame))
    np.testing.assert_array_equal(blended.margin(frame), alone.margin(frame))
    # a row's score depends on that row only (percentiles are taken in the training distribution)
    np.testing.assert_array_equal(blended.predict_proba(frame[:7]), blended.predict_proba(frame)[:7])
    # the calibration keeps the order of the blend; at equal margin, more raised in 2 years scores higher
    score, proba = blended.decision_function(frame), blended.predict_proba(frame)[:, 1]
    order = np.argsort(score, kind="stable")
    assert (np.diff(proba[order]) >= 0).all()
    richer = frame.with_columns((frame["raised_2y_usd"].fill_null(0.0) * 10 + 1e6).alias("raised_2y_usd"))
    margin = blended.margin(frame)
    assert (blended._score(margin, richer, blended.references_) > score).all()


def _shipped() -> dict[str, object]:
    content: dict[str, object] = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    return content


def _cut_in_a_tree(text: str) -> str:
    return text[: text.index("Tree=40") + 200]


def _looping_tree(text: str) -> str:
    """Tree 0's first left child pointed back at the root: a walk from the root would never end."""
    start = text.index("Tree=0\n")
    line = text.index("left_child=", start)
    end = text.index("\n", line)
    children = text[line + len("left_child=") : end].split()
    return text[:line] + "left_child=" + " ".join(["0", *children[1:]]) + text[end:]


def _param_line_broken(text: str) -> str:
    return text.replace("[extra_trees: 0]", "[extra_t\nees: 0]")


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda c: c | {"format_version": 99}, "format version 99"),
        (lambda c: c | {"calibration": {"method": "platt", "a": "x", "b": 1.0}}, "calibration a"),
        (lambda c: c | {"calibration": {"method": "platt", "a": float("nan"), "b": 1.0}}, "NaN"),
        (lambda c: c | {"categories": None}, "categories"),
        (lambda c: c | {"categories": {"category": "abc"}}, "categories"),
        (lambda c: c | {"metadata": [1]}, "metadata"),
        (lambda c: c | {"metadata": {"training_as_of": "x" * 200}}, "training_as_of"),
        (
            lambda c: c | {"blend": {"references": {"margin": {"values": [1], "cumulative_counts": "x"}}}},
            "blend",
        ),
        (lambda c: c | {"params": {"baseline_weight": "x"}}, "baseline_weight"),
        (lambda c: c | {"lightgbm_model": _cut_in_a_tree(str(c["lightgbm_model"]))}, "cut short"),
        (lambda c: c | {"lightgbm_model": str(c["lightgbm_model"])[:-400]}, "parameters"),
        (lambda c: c | {"lightgbm_model": _looping_tree(str(c["lightgbm_model"]))}, "binary tree"),
        (lambda c: c | {"lightgbm_model": _param_line_broken(str(c["lightgbm_model"]))}, "parameters"),
    ],
)
def test_a_damaged_model_file_is_refused(tmp_path: Path, change: object, detail: str) -> None:
    """Found by fuzzing: each of these was a traceback, NaN scores for every company, a model of an unknown
    future version used as is, or (the LightGBM text) the whole process killed inside LightGBM's parser."""
    path = tmp_path / "model.json"
    path.write_text(json.dumps(change(_shipped())), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(DiscoveryError) as error:
        load_model(path)
    assert error.value.key == "model.bad_file"
    assert detail in str(error.value)


def test_the_lightgbm_check_passes_sound_text_and_stops_every_truncation(tmp_path: Path) -> None:
    from qilin.discovery.booster_text import problem

    content = _shipped()
    text, n = str(content["lightgbm_model"]), len(content["feature_names"])  # type: ignore[arg-type]
    assert problem(text, n) is None
    cut = text[: text.index("end of parameters")]
    assert all(problem(text[:end], n) for end in range(0, len(cut), 997))
    assert problem(text, n + 1) == "max_feature_idx does not match the feature names"
    # a file of version 1 (the booster alone, before the blend) still loads
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(content | {"format_version": 1, "blend": {}}), encoding="utf-8")
    model, _ = load_model(path)
    assert model.references_ == {} and model.booster_.num_trees() > 0


def test_a_sector_given_as_an_industry_division_is_named() -> None:
    """On the registry the category falls back to the GB/T 4754 division ("35"): a reason names it."""
    from qilin.discovery.model import _category

    assert _category(None, {"category": "35"}, True, "zh") == "所属领域：专用设备制造业（35）"  # type: ignore[arg-type]
    assert _category(None, {"category": "35"}, False, "en") == "sector: 专用设备制造业 (GB/T 4754 35)"  # type: ignore[arg-type]
    assert _category(None, {"category": "fintech"}, True, "zh") == "所属领域：fintech"  # type: ignore[arg-type]
