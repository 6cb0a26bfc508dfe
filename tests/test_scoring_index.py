"""Index files (指标体系): the shipped one loads with the documented weights; malformed files, unknown
indicators and inconsistent pairwise matrices are refused with the file and the line named."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import cli
from qilin.scoring.errors import InconsistentMatrixError, IndexFileError, IndexNotFoundError
from qilin.scoring.index import DEFAULT_INDEX, get_index, load_index, parse_index, shipped_indexes
from qilin.scoring.indicators import INDICATORS

VALID = """\
id: test-index
title_zh: 测试
title_en: Test
ranking: weighted_sum
weights:
  method: combined
  alpha: 0.5
pairwise:
  - [1, 3]
  - [1/3, 1]
groups:
  - id: innovation
    name_zh: 创新能力
    name_en: Innovation
    pairwise:
      - [1, 2, 4]
      - [1/2, 1, 2]
      - [1/4, 1/2, 1]
    indicators:
      - indicator: rd_intensity
        direction: benefit
        normalize: min-max
        missing: median
      - indicator: invention_patents
        direction: benefit
        normalize: z-score
        missing: zero
      - indicator: rd_staff_share
        direction: benefit
        normalize: min-max
        missing: min
  - id: profit
    name_zh: 盈利模式
    name_en: Profit
    indicators:
      - indicator: net_margin
        direction: cost
        normalize: min-max
        missing: exclude
"""


def _line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``fragment``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]


def _refused(tmp_path: Path, text: str) -> IndexFileError:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IndexFileError) as info:
        load_index(path)
    error = info.value
    assert error.path == str(path)
    assert str(path) in error.message("zh") and str(path) in error.message("en")
    assert f"第 {error.line} 行" in error.message("zh") and f"line {error.line}" in error.message("en")
    return error


def test_valid_file_loads_with_hierarchical_ahp_weights() -> None:
    index = parse_index(VALID)
    assert [g.id for g in index.groups] == ["innovation", "profit"]
    assert [leaf.indicator for _, leaf in index.leaves] == [
        "rd_intensity",
        "invention_patents",
        "rd_staff_share",
        "net_margin",
    ]
    # root (3 : 1) → (0.75, 0.25); innovation (4 : 2 : 1) → (4/7, 2/7, 1/7); profit has one leaf.
    assert index.ahp_weights() == pytest.approx((0.75 * 4 / 7, 0.75 * 2 / 7, 0.75 / 7, 0.25))
    assert index.weights.alpha == 0.5 and index.weights.combine == "linear"
    assert index.leaves[3][1].direction == "cost" and index.leaves[3][1].missing == "exclude"
    assert index.leaves[0][1].line == _line_of(VALID, "indicator: rd_intensity")


def test_shipped_index_structure_weights_and_consistency() -> None:
    assert DEFAULT_INDEX in [p.stem for p in shipped_indexes()]
    index = get_index(DEFAULT_INDEX)
    assert index.id == DEFAULT_INDEX
    assert index.ranking == "topsis"
    assert (index.weights.method, index.weights.alpha, index.weights.combine) == ("combined", 0.5, "linear")
    assert {g.id: [leaf.indicator for leaf in g.leaves] for g in index.groups} == {
        "innovation": ["rd_intensity", "invention_patents"],
        "talent": ["rd_staff_share"],
        "growth": ["revenue_growth", "valuation_step_up"],
        "leadership": ["plan_track", "revenue_rank_in_track"],
        "profit": ["net_margin", "revenue_scale"],
    }
    assert index.ahp is not None
    assert index.ahp.weights == pytest.approx((0.380, 0.139, 0.250, 0.152, 0.080), abs=5e-4)
    assert index.ahp.consistency_ratio == pytest.approx(0.011, abs=5e-4)
    within = {g.id: g.ahp.weights for g in index.groups if g.ahp is not None}
    assert within["innovation"] == pytest.approx((2 / 3, 1 / 3))
    assert within["leadership"] == pytest.approx((1 / 3, 2 / 3))
    assert within["talent"] == (1.0,)
    weights = index.ahp_weights()
    assert weights is not None and sum(weights) == pytest.approx(1.0)
    # every leaf states its imputation; none is silently zero-filled
    assert all(leaf.missing in ("median", "min", "zero", "exclude") for _, leaf in index.leaves)


def test_every_shipped_index_names_known_indicators_only() -> None:
    for path in shipped_indexes():
        index = load_index(path)
        assert all(leaf.indicator in INDICATORS for _, leaf in index.leaves), path


def test_inconsistent_group_matrix_is_refused_with_its_cr(tmp_path: Path) -> None:
    # Cyclic judgements: λmax = 3.5, CI = 0.25, CR = 0.25 / 0.58 = 0.4310.
    text = VALID.replace("[1, 2, 4]", "[1, 2, 1/2]").replace("[1/2, 1, 2]", "[1/2, 1, 2]")
    text = text.replace("[1/4, 1/2, 1]", "[2, 1/2, 1]")
    path = tmp_path / "cyclic.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InconsistentMatrixError) as info:
        load_index(path)
    error = info.value
    assert error.consistency_ratio == pytest.approx(0.4310, abs=5e-5)
    assert "CR = 0.4310" in error.message("zh") and "CR = 0.4310" in error.message("en")
    assert "≥ 0.10" in str(error)
    assert error.line == _line_of(text, "pairwise:", occurrence=2) + 1  # the matrix under the group's key
    assert "innovation" in error.message("en") and str(path) in str(error)


def test_inconsistent_root_matrix_is_refused(tmp_path: Path) -> None:
    text = VALID.replace("id: profit", "id: talent").replace(
        "pairwise:\n  - [1, 3]\n  - [1/3, 1]\n",
        "pairwise:\n  - [1, 9, 1/9]\n  - [1/9, 1, 9]\n  - [9, 1/9, 1]\n",
    )
    text += """\
  - id: growth
    name_zh: 成长性
    name_en: Growth
    indicators:
      - indicator: revenue_growth
        direction: benefit
        normalize: min-max
        missing: median
"""
    error = _refused(tmp_path, text)
    # circulant (1, 9, 1/9): λmax = 1 + 9 + 1/9, CI = (λmax − 3) / 2, CR = CI / 0.58 ≈ 6.1303
    assert isinstance(error, InconsistentMatrixError)
    assert error.consistency_ratio == pytest.approx((1 + 9 + 1 / 9 - 3) / 2 / 0.58, abs=1e-9)
    assert "CR = 6.1303" in str(error)
    assert error.line == _line_of(text, "[1, 9, 1/9]")


def test_unknown_indicator_is_refused_naming_its_line(tmp_path: Path) -> None:
    text = VALID.replace("indicator: invention_patents", "indicator: invention_patent")
    error = _refused(tmp_path, text)
    assert error.message_key == "index.unknown_indicator"
    assert error.line == _line_of(text, "indicator: invention_patent")
    assert "invention_patent" in error.message("en") and "rd_intensity" in error.message("en")


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = VALID.replace("      - [1/2, 1, 2]", "      - [1/2, 1, 2")
    error = _refused(tmp_path, text)
    assert error.message_key == "index.syntax"
    assert _line_of(text, "[1/2, 1, 2") <= error.line <= _line_of(text, "[1/2, 1, 2") + 1


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        (("normalize: z-score", "normalise: z-score"), "index.unknown_key", "normalise: z-score"),
        (("direction: cost", "direction: lower"), "index.bad_choice", "direction: lower"),
        (("missing: zero", "missing: mean"), "index.bad_choice", "missing: mean"),
        (("ranking: weighted_sum", "ranking: borda"), "index.bad_choice", "ranking: borda"),
        (("  alpha: 0.5\n", "  alpha: 1.5\n"), "index.alpha", "alpha: 1.5"),
        (("[1/3, 1]", "[1/2, 1]"), "index.pairwise_reciprocal", "[1/2, 1]\n"),
        (("[1, 2, 4]", "[1, 2, 10]"), "index.pairwise_value", "[1, 2, 10]"),
        (("[1, 2, 4]", "[1, 2, four]"), "index.pairwise_value", "[1, 2, four]"),
        (("[1/4, 1/2, 1]", "[1/4, 1/2, 2]"), "index.pairwise_diagonal", "[1/4, 1/2, 2]"),
        (("[1/4, 1/2, 1]", "[1/4, 1]"), "index.pairwise_shape", "[1/4, 1]"),
        (("title_en: Test", "title_en: Test\ntitle_en: Again"), "index.duplicate_key", "title_en: Again"),
        (
            ("indicator: net_margin", "indicator: rd_intensity"),
            "index.duplicate_indicator",
            "- indicator: rd_intensity",
        ),
    ],
)
def test_malformed_file_refused_naming_the_line(
    tmp_path: Path, change: tuple[str, str], key: str, fragment: str
) -> None:
    old, new = change
    assert old in VALID
    text = VALID.replace(old, new, 1) if key != "index.duplicate_indicator" else VALID.replace(old, new)
    error = _refused(tmp_path, text)
    assert error.message_key == key
    occurrence = 2 if key == "index.duplicate_indicator" else 1
    assert error.line == _line_of(text, fragment.rstrip("\n"), occurrence)


def test_missing_required_keys_are_named(tmp_path: Path) -> None:
    text = VALID.replace("        missing: min\n", "")
    error = _refused(tmp_path, text)
    assert error.message_key == "index.missing_key" and "missing" in error.message("en")
    assert error.line == _line_of(text, "indicator: rd_staff_share")
    # combined weights need alpha
    error = _refused(tmp_path, VALID.replace("  alpha: 0.5\n", ""))
    assert error.message_key == "index.alpha_missing"
    # a group of three under AHP needs its matrix
    text = VALID.replace("    pairwise:\n      - [1, 2, 4]\n      - [1/2, 1, 2]\n      - [1/4, 1/2, 1]\n", "")
    error = _refused(tmp_path, text)
    assert error.message_key == "index.pairwise_missing"
    assert error.line == _line_of(text, "- id: innovation")


def test_winsorize_bounds_are_checked(tmp_path: Path) -> None:
    ok = parse_index(
        VALID.replace(
            "        missing: median\n", "        missing: median\n        winsorize: [0.05, 0.95]\n"
        )
    )
    assert ok.leaves[0][1].winsorize == (0.05, 0.95)
    text = VALID.replace(
        "        missing: median\n", "        missing: median\n        winsorize: [0.9, 0.1]\n"
    )
    error = _refused(tmp_path, text)
    assert error.message_key == "index.winsorize" and error.line == _line_of(text, "winsorize")


def test_entropy_only_index_needs_no_matrices() -> None:
    text = VALID.replace("  method: combined\n  alpha: 0.5\n", "  method: entropy\n")
    text = text.replace("pairwise:\n  - [1, 3]\n  - [1/3, 1]\n", "")
    index = parse_index(text)
    assert index.ahp is None and index.ahp_weights() is None


def test_empty_file_and_unknown_index(tmp_path: Path) -> None:
    error = _refused(tmp_path, "# nothing here\n")
    assert error.message_key == "index.empty"
    with pytest.raises(IndexNotFoundError, match="no-such-index"):
        get_index("no-such-index")


def test_indexes_command_lists_the_shipped_index() -> None:
    result = cli("scoring", "indexes")
    assert result.exit_code == 0, result.output
    assert DEFAULT_INDEX in result.output and "0.0110" in result.output and "topsis" in result.output
    result = cli("scoring", "indicators")
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in INDICATORS)
