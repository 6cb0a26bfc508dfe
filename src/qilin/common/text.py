"""Text checks shared by every way text enters the platform (import, leads, the edit form, the API).

A control character (NUL, U+0001 …) in a stored name breaks the Excel export (openpyxl refuses it) and
PostgreSQL refuses NUL outright; a name made only of zero-width characters shows as blank. Tabs and line
breaks are allowed: a spreadsheet cell may hold two lines.
"""

from __future__ import annotations

import re
import unicodedata

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab, line feed and carriage return."""


TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Characters a terminal acts on (ESC starts a colour or a screen clear; C1 too), not tab or line breaks."""


def printable(text: str) -> str:
    """``text`` with terminal control characters written as escapes (ESC as ``\\x1b``), so printing what a
    file holds (ids, amounts, notes) cannot recolour or clear the screen."""
    return TERMINAL_CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def control_character(text: str) -> str | None:
    """The first control character of ``text`` as ``U+XXXX``; None when there is none."""
    found = CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace (U+3000 included) and invisible format
    characters (zero-width space, joiners, the byte-order mark …)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)
