"""Learning curve of the shipped model on the developer split: does it gain from more positives?

    .venv/bin/python bench/discovery_learning_curve.py [--seeds 5]

Cross-validation at 2013-10-01 with the 12-year horizon, as ``qilin discover backtest`` does (folds by
company, stratified, seeded), but each training fold subsampled, stratified, to a fraction of its rows (25,
50, 75, 100%), then 10 and 20 folds (more of the split to train on). Prints P@1%, R@5% and AP of the pooled
out-of-fold ranking score (the model's calibrated probability), the mean over ``--seeds`` seeds and P@1% per
seed. Ties are broken by a seeded random key, as in the back-test. Not a speed benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from qilin.discovery.backtest import _fit_and_score, _point, training_frame
from qilin.discovery.data import read_package

DEV = Path(__file__).resolve().parent.parent / "data" / "backtest" / "dev"
STEPS = ((5, 0.25), (5, 0.5), (5, 0.75), (5, 1.0), (10, 1.0), (20, 1.0))  # (folds, share of a training fold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    frame = training_frame(read_package(DEV), dt.date(2013, 10, 1), 12)
    y = frame["label"].to_numpy().astype(bool)
    lead = frame["lead_years"].fill_null(np.nan).to_numpy()
    print(f"{len(y):,} companies, {int(y.sum())} positives")

    def pooled(folds: int, share: float, seed: int) -> tuple[float, float, float]:
        rng = np.random.default_rng(100 + seed)
        score = np.full(len(y), np.nan)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            if share < 1:  # the same share of the positives and of the negatives
                kept = [rng.choice(part, round(share * len(part)), replace=False) for part in
                        (train[y[train]], train[~y[train]])]  # fmt: skip
                train = np.sort(np.concatenate(kept))
            score[test] = _fit_and_score(frame[train], frame[test], {"random_state": seed})["model"][0]
        point = _point(score, None, y, lead, np.random.default_rng(seed).random(len(y)))
        return (
            point["precision_at_1pct"] or 0.0,
            point["recall_at_5pct"] or 0.0,
            point["average_precision"] or 0.0,
        )

    for folds, share in STEPS:
        values = np.array([pooled(folds, share, seed) for seed in range(args.seeds)])
        p1, r5, ap = values.mean(axis=0)
        positives = int(y.sum() * (folds - 1) / folds * share)
        per_seed = ", ".join(f"{v:.3f}" for v in values[:, 0])
        print(
            f"{folds:>2} folds, {share:>4.0%} of a training fold (≈ {positives} positives): "
            f"P@1% {p1:.3f}  R@5% {r5:.3f}  AP {ap:.3f}   P@1% per seed: {per_seed}",
            flush=True,
        )


if __name__ == "__main__":
    main()
