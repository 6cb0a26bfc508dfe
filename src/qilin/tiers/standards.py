"""Tier standards (遴选标准) as versioned data: YAML files in ``qilin/tiers/standards/``.

A standard lists its tiers from the highest down; an enterprise gets the highest tier whose criteria all
pass. A tier has either ``criteria`` (all must pass) or ``any_of`` (alternatives, each a list of criteria).
Each criterion is a one-key mapping from a name in :data:`CRITERIA` to its parameter::

    id: gbt-41464-2022
    version: 1
    effective_from: 2022-04-15
    tiers:
      - tier: unicorn
        criteria:
          - max_age_years: 10
          - min_valuation: {amount: 1000000000, currency: USD}

Several files may hold versions of one standard; their effective periods must not overlap. A version
without ``effective_to`` is in force until a later version (higher number, later ``effective_from``) takes
over, so a new version is added without editing the one before it. A file that is not UTF-8, is malformed,
names an unknown criterion or tier, or overlaps another version is refused with its line.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from qilin.common.currency import KNOWN
from qilin.common.messages import both
from qilin.reference import regions, tracks

TIER_CODES: tuple[str, ...] = (
    "super_unicorn",
    "unicorn",
    "potential_unicorn",
    "quasi_unicorn",
    "seed",
    "none",
)
TIER_NAMES: dict[str, tuple[str, str]] = {
    "super_unicorn": ("超级独角兽", "super unicorn"),
    "unicorn": ("独角兽", "unicorn"),
    "potential_unicorn": ("潜在独角兽", "potential unicorn"),
    "quasi_unicorn": ("准独角兽", "quasi-unicorn"),
    "seed": ("种子独角兽", "seed unicorn"),
    "none": ("未入库", "none"),
}
# Criterion name → kind of parameter it takes.
CRITERIA: dict[str, str] = {
    "registered_in_mainland": "flag",
    "registered_in_province": "region",
    "operating": "flag",
    "not_listed": "flag",
    "has_private_financing": "flag",
    "max_age_years": "years",
    "min_age_years": "years",
    "min_valuation": "money",
    "min_cumulative_financing": "money",
    "in_tracks": "tracks",
}


class StandardError(ValueError):
    """A standard file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Threshold:
    cents: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.cents) / 100


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    param: Any  # True / region code / int years / Threshold / tuple of track codes


@dataclass(frozen=True, slots=True)
class TierRule:
    tier: str
    alternatives: tuple[tuple[Criterion, ...], ...]  # one tuple for plain ``criteria``


@dataclass(frozen=True, slots=True)
class Standard:
    id: str
    version: int
    name_zh: str
    name_en: str
    source: str
    effective_from: dt.date
    effective_to: dt.date | None
    tiers: tuple[TierRule, ...]
    path: str
    line: int = 0  # of effective_from, for messages about versions

    def effective_on(self, date: dt.date) -> bool:
        return self.effective_from <= date and (self.effective_to is None or date <= self.effective_to)

    @property
    def key(self) -> str:
        return f"{self.id}@v{self.version}"


class _Loader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, message: str) -> StandardError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return StandardError(f"{self.path}{line}: {message}")

    def mapping(self, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping / 应为键值映射")
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, "keys must be plain names / 键应为名称")
            if key.value in out:
                raise self.fail(key, f"duplicate key {key.value!r} / 重复的键")
            out[key.value] = value
        return out

    def scalar(self, node: yaml.Node, what: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value / 应为单个值")
        try:
            return yaml.safe_load(yaml.serialize(node))
        except (yaml.YAMLError, ValueError) as exc:  # e.g. 2022-13-01, or an unsafe tag
            raise self.fail(node, f"{what}: {exc} / 无法读取的值") from None

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list / 应为非空列表")
        return list(node.value)

    def date(self, node: yaml.Node, what: str) -> dt.date:
        value = self.scalar(node, what)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        raise self.fail(node, f"{what} must be an ISO date YYYY-MM-DD / 应为日期")

    def text(self, fields: dict[str, yaml.Node], key: str, root: yaml.Node, *, required: bool = True) -> str:
        if key not in fields:
            if required:
                raise self.fail(root, f"missing {key!r} / 缺少 {key}")
            return ""
        value = self.scalar(fields[key], key)
        if not isinstance(value, str | int) or str(value).strip() == "":
            raise self.fail(fields[key], f"{key} must be text / 应为文本")
        return str(value)

    def criterion(self, node: yaml.Node) -> Criterion:
        fields = self.mapping(node, "a criterion")
        if len(fields) != 1:
            raise self.fail(node, "a criterion is one 'name: parameter' pair / 每条标准只含一个名称")
        ((name, value),) = fields.items()
        kind = CRITERIA.get(name)
        if kind is None:
            known = ", ".join(CRITERIA)
            raise self.fail(node, f"unknown criterion {name!r} (known: {known}) / 未知的标准项")
        if kind == "flag":
            if self.scalar(value, name) is not True:
                raise self.fail(value, f"{name} takes 'true' / 应为 true")
            return Criterion(name, True)
        if kind == "years":
            years = self.scalar(value, name)
            if not isinstance(years, int) or isinstance(years, bool) or not 0 < years <= 100:
                raise self.fail(value, f"{name} takes a whole number of years / 应为整数年")
            return Criterion(name, years)
        if kind == "region":
            code = str(self.scalar(value, name))
            region = regions.get(code)
            if region is None or region.level != "province":
                raise self.fail(value, f"{name} takes a province code such as 330000 / 应为省级行政区划代码")
            return Criterion(name, code)
        if kind == "tracks":
            items = [str(self.scalar(v, name)) for v in self.sequence(value, name)]
            resolved: list[str] = []
            for item, item_node in zip(items, value.value, strict=True):
                if item in ("emerging", "future", "key_field"):
                    resolved.extend(t.code for t in tracks.all_tracks().values() if t.group == item)
                elif tracks.resolve(item):
                    resolved.append(tracks.resolve(item) or item)
                else:
                    raise self.fail(item_node, f"unknown track or group {item!r} / 未知的赛道")
            return Criterion(name, tuple(dict.fromkeys(resolved)))
        money = self.mapping(value, name)
        if set(money) != {"amount", "currency"}:
            raise self.fail(value, f"{name} takes {{amount, currency}} / 应含金额与币种")
        currency = str(self.scalar(money["currency"], "currency")).upper()
        if currency not in KNOWN:
            raise self.fail(money["currency"], f"unknown currency {currency!r} / 未知币种")
        try:
            amount = Decimal(str(self.scalar(money["amount"], "amount")))
            valid = amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))
        except InvalidOperation:
            valid = False
        if not valid:
            raise self.fail(
                money["amount"], "amount must be a positive number, at most 2 decimals / 金额无效"
            )
        return Criterion(name, Threshold(int(amount * 100), currency))

    def criteria(self, node: yaml.Node) -> tuple[Criterion, ...]:
        return tuple(self.criterion(c) for c in self.sequence(node, "criteria"))

    def tier(self, node: yaml.Node) -> TierRule:
        fields = self.mapping(node, "a tier")
        code = self.text(fields, "tier", node)
        if code not in TIER_CODES or code == "none":
            raise self.fail(
                fields["tier"], f"unknown tier {code!r} (known: {', '.join(TIER_CODES[:-1])}) / 未知梯队"
            )
        unknown = set(fields) - {"tier", "criteria", "any_of", "name_zh", "note"}
        if unknown:
            raise self.fail(node, f"unknown keys {sorted(unknown)} / 未知的键")
        if ("criteria" in fields) == ("any_of" in fields):
            raise self.fail(
                node, "a tier has either 'criteria' or 'any_of' / 梯队应有 criteria 或 any_of 之一"
            )
        if "criteria" in fields:
            return TierRule(code, (self.criteria(fields["criteria"]),))
        alternatives = []
        for alt in self.sequence(fields["any_of"], "any_of"):
            alt_fields = self.mapping(alt, "an alternative")
            if set(alt_fields) != {"criteria"}:
                raise self.fail(alt, "each alternative holds 'criteria' / 每个备选条件组应含 criteria")
            alternatives.append(self.criteria(alt_fields["criteria"]))
        return TierRule(code, tuple(alternatives))

    def load(self, text: str) -> Standard:
        try:
            root = yaml.compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise StandardError(f"{self.path}{line}: not valid YAML / 不是有效的 YAML: {exc}") from None
        if root is None:
            raise StandardError(f"{self.path}: empty file / 空文件")
        fields = self.mapping(root, "a standard")
        unknown = set(fields) - {"id", "version", "name_zh", "name_en", "source", "effective_from",
                                 "effective_to", "tiers", "note"}  # fmt: skip
        if unknown:
            raise self.fail(root, f"unknown keys {sorted(unknown)} / 未知的键")
        version = self.scalar(fields["version"], "version") if "version" in fields else None
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail(
                fields.get("version", root), "version must be a whole number ≥ 1 / 版本号应为正整数"
            )
        if "effective_from" not in fields:
            raise self.fail(root, "missing 'effective_from' / 缺少生效日期")
        effective_from = self.date(fields["effective_from"], "effective_from")
        effective_to = None
        if "effective_to" in fields and self.scalar(fields["effective_to"], "effective_to") is not None:
            effective_to = self.date(fields["effective_to"], "effective_to")
            if effective_to < effective_from:
                raise self.fail(
                    fields["effective_to"], "effective_to is before effective_from / 失效日期早于生效日期"
                )
        if "tiers" not in fields:
            raise self.fail(root, "missing 'tiers' / 缺少 tiers")
        tier_nodes = self.sequence(fields["tiers"], "tiers")
        rules = tuple(self.tier(t) for t in tier_nodes)
        for (earlier, later), node in zip(itertools.pairwise(rules), tier_nodes[1:], strict=True):
            if TIER_CODES.index(later.tier) <= TIER_CODES.index(earlier.tier):
                raise self.fail(
                    node, "tiers must be listed once each, highest first / 梯队应由高到低各列一次"
                )
        return Standard(
            id=self.text(fields, "id", root),
            version=version,
            name_zh=self.text(fields, "name_zh", root),
            name_en=self.text(fields, "name_en", root),
            source=self.text(fields, "source", root, required=False),
            effective_from=effective_from,
            effective_to=effective_to,
            tiers=rules,
            path=self.path,
            line=fields["effective_from"].start_mark.line + 1,
        )


def load_standard(text: str, *, path: str = "<standard>") -> Standard:
    """Parse and check one standard file."""
    return _Loader(path).load(text)


def read_standard(path: Path, *, name: str | None = None) -> Standard:
    """Read, parse and check the standard file at ``path`` (named ``name`` in messages, else its path).
    A file that cannot be read or is not UTF-8 (a BOM is accepted) is refused in both languages."""
    shown = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        error = exc.strerror or str(exc)
        raise StandardError(both("tiers.standard_unreadable", path=shown, error=error)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StandardError(both("tiers.standard_not_utf8", path=shown, position=exc.start + 1)) from None
    return load_standard(text, path=shown)


def same_rules(a: Standard, b: Standard) -> bool:
    """Whether ``a`` and ``b`` are the same version with the same content, wherever their files are."""
    return replace(a, path=b.path, line=b.line) == b


def _superseded(earlier: Standard, later: Standard) -> bool:
    """An open-ended version ends where a later, higher-numbered version begins."""
    return (
        earlier.effective_to is None
        and later.version > earlier.version
        and later.effective_from > earlier.effective_from
    )


def check_versions(standards: list[Standard]) -> None:
    """Refuse two versions of one standard whose effective periods overlap, or a repeated version. An
    open-ended version followed by a later, higher-numbered one is not an overlap: it is superseded."""
    by_id: dict[str, list[Standard]] = {}
    for s in standards:
        by_id.setdefault(s.id, []).append(s)
    far = dt.date.max
    for versions in by_id.values():
        versions.sort(key=lambda s: s.effective_from)
        seen: dict[int, Standard] = {}
        for s in versions:
            if s.version in seen:
                raise StandardError(
                    f"{s.path}:{s.line}: version {s.version} of {s.id} also in {seen[s.version].path}"
                    " / 版本号重复"
                )
            seen[s.version] = s
        for earlier, later in itertools.pairwise(versions):
            if (earlier.effective_to or far) >= later.effective_from and not _superseded(earlier, later):
                raise StandardError(
                    f"{later.path}:{later.line}: effective from {later.effective_from} "
                    f"overlaps {earlier.path} "
                    f"(effective until {earlier.effective_to or '—'}) / 生效期重叠"
                )


def load_folder(folder: Path) -> list[Standard]:
    standards = [read_standard(p, name=p.name) for p in sorted(folder.glob("*.yaml"))]
    check_versions(standards)
    return standards


@cache
def packaged_standards() -> tuple[Standard, ...]:
    """The standards shipped in ``qilin/tiers/standards/``."""
    folder = resources.files("qilin.tiers").joinpath("standards")
    standards = [
        load_standard(entry.read_text(encoding="utf-8"), path=entry.name)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]
    check_versions(standards)
    return tuple(standards)


def all_standards() -> tuple[Standard, ...]:
    """The shipped standards plus those an administrator placed in ``QILIN_STANDARDS_DIR`` (new versions
    need no code: a YAML file there is checked against the others, overlaps refused)."""
    from qilin.config import get_settings

    folder = get_settings().standards_dir
    if folder is None:
        return packaged_standards()
    extra = [read_standard(p) for p in sorted(folder.glob("*.yaml"))]
    standards = [*packaged_standards(), *extra]
    check_versions(standards)
    return tuple(standards)


DEFAULT_STANDARD = "zhejiang-2024"


class UnknownStandardError(LookupError):
    pass


def resolve(
    standard_id: str, on: dt.date, standards: tuple[Standard, ...] | None = None
) -> tuple[Standard, bool]:
    """The version of ``standard_id`` in force on ``on``, and whether it is applied retroactively (the date
    precedes every version: the earliest is used, and the result says so).

    Versions do not overlap (:func:`check_versions`), so the version in force is the latest to have taken
    effect: an open-ended version gives way to its successor, and after an expired version with no
    successor the latest one still describes the rules."""
    available = standards or all_standards()
    versions = [s for s in available if s.id == standard_id]
    if not versions:
        known = ", ".join(sorted({s.id for s in available}))
        raise UnknownStandardError(f"未知的标准 / unknown standard {standard_id!r} (known: {known})")
    earlier = [s for s in versions if s.effective_from <= on]
    if earlier:
        return max(earlier, key=lambda s: s.effective_from), False
    return min(versions, key=lambda s: s.effective_from), True
