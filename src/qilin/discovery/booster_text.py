"""A check of LightGBM's model text before LightGBM reads it (模型文件校验).

LightGBM parses a model string in C++ and trusts its structure: a string cut short or edited by hand can
kill the whole process (a segmentation fault, or ``std::terminate`` from inside its parallel tree parser)
rather than raise an error Python could report. :func:`problem` reads the text the way LightGBM will —
the header, each tree block at the offsets its ``tree_sizes`` line gives, the closing sections — and
names the first thing LightGBM could not survive or that it never writes itself: a missing or short
array, a child or feature index out of range, a tree whose nodes do not form one binary tree (a loop would
hang prediction), a categorical split without its bitset, a truncated parameters section.

>>> problem("tree\\nversion=v4\\n", 3)
'no max_feature_idx line'
"""

from __future__ import annotations

import re
from itertools import pairwise

__all__ = ["problem"]

_NUMBER = re.compile(r"^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")
_PARAMETER = re.compile(r"^\[\w+: [^\[\]]*\]$")
# Per-node arrays of a tree with n leaves: n - 1 internal nodes, n leaves.
_INTERNAL = ("split_feature", "split_gain", "threshold", "decision_type", "left_child", "right_child",
             "internal_value", "internal_weight", "internal_count")  # fmt: skip
_LEAVES = ("leaf_value", "leaf_weight", "leaf_count")


class _Bad(Exception):
    pass


def _numbers(values: dict[str, str], key: str, count: int, *, integer: bool = False) -> list[str]:
    if key not in values:
        raise _Bad(f"{key} missing")
    items = values[key].split()
    if len(items) != count:
        raise _Bad(f"{key} has {len(items)} values, expected {count}")
    pattern = _INTEGER if integer else _NUMBER
    if not all(pattern.match(item) for item in items):
        raise _Bad(f"{key} holds a value that is not a number")
    return items


def _one(values: dict[str, str], key: str) -> int:
    return int(_numbers(values, key, 1, integer=True)[0])


def _tree(block: str, n_features: int) -> None:
    """Raise :class:`_Bad` unless ``block`` (one ``Tree=`` section, its first line dropped) is a tree
    LightGBM can load and walk."""
    values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
    leaves, n_cat = _one(values, "num_leaves"), _one(values, "num_cat")
    if leaves < 1 or n_cat < 0:
        raise _Bad("num_leaves or num_cat out of range")
    _numbers(values, "shrinkage", 1)
    if values.get("is_linear", "0").strip() != "0":
        raise _Bad("linear trees are not written by this platform")
    _numbers(values, "leaf_value", leaves)
    if leaves == 1:
        return
    for key in _INTERNAL:
        _numbers(values, key, leaves - 1, integer=key in ("split_feature", "decision_type", "left_child",
                                                           "right_child", "internal_count"))  # fmt: skip
    for key in _LEAVES[1:]:
        _numbers(values, key, leaves, integer=key == "leaf_count")
    features = [int(v) for v in values["split_feature"].split()]
    if not all(0 <= f < n_features for f in features):
        raise _Bad("split_feature out of range")
    children = [int(v) for v in values["left_child"].split() + values["right_child"].split()]
    # internal nodes 1..n-2 are each some node's child once; leaf k is reached once, as child ~k
    if sorted(children) != sorted([*range(1, leaves - 1), *(~k for k in range(leaves))]):
        raise _Bad("the child links do not form a binary tree")
    kinds = [int(v) for v in values["decision_type"].split()]
    if not all(0 <= k < 128 for k in kinds):
        raise _Bad("decision_type out of range")
    categorical = [i for i, k in enumerate(kinds) if k & 1]
    if not categorical:
        return
    bounds = [int(v) for v in _numbers(values, "cat_boundaries", n_cat + 1, integer=True)]
    if bounds[0] != 0 or any(b < a for a, b in pairwise(bounds)):
        raise _Bad("cat_boundaries out of order")
    _numbers(values, "cat_threshold", bounds[-1], integer=True)
    thresholds = values["threshold"].split()
    for i in categorical:
        index = float(thresholds[i])
        if not (index.is_integer() and 0 <= index < n_cat):
            raise _Bad("a categorical split names no category set")


def problem(text: str, n_features: int) -> str | None:
    """What makes ``text`` unsafe to give LightGBM (a short English phrase), or None when it is sound.
    ``n_features`` is the number of features the model file names."""
    try:
        _check(text.encode("utf-8"), n_features)
    except _Bad as bad:
        return str(bad)
    return None


def _check(data: bytes, n_features: int) -> None:
    start = data.find(b"\nTree=")
    if not data.startswith(b"tree\n") or start < 0:
        raise _Bad("not a LightGBM model")
    header = dict(line.split("=", 1) for line in data[:start].decode("utf-8").splitlines() if "=" in line)
    for key in ("max_feature_idx", "feature_names", "tree_sizes"):
        if key not in header:
            raise _Bad(f"no {key} line")
    if header["max_feature_idx"].strip() != str(n_features - 1):
        raise _Bad("max_feature_idx does not match the feature names")
    if len(header["feature_names"].split()) != n_features:
        raise _Bad("feature_names does not match the feature names")
    sizes = header["tree_sizes"].split()
    if not sizes or not all(s.isdigit() for s in sizes):
        raise _Bad("tree_sizes is not a list of sizes")
    offset = start + 1
    for index, size in enumerate(int(s) for s in sizes):
        block = data[offset : offset + size]
        if len(block) < size:
            raise _Bad(f"tree {index} is cut short")
        first, _, rest = block.partition(b"\n")
        if first != f"Tree={index}".encode():
            raise _Bad(f"tree {index} is not where tree_sizes puts it")
        try:
            _tree(rest.decode("utf-8"), n_features)
        except _Bad as bad:
            raise _Bad(f"tree {index}: {bad}") from None
        offset += size
    if not data[offset:].lstrip(b"\n").startswith(b"end of trees"):
        raise _Bad("no 'end of trees' after the trees")
    parameters = data.find(b"\nparameters:\n", offset)
    if parameters >= 0:
        end = data.find(b"\nend of parameters", parameters)
        if end < 0:
            raise _Bad("the parameters section is cut short")
        lines = data[parameters + len(b"\nparameters:\n") : end].decode("utf-8").splitlines()
        if not all(_PARAMETER.match(line) for line in lines):
            raise _Bad("a line of the parameters section is not [name: value]")
