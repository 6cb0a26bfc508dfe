"""The index-system scorer (指标体系评分): plain facts and an index definition in, explained scores out.

Steps, each recorded in the result so that any score can be reproduced by hand:

1. every leaf's indicator is computed for the cohort (raw value, or None with a reason);
2. an enterprise missing an indicator whose imputation is ``exclude`` is set aside (listed, not ranked);
3. every other missing value is imputed as the index file says — the median or minimum of the observed
   values of the ranked enterprises, or zero — and the output marks it ``imputed`` with the method, the value
   and the reason it was missing (a missing value is never silently zero);
4. a leaf may winsorise: its column is clipped at quantiles of the observed values; then each column is
   normalised as the leaf says, oriented so that higher is better;
5. weights: AHP (group weight × weight within the group), entropy over the min-max normalised columns, or
   their combination (see :mod:`qilin.scoring.weights`);
6. ranking: weighted sum (the score is the sum of the contributions ``weight × normalised``) or TOPSIS
   (the score is the closeness ``D⁻ / (D⁺ + D⁻)``; the per-indicator weighted values, the ideal and
   anti-ideal points and both distances are kept). The weighted sum is reported under TOPSIS too.

>>> from qilin.scoring.index import parse_index
>>> index = parse_index('''
... id: tiny
... title_zh: 示例
... title_en: Tiny
... ranking: weighted_sum
... weights: {method: ahp}
... pairwise: [[1, 3], [1/3, 1]]
... groups:
...   - {id: innovation, name_zh: 创新能力, name_en: Innovation, indicators: [
...       {indicator: rd_intensity, direction: benefit, normalize: min-max, missing: median}]}
...   - {id: profit, name_zh: 盈利模式, name_en: Profit, indicators: [
...       {indicator: net_margin, direction: benefit, normalize: min-max, missing: zero}]}
... ''')
>>> facts = [
...     EnterpriseFacts("a", report_year=2023, revenue=100.0, rd_expense=30.0, net_profit=10.0),
...     EnterpriseFacts("b", report_year=2023, revenue=100.0, rd_expense=10.0),
...     EnterpriseFacts("c", report_year=2023, revenue=100.0, rd_expense=20.0, net_profit=-5.0),
... ]
>>> result = evaluate(facts, index)
>>> [(s.company_id, s.rank, round(s.score, 4)) for s in result.scores]
[('a', 1, 1.0), ('c', 2, 0.375), ('b', 3, 0.0833)]
>>> b = result.scores[2].contributions[1]
>>> b.indicator, b.raw, b.imputed, b.imputation, b.value
('net_margin', None, True, 'zero', 0.0)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qilin.scoring.index import IndexDefinition, Leaf
from qilin.scoring.indicators import INDICATORS, EnterpriseFacts, IndicatorValue
from qilin.scoring.messages import t
from qilin.scoring.normalize import min_max, normalize
from qilin.scoring.rank import competition_ranks, topsis, weighted_sum
from qilin.scoring.weights import combine, entropy

__all__ = [
    "Contribution",
    "EnterpriseFacts",
    "EnterpriseScore",
    "Excluded",
    "GroupSummary",
    "IndicatorSummary",
    "ScoringResult",
    "evaluate",
]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One indicator of one enterprise: raw value, imputation, normalised value, weight, contribution.

    ``raw`` is the observed value (None when missing, with ``missing_reason``); ``value`` is what was
    normalised: the raw or the imputed value, ``clipped`` to the winsorising bounds when the leaf asks for
    it (None only when no enterprise had the indicator at all).
    ``contribution = weight × normalized``: its sum over the indicators is the weighted-sum score, and
    under TOPSIS it is the weighted normalised value ``v_ij``.
    """

    indicator: str
    group: str
    raw: float | None
    missing_reason: str | None
    imputed: bool
    imputation: str | None
    value: float | None
    clipped: bool
    normalized: float
    weight: float
    contribution: float


@dataclass(frozen=True, slots=True)
class EnterpriseScore:
    """The score and rank of one enterprise with every contribution; TOPSIS distances when used."""

    company_id: str
    name: str
    score: float
    rank: int
    weighted_sum: float
    contributions: tuple[Contribution, ...]
    distance_best: float | None = None
    distance_worst: float | None = None
    facts: EnterpriseFacts | None = None

    @property
    def imputed(self) -> tuple[Contribution, ...]:
        """The contributions whose value was imputed."""
        return tuple(c for c in self.contributions if c.imputed)

    def group_contributions(self) -> dict[str, float]:
        """Sum of contributions per group (under TOPSIS: of weighted normalised values)."""
        out: dict[str, float] = {}
        for c in self.contributions:
            out[c.group] = out.get(c.group, 0.0) + c.contribution
        return out


@dataclass(frozen=True, slots=True)
class Excluded:
    """An enterprise not ranked: it misses indicators whose imputation is ``exclude``."""

    company_id: str
    name: str
    missing: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class IndicatorSummary:
    """How one indicator was treated for the whole cohort."""

    indicator: str
    group: str
    label_zh: str
    label_en: str
    direction: str
    normalize: str
    missing: str
    observed: int
    imputed: int
    imputed_value: float | None
    winsorized_to: tuple[float, float] | None
    weight_ahp: float | None
    weight_entropy: float | None
    weight: float
    ideal: float | None = None
    anti_ideal: float | None = None


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A group's weight (the sum of its leaves' final weights) and its AHP consistency ratio."""

    id: str
    name_zh: str
    name_en: str
    weight: float
    consistency_ratio: float | None


@dataclass(frozen=True, slots=True)
class ScoringResult:
    """Scores of a cohort under one index, with everything needed to explain and reproduce them."""

    index_id: str
    index_sha256: str
    ranking: str
    weight_method: str
    alpha: float | None
    combine: str | None
    root_consistency_ratio: float | None
    indicators: tuple[IndicatorSummary, ...]
    groups: tuple[GroupSummary, ...]
    scores: tuple[EnterpriseScore, ...]
    excluded: tuple[Excluded, ...]
    as_of: dt.date | None = None
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the method, the weights, every score with its contributions and imputations."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "index": {"id": self.index_id, "sha256": self.index_sha256},
            "ranking": self.ranking,
            "weights": {
                "method": self.weight_method,
                "alpha": self.alpha,
                "combine": self.combine,
                "consistency_ratio": self.root_consistency_ratio,
            },
            "groups": [
                {
                    "id": g.id,
                    "name_zh": g.name_zh,
                    "name_en": g.name_en,
                    "weight": g.weight,
                    "consistency_ratio": g.consistency_ratio,
                }
                for g in self.groups
            ],
            "indicators": [
                {
                    "indicator": s.indicator,
                    "group": s.group,
                    "label_zh": s.label_zh,
                    "label_en": s.label_en,
                    "direction": s.direction,
                    "normalize": s.normalize,
                    "missing": s.missing,
                    "observed": s.observed,
                    "imputed": s.imputed,
                    "imputed_value": s.imputed_value,
                    "winsorized_to": None if s.winsorized_to is None else list(s.winsorized_to),
                    "weight_ahp": s.weight_ahp,
                    "weight_entropy": s.weight_entropy,
                    "weight": s.weight,
                    "ideal": s.ideal,
                    "anti_ideal": s.anti_ideal,
                }
                for s in self.indicators
            ],
            "scores": [_score_dict(s) for s in self.scores],
            "excluded": [
                {
                    "company_id": e.company_id,
                    "name": e.name,
                    "missing": [_reason_dict(name, reason) for name, reason in e.missing],
                }
                for e in self.excluded
            ],
            "notes": list(self.notes),
        }


def _reason_dict(indicator: str, reason: str | None) -> dict[str, Any]:
    return {
        "indicator": indicator,
        "reason": reason,
        "reason_zh": t(f"reason.{reason}", lang="zh") if reason else None,
        "reason_en": t(f"reason.{reason}", lang="en") if reason else None,
    }


def _score_dict(s: EnterpriseScore) -> dict[str, Any]:
    facts = s.facts
    evidence: dict[str, Any] = {}
    if facts is not None:
        evidence = {
            "report_year": facts.report_year,
            "valuation_on": facts.valuation_on.isoformat() if facts.valuation_on else None,
            "previous_valuation_on": (
                facts.previous_valuation_on.isoformat() if facts.previous_valuation_on else None
            ),
            "valuation_currency": facts.valuation_currency,
            "tracks": list(facts.tracks),
            "notes": list(facts.notes),
        }
    return {
        "company_id": s.company_id,
        "name": s.name,
        "rank": s.rank,
        "score": s.score,
        "weighted_sum": s.weighted_sum,
        "distance_best": s.distance_best,
        "distance_worst": s.distance_worst,
        "evidence": evidence,
        "contributions": [
            {
                "indicator": c.indicator,
                "group": c.group,
                "raw": c.raw,
                "imputed": c.imputed,
                "value": c.value,
                "clipped": c.clipped,
                "normalized": c.normalized,
                "weight": c.weight,
                "contribution": c.contribution,
            }
            for c in s.contributions
        ],
        "imputations": [
            {
                **_reason_dict(c.indicator, c.missing_reason),
                "method": c.imputation,
                "method_zh": t(f"impute.{c.imputation}", lang="zh"),
                "method_en": t(f"impute.{c.imputation}", lang="en"),
                "value": c.value,
            }
            for c in s.imputed
        ],
    }


def _imputed_value(leaf: Leaf, observed: list[float]) -> float | None:
    """The value that stands in for a missing one; None when nothing was observed (median/min)."""
    if leaf.missing == "zero":
        return 0.0
    if not observed:
        return None
    if leaf.missing == "median":
        return float(np.median(observed))
    if leaf.missing == "min":
        return float(min(observed))
    raise ValueError(f"no imputed value for {leaf.missing!r}")


def evaluate(
    facts: Sequence[EnterpriseFacts], index: IndexDefinition, *, as_of: dt.date | None = None
) -> ScoringResult:
    """Score and rank ``facts`` under ``index``; ``as_of`` is recorded in the result."""
    cohort = list(facts)
    leaves = index.leaves
    m = len(leaves)
    raw: list[list[IndicatorValue]] = [INDICATORS[leaf.indicator].compute(cohort) for _, leaf in leaves]

    excluded: dict[int, list[tuple[str, str | None]]] = {}
    for j, (_, leaf) in enumerate(leaves):
        if leaf.missing == "exclude":
            for i, item in enumerate(raw[j]):
                if item.value is None:
                    excluded.setdefault(i, []).append((leaf.indicator, item.reason))
    kept = [i for i in range(len(cohort)) if i not in excluded]
    n = len(kept)

    values = np.zeros((n, m))  # after imputation and winsorising: what is normalised
    clipped = np.zeros((n, m), dtype=bool)
    has_values = [False] * m
    fills: list[float | None] = []
    bounds: list[tuple[float, float] | None] = []
    normalized = np.zeros((n, m))
    oriented_min_max = np.zeros((n, m))  # what the entropy method reads
    notes: list[str] = []
    for j, (_, leaf) in enumerate(leaves):
        observed = [raw[j][i].value for i in kept]
        present = [v for v in observed if v is not None]
        fill = None if leaf.missing == "exclude" else _imputed_value(leaf, present)
        fills.append(fill)
        column = [v if v is not None else fill for v in observed]
        bounds.append(None)
        if n and all(v is not None for v in column):
            has_values[j] = True
            values[:, j] = np.asarray(column, dtype=np.float64)
            if leaf.winsorize is not None and present:
                # Quantiles of the observed values only: imputed ones must not move the bounds.
                low, high = (float(q) for q in np.quantile(present, leaf.winsorize))
                bounds[j] = (low, high)
                clipped[:, j] = (values[:, j] < low) | (values[:, j] > high)
                values[:, j] = np.clip(values[:, j], low, high)
            normalized[:, j] = normalize(values[:, j], leaf.normalize, leaf.direction)
            oriented_min_max[:, j] = min_max(values[:, j], leaf.direction)
        elif n:
            # Nothing observed and nothing to impute from: the column separates no one (all 0).
            notes.append(
                f"{leaf.indicator}: {t('impute.nothing_observed', lang='zh')} / "
                f"{t('impute.nothing_observed', lang='en')}"
            )

    ahp_weights = index.ahp_weights()
    entropy_weights = (
        entropy(oriented_min_max).weights if index.weights.method in ("entropy", "combined") else None
    )
    if index.weights.method == "ahp":
        assert ahp_weights is not None
        weights = ahp_weights
    elif index.weights.method == "entropy":
        assert entropy_weights is not None
        weights = entropy_weights
    else:
        assert ahp_weights is not None and entropy_weights is not None and index.weights.alpha is not None
        weights = combine(
            ahp_weights, entropy_weights, alpha=index.weights.alpha, method=index.weights.combine
        )

    summed = weighted_sum(normalized, weights)
    distance_best = distance_worst = None
    ideal = anti_ideal = None
    if index.ranking == "topsis":
        result = topsis(normalized, weights)
        scores = result.closeness
        distance_best, distance_worst = result.distance_best, result.distance_worst
        if n:
            ideal, anti_ideal = result.ideal, result.anti_ideal
    else:
        scores = summed.scores
    ids = [cohort[i].company_id for i in kept]
    ranks = competition_ranks(scores, ids)

    enterprise_scores: list[EnterpriseScore] = []
    for row, i in enumerate(kept):
        contributions = tuple(
            Contribution(
                indicator=leaf.indicator,
                group=group.id,
                raw=raw[j][i].value,
                missing_reason=raw[j][i].reason,
                imputed=raw[j][i].value is None,
                imputation=leaf.missing if raw[j][i].value is None else None,
                value=float(values[row, j]) if has_values[j] else None,
                clipped=bool(clipped[row, j]),
                normalized=float(normalized[row, j]),
                weight=float(weights[j]),
                contribution=float(summed.contributions[row, j]),
            )
            for j, (group, leaf) in enumerate(leaves)
        )
        enterprise_scores.append(
            EnterpriseScore(
                company_id=cohort[i].company_id,
                name=cohort[i].name,
                score=float(scores[row]),
                rank=ranks[row],
                weighted_sum=float(summed.scores[row]),
                contributions=contributions,
                distance_best=None if distance_best is None else float(distance_best[row]),
                distance_worst=None if distance_worst is None else float(distance_worst[row]),
                facts=cohort[i],
            )
        )
    enterprise_scores.sort(key=lambda s: (s.rank, s.company_id))

    indicator_summaries = tuple(
        IndicatorSummary(
            indicator=leaf.indicator,
            group=group.id,
            label_zh=INDICATORS[leaf.indicator].label_zh,
            label_en=INDICATORS[leaf.indicator].label_en,
            direction=leaf.direction,
            normalize=leaf.normalize,
            missing=leaf.missing,
            observed=sum(1 for i in kept if raw[j][i].value is not None),
            imputed=sum(1 for i in kept if raw[j][i].value is None),
            imputed_value=fills[j],
            winsorized_to=bounds[j],
            weight_ahp=None if ahp_weights is None else ahp_weights[j],
            weight_entropy=None if entropy_weights is None else entropy_weights[j],
            weight=float(weights[j]),
            ideal=None if ideal is None else float(ideal[j]),
            anti_ideal=None if anti_ideal is None else float(anti_ideal[j]),
        )
        for j, (group, leaf) in enumerate(leaves)
    )
    group_summaries = tuple(
        GroupSummary(
            id=g.id,
            name_zh=g.name_zh,
            name_en=g.name_en,
            weight=float(sum(w for w, (owner, _) in zip(weights, leaves, strict=True) if owner.id == g.id)),
            consistency_ratio=None if g.ahp is None else g.ahp.consistency_ratio,
        )
        for g in index.groups
    )
    return ScoringResult(
        index_id=index.id,
        index_sha256=index.sha256,
        ranking=index.ranking,
        weight_method=index.weights.method,
        alpha=index.weights.alpha,
        combine=index.weights.combine if index.weights.method == "combined" else None,
        root_consistency_ratio=None if index.ahp is None else index.ahp.consistency_ratio,
        indicators=indicator_summaries,
        groups=group_summaries,
        scores=tuple(enterprise_scores),
        excluded=tuple(
            Excluded(cohort[i].company_id, cohort[i].name, tuple(missing))
            for i, missing in sorted(excluded.items(), key=lambda item: cohort[item[0]].company_id)
        ),
        as_of=as_of,
        notes=tuple(notes),
    )
