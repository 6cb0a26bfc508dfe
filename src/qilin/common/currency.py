"""Currencies (ISO 4217) that Qilin accepts, and the names Chinese and English records use for them."""

from __future__ import annotations

KNOWN: frozenset[str] = frozenset(
    {"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "CAD", "AUD", "SGD", "KRW", "CHF", "TWD", "INR", "SEK", "ILS"}
)

ALIASES: dict[str, str] = {
    "RMB": "CNY",
    "人民币": "CNY",
    "元": "CNY",
    "元人民币": "CNY",
    "CN¥": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "美元": "USD",
    "美金": "USD",
    "US$": "USD",
    "$": "USD",
    "欧元": "EUR",
    "€": "EUR",
    "港元": "HKD",
    "港币": "HKD",
    "HK$": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
    "£": "GBP",
    "加元": "CAD",
    "澳元": "AUD",
    "新加坡元": "SGD",
    "新元": "SGD",
    "韩元": "KRW",
    "瑞士法郎": "CHF",
    "新台币": "TWD",
    "卢比": "INR",
}


def normalize_currency(text: str) -> str | None:
    """The ISO code for ``text`` (a code in any case, or a Chinese or symbol alias); None when unknown.

    >>> normalize_currency("人民币"), normalize_currency("usd"), normalize_currency("dollars")
    ('CNY', 'USD', None)
    """
    key = text.strip()
    if not key:
        return None
    if key.upper() in KNOWN:
        return key.upper()
    return ALIASES.get(key) or ALIASES.get(key.upper())
