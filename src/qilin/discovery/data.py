"""Read a data package (数据包) folder into Polars frames for discovery (AI 发现).

The folder holds the CSV or XLSX files of DESIGN §5: companies and rounds are required; acquisitions,
unicorn events, valuations and lifecycle events are read when present. Dates become
:class:`polars.Date`; round labels and amounts that are not canonical (``天使轮``, ``1000万``) go through
:func:`qilin.registry.parsing.parse_round_type` / ``parse_amount`` so a Chinese package works like the
Crunchbase export. Nothing here filters by date: :mod:`.features` does that.

>>> from pathlib import Path
>>> try:
...     read_package(Path("/nonexistent"))
... except DiscoveryError as error:
...     print(error.key)
data.missing_folder
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from qilin.common.files import OutputError
from qilin.registry.issues import ImportIssue
from qilin.registry.package import ROUND_TYPES, STATUSES
from qilin.registry.parsing import ParseError, parse_amount, parse_round_type
from qilin.registry.reader import (
    clean_header,
    duplicate_columns,
    kind_from_columns,
    kind_from_name,
    package_files,
    read_xlsx,
)
from qilin.tiers.facts import fx_ratio

__all__ = ["MESSAGES", "NOTES", "DataNote", "DataPackage", "DiscoveryError", "read_package"]

MESSAGES: dict[str, tuple[str, str]] = {
    "data.missing_folder": ("数据文件夹不存在：{path}", "data folder does not exist: {path}"),
    "data.not_folder": ("不是文件夹：{path}", "not a folder: {path}"),
    "data.empty_folder": ("数据文件夹为空：{path}", "data folder is empty: {path}"),
    "data.missing_file": (
        "缺少必需的 {name} 表：{name}.csv、{name}.xlsx 或名为 {name} 的工作表（{path}）",
        "the required {name} table is missing: {name}.csv, {name}.xlsx or a sheet named {name} ({path})",
    ),
    "data.missing_column": ("{name} 缺少必需列 {column}", "{name} lacks the required column {column}"),
    "data.bad_csv": ("无法读取 {name}：{detail}", "cannot read {name}: {detail}"),
    "data.empty_file": (
        "{name} 是空文件（至少应有标题行）",
        "{name} is empty (it needs at least its header row)",
    ),
    "data.encoding": (
        "{name} 不是 UTF-8 编码（第 {line} 行起）：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”",
        '{name} is not UTF-8 encoded (from line {line}): save it from Excel as "CSV UTF-8 (Comma delimited)"',
    ),
    "data.bad_file": ("无法读取 {name}：{zh}", "cannot read {name}: {en}"),
    "data.duplicate_id": (
        "企业编号 {id} 重复出现（{places}）",
        "company id {id} appears more than once ({places})",
    ),
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
    "data.no_rounds": (
        "数据中没有任何融资记录：没有可用于评分的信息",
        "the data holds no funding round: there is nothing to score companies by",
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
    "date.after_today": (
        "截止日期 {as_of} 晚于今天（{today}）：还没有那天的记录",
        "as-of date {as_of} is after today ({today}): there are no records of that day yet",
    ),
    "out.unwritable": ("无法写入 {path}：{zh}", "cannot write {path}: {en}"),
    "horizon.invalid": (
        "预测期限应为 1 至 {max} 的整数年：{value}",
        "the horizon must be a whole number of years from 1 to {max}: {value}",
    ),
    "data.too_few_positives": (
        "{folds} 折交叉验证需要至少 {folds} 个正例，"
        "而 {as_of} 后 {horizon} 年内只有 {positives} 家企业进入独角兽榜单",
        "{folds}-fold cross-validation needs at least {folds} positive labels; only {positives}"
        " companies joined the unicorn list within {horizon} years after {as_of}",
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


def output_error(error: OutputError) -> DiscoveryError:
    """The bilingual refusal for an output path that cannot be written."""
    return DiscoveryError("out.unwritable", path=str(error.path), zh=error.zh, en=error.en)


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
AMOUNT_LIMIT = 1e16
"""Amounts from this size up are unreadable, as the registry's import refuses them."""
MAX_HORIZON_YEARS = 100
"""The longest horizon train and backtest accept (labels reach as-of + horizon)."""


NOTES: dict[str, tuple[str, str]] = {
    "note.orphan_rows": (
        "{name} 中有 {count} 行的企业编号不在 companies 表中，已忽略（如 {examples}）",
        "{count} row(s) of {name} name a company that is not in the companies table and are ignored"
        " (e.g. {examples})",
    ),
    "note.unreadable_amount": (
        "{name} 中有 {count} 个金额无法识别，按未披露处理（如 {examples}）",
        "{count} amount(s) in {name} could not be read and count as undisclosed (e.g. {examples})",
    ),
    "note.missing_required": (
        "{name} 中有 {count} 行缺少必填值（{columns}），已忽略（如 {examples}）",
        "{count} row(s) of {name} lack a required value ({columns}) and are ignored (e.g. {examples})",
    ),
    "note.unknown_status": (
        "companies 中有 {count} 家企业的状态不是 operating/acquired/closed/ipo，"
        "按非在营处理（如 {examples}）",
        "{count} compan(ies) have a status other than operating/acquired/closed/ipo and count as not"
        " operating (e.g. {examples})",
    ),
    "note.no_fx_rate": (
        "{name} 中有 {count} 笔金额的币种/年份没有汇率，不计入美元金额（{examples}）",
        "{count} amount(s) in {name} have no exchange rate for their currency and year and are left out of"
        " the USD figures ({examples})",
    ),
}
"""What reading kept going past, as (中文, English) pairs: shown beside the result, never silently."""


@dataclass(frozen=True)
class DataNote:
    """Something the reader set aside or could not use (one of :data:`NOTES`), with a count and examples."""

    key: str
    fields: dict[str, Any]

    def __str__(self) -> str:
        zh, en = NOTES[self.key]
        return f"{zh.format(**self.fields)} / {en.format(**self.fields)}"


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
    """sha256 over the file names and bytes that were read, kind by kind."""
    notes: tuple[DataNote, ...] = ()
    """Rows and values the reader set aside (:data:`NOTES`); the commands print them."""

    @property
    def has_investors(self) -> bool:
        return (
            "investors" in self.rounds.columns and self.rounds["investors"].null_count() < self.rounds.height
        )


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Headers trimmed (and a BOM dropped); every value trimmed, empty → null (empty means unknown)."""
    frame = frame.rename(dict(zip(frame.columns, clean_header(frame.columns), strict=True)))
    return frame.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in frame.columns)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise DiscoveryError("data.bad_csv", name=path.name, detail=error.strerror or str(error)) from error


def _read_csv(path: Path, data: bytes) -> pl.DataFrame:
    """The file's bytes parsed (bytes, not the path: Polars would read ``[`` in a file name as a glob).
    Refuses a file that is not UTF-8 (Excel's plain "CSV" on a Chinese Windows is GBK): read as UTF-8 its
    Chinese names and places would silently turn into other characters."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DiscoveryError("data.encoding", name=path.name, line=line) from None
    if not data.strip():
        raise DiscoveryError("data.empty_file", name=path.name)
    try:
        header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8")]), [])
    except csv.Error as error:  # a header cell beyond the csv module's field limit
        raise DiscoveryError("data.bad_csv", name=path.name, detail=str(error)) from error
    repeated = duplicate_columns(clean_header(header))
    if repeated:
        issue = ImportIssue(
            path.name, None, None, None, "import.duplicate_columns", {"columns": ", ".join(repeated)}
        )
        raise DiscoveryError("data.bad_file", name=path.name, zh=issue.reason("zh"), en=issue.reason("en"))
    try:
        frame = pl.read_csv(data, infer_schema=False, encoding="utf8")
    except pl.exceptions.PolarsError as error:
        raise DiscoveryError("data.bad_csv", name=path.name, detail=str(error).splitlines()[0]) from error
    return _clean(frame)


def _csv_kind(path: Path) -> str | None:
    """A CSV file's kind from its name (``rounds.csv``, ``rounds_2024.csv``) or else its header row."""
    kind = kind_from_name(path.stem)
    if kind is None:
        try:
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, csv.Error):
            return None
        kind = kind_from_columns(clean_header(header))
    return kind


@dataclass(frozen=True)
class _Source:
    """One table of a package: a CSV file or an XLSX sheet, with the line each row came from."""

    kind: str
    path: Path
    digest: bytes
    """sha256 of the file's bytes (for the package's fingerprint)."""
    label: str
    frame: pl.DataFrame
    lines: list[int] | None = None
    """Spreadsheet line of each row; None when row i is line i + 2 (a CSV with its header)."""

    def line(self, i: int) -> int:
        return self.lines[i] if self.lines is not None else i + 2


def _xlsx_sources(path: Path) -> list[_Source]:
    digest = hashlib.sha256(_read_bytes(path)).digest()
    issues: list[ImportIssue] = []
    tables = read_xlsx(path, issues)
    for issue in issues:
        if issue.key != "import.file_unknown":  # a sheet of something else (说明, notes) is not read
            raise DiscoveryError(
                "data.bad_file", name=issue.file, zh=issue.reason("zh"), en=issue.reason("en")
            )
    sources = []
    for table in tables:
        columns = {c: [row[c] for _, row in table.rows] for c in table.columns if c}
        frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
        lines = [n for n, _ in table.rows]
        sources.append(_Source(table.kind, path, digest, table.label, _clean(frame), lines))
    return sources


def _parse_dates(frame: pl.DataFrame, name: str, source: _Source | None = None) -> pl.DataFrame:
    """``frame`` with its date columns parsed (absent ones null); a value not ``YYYY-MM-DD`` is refused,
    naming the file or sheet and the line."""
    for column in DATE_COLUMNS.get(name, ()):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias(column))
            continue
        values = frame[column]
        parsed = values.str.to_date("%Y-%m-%d", strict=False)
        bad = values.is_not_null() & (parsed.is_null() | ~values.str.contains(_ISO.pattern))
        if bad.any():
            i = int(bad.arg_max() or 0)
            raise DiscoveryError(
                "data.bad_date",
                name=source.label if source is not None else f"{name}.csv",
                line=source.line(i) if source is not None else i + 2,
                column=column,
                value=values[i],
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


def _amount(text: str | None, currency: str | None) -> tuple[float | None, str | None, bool]:
    """An amount, its ISO currency, and whether the text could be read. A vague amount (数千万) is the middle
    of its range (open-ended: its lower bound); undisclosed (未披露) or unreadable is (None, currency)."""
    if text is None:
        return None, currency, True
    if currency is not None and _ISO_CURRENCY.match(currency) and _PLAIN_NUMBER.match(text):
        plain = float(text)
        return (plain, currency, True) if plain < AMOUNT_LIMIT else (None, currency, False)
    try:
        parsed = parse_amount(text, currency)
    except ParseError:
        return None, currency, False
    value: Decimal | None = parsed.value
    if value is None and parsed.low is not None:
        value = parsed.low if parsed.high is None else (parsed.low + parsed.high) / 2
    if value is not None and value >= AMOUNT_LIMIT:
        return None, parsed.currency, False
    return (float(value) if value is not None else None), parsed.currency, True


def _read_amounts(frame: pl.DataFrame, amount: str, currency: str) -> tuple[pl.DataFrame, list[str]]:
    """``frame`` with ``amount``/``currency`` replaced by the parsed value and its ISO currency (each
    distinct pair parsed once), and the texts that could not be read."""
    pairs = frame.select(amount, currency).unique()
    parsed = [_amount(a, c) for a, c in pairs.iter_rows()]
    lookup = pairs.with_columns(
        pl.Series("_value", [p[0] for p in parsed], dtype=pl.Float64),
        pl.Series("_currency", [p[1] for p in parsed], dtype=pl.String),
    )
    unreadable = sorted({str(a) for (a, _), p in zip(pairs.iter_rows(), parsed, strict=True) if not p[2]})
    out = (
        frame.join(lookup, on=[amount, currency], how="left", nulls_equal=True)
        .drop(amount, currency)
        .rename({"_value": amount, "_currency": currency})
    )
    return out, unreadable


def _post_money(rounds: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Post-money valuations (投后估值) read the way round amounts are — ``10亿`` and ``2.7亿美元``
    understood; NaN, a negative or a 10¹⁶ value unreadable — and kept as the number's text, with its ISO
    currency in ``post_money_currency`` (the round's when none is given); also the texts that could not be
    read."""
    if "post_money_valuation" not in rounds.columns:
        return rounds, []
    given = pl.col("post_money_currency") if "post_money_currency" in rounds.columns else pl.lit(None)
    rounds = rounds.with_columns(
        given.cast(pl.String).fill_null(pl.col("currency")).alias("post_money_currency")
    )
    read, unreadable = _read_amounts(rounds, "post_money_valuation", "post_money_currency")
    return read.with_columns(pl.col("post_money_valuation").cast(pl.String)), unreadable


def _normalise_rounds(rounds: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Canonical round types and parsed amounts; also the amount texts that could not be read."""
    if "round_type" not in rounds.columns:
        rounds = rounds.with_columns(pl.lit(None, dtype=pl.String).alias("round_type"))
    for column in ("amount", "currency"):
        if column not in rounds.columns:
            rounds = rounds.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    labels = rounds["round_type"].unique().to_list()
    mapping = {label: _round_type(label) for label in labels if label is not None}
    rounds = rounds.with_columns(
        pl.col("round_type").replace_strict(mapping, default=None, return_dtype=pl.String)
    )
    return _read_amounts(rounds, "amount", "currency")


def _valuations(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The valuations with a readable value; also the value texts that could not be read."""
    if frame.is_empty():
        schema = {"company_id": pl.String, "as_of": pl.Date, "value": pl.Float64, "currency": pl.String}
        return pl.DataFrame(schema=schema), []
    if "currency" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("currency"))
    values, unreadable = _read_amounts(
        frame.select("company_id", "as_of", "value", "currency"), "value", "currency"
    )
    return values.filter(pl.col("value").is_not_null()), unreadable


def _duplicate_ids(companies: pl.DataFrame, sources: list[_Source]) -> None:
    """Refuse a company id given twice, naming both places (which row is right is the user's call)."""
    ids = companies["company_id"]
    repeated = ids.is_duplicated() & ids.is_not_null()
    if not repeated.any():
        return
    value = ids.filter(repeated)[0]
    places = []
    for source in sources:
        for i in source.frame.with_row_index().filter(pl.col("id") == value)["index"]:
            places.append(f"{source.label}:{source.line(i)}")
    raise DiscoveryError("data.duplicate_id", id=value, places=", ".join(places[:2]))


def read_package(folder: Path) -> DataPackage:
    """Read the data package in ``folder``; raise :class:`DiscoveryError` on a missing or empty folder, a
    missing required file or column, a date that is not ``YYYY-MM-DD``, a damaged workbook or a company id
    given twice.

    Like the registry's import (:mod:`qilin.registry.reader`), a file's kind comes from its name
    (``rounds.csv``, ``rounds_2024.csv``), an XLSX sheet's name, or else its header row; the tables of one
    kind are stacked. Files of other kinds (operating reports, notes) are not read.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DiscoveryError("data.missing_folder", path=str(folder))
    if not folder.is_dir():
        raise DiscoveryError("data.not_folder", path=str(folder))
    if not any(folder.iterdir()):
        raise DiscoveryError("data.empty_folder", path=str(folder))
    wanted = REQUIRED | OPTIONAL
    files: dict[str, list[Path]] = {name: [] for name in wanted}
    for path in package_files(folder):
        kind = _csv_kind(path) if path.suffix.lower() == ".csv" else "xlsx"
        if kind in files or kind == "xlsx":
            files.setdefault(kind, []).append(path)
    sources: dict[str, list[_Source]] = {name: [] for name in wanted}
    for path in files.pop("xlsx", []):
        for source in _xlsx_sources(path):
            if source.kind in sources:
                sources[source.kind].append(source)
    for name, paths in files.items():
        csvs = []
        for path in paths:
            data = _read_bytes(path)
            csvs.append(_Source(name, path, hashlib.sha256(data).digest(), path.name, _read_csv(path, data)))
        sources[name][:0] = csvs
    # the fingerprint: file names and bytes, kind by kind, so a CSV package keeps its earlier fingerprint
    digest = hashlib.sha256()
    read: set[Path] = set()
    frames: dict[str, pl.DataFrame] = {}
    notes: list[DataNote] = []
    for name, required in wanted.items():
        if not sources[name]:
            if name in REQUIRED:
                raise DiscoveryError("data.missing_file", name=name, path=str(folder))
            frames[name] = _parse_dates(_empty(required), name)
            continue
        parsed = []
        for source in sources[name]:
            if source.path not in read:
                read.add(source.path)
                digest.update(source.path.name.encode() + b"\0" + source.digest)
            for column in required:
                if column not in source.frame.columns:
                    raise DiscoveryError("data.missing_column", name=source.label, column=column)
            parsed.append(_parse_dates(source.frame, name, source))
        frame = parsed[0] if len(parsed) == 1 else pl.concat(parsed, how="diagonal_relaxed")
        frames[name], note = _without_missing(frame, name, required, sources[name])
        notes.extend([note] if note is not None else [])
    companies, note = _statuses(frames["companies"].rename({"id": "company_id"}))
    notes.extend([note] if note is not None else [])
    _duplicate_ids(companies, sources["companies"])
    rounds, unreadable = _normalise_rounds(frames["rounds"])
    rounds, unreadable_post = _post_money(rounds)
    valuations, unreadable_values = _valuations(frames["valuations"])
    package = DataPackage(
        companies=companies,
        rounds=rounds,
        acquisitions=frames["acquisitions"],
        unicorn_events=frames["unicorn_events"],
        valuations=valuations,
        lifecycle_events=frames["lifecycle_events"],
        fingerprint=digest.hexdigest(),
    )
    notes.extend(_orphan_notes(package))
    for where, texts in (
        ("rounds", unreadable),
        ("rounds.post_money_valuation", unreadable_post),
        ("valuations", unreadable_values),
    ):
        if texts:
            notes.append(_note("note.unreadable_amount", where, len(texts), texts))
    notes.extend(_fx_notes(rounds, "rounds", "amount", "currency", "announced_on"))
    notes.extend(_fx_notes(valuations, "valuations", "value", "currency", "as_of"))
    return replace(package, notes=tuple(notes))


def _without_missing(
    frame: pl.DataFrame, name: str, required: tuple[str, ...], sources: list[_Source]
) -> tuple[pl.DataFrame, DataNote | None]:
    """``frame`` without the rows that leave a required value empty (a company without an id, a round
    without a date: discovery cannot place them), and the note naming where they were."""
    missing = pl.any_horizontal(pl.col(c).is_null() for c in required)
    if not frame.select(missing.any()).item():
        return frame, None
    places = [
        f"{source.label}:{source.line(i)}"
        for source in sources
        for i in source.frame.with_row_index().filter(
            pl.any_horizontal(pl.col(c).is_null() for c in required)
        )["index"]
    ]
    shown = ", ".join(places[:3]) + ("…" if len(places) > 3 else "")
    fields = {"name": name, "count": len(places), "columns": ", ".join(required), "examples": shown}
    return frame.filter(~missing), DataNote("note.missing_required", fields)


def _statuses(companies: pl.DataFrame) -> tuple[pl.DataFrame, DataNote | None]:
    """Statuses read case-blind (``Operating`` is operating); a status not of DESIGN §5's four counts as not
    operating, as before, and is noted."""
    if "status" not in companies.columns:
        return companies, None
    companies = companies.with_columns(pl.col("status").str.to_lowercase())
    unknown = companies.filter(pl.col("status").is_not_null() & ~pl.col("status").is_in(STATUSES))
    if unknown.is_empty():
        return companies, None
    examples = [f"{i} ({s})" for i, s in unknown.select("company_id", "status").iter_rows()]
    return companies, _note("note.unknown_status", "companies", unknown.height, examples)


def _note(key: str, name: str, count: int, examples: list[str]) -> DataNote:
    shown = ", ".join(examples[:3]) + ("…" if len(examples) > 3 else "")
    return DataNote(key, {"name": name, "count": count, "examples": shown})


def _orphan_notes(package: DataPackage) -> list[DataNote]:
    """Rows of the other tables whose company is not in the companies table (discovery cannot use them)."""
    known = package.companies.select("company_id")
    notes = []
    for name in ("rounds", "acquisitions", "unicorn_events", "valuations", "lifecycle_events"):
        frame: pl.DataFrame = getattr(package, name)
        orphans = frame.join(known, on="company_id", how="anti")
        if orphans.height:
            ids = orphans["company_id"].drop_nulls().unique(maintain_order=True).to_list()
            notes.append(_note("note.orphan_rows", name, orphans.height, [str(i) for i in ids]))
    return notes


def _fx_notes(frame: pl.DataFrame, name: str, amount: str, currency: str, date: str) -> list[DataNote]:
    """Amounts whose currency has no yearly rate (an unknown code, or a year before the table)."""
    known = frame.filter(pl.col(amount).is_not_null() & pl.col(currency).is_not_null())
    pairs = known.group_by(pl.col(currency), pl.col(date).dt.year().alias("year")).len()
    missing = [
        (c, y, n)
        for c, y, n in pairs.sort("currency", "year").iter_rows()
        if y is not None and c != "USD" and fx_ratio(c, "USD", y) is None
    ]
    if not missing:
        return []
    examples = [f"{c} {y}" for c, y, _ in missing]
    return [_note("note.no_fx_rate", name, sum(n for _, _, n in missing), examples)]
