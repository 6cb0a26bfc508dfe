"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015) validation and construction.

>>> is_valid("91330100716105852F")
True
>>> check_char("91330100716105852")
'F'
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUES = {c: i for i, c in enumerate(ALPHABET)}

_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize(code: str) -> str:
    """Strip blanks and upper-case: users paste codes with spaces and lower case letters."""
    return "".join(code.split()).upper()


def check_char(first17: str) -> str:
    """The 18th character (校验码) for the first 17 characters."""
    if len(first17) != 17:
        raise ValueError("need 17 characters")
    total = sum(_VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 organisation-code check character for positions 9–16 of a USCC (position 17)."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid USCC (a message key), or None when it is valid."""
    if len(code) != 18:
        return "uscc.length"
    if any(c not in _VALUES for c in code):
        return "uscc.charset"
    if not code[2:8].isdigit():
        return "uscc.region"
    if check_char(code[:17]) != code[17]:
        return "uscc.check_digit"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def region_of(code: str) -> str:
    """The 登记管理机关行政区划码 (positions 3–8) of a valid code."""
    return code[2:8]


def build(region_code: str, org_body: str, *, dept: str = "9", kind: str = "1") -> str:
    """Build a valid USCC from a registration region and an 8-character organisation-code body.

    The organisation code gets its own GB 11714 check character, then the USCC its 校验码.

    >>> build("330100", "71610585")
    '91330100716105852F'
    """
    org = org_body + org_code_check_char(org_body)
    first17 = dept + kind + region_code + org
    return first17 + check_char(first17)
