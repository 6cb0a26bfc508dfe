"""Dates. ``today()`` is the one clock of the platform, so tests can freeze it."""

from __future__ import annotations

import datetime as dt
import os

EARLIEST = dt.date(1900, 1, 1)
"""The earliest date a record may carry (a founding, a round, a valuation, an event) and the earliest as-of
date: enterprises in the registry were registered long after it, so an earlier date is a typo (0001-01-01,
a two-digit year), and date arithmetic near year 1 fails."""


def today() -> dt.date:
    """Today's date; ``QILIN_TODAY`` (ISO date) freezes it for tests and reproducible runs."""
    frozen = os.environ.get("QILIN_TODAY")
    if frozen:
        return dt.date.fromisoformat(frozen)
    return dt.date.today()


def parse_iso_date(text: str) -> dt.date:
    """Parse a strict ISO ``YYYY-MM-DD`` date; raises ValueError otherwise."""
    text = text.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    return dt.date.fromisoformat(text)
