"""Export safety: text for report cells (CSV, Excel) that a spreadsheet will not run as a formula.

>>> safe_cell("=HYPERLINK(1)"), safe_cell("杭州")
("'=HYPERLINK(1)", '杭州')

The data package (``qilin export``) writes values as stored, since a re-import must read them back exactly;
reports meant for people go through :func:`safe_cell`.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` prefixed with ``'`` when it starts like a formula (=, +, -, @, tab, CR)."""
    return f"'{text}" if text.startswith(FORMULA_START) else text
