"""Time-honest features and labels: nothing dated after the as-of date changes them; ``status`` is never
used before it was observed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from qilin.discovery.data import DataPackage, DiscoveryError, read_package
from qilin.discovery.features import FEATURES, build_features, eligibility, labels
from test_discovery_fixtures import write_chinese_package, write_subset

AS_OF = dt.date(2011, 10, 1)
ROUND_TYPES = ["angel", "seed", "series-a", "series-b", "series-c+", "venture", "ipo", "private-equity"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> DataPackage:
    return read_package(write_subset(tmp_path_factory.mktemp("subset"), others=400))


def _future_records(package: DataPackage, seed: int) -> DataPackage:
    """``package`` with random rounds, acquisitions and unicorn events dated after AS_OF added."""
    rng = np.random.default_rng(seed)
    ids = package.companies["company_id"].to_list()
    n = int(rng.integers(1, 300))
    picked = [ids[i] for i in rng.integers(0, len(ids), n)]
    dates = [AS_OF + dt.timedelta(days=int(d)) for d in rng.integers(1, 4000, n)]
    rounds = pl.DataFrame(
        {
            "company_id": picked,
            "announced_on": dates,
            "round_type": [ROUND_TYPES[i] for i in rng.integers(0, len(ROUND_TYPES), n)],
            "amount": [float(a) if a > 1e5 else None for a in rng.lognormal(15, 2, n)],
            "currency": [["USD", "EUR", "CNY", None][i] for i in rng.integers(0, 4, n)],
        },
        schema=package.rounds.schema,
    )
    acquisitions = pl.DataFrame(
        {"company_id": picked[: n // 3], "acquired_on": dates[: n // 3]},
    ).with_columns(
        *[
            pl.lit(None, dtype=package.acquisitions.schema[c]).alias(c)
            for c in package.acquisitions.columns[2:]
        ]
    )
    events = pl.DataFrame({"company_id": picked[n // 3 :], "joined_on": dates[n // 3 :]}).with_columns(
        *[pl.lit(None, dtype=pl.String).alias(c) for c in package.unicorn_events.columns[2:]]
    )
    return DataPackage(
        companies=package.companies,
        rounds=pl.concat([package.rounds, rounds]),
        acquisitions=pl.concat([package.acquisitions, acquisitions.select(package.acquisitions.columns)]),
        unicorn_events=pl.concat([package.unicorn_events, events.select(package.unicorn_events.columns)]),
        valuations=package.valuations,
        lifecycle_events=package.lifecycle_events,
        fingerprint="changed",
    )


@pytest.mark.parametrize("seed", range(8))
def test_future_records_change_nothing(package: DataPackage, seed: int) -> None:
    changed = _future_records(package, seed)
    assert_frame_equal(build_features(package, AS_OF), build_features(changed, AS_OF))
    assert_frame_equal(eligibility(package, AS_OF), eligibility(changed, AS_OF))


def test_feature_frame_matches_registry(package: DataPackage) -> None:
    frame = build_features(package, AS_OF)
    assert frame.columns == ["company_id", *FEATURES]
    assert frame["company_id"].is_unique().all()
    assert all(isinstance(text, str) and text for text in FEATURES.values())


def test_early_labels_ignore_status(package: DataPackage) -> None:
    """A company closed or acquired by 2013 (status observed 2013-10-01) is still operating in 2011 unless a
    record dated before 2011-10-01 says otherwise; flipping every status changes nothing before 2013."""
    flipped = DataPackage(
        **{
            **package.__dict__,
            "companies": package.companies.with_columns(pl.lit("closed").alias("status")),
        }
    )
    assert_frame_equal(labels(package, AS_OF, 12), labels(flipped, AS_OF, 12))
    late = dt.date(2013, 10, 1)
    assert labels(flipped, late, 12).height == 0  # once observed, status does count
    closed = package.companies.filter(pl.col("status") == "closed")["company_id"]
    acquired_early = package.acquisitions.filter(pl.col("acquired_on") <= AS_OF)["company_id"]
    elig = eligibility(package, AS_OF)
    operating = elig.filter(pl.col("operating"))["company_id"]
    assert set(closed.to_list()) & set(operating.to_list())
    assert not set(acquired_early.to_list()) & set(operating.to_list())


def test_labels_window(package: DataPackage) -> None:
    frame = labels(package, AS_OF, 2)
    joined = frame.filter(pl.col("label"))["joined_on"]
    assert joined.min() > AS_OF
    assert joined.max() <= dt.date(2013, 10, 1)


def test_fx_and_chinese_amounts(tmp_path: Path) -> None:
    package = read_package(write_chinese_package(tmp_path / "zj"))
    assert set(package.rounds["round_type"].to_list()) >= {"angel", "series-a", "series-b", "seed"}
    frame = build_features(package, dt.date(2021, 12, 31)).filter(pl.col("company_id") == "zj-001")
    total = frame["total_raised_usd"][0]
    # 1000万 + 1.2亿 + 3亿 yuan at the 2017/2018/2020 yearly rates: about US$63M
    assert 55e6 < total < 70e6
    assert frame["highest_stage"][0] == 3
    assert frame["n_investors"][0] == 4
    undisclosed = build_features(package, dt.date(2021, 12, 31)).filter(pl.col("company_id") == "zj-002")
    assert undisclosed["n_rounds"][0] == 2


@pytest.mark.parametrize(
    ("files", "key"),
    [
        ({}, "data.empty_folder"),
        ({"rounds.csv": "company_id,announced_on\n"}, "data.missing_file"),
        ({"companies.csv": "id,name\na,A\n"}, "data.missing_file"),
        (
            {
                "companies.csv": "id,name,founded_on\na,A,2011/01/01\n",
                "rounds.csv": "company_id,announced_on\n",
            },
            "data.bad_date",
        ),
    ],
)
def test_bad_packages(tmp_path: Path, files: dict[str, str], key: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(DiscoveryError) as error:
        read_package(tmp_path)
    assert error.value.key == key
    assert " / " in str(error.value)
    with pytest.raises(DiscoveryError, match="不存在"):
        read_package(tmp_path / "missing")
