"""Investor track-record features (投资机构历史命中率): worked by hand on a small package, and time-honest
on a random one: records dated after the as-of date (new rounds, new investors, unicorn entries, IPOs)
change nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from qilin.discovery.data import DataPackage, read_package
from qilin.discovery.features import build_features
from test_discovery_fixtures import write_csv

COMPANIES = ["id", "name", "founded_on", "category", "status"]
ROUNDS = ["company_id", "announced_on", "round_type", "amount", "currency", "investors"]


def _hand_package(dst: Path) -> DataPackage:
    """VC1 backs a, b, c (2015), d (2016, already a unicorn since 2014) and e (2019-01). b joins the unicorn
    list in 2017, c lists (an ipo round) in 2018. VC2 backs only e."""
    dst.mkdir(parents=True, exist_ok=True)
    write_csv(
        dst / "companies.csv",
        COMPANIES,
        [[c, c.upper(), "2014-01-01", "software", "operating"] for c in "abcde"],
    )
    write_csv(
        dst / "rounds.csv",
        ROUNDS,
        [
            ["a", "2015-03-01", "series-a", "5000000", "USD", "VC1"],
            ["b", "2015-04-01", "series-a", "5000000", "USD", "VC1; Angel X"],
            ["c", "2015-05-01", "series-a", "5000000", "USD", "VC1"],
            ["d", "2016-01-01", "series-c+", "90000000", "USD", "VC1"],
            ["c", "2018-02-01", "ipo", "", "", ""],
            ["e", "2019-01-01", "series-a", "5000000", "USD", "VC1;VC2"],
        ],
    )
    write_csv(
        dst / "unicorn_events.csv",
        ["company_id", "joined_on"],
        [["b", "2017-01-01"], ["d", "2014-06-01"]],
    )
    return read_package(dst)


def _row(frame: pl.DataFrame, company: str) -> dict[str, float | None]:
    return (
        frame.filter(pl.col("company_id") == company)
        .select("n_investors", "investor_hit_rate", "investor_hits")
        .row(0, named=True)
    )


def test_hit_rate_by_hand(tmp_path: Path) -> None:
    package = _hand_package(tmp_path / "p")
    late = build_features(package, dt.date(2019, 6, 30))
    # e: VC1's other picks are a, b, c (d was a unicorn before VC1 backed it); b and c are hits → 2/3
    assert _row(late, "e") == {
        "n_investors": 2.0,
        "investor_hit_rate": pytest.approx(2 / 3),
        "investor_hits": 2.0,
    }
    # a: VC1's other picks b, c, e → 2 of 3; b's own list entry never counts for b: a, c, e → 1 of 3
    assert _row(late, "a")["investor_hit_rate"] == pytest.approx(2 / 3)
    assert _row(late, "b") == {
        "n_investors": 2.0,
        "investor_hit_rate": pytest.approx(1 / 3),
        "investor_hits": 1.0,
    }
    # mid-2017: c has not listed yet, e not backed yet → VC1 has 2 other picks for a (under 3: no rate)
    early = build_features(package, dt.date(2017, 6, 30))
    assert _row(early, "a") == {"n_investors": 1.0, "investor_hit_rate": 0.0, "investor_hits": 1.0}
    # before b joined the list, nothing is a hit
    before = build_features(package, dt.date(2016, 6, 30))
    assert _row(before, "a")["investor_hits"] == 0.0
    # a company with no named investor gets zeros once the package names investors
    assert before.filter(pl.col("company_id") == "e")["investor_hits"].to_list() == [0.0]


def test_investors_named_only_later_stay_unknown(tmp_path: Path) -> None:
    """Investors first named in a round after the as-of date must not turn "unknown" into "none"."""
    package = _hand_package(tmp_path / "p")
    rounds = package.rounds.with_columns(
        pl.when(pl.col("announced_on") < dt.date(2018, 1, 1))
        .then(None)
        .otherwise(pl.col("investors"))
        .alias("investors")
    )
    changed = DataPackage(**{**package.__dict__, "rounds": rounds})
    frame = build_features(changed, dt.date(2017, 6, 30))
    assert frame["investor_hits"].null_count() == frame.height
    assert frame["n_investors"].null_count() == frame.height


def _random_package(dst: Path, seed: int) -> DataPackage:
    dst.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n, investors = 300, [f"VC{i}" for i in range(25)]
    ids = [f"c{i:03d}" for i in range(n)]
    founded = [dt.date(2005, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 3000, n)]
    write_csv(
        dst / "companies.csv",
        COMPANIES,
        [[c, c, f.isoformat(), "software", "operating"] for c, f in zip(ids, founded, strict=True)],
    )
    rows = []
    for c, f in zip(ids, founded, strict=True):
        for k in range(int(rng.integers(1, 5))):
            day = f + dt.timedelta(days=int(200 + 400 * k + rng.integers(0, 300)))
            names = ";".join(rng.choice(investors, int(rng.integers(0, 4)), replace=False))
            kind = "ipo" if rng.random() < 0.03 else "series-a"
            rows.append([c, day.isoformat(), kind, str(int(rng.lognormal(15, 1))), "USD", names])
    write_csv(dst / "rounds.csv", ROUNDS, rows)
    joined = rng.choice(ids, 30, replace=False)
    write_csv(
        dst / "unicorn_events.csv",
        ["company_id", "joined_on"],
        [
            [c, (dt.date(2008, 1, 1) + dt.timedelta(days=int(rng.integers(0, 4000)))).isoformat()]
            for c in joined
        ],
    )
    return read_package(dst)


@pytest.mark.parametrize("seed", range(4))
def test_investor_features_ignore_the_future(tmp_path: Path, seed: int) -> None:
    package = _random_package(tmp_path / "p", seed)
    as_of = dt.date(2012, 6, 30)
    past = build_features(package, as_of)
    assert past["investor_hits"].max() > 0  # the check below compares something
    assert past["investor_hit_rate"].max() > 0
    rng = np.random.default_rng(100 + seed)
    ids = package.companies["company_id"].to_list()
    m = 150
    later = [as_of + dt.timedelta(days=int(d)) for d in rng.integers(1, 3000, m)]
    extra_rounds = pl.DataFrame(
        {
            "company_id": [ids[i] for i in rng.integers(0, len(ids), m)],
            "announced_on": later,
            "round_type": [["ipo", "series-b"][i] for i in rng.integers(0, 2, m)],
            "amount": rng.lognormal(16, 1, m),
            "currency": ["USD"] * m,
            "investors": [f"VC{i % 30};NEW{i}" for i in rng.integers(0, 60, m)],
        }
    )
    extra_events = pl.DataFrame(
        {"company_id": [ids[i] for i in rng.integers(0, len(ids), 40)], "joined_on": later[:40]}
    )
    changed = DataPackage(
        **{
            **package.__dict__,
            "rounds": pl.concat(
                [package.rounds, extra_rounds.select(package.rounds.columns)], how="vertical_relaxed"
            ),
            "unicorn_events": pl.concat(
                [package.unicorn_events, extra_events.select(package.unicorn_events.columns)],
                how="vertical_relaxed",
            ),
            "fingerprint": "changed",
        }
    )
    assert_frame_equal(past, build_features(changed, as_of))
