"""A small per-process cache whose entries expire: what a web process may reuse for a few seconds (a
resolved login, the latest snapshot, a list's total) without asking the database on every request.

    >>> cache: TtlCache[str, int] = TtlCache(seconds=60)
    >>> cache.put("a", 1); cache.get("a"), cache.get("b")
    (1, None)
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Entries live ``seconds``; past ``max_entries`` the cache empties itself (a bound, not an LRU)."""

    def __init__(self, *, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        hit = self._entries.get(key)
        if hit is None or time.monotonic() - hit[0] >= self.seconds:
            return None
        return hit[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
