"""Read a data package (数据包) folder into Polars frames for discovery (AI 发现).

The folder holds the CSV files of DESIGN §5: ``companies.csv`` and ``rounds.csv`` are required;
``acquisitions.csv``, ``unicorn_events.csv``, ``valuations.csv`` and ``lifecycle_events.csv`` are read when
present. Dates become :class:`polars.Date`; round labels and amounts that are not canonical (``天使轮``,
``1000万``) go through :func:`qilin.registry.parsing.parse_round_type` / ``parse_amount`` so a Chinese
package works like the Crunchbase export. Nothing here filters by date: :mod:`.features` does that.

>>> from pathlib import Path
>>> try:
...     read_package(Path("/nonexistent"))
... except DiscoveryError as error:
...     print(error.key)
data.missing_folder
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from qilin.registry.package import ROUND_TYPES
from qilin.registry.parsing import ParseError, parse_amount, parse_round_type

__all__ = ["MESSAGES", "DataPackage", "DiscoveryError", "read_package"]

MESSAGES: dict[str, tuple[str, str]] = {
    "data.missing_folder": ("数据文件夹不存在：{path}", "data folder does not exist: {path}"),
    "data.not_folder": ("不是文件夹：{path}", "not a folder: {path}"),
    "data.empty_folder": ("数据文件夹为空：{path}", "data folder is empty: {path}"),
    "data.missing_file": ("缺少必需文件 {name}（{path}）", "required file {name} is missing ({path})"),
    "data.missing_column": ("{name} 缺少必需列 {column}", "{name} lacks the required column {column}"),
    "data.bad_csv": ("无法读取 {name}：{detail}", "cannot read {name}: {detail}"),
    "data.bad_date": (
        "{name} 第 {line} 行 {column} 日期格式错误：{value!r}（应为 YYYY-MM-DD）",
        "{name} line {line}: bad date in {column}: {value!r} (expected YYYY-MM-DD)",
    ),
    "date.bad_as_of": (
        "日期格式错误：{value!r}（应为 YYYY-MM-DD）",
        "bad date: {value!r} (expected YYYY-MM-DD)",
    ),
    "date.before_rounds": (
        "截止日期 {as_of} 早于第一笔融资（{first}）：没有可用记录",
        "as-of date {as_of} is before the first round ({first}): no records to use",
    ),
    "data.no_eligible": (
        "截止日期 {as_of} 没有在营且尚未成为独角兽的企业",
        "no company is operating and not yet a unicorn on {as_of}",
    ),
    "data.no_positives": (
        "训练标签中没有正例（{as_of} 后 {horizon} 年内无企业进入独角兽榜单）",
        "no positive labels (no company joined the unicorn list within {horizon} years after {as_of})",
    ),
    "model.missing": ("模型文件不存在：{path}", "model file does not exist: {path}"),
    "model.bad_file": (
        "模型文件无法读取：{path}（{detail}）",
        "cannot read the model file {path} ({detail})",
    ),
    "model.feature_mismatch": (
        "模型的特征集与当前代码不一致（模型缺少：{missing}；模型多出：{extra}），请重新训练",
        "the model's feature set differs from the code's (missing: {missing}; extra: {extra}); retrain it",
    ),
    "horizon.invalid": (
        "预测期限应为正整数年：{value}",
        "the horizon must be a positive number of years: {value}",
    ),
}
"""Discovery's messages as (中文, English) pairs; ``str(DiscoveryError)`` is "中文 / English"."""


class DiscoveryError(Exception):
    """Bad input to discovery (a folder, a file, a date, a model file); carries a key of :data:`MESSAGES`."""

    def __init__(self, key: str, **fields: Any) -> None:
        self.key = key
        self.fields = fields
        zh, en = MESSAGES[key]
        self.zh = zh.format(**fields)
        self.en = en.format(**fields)
        super().__init__(f"{self.zh} / {self.en}")


REQUIRED: dict[str, tuple[str, ...]] = {
    "companies": ("id",),
    "rounds": ("company_id", "announced_on"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "acquisitions": ("company_id", "acquired_on"),
    "unicorn_events": ("company_id", "joined_on"),
    "valuations": ("company_id", "as_of", "value"),
    "lifecycle_events": ("company_id", "kind", "occurred_on"),
}
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": ("founded_on", "status_as_of"),
    "rounds": ("announced_on",),
    "acquisitions": ("acquired_on",),
    "unicorn_events": ("joined_on",),
    "valuations": ("as_of",),
    "lifecycle_events": ("occurred_on",),
}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CANONICAL_ROUNDS = frozenset(ROUND_TYPES)
_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class DataPackage:
    """The frames of one data package. Optional files absent from the folder are empty frames."""

    companies: pl.DataFrame
    rounds: pl.DataFrame
    acquisitions: pl.DataFrame
    unicorn_events: pl.DataFrame
    valuations: pl.DataFrame
    lifecycle_events: pl.DataFrame
    fingerprint: str
    """sha256 over the file names and bytes that were read (sorted by name)."""

    @property
    def has_investors(self) -> bool:
        return (
            "investors" in self.rounds.columns and self.rounds["investors"].null_count() < self.rounds.height
        )


def _read_csv(path: Path, name: str) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DiscoveryError("data.bad_csv", name=path.name, detail=str(error).splitlines()[0]) from error
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    for column in frame.columns:  # empty means unknown
        frame = frame.with_columns(
            pl.col(column).str.strip_chars().replace("", None).alias(column),
        )
    return frame


def _parse_dates(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    for column in DATE_COLUMNS.get(name, ()):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias(column))
            continue
        values = frame[column]
        parsed = values.str.to_date("%Y-%m-%d", strict=False)
        bad = values.is_not_null() & (parsed.is_null() | ~values.str.contains(_ISO.pattern))
        if bad.any():
            line = int(bad.arg_max() or 0)
            raise DiscoveryError(
                "data.bad_date", name=f"{name}.csv", line=line + 2, column=column, value=values[line]
            )
        frame = frame.with_columns(parsed.alias(column))
    return frame


def _empty(columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame({c: pl.Series(c, [], dtype=pl.String) for c in columns})


def _round_type(label: str | None) -> str | None:
    if label is None:
        return None
    if label in _CANONICAL_ROUNDS:
        return label
    try:
        return parse_round_type(label).round_type
    except ParseError:
        return "other"


def _amount(text: str | None, currency: str | None) -> tuple[float | None, str | None]:
    """An amount and its ISO currency. A vague amount (数千万) is the middle of its range (open-ended: its
    lower bound); undisclosed or unreadable is (None, currency)."""
    if text is None:
        return None, currency
    if currency is not None and _ISO_CURRENCY.match(currency) and _PLAIN_NUMBER.match(text):
        return float(text), currency
    try:
        parsed = parse_amount(text, currency)
    except ParseError:
        return None, currency
    value: Decimal | None = parsed.value
    if value is None and parsed.low is not None:
        value = parsed.low if parsed.high is None else (parsed.low + parsed.high) / 2
    return (float(value) if value is not None else None), parsed.currency


def _normalise_rounds(rounds: pl.DataFrame) -> pl.DataFrame:
    if "round_type" not in rounds.columns:
        rounds = rounds.with_columns(pl.lit(None, dtype=pl.String).alias("round_type"))
    for column in ("amount", "currency"):
        if column not in rounds.columns:
            rounds = rounds.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    labels = rounds["round_type"].unique().to_list()
    mapping = {label: _round_type(label) for label in labels if label is not None}
    pairs = rounds.select("amount", "currency").unique()
    parsed = [_amount(a, c) for a, c in pairs.iter_rows()]
    lookup = pairs.with_columns(
        pl.Series("amount_value", [p[0] for p in parsed], dtype=pl.Float64),
        pl.Series("amount_currency", [p[1] for p in parsed], dtype=pl.String),
    )
    return (
        rounds.with_columns(
            pl.col("round_type").replace_strict(mapping, default=None, return_dtype=pl.String)
        )
        .join(lookup, on=["amount", "currency"], how="left", nulls_equal=True)
        .drop("amount", "currency")
        .rename({"amount_value": "amount", "amount_currency": "currency"})
    )


def _valuations(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame(
            schema={"company_id": pl.String, "as_of": pl.Date, "value": pl.Float64, "currency": pl.String}
        )
    if "currency" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("currency"))
    pairs = frame.select("value", "currency").unique()
    parsed = [_amount(a, c) for a, c in pairs.iter_rows()]
    lookup = pairs.with_columns(
        pl.Series("v", [p[0] for p in parsed], dtype=pl.Float64),
        pl.Series("c", [p[1] for p in parsed], dtype=pl.String),
    )
    return (
        frame.join(lookup, on=["value", "currency"], how="left", nulls_equal=True)
        .select("company_id", "as_of", pl.col("v").alias("value"), pl.col("c").alias("currency"))
        .filter(pl.col("value").is_not_null())
    )


def read_package(folder: Path) -> DataPackage:
    """Read the data package in ``folder``; raise :class:`DiscoveryError` on a missing or empty folder, a
    missing required file or column, or a date that is not ``YYYY-MM-DD``."""
    folder = Path(folder)
    if not folder.exists():
        raise DiscoveryError("data.missing_folder", path=str(folder))
    if not folder.is_dir():
        raise DiscoveryError("data.not_folder", path=str(folder))
    if not any(folder.iterdir()):
        raise DiscoveryError("data.empty_folder", path=str(folder))
    digest = hashlib.sha256()
    frames: dict[str, pl.DataFrame] = {}
    for name, required in (REQUIRED | OPTIONAL).items():
        path = folder / f"{name}.csv"
        if not path.is_file():
            if name in REQUIRED:
                raise DiscoveryError("data.missing_file", name=path.name, path=str(folder))
            frames[name] = _parse_dates(_empty(required), name)
            continue
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
        frame = _read_csv(path, name)
        for column in required:
            if column not in frame.columns:
                raise DiscoveryError("data.missing_column", name=path.name, column=column)
        frames[name] = _parse_dates(frame, name)
    companies = frames["companies"].rename({"id": "company_id"})
    return DataPackage(
        companies=companies,
        rounds=_normalise_rounds(frames["rounds"]),
        acquisitions=frames["acquisitions"],
        unicorn_events=frames["unicorn_events"],
        valuations=_valuations(frames["valuations"]),
        lifecycle_events=frames["lifecycle_events"],
        fingerprint=digest.hexdigest(),
    )
