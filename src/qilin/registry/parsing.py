"""Funding-round labels (融资轮次) and amounts (融资金额) as Chinese databases write them.

Two pure functions used by the importer for every ``rounds`` row:

* :func:`parse_round_type` maps a label such as ``Pre-A轮``, ``Ａ＋轮``, ``战略融资`` or ``Series D`` to
  one of :data:`~qilin.registry.package.ROUND_TYPES`, keeping the original label when it was not already
  a canonical code.
* :func:`parse_amount` reads an amount such as ``1.44亿``, ``2.7亿美元``, ``7,000,000``, ``数千万`` or
  ``未透露`` into an exact :class:`~decimal.Decimal`, a vague range (模糊金额, never a guessed point), or
  "not disclosed".

Both raise :class:`ParseError`, which carries a message key of :mod:`qilin.common.messages`.

The vocabulary lives in the tables below (data, not if-chains); extend them rather than the code.
Input is normalised first: NFKC (full-width ``Ａ``, ``＋``, ``１``, ``，`` become ASCII), upper case, and
whitespace removed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from qilin.common.currency import ALIASES, KNOWN, normalize_currency
from qilin.registry.package import ROUND_TYPES

__all__ = ["ParseError", "ParsedAmount", "RoundTypeResult", "parse_amount", "parse_round_type"]


class ParseError(ValueError):
    """A value that cannot be read. ``key`` is a message key (``round.unknown_type``, ``amount.invalid``…);
    ``fields`` fill the message's placeholders and always include ``text``, the value as given."""

    def __init__(self, key: str, fields: Mapping[str, str] | None = None) -> None:
        self.key = key
        self.fields: dict[str, str] = dict(fields or {})
        super().__init__(key, self.fields)

    def __str__(self) -> str:
        return f"{self.key}: {self.fields.get('text', '')!r}"


def _nfkc_upper(text: str) -> str:
    """NFKC-normalised, upper-cased ``text`` without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).upper().split())


# ---------------------------------------------------------------------------------------------------------
# Round types (融资轮次)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundTypeResult:
    """A round's canonical type, and the label as written when it was not the canonical code itself."""

    round_type: str
    label: str | None


# Separators that carry no meaning in a label: "Pre-A" = "Pre A" = "PreA", "F轮-上市前" = "F轮(上市前)".
_ROUND_SEPARATORS = str.maketrans("", "", "-_‐‑‒–—―−·.()[]【】")

# Whole labels (after normalisation, see _round_key), by round type. Canonical codes are added below.
_ROUND_LABELS: dict[str, tuple[str, ...]] = {
    "series-c+": ("Pre-IPO", "Pre-IPO轮"),  # the last private round before listing
    "strategic": ("战略投资", "战略融资", "战略", "战略入股", "Strategic"),
    # 新三板 (NEEQ) is an over-the-counter market, not a stock-exchange listing: a placement there is
    # private equity, not post-IPO. 定向增发 in these databases is (almost always) such a placement.
    "private-equity": (
        "新三板定增",
        "新三板定向增发",
        "定向增发",
        "私募股权",
        "私募股权投资",
        "私募",
        "PE",
        "PE轮",
        "股权融资",
        "Private Equity",
    ),
    "ipo": ("IPO", "IPO上市", "上市", "首次公开发行", "首次公开募股", "首发"),
    # 定增 on its own is the listed company's placement (A股定增); see private-equity for 新三板.
    "post-ipo": ("IPO上市后", "上市后", "上市后融资", "定增", "上市公司定增", "上市后定增", "Post-IPO"),
    "debt": ("债权融资", "债务融资", "债权", "贷款", "银行贷款", "可转债", "Debt", "Debt Financing"),
    "grant": ("政府资助", "政府补助", "政府补贴", "资助", "补助", "补贴", "Grant"),
    "crowdfunding": ("众筹", "股权众筹", "Crowdfunding", "Equity Crowdfunding"),
    "other": ("并购", "被收购", "收购", "股权转让", "老股转让", "其他", "其它", "Other"),
    "venture": ("未知", "未知轮次", "未披露", "融资", "风险投资", "VC", "Venture"),
}

# Staged rounds: an optional Pre-, an optional "Series", the stage, then decorations that do not change
# the type: A1/A2, A+/A++, 轮, 融资, 上市前 ("F轮-上市前"). Pre-A is still an A round (series-a, label
# kept), Pre-B a B round, Pre-C and everything from C on series-c+.
_STAGED = re.compile(
    r"(?P<pre>PRE)?(?:SERIES)?(?P<stage>[A-H]|天使|种子|ANGEL|SEED)(?:[0-9]{1,2}|\+{1,3})?轮?(?:融资)?(?:上市前)?"
)
_STAGES: dict[str, str] = {
    "A": "series-a",
    "B": "series-b",
    **dict.fromkeys("CDEFGH", "series-c+"),
    "天使": "angel",
    "ANGEL": "angel",
    "种子": "seed",
    "SEED": "seed",
}


def _round_key(text: str) -> str:
    return _nfkc_upper(text).translate(_ROUND_SEPARATORS)


_ROUND_TABLE: dict[str, str] = {_round_key(code): code for code in ROUND_TYPES} | {
    _round_key(label): round_type for round_type, labels in _ROUND_LABELS.items() for label in labels
}


@functools.lru_cache(maxsize=4096)
def _round_type_of(text: str) -> RoundTypeResult | None:
    stripped = text.strip()
    key = _round_key(stripped)
    round_type = _ROUND_TABLE.get(key)
    if round_type is None and (m := _STAGED.fullmatch(key)):
        round_type = _STAGES[m["stage"]]
    if round_type is None:
        return None
    return RoundTypeResult(round_type, None if stripped.lower() == round_type else stripped)


def parse_round_type(text: str) -> RoundTypeResult:
    """The canonical round type for a label as written (``A+轮`` → series-a, label ``A+轮``).

    The label is kept (stripped of surrounding spaces) unless ``text`` is the canonical code itself, in
    any case. Empty text raises ``ParseError("field.required")``; an unknown label raises
    ``ParseError("round.unknown_type")``. Results are cached by text: an import sees few distinct labels.
    """
    result = _round_type_of(text)
    if result is None:
        key = "field.required" if not text.strip() else "round.unknown_type"
        raise ParseError(key, {"text": text})
    return result


# ---------------------------------------------------------------------------------------------------------
# Amounts (融资金额)
# ---------------------------------------------------------------------------------------------------------

_TEN = Decimal(10)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_NEAR = Decimal("0.8")  # 近X = [0.8·X, X]
_MAX = Decimal(10) ** 16  # Amount columns hold whole hundredths in a BigInteger (9.2·10^18)
_MAX_DIGITS = 28  # the default decimal context's precision: arithmetic below never rounds

# Powers of ten by unit. Chinese units imply RMB unless a currency is given; English ones do not.
_CN_UNITS: dict[str, int] = {
    "十": 1,
    "百": 2,
    "千": 3,
    "万": 4,
    "十万": 5,
    "百万": 6,
    "千万": 7,
    "亿": 8,
    "十亿": 9,
    "百亿": 10,
    "千亿": 11,
    "万亿": 12,
}
_EN_UNITS: dict[str, int] = {
    "K": 3,
    "M": 6,
    "MM": 6,
    "MN": 6,
    "MILLION": 6,
    "MILLIONS": 6,
    "B": 9,
    "BN": 9,
    "BILLION": 9,
    "BILLIONS": 9,
}
_UNITS = _CN_UNITS | _EN_UNITS
# The name of 10^n in a canonical 数X text.
_CN_UNIT_NAMES: dict[int, str] = {exponent: name for name, exponent in _CN_UNITS.items() if exponent >= 4}

# Modifiers of vague amounts (模糊金额).
_SOME = ("数", "几")  # 数百万 = some millions = [10^6, 10^7)
_NEARLY = ("将近", "接近", "近")  # 近亿 = nearly 10^8 = [0.8·10^8, 10^8]
_OVER = ("超过", "多于", "高于", "超", "逾", "上", "过")  # 超亿, 逾亿, 上亿 = [10^8, open)
_AND_MORE = ("以上", "+", "余", "多")  # 亿元以上, 1亿+, 1亿多, 5000余万 = [X, open)
_LEVEL = "级"  # 千万级 = of the order of 10^7 = [10^7, 10^8)

# Written when nothing was disclosed (未透露). Compared after _nfkc_upper.
_UNDISCLOSED: frozenset[str] = frozenset(
    _nfkc_upper(word)
    for word in (
        "",
        "-",
        "--",
        "—",
        "——",
        "−",
        "未透露",
        "未披露",
        "暂未披露",
        "金额未披露",
        "未公开",
        "不公开",
        "不详",
        "不明",
        "未知",
        "保密",
        "N/A",
        "NA",
        "undisclosed",
        "unknown",
    )
)

# Currency words an amount may carry before or after the number. 元, ¥ and $ are weak: they name the
# kind of money rather than a currency ("500万元" in a row whose currency column says USD), so they
# yield to the currency argument instead of contradicting it.
_CURRENCY_WORDS: dict[str, str] = {
    **{alias.upper(): code for alias, code in ALIASES.items()},
    **{code: code for code in KNOWN},
}
_WEAK_CURRENCY_WORDS = frozenset({"元", "¥", "$"})


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first (so 元人民币 wins over 元)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_CUR = _alternation(_CURRENCY_WORDS)
_AMOUNT = re.compile(
    rf"""
    (?P<cur1>{_CUR})?
    (?P<pre>{_alternation(_SOME + _NEARLY + _OVER)})?
    (?P<num>(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]+)(?:\.[0-9]+)?)?
    (?P<more>余|多)?
    (?P<unit>{_alternation(_UNITS)})?
    (?P<level>{_LEVEL})?
    (?P<cur2>{_CUR})?
    (?P<post>{_alternation(_AND_MORE)})?
    (?P<cur3>{_CUR})?
    """,
    re.VERBOSE,
)
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# A number followed by what looks like a currency we do not know (卢布, 比索, XYZ): currency.unknown.
_LOOKS_LIKE_CURRENCY = re.compile(r".*[0-9十百千万亿](?:[A-Z]{3}|[^\W0-9_]*[元币镑郎布索])")


@dataclass(frozen=True, slots=True)
class ParsedAmount:
    """An amount in units of ``currency`` (ISO 4217): exact (``value``), vague (``low``/``high`` with
    ``vague`` set; ``high`` None means open-ended) or undisclosed (all three None).

    The amount of a vague one lies between ``low`` and ``high``: for 近X ``high`` is X itself, for 数X
    and X级 it is the next order of magnitude, which the amount does not reach. ``text`` is the value as
    written, kept for messages; it takes no part in equality, so two spellings of one amount are equal.
    """

    value: Decimal | None
    low: Decimal | None
    high: Decimal | None
    vague: bool
    currency: str | None
    text: str = field(default="", compare=False)

    @property
    def disclosed(self) -> bool:
        """False for 未透露 and the like."""
        return self.value is not None or self.low is not None

    def canonical_text(self) -> str:
        """The text an export writes (with ``currency`` in its own column) so that re-importing it gives an
        equal result: ``144000000`` or ``1234.5`` for an exact amount; ``数千万``, ``近1亿``,
        ``1亿以上`` or ``5000万级`` for a vague one; ``""`` when undisclosed.
        """
        if self.value is not None:
            return _plain(self.value)
        if not self.vague or self.low is None:
            return ""
        low = self.low
        if self.high is None:
            return f"{_chinese(low)}以上"
        if self.high == low * _TEN:
            exponent = _power_of_ten(low)
            if exponent in _CN_UNIT_NAMES:
                return f"数{_CN_UNIT_NAMES[exponent]}"
            return f"{_chinese(low)}{_LEVEL}"
        if low == self.high * _NEAR:
            return f"近{_chinese(self.high)}"
        raise ValueError(f"no canonical text for the range [{low}, {self.high}]")


def _plain(value: Decimal) -> str:
    """``value`` as a plain decimal: no exponent, no trailing zeros (``1.44E+8`` → ``144000000``)."""
    return format(value.normalize(), "f")


def _chinese(value: Decimal) -> str:
    """``value`` with 亿 or 万 where it has that many digits (``144000000`` → ``1.44亿``)."""
    if value >= Decimal(10) ** 8:
        return f"{_plain(value.scaleb(-8))}亿"
    if value >= Decimal(10) ** 4:
        return f"{_plain(value.scaleb(-4))}万"
    return _plain(value)


def _power_of_ten(value: Decimal) -> int | None:
    """n when ``value`` is exactly 10^n, else None."""
    sign, digits, exponent = value.normalize().as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int):
        return None
    return exponent


def _checked(value: Decimal, text: str) -> Decimal:
    """``value`` in its tidy form (no exponent, no trailing zeros), if an Amount column can hold it:
    below 10^16 and at most two decimals (分). Raises ``amount.invalid`` otherwise."""
    if value >= _MAX:
        raise ParseError("amount.invalid", {"text": text})
    tidy = value.normalize()
    exponent = tidy.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise ParseError("amount.invalid", {"text": text})
    return tidy.quantize(_ONE) if exponent > 0 else tidy


@functools.lru_cache(maxsize=64)
def _currency_code(currency: str | None) -> str | None:
    """The ISO code of a currency argument: None when blank, "" when unknown."""
    if currency is None or not currency.strip():
        return None
    return normalize_currency(unicodedata.normalize("NFKC", currency)) or ""


def _argument_currency(currency: str | None, text: str) -> str | None:
    """The ISO code of the ``currency`` argument; None when blank. Unknown raises ``currency.unknown``."""
    code = _currency_code(currency)
    if code == "":
        raise ParseError("currency.unknown", {"text": text, "currency": str(currency)})
    return code


def parse_amount(text: str, currency: str | None = None) -> ParsedAmount:
    """Read a funding amount as written (``1.44亿``, ``2.7亿美元``, ``7,000,000``, ``数千万``, ``未透露``).

    * Exact amounts are computed with :class:`~decimal.Decimal` (``1.44亿`` → ``144000000``); exponent
      notation (``1e6``) is refused, a record should not carry floats.
    * Vague ones (数百万, 近亿, 超亿, 千万级…) become a range with ``vague`` set, never a guessed point.
    * Undisclosed ones (未透露, 不详, ``-``, empty…) have no value and no range.

    The currency is the one in the text (``美元``, ``USD``, ``HK$``…), else the ``currency`` argument (an
    ISO code or any alias), else RMB when the text uses Chinese units or words; a plain number with no
    currency anywhere raises ``currency.missing``. A text currency that contradicts the argument raises
    ``amount.invalid``; an unknown argument ``currency.unknown``; a negative amount ``amount.negative``.
    """
    stripped = text.strip()
    if _PLAIN.fullmatch(stripped) and len(stripped) <= _MAX_DIGITS:  # fast path: "7000000", "1234.5"
        code = _argument_currency(currency, text)
        if code is None:
            raise ParseError("currency.missing", {"text": text})
        # a whole number of at most 16 digits is already tidy and in range
        value = (
            Decimal(stripped)
            if len(stripped) <= 16 and "." not in stripped
            else _checked(Decimal(stripped), text)
        )
        return ParsedAmount(value, None, None, False, code, text)
    return _parse_amount(text, currency)


@functools.lru_cache(maxsize=4096)
def _parse_amount(text: str, currency: str | None) -> ParsedAmount:
    arg = _argument_currency(currency, text)
    key = _nfkc_upper(text)
    if key in _UNDISCLOSED:
        return ParsedAmount(None, None, None, False, arg, text)
    if key[0] in "-−":
        try:  # negative if what follows the sign is an amount, whatever its currency
            negative = _parse_amount(key[1:], currency).disclosed
        except ParseError as error:
            negative = error.key.startswith("currency.")
        raise ParseError("amount.negative" if negative else "amount.invalid", {"text": text})
    m = _AMOUNT.fullmatch(key)
    if m is None or not (m["num"] or m["unit"]):
        if _LOOKS_LIKE_CURRENCY.fullmatch(key):
            raise ParseError("currency.unknown", {"text": text, "currency": key})
        raise ParseError("amount.invalid", {"text": text})
    return _amount_of(m, text, arg)


def _amount_of(m: re.Match[str], text: str, arg: str | None) -> ParsedAmount:
    """The amount an _AMOUNT match describes."""
    cur1, pre, num, more, unit, level, cur2, post, cur3 = m.groups()
    fields = {"text": text}

    # currency: the text's (a strong word wins over 元/¥/$), else the argument, else RMB for Chinese forms
    stated = weak = None
    if cur1 or cur2 or cur3:
        words = [w for w in (cur1, cur2, cur3) if w]
        strong = {_CURRENCY_WORDS[w] for w in words if w not in _WEAK_CURRENCY_WORDS}
        weaks = {_CURRENCY_WORDS[w] for w in words if w in _WEAK_CURRENCY_WORDS}
        if len(strong) > 1 or (not strong and len(weaks) > 1):
            raise ParseError("amount.invalid", fields)
        stated, weak = next(iter(strong), None), next(iter(weaks), None)
        if stated is not None and arg is not None and stated != arg:
            raise ParseError("amount.invalid", {"text": text, "currency": arg})
    chinese = unit in _CN_UNITS or bool(pre or more or level) or post not in (None, "+")
    code = stated or arg or weak or ("CNY" if chinese else None)
    if code is None:
        raise ParseError("currency.missing", fields)

    if num is None:
        amount = _checked(_ONE.scaleb(_UNITS[unit]), text)
    elif len(num) > _MAX_DIGITS:
        raise ParseError("amount.invalid", fields)
    else:
        amount = _scaled(num.replace(",", ""), _UNITS[unit] if unit else 0, text)

    if not (pre or post or more or level):
        if num is None:  # "亿" alone
            raise ParseError("amount.invalid", fields)
        return ParsedAmount(amount, None, None, False, code, text)

    if amount == _ZERO or (level and (pre or more)):
        raise ParseError("amount.invalid", fields)
    if pre in _SOME:
        if num is not None or unit not in _CN_UNITS or post or more:
            raise ParseError("amount.invalid", fields)
        low, high = amount, _checked(amount * _TEN, text)
    elif pre in _NEARLY:
        if post or more:
            raise ParseError("amount.invalid", fields)
        low, high = _checked(amount * _NEAR, text), amount
    elif pre in _OVER or post or more:
        low, high = amount, None
    else:  # X级
        low, high = amount, _checked(amount * _TEN, text)
    return ParsedAmount(None, low, high, True, code, text)


def _scaled(num: str, exponent: int, text: str) -> Decimal:
    """The decimal ``num`` times 10^exponent, exactly. A whole result is built from its digits (the
    common "1.44亿"); anything else goes through :func:`_checked`."""
    whole, _, fraction = num.partition(".")
    if len(fraction) <= exponent:
        digits = (whole + fraction.ljust(exponent, "0")).lstrip("0") or "0"
        if len(digits) <= 16:
            return Decimal(digits)
    return _checked(Decimal(num).scaleb(exponent), text)
