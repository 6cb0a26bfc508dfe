"""Dates. ``today()`` is the one clock of the platform, so tests can freeze it."""

from __future__ import annotations

import datetime as dt
import os

EARLIEST = dt.date(1900, 1, 1)
"""The earliest date a record may carry (a founding, a round, a valuation, an event) and the earliest as-of
date: enterprises in the registry were registered long after it, so an earlier date is a typo (0001-01-01,
a two-digit year), and date arithmetic near year 1 fails."""

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")
"""北京时间 (UTC+8, no daylight saving): the time people read on pages, in exports and on the command line,
and the day an audit filter means. The database stores UTC."""


def local_time(moment: dt.datetime) -> str:
    """``moment`` in 北京时间 as ``YYYY-MM-DD HH:MM:SS`` (a time without a zone is taken as UTC).

    >>> local_time(dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC))
    '2026-11-28 01:30:00'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in 北京时间: a day a user filters by begins there."""
    return dt.datetime.combine(day, dt.time(), CHINA_TIME)


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
