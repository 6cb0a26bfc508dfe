"""The pure scorer: indicators from plain facts, stated imputation (never a silent zero), exclusion,
contributions that add up to the score, TOPSIS distances, entropy and combined weights, winsorising."""

from __future__ import annotations

import doctest
import json
import math

import pytest

import qilin.scoring.evaluate
import qilin.scoring.index
import qilin.scoring.indicators
import qilin.scoring.messages
import qilin.scoring.normalize
import qilin.scoring.rank
import qilin.scoring.service
import qilin.scoring.weights
from qilin.scoring.evaluate import EnterpriseFacts, ScoringResult, evaluate
from qilin.scoring.index import IndexDefinition, parse_index
from qilin.scoring.indicators import INDICATORS
from qilin.scoring.normalize import min_max
from qilin.scoring.rank import topsis
from qilin.scoring.weights import entropy


def _leaf(indicator: str, missing: str, *, direction: str = "benefit", normalize: str = "min-max") -> str:
    return (
        f"      - {{indicator: {indicator}, direction: {direction}, normalize: {normalize}, "
        f"missing: {missing}}}\n"
    )


def _index(
    leaves: list[str],
    *,
    ranking: str = "weighted_sum",
    weights: str = "{method: ahp}",
    pairwise: str | None = None,
) -> IndexDefinition:
    text = (
        "id: t\ntitle_zh: 测试\ntitle_en: Test\n"
        f"ranking: {ranking}\nweights: {weights}\n"
        "groups:\n  - id: all\n    name_zh: 全部\n    name_en: All\n"
    )
    if pairwise is not None:
        text += f"    pairwise: {pairwise}\n"
    text += "    indicators:\n" + "".join(leaves)
    return parse_index(text)


def _report(company_id: str, **fields: object) -> EnterpriseFacts:
    return EnterpriseFacts(company_id, name=f"企业{company_id}", report_year=2023, **fields)


def _by_id(result: ScoringResult) -> dict[str, qilin.scoring.evaluate.EnterpriseScore]:
    return {s.company_id: s for s in result.scores}


def test_docstring_examples_run() -> None:
    for module in (
        qilin.scoring.evaluate,
        qilin.scoring.index,
        qilin.scoring.indicators,
        qilin.scoring.messages,
        qilin.scoring.normalize,
        qilin.scoring.rank,
        qilin.scoring.service,
        qilin.scoring.weights,
    ):
        failures, _ = doctest.testmod(module)
        assert failures == 0, module.__name__


# ---- indicators -------------------------------------------------------------------------------------------


def test_indicators_from_plain_facts() -> None:
    facts = [
        _report(
            "a",
            revenue=1000.0,
            previous_revenue=800.0,
            net_profit=-100.0,
            employees=50,
            rd_staff=20,
            rd_expense=150.0,
            invention_patents=7,
            tracks=("ai", "biomedicine"),
        ),
        _report("b", revenue=100.0, employees=0, tracks=("biomedicine",)),
        EnterpriseFacts("c", valuation=300.0, previous_valuation=100.0),
    ]

    def values(name: str) -> list[tuple[float | None, str | None]]:
        return [(v.value, v.reason) for v in INDICATORS[name].compute(facts)]

    assert values("rd_intensity") == [(0.15, None), (None, "no_value"), (None, "no_report")]
    assert values("invention_patents") == [(7.0, None), (None, "no_value"), (None, "no_report")]
    assert values("rd_staff_share") == [(0.4, None), (None, "employees_not_positive"), (None, "no_report")]
    assert values("revenue_growth") == [
        (pytest.approx(0.25), None),
        (None, "no_previous_year"),
        (None, "no_report"),
    ]
    assert values("valuation_step_up") == [
        (None, "valuation_missing"),
        (None, "valuation_missing"),
        (3.0, None),
    ]
    # emerging track (ai) 1, key field (biomedicine) 0.5, none 0 — never missing
    assert values("plan_track") == [(1.0, None), (0.5, None), (0.0, None)]
    assert values("net_margin") == [(-0.1, None), (None, "no_value"), (None, "no_report")]
    assert values("revenue_scale") == [(3.0, None), (2.0, None), (None, "no_report")]
    # biomedicine has a (1000) and b (100): a is top (1), b bottom (0); a is alone in ai (1).
    assert values("revenue_rank_in_track") == [(1.0, None), (0.0, None), (None, "no_track")]


def test_revenue_rank_in_track_uses_mid_ranks_for_ties() -> None:
    facts = [_report(str(i), revenue=r, tracks=("ai",)) for i, r in enumerate([10.0, 20.0, 20.0, 40.0])]
    # ascending 0-based ranks 0, 1.5, 1.5, 3 over n − 1 = 3
    assert [v.value for v in INDICATORS["revenue_rank_in_track"].compute(facts)] == pytest.approx(
        [0.0, 0.5, 0.5, 1.0]
    )


# ---- imputation -------------------------------------------------------------------------------------------


def test_missing_values_are_imputed_as_stated_never_silently_zero() -> None:
    index = _index(
        [_leaf("rd_intensity", "median"), _leaf("invention_patents", "min"), _leaf("net_margin", "zero")],
        pairwise="[[1, 1, 1], [1, 1, 1], [1, 1, 1]]",
    )
    facts = [
        _report("a", revenue=100.0, rd_expense=10.0, invention_patents=4, net_profit=20.0),
        _report("b", revenue=100.0, rd_expense=30.0, invention_patents=8, net_profit=-10.0),
        _report("c", revenue=100.0, rd_expense=40.0, invention_patents=6, net_profit=10.0),
        _report("d", revenue=100.0),  # nothing but revenue
    ]
    result = evaluate(facts, index)
    d = _by_id(result)["d"]
    rd, patents, margin = d.contributions
    # median of (0.1, 0.3, 0.4) = 0.3, not 0
    assert (rd.raw, rd.imputed, rd.imputation, rd.value, rd.missing_reason) == (
        None,
        True,
        "median",
        pytest.approx(0.3),
        "no_value",
    )
    assert (patents.raw, patents.imputed, patents.imputation, patents.value) == (None, True, "min", 4.0)
    # zero is allowed because the file says so — and it is still flagged as imputed
    assert (margin.raw, margin.imputed, margin.imputation, margin.value) == (None, True, "zero", 0.0)
    assert [c.indicator for c in d.imputed] == ["rd_intensity", "invention_patents", "net_margin"]
    assert not _by_id(result)["a"].imputed
    summary = {s.indicator: s for s in result.indicators}
    assert (summary["rd_intensity"].observed, summary["rd_intensity"].imputed) == (3, 1)
    assert summary["rd_intensity"].imputed_value == pytest.approx(0.3)
    # the JSON states each imputation with its method, value and reason, in both languages
    payload = json.loads(json.dumps(result.as_dict(), ensure_ascii=False))
    stated = {
        i["indicator"]: i for i in next(s for s in payload["scores"] if s["company_id"] == "d")["imputations"]
    }
    assert stated["rd_intensity"]["method"] == "median" and stated["rd_intensity"]["value"] == pytest.approx(
        0.3
    )
    assert stated["rd_intensity"]["reason_zh"] == "经营数据中此项为空"
    assert stated["net_margin"]["method_en"] == "imputed with zero"


def test_exclude_sets_the_enterprise_aside_and_says_why() -> None:
    index = _index(
        [_leaf("rd_intensity", "median"), _leaf("revenue_growth", "exclude")],
        pairwise="[[1, 1], [1, 1]]",
    )
    facts = [
        _report("a", revenue=200.0, previous_revenue=100.0, rd_expense=20.0),
        _report("b", revenue=150.0, previous_revenue=100.0, rd_expense=60.0),
        _report("c", revenue=100.0, rd_expense=90.0),  # no previous year → excluded
    ]
    result = evaluate(facts, index)
    # a: intensity 0.1 (→ 0), growth 1.0 (→ 1); b: 0.4 (→ 1), 0.5 (→ 0): a tie at 0.5, listed by id
    assert [(s.company_id, s.rank, s.score) for s in result.scores] == [("a", 1, 0.5), ("b", 1, 0.5)]
    assert [(e.company_id, e.missing) for e in result.excluded] == [
        ("c", (("revenue_growth", "no_previous_year"),))
    ]
    # c's 0.9 R&D intensity did not enter the ranked cohort's min-max
    assert {s.company_id: s.contributions[0].normalized for s in result.scores} == {"a": 0.0, "b": 1.0}


def test_an_indicator_nobody_has_separates_no_one_and_is_noted() -> None:
    index = _index(
        [_leaf("rd_intensity", "median"), _leaf("valuation_step_up", "median")], pairwise="[[1, 3], [1/3, 1]]"
    )
    facts = [_report("a", revenue=10.0, rd_expense=1.0), _report("b", revenue=10.0, rd_expense=2.0)]
    result = evaluate(facts, index)
    for score in result.scores:
        step_up = score.contributions[1]
        assert step_up.imputed and step_up.value is None and step_up.normalized == 0.0
    assert any("valuation_step_up" in note for note in result.notes)
    assert _by_id(result)["b"].score == pytest.approx(0.75)


# ---- scores -----------------------------------------------------------------------------------------------


def test_weighted_sum_by_hand_and_contributions_add_up() -> None:
    # AHP (3 : 1) → weights (0.75, 0.25). R&D intensity 0.1 / 0.3 / 0.2 → min-max 0, 1, 0.5.
    # Net margin is a cost here: 0.2 / 0.0 / 0.1 → (max − x) / (max − min) = 0, 1, 0.5.
    index = _index(
        [_leaf("rd_intensity", "median"), _leaf("net_margin", "median", direction="cost")],
        pairwise="[[1, 3], [1/3, 1]]",
    )
    facts = [
        _report("a", revenue=100.0, rd_expense=10.0, net_profit=20.0),
        _report("b", revenue=100.0, rd_expense=30.0, net_profit=0.0),
        _report("c", revenue=100.0, rd_expense=20.0, net_profit=10.0),
    ]
    result = evaluate(facts, index)
    scores = {s.company_id: (s.rank, s.score) for s in result.scores}
    assert scores == {
        "b": (1, pytest.approx(1.0)),
        "c": (2, pytest.approx(0.5)),
        "a": (3, pytest.approx(0.0)),
    }
    for s in result.scores:
        assert sum(c.contribution for c in s.contributions) == pytest.approx(s.score, abs=1e-12)
        assert s.weighted_sum == pytest.approx(s.score, abs=1e-12)
        for c in s.contributions:
            assert c.contribution == pytest.approx(c.weight * c.normalized, abs=1e-15)
    assert [round(s.weight, 12) for s in result.indicators] == [0.75, 0.25]
    assert result.scores[0].distance_best is None


def test_topsis_keeps_distances_and_weighted_values() -> None:
    index = _index(
        [_leaf("rd_intensity", "median"), _leaf("net_margin", "median")],
        ranking="topsis",
        pairwise="[[1, 1], [1, 1]]",
    )
    facts = [
        _report("a", revenue=100.0, rd_expense=10.0, net_profit=30.0),
        _report("b", revenue=100.0, rd_expense=30.0, net_profit=10.0),
        _report("c", revenue=100.0, rd_expense=20.0, net_profit=20.0),
        _report("d", revenue=100.0, rd_expense=30.0, net_profit=30.0),
    ]
    result = evaluate(facts, index)
    by_id = _by_id(result)
    # normalised (0, 1), (1, 0), (0.5, 0.5), (1, 1); weighted by 0.5 each. d is the ideal point: C = 1.
    assert by_id["d"].score == pytest.approx(1.0) and by_id["d"].rank == 1
    assert by_id["d"].distance_best == pytest.approx(0.0)
    # a and b are symmetric: D⁺ = D⁻ = 0.5 → C = 0.5; c: D⁺ = D⁻ = sqrt(2)·0.25 → 0.5 — a three-way tie.
    assert by_id["a"].distance_best == pytest.approx(0.5) and by_id["a"].distance_worst == pytest.approx(0.5)
    assert by_id["c"].distance_best == pytest.approx(math.sqrt(2) * 0.25)
    assert {by_id[k].rank for k in "abc"} == {2}
    # the weighted normalised values are kept and still add up to the weighted sum
    assert [c.contribution for c in by_id["b"].contributions] == pytest.approx([0.5, 0.0])
    assert by_id["b"].weighted_sum == pytest.approx(0.5)
    expected = topsis([[0, 1], [1, 0], [0.5, 0.5], [1, 1]], [0.5, 0.5])
    assert [by_id[k].score for k in "abcd"] == pytest.approx(expected.closeness.tolist())
    assert [s.ideal for s in result.indicators] == pytest.approx([0.5, 0.5])
    assert [s.anti_ideal for s in result.indicators] == pytest.approx([0.0, 0.0])


def test_entropy_and_combined_weights_come_from_the_data() -> None:
    facts = [
        _report("a", revenue=100.0, rd_expense=0.0, invention_patents=0),
        _report("b", revenue=100.0, rd_expense=50.0, invention_patents=0),
        _report("c", revenue=100.0, rd_expense=100.0, invention_patents=5),
    ]
    leaves = [_leaf("rd_intensity", "median"), _leaf("invention_patents", "median")]
    # min-max columns (0, 0.5, 1) and (0, 0, 1): the hand-worked entropy example, weights ≈ (0.2961, 0.7039)
    expected = entropy([[0, 0], [0.5, 0], [1, 1]]).weights
    result = evaluate(facts, _index(leaves, weights="{method: entropy}"))
    assert [s.weight for s in result.indicators] == pytest.approx(expected)
    assert [s.weight for s in result.indicators] == pytest.approx([0.2961, 0.7039], abs=5e-5)
    assert result.indicators[0].weight_ahp is None
    combined = evaluate(
        facts, _index(leaves, weights="{method: combined, alpha: 0.6}", pairwise="[[1, 3], [1/3, 1]]")
    )
    # 0.6 · (0.75, 0.25) + 0.4 · entropy
    assert [s.weight for s in combined.indicators] == pytest.approx(
        [0.6 * 0.75 + 0.4 * expected[0], 0.6 * 0.25 + 0.4 * expected[1]]
    )
    assert [s.weight_entropy for s in combined.indicators] == pytest.approx(expected)
    assert sum(g.weight for g in combined.groups) == pytest.approx(1.0)


def test_winsorising_clips_at_quantiles_of_the_observed_values() -> None:
    text_leaf = _leaf("invention_patents", "median").rstrip("}\n") + ", winsorize: [0, 0.75]}\n"
    index = _index([text_leaf, _leaf("rd_intensity", "median")], pairwise="[[1, 1], [1, 1]]")
    facts = [
        _report(str(i), revenue=10.0, rd_expense=1.0, invention_patents=p)
        for i, p in enumerate([0, 1, 2, 100])
    ]
    result = evaluate(facts, index)
    # 75th percentile of (0, 1, 2, 100) with linear interpolation: 2 + 0.25 · 98 = 26.5
    assert result.indicators[0].winsorized_to == pytest.approx((0.0, 26.5))
    top = _by_id(result)["3"].contributions[0]
    assert top.raw == 100.0 and top.value == pytest.approx(26.5) and top.clipped
    assert _by_id(result)["2"].contributions[0].normalized == pytest.approx(2 / 26.5)
    assert min_max([0, 1, 2, 26.5], "benefit")[2] == pytest.approx(2 / 26.5)


def test_empty_cohort() -> None:
    index = _index([_leaf("rd_intensity", "median")], ranking="topsis")
    result = evaluate([], index)
    assert result.scores == () and result.excluded == ()
    assert result.as_dict()["scores"] == []
