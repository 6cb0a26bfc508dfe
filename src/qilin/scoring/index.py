"""Index definitions (指标体系): indicator trees kept as YAML data in ``scoring/indexes/*.yaml``.

An index file has groups (一级指标) of leaves (二级指标); every leaf names an indicator of
:data:`qilin.scoring.indicators.INDICATORS`, its direction, its normalisation and the imputation of a
missing value — all four explicitly, there are no defaults — and optionally ``winsorize: [0.05, 0.95]``,
quantiles of the observed values at which the column is clipped before normalising (缩尾), so that one
outlier does not squash everyone else into a corner of a min-max scale::

    id: example
    title_zh: 示例
    title_en: Example
    ranking: weighted_sum            # or topsis
    weights:
      method: combined               # ahp | entropy | combined
      alpha: 0.5                     # combined only: the AHP share
      combine: linear                # combined only, optional: linear (default) | multiplicative
    pairwise:                        # AHP matrix among the groups, in listed order (Saaty 1–9 scale)
      - [1, 3]
      - [1/3, 1]
    groups:
      - id: innovation
        name_zh: 创新能力
        name_en: Innovation
        pairwise: [[1, 2], [1/2, 1]] # AHP matrix among this group's indicators
        indicators:
          - {indicator: rd_intensity, direction: benefit, normalize: min-max, missing: median}
          - {indicator: invention_patents, direction: benefit, normalize: min-max, missing: zero,
             winsorize: [0, 0.95]}
      - id: profit
        name_zh: 盈利模式
        name_en: Profit model
        indicators:
          - {indicator: net_margin, direction: benefit, normalize: z-score, missing: exclude}

Imputations: ``median`` or ``min`` of the observed values (``min`` is the smallest value whatever the
direction), ``zero``, or ``exclude`` (an enterprise missing the indicator is not ranked). A group may carry
a free-text ``description``. A group or a root with one child needs no matrix. A file that is not valid
YAML, has an unknown or repeated key, names an unknown indicator, or holds a pairwise matrix that is not
reciprocal on the Saaty scale or whose consistency ratio is 0.10 or more is refused with an
:class:`~qilin.scoring.errors.IndexFileError` naming the file and the line.
"""

from __future__ import annotations

import errno
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from qilin.common.files import OutputError
from qilin.scoring.errors import (
    Bilingual,
    InconsistentMatrixError,
    IndexFileError,
    IndexNotFoundError,
    IndexUnreadableError,
)
from qilin.scoring.indicators import INDICATORS
from qilin.scoring.messages import t
from qilin.scoring.normalize import DIRECTIONS, METHODS, Direction, Method
from qilin.scoring.rank import RANKING_METHODS, RankingMethod
from qilin.scoring.weights import (
    COMBINE_METHODS,
    RANDOM_INDEX,
    SAATY_MAX,
    SAATY_MIN,
    AhpResult,
    CombineMethod,
    ahp,
)

INDEX_DIR = Path(__file__).resolve().parent / "indexes"
DEFAULT_INDEX = "zhejiang-key-2024"

Imputation = Literal["median", "min", "zero", "exclude"]
IMPUTATIONS: tuple[Imputation, ...] = ("median", "min", "zero", "exclude")
WeightMethod = Literal["ahp", "entropy", "combined"]
WEIGHT_METHODS: tuple[WeightMethod, ...] = ("ahp", "entropy", "combined")

_RECIPROCAL_TOLERANCE = 0.02  # 0.33 is accepted as the mirror of 3
_SCALE_TOLERANCE = 1e-3  # 0.111 is accepted as 1/9
_FRACTION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True, slots=True)
class Leaf:
    """A leaf (二级指标): the indicator and how it is oriented, normalised and imputed."""

    indicator: str
    direction: Direction
    normalize: Method
    missing: Imputation
    line: int
    winsorize: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A group (一级指标) with its leaves and, for AHP, its matrix's weights and consistency."""

    id: str
    name_zh: str
    name_en: str
    leaves: tuple[Leaf, ...]
    ahp: AhpResult | None
    line: int


@dataclass(frozen=True, slots=True)
class WeightSpec:
    """Where the weights come from; ``alpha`` is the AHP share of a combination."""

    method: WeightMethod
    alpha: float | None = None
    combine: CombineMethod = "linear"


@dataclass(frozen=True, slots=True)
class IndexDefinition:
    """A loaded, validated index file."""

    id: str
    title_zh: str
    title_en: str
    description: str | None
    ranking: RankingMethod
    weights: WeightSpec
    groups: tuple[Group, ...]
    ahp: AhpResult | None
    path: str
    sha256: str

    @property
    def leaves(self) -> tuple[tuple[Group, Leaf], ...]:
        """Every (group, leaf) in file order: the column order of every result."""
        return tuple((g, leaf) for g in self.groups for leaf in g.leaves)

    def ahp_weights(self) -> tuple[float, ...] | None:
        """Global AHP weight of each leaf (group weight × weight within the group), or None without AHP."""
        if self.ahp is None or any(g.ahp is None for g in self.groups):
            return None
        out: list[float] = []
        for group_weight, group in zip(self.ahp.weights, self.groups, strict=True):
            assert group.ahp is not None
            out.extend(group_weight * w for w in group.ahp.weights)
        return tuple(out)

    def consistency(self) -> list[tuple[str, AhpResult]]:
        """Each AHP matrix's label (``groups`` for the first level, else the group id) and result."""
        out: list[tuple[str, AhpResult]] = []
        if self.ahp is not None:
            out.append(("groups", self.ahp))
        out.extend((g.id, g.ahp) for g in self.groups if g.ahp is not None)
        return out


# ---- the YAML reader that keeps line numbers -----------------------------------------------------------


class _Reader:
    """Walks PyYAML's node tree (which carries marks) so that every refusal can name its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self._loader = yaml.SafeLoader("")  # constructs scalars (int, float, str) from their nodes

    def root(self) -> Node:
        loader = yaml.SafeLoader(self.text)
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            problem = exc.problem or exc.context or "?"
            raise IndexFileError(self.path, line, "index.syntax", problem=problem) from exc
        except yaml.YAMLError as exc:
            raise IndexFileError(self.path, 1, "index.syntax", problem=str(exc)) from exc
        finally:
            loader.dispose()
        if node is None:
            raise IndexFileError(self.path, 1, "index.empty")
        return node

    def error(self, node: Node, message_key: str, /, **fields: object) -> IndexFileError:
        return IndexFileError(self.path, node.start_mark.line + 1, message_key, **fields)

    def scalar(self, node: Node) -> object:
        if not isinstance(node, ScalarNode):
            raise self.error(node, "index.expected_text")
        return self._loader.construct_object(node)

    def mapping(
        self, node: Node, *, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, tuple[Node, Node]]:
        """``{key: (key node, value node)}``, refusing unknown, repeated and missing keys."""
        if not isinstance(node, MappingNode):
            raise self.error(node, "index.expected_mapping")
        allowed = (*required, *optional)
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str) or key not in allowed:
                raise self.error(key_node, "index.unknown_key", key=key, allowed=", ".join(allowed))
            if key in out:
                raise self.error(key_node, "index.duplicate_key", key=key)
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                raise self.error(node, "index.missing_key", key=key)
        return out

    def sequence(self, node: Node) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, "index.expected_list")
        return list(node.value)

    def text_value(self, node: Node) -> str:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or str(value).strip() == "":
            raise self.error(node, "index.expected_text")
        return str(value).strip()

    def choice(self, node: Node, key: str, allowed: Sequence[str]) -> str:
        value = self.text_value(node)
        if value not in allowed:
            raise self.error(node, "index.bad_choice", key=key, value=value, allowed=", ".join(allowed))
        return value

    def number(self, node: Node) -> float:
        value = self.scalar(node)
        if isinstance(value, bool):
            raise self.error(node, "index.expected_number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            match = _FRACTION.match(value)
            if match and float(match.group(2)) != 0:
                return float(match.group(1)) / float(match.group(2))
        raise self.error(node, "index.expected_number")


def _judgement(reader: _Reader, node: Node) -> float:
    try:
        value = reader.number(node)
    except IndexFileError:
        raise reader.error(node, "index.pairwise_value", value=getattr(node, "value", "?")) from None
    if not SAATY_MIN - _SCALE_TOLERANCE <= value <= SAATY_MAX + _SCALE_TOLERANCE:
        raise reader.error(node, "index.pairwise_value", value=getattr(node, "value", value))
    return value


def _pairwise(reader: _Reader, node: Node, *, count: int, name: Bilingual) -> AhpResult:
    """Read, validate and weigh one pairwise matrix; refuse it when CR ≥ 0.10."""
    limit = max(RANDOM_INDEX)
    if count > limit:
        raise reader.error(node, "index.too_many", limit=limit)
    rows = reader.sequence(node)
    if len(rows) != count:
        raise reader.error(node, "index.pairwise_shape", name=name, count=count)
    matrix: list[list[float]] = []
    cells: list[list[Node]] = []
    for row_node in rows:
        row = reader.sequence(row_node)
        if len(row) != count:
            raise reader.error(row_node, "index.pairwise_shape", name=name, count=count)
        matrix.append([_judgement(reader, cell) for cell in row])
        cells.append(row)
    for i in range(count):
        if abs(matrix[i][i] - 1.0) > 1e-9:
            raise reader.error(cells[i][i], "index.pairwise_diagonal")
        for j in range(i + 1, count):
            if abs(matrix[i][j] * matrix[j][i] - 1.0) > _RECIPROCAL_TOLERANCE:
                expected = f"1/{matrix[i][j]:g}" if matrix[i][j] >= 1 else f"{1 / matrix[i][j]:g}"
                raise reader.error(
                    cells[j][i],
                    "index.pairwise_reciprocal",
                    row=i + 1,
                    col=j + 1,
                    value=getattr(cells[i][j], "value", matrix[i][j]),
                    expected=expected,
                )
    result = ahp(matrix)
    if not result.acceptable:
        raise InconsistentMatrixError(
            reader.path,
            node.start_mark.line + 1,
            name=name,
            consistency_ratio=result.consistency_ratio,
            lambda_max=result.lambda_max,
            consistency_index=result.consistency_index,
            random_index=result.random_index,
        )
    return result


def _weights(reader: _Reader, node: Node) -> WeightSpec:
    fields = reader.mapping(node, required=("method",), optional=("alpha", "combine"))
    method = cast(WeightMethod, reader.choice(fields["method"][1], "weights.method", WEIGHT_METHODS))
    alpha: float | None = None
    combine: CombineMethod = "linear"
    if "alpha" in fields:
        alpha_node = fields["alpha"][1]
        if method != "combined":
            raise reader.error(fields["alpha"][0], "index.combined_only", key="alpha")
        alpha = reader.number(alpha_node)
        if not 0.0 <= alpha <= 1.0:
            raise reader.error(alpha_node, "index.alpha", value=alpha)
    elif method == "combined":
        raise reader.error(node, "index.alpha_missing")
    if "combine" in fields:
        combine_node = fields["combine"][1]
        if method != "combined":
            raise reader.error(fields["combine"][0], "index.combined_only", key="combine")
        combine = cast(CombineMethod, reader.choice(combine_node, "weights.combine", COMBINE_METHODS))
    return WeightSpec(method=method, alpha=alpha, combine=combine)


def _leaf(reader: _Reader, node: Node, seen: dict[str, int]) -> Leaf:
    fields = reader.mapping(
        node, required=("indicator", "direction", "normalize", "missing"), optional=("winsorize",)
    )
    name_node = fields["indicator"][1]
    name = reader.text_value(name_node)
    if name not in INDICATORS:
        raise reader.error(name_node, "index.unknown_indicator", name=name, known=", ".join(INDICATORS))
    line = name_node.start_mark.line + 1
    if name in seen:
        raise reader.error(name_node, "index.duplicate_indicator", name=name, line=seen[name])
    seen[name] = line
    return Leaf(
        indicator=name,
        direction=cast(Direction, reader.choice(fields["direction"][1], "direction", DIRECTIONS)),
        normalize=cast(Method, reader.choice(fields["normalize"][1], "normalize", METHODS)),
        missing=cast(Imputation, reader.choice(fields["missing"][1], "missing", IMPUTATIONS)),
        line=line,
        winsorize=_winsorize(reader, fields["winsorize"][1]) if "winsorize" in fields else None,
    )


def _winsorize(reader: _Reader, node: Node) -> tuple[float, float]:
    items = reader.sequence(node)
    if len(items) != 2:
        raise reader.error(node, "index.winsorize")
    low, high = (reader.number(item) for item in items)
    if not 0.0 <= low < high <= 1.0:
        raise reader.error(node, "index.winsorize")
    return low, high


def _matrix_needed(
    reader: _Reader,
    owner: Node,
    fields: dict[str, tuple[Node, Node]],
    *,
    count: int,
    name: Bilingual,
    method: WeightMethod,
) -> AhpResult | None:
    """The AHP result of the ``pairwise`` entry of ``fields``; an order-1 level needs none."""
    if "pairwise" in fields:
        return _pairwise(reader, fields["pairwise"][1], count=count, name=name)
    if method == "entropy":
        return None
    if count == 1:
        return ahp([[1.0]])
    raise reader.error(owner, "index.pairwise_missing", name=name, count=count)


def _group(reader: _Reader, node: Node, method: WeightMethod, seen: dict[str, int]) -> Group:
    fields = reader.mapping(
        node, required=("id", "name_zh", "name_en", "indicators"), optional=("pairwise", "description")
    )
    group_id = reader.text_value(fields["id"][1])
    leaf_nodes = reader.sequence(fields["indicators"][1])
    if not leaf_nodes:
        raise reader.error(fields["indicators"][1], "index.no_indicators")
    leaves = tuple(_leaf(reader, leaf_node, seen) for leaf_node in leaf_nodes)
    name = Bilingual(t("index.group", lang="zh", name=group_id), t("index.group", lang="en", name=group_id))
    return Group(
        id=group_id,
        name_zh=reader.text_value(fields["name_zh"][1]),
        name_en=reader.text_value(fields["name_en"][1]),
        leaves=leaves,
        ahp=_matrix_needed(reader, node, fields, count=len(leaves), name=name, method=method),
        line=node.start_mark.line + 1,
    )


def parse_index(text: str, *, path: Path | str = "<string>") -> IndexDefinition:
    """An index definition from YAML ``text``; ``path`` names it in errors."""
    reader = _Reader(Path(path), text)
    root = reader.root()
    fields = reader.mapping(
        root,
        required=("id", "title_zh", "title_en", "ranking", "weights", "groups"),
        optional=("description", "pairwise"),
    )
    weights = _weights(reader, fields["weights"][1])
    group_nodes = reader.sequence(fields["groups"][1])
    if not group_nodes:
        raise reader.error(fields["groups"][1], "index.no_groups")
    seen_leaves: dict[str, int] = {}
    seen_groups: dict[str, int] = {}
    groups: list[Group] = []
    for group_node in group_nodes:
        group = _group(reader, group_node, weights.method, seen_leaves)
        if group.id in seen_groups:
            raise reader.error(group_node, "index.duplicate_group", name=group.id, line=seen_groups[group.id])
        seen_groups[group.id] = group.line
        groups.append(group)
    root_name = Bilingual(t("index.root", lang="zh"), t("index.root", lang="en"))
    root_ahp = _matrix_needed(reader, root, fields, count=len(groups), name=root_name, method=weights.method)
    description = reader.text_value(fields["description"][1]) if "description" in fields else None
    return IndexDefinition(
        id=reader.text_value(fields["id"][1]),
        title_zh=reader.text_value(fields["title_zh"][1]),
        title_en=reader.text_value(fields["title_en"][1]),
        description=description,
        ranking=cast(RankingMethod, reader.choice(fields["ranking"][1], "ranking", RANKING_METHODS)),
        weights=weights,
        groups=tuple(groups),
        ahp=root_ahp,
        path=str(path),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_index(path: Path) -> IndexDefinition:
    """The index file at ``path``, validated; raises :class:`IndexFileError` naming the file and line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(str(path), exc) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexFileError(path, data.count(b"\n", 0, exc.start) + 1, "index.not_utf8") from None
    return parse_index(text, path=path)


def _unreadable(name: str, error: OSError) -> IndexUnreadableError:
    # The reasons (a folder, no access, too long a name …) read as they do for output files.
    reason = OutputError.from_os(Path(name), error)
    return IndexUnreadableError(name, zh=reason.zh, en=reason.en)


def shipped_indexes() -> list[Path]:
    """The index files that ship with Qilin, by name."""
    return sorted(INDEX_DIR.glob("*.yaml"))


def resolve_index(name: str) -> Path:
    """The path of a shipped index called ``name`` (file stem), or ``name`` itself when it is a file."""
    for path in shipped_indexes():
        if name in (path.stem, path.name):
            return path
    candidate = Path(name)
    try:
        if candidate.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        if candidate.is_file():
            return candidate
    except OSError as exc:  # too long a name, a loop of links, no access to a folder on the way
        raise _unreadable(name, exc) from None
    except ValueError:  # a NUL in the name: no file has one
        pass
    raise IndexNotFoundError(name)


@cache
def _shipped(path: Path, mtime_ns: int) -> IndexDefinition:
    return load_index(path)


def get_index(name: str = DEFAULT_INDEX) -> IndexDefinition:
    """The index called ``name`` (a shipped index or a path), loaded and validated."""
    path = resolve_index(name)
    if path.parent == INDEX_DIR:
        return _shipped(path, path.stat().st_mtime_ns)
    return load_index(path)
