"""Pydantic's validation errors in both languages (API answers, the edit form, command-line options).

Pydantic writes its messages in English only ("Input should be a valid integer"). The API's 422 answers and
the edit form show them to people who read Chinese first, so the common error types are translated from
their ``type`` and ``ctx``; a message the application wrote itself ("中文 / English", a ``value_error``) keeps
its own two halves, and a type without a translation keeps pydantic's English beside a generic Chinese text.

    >>> explain({"type": "less_than_equal", "ctx": {"le": 10}, "msg": "Input should be ≤ 10"})
    ('不能大于 10', 'Input should be ≤ 10')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qilin.common.messages import t

MAX_SEED = 2**32 - 1
"""The largest random seed the platform accepts (demo generation, training, back-tests): the largest that
NumPy, scikit-learn and LightGBM all take. Seeds are non-negative."""

_SAME_KEY = {
    "missing": ("field.required", ()),
    "string_too_long": ("field.too_long", (("max", "max_length"),)),
    "too_long": ("validation.too_many", (("max", "max_length"),)),
    "string_too_short": ("validation.too_short", (("min", "min_length"),)),
    "greater_than_equal": ("validation.ge", (("bound", "ge"),)),
    "less_than_equal": ("validation.le", (("bound", "le"),)),
    "greater_than": ("validation.gt", (("bound", "gt"),)),
    "less_than": ("validation.lt", (("bound", "lt"),)),
    "literal_error": ("validation.one_of", (("expected", "expected"),)),
    "enum": ("validation.one_of", (("expected", "expected"),)),
}
_KIND_KEY = {
    "int_parsing": "validation.integer",
    "int_type": "validation.integer",
    "int_from_float": "validation.integer",
    "float_parsing": "validation.number",
    "float_type": "validation.number",
    "decimal_parsing": "validation.number",
    "decimal_type": "validation.number",
    "bool_parsing": "validation.boolean",
    "bool_type": "validation.boolean",
    "date_parsing": "date.invalid",
    "date_type": "date.invalid",
    "date_from_datetime_parsing": "date.invalid",
    "date_from_datetime_inexact": "date.invalid",
    "datetime_parsing": "validation.datetime",
    "datetime_type": "validation.datetime",
    "string_type": "validation.text",
    "string_unicode": "validation.text",
    "list_type": "validation.list",
    "dict_type": "validation.object",
    "model_type": "validation.object",
    "model_attributes_type": "validation.object",
    "json_invalid": "validation.json",
    "json_type": "validation.json",
    "extra_forbidden": "validation.extra",
    "uuid_parsing": "validation.uuid",
    "uuid_type": "validation.uuid",
}


def explain(error: Mapping[str, Any]) -> tuple[str, str]:
    """(Chinese, English) text of one pydantic error (an item of ``ValidationError.errors()``)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    english = str(error.get("msg", ""))
    if kind == "value_error":
        own = str(ctx.get("error", english))
        zh, sep, en = own.partition(" / ")
        return (zh, en) if sep else (t("validation.invalid"), own)
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return t("field.required"), english
    if kind in _SAME_KEY:
        key, fields = _SAME_KEY[kind]
        values = {name: ctx.get(source, "?") for name, source in fields}
        return t(key, **values), english
    if kind in _KIND_KEY:
        return t(_KIND_KEY[kind]), english
    return t("validation.invalid"), english


def field_name(error: Mapping[str, Any]) -> str:
    """The parameter's name: the last part of ``loc`` that is a name (not a list index)."""
    for part in reversed(tuple(error.get("loc") or ())):
        if isinstance(part, str) and part not in ("body", "query", "path", "header", "cookie"):
            return part
    return ""


def api_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """The ``errors`` list of an API 422: where, "中文 / English" and pydantic's type."""
    out = []
    for error in errors:
        zh, en = explain(error)
        kind = str(error.get("type", ""))
        out.append({"loc": list(error.get("loc", ())), "msg": f"{zh} / {en}", "type": kind})
    return out


def page_summary(errors: list[Any]) -> str:
    """One Chinese line naming each invalid parameter, for an HTML error page."""
    parts = []
    for error in errors:
        name = field_name(error)
        zh, _ = explain(error)
        parts.append(f"{name}：{zh}" if name else zh)
    return "；".join(dict.fromkeys(parts))
