"""Rebuild the shipped model (随包模型) ``models/default.json`` from the developer split in one command::

    python -m qilin.discovery.build [--data data/backtest/dev] [--out src/qilin/discovery/models/default.json]

Trains at as-of 2013-10-01 with a 12-year horizon (the labels known by the 2025 unicorn list), runs the
5-fold cross-validated back-test with the same parameters, and writes the model with its back-test metrics
in the metadata. Deterministic given the seed: the same data and libraries give the same file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from qilin.discovery.backtest import cross_validate
from qilin.discovery.data import read_package
from qilin.discovery.model import DEFAULT_MODEL_PATH, save_model, train

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = ROOT / "data" / "backtest" / "dev"
AS_OF = dt.date(2013, 10, 1)
HORIZON_YEARS = 12
SEED = 0
PARAMS: dict[str, Any] = {"random_state": SEED}
"""The shipped model's parameters (the others are UnicornModel's defaults)."""
DEFAULT_DATA_NAME = {
    "zh": "开发集：Crunchbase 2013 年导出的美国企业（CC-BY），独角兽名单快照 2015–2025",
    "en": "developer split: US companies of the Crunchbase 2013 export (CC-BY), unicorn list snapshots"
    " 2015–2025",
}
"""What the back-test was measured on, shown beside it (the platform's users score other companies)."""


def build(data: Path = DEFAULT_DATA, out: Path = DEFAULT_MODEL_PATH, *, n_boot: int = 200) -> dict[str, Any]:
    """Train, back-test and write the shipped model; return its metadata."""
    package = read_package(data)
    started = time.perf_counter()
    model, metadata = train(package, as_of=AS_OF, horizon_years=HORIZON_YEARS, params=PARAMS)
    seconds = time.perf_counter() - started
    report = cross_validate(package, AS_OF, HORIZON_YEARS, folds=5, seed=SEED, n_boot=n_boot, params=PARAMS)
    metadata["backtest"] = report.as_dict()
    same = data.resolve() == DEFAULT_DATA.resolve()
    metadata["backtest"]["data"] = DEFAULT_DATA_NAME if same else {"zh": data.name, "en": data.name}
    metadata["backtest_command"] = (
        f"qilin discover backtest --data data/backtest/dev --as-of {AS_OF} --horizon-years {HORIZON_YEARS}"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, out, metadata)
    print(f"trained in {seconds:.1f} s → {out}")
    return metadata


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    args = parser.parse_args(argv)
    build(args.data, args.out)


if __name__ == "__main__":
    main()
