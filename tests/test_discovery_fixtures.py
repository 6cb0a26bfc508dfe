"""Shared helpers for the discovery tests: a small, fast subset of the developer split and a hand-made
Chinese package. (No tests here; the other ``test_discovery_*`` modules import these.)"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "backtest" / "dev"


def write_subset(dst: Path, *, others: int = 700, seed: int = 0) -> Path:
    """Every unicorn of the dev split plus ``others`` other companies (seeded), all files filtered."""
    companies = pl.read_csv(DEV / "companies.csv", infer_schema=False)
    unicorns = pl.read_csv(DEV / "unicorn_events.csv", infer_schema=False)["company_id"]
    rest = companies.filter(~pl.col("id").is_in(unicorns.implode())).sample(others, seed=seed)
    keep = pl.concat([unicorns, rest["id"]]).unique()
    dst.mkdir(parents=True, exist_ok=True)
    for name, key in (
        ("companies", "id"),
        ("rounds", "company_id"),
        ("acquisitions", "company_id"),
        ("unicorn_events", "company_id"),
    ):
        frame = pl.read_csv(DEV / f"{name}.csv", infer_schema=False)
        frame.filter(pl.col(key).is_in(keep.implode())).write_csv(dst / f"{name}.csv")
    return dst


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_chinese_package(dst: Path) -> Path:
    """Five Zhejiang companies the model never saw, with Chinese round labels and amounts."""
    dst.mkdir(parents=True, exist_ok=True)
    write_csv(
        dst / "companies.csv",
        ["id", "name", "uscc", "founded_on", "region_code", "city", "industry_code", "category", "status"],
        [
            [
                "zj-001",
                "杭州灵犀智能科技有限公司",
                "",
                "2016-03-01",
                "330106",
                "杭州市",
                "6513",
                "人工智能",
                "operating",
            ],
            [
                "zj-002",
                "宁波海蓝新材料有限公司",
                "",
                "2014-07-15",
                "330212",
                "宁波市",
                "2661",
                "新材料",
                "operating",
            ],
            [
                "zj-003",
                "温州云帆储能科技有限公司",
                "",
                "2018-11-20",
                "330302",
                "温州市",
                "3841",
                "新能源储能",
                "",
            ],
            [
                "zj-004",
                "嘉兴星河生物制造有限公司",
                "",
                "2019-05-08",
                "330402",
                "嘉兴市",
                "2760",
                "生物制造",
                "",
            ],
            [
                "zj-005",
                "绍兴低空飞行器有限公司",
                "",
                "2020-09-09",
                "330602",
                "绍兴市",
                "3744",
                "低空经济",
                "",
            ],
        ],
    )
    write_csv(
        dst / "rounds.csv",
        ["company_id", "announced_on", "round_type", "amount", "currency", "investors"],
        [
            ["zj-001", "2017-01-10", "天使轮", "1000万", "", "杭州某天使基金"],
            ["zj-001", "2018-06-01", "A轮", "1.2亿", "", "某资本;某创投"],
            ["zj-001", "2020-03-15", "B轮", "3亿", "人民币", "某资本;某产业基金"],
            ["zj-002", "2015-05-05", "Pre-A轮", "数千万", "", ""],
            ["zj-002", "2019-09-09", "战略融资", "未透露", "", "某上市公司"],
            ["zj-003", "2019-12-01", "种子轮", "500万", "", ""],
            ["zj-003", "2021-08-08", "A+轮", "2000万美元", "", "某美元基金"],
            ["zj-004", "2020-01-01", "天使轮", "800万", "", ""],
            ["zj-005", "2021-02-02", "A轮", "1亿", "", "某国资基金"],
            ["zj-005", "2023-06-06", "C轮", "5亿", "", "某国资基金;某券商直投"],
        ],
    )
    return dst
