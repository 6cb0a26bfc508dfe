"""The demo data package (演示数据包): real public facts plus a seeded synthetic cohort (模拟企业).

``generate_package`` writes a complete data package (DESIGN.md §5) to a folder: the eight CSV files of
:data:`qilin.registry.package.FILES`, each with exactly its export header. It does not touch the database;
``qilin import`` loads the folder like any other package.

Two parts:

* **Real unicorns** (``include_real``): the Zhejiang rows of the CB Insights Global Unicorn Club
  (``data/zhejiang_unicorns_cbinsights.csv``), with ids ``CBI-<slug>``, a third-party-list valuation at the
  last snapshot and a ``unicorn_events`` row at the date joined. A 统一社会信用代码 and a region are filled
  only where ``data/zhejiang_unicorns_registry.csv`` (when present) gives a valid code: a Zhejiang-registered
  enterprise must carry one, so without it ``region_code`` stays empty and only ``city`` is filled.
* **A synthetic cohort** of ``enterprises`` Zhejiang companies, ids ``SYN-0000001`` …, every row marked
  ``synthetic = 1``. Funding histories are drawn from ``data/round_model.json`` (fitted by
  :mod:`qilin.demo.fit` from the real Crunchbase 2013 rounds): entry stage, stage progression, round sizes
  (log-normal, in USD, converted to RMB with the yearly average rate of :mod:`qilin.reference.fx`) and
  gaps. They are written the way Chinese databases write them: 天使轮 / A+轮 / 战略投资 … in ``round_type``
  and "1000万" / "1.44亿" / "2.7亿美元" / 数千万 / 未透露 in ``amount``.

Assumptions that are not fitted from data are module constants, each with the reason for its value.
Everything is drawn with NumPy from one seed, cohort-wide arrays first and then chunk by chunk
(``CHUNK`` companies, each chunk with its own child seed), so the same seed writes byte-identical files.

Run it from a shell::

    python -m qilin.demo.generate var/demo --enterprises 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from qilin.common.files import prepare_folder, write_folder_atomically
from qilin.demo.real import data_text, real_unicorns
from qilin.reference import industries, regions, tracks, uscc
from qilin.registry.package import FILES

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SYNTHETIC_SOURCE = "qilin demo (synthetic)"
FIRST_FOUNDED = dt.date(2008, 1, 1)
CHUNK = 100_000
EPOCH = dt.date(1970, 1, 1)

# --- where the cohort sits ---------------------------------------------------------------------------
# City weights: roughly each city's share of Zhejiang's high-tech enterprises (高新技术企业) and venture
# deals, rounded by hand — Hangzhou about two fifths, Ningbo about a sixth, the rest by economic size.
# An assumption for a plausible demo map, not a statistic.
CITY_WEIGHTS: Mapping[str, float] = {
    "330100": 0.385,  # 杭州
    "330200": 0.170,  # 宁波
    "330300": 0.070,  # 温州
    "330400": 0.070,  # 嘉兴
    "330500": 0.050,  # 湖州
    "330600": 0.065,  # 绍兴
    "330700": 0.060,  # 金华
    "330800": 0.020,  # 衢州
    "330900": 0.020,  # 舟山
    "331000": 0.070,  # 台州
    "331100": 0.020,  # 丽水
}
# Inside a city: districts (区) weigh 1, county-level cities (市) 0.8, counties (县) 0.35; known innovation
# hubs get the extra factor below (滨江/余杭/西湖 for Hangzhou's tech corridor, 鄞州 for Ningbo, …).
COUNTY_BOOST: Mapping[str, float] = {
    "330108": 3.0,  # 滨江区
    "330110": 3.0,  # 余杭区 (未来科技城)
    "330106": 2.5,  # 西湖区 (紫金港, 云栖)
    "330109": 1.5,  # 萧山区
    "330114": 1.5,  # 钱塘区
    "330102": 1.5,  # 上城区
    "330212": 2.0,  # 鄞州区
    "330206": 1.3,  # 北仑区
    "330203": 1.2,  # 海曙区
    "330302": 1.3,  # 鹿城区
    "330303": 1.3,  # 龙湾区
    "330402": 1.3,  # 南湖区
    "330481": 1.2,  # 海宁市
    "330521": 1.3,  # 德清县 (地理信息小镇)
    "330603": 1.2,  # 柯桥区
    "330782": 1.5,  # 义乌市
    "331002": 1.2,  # 椒江区
}
CITY_EN: Mapping[str, str] = {
    "330100": "Hangzhou",
    "330200": "Ningbo",
    "330300": "Wenzhou",
    "330400": "Jiaxing",
    "330500": "Huzhou",
    "330600": "Shaoxing",
    "330700": "Jinhua",
    "330800": "Quzhou",
    "330900": "Zhoushan",
    "331000": "Taizhou",
    "331100": "Lishui",
}
# Companies that moved in from outside the province (北上广深 channel); their 统一社会信用代码 keeps the
# original registration region, as real codes do.
RELOCATION_SHARE = 0.015
RELOCATION_FROM: tuple[str, ...] = ("110108", "110105", "310115", "310104", "440305", "440106", "320505")

# --- what they do --------------------------------------------------------------------------------------
# Track weights: Zhejiang's emphasis (digital economy first, then life sciences, chips, cars, materials).
TRACK_WEIGHTS: Mapping[str, float] = {
    "ai": 0.20,
    "biomedicine": 0.14,
    "integrated_circuits": 0.09,
    "new_energy_vehicles": 0.09,
    "high_end_materials": 0.09,
    "new_energy_storage": 0.07,
    "advanced_materials": 0.06,
    "humanoid_robots": 0.05,
    "bio_manufacturing": 0.05,
    "low_altitude_economy": 0.04,
    "metaverse": 0.04,
    "commercial_aerospace": 0.02,
    "brain_computer_interface": 0.02,
    "atomic_manufacturing": 0.02,
    "deep_sea_space": 0.02,
}
SECOND_TRACK_SHARE = 0.35
DEFAULT_TRACK_WEIGHT = 0.02
# GB/T 4754-2017 classes plausible for each track (every code is checked against the packaged table).
TRACK_INDUSTRIES: Mapping[str, tuple[str, ...]] = {
    "ai": ("6513", "6511", "6550", "6599"),
    "advanced_materials": ("3985", "3091", "2669"),
    "new_energy_storage": ("3841", "3849", "3824"),
    "bio_manufacturing": ("2761", "1495", "2661"),
    "commercial_aerospace": ("3743", "3749", "6571"),
    "low_altitude_economy": ("3963", "3744", "3741"),
    "humanoid_robots": ("3491", "3964", "3492"),
    "brain_computer_interface": ("3581", "3589", "7340"),
    "metaverse": ("6572", "6513", "3961"),
    "atomic_manufacturing": ("3562", "3985", "7320"),
    "deep_sea_space": ("3734", "3743", "6571"),
    "new_energy_vehicles": ("3612", "3670", "3841"),
    "integrated_circuits": ("6520", "3973", "3562"),
    "high_end_materials": ("3240", "2651", "3985"),
    "biomedicine": ("2761", "2720", "3581", "3584"),
}
DEFAULT_INDUSTRIES: tuple[str, ...] = ("6513", "7320")
# The trade part of the name (行业表述 + 组织形式), with its English rendering.
TRACK_SUFFIXES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "ai": (
        ("智能科技有限公司", "Intelligent Technology Co., Ltd."),
        ("信息技术有限公司", "Information Technology Co., Ltd."),
        ("数据科技有限公司", "Data Technology Co., Ltd."),
        ("科技有限公司", "Technology Co., Ltd."),
    ),
    "advanced_materials": (
        ("新材料科技有限公司", "New Material Technology Co., Ltd."),
        ("材料科技有限公司", "Material Technology Co., Ltd."),
    ),
    "new_energy_storage": (
        ("储能科技有限公司", "Energy Storage Technology Co., Ltd."),
        ("新能源科技有限公司", "New Energy Technology Co., Ltd."),
    ),
    "bio_manufacturing": (
        ("生物科技有限公司", "Biotechnology Co., Ltd."),
        ("生物工程有限公司", "Bioengineering Co., Ltd."),
    ),
    "commercial_aerospace": (
        ("航天科技有限公司", "Aerospace Technology Co., Ltd."),
        ("空间技术有限公司", "Space Technology Co., Ltd."),
    ),
    "low_altitude_economy": (
        ("航空科技有限公司", "Aviation Technology Co., Ltd."),
        ("无人机科技有限公司", "UAV Technology Co., Ltd."),
    ),
    "humanoid_robots": (
        ("机器人有限公司", "Robotics Co., Ltd."),
        ("智能装备有限公司", "Intelligent Equipment Co., Ltd."),
    ),
    "brain_computer_interface": (
        ("神经科技有限公司", "Neurotechnology Co., Ltd."),
        ("医疗科技有限公司", "Medical Technology Co., Ltd."),
    ),
    "metaverse": (
        ("数字科技有限公司", "Digital Technology Co., Ltd."),
        ("网络科技有限公司", "Network Technology Co., Ltd."),
    ),
    "atomic_manufacturing": (
        ("精密科技有限公司", "Precision Technology Co., Ltd."),
        ("纳米科技有限公司", "Nanotechnology Co., Ltd."),
    ),
    "deep_sea_space": (
        ("海洋科技有限公司", "Marine Technology Co., Ltd."),
        ("空天科技有限公司", "Aerospace Technology Co., Ltd."),
    ),
    "new_energy_vehicles": (
        ("汽车科技有限公司", "Automotive Technology Co., Ltd."),
        ("动力科技有限公司", "Power Technology Co., Ltd."),
    ),
    "integrated_circuits": (
        ("半导体有限公司", "Semiconductor Co., Ltd."),
        ("微电子有限公司", "Microelectronics Co., Ltd."),
        ("集成电路有限公司", "Integrated Circuit Co., Ltd."),
    ),
    "high_end_materials": (
        ("新材料有限公司", "New Material Co., Ltd."),
        ("高分子材料有限公司", "Polymer Material Co., Ltd."),
    ),
    "biomedicine": (
        ("生物医药有限公司", "Biopharmaceutical Co., Ltd."),
        ("医药科技有限公司", "Pharmaceutical Technology Co., Ltd."),
        ("医疗器械有限公司", "Medical Device Co., Ltd."),
    ),
}
DEFAULT_SUFFIXES: tuple[tuple[str, str], ...] = (("科技有限公司", "Technology Co., Ltd."),)
# 字号 (trade name): two generated two-character words, each a first character and a second character
# from these lists — 40 × 40 words, 2.56 million trade names per city. With pinyin for the English name.
NAME_FIRST: tuple[tuple[str, str], ...] = (
    ("鑫", "xin"), ("睿", "rui"), ("博", "bo"), ("创", "chuang"), ("华", "hua"), ("宇", "yu"),
    ("智", "zhi"), ("恒", "heng"), ("瑞", "rui"), ("泰", "tai"), ("新", "xin"), ("星", "xing"),
    ("云", "yun"), ("极", "ji"), ("光", "guang"), ("航", "hang"), ("微", "wei"), ("芯", "xin"),
    ("德", "de"), ("海", "hai"), ("天", "tian"), ("远", "yuan"), ("启", "qi"), ("明", "ming"),
    ("辰", "chen"), ("易", "yi"), ("联", "lian"), ("卓", "zhuo"), ("安", "an"), ("优", "you"),
    ("锐", "rui"), ("融", "rong"), ("众", "zhong"), ("腾", "teng"), ("弘", "hong"), ("嘉", "jia"),
    ("君", "jun"), ("凯", "kai"), ("澜", "lan"), ("灵", "ling"),
)  # fmt: skip
NAME_SECOND: tuple[tuple[str, str], ...] = (
    ("科", "ke"), ("达", "da"), ("源", "yuan"), ("诚", "cheng"), ("通", "tong"), ("和", "he"),
    ("信", "xin"), ("越", "yue"), ("驰", "chi"), ("峰", "feng"), ("图", "tu"), ("为", "wei"),
    ("维", "wei"), ("拓", "tuo"), ("成", "cheng"), ("迅", "xun"), ("捷", "jie"), ("盛", "sheng"),
    ("邦", "bang"), ("杰", "jie"), ("朗", "lang"), ("川", "chuan"), ("禾", "he"), ("辉", "hui"),
    ("坤", "kun"), ("麟", "lin"), ("立", "li"), ("铭", "ming"), ("屹", "yi"), ("途", "tu"),
    ("宏", "hong"), ("格", "ge"), ("舟", "zhou"), ("视", "shi"), ("感", "gan"), ("擎", "qing"),
    ("澄", "cheng"), ("衡", "heng"), ("帆", "fan"), ("晟", "sheng"),
)  # fmt: skip
ACQUIRER_SUFFIXES: tuple[str, ...] = ("控股集团有限公司", "科技股份有限公司", "集团股份有限公司")

# --- money -----------------------------------------------------------------------------------------------
USD_CNY_FALLBACK = 7.0  # used only when qilin.reference.fx is unavailable
# Chance that a company raises at all (its first round may still fall after as_of: about 27% of the
# cohort has a round by 2025-12-31). A provincial tracking list holds many self-funded manufacturers;
# better companies (latent quality z ~ N(0, 1)) are likelier to raise.
FUNDED_SHARE = 0.35
FUNDED_QUALITY_SLOPE = 0.15
# Crunchbase's unstaged rounds are mostly "venture" (stage unknown) rounds that Chinese databases label
# with a stage; keep half of them as 战略投资 / 新三板定增 and let the other half be staged.
UNSTAGED_KEEP = 0.5
# Round sizes: log-normal per stage from the model; a company's rounds share its quality (correlation
# QUALITY_RHO), and draws are clipped to [-2.5, 3] standard deviations (no ¥2万 or $10B rounds).
QUALITY_RHO = 0.8
# Quality also tilts the fitted progression: the chance of stopping after a round is multiplied by
# exp(-PROGRESSION_TILT · z) (then renormalised), so the companies that raise big rounds are the ones that
# go on raising. FUNDED_SHARE, PROGRESSION_TILT and the LATE_GROWTH constants were tuned together so that
# about 1.2–1.5% of the cohort is valued at ¥70亿 or more and about 6% at ¥7亿 or more. The price: funded
# companies average 2.4 rounds and 29% of staged ones reach series C, against 1.8 and 21% with the fitted
# progression alone (the Crunchbase figures: 1.8 rounds per funded company).
PROGRESSION_TILT = 1.2
# The fitted series-c+ sizes pool C, D, E …; each later letter raises exp(LATE_GROWTH + LATE_GROWTH_Q · z)
# times more (that exponent clipped to [-0.2, 0.7], at most four letters), so the best late-stage companies
# pull away as real unicorns do. No single round exceeds ROUND_CAP_USD (the largest private rounds of
# Zhejiang companies are of that order).
LATE_GROWTH = 0.0
LATE_GROWTH_Q = 0.8
LATE_GROWTH_MIN, LATE_GROWTH_MAX = -0.2, 0.7
LATE_LETTERS_MAX = 4
ROUND_CAP_USD = 8e8
SIZE_Z_MIN, SIZE_Z_MAX, UNSTAGED_ONLY_Z_MAX = -2.5, 3.0, 1.0
MIN_GAP_DAYS = 30
MAX_STAGED_ROUNDS = 12
# Written amounts: ~8% 未透露, ~11% of the rest vague (数千万 …) where a vague phrase fits the size.
UNDISCLOSED_SHARE = 0.08
VAGUE_SHARE = 0.11
# Share of rounds announced in US dollars, by size stage (seed, angel, A, B, C+, unstaged).
USD_SHARE: tuple[float, ...] = (0.02, 0.03, 0.10, 0.18, 0.30, 0.10)
# Post-money: dilution uniform in 10–25%; disclosed for 40% of exactly stated rounds.
DILUTION_LOW, DILUTION_HIGH = 0.10, 0.25
POST_MONEY_SHARE = 0.40
ESTIMATED_SHARE = 0.35  # undisclosed post-money at series A or later → an estimated valuation
SELF_DECLARED_SHARE = 0.30  # funded companies that declare a later valuation (e.g. in a 培育库 application)
INVESTORS_UNDISCLOSED = 0.05
INVESTOR_COUNT_P: tuple[float, ...] = (0.45, 0.35, 0.20)  # 1, 2 or 3 named investors

# Investors by kind; weights per round group (early, A/B, C+, strategic) below.
INVESTORS: Mapping[str, tuple[str, ...]] = {
    "angel": (
        "真格基金", "创新工场", "险峰长青", "联想之星", "英诺天使基金", "九合创投", "浙大友创",
        "赛伯乐投资", "盈动资本", "紫金港资本", "梅花创投", "阿米巴资本",
    ),
    "vc": (
        "红杉中国", "高瓴资本", "IDG资本", "经纬创投", "启明创投", "君联资本", "深创投", "达晨财智",
        "源码资本", "蓝驰创投", "松禾资本", "元禾控股", "中金资本", "华登国际", "高榕资本",
        "金沙江创投", "顺为资本", "礼来亚洲基金", "同创伟业", "毅达资本",
    ),
    "state": (
        "浙江省产业基金", "杭州资本", "浙江金控", "杭州高新金投", "宁波通商集团", "湖州产业投资",
        "绍兴产业基金", "嘉兴科技城投资", "国投创业", "中金启元",
    ),
    "corporate": (
        "阿里巴巴", "腾讯投资", "吉利控股", "海康威视", "宁德时代", "蚂蚁集团", "正泰集团", "舜宇光学",
    ),
}  # fmt: skip
INVESTOR_GROUP_WEIGHTS: Mapping[str, tuple[float, float, float, float]] = {
    #          early  A/B   C+   strategic
    "angel": (3.0, 0.5, 0.1, 0.2),
    "vc": (0.6, 3.0, 3.0, 1.0),
    "state": (1.0, 1.5, 1.5, 2.0),
    "corporate": (0.2, 0.5, 1.5, 4.0),
}

# Round labels (融资轮次), as the registry's parser reads them.
LABELS: tuple[str, ...] = (
    "种子轮", "天使轮", "天使+轮", "Pre-A轮", "A轮", "A+轮", "Pre-B轮", "B轮", "B+轮",
    "C轮", "C+轮", "D轮", "D+轮", "E轮", "F轮-上市前", "战略投资", "新三板定增",
)  # fmt: skip
_L = {label: i for i, label in enumerate(LABELS)}
# Series C and later, by how many C+ rounds came before: three patterns of letters.
C_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("C轮", "D轮", "E轮", "F轮-上市前", "F轮-上市前"),
    ("C轮", "C+轮", "D轮", "E轮", "F轮-上市前"),
    ("C轮", "D轮", "D+轮", "E轮", "F轮-上市前"),
)
NEEQ_SHARE = 0.12  # unstaged rounds of companies past series A written 新三板定增 instead of 战略投资

# --- outcomes ----------------------------------------------------------------------------------------------
# Exit chances per company over its whole history (not fitted: the back-test's exits are American and
# pre-2013). They give about 1% IPOs, 2% acquisitions and 3% closures over the cohort, IPOs only after
# series B. An acquisition is written to acquisitions.csv only (the importer makes it the lifecycle event).
P_IPO_C, P_IPO_B = 0.15, 0.03
P_ACQUIRED_FUNDED, P_ACQUIRED_UNFUNDED = 0.04, 0.01
P_CLOSED_LATE, P_CLOSED_FUNDED, P_CLOSED_UNFUNDED = 0.01, 0.05, 0.035
IPO_DETAILS: tuple[str, ...] = ("上交所科创板上市", "深交所创业板上市", "港交所主板上市", "北交所上市")
IPO_DETAIL_P: tuple[float, ...] = (0.45, 0.25, 0.20, 0.10)
ACQUISITION_PRICE_SHARE = 0.40

# Operating reports: medians by funding level (none, seed/angel, A, B, C+), in RMB and heads.
REVENUE_MEDIAN: tuple[float, ...] = (1.5e7, 3.0e6, 2.0e7, 8.0e7, 3.0e8)
NET_MARGIN_MEAN: tuple[float, ...] = (0.06, -0.8, -0.5, -0.25, -0.1)
EMPLOYEES_MEDIAN: tuple[float, ...] = (40.0, 15.0, 50.0, 150.0, 450.0)
REPORT_YEARS = 5


@dataclass(frozen=True, slots=True)
class GenerateSummary:
    """What :func:`generate_package` wrote: rows per file kind (header excluded) and where."""

    out_dir: Path
    counts: dict[str, int]
    synthetic_companies: int
    real_companies: int
    seed: int
    as_of: dt.date


# ---------------------------------------------------------------------------------------------------------
# Reference data and the model


# The day a package's history runs to unless told otherwise: fixed, so one seed gives one package.
DEFAULT_AS_OF = dt.date(2025, 12, 31)


def load_round_model(path: Path | None = None) -> dict[str, Any]:
    """The fitted round model (``data/round_model.json`` unless ``path`` is given)."""
    text = path.read_text(encoding="utf-8") if path is not None else data_text("round_model.json")
    if text is None:
        raise FileNotFoundError("qilin/demo/data/round_model.json is missing; run python -m qilin.demo.fit")
    model: dict[str, Any] = json.loads(text)
    return model


def usd_cny_rates(first_year: int, last_year: int) -> FloatArray:
    """CNY per USD for each year from ``first_year`` to ``last_year`` (yearly averages of the FX table)."""
    years = range(first_year, last_year + 1)
    try:
        from qilin.reference.fx import NoRateError, default_table
    except ImportError:  # the FX table is optional for the demo
        return np.full(len(years), USD_CNY_FALLBACK)
    try:
        table = default_table()
    except (OSError, ValueError):
        return np.full(len(years), USD_CNY_FALLBACK)
    out: list[float] = []
    for year in years:
        try:
            out.append(float(table.quote("USD", "CNY", dt.date(year, 7, 1)).rate))
        except NoRateError:
            out.append(USD_CNY_FALLBACK)
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Geography:
    county_codes: tuple[str, ...]
    county_city: IntArray  # county index → city index
    county_p: FloatArray
    city_codes: tuple[str, ...]
    city_names: tuple[str, ...]
    city_short: tuple[str, ...]
    city_en: tuple[str, ...]


@cache
def _geography() -> _Geography:
    cities = sorted(regions.zhejiang_cities(), key=lambda r: r.code)
    county_codes: list[str] = []
    county_city: list[int] = []
    weights: list[float] = []
    for ci, city in enumerate(cities):
        counties = sorted(regions.zhejiang_counties(city.code), key=lambda r: r.code)
        base = [
            (1.0 if c.name.endswith("区") else 0.8 if c.name.endswith("市") else 0.35)
            * COUNTY_BOOST.get(c.code, 1.0)
            for c in counties
        ]
        total = sum(base)
        for county, w in zip(counties, base, strict=True):
            county_codes.append(county.code)
            county_city.append(ci)
            weights.append(CITY_WEIGHTS.get(city.code, 0.02) * w / total)
    p = np.asarray(weights, dtype=np.float64)
    return _Geography(
        county_codes=tuple(county_codes),
        county_city=np.asarray(county_city, dtype=np.int64),
        county_p=p / p.sum(),
        city_codes=tuple(c.code for c in cities),
        city_names=tuple(c.name for c in cities),
        city_short=tuple(c.name.removesuffix("市") for c in cities),
        city_en=tuple(CITY_EN.get(c.code, "Zhejiang") for c in cities),
    )


@dataclass(frozen=True, slots=True)
class _TrackTable:
    codes: tuple[str, ...]
    p: FloatArray
    industry_flat: tuple[str, ...]
    industry_off: IntArray
    industry_len: IntArray
    suffix_zh: tuple[str, ...]
    suffix_en: tuple[str, ...]
    suffix_off: IntArray
    suffix_len: IntArray


@cache
def _track_table() -> _TrackTable:
    codes = tuple(sorted(tracks.all_tracks()))
    known = industries.gbt4754()
    weights = np.asarray([TRACK_WEIGHTS.get(c, DEFAULT_TRACK_WEIGHT) for c in codes], dtype=np.float64)
    flat: list[str] = []
    off: list[int] = []
    length: list[int] = []
    sfx_zh: list[str] = []
    sfx_en: list[str] = []
    s_off: list[int] = []
    s_len: list[int] = []
    for code in codes:
        classes = [c for c in TRACK_INDUSTRIES.get(code, DEFAULT_INDUSTRIES) if c in known] or [
            c for c in DEFAULT_INDUSTRIES if c in known
        ]
        off.append(len(flat))
        length.append(len(classes))
        flat.extend(classes)
        suffixes = TRACK_SUFFIXES.get(code, DEFAULT_SUFFIXES)
        s_off.append(len(sfx_zh))
        s_len.append(len(suffixes))
        sfx_zh.extend(zh for zh, _ in suffixes)
        sfx_en.extend(en for _, en in suffixes)
    return _TrackTable(
        codes=codes,
        p=weights / weights.sum(),
        industry_flat=tuple(flat),
        industry_off=np.asarray(off, dtype=np.int64),
        industry_len=np.asarray(length, dtype=np.int64),
        suffix_zh=tuple(sfx_zh),
        suffix_en=tuple(sfx_en),
        suffix_off=np.asarray(s_off, dtype=np.int64),
        suffix_len=np.asarray(s_len, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class _RoundTables:
    """The round model as arrays indexed by stage (0 seed … 4 series-c+; 5 = unstaged for sizes)."""

    entry_p: FloatArray
    progression: npt.NDArray[np.float64]  # (5, 6): P(next = stage j / none)
    gap_q: npt.NDArray[np.float64]  # (5, q)
    levels: FloatArray
    size_mu: FloatArray  # (6,)
    size_sigma: FloatArray
    after_mean: FloatArray  # (5,)
    before_first_mean: float
    only_share: float
    only_rounds_p: FloatArray
    only_gap_q: FloatArray
    first_age_q: FloatArray


def _round_tables(model: Mapping[str, Any]) -> _RoundTables:
    stages: list[str] = list(model["stages"])
    if len(stages) != 5:
        raise ValueError("the round model must have five stages")
    entry = np.asarray([float(model["entry_stage"].get(s, 0.0)) for s in stages])
    prog = np.zeros((5, 6), dtype=np.float64)
    for i, s in enumerate(stages):
        row = model["progression"][s]
        prog[i, :5] = [float(row.get(t, 0.0)) if j >= i else 0.0 for j, t in enumerate(stages)]
        prog[i, 5] = float(row.get("none", 0.0))
        prog[i] /= prog[i].sum()
    levels = np.asarray(model["quantile_levels"], dtype=np.float64)
    gap_q = np.asarray([model["gap_days"][s]["values"] for s in stages], dtype=np.float64)
    sizes = [*stages, "unstaged"]
    mu = np.asarray([float(model["round_size_usd"][s]["mu"]) for s in sizes])
    sigma = np.asarray([float(model["round_size_usd"][s]["sigma"]) for s in sizes])
    unstaged = model["unstaged"]
    only = unstaged["only_rounds"]
    only_keys = sorted(only, key=lambda k: int(k.rstrip("+")))
    only_p = np.asarray([float(only[k]) for k in only_keys])
    return _RoundTables(
        entry_p=entry / entry.sum(),
        progression=prog,
        gap_q=gap_q,
        levels=levels,
        size_mu=mu,
        size_sigma=sigma,
        after_mean=np.asarray([float(unstaged["after_stage_mean"][s]) for s in stages]),
        before_first_mean=float(unstaged["before_first_staged_mean"]),
        only_share=float(unstaged["only_share"]),
        only_rounds_p=only_p / only_p.sum(),
        only_gap_q=np.asarray(unstaged["only_gap_days"]["values"], dtype=np.float64),
        first_age_q=np.asarray(model["first_round_age_days"]["values"], dtype=np.float64),
    )


# ---------------------------------------------------------------------------------------------------------
# Small vectorised helpers


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _years(days: IntArray) -> IntArray:
    years: IntArray = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return years


def _year_end(years: IntArray) -> IntArray:
    ends: IntArray = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 1
    return ends


def _quantile_draw(rng: np.random.Generator, q: npt.NDArray[np.float64], n: int) -> FloatArray:
    """Inverse-CDF draws from evenly spaced quantiles ``q`` (last axis)."""
    pos = rng.random(n) * (q.shape[-1] - 1)
    lo = np.minimum(pos.astype(np.int64), q.shape[-1] - 2)
    frac = pos - lo
    out: FloatArray = q[..., lo] * (1 - frac) + q[..., lo + 1] * frac
    return out


def _stage_quantile_draw(rng: np.random.Generator, q: npt.NDArray[np.float64], stage: IntArray) -> FloatArray:
    pos = rng.random(stage.size) * (q.shape[1] - 1)
    lo = np.minimum(pos.astype(np.int64), q.shape[1] - 2)
    frac = pos - lo
    out: FloatArray = q[stage, lo] * (1 - frac) + q[stage, lo + 1] * frac
    return out


def _group_index(keys: IntArray) -> IntArray:
    """0, 1, 2 … within runs of equal ``keys`` (which must be grouped)."""
    n = keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.ones(n, dtype=bool)
    start[1:] = keys[1:] != keys[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    out: IntArray = np.arange(n) - first
    return out


def _group_cumsum(keys: IntArray, values: IntArray) -> IntArray:
    """Cumulative sums of ``values`` restarting at each run of equal ``keys``."""
    total = np.cumsum(values)
    before = total - values
    start = np.ones(keys.size, dtype=bool)
    start[1:] = keys[1:] != keys[:-1]
    base = np.maximum.accumulate(np.where(start, np.arange(keys.size), 0))
    out: IntArray = total - before[base]
    return out


def _round_significant(values: FloatArray, digits: int = 3) -> IntArray:
    """Positive amounts rounded to ``digits`` significant digits (at least 1), as integers."""
    values = np.maximum(values, 1.0)
    scale = 10.0 ** (np.floor(np.log10(values)) - (digits - 1))
    out: IntArray = np.maximum(np.rint(values / scale) * scale, 1).astype(np.int64)
    return out


def _take(values: Sequence[str], idx: IntArray) -> pl.Series:
    return pl.Series(values=list(values), dtype=pl.String).gather(idx)


def _dates(days: IntArray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _decimal_text(hundredths: pl.Expr) -> pl.Expr:
    """An amount in hundredths as "12", "1.5" or "1.44"."""
    whole = (hundredths // 100).cast(pl.String)
    frac = hundredths % 100
    return (
        pl.when(frac == 0)
        .then(whole)
        .when(frac % 10 == 0)
        .then(pl.concat_str([whole, pl.lit("."), (frac // 10).cast(pl.String)]))
        .otherwise(pl.concat_str([whole, pl.lit("."), frac.cast(pl.String).str.zfill(2)]))
    )


# ---------------------------------------------------------------------------------------------------------
# The cohort


@dataclass(frozen=True, slots=True)
class _Cohort:
    """Cohort-wide draws: they must be unique (names, codes) or set the chunks' shape."""

    county: IntArray
    name_key: IntArray  # 0 … 1600² − 1, unique within a city
    founded: IntArray  # days since 1970-01-01
    body_numeric: IntArray  # unique 8-digit organisation-code bodies (older registrations)
    body_ma: IntArray  # unique base-31 "MA" bodies (registrations from 2016)


def _draw_cohort(rng: np.random.Generator, n: int, start_day: int, end_day: int) -> _Cohort:
    geo = _geography()
    county = rng.choice(len(geo.county_codes), size=n, p=geo.county_p).astype(np.int64)
    city = geo.county_city[county]
    words = len(NAME_FIRST) * len(NAME_SECOND)
    space = words * words
    name_key = np.zeros(n, dtype=np.int64)
    for ci in range(len(geo.city_codes)):
        members = np.flatnonzero(city == ci)
        if members.size > space:
            raise ValueError(f"more than {space} companies in one city: names would repeat")
        name_key[members] = rng.choice(space, size=members.size, replace=False)
    # More companies are founded in later years: density rising gently over the span.
    span = end_day - start_day + 1
    founded = start_day + np.floor(span * rng.random(n) ** 0.8).astype(np.int64)
    body_numeric = rng.choice(10**8, size=n, replace=False).astype(np.int64)
    body_ma = rng.choice(31**6, size=n, replace=False).astype(np.int64)
    return _Cohort(county, name_key, founded, body_numeric, body_ma)


def _org_body(numeric: int, ma: int, founded_year: int) -> str:
    if founded_year < 2016:
        return f"{numeric:08d}"
    digits = []
    for _ in range(6):
        ma, r = divmod(ma, 31)
        digits.append(uscc.ALPHABET[r])
    return "MA" + "".join(reversed(digits))


@dataclass(slots=True)
class _Context:
    as_of: dt.date
    as_of_day: int
    rates: FloatArray  # CNY per USD, indexed by year - FIRST_FOUNDED.year
    tables: _RoundTables
    cohort: _Cohort
    id_width: int
    investor_names: tuple[str, ...]
    investor_w: npt.NDArray[np.float64]  # (4 groups, investors)
    funded_share: float


def _rate_for(ctx: _Context, days: IntArray) -> FloatArray:
    idx = np.clip(_years(days) - FIRST_FOUNDED.year, 0, ctx.rates.size - 1)
    out: FloatArray = ctx.rates[idx]
    return out


def _synthetic_chunk(rng: np.random.Generator, ctx: _Context, lo: int, hi: int) -> dict[str, pl.DataFrame]:
    m = hi - lo
    geo = _geography()
    tt = _track_table()
    rt = ctx.tables
    as_of_day = ctx.as_of_day
    county = ctx.cohort.county[lo:hi]
    city = geo.county_city[county]
    founded = ctx.cohort.founded[lo:hi]
    quality = rng.standard_normal(m)

    # --- identity, place, tracks -----------------------------------------------------------------
    ids = pl.Series("id", [f"SYN-{i:0{ctx.id_width}d}" for i in range(lo + 1, hi + 1)], dtype=pl.String)
    primary = rng.choice(len(tt.codes), size=m, p=tt.p).astype(np.int64)
    second = (primary + rng.integers(1, len(tt.codes), size=m)) % len(tt.codes)
    has_second = rng.random(m) < SECOND_TRACK_SHARE
    industry = tt.industry_off[primary] + (rng.random(m) * tt.industry_len[primary]).astype(np.int64)
    suffix = tt.suffix_off[primary] + (rng.random(m) * tt.suffix_len[primary]).astype(np.int64)
    words = len(NAME_FIRST) * len(NAME_SECOND)
    w1, w2 = np.divmod(ctx.cohort.name_key[lo:hi], words)
    n2 = len(NAME_SECOND)
    first_zh = [c for c, _ in NAME_FIRST]
    second_zh = [c for c, _ in NAME_SECOND]
    first_py = [p for _, p in NAME_FIRST]
    second_py = [p for _, p in NAME_SECOND]
    name = (
        _take(geo.city_short, city)
        + _take(first_zh, w1 // n2)
        + _take(second_zh, w1 % n2)
        + _take(first_zh, w2 // n2)
        + _take(second_zh, w2 % n2)
        + _take(tt.suffix_zh, suffix)
    )
    trade_en = (
        _take(first_py, w1 // n2)
        + _take(second_py, w1 % n2)
        + " "
        + _take(first_py, w2 // n2)
        + _take(second_py, w2 % n2)
    ).str.to_titlecase()
    name_en = _take(geo.city_en, city) + " " + trade_en + " " + _take(tt.suffix_en, suffix)
    none_m = pl.Series([None] * m, dtype=pl.String)
    track_text = pl.select(
        pl.concat_str(
            [_take(tt.codes, primary), _take(tt.codes, second).zip_with(pl.Series(has_second), none_m)],
            separator=";",
            ignore_nulls=True,
        )
    ).to_series()

    relocated = rng.random(m) < RELOCATION_SHARE
    from_region = rng.integers(0, len(RELOCATION_FROM), size=m)
    founded_years = _years(founded)
    body_numeric = ctx.cohort.body_numeric[lo:hi]
    body_ma = ctx.cohort.body_ma[lo:hi]
    codes_county = [geo.county_codes[c] for c in county.tolist()]
    reg_region = [
        RELOCATION_FROM[f] if r else c
        for c, r, f in zip(codes_county, relocated.tolist(), from_region.tolist(), strict=True)
    ]
    credit_codes = [
        uscc.build(region, _org_body(num, ma, year))
        for region, num, ma, year in zip(
            reg_region, body_numeric.tolist(), body_ma.tolist(), founded_years.tolist(), strict=True
        )
    ]

    # --- funding histories -------------------------------------------------------------------------
    p_funded = np.clip(ctx.funded_share + FUNDED_QUALITY_SLOPE * quality, 0.05, 0.98)
    funded = rng.random(m) < p_funded
    age: IntArray = np.minimum(_quantile_draw(rng, rt.first_age_q, m), 15 * 365.25).astype(np.int64)
    first_day: IntArray = founded + age
    funded &= first_day <= as_of_day
    only = funded & (rng.random(m) < rt.only_share * UNSTAGED_KEEP)
    staged = funded & ~only

    r_comp: list[IntArray] = []
    r_day: list[IntArray] = []
    r_stage: list[IntArray] = []  # -1 = unstaged
    r_size: list[IntArray] = []  # size table row: 0..4 stages, 5 unstaged-only
    comp = np.flatnonzero(staged)
    stage = rng.choice(5, size=comp.size, p=rt.entry_p).astype(np.int64)
    day = first_day[comp]
    s_comp: list[IntArray] = []
    s_day: list[IntArray] = []
    s_stage: list[IntArray] = []
    s_next: list[IntArray] = []
    for _ in range(MAX_STAGED_ROUNDS):
        if comp.size == 0:
            break
        probs = rt.progression[stage].copy()
        probs[:, 5] *= np.exp(-PROGRESSION_TILT * quality[comp])
        cum = np.cumsum(probs, axis=1)
        u = rng.random(comp.size) * cum[:, -1]
        outcome = np.minimum((u[:, None] >= cum).sum(axis=1), 5)
        gap = np.maximum(_stage_quantile_draw(rng, rt.gap_q, stage), MIN_GAP_DAYS).astype(np.int64)
        next_day = day + gap
        s_comp.append(comp)
        s_day.append(day)
        s_stage.append(stage)
        s_next.append(next_day)  # the next staged round's date, or the end of this stage's interval
        go_on = (outcome < 5) & (next_day <= as_of_day)
        comp, stage, day = comp[go_on], outcome[go_on], next_day[go_on]
    st_comp = np.concatenate(s_comp) if s_comp else np.zeros(0, dtype=np.int64)
    st_day = np.concatenate(s_day) if s_day else np.zeros(0, dtype=np.int64)
    st_stage = np.concatenate(s_stage) if s_stage else np.zeros(0, dtype=np.int64)
    st_next = np.concatenate(s_next) if s_next else np.zeros(0, dtype=np.int64)
    r_comp.append(st_comp)
    r_day.append(st_day)
    r_stage.append(st_stage)
    r_size.append(st_stage)

    # Unstaged rounds after a staged one, before the next (strategic money between stages).
    k = rng.poisson(rt.after_mean[st_stage] * UNSTAGED_KEEP)
    rep = np.repeat(np.arange(st_comp.size), k)
    lo_d = st_day[rep] + MIN_GAP_DAYS // 2
    hi_d = np.minimum(st_next[rep], as_of_day + 1) - MIN_GAP_DAYS // 2
    ok = hi_d > lo_d
    u_day = lo_d + np.floor(rng.random(rep.size) * np.maximum(hi_d - lo_d, 1)).astype(np.int64)
    ok &= u_day <= as_of_day
    r_comp.append(st_comp[rep][ok])
    r_day.append(u_day[ok])
    r_stage.append(np.full(int(ok.sum()), -1, dtype=np.int64))
    r_size.append(st_stage[rep][ok])
    # … and a few before the first staged round.
    firsts = np.flatnonzero(staged)
    kb = rng.poisson(rt.before_first_mean * UNSTAGED_KEEP, size=firsts.size)
    rep = np.repeat(firsts, kb)
    lo_d = founded[rep] + MIN_GAP_DAYS
    hi_d = first_day[rep] - MIN_GAP_DAYS // 2
    ok = hi_d > lo_d
    b_day = lo_d + np.floor(rng.random(rep.size) * np.maximum(hi_d - lo_d, 1)).astype(np.int64)
    r_comp.append(rep[ok])
    r_day.append(b_day[ok])
    r_stage.append(np.full(int(ok.sum()), -1, dtype=np.int64))
    r_size.append(np.ones(int(ok.sum()), dtype=np.int64))  # sized like an angel round
    # Companies with unstaged rounds only.
    only_idx = np.flatnonzero(only)
    counts = rng.choice(rt.only_rounds_p.size, size=only_idx.size, p=rt.only_rounds_p) + 1
    rep = np.repeat(only_idx, counts)
    gaps = np.maximum(_quantile_draw(rng, rt.only_gap_q, rep.size), MIN_GAP_DAYS).astype(np.int64)
    gaps[_group_index(rep) == 0] = 0
    o_day = first_day[rep] + _group_cumsum(rep, gaps)
    ok = o_day <= as_of_day
    r_comp.append(rep[ok])
    r_day.append(o_day[ok])
    r_stage.append(np.full(int(ok.sum()), -1, dtype=np.int64))
    r_size.append(np.full(int(ok.sum()), 5, dtype=np.int64))

    rc = np.concatenate(r_comp)
    rd = np.concatenate(r_day)
    rs = np.concatenate(r_stage)
    rz = np.concatenate(r_size)
    order = np.lexsort((rs, rd, rc))
    rc, rd, rs, rz = rc[order], rd[order], rs[order], rz[order]
    dup = np.zeros(rc.size, dtype=bool)
    dup[1:] = (rc[1:] == rc[:-1]) & (rd[1:] == rd[:-1])
    rc, rd, rs, rz = rc[~dup], rd[~dup], rs[~dup], rz[~dup]
    n_r = rc.size

    # Per-company summaries of the history.
    has_rounds = np.zeros(m, dtype=bool)
    has_rounds[rc] = True
    last_day = np.full(m, -(10**9), dtype=np.int64)
    np.maximum.at(last_day, rc, rd)
    max_rank = np.full(m, -1, dtype=np.int64)
    np.maximum.at(max_rank, rc, rs)
    # Funding level after each round (unstaged counts as at least seed/angel), cumulative per company.
    level_r = np.where(rs >= 0, np.maximum(rs, 1), 1)  # 1 seed/angel, 2 A, 3 B, 4 C+
    running = np.maximum.accumulate(rc * 8 + level_r) - rc * 8

    # --- sizes, labels, written amounts -----------------------------------------------------------
    # Label: the repeat index within (company, stage) picks 天使轮 / 天使+轮 / Pre-A轮 …
    order = np.lexsort((rd, rs, rc))
    rep_idx = np.empty(n_r, dtype=np.int64)
    rep_idx[order] = _group_index((rc * 8 + rs + 1)[order])
    label = np.full(n_r, _L["战略投资"], dtype=np.int64)
    u_lab = rng.random(n_r)
    label[(rs == 0) & (rep_idx == 0)] = _L["种子轮"]
    label[(rs == 0) & (rep_idx > 0)] = _L["天使轮"]
    angel = rs == 1
    label[angel & (rep_idx == 0)] = np.where(u_lab[angel & (rep_idx == 0)] < 0.25, _L["种子轮"], _L["天使轮"])
    label[angel & (rep_idx == 1)] = np.where(
        u_lab[angel & (rep_idx == 1)] < 0.5, _L["天使+轮"], _L["Pre-A轮"]
    )
    label[angel & (rep_idx >= 2)] = _L["Pre-A轮"]
    label[(rs == 2) & (rep_idx == 0)] = _L["A轮"]
    label[(rs == 2) & (rep_idx == 1)] = _L["A+轮"]
    label[(rs == 2) & (rep_idx >= 2)] = _L["Pre-B轮"]
    label[(rs == 3) & (rep_idx == 0)] = _L["B轮"]
    label[(rs == 3) & (rep_idx >= 1)] = _L["B+轮"]
    pattern = rng.integers(0, len(C_PATTERNS), size=m)
    c_table = np.asarray([[_L[x] for x in p] for p in C_PATTERNS], dtype=np.int64)
    late = rs == 4
    label[late] = c_table[pattern[rc[late]], np.minimum(rep_idx[late], c_table.shape[1] - 1)]
    neeq = (rs < 0) & (running >= 2) & (u_lab < NEEQ_SHARE)
    label[neeq] = _L["新三板定增"]

    z_r = QUALITY_RHO * quality[rc] + math.sqrt(1 - QUALITY_RHO**2) * rng.standard_normal(n_r)
    z_r = np.clip(z_r, SIZE_Z_MIN, np.where(rz == 5, UNSTAGED_ONLY_Z_MAX, SIZE_Z_MAX))
    growth = np.clip(LATE_GROWTH + LATE_GROWTH_Q * quality[rc], LATE_GROWTH_MIN, LATE_GROWTH_MAX)
    step_up = np.where(late, np.exp(growth * np.minimum(rep_idx, LATE_LETTERS_MAX)), 1.0)
    usd = np.minimum(np.exp(rt.size_mu[rz] + rt.size_sigma[rz] * z_r) * step_up, ROUND_CAP_USD)
    rate = _rate_for(ctx, rd)
    cny = usd * rate
    dilution = DILUTION_LOW + (DILUTION_HIGH - DILUTION_LOW) * rng.random(n_r)
    post_cny = cny / dilution

    in_usd = rng.random(n_r) < np.asarray(USD_SHARE)[rz]
    u_amt = rng.random(n_r)
    undisclosed = u_amt < UNDISCLOSED_SHARE
    vague = (
        ~undisclosed
        & (u_amt < UNDISCLOSED_SHARE + VAGUE_SHARE * (1 - UNDISCLOSED_SHARE))
        & (cny >= 1e6)
        & (cny < 1e9)
    )
    in_usd &= ~vague
    exact = ~undisclosed & ~vague
    value = np.where(in_usd, usd, cny)
    is_yi = value >= 1e8 - 5e5
    hundredths = np.rint(value / 1e6).astype(np.int64)  # 0.01亿 units
    wan = value / 1e4
    step = np.where(wan >= 1000, 100, np.where(wan >= 100, 10, 1))
    wan_r = np.maximum(np.rint(wan / step) * step, 1).astype(np.int64)
    is_yi |= wan_r >= 10000
    hundredths = np.where(is_yi, np.maximum(hundredths, 100), hundredths)
    shown = np.where(is_yi, hundredths * 1e6, wan_r * 1e4)
    vague_kind = np.where(cny < 1e7, 0, np.where(cny < 8e7, 1, np.where(cny < 1e8, 2, 3)))
    post_shown = exact & (rng.random(n_r) < POST_MONEY_SHARE)
    post_value = np.rint(shown / dilution / 1e4).astype(np.int64) * 10_000

    n_inv = rng.choice(3, size=n_r, p=np.asarray(INVESTOR_COUNT_P)) + 1
    n_inv[rng.random(n_r) < INVESTORS_UNDISCLOSED] = 0
    group = np.where(rs < 0, 3, np.where(rs <= 1, 0, np.where(rs <= 3, 1, 2)))
    race = -np.log(rng.random((n_r, len(ctx.investor_names)))) / ctx.investor_w[group]
    picks = np.argsort(race, axis=1)[:, :3] if n_r else np.zeros((0, 3), dtype=np.int64)
    none_s = pl.Series([None] * n_r, dtype=pl.String)
    inv_cols = [
        _take(ctx.investor_names, picks[:, j]).zip_with(pl.Series(n_inv > j), none_s) for j in range(3)
    ]

    amount_df = pl.DataFrame(
        {
            "h": hundredths,
            "w": wan_r,
            "yi": is_yi,
            "usd": in_usd,
            "undisclosed": undisclosed,
            "vague": vague,
            "vague_text": _take(("数百万", "数千万", "近亿", "数亿"), vague_kind),
        }
    )
    amount_text = amount_df.select(
        pl.when(pl.col("undisclosed"))
        .then(pl.lit("未透露"))
        .when(pl.col("vague"))
        .then(pl.col("vague_text"))
        .when(pl.col("yi"))
        .then(
            pl.concat_str(
                [
                    _decimal_text(pl.col("h")),
                    pl.when(pl.col("usd")).then(pl.lit("亿美元")).otherwise(pl.lit("亿")),
                ]
            )
        )
        .otherwise(
            pl.concat_str(
                [
                    pl.col("w").cast(pl.String),
                    pl.when(pl.col("usd")).then(pl.lit("万美元")).otherwise(pl.lit("万")),
                ]
            )
        )
        .alias("amount")
    )["amount"]

    # --- outcomes: IPO, acquisition, closure ------------------------------------------------------
    u_ev = rng.random(m)
    p_ipo = np.where(max_rank == 4, P_IPO_C, np.where(max_rank == 3, P_IPO_B, 0.0))
    p_acq = np.where(has_rounds, P_ACQUIRED_FUNDED, P_ACQUIRED_UNFUNDED)
    p_close = np.where(max_rank >= 3, P_CLOSED_LATE, np.where(has_rounds, P_CLOSED_FUNDED, P_CLOSED_UNFUNDED))
    kind = np.where(
        u_ev < p_ipo, 1, np.where(u_ev < p_ipo + p_acq, 2, np.where(u_ev < p_ipo + p_acq + p_close, 3, 0))
    )
    delay = np.asarray([0, 180, 60, 180])[kind]
    base = np.maximum(founded + 365, np.where(has_rounds, last_day, founded) + delay)
    window = np.where(kind == 1, np.minimum(as_of_day - base + 1, 720), as_of_day - base + 1)
    event_day = base + np.floor(rng.random(m) * np.maximum(window, 1)).astype(np.int64)
    kind = np.where((kind > 0) & (window > 0), kind, 0)
    end_day = np.where(kind > 0, event_day, as_of_day)  # last day the company reports as independent
    status = _take(("operating", "ipo", "acquired", "closed"), kind)

    companies = pl.DataFrame(
        {
            "id": ids,
            "name": name,
            "uscc": pl.Series(credit_codes, dtype=pl.String),
            "name_en": name_en,
            "founded_on": _dates(founded),
            "country": pl.Series(["CN"] * m, dtype=pl.String),
            "region_code": pl.Series(codes_county, dtype=pl.String),
            "city": _take(geo.city_names, city),
            "industry_code": _take(tt.industry_flat, industry),
            "category": pl.Series([None] * m, dtype=pl.String),
            "tracks": track_text,
            "status": status,
            "status_as_of": pl.Series([ctx.as_of] * m, dtype=pl.Date),
        }
    )

    round_ids = ids.gather(rc)
    rounds = pl.DataFrame(
        {
            "company_id": round_ids,
            "announced_on": _dates(rd),
            "round_type": _take(LABELS, label),
            "round_label": pl.Series([None] * n_r, dtype=pl.String),
            "amount": amount_text,
            "currency": pl.Series([None] * n_r, dtype=pl.String),
            "post_money_valuation": pl.Series(np.where(post_shown, post_value, 0)).zip_with(
                pl.Series(post_shown), pl.Series([None] * n_r, dtype=pl.Int64)
            ),
            "post_money_currency": pl.Series(np.where(in_usd, "USD", "CNY"), dtype=pl.String).zip_with(
                pl.Series(post_shown), none_s
            ),
            "investors": pl.select(pl.concat_str(inv_cols, separator=";", ignore_nulls=True))
            .to_series()
            .replace("", None),
        }
    )

    # --- valuations --------------------------------------------------------------------------------
    v_parts: list[pl.DataFrame] = []
    disclosed = np.flatnonzero(post_shown)
    v_parts.append(
        pl.DataFrame(
            {
                "i": rc[disclosed],
                "day": rd[disclosed],
                "value": np.rint(
                    post_value[disclosed] * np.where(in_usd[disclosed], rate[disclosed], 1.0)
                ).astype(np.int64),
                "evidence": pl.Series(["disclosed"] * disclosed.size, dtype=pl.String),
            }
        )
    )
    estimated = np.flatnonzero(~post_shown & (running >= 2) & (rng.random(n_r) < ESTIMATED_SHARE))
    noise = np.exp(0.15 * rng.standard_normal(estimated.size))
    v_parts.append(
        pl.DataFrame(
            {
                "i": rc[estimated],
                "day": rd[estimated],
                "value": _round_significant(post_cny[estimated] * noise),
                "evidence": pl.Series(["estimated"] * estimated.size, dtype=pl.String),
            }
        )
    )
    last_idx = np.full(m, -1, dtype=np.int64)
    is_last = np.ones(n_r, dtype=bool)  # rows are sorted by company, then date
    is_last[:-1] = rc[:-1] != rc[1:]
    last_idx[rc[is_last]] = np.flatnonzero(is_last)
    declares = np.flatnonzero(has_rounds & (rng.random(m) < SELF_DECLARED_SHARE))
    d_day = last_day[declares] + 90 + np.floor(rng.random(declares.size) * 450).astype(np.int64)
    keep = d_day <= end_day[declares]
    declares, d_day = declares[keep], d_day[keep]
    uplift = np.exp(0.25 + 0.25 * rng.standard_normal(declares.size))
    v_parts.append(
        pl.DataFrame(
            {
                "i": declares,
                "day": d_day,
                "value": _round_significant(post_cny[last_idx[declares]] * uplift),
                "evidence": pl.Series(["self-declared"] * declares.size, dtype=pl.String),
            }
        )
    )
    vals = pl.concat(v_parts).sort(["i", "day", "evidence"])
    v_i = vals["i"].to_numpy().astype(np.int64)
    v_day = vals["day"].to_numpy().astype(np.int64)
    valuations = pl.DataFrame(
        {
            "company_id": ids.gather(v_i),
            "as_of": _dates(v_day),
            "value": vals["value"],
            "currency": pl.Series(["CNY"] * vals.height, dtype=pl.String),
            "evidence": vals["evidence"],
        }
    )
    threshold = 1e9 * _rate_for(ctx, v_day)
    unicorn = (
        vals.filter(pl.Series(vals["value"].to_numpy() >= threshold))
        .group_by("i")
        .agg(pl.col("day").min())
        .sort("i")
    )
    unicorn_events = pl.DataFrame(
        {
            "company_id": ids.gather(unicorn["i"].to_numpy().astype(np.int64)),
            "joined_on": _dates(unicorn["day"].to_numpy().astype(np.int64)),
        }
    )

    # --- operating reports -------------------------------------------------------------------------
    last_year_all = ctx.as_of.year if (ctx.as_of.month, ctx.as_of.day) == (12, 31) else ctx.as_of.year - 1
    last_year = np.where(kind >= 2, _years(end_day) - 1, last_year_all)
    first_year = np.maximum(founded_years, last_year - (REPORT_YEARS - 1))
    n_years = np.maximum(last_year - first_year + 1, 0)
    op_c = np.repeat(np.arange(m), n_years)
    op_year = first_year[op_c] + _group_index(op_c)
    # Funding level at the end of each year: the last round on or before 31 December.
    keys_r = rc * 100_000 + rd
    keys_y = op_c * 100_000 + _year_end(op_year)
    level = np.zeros(op_c.size, dtype=np.int64)
    if n_r:
        pos = np.searchsorted(keys_r, keys_y, side="right") - 1
        pos_c = np.maximum(pos, 0)
        level = np.where((pos >= 0) & (rc[pos_c] == op_c), running[pos_c], 0)
    revenue_luck = 0.3 * rng.standard_normal(m)  # persistent: a company's revenue moves smoothly
    margin_offset = 0.15 * rng.standard_normal(m)
    age_y = np.maximum(op_year - founded_years[op_c] + 1, 1)
    age_factor = (np.minimum(age_y, 10) / 5.0) ** 0.8
    n_op = op_c.size
    qz = quality[op_c]
    revenue = (
        np.asarray(REVENUE_MEDIAN)[level]
        * age_factor
        * np.exp(0.6 * qz + revenue_luck[op_c] + 0.12 * rng.standard_normal(n_op))
    )
    margin = np.asarray(NET_MARGIN_MEAN)[level] + margin_offset[op_c] + 0.08 * rng.standard_normal(n_op)
    margin = np.clip(margin, -3.0, 0.4)
    employees = np.maximum(
        np.rint(
            np.asarray(EMPLOYEES_MEDIAN)[level]
            * age_factor**0.6
            * np.exp(0.5 * qz + 0.15 * rng.standard_normal(n_op))
        ),
        3,
    ).astype(np.int64)
    rd_ratio = 0.15 + 0.4 * rng.random(m)
    rd_staff = np.maximum(np.rint(employees * rd_ratio[op_c]), 1).astype(np.int64)
    per_head = (1.8e5 + 2.7e5 * rng.random(m))[op_c] * np.exp(0.1 * rng.standard_normal(n_op))
    patent_rate = np.exp(0.5 * rng.standard_normal(m))[op_c]
    patents = np.floor(rd_staff * 0.06 * np.minimum(age_y, 8) * patent_rate).astype(np.int64)
    if n_op:
        patents = np.maximum.accumulate(op_c * 10**9 + patents) - op_c * 10**9
    operating_reports = pl.DataFrame(
        {
            "company_id": ids.gather(op_c),
            "year": op_year,
            "revenue": np.rint(revenue).astype(np.int64),
            "net_profit": np.rint(revenue * margin).astype(np.int64),
            "employees": employees,
            "rd_expense": np.rint(rd_staff * per_head).astype(np.int64),
            "rd_staff": rd_staff,
            "invention_patents": patents,
        }
    )

    # --- lifecycle events, acquisitions, status history --------------------------------------------
    ev = np.flatnonzero(kind > 0)
    ipo = ev[kind[ev] == 1]
    closed = ev[kind[ev] == 3]
    acquired = ev[kind[ev] == 2]
    moved = np.flatnonzero(relocated)
    r_day_move = (
        founded[moved]
        + 180
        + np.floor(rng.random(moved.size) * np.maximum(end_day[moved] - founded[moved] - 179, 1)).astype(
            np.int64
        )
    )
    keep = r_day_move <= end_day[moved]
    moved, r_day_move = moved[keep], r_day_move[keep]
    ipo_detail = rng.choice(len(IPO_DETAILS), size=ipo.size, p=np.asarray(IPO_DETAIL_P))
    lifecycle = pl.concat(
        [
            pl.DataFrame(
                {
                    "i": ipo,
                    "kind": pl.Series(["ipo"] * ipo.size, dtype=pl.String),
                    "day": event_day[ipo],
                    "from_region_code": pl.Series([None] * ipo.size, dtype=pl.String),
                    "to_region_code": pl.Series([None] * ipo.size, dtype=pl.String),
                    "detail": _take(IPO_DETAILS, ipo_detail),
                }
            ),
            pl.DataFrame(
                {
                    "i": closed,
                    "kind": pl.Series(["closure"] * closed.size, dtype=pl.String),
                    "day": event_day[closed],
                    "from_region_code": pl.Series([None] * closed.size, dtype=pl.String),
                    "to_region_code": pl.Series([None] * closed.size, dtype=pl.String),
                    "detail": pl.Series(["注销"] * closed.size, dtype=pl.String),
                }
            ),
            pl.DataFrame(
                {
                    "i": moved,
                    "kind": pl.Series(["relocation"] * moved.size, dtype=pl.String),
                    "day": r_day_move,
                    "from_region_code": _take(RELOCATION_FROM, from_region[moved]),
                    "to_region_code": pl.Series([codes_county[i] for i in moved.tolist()], dtype=pl.String),
                    "detail": pl.Series(["自外省迁入"] * moved.size, dtype=pl.String),
                }
            ),
        ]
    ).sort(["i", "day", "kind"])
    lifecycle_events = lifecycle.select(
        pl.Series("company_id", ids.gather(lifecycle["i"].to_numpy().astype(np.int64))),
        pl.col("kind"),
        pl.Series("occurred_on", _dates(lifecycle["day"].to_numpy().astype(np.int64))),
        pl.col("from_region_code"),
        pl.col("to_region_code"),
        pl.col("detail"),
    )

    acq_name_idx = rng.integers(0, len(NAME_FIRST) * len(NAME_SECOND), size=acquired.size)
    acq_sfx = rng.integers(0, len(ACQUIRER_SUFFIXES), size=acquired.size)
    acquirer = (
        "浙江"
        + _take(first_zh, acq_name_idx // n2)
        + _take(second_zh, acq_name_idx % n2)
        + _take(ACQUIRER_SUFFIXES, acq_sfx)
    )
    price_known = rng.random(acquired.size) < ACQUISITION_PRICE_SHARE
    base_value = 5e7 * np.exp(0.8 * quality[acquired])
    if n_r:
        funded_acq = last_idx[acquired] >= 0
        base_value = np.where(funded_acq, post_cny[np.maximum(last_idx[acquired], 0)], base_value)
    price = _round_significant(base_value * (0.6 + 1.2 * rng.random(acquired.size)))
    acquisitions = pl.DataFrame(
        {
            "company_id": ids.gather(acquired),
            "acquired_on": _dates(event_day[acquired]),
            "acquirer_name": acquirer,
            "price_amount": pl.Series(price).zip_with(
                pl.Series(price_known), pl.Series([None] * acquired.size, dtype=pl.Int64)
            ),
            "price_currency": pl.Series(["CNY"] * acquired.size, dtype=pl.String).zip_with(
                pl.Series(price_known), pl.Series([None] * acquired.size, dtype=pl.String)
            ),
        }
    )
    hist_i = np.concatenate([ev, ev])
    hist_day = np.concatenate([founded[ev], event_day[ev]])
    hist_status = np.concatenate([np.zeros(ev.size, dtype=np.int64), kind[ev]])
    h_order = np.lexsort((hist_day, hist_i))
    status_history = pl.DataFrame(
        {
            "company_id": ids.gather(hist_i[h_order]),
            "status": _take(("operating", "ipo", "acquired", "closed"), hist_status[h_order]),
            "as_of": _dates(hist_day[h_order]),
        }
    )
    return {
        "companies": companies,
        "rounds": rounds,
        "valuations": valuations,
        "operating_reports": operating_reports,
        "unicorn_events": unicorn_events,
        "acquisitions": acquisitions,
        "lifecycle_events": lifecycle_events,
        "status_history": status_history,
    }


_DATE_COLUMNS = {
    "founded_on",
    "status_as_of",
    "announced_on",
    "as_of",
    "joined_on",
    "acquired_on",
    "occurred_on",
}
_INT_COLUMNS = {
    "value",
    "post_money_valuation",
    "price_amount",
    "year",
    "revenue",
    "net_profit",
    "employees",
    "rd_expense",
    "rd_staff",
    "invention_patents",
}


def _schema(kind: str) -> dict[str, pl.DataType]:
    out: dict[str, pl.DataType] = {}
    for col in FILES[kind].columns:
        if col == "synthetic":
            continue
        out[col] = pl.Date() if col in _DATE_COLUMNS else pl.Int64() if col in _INT_COLUMNS else pl.String()
    return out


# ---------------------------------------------------------------------------------------------------------
# Writing


class _PackageWriter:
    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.counts = dict.fromkeys(FILES, 0)
        self._files: dict[str, IO[bytes]] = {}
        for kind, spec in FILES.items():
            fh = (out_dir / f"{kind}.csv").open("wb")
            fh.write((",".join(spec.columns) + "\n").encode("utf-8"))
            self._files[kind] = fh

    def write(self, kind: str, frame: pl.DataFrame, *, synthetic: bool, source: str | None) -> None:
        if frame.height == 0:
            return
        spec = FILES[kind]
        extra: dict[str, pl.Expr] = {}
        if "source" in spec.columns and "source" not in frame.columns:
            extra["source"] = pl.lit(source, dtype=pl.String)
        extra["synthetic"] = pl.lit("1" if synthetic else None, dtype=pl.String)
        frame = frame.with_columns(**extra)
        missing = [c for c in spec.columns if c not in frame.columns]
        frame = frame.with_columns(*(pl.lit(None, dtype=pl.String).alias(c) for c in missing))
        frame.select(spec.columns).write_csv(self._files[kind], include_header=False, line_terminator="\n")
        self.counts[kind] += frame.height

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()


def generate_package(
    out_dir: Path,
    *,
    enterprises: int = 5000,
    seed: int = 20240101,
    as_of: dt.date = DEFAULT_AS_OF,
    include_real: bool = True,
    funded_share: float = FUNDED_SHARE,
    progress: Callable[[int], None] | None = None,
) -> GenerateSummary:
    """Write the demo data package to ``out_dir`` (created if needed; its eight CSV files replaced, all at
    once when every one is complete: a failed or interrupted run leaves the old files as they were). An
    ``out_dir`` that cannot be written raises :class:`~qilin.common.files.OutputError` before the work.

    >>> import tempfile
    >>> summary = generate_package(Path(tempfile.mkdtemp()), enterprises=50, seed=1)
    >>> summary.synthetic_companies, summary.counts["companies"] >= 50
    (50, True)
    """
    if enterprises < 0:
        raise ValueError("enterprises must not be negative")
    if seed < 0:
        raise ValueError("seed must not be negative")
    if not 0.0 <= funded_share <= 1.0:
        raise ValueError("funded_share must be between 0 and 1")
    if as_of < FIRST_FOUNDED:
        raise ValueError(f"as_of must be on or after {FIRST_FOUNDED.isoformat()}")
    out_dir = prepare_folder(out_dir, [f"{kind}.csv" for kind in FILES])  # before the long work
    tables = _round_tables(load_round_model())
    names: list[str] = []
    weights: list[tuple[float, float, float, float]] = []
    for kind, members in INVESTORS.items():
        names.extend(members)
        weights.extend([INVESTOR_GROUP_WEIGHTS[kind]] * len(members))
    seeds = np.random.SeedSequence(seed).spawn(1 + math.ceil(enterprises / CHUNK))
    start_day, as_of_day = _day(FIRST_FOUNDED), _day(as_of)
    ctx = _Context(
        as_of=as_of,
        as_of_day=as_of_day,
        rates=usd_cny_rates(FIRST_FOUNDED.year, as_of.year),
        tables=tables,
        cohort=_draw_cohort(np.random.default_rng(seeds[0]), enterprises, start_day, as_of_day),
        id_width=max(7, len(str(enterprises))),
        investor_names=tuple(names),
        investor_w=np.asarray(weights, dtype=np.float64).T.copy(),
        funded_share=funded_share,
    )
    real_companies = 0
    with write_folder_atomically(out_dir, [f"{kind}.csv" for kind in FILES]) as staging:
        writer = _PackageWriter(staging)
        try:
            if include_real:
                real = real_unicorns(as_of)
                real_companies = len(real.companies)
                for kind, rows in (
                    ("companies", real.companies),
                    ("valuations", real.valuations),
                    ("unicorn_events", real.unicorn_events),
                ):
                    frame = pl.DataFrame(rows, schema=_schema(kind))
                    writer.write(kind, frame, synthetic=False, source=None)
            for chunk, lo in enumerate(range(0, enterprises, CHUNK)):
                hi = min(lo + CHUNK, enterprises)
                frames = _synthetic_chunk(np.random.default_rng(seeds[1 + chunk]), ctx, lo, hi)
                for kind, frame in frames.items():
                    writer.write(kind, frame, synthetic=True, source=SYNTHETIC_SOURCE)
                if progress is not None:
                    progress(hi)
        finally:
            writer.close()
    return GenerateSummary(
        out_dir=out_dir,
        counts=dict(writer.counts),
        synthetic_companies=enterprises,
        real_companies=real_companies,
        seed=seed,
        as_of=as_of,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qilin.demo.generate", description="Write the Qilin demo data package."
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--no-real", action="store_true", help="leave out the real CB Insights unicorns")
    args = parser.parse_args(argv)
    if args.seed < 0 or args.enterprises < 0:
        parser.error("--seed and --enterprises must not be negative")
    summary = generate_package(
        args.out_dir,
        enterprises=args.enterprises,
        seed=args.seed,
        as_of=args.as_of,
        include_real=not args.no_real,
        progress=lambda done: print(f"{done:,} companies", file=sys.stderr),
    )
    for kind, count in summary.counts.items():
        print(f"{kind}.csv\t{count:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
